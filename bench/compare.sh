#!/usr/bin/env bash
# Issuer2 side by side with the reference issuer of shared/peer-bench (peer-issuer.mjs, on @openid4vc/openid4vci),
# all three under the SAME independent load generator, shared/peer-bench/loadgen.mjs (a wallet on
# @openid4vc/openid4vci): the reference issuer, Issuer2 on SQLite, Issuer2 on PostgreSQL. Prints one Markdown table
# and exits non-zero if any flow failed (or did not run).
#
#   bash bench/compare.sh                          # 2000 flows at concurrency 16, both databases
#   FLOWS=300 WARMUP=300 bash bench/compare.sh     # a quick run
#   CONCURRENCIES="16 64" bash bench/compare.sh    # one timed run per concurrency, per server
#
# Knobs (environment):
#   FLOWS=2000              flows per timed run
#   WARMUP=1000             flows of warm-up per server before its first timed run (at the first concurrency; not
#                           reported): both runtimes compile their hot paths during the first thousand flows or so
#                           (.NET's tiered JIT, V8), and a shorter warm-up measures that compilation, not the flows
#   CONCURRENCIES="16"      flows in flight, one timed run each (loadgen --concurrency)
#   DATABASES="sqlite postgres"   Issuer2's databases (none: DATABASES="" runs the reference alone)
#   WORKERS=2               loadgen --workers (worker threads of the load generator; at most the concurrency)
#   DPOP=0                  0: bearer tokens on both issuers (the reference issuer without --dpop, Issuer2's bench
#                           tenant with DPoP off, so neither advertises it). 1: DPoP-bound tokens on both (the
#                           reference issuer with --dpop, Issuer2's tenant with DPoP required); the load generator
#                           uses DPoP wherever the metadata advertises it.
#   LOADGEN_DURATION=180    seconds a loadgen run may take (--duration; it also hard-stops 60 s later)
#   PEER_BENCH=../shared/peer-bench   where the reference issuer and the load generator are (read-only: copied)
#   HOSTS="1"               PostgreSQL only: how many Issuer2 hosts share the one database, one timed series per
#                           value (HOSTS="1 2": one host, then two). With two, each host makes half of every offer
#                           file for a tenant of its own (a tenant's URLs are its host's), the halves interleaved
#                           line by line, so the flows alternate between the hosts; the server CPU is both hosts'
#                           together, and each host's commits wake the other's event readers (LISTEN/NOTIFY).
#   FOLLOW=1                with two hosts, a subscriber (Issuer2.Bench --mode follow) follows host A's tenant on
#                           host B during each timed run: the wallet flows' events (resolved, token, credential,
#                           session completed, notification) must each arrive once; their latency (receipt − the
#                           event's time) is printed in a second table. Its stream's reads cost both hosts and
#                           PostgreSQL CPU, and its process shares the machine: FOLLOW=0 measures two hosts without it.
#   SQLITE_SYNCHRONOUS=Full Issuer2:Database:SqliteSynchronous of the SQLite server: Full (the default: every commit
#                           synced to disk) or Normal (synced at checkpoints; docs/architecture.md, "SQLite durability")
#   PG_CONNECTION_EXTRA=""  PostgreSQL only: Npgsql connection-string keywords appended to Issuer2's connection string
#                           (e.g. "Maximum Pool Size=4", or "Multiplexing=true"), to measure the pool's settings
#   PERF=0                  1: `perf record -F 499 -g` of each Issuer2 host during each timed run (Debian's linux-perf;
#                           the servers run with DOTNET_PerfMapEnabled=1 so that JIT-compiled frames have names), to
#                           logs/perf-KIND-cC.data; read with `perf report -i FILE` or `perf script -i FILE`. The
#                           sampling costs the servers CPU too: read its runs' CPU figures as a profile's, not a bench's.
#   SEED_CREDENTIALS=0      PostgreSQL only: issuance sessions with one issued-credential record each, and
#   SEED_EVENTS=0           events, inserted by SQL (generate_series) into Issuer2's database after its start and
#                           before the warm-up, for another tenant and within every retention period (made now,
#                           expiring in a year), so no purge runs while the flows are measured: the figures with
#                           a database that already holds that much (e.g. SEED_CREDENTIALS=1000000
#                           SEED_EVENTS=10000000). The time the seeding took is printed; it is not measured.
#
# What runs: the Release builds of src/Issuer2.Server and bench/Issuer2.Bench (.ci/lib.sh), the server started from a
# copy of its build output as bench/run.sh starts it (fresh admin key and key-encryption key, its own data
# directory; PostgreSQL: a throwaway cluster with fsync=off, synchronous_commit=on); the reference issuer from a
# copy of PEER_BENCH with `npm install` there (as peer.sh does). The offers are made before each run, outside the
# measured window: at the reference issuer by make-peer-offers.mjs, at Issuer2 by `Issuer2.Bench --offers-out`
# (a new tenant, API key and profile, pre-authorized BY_REFERENCE offers without PIN). Each run is
# `loadgen.mjs --offers FILE --concurrency C --workers W --verify-every 0`, as peer.sh runs it (peer.sh itself is not
# called: it has no --workers and measures no PostgreSQL). Everything listens on and talks to 127.0.0.1 only.
#
# CPU per flow: user + system ticks from /proc, after minus before the loadgen run, / flows that succeeded. The
# server: its process (peer-bench's cpu-of.sh, the same for both issuers). PostgreSQL: the postmaster (with the
# CPU of its reaped children) plus every live process whose parent it is, as bench/run.sh counts it.
# loadgen_cpu_pct is the load generator's own figure (100 = one core; near 100 × workers: the client was the
# bottleneck). The machine's load is printed before each server's runs: the three processes share its CPUs
# with anything else that runs.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=.ci/lib.sh source-path=SCRIPTDIR/..
source "$repo/.ci/lib.sh"
lib_dotnet_env

