#!/bin/sh
# The client-compatibility suite against ingot: for each suite (cli, sdk, nova; see driver.py)
# start bin/ingot on a new, empty database, drive it with the real clients, compare every
# step's answer with what the real Placement 8.0.0 gave (scripts/clients/expected/SUITE.json,
# written by record.sh) and stop it. Prints each differing step and one 'N passed, N failed'
# line per suite; exits 1 if any step differs.
#
# Usage: scripts/clients/run.sh sqlite|postgres [SUITE ...]     (as root: installs the clients)
# Env:   PORT (18825), WORK (/tmp/ingot-clients), SERVER_BIN (default: go build bin/ingot),
#        INGOT_TEST_POSTGRES for postgres (a URL whose role may create databases; see
#        scripts/postgres.sh).
# ingot runs with --enforce-new-defaults=false: the policy defaults of the real Placement
# 8.0.0 the expectations were recorded from (Nova's reshape needs them with a noauth2 admin).
set -eu
# Python's string hashing is random per process, and Nova's report client creates missing
# traits in set order: a fixed seed makes their ids, and so their order in answers, the same
# in every run.
export PYTHONHASHSEED=0
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DB=${1:-}
case "$DB" in
  sqlite) ;;
  postgres) : "${INGOT_TEST_POSTGRES:?set INGOT_TEST_POSTGRES (eval \"\$(scripts/postgres.sh)\")}" ;;
  *) echo "usage: $0 sqlite|postgres [cli|sdk|nova ...]" >&2; exit 2 ;;
esac
shift
SUITES=${*:-cli sdk nova}
PORT=${PORT:-18825}
WORK=${WORK:-/tmp/ingot-clients}
mkdir -p "$WORK"
scripts/clients/install.sh
if [ -z "${SERVER_BIN:-}" ]; then
  go build -o bin/ingot ./cmd/ingot
  SERVER_BIN=$ROOT/bin/ingot
fi

PID=""
PGDB=""
stop() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
  fi
  if [ -n "$PGDB" ]; then
    psql -q "$INGOT_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true
    PGDB=""
  fi
}
trap stop EXIT INT TERM

failed=""
for suite in $SUITES; do
  if [ "$DB" = sqlite ]; then
    rm -f "$WORK/$suite.db" "$WORK/$suite.db-wal" "$WORK/$suite.db-shm"
    url="sqlite:$WORK/$suite.db"
  else
    PGDB=ingot_clients_${suite}_$$
    psql -q "$INGOT_TEST_POSTGRES" -c "CREATE DATABASE $PGDB" >/dev/null
    url=$(printf '%s' "$INGOT_TEST_POSTGRES" | sed "s#/[^/?]*\(?.*\)\{0,1\}\$#/$PGDB\1#")
  fi
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then echo "port $PORT is in use" >&2; exit 1; fi
  "$SERVER_BIN" serve --listen "127.0.0.1:$PORT" --database "$url" --auth noauth2 \
    --enforce-new-defaults=false >"$WORK/$suite-$DB.log" 2>&1 &
  PID=$!
  i=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 "$PID" 2>/dev/null; then
      echo "ingot did not come up; see $WORK/$suite-$DB.log" >&2; tail -20 "$WORK/$suite-$DB.log" >&2; exit 1
    fi
    sleep 0.1
  done
  echo "--- client suite $suite on $DB"
  # PYTHONWARNINGS: keep the libraries' deprecation chatter out of the report. Nova warns
  # that urllib3 was imported before eventlet's monkey patching: bookworm's eventlet imports
  # it itself (through dnspython), in nova-compute too; harmless, left out.
  if ! PYTHONWARNINGS=ignore /usr/bin/python3 scripts/clients/driver.py check "$suite" \
    "http://127.0.0.1:$PORT" "scripts/clients/expected/$suite.json" >"$WORK/$suite-$DB.out" 2>&1; then
    failed="$failed $suite"
  fi
  grep -v 'known eventlet monkey patching issues' "$WORK/$suite-$DB.out" || true
  stop
done
if [ -n "$failed" ]; then
  echo "client suites with differences on $DB:$failed"
  exit 1
fi
echo "client suites on $DB: all steps match the real Placement"
