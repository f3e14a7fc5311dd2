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
# shellcheck source=.ci/lib.sh source-path=SCRIPTDIR/..
source "$repo/.ci/lib.sh"
lib_dotnet_env

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
failures=0
lib_on_exit rm -rf "$work/server" "$work/data-a" "$work/data-b"
trap 'exit 130' INT TERM

lib_bench_prepare "$work" "$logs"

# The PostgreSQL cluster, as bench/run.sh starts it; its log is kept with the others.
keep_pg_log() { cp "$pg_dir/log" "$logs/postgres.log" 2>/dev/null || true; }
lib_pg_ensure_installed --quiet || exit 2
pg_dir="$(mktemp -d /tmp/issuer2-bench-pg.XXXXXX)"
lib_on_exit rm -rf "$pg_dir"
lib_on_exit keep_pg_log
pg_port="$(lib_free_port)"
lib_pg_start "$pg_dir" "$pg_port" -c synchronous_commit=on || exit 2
lib_bench_machine
echo "== PostgreSQL $(lib_pg_version) throwaway cluster on 127.0.0.1:$pg_port, postmaster pid $LIB_PG_PID: fsync=off, synchronous_commit=on"

connection="$(lib_pg_connection)"
a_http_port="$(lib_free_port)"
public_base="http://127.0.0.1:$a_http_port"

# start_host NAME HTTP_PORT: a server process on the shared database; sets host_pid, host_http, host_grpc, host_log.
start_host() {
    local name="$1" http_port="$2"
    host_http="http://127.0.0.1:$http_port"
    host_grpc="http://127.0.0.1:$(lib_free_port "$http_port")"
    host_log="$logs/server-$name.log"
    mkdir -p "$work/data-$name"
    lib_server_start "host $name" "$work/server" "$host_log" "$host_http" "$host_grpc" \
        --Issuer2:PublicBaseUrl="$public_base" \
        --Issuer2:AdminKey="$LIB_ADMIN_KEY" \
        --Issuer2:KeyEncryptionKey="$LIB_KEK" \
        --Issuer2:DataDirectory="$work/data-$name" \
        --Issuer2:Database:Provider=Postgres \
        --Issuer2:Database:ConnectionString="$connection" \
        --Issuer2:Events:HeartbeatInterval="$(printf '%02d:%02d:%02d' $((HEARTBEAT / 3600)) $((HEARTBEAT % 3600 / 60)) $((HEARTBEAT % 60)))" \
        || exit 2
    host_pid="$LIB_SERVER_PID"
    echo "   host $name pid $host_pid: wallets $host_http, gRPC $host_grpc; log $host_log"
}

echo "== starting host A, then host B (one database; PublicBaseUrl $public_base for both)"
start_host a "$a_http_port"
a_pid="$host_pid"; a_http="$host_http"; a_grpc="$host_grpc"; a_log="$host_log"
start_host b "$(lib_free_port)"
b_pid="$host_pid"; b_http="$host_http"; b_grpc="$host_grpc"; b_log="$host_log"

json_lines=()

# run_bench NAME REPORT(0|1) args…: runs the load generator, shows its output, keeps its BENCH_JSON.
run_bench() {
    local name="$1" report="$2"; shift 2
    local out="$logs/bench-$name.out" err="$logs/bench-$name.err" rc=0
    timeout "$RUN_TIMEOUT" dotnet "$LIB_BENCH_DLL" --admin-key "$LIB_ADMIN_KEY" --database postgres --clk-tck "$LIB_CLK_TCK" \
        --postgres-pid "$LIB_PG_PID" "$@" >"$out" 2>"$err" || rc=$?
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

lib_server_stop
lib_pg_stop
keep_pg_log

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
