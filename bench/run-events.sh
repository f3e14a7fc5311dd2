#!/usr/bin/env bash
# The session-event benchmark: two server processes (hosts A and B) on one throwaway PostgreSQL database.
#   1. Event latency across hosts: full wallet flows against host A at a fixed rate (default 50 flows/s for 30 s),
#      one subscriber on host B following the tenant from now; every event checked exactly once, in order.
#   2. 1,000 idle subscribers on host B (10 tenants × 100, the default per-tenant limit), held 60 s with the
#      default 15 s heartbeat: host B's resident memory and CPU, host A's CPU (no streams), PostgreSQL's CPU.
# Prints Markdown tables and BENCH_JSON lines; exits non-zero on any missing, duplicate, unexpected or out-of-order
# event, a failed flow, or a failed stream.
#
#   bash bench/run-events.sh
#   RATE=50 DURATION=30 IDLE_STREAMS=1000 IDLE_TENANTS=10 HOLD=60 bash bench/run-events.sh
#
# Everything listens on 127.0.0.1. Needs root for the PostgreSQL cluster (runuser -u postgres), like bench/run.sh.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

RATE="${RATE:-50}"                      # flows started per second against host A
DURATION="${DURATION:-30}"              # seconds of flows: RATE × DURATION flows
WARMUP_DURATION="${WARMUP_DURATION:-5}" # seconds of a first, unreported latency run (0: none)
IDLE_STREAMS="${IDLE_STREAMS:-1000}"
IDLE_TENANTS="${IDLE_TENANTS:-10}"      # streams are spread over these tenants (the default limit is 100 per tenant and host)
HOLD="${HOLD:-60}"                      # seconds the idle streams are held
HEARTBEAT="${HEARTBEAT:-15}"            # the hosts' Issuer2:Events:HeartbeatInterval, seconds (15 is the default)
RUN_TIMEOUT="${RUN_TIMEOUT:-600}"       # seconds per load-generator invocation

work="$(mktemp -d /tmp/issuer2-bench-events.XXXXXX)"
logs="$work/logs"
mkdir -p "$logs"
pids=()
pg_dir=""
pg_bin=""
pg_started=0
failures=0

stop_servers() {
    local pid
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}

stop_postgres() {
    if [[ "$pg_started" == 1 ]]; then
        runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
        pg_started=0
        cp "$pg_dir/log" "$logs/postgres.log" 2>/dev/null || true
    fi
}

cleanup() {
    stop_servers
    stop_postgres
    rm -rf "$work/server" "$work/data-a" "$work/data-b" 2>/dev/null || true
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

# The PostgreSQL cluster, as bench/run.sh starts it.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
    echo "== installing PostgreSQL (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi
pg_dir="$(mktemp -d /tmp/issuer2-bench-pg.XXXXXX)"
chown postgres "$pg_dir"
pg_port="$(free_port)"
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
pg_started=1
if ! runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c synchronous_commit=on -c max_connections=300" start >/dev/null; then
    echo "PostgreSQL did not start:" >&2
    cat "$pg_dir/log" >&2 || true
    exit 2
fi
postmaster_pid="$(head -n 1 "$pg_dir/data/postmaster.pid")"
echo "== machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(dotnet --version) SDK, CLK_TCK $clk_tck"
echo "== PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') throwaway cluster on 127.0.0.1:$pg_port, postmaster pid $postmaster_pid: fsync=off, synchronous_commit=on"

connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
a_http_port="$(free_port)"
public_base="http://127.0.0.1:$a_http_port"

# start_host NAME HTTP_PORT: a server process on the shared database; sets host_pid, host_http, host_grpc, host_log.
start_host() {
    local name="$1" http_port="$2" grpc_port
    grpc_port="$(free_port)"
    while [[ "$grpc_port" == "$http_port" ]]; do grpc_port="$(free_port)"; done
    host_http="http://127.0.0.1:$http_port"
    host_grpc="http://127.0.0.1:$grpc_port"
    host_log="$logs/server-$name.log"
    mkdir -p "$work/data-$name"
    (cd "$work/server" && exec dotnet Issuer2.Server.dll \
        --Kestrel:Endpoints:Http:Url="$host_http" \
        --Kestrel:Endpoints:Grpc:Url="$host_grpc" \
        --Issuer2:PublicBaseUrl="$public_base" \
        --Issuer2:AllowInsecureHttp=true \
        --Issuer2:AdminKey="$admin_key" \
        --Issuer2:KeyEncryptionKey="$kek" \
        --Issuer2:DataDirectory="$work/data-$name" \
        --Issuer2:Database:Provider=Postgres \
        --Issuer2:Database:ConnectionString="$connection" \
        --Issuer2:Events:HeartbeatInterval="$(printf '%02d:%02d:%02d' $((HEARTBEAT / 3600)) $((HEARTBEAT % 3600 / 60)) $((HEARTBEAT % 60)))" \
        --Logging:LogLevel:Default=Warning) >"$host_log" 2>&1 &
    host_pid=$!
    pids+=("$host_pid")
    for _ in $(seq 1 600); do
        if ! kill -0 "$host_pid" 2>/dev/null; then
            echo "host $name exited during start-up; its log ($host_log):" >&2
            cat "$host_log" >&2
            exit 2
        fi
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$host_http/healthz" || true)" == 200 ]]; then
            echo "   host $name pid $host_pid: wallets $host_http, gRPC $host_grpc; log $host_log"
            return 0
        fi
        sleep 0.1
    done
    echo "host $name did not answer /healthz within 60 s; its log ($host_log):" >&2
    cat "$host_log" >&2
    exit 2
}

