#!/bin/sh
# Compare ingot's answers with the real OpenStack Placement's (Debian's 8.0.0): run
# scripts/fidelity/probe.py (inventories, usages, traits, classes, aggregates, allocations,
# candidates, and requests wrong in two ways) against a fresh instance of each, and diff the
# transcripts: key order, floats as written, error codes and details.
#   scripts/fidelity/compare.sh            # Placement on MariaDB, ingot on SQLite
#   DB=sqlite scripts/fidelity/compare.sh  # Placement on SQLite
# Known differences (ARCHITECTURE.md, "Compatibility notes"), from what upstream varies run
# to run: the order of allocation requests, and GET .../aggregates (upstream gives new
# aggregates ids in Python set order, random per process, and lists them in id order). With
# DB=sqlite also traits?name=startswith: and a provider's allocations (SQLite's plans).
# Installs what it needs (Placement, gunicorn, MariaDB) with ../shared/peers/placement/setup.sh.
# Env: PORT_REAL (18790), PORT_INGOT (18791), DB (mysql), INGOT_DATABASE (a fresh SQLite file).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEER=${SHARED:-$ROOT/../shared}/peers/placement
PORT_REAL=${PORT_REAL:-18790}
PORT_INGOT=${PORT_INGOT:-18791}
DB=${DB:-mysql}
if ! /usr/bin/python3 -c 'import placement, gunicorn, pymysql' 2>/dev/null || ! command -v curl >/dev/null; then
  sh "$PEER/setup.sh"
fi
work=$(mktemp -d)
ingot_pid=""
cleanup() {
  PEER_DIR="$work/peer" sh "$PEER/stop.sh" >/dev/null 2>&1 || true
  if [ "$DB" = mysql ]; then PEER_DIR="$work/peer" sh "$PEER/mysql.sh" stop >/dev/null 2>&1 || true; fi
  if [ -n "$ingot_pid" ]; then kill "$ingot_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
PEER_DIR="$work/peer" PORT=$PORT_REAL WORKERS=1 THREADS=1 FRESH=1 DB=$DB sh "$PEER/start.sh" >/dev/null
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
