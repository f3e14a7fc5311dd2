#!/usr/bin/env bash
# The Issuer2 benchmark: full OID4VCI pre-authorized flows against a real server process, on SQLite and on
# PostgreSQL, at concurrency 16 and 64. Prints a Markdown table and exits non-zero if any flow failed.
#
#   bash bench/run.sh                     # 2000 flows per timed run
#   FLOWS=500 bash bench/run.sh           # fewer flows
#   DATABASES=postgres bash bench/run.sh  # one database only (sqlite, postgres)
#   BREAKDOWN_FLOWS=0 bash bench/run.sh   # skip the per-endpoint CPU breakdown
#   PG_STATEMENTS=1 DATABASES=postgres bash bench/run.sh   # also list the SQL statements of the breakdown run
#
# Everything runs on loopback: the server (Release build, its own process, run from a copy of its build output
# so a concurrent rebuild of the repository cannot swap its assemblies), a throwaway PostgreSQL cluster (as
# tests/run-all.sh starts it: fsync off; synchronous_commit on) and the load generator bench/Issuer2.Bench.
# Server logs go to a file; its path is printed. Needs root for the PostgreSQL cluster (runuser -u postgres).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

FLOWS="${FLOWS:-2000}"
WARMUP_FLOWS="${WARMUP_FLOWS:-300}"
CONCURRENCIES="${CONCURRENCIES:-16 64}"
DATABASES="${DATABASES:-sqlite postgres}"
BREAKDOWN_FLOWS="${BREAKDOWN_FLOWS:-1000}"  # flows of the per-endpoint CPU breakdown (0: none)
PG_STATEMENTS="${PG_STATEMENTS:-0}"        # 1: PostgreSQL's statements per flow (pg_stat_statements) for the breakdown run
RUN_TIMEOUT="${RUN_TIMEOUT:-900}"   # seconds per bench invocation (setup + flows)

work="$(mktemp -d /tmp/issuer2-bench.XXXXXX)"
logs="$work/logs"
mkdir -p "$logs"
server_pid=""
pg_dir=""
pg_bin=""
pg_started=0
failures=0

stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}

stop_postgres() {
    if [[ "$pg_started" == 1 ]]; then
        runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
        pg_started=0
    fi
}

cleanup() {
    stop_server
    stop_postgres
    # Keep the logs; drop the databases and the server copy.
    rm -rf "$work/server" "$work/sqlite" "$work/pgdata-dir" 2>/dev/null || true
    if [[ -n "$pg_dir" ]]; then rm -rf "$pg_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# dotnet build with retries: other builds of the same tree may hold obj/ files for a moment.
build() {
    local project="$1" log="$logs/build-$(basename "$1").log"
    for attempt in 1 2 3 4; do
        if dotnet build "$project" -c Release >"$log" 2>&1; then
            return 0
        fi
        if [[ "$attempt" == 4 ]]; then break; fi
        echo "   build of $project failed (attempt $attempt); retrying" >&2
        sleep $((attempt * 5))
    done
    tail -n 40 "$log" >&2
    echo "build of $project failed; log: $log" >&2
    exit 2
}

echo "== building the server and the load generator (Release)"
build src/Issuer2.Server
build bench/Issuer2.Bench
cp -a src/Issuer2.Server/bin/Release/net10.0 "$work/server"
bench_dll="$repo/bench/Issuer2.Bench/bin/Release/net10.0/Issuer2.Bench.dll"

clk_tck="$(getconf CLK_TCK)"
admin_key="bench_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
kek="$(head -c 32 /dev/urandom | base64)"

# start_server NAME [extra args…]: starts the server, waits for /healthz; sets server_pid, http_url, grpc_url.
start_server() {
    local name="$1"; shift
    local http_port grpc_port
    http_port="$(free_port)"
    grpc_port="$(free_port)"
    while [[ "$grpc_port" == "$http_port" ]]; do grpc_port="$(free_port)"; done
    http_url="http://127.0.0.1:$http_port"
    grpc_url="http://127.0.0.1:$grpc_port"
    server_log="$logs/server-$name.log"
    # The content root is the working directory: run from the copied build output (it holds appsettings.json).
    (cd "$work/server" && exec dotnet Issuer2.Server.dll \
        --Kestrel:Endpoints:Http:Url="$http_url" \
        --Kestrel:Endpoints:Grpc:Url="$grpc_url" \
        --Issuer2:AllowInsecureHttp=true \
        --Issuer2:AdminKey="$admin_key" \
        --Issuer2:KeyEncryptionKey="$kek" \
        --Logging:LogLevel:Default=Warning \
        "$@") >"$server_log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the server ($name) exited during start-up; its log ($server_log):" >&2
            cat "$server_log" >&2
            exit 2
        fi
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$http_url/healthz" || true)" == 200 ]]; then
            echo "   server ($name) pid $server_pid: wallets $http_url, gRPC $grpc_url; log $server_log"
            return 0
        fi
        sleep 0.1
    done
    echo "the server ($name) did not answer /healthz within 60 s; its log ($server_log):" >&2
    cat "$server_log" >&2
    exit 2
}

