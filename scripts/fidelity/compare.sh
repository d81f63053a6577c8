#!/bin/sh
# Compare ingot's answers with the real OpenStack Placement's (Debian's 8.0.0): run
# scripts/fidelity/probe.py (inventories, usages, traits, classes, aggregates, allocations,
# candidates, and requests wrong in two ways) against a fresh instance of each, and diff the
# transcripts: key order, floats as written, error codes and details.
#   scripts/fidelity/compare.sh            # Placement on MariaDB, ingot on SQLite
# Known differences (ARCHITECTURE.md, "Compatibility notes"), from what upstream varies run
# to run: the order of allocation requests, and GET .../aggregates (upstream gives new
# aggregates ids in Python set order, random per process, and lists them in id order).
# Installs and runs the real Placement with the project's scripts/placement/ (MariaDB).
# Env: PORT_REAL (18790), PORT_INGOT (18791), INGOT_DATABASE (a fresh SQLite file).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT_REAL=${PORT_REAL:-18790}
PORT_INGOT=${PORT_INGOT:-18791}
sh "$ROOT/scripts/placement/install.sh" >/dev/null
work=$(mktemp -d)
ingot_pid=""
cleanup() {
  WORK="$work/peer" sh "$ROOT/scripts/placement/stop.sh" >/dev/null 2>&1 || true
  if [ -n "$ingot_pid" ]; then kill "$ingot_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
WORK="$work/peer" PORT=$PORT_REAL WORKERS=1 THREADS=1 FRESH=1 sh "$ROOT/scripts/placement/start.sh" >/dev/null
cd "$ROOT"
go build -o bin/ingot ./cmd/ingot
bin/ingot serve --listen "127.0.0.1:$PORT_INGOT" --database "${INGOT_DATABASE:-sqlite:$work/ingot.db}" \
  >"$work/ingot.log" 2>&1 &
ingot_pid=$!
i=0
until curl -fsS "http://127.0.0.1:$PORT_INGOT/" >/dev/null 2>&1; do
  i=$((i+1)); [ $i -gt 100 ] && { cat "$work/ingot.log"; exit 1; }; sleep 0.1
done
/usr/bin/python3 "$ROOT/scripts/fidelity/probe.py" "http://127.0.0.1:$PORT_REAL" >"$work/placement.txt"
/usr/bin/python3 "$ROOT/scripts/fidelity/probe.py" "http://127.0.0.1:$PORT_INGOT" >"$work/ingot.txt"
if diff "$work/placement.txt" "$work/ingot.txt"; then
  echo "identical ($(wc -l <"$work/ingot.txt") responses)"
else
  echo "$(diff "$work/placement.txt" "$work/ingot.txt" | grep -c '^<') of $(wc -l <"$work/ingot.txt") responses differ (< Placement, > ingot)"
fi
