# shellcheck shell=bash disable=SC2034  # the LIB_* variables are set for the script that sources this file
# The shared prelude of tests/run-all.sh and bench/run.sh, compare.sh and run-events.sh. A script sources it by a path
# relative to itself and runs from the repository's root:
#
#   repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
#   cd "$repo"
#   source "$repo/.ci/lib.sh"
#
# Sourcing defines the functions below and installs the one EXIT trap (see lib_on_exit); it runs nothing else and
# changes no shell option. The functions work under `set -euo pipefail` and check their own steps, so they also
# behave when called as `lib_x || handle`. What they set for the caller is named LIB_*. Whatever they start listens
# on 127.0.0.1 only.

LIB_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB_SHELL_PID="$BASHPID"  # the script's own shell: only it runs the exit cleanup
LIB_ON_EXIT=()      # the commands of lib_on_exit, each one line of shell words
LIB_SERVER_PIDS=()  # the servers lib_server_start started and lib_server_stop has not stopped yet
LIB_SERVER_PID=""
LIB_PG_BIN=""
LIB_PG_DIR=""
LIB_PG_PORT=""
LIB_PG_PID=""
LIB_PG_STARTED=0
LIB_BENCH_SERVER=""
LIB_BENCH_HTTP_URL=""
LIB_BENCH_GRPC_URL=""

# --- cleanup ----------------------------------------------------------------------------------------------------

