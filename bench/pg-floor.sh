#!/usr/bin/env bash
# What PostgreSQL needs for one wallet flow's statements by themselves, with no Issuer2 process in the measurement:
# pgbench replays the statements a pre-authorized flow sends (resolve, token, credential, notification: the texts
# Issuer2 sends, as PostgreSQL's log_statement=all shows them) on Issuer2's own schema, and this prints PostgreSQL's
# CPU per flow. It is the floor under compare.sh's "PostgreSQL CPU ms/flow": no server code can make the database do
# less for these statements.
#
#   bash bench/pg-floor.sh                      # both shapes, full speed and at RATE flows/s
#   RATE=150 CLIENTS="4 16" SECONDS_EACH=15 ROUNDS=2 bash bench/pg-floor.sh
#
# The two shapes (bench/pg-floor/):
#   flow8.sql  what a flow sends now: 8 round trips (a read and a write per step), every write its own transaction,
#              2 pg_notify (Issuer2 sends at most one per 5 ms per host: about 1.6 per flow under compare.sh's load)
#   flow6.sql  the same with the resolve's read folded into its write batch and the notification's read into its
#              write: 6 round trips, the lever left on the flow's statements (bench/README.md)
#
# Knobs: RATE=150 (flows/s of the paced runs, about compare.sh's rate at concurrency 16), CLIENTS="4 16" (pgbench
# connections, like the server's pooled connections in use), SECONDS_EACH=15, ROUNDS=2 (each shape alternated, to
# show the spread). Full speed: pgbench -c 4 without pacing, the backends never idle.
#
# What runs: a throwaway cluster (fsync=off, synchronous_commit=on, as compare.sh's), Issuer2's Release server started
# once on it to migrate the schema and make a tenant, a profile and an offer (Issuer2.Bench --offers-out), then
# stopped; 20,000 copies of that offer by SQL (each flow takes one at random, as compare.sh's flows each take their
# own). CPU: the postmaster (with its reaped children) and its live children, from /proc, before and after each run.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=.ci/lib.sh source-path=SCRIPTDIR/..
source "$repo/.ci/lib.sh"
lib_dotnet_env

RATE="${RATE:-150}"
CLIENTS="${CLIENTS:-4 16}"
SECONDS_EACH="${SECONDS_EACH:-15}"
ROUNDS="${ROUNDS:-2}"
for n in "$RATE" "$SECONDS_EACH" "$ROUNDS" $CLIENTS; do
    if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then echo "RATE, SECONDS_EACH, ROUNDS and CLIENTS take positive integers" >&2; exit 2; fi
done

work="$(mktemp -d /tmp/issuer2-pg-floor.XXXXXX)"
logs="$work/logs"
mkdir -p "$logs"
lib_on_exit rm -rf "$work/server"
lib_pg_ensure_installed --quiet || exit 2
command -v pgbench >/dev/null || PATH="$LIB_PG_BIN:$PATH"
command -v pgbench >/dev/null || { echo "pg-floor.sh needs pgbench (Debian's postgresql package has it)" >&2; exit 2; }
lib_bench_prepare "$work" "$logs"
lib_bench_machine

pg_dir="$(mktemp -d /tmp/issuer2-pg-floor-pg.XXXXXX)"
lib_on_exit rm -rf "$pg_dir"
pg_port="$(lib_free_port)"
lib_pg_start "$pg_dir" "$pg_port" -c synchronous_commit=on || exit 2
echo "== PostgreSQL $(lib_pg_version) throwaway cluster on 127.0.0.1:$pg_port, postmaster pid $LIB_PG_PID: fsync=off, synchronous_commit=on"
psql_() { "$LIB_PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

mkdir -p "$work/data"
lib_bench_server_start "Issuer2 (schema and one offer)" "$logs/server.log" --Issuer2:DataDirectory="$work/data" \
    --Issuer2:Database:Provider=Postgres --Issuer2:Database:ConnectionString="$(lib_pg_connection)"
timeout 300 dotnet "$LIB_BENCH_DLL" --grpc "$LIB_BENCH_GRPC_URL" --admin-key "$LIB_ADMIN_KEY" \
    --offers-out "$work/offer.txt" --count 1 --dpop off >>"$logs/offers.log" 2>&1 || { tail -n 20 "$logs/offers.log" >&2; exit 2; }
lib_server_stop
read -r tenant profile_uid configuration < <(psql_ -F ' ' -c "SELECT tenant_id, profile_uid, profile_id FROM offers LIMIT 1")
psql_ <<SQL
INSERT INTO offers (id, tenant_id, profile_id, profile_uid, profile_version, method, delivery, issuer_state_mode, uri_token_hash,
    max_uses, use_count, pin_failed_attempts, overrides, created_at, expires_at, issued_count, resolution_count)
SELECT 'b' || g, tenant_id, profile_id, profile_uid, profile_version, method, delivery, issuer_state_mode, int8send(g),
    1000000, 0, 0, overrides, now(), now() + interval '30 days', 0, 0
FROM offers, generate_series(1, 20000) g WHERE uri_token_hash IS NOT NULL;
VACUUM ANALYZE offers;
SQL
echo "== tenant $tenant: 20000 offers; each shape checked with 20 flows first (every statement must succeed), then 5 s of warm-up"

pg_ticks() {  # the postmaster with its reaped children, and its live children
    local t=0 p s
    for p in "$LIB_PG_PID" $(pgrep -P "$LIB_PG_PID" 2>/dev/null); do
        [[ -r "/proc/$p/stat" ]] || continue
        read -r -a s <"/proc/$p/stat" 2>/dev/null || continue
        t=$((t + s[13] + s[14] + s[15] + s[16]))
    done
    echo "$t"
}
bench_run() {  # bench_run SHAPE LABEL PGBENCH_ARG…: prints a table row
    local shape="$1" label="$2" before after out flows
    shift 2
    before="$(pg_ticks)"
    out="$(pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -M prepared -D tenant="$tenant" -D profile_uid="$profile_uid" \
        -D configuration="$configuration" -f "$repo/bench/pg-floor/$shape.sql" "$@" postgres 2>&1)" || { echo "$out" >&2; exit 1; }
    after="$(pg_ticks)"
    flows="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")"
    if grep -q "^number of failed transactions: [1-9]" <<<"$out" || [[ -z "$flows" || "$flows" == 0 ]]; then echo "$out" >&2; exit 1; fi
    awk -v shape="$shape" -v label="$label" -v n="$flows" -v t="$((after - before))" -v hz="$LIB_CLK_TCK" \
        -v lat="$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")" \
        'BEGIN { printf "| %s | %s | %d | %.2f | %s |\n", shape, label, n, 1000 * t / hz / n, lat }'
}
for shape in flow8 flow6; do bench_run "$shape" check -c 2 -t 10 >/dev/null; done
# Not reported: the first seconds after the bulk insert run slow (the caches and the new offers' pages).
bench_run flow8 warm-up -c 4 -j 2 -T 5 >/dev/null

echo
echo "| shape | run | flows | PostgreSQL CPU ms/flow | latency ms (avg) |"
echo "|---|---|---:|---:|---:|"
for ((round = 1; round <= ROUNDS; round++)); do
    for shape in flow8 flow6; do
        bench_run "$shape" "full speed, 4 connections" -c 4 -j 2 -T "$SECONDS_EACH"
        for c in $CLIENTS; do
            bench_run "$shape" "$RATE flows/s, $c connections" -c "$c" -j 2 -T "$SECONDS_EACH" -R "$RATE"
        done
    done
done
lib_pg_stop