FLOWS="${FLOWS:-2000}"
CONCURRENCIES="${CONCURRENCIES:-16}"
DATABASES="${DATABASES-sqlite postgres}"
WORKERS="${WORKERS:-2}"
DPOP="${DPOP:-0}"
LOADGEN_DURATION="${LOADGEN_DURATION:-180}"
SEED_CREDENTIALS="${SEED_CREDENTIALS:-0}"
HOSTS="${HOSTS:-1}"
FOLLOW="${FOLLOW:-1}"
PERF="${PERF:-0}"
SQLITE_SYNCHRONOUS="${SQLITE_SYNCHRONOUS:-Full}"
PG_CONNECTION_EXTRA="${PG_CONNECTION_EXTRA:-}"
if [[ "$PERF" == 1 ]]; then
    command -v perf >/dev/null || { echo "PERF=1 needs perf (Debian's linux-perf)" >&2; exit 2; }
    export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
fi
SEED_EVENTS="${SEED_EVENTS:-0}"
PEER_BENCH="${PEER_BENCH:-$repo/../shared/peer-bench}"
SETUP_TIMEOUT=300  # seconds for making one file of offers

if ! [[ "$SEED_CREDENTIALS" =~ ^[0-9]+$ && "$SEED_EVENTS" =~ ^[0-9]+$ ]]; then echo "SEED_CREDENTIALS and SEED_EVENTS take non-negative integers" >&2; exit 2; fi
for n in "$FLOWS" "$WORKERS" "$LOADGEN_DURATION" $CONCURRENCIES; do
    if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then echo "FLOWS, WORKERS, LOADGEN_DURATION and CONCURRENCIES take positive integers" >&2; exit 2; fi
done
if [[ -z "${CONCURRENCIES// /}" ]]; then echo "CONCURRENCIES is empty" >&2; exit 2; fi
for db in $DATABASES; do
    case "$db" in sqlite | postgres) ;; *) echo "unknown database '$db' (sqlite, postgres)" >&2; exit 2 ;; esac
done
if [[ "$FOLLOW" != 0 && "$FOLLOW" != 1 ]]; then echo "FOLLOW takes 0 or 1" >&2; exit 2; fi
for h in $HOSTS; do
    case "$h" in 1 | 2) ;; *) echo "HOSTS takes 1 and 2 ('$h')" >&2; exit 2 ;; esac
done
if [[ ! -f "$PEER_BENCH/loadgen.mjs" || ! -f "$PEER_BENCH/peer-issuer.mjs" ]]; then
    echo "no peer-bench at $PEER_BENCH (set PEER_BENCH)" >&2
    exit 2
fi
for tool in node npm curl; do
    command -v "$tool" >/dev/null || { echo "compare.sh needs $tool" >&2; exit 2; }