# lib_on_exit CMD [ARG…]: runs CMD ARG… (expanded now, when registered) when the script exits, short of SIGKILL.
# On exit the servers still running are stopped first, then the PostgreSQL cluster, then these commands, last
# registered first; a failing command does not keep the others from running. A script that sources this file sets no
# EXIT trap of its own.
lib_on_exit() {
    (($# > 0)) || return 1
    LIB_ON_EXIT+=("$(printf '%q ' "$@")")
}

# _lib_exit: the EXIT trap (the exit status of the script is kept). A forked copy of the shell that a signal ends
# before it has exec'd its command would run it too: such a copy does nothing.
_lib_exit() {
    local i
    if [[ "$BASHPID" != "$LIB_SHELL_PID" ]]; then
        return 0
    fi
    lib_server_stop "${LIB_SERVER_PIDS[@]}" || true
    lib_pg_stop || true
    for ((i = ${#LIB_ON_EXIT[@]} - 1; i >= 0; i--)); do
        eval "${LIB_ON_EXIT[i]}" || true
    done
}
trap _lib_exit EXIT

# --- ports, dotnet ----------------------------------------------------------------------------------------------

# lib_free_port [PORT…]: prints a TCP port that is free on 127.0.0.1 now (the kernel's pick) and is none of PORT….
# Uses python3, or node where there is no python3.
lib_free_port() {
    local port
    while :; do
        if command -v python3 >/dev/null 2>&1; then
            port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')" || return 1
        else
            port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();});")" || return 1
        fi
        if [[ " $* " != *" $port "* ]]; then break; fi
    done
    echo "$port"
}

# lib_dotnet_env: no telemetry, banner or first-run text from the dotnet CLI (exported to the script's children).
lib_dotnet_env() {
    export DOTNET_CLI_TELEMETRY_OPTOUT=1
    export DOTNET_NOLOGO=1
    export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# lib_build PROJECT LOG [ATTEMPTS [OPTION…]]: `dotnet build PROJECT -c Release OPTION…`, its output in LOG, tried
# up to ATTEMPTS times (default 4: other builds of the same tree may hold obj/ files for a moment), 5 s, 10 s, …
# apart; each retry says so on stderr. Returns 1 when the last attempt failed; showing LOG is then the caller's.
lib_build() {
    local project="$1" log="$2" attempts="${3:-4}" attempt
    shift $(($# < 3 ? $# : 3))
    for ((attempt = 1; ; attempt++)); do
        if dotnet build "$project" -c Release "$@" >"$log" 2>&1; then
            return 0
        fi
        if ((attempt >= attempts)); then
            return 1
        fi
        echo "   build of $project failed (attempt $attempt); retrying" >&2
        sleep $((attempt * 5))
    done
}

# --- the server -------------------------------------------------------------------------------------------------

# lib_wait_healthy URL TIMEOUT [PID]: asks URL every 0.1 s until it answers 200 (returns 0). Returns 1 once TIMEOUT
# seconds have passed, 2 as soon as process PID (the server that should answer) is gone.
lib_wait_healthy() {
    local url="$1" timeout="$2" pid="${3:-}" i
    for ((i = 0; i < timeout * 10; i++)); do
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" == 200 ]]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# LIB_HIGH_LIMITS: every rate limit of Issuer2:Limits (src/Issuer2.Server/Hosting/LimitOptions.cs) so high that no
# benchmark or test load meets one; lib_server_start passes them before its ARG…, which may lower one again.
LIB_HIGH_LIMITS=()
for _lib_limit in Metadata OfferResolution Token Nonce Credential Notification Par Authorize Callback Consent \
    PerOfferResolution PerOfferToken PerOfferSession ApiKey FailedAuthentication; do
    LIB_HIGH_LIMITS+=("--Issuer2:Limits:$_lib_limit:Burst=1000000" "--Issuer2:Limits:$_lib_limit:PerMinute=60000000")
done
unset _lib_limit

# lib_server_start LABEL DIR LOG HTTP_URL GRPC_URL [ARG…]: starts Issuer2.Server in the background from DIR, a copy of
# its build output (the content root: it holds appsettings.json), listening on HTTP_URL (wallets, /healthz) and
# GRPC_URL, with plain HTTP allowed, Warning logs, no rate limit in reach (LIB_HIGH_LIMITS) and the settings ARG…
# (--Section:Key=value); output to LOG. Waits up
# to 60 s for /healthz and sets LIB_SERVER_PID; lib_server_stop or the exit stops it. When it exits or does not
# answer, prints "LABEL exited during start-up" or "LABEL did not answer /healthz within 60 s" and LOG on stderr, and
# returns 1.
lib_server_start() {
    local label="$1" dir="$2" log="$3" http_url="$4" grpc_url="$5" rc=0
    shift 5
    (cd "$dir" && exec dotnet Issuer2.Server.dll \
        --Kestrel:Endpoints:Http:Url="$http_url" \
        --Kestrel:Endpoints:Grpc:Url="$grpc_url" \
        --Issuer2:AllowInsecureHttp=true \
        --Logging:LogLevel:Default=Warning \
        "${LIB_HIGH_LIMITS[@]}" \
        "$@") >"$log" 2>&1 &
    LIB_SERVER_PID=$!
    LIB_SERVER_PIDS+=("$LIB_SERVER_PID")
    lib_wait_healthy "$http_url/healthz" 60 "$LIB_SERVER_PID" || rc=$?
    case "$rc" in
        0) return 0 ;;
        2) echo "$label exited during start-up; its log ($log):" >&2 ;;
        *) echo "$label did not answer /healthz within 60 s; its log ($log):" >&2 ;;
    esac
    cat "$log" >&2
    return 1
}

# lib_server_stop [PID…]: stops those servers (default: every one lib_server_start started and not stopped yet):
# SIGTERM to all, then up to 5 s each to exit before SIGKILL.
# shellcheck disable=SC2120  # the scripts pass PIDs
lib_server_stop() {
    local pid i targets=("$@") rest=()
    if (($# == 0)); then
        targets=("${LIB_SERVER_PIDS[@]}")
    fi
    for pid in "${targets[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for pid in "${targets[@]}"; do
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for pid in "${LIB_SERVER_PIDS[@]}"; do
        if [[ " ${targets[*]} " != *" $pid "* ]]; then rest+=("$pid"); fi
    done
    LIB_SERVER_PIDS=("${rest[@]}")
}

# --- the benchmarks' common start -------------------------------------------------------------------------------

# lib_bench_prepare WORK LOGS: builds the server and the load generator (Release, with retries, logs in
# LOGS/build-*.log; on a failed build shows the end of its log on stderr and exits 2), copies the server's build
# output to WORK/server (a rebuild of the tree cannot swap the assemblies of a server started from there), and sets
# LIB_BENCH_SERVER (that copy), LIB_BENCH_DLL (the load generator), LIB_CLK_TCK, and LIB_ADMIN_KEY and LIB_KEK (fresh
# secrets for this run).
lib_bench_prepare() {
    local work="$1" logs="$2" project log
    echo "== building the server and the load generator (Release)"
    for project in src/Issuer2.Server bench/Issuer2.Bench; do
        log="$logs/build-${project##*/}.log"
        if ! (cd "$LIB_REPO" && lib_build "$project" "$log"); then
            tail -n 40 "$log" >&2
            echo "build of $project failed; log: $log" >&2
            exit 2
        fi
    done
    cp -a "$LIB_REPO/src/Issuer2.Server/bin/Release/net10.0" "$work/server"
    LIB_BENCH_SERVER="$work/server"
    LIB_BENCH_DLL="$LIB_REPO/bench/Issuer2.Bench/bin/Release/net10.0/Issuer2.Bench.dll"
    LIB_CLK_TCK="$(getconf CLK_TCK)"
    LIB_ADMIN_KEY="bench_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    LIB_KEK="$(head -c 32 /dev/urandom | base64)"
}

# lib_bench_server_start LABEL LOG [ARG…]: Issuer2 from LIB_BENCH_SERVER (lib_bench_prepare) on two free ports, with
# this run's admin key and key-encryption key and the settings ARG…, its output to LOG (lib_server_start); prints
# "   LABEL pid …: wallets …, gRPC …; log LOG" and sets LIB_SERVER_PID, LIB_BENCH_HTTP_URL and LIB_BENCH_GRPC_URL. Exits
# 2 when the server does not start.
lib_bench_server_start() {
    local label="$1" log="$2" http_port
    shift 2
    http_port="$(lib_free_port)"
    LIB_BENCH_HTTP_URL="http://127.0.0.1:$http_port"
    LIB_BENCH_GRPC_URL="http://127.0.0.1:$(lib_free_port "$http_port")"
    lib_server_start "$label" "$LIB_BENCH_SERVER" "$log" "$LIB_BENCH_HTTP_URL" "$LIB_BENCH_GRPC_URL" \
        --Issuer2:AdminKey="$LIB_ADMIN_KEY" --Issuer2:KeyEncryptionKey="$LIB_KEK" "$@" || exit 2
    echo "   $label pid $LIB_SERVER_PID: wallets $LIB_BENCH_HTTP_URL, gRPC $LIB_BENCH_GRPC_URL; log $log"
}

# lib_machine_busy: prints how busy all CPUs were over the next two seconds, in percent (whatever used them).
lib_machine_busy() {
    local a b
    read -r -a a </proc/stat
    sleep 2
    read -r -a b </proc/stat
    awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN { split(a, x, " "); split(b, y, " "); t = 0;
        for (i = 2; i <= 9; i++) t += y[i] - x[i]; idle = (y[5] - x[5]) + (y[6] - x[6]);
        busy = 0; if (t > 0) busy = 100 * (t - idle) / t; printf "%.0f", busy }' </dev/null
}

# lib_bench_machine: the line that describes the machine a benchmark ran on (after lib_bench_prepare).
lib_bench_machine() {
    echo "== machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(dotnet --version) SDK, CLK_TCK $LIB_CLK_TCK"
}

# --- PostgreSQL: the Debian package, a throwaway cluster -------------------------------------------------------

# lib_pg_bin: prints the newest /usr/lib/postgresql/*/bin that holds initdb (the Debian layout); nothing if none does.
lib_pg_bin() {
    local dir
    # shellcheck disable=SC2012  # the names are Debian's version numbers
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    fi
}

# lib_pg_ensure_installed [--quiet]: sets LIB_PG_BIN, first installing the Debian package postgresql (apt-get, as
# root) when there is no initdb; --quiet keeps apt-get's progress out of the output. Returns 1 with the reason on
# stderr when the install failed or found no initdb.
lib_pg_ensure_installed() {
    LIB_PG_BIN="$(lib_pg_bin)"
    if [[ -n "$LIB_PG_BIN" ]]; then
        return 0
    fi
    echo "== installing PostgreSQL (Debian package)"
    if [[ "${1:-}" == --quiet ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        DEBIAN_FRONTEND=noninteractive apt-get update \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
    fi || {
        echo "apt-get could not install the Debian package postgresql" >&2
        return 1
    }
    LIB_PG_BIN="$(lib_pg_bin)"
    if [[ -z "$LIB_PG_BIN" ]]; then
        echo "PostgreSQL was installed but no initdb was found under /usr/lib/postgresql/*/bin" >&2
        return 1
    fi
}

# lib_chromium_ensure_installed: Debian's chromium (/usr/bin/chromium, for the browser tests), installed with apt-get
# (as root, about 50 s) when it is missing. Returns 1 with the reason on stderr when it could not be installed.
lib_chromium_ensure_installed() {
    if [[ -x /usr/bin/chromium ]]; then
        return 0
    fi
    echo "== installing Chromium (Debian package)"
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    } || {
        echo "apt-get could not install the Debian package chromium" >&2
        return 1
    }
    [[ -x /usr/bin/chromium ]] || { echo "chromium was installed but /usr/bin/chromium is missing" >&2; return 1; }
}

# lib_pg_start DIR PORT [OPTION…]: a throwaway cluster (one at a time) of LIB_PG_BIN (lib_pg_ensure_installed) in
# DIR, a fresh directory of the caller's (given to the postgres user; the caller removes it): initdb of DIR/data as
# the postgres user (trust, UTF8, no sync), then the server on 127.0.0.1:PORT with its socket in DIR, its log in
# DIR/log, fsync off, max_connections 300 and the server options OPTION… (e.g. -c synchronous_commit=on). Sets
# LIB_PG_DIR, LIB_PG_PORT and LIB_PG_PID (the postmaster); lib_pg_stop or the exit stops it. Returns 1 with the
# reason (and the server's log) on stderr when the cluster could not be made or did not start.
lib_pg_start() {
    local dir="$1" port="$2"
    shift 2
    if [[ "$LIB_PG_STARTED" == 1 ]]; then
        echo "lib_pg_start: the cluster in $LIB_PG_DIR still runs (one at a time: lib_pg_stop first)" >&2
        return 1
    fi
    LIB_PG_DIR="$dir"
    LIB_PG_PORT="$port"
    LIB_PG_PID=""
    if ! chown postgres "$dir" \
        || ! runuser -u postgres -- "$LIB_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null; then
        echo "PostgreSQL did not start: no cluster could be made in $dir/data" >&2
        return 1
    fi
    LIB_PG_STARTED=1
    if ! runuser -u postgres -- "$LIB_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300${*:+ $*}" start >/dev/null; then
        echo "PostgreSQL did not start:" >&2
        cat "$dir/log" >&2 || true
        return 1
    fi
    LIB_PG_PID="$(head -n 1 "$dir/data/postmaster.pid")"
}

# lib_pg_stop: stops the cluster of lib_pg_start (fast shutdown) if it runs; its directory stays.
lib_pg_stop() {
    if [[ "$LIB_PG_STARTED" == 1 ]]; then
        runuser -u postgres -- "$LIB_PG_BIN/pg_ctl" -D "$LIB_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        LIB_PG_STARTED=0
    fi
}

# lib_pg_connection: prints the Npgsql connection string of the cluster of lib_pg_start (user postgres, trust).
lib_pg_connection() {
    echo "Host=127.0.0.1;Port=$LIB_PG_PORT;Username=postgres;Database=postgres"
}

# lib_pg_version: prints the version of LIB_PG_BIN's server, e.g. 15.18.
lib_pg_version() {
    "$LIB_PG_BIN/postgres" --version | awk '{print $3}'
}
