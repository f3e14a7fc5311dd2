#!/usr/bin/env bash
# shellcheck disable=SC2119  # the functions of .ci/lib.sh take optional arguments
# Runs every check of the repository and ends with exactly one line "N passed, M failed".
#
#   bash tests/run-all.sh
#
# Needs the .NET 10 SDK and Node 20. Installs PostgreSQL from the Debian package when it is missing
# (as root), starts a throwaway cluster on a free loopback port for the PostgreSQL tests and removes
# it on exit. Installs Debian's chromium when it is missing (the browser tests of tests/Issuer2.Console.Tests fail
# without it). Checks: buf lint (one check), the TypeScript client's build (one check: buf generate, tsc, esbuild),
# the build with warnings as errors, every xunit test.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=.ci/lib.sh source-path=SCRIPTDIR/..
source "$repo/.ci/lib.sh"
lib_dotnet_env

passed=0
failed=0

summary() {
    echo "$passed passed, $failed failed"
}

# fail_setup: a step that the checks need failed; it counts as one failed check, and the run ends here.
fail_setup() {
    failed=$((failed + 1))
    summary
    exit 1
}

# --- PostgreSQL: the Debian package, a throwaway cluster ------------------------------------------
lib_pg_ensure_installed || fail_setup

pg_dir="$(mktemp -d /tmp/issuer2-pg.XXXXXX)"
lib_on_exit rm -rf "$pg_dir"
pg_port="$(lib_free_port)" || fail_setup
echo "== starting PostgreSQL ($LIB_PG_BIN) on 127.0.0.1:$pg_port"
lib_pg_start "$pg_dir" "$pg_port" || fail_setup
ISSUER2_TEST_POSTGRES="$(lib_pg_connection)"
export ISSUER2_TEST_POSTGRES

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

# --- interop wallet libraries (npm), used by the xunit interop tests ------------------------------
echo "== npm ci (tests/interop)"
(
    cd tests/interop
    if ! npm ci --no-audit --no-fund --loglevel=error >"$pg_dir/npm-interop.log" 2>&1; then
        echo "npm ci refused tests/interop/package-lock.json; running npm install"
        npm install --no-audit --no-fund --loglevel=error
    fi
)

# --- Chromium for the browser tests (they fail, never skip, without it) ---------------------------
lib_chromium_ensure_installed || echo "Chromium is missing: the browser tests will fail"

# --- TypeScript client: stubs (buf generate, local protoc-gen-es), tsc, the example bundle (one check)
echo "== npm ci + build (clients/typescript)"
if (
    cd clients/typescript
    if ! npm ci --no-audit --no-fund --loglevel=error >"$pg_dir/npm-ts.log" 2>&1; then
        echo "npm ci refused clients/typescript/package-lock.json; running npm install"
        npm install --no-audit --no-fund --loglevel=error
    fi
    rm -rf example/dist
    npm run --silent build
); then
    echo "TypeScript client: built"
    passed=$((passed + 1))
else
    echo "TypeScript client: build FAILED"
    failed=$((failed + 1))
fi

# --- build: warnings are errors -------------------------------------------------------------------
echo "== dotnet build (Release, warnings as errors)"
build_log="$pg_dir/build.log"
if ! lib_build Issuer2.Grpc.sln "$build_log" 1 -warnaserror; then
    cat "$build_log"
    echo "dotnet build failed"
    fail_setup
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