# The machine's load over two seconds, before the runs: the benchmark shares the CPUs with everything else.
machine_busy() {
    local a b
    a=($(head -n 1 /proc/stat)); sleep 2; b=($(head -n 1 /proc/stat))
    awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN { split(a, x, " "); split(b, y, " "); t = 0;
        for (i = 2; i <= 9; i++) t += y[i] - x[i]; idle = (y[5] - x[5]) + (y[6] - x[6]);
        busy = 0; if (t > 0) busy = 100 * (t - idle) / t; printf "%.0f", busy }' </dev/null
}

rows=()
context_rows=()
step_rows=()
json_lines=()

# bench NAME CONCURRENCY FLOWS [--warmup] [extra args…]
bench() {
    local name="$1" concurrency="$2" flows="$3"; shift 3
    local out="$logs/bench-$name-c$concurrency-$flows.out" rc=0
    timeout "$RUN_TIMEOUT" dotnet "$bench_dll" --grpc "$grpc_url" --http "$http_url" --admin-key "$admin_key" \
        --flows "$flows" --concurrency "$concurrency" --server-pid "$server_pid" --clk-tck "$clk_tck" \
        --database "$name" "$@" >"$out" || rc=$?
    grep -v -e '^BENCH_JSON' -e '^BENCH_CONTEXT' "$out" || true
    local row ctx json
    row="$(grep '^| ' "$out" || true)"
    while IFS= read -r line; do step_rows+=("$line"); done < <(sed -n 's/^BENCH_STEP //p' "$out")
    ctx="$(sed -n 's/^BENCH_CONTEXT //p' "$out")"
    json="$(sed -n 's/^BENCH_JSON //p' "$out")"
    [[ -n "$json" ]] && echo "   $json"
    if [[ " $* " != *" --warmup "* && " $* " != *" --breakdown "* ]]; then
        [[ -n "$row" ]] && rows+=("$row")
        [[ -n "$ctx" ]] && context_rows+=("$ctx")
        [[ -n "$json" ]] && json_lines+=("$json")
    fi
    if [[ "$rc" != 0 ]]; then
        failures=$((failures + 1))
        if [[ "$rc" == 124 ]]; then
            echo "!! bench ($name, concurrency $concurrency) timed out after $RUN_TIMEOUT s" >&2
        else
            echo "!! bench ($name, concurrency $concurrency) exited with $rc" >&2
        fi
        echo "!! last lines of the server log ($server_log):" >&2
        grep -v '^\s*$' "$server_log" | tail -n 40 >&2 || true
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "!! the server process is gone" >&2
            return 1
        fi
    fi
    return 0
}

run_database() {
    local name="$1"; shift
    local pg_args=()
    if [[ "$name" == postgres ]]; then
        pg_args=(--postgres-pid "$postmaster_pid")
    fi
    local busy
    busy="$(machine_busy)"
    echo "== $name: the machine was ${busy}% busy over the last 2 s before the start"
    if [[ "$busy" -gt 15 ]]; then echo "   warning: other processes are using the CPUs; the CPU figures per flow will be skewed" >&2; fi
    start_server "$name" "$@"
    echo "== $name: warm-up ($WARMUP_FLOWS flows, concurrency 16)"
    if bench "$name" 16 "$WARMUP_FLOWS" --warmup "${pg_args[@]}"; then
        for c in $CONCURRENCIES; do
            echo "== $name: $FLOWS flows at concurrency $c"
            bench "$name" "$c" "$FLOWS" "${pg_args[@]}" || break
        done
        if [[ "$BREAKDOWN_FLOWS" -gt 0 ]] && kill -0 "$server_pid" 2>/dev/null; then
            echo "== $name: per-endpoint breakdown ($BREAKDOWN_FLOWS flows, step by step, concurrency 16)"
            if [[ "$name" == postgres && "$PG_STATEMENTS" == 1 ]]; then psql_q "SELECT pg_stat_statements_reset()" >/dev/null; fi
            bench "$name" 16 "$BREAKDOWN_FLOWS" --breakdown "${pg_args[@]}" || true
            if [[ "$name" == postgres && "$PG_STATEMENTS" == 1 ]]; then
                # The run's setup (offers over gRPC) is counted too: its statements are the INSERTs of CreateOffer.
                local n=$((BREAKDOWN_FLOWS + 64))
                echo "== PostgreSQL statements of the breakdown run ($n flows incl. the client warm-up; setup included), by total time"
                psql_q "SELECT round(calls::numeric / $n, 2) AS per_flow, round(mean_exec_time::numeric, 3) AS mean_ms,
                               round(total_exec_time::numeric / $n, 3) AS ms_per_flow, left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
                        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 40" | tee "$logs/pg-statements.txt"
            fi
        fi
    fi
    stop_server
}

