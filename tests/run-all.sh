#!/usr/bin/env bash
# Runs every check of the repository and ends with exactly one line "N passed, M failed".
#
#   bash tests/run-all.sh
#
# Needs the .NET 10 SDK and Node 20. Installs PostgreSQL from the Debian package when it is missing
# (as root), starts a throwaway cluster on a free loopback port for the PostgreSQL tests and removes
# it on exit. Checks: buf lint (one check), the build with warnings as errors, every xunit test.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

passed=0
failed=0

summary() {
    echo "$passed passed, $failed failed"
}

free_port() {
    node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();});"
}

# --- PostgreSQL: the Debian package, a throwaway cluster ------------------------------------------
pg_bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    fi
}

pg_bin="$(pg_bin_dir)"
if [[ -z "$pg_bin" ]]; then
    echo "== installing PostgreSQL (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y postgresql
    pg_bin="$(pg_bin_dir)"
    if [[ -z "$pg_bin" ]]; then
        echo "PostgreSQL was installed but no initdb was found under /usr/lib/postgresql/*/bin" >&2
        failed=$((failed + 1))
        summary
        exit 1
    fi
fi

pg_dir="$(mktemp -d /tmp/issuer2-pg.XXXXXX)"
pg_started=0
cleanup() {
    if [[ "$pg_started" == 1 ]]; then
        runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$pg_dir"
}
trap cleanup EXIT

chown postgres "$pg_dir"
pg_port="$(free_port)"
echo "== starting PostgreSQL ($pg_bin) on 127.0.0.1:$pg_port"
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
pg_started=1
if ! runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c max_connections=300" start >/dev/null; then
    echo "PostgreSQL did not start:" >&2
    cat "$pg_dir/log" >&2 || true
    failed=$((failed + 1))
    summary
    exit 1
fi
export ISSUER2_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"

# --- buf lint (counts as one check) ---------------------------------------------------------------
echo "== buf lint"
(
    cd tests/tools
    if [[ -f package-lock.json ]]; then
        # A registry mirror that serves only this platform's optional buf binaries yields a lock file that
        # npm ci calls out of sync; npm install then installs the same pinned version.
        if ! npm ci --no-audit --no-fund --loglevel=error >"$pg_dir/npm-ci.log" 2>&1; then
            echo "npm ci refused the lock file ($(grep -m1 -o 'Missing: [^ ]*' "$pg_dir/npm-ci.log" || echo 'see npm output')); running npm install"
            npm install --no-audit --no-fund --loglevel=error
        fi
    else
        npm install --no-audit --no-fund --loglevel=error
    fi
) || true
if tests/tools/node_modules/.bin/buf lint; then
    echo "buf lint: clean"
    passed=$((passed + 1))
else
    echo "buf lint: FAILED"
    failed=$((failed + 1))
fi

# --- build: warnings are errors -------------------------------------------------------------------
echo "== dotnet build (Release, warnings as errors)"
build_log="$pg_dir/build.log"
if ! dotnet build Issuer2.Grpc.sln -c Release -warnaserror >"$build_log" 2>&1; then
    cat "$build_log"
    echo "dotnet build failed"
    failed=$((failed + 1))
    summary
    exit 1
fi
tail -n 3 "$build_log"

# --- tests ----------------------------------------------------------------------------------------
echo "== dotnet test"
results="$repo/.test-run/results"
rm -rf "$results"
mkdir -p "$results"
test_rc=0
dotnet test Issuer2.Grpc.sln -c Release --no-build --logger "trx" --logger "console;verbosity=normal" \
    --results-directory "$results" || test_rc=$?

trx_count=0
while IFS= read -r -d '' trx; do
    trx_count=$((trx_count + 1))
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)"
    p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done < <(find "$results" -name '*.trx' -print0)

if [[ "$trx_count" == 0 ]]; then
    echo "dotnet test wrote no results (exit code $test_rc)"
    failed=$((failed + 1))
elif [[ "$test_rc" != 0 && "$failed" == 0 ]]; then
    # The run failed without a failed test (a crashed or aborted test host): that is a failure too.
    echo "dotnet test exited with $test_rc although no test failed"
    failed=$((failed + 1))
fi

summary
if [[ "$failed" == 0 && "$passed" -gt 0 ]]; then
    exit 0
fi
exit 1