done
WARM="${WARMUP:-1000}"
if ! [[ "$WARM" =~ ^[0-9]+$ ]]; then echo "WARMUP takes a non-negative integer" >&2; exit 2; fi
read -r -a concurrency_list <<<"$CONCURRENCIES"
FIRST_C="${concurrency_list[0]}"

work="$(mktemp -d /tmp/issuer2-compare.XXXXXX)"
logs="$work/logs"
mkdir -p "$logs"
peer="$work/peer"
peer_pid=""
failures=0
rows=()
lib_on_exit rm -rf "$work/server" "$work/sqlite" "$work/pgdata-dir" "$work/peer" "$work/offers"
trap 'exit 130' INT TERM
mkdir -p "$work/offers"

# The machine's load over two seconds (lib_machine_busy), and uptime's load averages.
machine_load() {
    local busy
    busy="$(lib_machine_busy)"
    echo "== $1: machine ${busy}% busy over the last 2 s; uptime:$(uptime | sed 's/^[^,]*,[^,]*,//')"
    if [[ "$busy" -gt 15 ]]; then echo "   warning: other processes are using the CPUs; the CPU figures per flow will be skewed" >&2; fi
}

# machine_ticks: busy and total ticks of all CPUs (first line of /proc/stat), "BUSY TOTAL".
machine_ticks() {
    local f
    read -r -a f </proc/stat
    echo "$((f[1] + f[2] + f[3] + f[6] + f[7] + f[8])) $((f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7] + f[8]))"
}

# pg_ticks POSTMASTER: CPU ticks of the cluster — the postmaster's utime + stime + cutime + cstime (the latter: its
# reaped children) plus utime + stime of every live process whose parent is the postmaster.
pg_ticks() {
    local pm="$1" line f total p
    read -r line </proc/"$pm"/stat
    read -r -a f <<<"${line##*) }"
    total=$((f[11] + f[12] + f[13] + f[14]))
    for p in /proc/[0-9]*; do
        [[ "${p#/proc/}" == "$pm" ]] && continue
        line=""
        read -r line 2>/dev/null <"$p/stat" || continue
        read -r -a f <<<"${line##*) }"
        if [[ "${f[1]:-}" == "$pm" ]]; then total=$((total + f[11] + f[12])); fi
    done
    echo "$total"
}

# loadgen LABEL OFFERS CONCURRENCY OUT: the load generator on OFFERS; its JSON in OUT, its stderr in OUT.err.
loadgen() {
    local label="$1" offers="$2" c="$3" out="$4" workers="$WORKERS" rc=0
    if ((workers > c)); then workers="$c"; fi  # a worker with no lane would leave its share of the offers unrun
    (cd "$peer" && timeout $((LOADGEN_DURATION + 90)) node loadgen.mjs --offers "$offers" --concurrency "$c" \
        --workers "$workers" --verify-every 0 --duration "$LOADGEN_DURATION") >"$out" 2>"$out.err" || rc=$?
    if [[ -s "$out.err" ]]; then
        echo "   loadgen ($label) said on stderr:" >&2
        sed 's/^/     /' "$out.err" | tail -n 20 >&2
    else
        rm -f "$out.err"
    fi
    return "$rc"
}

# cpu_of PID…: CPU seconds used so far by these processes together (cpu-of.sh for each).
cpu_of() {
    local total=0 p
    for p in "$@"; do total="$(awk -v a="$total" -v b="$(bash "$peer/cpu-of.sh" "$p")" 'BEGIN { printf "%.3f", a + b }')"; done
    echo "$total"
}

