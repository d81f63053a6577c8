#!/bin/sh
# Issue 14's chaos soak: three ingot replicas (separate processes, each reaching the
# database through a loopback proxy that can blackhole) on a throwaway PostgreSQL cluster,
# a fake Ironic of 1,000 nodes served over HTTP, instance traffic, and a fixed-seed mix of
# faults (kill -9, SIGSTOP shorter and longer than the TTL, database blackhole, graceful
# restart, a fourth replica joining and leaving, PostgreSQL restart and outage, clock
# offset and rate skew). It first measures failover after kill -9, the hand-over gap of a
# rolling restart and the nodes a join moves, then mixes faults until DURATION, then audits
# (internal/chaos): no accepted write at a stale epoch, no Ironic call outside its owner's
# window, every node owned again within the bound, providers matching Ironic, balance.
# Prints the FIGURE lines and fails unless the soak passed with zero violations.
#   scripts/chaos.sh                          # 10 minutes, seed 1, production timings
#   SEED=7 DURATION=90s TIMINGS=short scripts/chaos.sh   # CI's shortened run
# Env: SEED (1), DURATION (a Go duration, 10m), TIMINGS (production: TTL 15 s, renew 3 s,
# scan 2 s; short: TTL 3 s, renew and scan 0.5 s), LOGS (a directory to keep the replicas'
# logs in), INGOT_CHAOS_PORT_BASE (take ports from there up instead of free ones).
# Needs Go and, as root, installs Debian's postgresql for its server binaries (the cluster
# is initdb'd in a temporary directory and run as the postgres user on a free port).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || scripts/apt-ensure.sh postgresql
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "chaos soak: SEED=${SEED:-1} DURATION=${DURATION:-10m} TIMINGS=${TIMINGS:-production}"
set +e
INGOT_CHAOS_SOAK=1 INGOT_REQUIRE_POSTGRES=1 INGOT_CHAOS_TIMINGS="${TIMINGS:-production}" \
  SEED="${SEED:-1}" DURATION="${DURATION:-10m}" INGOT_CHAOS_LOGS="${LOGS:-}" \
  go test -count=1 -run '^TestSoak$' -v -timeout 3h ./internal/chaos/ >"$out" 2>&1
rc=$?
set -e
grep -E '^\s+soak_test.go|^\s+chaos_test.go|^--- |^(ok|FAIL)\s' "$out" | cut -c1-400
if [ $rc -ne 0 ] || ! grep -q -- '--- PASS: TestSoak' "$out"; then
  echo "chaos soak FAILED (exit $rc); the end of its output:"
  tail -c 20000 "$out"
  exit 1
fi
grep -q 'FIGURE audit: .* 0 violations' "$out" || { echo "chaos soak: no clean audit line"; exit 1; }
echo "chaos soak passed: zero invariant violations"