echo "== starting host A, then host B (one database; PublicBaseUrl $public_base for both)"
start_host a "$a_http_port"
a_pid="$host_pid"; a_http="$host_http"; a_grpc="$host_grpc"; a_log="$host_log"
start_host b "$(free_port)"
b_pid="$host_pid"; b_http="$host_http"; b_grpc="$host_grpc"; b_log="$host_log"

json_lines=()

# run_bench NAME REPORT(0|1) args…: runs the load generator, shows its output, keeps its BENCH_JSON.
run_bench() {
    local name="$1" report="$2"; shift 2
    local out="$logs/bench-$name.out" err="$logs/bench-$name.err" rc=0
    timeout "$RUN_TIMEOUT" dotnet "$bench_dll" --admin-key "$admin_key" --database postgres --clk-tck "$clk_tck" \
        --postgres-pid "$postmaster_pid" "$@" >"$out" 2>"$err" || rc=$?
    cat "$err" >&2
    grep -v '^BENCH_JSON' "$out" || true
    local json
    json="$(sed -n 's/^BENCH_JSON //p' "$out")"
    if [[ -n "$json" && "$report" == 1 ]]; then json_lines+=("$json"); fi
    if [[ "$rc" != 0 ]]; then
        failures=$((failures + 1))
        if [[ "$rc" == 124 ]]; then echo "!! $name timed out after $RUN_TIMEOUT s" >&2; else echo "!! $name exited with $rc" >&2; fi
        for log in "$a_log" "$b_log"; do
            echo "!! last lines of $log:" >&2
            grep -v '^\s*$' "$log" | tail -n 30 >&2 || true
        done
    fi
    for pid in "$a_pid" "$b_pid"; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "!! server process $pid is gone" >&2; exit 1; fi
    done
}

latency_args=(--mode events-latency --grpc "$a_grpc" --http "$a_http" --subscribe-grpc "$b_grpc" --rate "$RATE"
              --server-pid "$a_pid" --subscriber-pid "$b_pid")
if [[ "$WARMUP_DURATION" -gt 0 ]]; then
    echo "== warm-up: $((RATE * WARMUP_DURATION)) flows at $RATE flows/s on host A, subscriber on host B (checked, not reported)"
    run_bench latency-warmup 0 "${latency_args[@]}" --flows $((RATE * WARMUP_DURATION))
fi
echo "== event latency: $((RATE * DURATION)) flows at $RATE flows/s on host A, subscriber on host B"
run_bench latency 1 "${latency_args[@]}" --flows $((RATE * DURATION))

echo "== $IDLE_STREAMS idle subscribers on host B over $IDLE_TENANTS tenants, held $HOLD s (heartbeat $HEARTBEAT s); host A idle as the baseline"
run_bench idle 1 --mode idle-subscribers --grpc "$b_grpc" --http "$b_http" --streams "$IDLE_STREAMS" --tenants "$IDLE_TENANTS" \
    --hold-seconds "$HOLD" --heartbeat-seconds "$HEARTBEAT" --server-pid "$b_pid" --baseline-pid "$a_pid"

stop_servers
stop_postgres

echo
echo "== server log lines at Warning or above (host A, host B):"
for log in "$a_log" "$b_log"; do
    n="$(grep -c -E '^(warn|fail|crit):' "$log" || true)"
    echo "   $(basename "$log"): $n"
    grep -A 3 -E '^(warn|fail|crit):' "$log" | head -n 40 | sed 's/^/      /' || true
done
echo
for json in "${json_lines[@]}"; do echo "BENCH_JSON $json"; done
echo
echo "logs: $logs"

if [[ "$failures" != 0 ]]; then
    echo "$failures benchmark run(s) failed" >&2
    exit 1
fi
