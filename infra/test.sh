#!/usr/bin/env bash
# Runs every test of the solution (Release build, warnings as errors) and ends with one summary line:
#   tests: N passed, N failed
# Needs the .NET 10 SDK and PostgreSQL server binaries (initdb/pg_ctl/postgres) for the database tests.
set -uo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

if ! dotnet build Storage.sln -c Release -nologo -v:q; then
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

dotnet test Storage.sln -c Release --no-build -nologo -m:1 \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results"
status=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the runner failed without counting a test (a crash, a build or discovery error)
fi

echo "tests: $passed passed, $failed failed"
exit "$status"
