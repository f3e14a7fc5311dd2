#!/usr/bin/env bash
# What one HTTP request costs Issuer2 in server CPU, by kind: a 404 (Kestrel, routing and the middleware, no
# endpoint), the nonce endpoint (no database), the credential issuer metadata (one read of the tenant's version
# stamp) and /healthz (one database check). Each kind: WARM requests not counted, then REQUESTS counted, at
# CONCURRENCY, with keep-alive, from Node's fetch (bench/request-cost.mjs); the server's user + system CPU from /proc
# around the counted requests, divided by them. Everything on 127.0.0.1.
#
#   bash bench/request-cost.sh                               # SQLite and PostgreSQL, 20000 requests of each kind at 4
#   DATABASES=postgres REQUESTS=5000 bash bench/request-cost.sh
#
# Needs what bench/run.sh needs (root for the PostgreSQL cluster, the .NET 10 SDK) and node.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=.ci/lib.sh source-path=SCRIPTDIR/..
source "$repo/.ci/lib.sh"
lib_dotnet_env

REQUESTS="${REQUESTS:-20000}"
WARM="${WARM:-5000}"
CONCURRENCY="${CONCURRENCY:-4}"
DATABASES="${DATABASES-sqlite postgres}"
for n in "$REQUESTS" "$WARM" "$CONCURRENCY"; do
    if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then echo "REQUESTS, WARM and CONCURRENCY take positive integers" >&2; exit 2; fi
done
command -v node >/dev/null || { echo "request-cost.sh needs node" >&2; exit 2; }

work="$(mktemp -d /tmp/issuer2-request-cost.XXXXXX)"
logs="$work/logs"
mkdir -p "$logs"
lib_on_exit rm -rf "$work/server" "$work/data"
trap 'exit 130' INT TERM
lib_bench_prepare "$work" "$logs"
cpu() { awk -v t="$(cut -d' ' -f14,15 <"/proc/$1/stat" | tr ' ' '+' | bc)" -v k="$LIB_CLK_TCK" 'BEGIN { printf "%.3f", t / k }'; }

rows=()
for db in $DATABASES; do
    args=()
    pm=""
    mkdir -p "$work/data/$db"
    case "$db" in
        sqlite) args=(--Issuer2:DataDirectory="$work/data/$db") ;;
        postgres)
            lib_pg_ensure_installed --quiet || exit 2
            pg_dir="$(mktemp -d /tmp/issuer2-request-cost-pg.XXXXXX)"
            lib_on_exit rm -rf "$pg_dir"
            lib_pg_start "$pg_dir" "$(lib_free_port)" -c synchronous_commit=on || exit 2
            pm="$LIB_PG_PID"
            args=(--Issuer2:DataDirectory="$work/data/$db" --Issuer2:Database:Provider=Postgres --Issuer2:Database:ConnectionString="$(lib_pg_connection)")
            ;;
        *) echo "unknown database '$db' (sqlite, postgres)" >&2; exit 2 ;;
    esac
    lib_bench_server_start "Issuer2 ($db)" "$logs/server-$db.log" "${args[@]}"
    pid="$LIB_SERVER_PID"
    # A tenant with a profile and one offer (the offer's URL names the tenant).
    dotnet "$LIB_BENCH_DLL" --grpc "$LIB_BENCH_GRPC_URL" --admin-key "$LIB_ADMIN_KEY" --offers-out "$work/offer-$db.txt" --count 1 \
        2>>"$logs/offers.log" || { tail -n 20 "$logs/offers.log" >&2; exit 2; }
    offer_uri="$(python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlparse(open(sys.argv[1]).readline().strip()).query)["credential_offer_uri"][0])' "$work/offer-$db.txt")"
    tenant_url="${offer_uri%/offers/*}"
    tenant="${tenant_url##*/}"
    for spec in "GET $LIB_BENCH_HTTP_URL/nothing-here 404" "POST $tenant_url/nonce nonce" \
        "GET $LIB_BENCH_HTTP_URL/.well-known/openid-credential-issuer/$tenant metadata" "GET $LIB_BENCH_HTTP_URL/healthz healthz"; do
        read -r method url kind <<<"$spec"
        node bench/request-cost.mjs "$url" "$method" "$WARM" "$CONCURRENCY" >/dev/null
        sleep 1
        s0="$(cpu "$pid")"
        result="$(node bench/request-cost.mjs "$url" "$method" "$REQUESTS" "$CONCURRENCY")"
        s1="$(cpu "$pid")"
        us="$(awk -v a="$s0" -v b="$s1" -v n="$REQUESTS" 'BEGIN { printf "%.0f", 1e6 * (b - a) / n }')"
        echo "   $db $kind: $result, $us µs of server CPU per request"
        # shellcheck disable=SC2016  # the quoted text is JavaScript
        rows+=("| $db | $method ${url#"$LIB_BENCH_HTTP_URL"} | $kind | $(node -e 'const r = JSON.parse(process.argv[1]); console.log(Object.entries(r.statuses).map(([s, n]) => `${n} × ${s}`).join(", "))' "$result") | $us |")
    done
    lib_server_stop "$pid"
    if [[ -n "$pm" ]]; then lib_pg_stop; fi
done

echo
echo "| database | request | kind | answers | server CPU µs per request |"
echo "|---|---|---|---|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "$REQUESTS requests of each kind after $WARM not counted, at concurrency $CONCURRENCY with keep-alive; logs: $logs"