echo "== machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(dotnet --version) SDK, CLK_TCK $clk_tck"

for db in $DATABASES; do
    case "$db" in
        sqlite)
            mkdir -p "$work/sqlite"
            run_database sqlite --Issuer2:DataDirectory="$work/sqlite"
            ;;
        postgres)
            pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
            if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
                echo "== installing PostgreSQL (Debian package)"
                DEBIAN_FRONTEND=noninteractive apt-get update -qq
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
                pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
            fi
            # Its own directory, as tests/run-all.sh makes it: the postgres user must reach it.
            pg_dir="$(mktemp -d /tmp/issuer2-bench-pg.XXXXXX)"
            chown postgres "$pg_dir"
            pg_port="$(free_port)"
            pg_extra=""
            if [[ "$PG_STATEMENTS" == 1 ]]; then pg_extra="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"; fi
            runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
            pg_started=1
            if ! runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
                -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c synchronous_commit=on -c max_connections=300 $pg_extra" start >/dev/null; then
                echo "PostgreSQL did not start:" >&2
                cat "$pg_dir/log" >&2 || true
                exit 2
            fi
            postmaster_pid="$(head -n 1 "$pg_dir/data/postmaster.pid")"
            psql_q() { runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -X -q -c "$1"; }
            if [[ "$PG_STATEMENTS" == 1 ]]; then psql_q "CREATE EXTENSION pg_stat_statements"; fi
            echo "== PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') throwaway cluster on 127.0.0.1:$pg_port, postmaster pid $postmaster_pid: fsync=off, synchronous_commit=on (as tests/run-all.sh starts it; commits wait for the WAL write, which is not flushed to disk)"
            mkdir -p "$work/pgdata-dir"
            run_database postgres --Issuer2:DataDirectory="$work/pgdata-dir" \
                --Issuer2:Database:Provider=Postgres \
                --Issuer2:Database:ConnectionString="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
            stop_postgres
            cp "$pg_dir/log" "$logs/postgres.log" 2>/dev/null || true
            ;;
        *)
            echo "unknown database '$db' (sqlite, postgres)" >&2
            exit 2
            ;;
    esac
done

echo
echo "| database | concurrency | flows | flows/s | p50 ms | p99 ms | server CPU ms/flow | PostgreSQL CPU ms/flow |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for row in "${rows[@]}"; do echo "$row"; done
echo
echo "Load generator on the same machine: its own CPU, the machine's load during each timed run, and the share of"
echo "that load from processes other than the server, PostgreSQL and the load generator (a busy machine skews the figures)."
echo
echo "| database | concurrency | bench client CPU ms/flow | machine busy % | of it other processes % | seconds |"
echo "|---|---:|---:|---:|---:|---:|"
for row in "${context_rows[@]}"; do echo "$row"; done
if [[ "${#step_rows[@]}" -gt 0 ]]; then
    echo
    echo "Per endpoint: the same flows run step by step (every flow's first step, then every flow's second, …), CPU per call."
    echo
    echo "| database | step | calls | calls/s | server CPU ms/call | PostgreSQL CPU ms/call | bench client CPU ms/call |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for row in "${step_rows[@]}"; do echo "$row"; done
fi
echo
for json in "${json_lines[@]}"; do echo "BENCH_JSON $json"; done
echo
echo "logs: $logs"

if [[ "$failures" != 0 ]]; then
    echo "$failures benchmark run(s) had failures" >&2
    exit 1
fi