# measure LABEL KIND C OFFERS "SERVER_PID…" [POSTMASTER]: one timed loadgen run with the CPU counters around it; adds a
# row (KIND: reference, sqlite or postgres) and counts a run with failed or missing flows.
measure() {
    local label="$1" kind="$2" c="$3" offers="$4" pid="$5" pm="${6:-}"
    local out="$logs/loadgen-$kind-c$c.json" rc=0 s0 s1 p0="" p1="" m0 m1 fields
    sleep 1  # let the setup's writes settle
    m0="$(machine_ticks)"
    # shellcheck disable=SC2086  # one or two server PIDs
    s0="$(cpu_of $pid)"
    if [[ -n "$pm" ]]; then p0="$(pg_ticks "$pm")"; fi
    local perf_pid=""
    if [[ "$PERF" == 1 && "$kind" != reference ]]; then
        perf record -q -F 499 -g -p "${pid// /,}" -o "$logs/perf-$kind-c$c.data" >"$logs/perf-$kind-c$c.log" 2>&1 &
        perf_pid=$!
    fi
    loadgen "$label c$c" "$offers" "$c" "$out" || rc=$?
    if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; fi
    # shellcheck disable=SC2086
    s1="$(cpu_of $pid)"
    if [[ -n "$pm" ]]; then p1="$(pg_ticks "$pm")"; fi
    m1="$(machine_ticks)"
    # shellcheck disable=SC2016  # the quoted text is JavaScript
    if ! fields="$(node -e '
        const fs = require("fs")
        const [file, expected, s0, s1, p0, p1, tck, m0, m1] = process.argv.slice(1)
        const d = JSON.parse(fs.readFileSync(file, "utf8"))
        const ok = d.flows.ok, failed = d.flows.failed, missing = Math.max(0, Number(expected) - d.flows.completed)
        const per = (ms) => (ms / Math.max(ok, 1)).toFixed(3)
        const server = per(1000 * (Number(s1) - Number(s0)))
        const pg = p0 === "" ? "–" : per((1000 * (Number(p1) - Number(p0))) / Number(tck))
        const [b0, t0] = m0.split(" ").map(Number), [b1, t1] = m1.split(" ").map(Number)
        const busy = t1 > t0 ? ((100 * (b1 - b0)) / (t1 - t0)).toFixed(0) : "–"
        const warn = Object.entries(d.warnings ?? {}).map(([w, n]) => `${n} × ${w}`).join("; ")
        const err = Object.entries(d.errors ?? {}).map(([e, n]) => `${n} × ${e}`).join("; ")
        console.log([ok, failed, missing, d.flows_per_s.toFixed(1), d.latency_ms.p50 ?? "–", d.latency_ms.p99 ?? "–",
            server, pg, d.loadgen_cpu_pct, busy, d.elapsed_s, d.aborted ? 1 : 0, warn || "-", err || "-"].join("\t"))
    ' "$out" "$FLOWS" "$s0" "$s1" "$p0" "$p1" "$LIB_CLK_TCK" "$m0" "$m1" 2>"$out.parse-err")"; then
        echo "!! $label, concurrency $c: loadgen exited with $rc and left no readable report ($out)" >&2
        cat "$out.parse-err" >&2 || true
        failures=$((failures + 1))
        rows+=("$(printf '%s\t%s\tFAILED' "$label" "$c")")
        return 0
    fi
    rm -f "$out.parse-err"
    local ok failed missing fps p50 p99 server pg lcpu busy secs aborted warn err
    IFS=$'\t' read -r ok failed missing fps p50 p99 server pg lcpu busy secs aborted warn err <<<"$fields"
    echo "   $label c$c: $ok ok, $failed failed, $missing not run in ${secs} s: $fps flows/s, p50 $p50 ms, p99 $p99 ms," \
        "server CPU $server ms/flow, PostgreSQL CPU $pg ms/flow, loadgen CPU $lcpu %, machine $busy % busy"
    if [[ "$warn" != - ]]; then echo "   loadgen warnings: $warn" >&2; fi
    if [[ "$err" != - ]]; then echo "   loadgen errors: $err" >&2; fi
    if [[ "$rc" != 0 || "$failed" != 0 || "$missing" != 0 || "$aborted" != 0 ]]; then
        echo "!! $label, concurrency $c: loadgen exit $rc, $failed failed, $missing not run (report $out)" >&2
        failures=$((failures + 1))
    fi
    rows+=("$(printf '%s\t' "$label" "$c" "$ok" "$failed" "$fps" "$p50" "$p99" "$server" "$pg" "$lcpu" "$busy")")
}

# warmup LABEL OFFERS: the warm-up run (not reported; failures still count).
warmup() {
    local label="$1" offers="$2" out="$logs/loadgen-warmup-${1// /-}.json"
    echo "== $label: warm-up, $(wc -l <"$offers") flows at concurrency $FIRST_C"
    if ! loadgen "$label warm-up" "$offers" "$FIRST_C" "$out"; then
        echo "!! $label warm-up had failures (report $out)" >&2
        failures=$((failures + 1))
    fi
}

# --- prepare: the reference issuer's packages, Issuer2's builds ------------------------------------------------

