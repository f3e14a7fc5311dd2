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
# shellcheck source=.ci/lib.sh source-path=SCRIPTDIR/..
source "$repo/.ci/lib.sh"
lib_dotnet_env

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
failures=0
# Keep the logs; drop the databases and the server copy.
lib_on_exit rm -rf "$work/server" "$work/sqlite" "$work/pgdata-dir"
trap 'exit 130' INT TERM

lib_bench_prepare "$work" "$logs"

# start_server NAME [extra args…]: starts the server, waits for /healthz; sets server_pid, http_url, grpc_url.
start_server() {
    local name="$1"; shift
    server_log="$logs/server-$name.log"
    lib_bench_server_start "server ($name)" "$server_log" "$@"
    server_pid="$LIB_SERVER_PID" http_url="$LIB_BENCH_HTTP_URL" grpc_url="$LIB_BENCH_GRPC_URL"
}

# stop_server: stops the server of start_server.
stop_server() {
    if [[ -n "$server_pid" ]]; then lib_server_stop "$server_pid"; fi
    server_pid=""
}

rows=()
context_rows=()
step_rows=()
json_lines=()

# bench NAME CONCURRENCY FLOWS [--warmup] [extra args…]
bench() {
    local name="$1" concurrency="$2" flows="$3"; shift 3
    local out="$logs/bench-$name-c$concurrency-$flows.out" rc=0
    timeout "$RUN_TIMEOUT" dotnet "$LIB_BENCH_DLL" --grpc "$grpc_url" --http "$http_url" --admin-key "$LIB_ADMIN_KEY" \
        --flows "$flows" --concurrency "$concurrency" --server-pid "$server_pid" --clk-tck "$LIB_CLK_TCK" \
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
        pg_args=(--postgres-pid "$LIB_PG_PID")
    fi
    local busy
    busy="$(lib_machine_busy)"  # the benchmark shares the CPUs with everything else
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

lib_bench_machine

for db in $DATABASES; do
    case "$db" in
        sqlite)
            mkdir -p "$work/sqlite"
            run_database sqlite --Issuer2:DataDirectory="$work/sqlite"
            ;;
        postgres)
            lib_pg_ensure_installed --quiet || exit 2
            # Its own directory, as tests/run-all.sh makes it: the postgres user must reach it.
            pg_dir="$(mktemp -d /tmp/issuer2-bench-pg.XXXXXX)"
            lib_on_exit rm -rf "$pg_dir"
            pg_port="$(lib_free_port)"
            pg_extra=()
            if [[ "$PG_STATEMENTS" == 1 ]]; then pg_extra=(-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all); fi
            lib_pg_start "$pg_dir" "$pg_port" -c synchronous_commit=on "${pg_extra[@]}" || exit 2
            psql_q() { runuser -u postgres -- "$LIB_PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -X -q -c "$1"; }
            if [[ "$PG_STATEMENTS" == 1 ]]; then psql_q "CREATE EXTENSION pg_stat_statements"; fi
            echo "== PostgreSQL $(lib_pg_version) throwaway cluster on 127.0.0.1:$pg_port, postmaster pid $LIB_PG_PID: fsync=off, synchronous_commit=on (as tests/run-all.sh starts it; commits wait for the WAL write, which is not flushed to disk)"
            mkdir -p "$work/pgdata-dir"
            run_database postgres --Issuer2:DataDirectory="$work/pgdata-dir" \
                --Issuer2:Database:Provider=Postgres \
                --Issuer2:Database:ConnectionString="$(lib_pg_connection)"
            lib_pg_stop
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
