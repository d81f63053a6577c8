#!/bin/sh
# ingot's whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. start what the tests need (PostgreSQL from Debian's packages, Debian's gabbi)
#   2. go vet and every Go test with -race, on SQLite and PostgreSQL
#   3. each fuzz target for a bounded time (FUZZTIME, default 10s)
#   4. the upstream Placement conformance suite against bin/ingot
# Env: SKIP_CONFORMANCE=1, SKIP_FUZZ=1 to leave parts out locally; FUZZTIME.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\n=== %s\n' "$*"; }

step "services"
eval "$(scripts/postgres.sh)"
export INGOT_TEST_POSTGRES INGOT_REQUIRE_POSTGRES=1
echo "PostgreSQL: $INGOT_TEST_POSTGRES"

step "go vet"
go vet ./...

step "go test -race"
go test -race -count=1 ./...

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzz (${FUZZTIME:-10s} each)"
  grep -rl --include='*_test.go' '^func Fuzz' internal | while read -r f; do
    pkg=./$(dirname "$f")
    for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
      echo "$pkg $target"
      go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-10s}" "$pkg" >/tmp/ingot-fuzz.log 2>&1 \
        || { cat /tmp/ingot-fuzz.log; exit 1; }
    done
  done
fi

if [ "${SKIP_CONFORMANCE:-0}" != 1 ]; then
  step "Placement conformance (upstream gabbits)"
  scripts/install-gabbi.sh
  scripts/conformance.sh
fi
echo
echo "all tests passed"