machine_load "start"
echo "== copying $PEER_BENCH and installing its packages (npm install)"
mkdir -p "$peer"
cp -r "$PEER_BENCH"/*.mjs "$PEER_BENCH"/*.sh "$PEER_BENCH"/package.json "$PEER_BENCH"/lib "$peer"/
chmod -R u+w "$peer"
if ! (cd "$peer" && timeout 300 npm install --no-audit --no-fund --loglevel=error) >"$logs/npm-install.log" 2>&1; then
    cat "$logs/npm-install.log" >&2
    echo "npm install of peer-bench failed" >&2
    exit 2
fi
need_issuer2=1
issuer2_dpop=off
if [[ "$DPOP" == 1 ]]; then
    echo "== DPOP=1: DPoP-bound tokens on both issuers (reference --dpop, Issuer2 tenant DPoP required)"
    issuer2_dpop=required
fi
if [[ "$need_issuer2" == 1 && -n "${DATABASES// /}" ]]; then
    lib_bench_prepare "$work" "$logs"
else
    LIB_CLK_TCK="$(getconf CLK_TCK)"
fi
echo "== machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), node $(node --version), $(dotnet --version 2>/dev/null || echo no) .NET SDK, CLK_TCK $LIB_CLK_TCK"
echo "== $FLOWS flows per timed run at concurrency $CONCURRENCIES, warm-up $WARM, loadgen --workers $WORKERS; logs $logs"

# --- the reference issuer ---------------------------------------------------------------------------------------

stop_peer() {
    if [[ -n "$peer_pid" ]]; then lib_server_stop "$peer_pid"; fi
    peer_pid=""
}
lib_on_exit stop_peer

peer_offers() {  # peer_offers URL COUNT FILE
    (cd "$peer" && timeout "$SETUP_TIMEOUT" node make-peer-offers.mjs --peer "$1" --count "$2" --out "$3") 2>>"$logs/peer-offers.log" || {
        cat "$logs/peer-offers.log" >&2
        echo "!! could not make $2 offers at the reference issuer" >&2
        exit 2
    }
}

machine_load "reference issuer"
peer_port="$(lib_free_port)"
peer_url="http://127.0.0.1:$peer_port"
peer_flags=()
if [[ "$DPOP" == 1 ]]; then peer_flags=(--dpop); fi
(cd "$peer" && exec node peer-issuer.mjs --port "$peer_port" "${peer_flags[@]}") >"$logs/peer-issuer.log" 2>&1 &
peer_pid=$!
if ! lib_wait_healthy "$peer_url/.well-known/openid-credential-issuer" 30 "$peer_pid"; then
    cat "$logs/peer-issuer.log" >&2
    echo "the reference issuer did not start" >&2
    exit 2
fi
echo "   reference issuer pid $peer_pid on $peer_url ($(head -n 1 "$logs/peer-issuer.log"))"
if ((WARM > 0)); then
    peer_offers "$peer_url" "$WARM" "$work/offers/peer-warm.txt"
    warmup "reference" "$work/offers/peer-warm.txt"
fi
for c in $CONCURRENCIES; do
    echo "== reference: $FLOWS flows at concurrency $c"
    peer_offers "$peer_url" "$FLOWS" "$work/offers/peer-c$c.txt"
    measure "reference" reference "$c" "$work/offers/peer-c$c.txt" "$peer_pid"
done
stop_peer

# --- Issuer2 ----------------------------------------------------------------------------------------------------

server_pid=""
# start_server NAME [ARG…]: Issuer2 from the copy of its build output; sets server_pid, http_url, grpc_url.
start_server() {
    local name="$1"
    shift
    server_log="$logs/server-$name.log"
    lib_bench_server_start "Issuer2 ($name)" "$server_log" "$@"
    server_pid="$LIB_SERVER_PID" http_url="$LIB_BENCH_HTTP_URL" grpc_url="$LIB_BENCH_GRPC_URL"
}

issuer2_offers() {  # issuer2_offers COUNT FILE [GRPC_URL]
    timeout "$SETUP_TIMEOUT" dotnet "$LIB_BENCH_DLL" --grpc "${3:-$grpc_url}" --admin-key "$LIB_ADMIN_KEY" \
        --offers-out "$2" --count "$1" --dpop "$issuer2_dpop" 2>>"$logs/issuer2-offers.log" || {
        tail -n 20 "$logs/issuer2-offers.log" >&2
        echo "!! could not make $1 offers at Issuer2; server log: $server_log" >&2
        exit 2
    }
}

# host_offers COUNT FILE: COUNT offers; with a second host, half made on each (a tenant each), interleaved line by line.
host_offers() {
    local half
    if [[ -z "$second_grpc_url" ]]; then
        issuer2_offers "$1" "$2"
        return 0
    fi
    half=$((($1 + 1) / 2))
    issuer2_offers "$half" "$2.a"
    : >"$2.b"
    if (($1 - half > 0)); then issuer2_offers "$(($1 - half))" "$2.b" "$second_grpc_url"; fi
    paste -d '\n' "$2.a" "$2.b" | sed '/^$/d' >"$2"
    rm -f "$2.a" "$2.b"
}

# seed_postgres: SEED_CREDENTIALS sessions with one issued credential each and SEED_EVENTS events for the tenant
# 'seed-tenant', in Issuer2's PostgreSQL database (the server has migrated it), then ANALYZE.
seed_postgres() {
    local t0 t1
    if ((SEED_CREDENTIALS == 0 && SEED_EVENTS == 0)); then return 0; fi
    echo "== seeding PostgreSQL: $SEED_CREDENTIALS issued-credential records (and their sessions), $SEED_EVENTS events"
    t0="$(date +%s)"
    if ! runuser -u postgres -- "$LIB_PG_BIN/psql" -h 127.0.0.1 -p "$LIB_PG_PORT" -d postgres -v ON_ERROR_STOP=1 -q \
        -v creds="$SEED_CREDENTIALS" -v events="$SEED_EVENTS" >"$logs/seed.log" 2>&1 <<'SQL'
INSERT INTO issuance_sessions (id, tenant_id, offer_id, configuration_id, profile_uid, profile_version, created_at, completed_at)
SELECT 'seed-s' || g, 'seed-tenant', 'seed-o' || (g / 4), 'seed-card', '00000000-0000-0000-0000-000000000001', 1, now(), now()
FROM generate_series(1, :creds) g;
INSERT INTO issued_credentials (id, tenant_id, session_id, offer_id, configuration_id, format, holder_key_thumbprint, issued_at, expires_at, notification_id)
SELECT 'seed-c' || g, 'seed-tenant', 'seed-s' || g, 'seed-o' || (g / 4), 'seed-card', 'dc+sd-jwt', md5(g::text), now(), now() + interval '365 days', 'seed-n' || g
FROM generate_series(1, :creds) g;
INSERT INTO events (tenant_id, type, occurred_at, offer_id, session_id, detail)
SELECT 'seed-tenant', 'credential.issued', now(), 'seed-o' || (g / 16), 'seed-s' || (g / 4), '{}'
FROM generate_series(1, :events) g;
ANALYZE;
SQL
    then
        tail -n 20 "$logs/seed.log" >&2
        echo "!! seeding PostgreSQL failed" >&2
        exit 2
    fi
    t1="$(date +%s)"
    echo "   seeded in $((t1 - t0)) s"
}

second_pid="" second_grpc_url="" follow_pid=""
event_rows=()

# follow_start TENANT_FILE EXPECTED_OFFERS OUT: the subscriber on host B for the tenant of TENANT_FILE (written by
# Issuer2.Bench --offers-out beside its offers), from the oldest retained event; returns once it has caught up with
# the tenant's EXPECTED_OFFERS offers (it says "live"), or fails after 30 s.
follow_start() {
    dotnet "$LIB_BENCH_DLL" --mode follow --grpc "$second_grpc_url" --tenant-file "$1" --expect-backlog "$2" >"$3" 2>"$3.err" &
    follow_pid=$!
    local waited=0
    until grep -q "follow: live" "$3.err" 2>/dev/null; do
        if ((waited >= 300)) || ! kill -0 "$follow_pid" 2>/dev/null; then
            cat "$3.err" >&2
            echo "!! the subscriber on host B did not catch up with its tenant's $2 offers" >&2
            exit 2
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# follow_stop C EXPECTED_EVENTS OUT: two quiet seconds for the last events, then SIGTERM; adds a row of the second table.
follow_stop() {
    local c="$1" expected="$2" out="$3" rc=0 fields
    sleep 2
    kill -TERM "$follow_pid" 2>/dev/null || true
    wait "$follow_pid" || rc=$?
    follow_pid=""
    # shellcheck disable=SC2016  # the quoted text is JavaScript
    if ! fields="$(node -e '
        const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
        console.log([d.flow_events, d.duplicates, d.p50_ms ?? "–", d.p99_ms ?? "–", d.max_ms ?? "–", d.stream_error ?? "-"].join("\t"))
    ' "$out" 2>/dev/null)"; then
        echo "!! the subscriber on host B left no report ($out, exit $rc)" >&2
        cat "$out.err" >&2 || true
        failures=$((failures + 1))
        return 0
    fi
    local events duplicates p50 p99 max error
    IFS=$'\t' read -r events duplicates p50 p99 max error <<<"$fields"
    echo "   live events on host B (host A's tenant): $events of $expected, $duplicates duplicates, latency p50 $p50 ms, p99 $p99 ms, max $max ms"
    if [[ "$rc" != 0 || "$events" != "$expected" || "$duplicates" != 0 || "$error" != - ]]; then
        echo "!! the subscriber on host B: exit $rc, $events of $expected events, $duplicates duplicates, stream: $error" >&2
        failures=$((failures + 1))
    fi
    event_rows+=("| $c | $events | $expected | $duplicates | $p50 | $p99 | $max |")
}
stop_follower() {
    if [[ -n "$follow_pid" ]]; then kill "$follow_pid" 2>/dev/null || true; fi
}
lib_on_exit stop_follower
# run_issuer2 KIND LABEL [POSTMASTER] HOSTS -- [SERVER ARG…]: HOSTS servers on the one database (2: PostgreSQL only).
run_issuer2() {
    local kind="$1" label="$2" pm="$3" hosts="$4" pids first_log
    shift 5
    machine_load "$label"
    start_server "$kind" "$@"
    pids="$server_pid" first_log="$server_log"
    if [[ "$kind" == postgres ]]; then seed_postgres; fi
    if [[ "$hosts" == 2 ]]; then
        local first_pid="$server_pid" first_http="$http_url" first_grpc="$grpc_url"
        mkdir -p "$work/pgdata-dir-b"
        start_server "$kind-host-b" "$@" --Issuer2:DataDirectory="$work/pgdata-dir-b"
        second_pid="$server_pid" second_grpc_url="$grpc_url"
        server_pid="$first_pid" http_url="$first_http" grpc_url="$first_grpc" server_log="$first_log"
        pids="$first_pid $second_pid"
    fi
    local tag="$kind-h$hosts"
    if ((WARM > 0)); then
        # WARM flows for each host: each runtime compiles its own hot paths.
        host_offers $((WARM * hosts)) "$work/offers/$tag-warm.txt"
        warmup "$label" "$work/offers/$tag-warm.txt"
    fi
    for c in $CONCURRENCIES; do
        echo "== $label: $FLOWS flows at concurrency $c"
        host_offers "$FLOWS" "$work/offers/$tag-c$c.txt"
        if [[ "$hosts" == 2 && "$FOLLOW" == 1 ]]; then follow_start "$work/offers/$tag-c$c.txt.a.tenant" $(((FLOWS + 1) / 2)) "$logs/follow-c$c.json"; fi
        measure "$label" "$tag" "$c" "$work/offers/$tag-c$c.txt" "$pids" "$pm"
        if [[ "$hosts" == 2 && "$FOLLOW" == 1 ]]; then follow_stop "$c" $((5 * ((FLOWS + 1) / 2))) "$logs/follow-c$c.json"; fi
    done
    local p
    for p in $pids; do
        if ! kill -0 "$p" 2>/dev/null; then echo "!! Issuer2 ($kind, pid $p) is gone; logs $logs" >&2; failures=$((failures + 1)); fi
        lib_server_stop "$p"
    done
    server_pid="" second_pid="" second_grpc_url=""
    local log host_logs=("$first_log")
    if [[ "$hosts" == 2 ]]; then host_logs+=("$logs/server-$kind-host-b.log"); fi
    for log in "${host_logs[@]}"; do
        if grep -qE '^(fail|crit|warn):' "$log"; then
            echo "   Issuer2 ($kind) logged at Warning or above ($log):" >&2
            grep -E '^(fail|crit|warn):' "$log" | sort | uniq -c | head -n 10 >&2
        fi
    done
}

if [[ "$need_issuer2" == 1 ]]; then
    for db in $DATABASES; do
        case "$db" in
            sqlite)
                mkdir -p "$work/sqlite"
                sqlite_label="Issuer2 SQLite"
                [[ "$SQLITE_SYNCHRONOUS" == Full ]] || sqlite_label="Issuer2 SQLite, synchronous=$SQLITE_SYNCHRONOUS"
                run_issuer2 sqlite "$sqlite_label" "" 1 -- --Issuer2:DataDirectory="$work/sqlite" \
                    --Issuer2:Database:SqliteSynchronous="$SQLITE_SYNCHRONOUS"
                ;;
            postgres)
                lib_pg_ensure_installed --quiet || exit 2
                for hosts in $HOSTS; do
                    pg_dir="$(mktemp -d /tmp/issuer2-compare-pg.XXXXXX)"
                    lib_on_exit rm -rf "$pg_dir"
                    pg_port="$(lib_free_port)"
                    lib_pg_start "$pg_dir" "$pg_port" -c synchronous_commit=on || exit 2
                    echo "== PostgreSQL $(lib_pg_version) throwaway cluster on 127.0.0.1:$pg_port, postmaster pid $LIB_PG_PID: fsync=off, synchronous_commit=on"
                    mkdir -p "$work/pgdata-dir"
                    pg_label="Issuer2 PostgreSQL"
                    if [[ "$hosts" == 2 ]]; then pg_label="Issuer2 PostgreSQL, 2 hosts"; fi
                    if [[ -n "$PG_CONNECTION_EXTRA" ]]; then pg_label="$pg_label, $PG_CONNECTION_EXTRA"; fi
                    run_issuer2 postgres "$pg_label" "$LIB_PG_PID" "$hosts" -- --Issuer2:DataDirectory="$work/pgdata-dir" \
                        --Issuer2:Database:Provider=Postgres --Issuer2:Database:ConnectionString="$(lib_pg_connection)${PG_CONNECTION_EXTRA:+;$PG_CONNECTION_EXTRA}"
                    lib_pg_stop
                    cp "$pg_dir/log" "$logs/postgres-h$hosts.log" 2>/dev/null || true
                done
                ;;
        esac
    done
fi

# --- the table --------------------------------------------------------------------------------------------------

echo
echo "| server | concurrency | flows ok | failed | flows/s | p50 ms | p99 ms | server CPU ms/flow | PostgreSQL CPU ms/flow | loadgen CPU % | machine busy % | server CPU/flow vs reference | flows/s vs reference |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
declare -A ref_cpu=() ref_fps=()
for row in "${rows[@]}"; do
    IFS=$'\t' read -r label c ok _ fps _ _ server _ _ _ <<<"$row"
    if [[ "$label" == reference && "$ok" != FAILED ]]; then ref_cpu[$c]="$server"; ref_fps[$c]="$fps"; fi
done
for row in "${rows[@]}"; do
    IFS=$'\t' read -r label c ok failed fps p50 p99 server pg lcpu busy <<<"$row"
    if [[ "$ok" == FAILED ]]; then
        echo "| $label | $c | FAILED (no report) | | | | | | | | | | |"
        continue
    fi
    rc_cpu="–" rc_fps="–"
    if [[ "$label" != reference && -n "${ref_cpu[$c]:-}" ]]; then
        rc_cpu="$(awk -v a="$server" -v b="${ref_cpu[$c]}" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "–" }')"
        rc_fps="$(awk -v a="$fps" -v b="${ref_fps[$c]}" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "–" }')"
    fi
    echo "| $label | $c | $ok | $failed | $fps | $p50 | $p99 | $server | $pg | $lcpu | $busy | $rc_cpu | $rc_fps |"
done
echo
echo "CPU: user + system of the server process (/proc, after − before the run) and of the PostgreSQL cluster (postmaster"
echo "with reaped children + its live children), per successful flow. loadgen CPU % of one core (loadgen --workers $WORKERS;"
echo "near 100 × workers: the client was the bottleneck). Machine busy %: all CPUs during the run, whatever used them."
if ((${#event_rows[@]} > 0)); then
    echo
    echo "Live events, two hosts: a subscriber on host B following host A's tenant (half the flows) during each run"
    echo
    echo "| concurrency | flow events received | expected | duplicates | latency p50 ms | p99 ms | max ms |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${event_rows[@]}"
    echo
    echo "Latency: receipt at the subscriber − the event's time (host A's clock when the change was made, before its commit)."
fi
echo "logs: $logs"

if [[ "$failures" != 0 ]]; then
    echo "$failures run(s) had failed or missing flows" >&2
    exit 1
fi
