#!/bin/sh
# Like ../shared/placement/serve-fresh.sh, but on PostgreSQL: restart the server under test
# on a new, empty PostgreSQL database for each gabbit file, with the policy profile the file
# needs ($PLACEMENT_PROFILE). Used by scripts/conformance.sh when INGOT_CONFORMANCE_DB=postgres.
# Env: SERVER_BIN, PORT, WORK, INGOT_TEST_POSTGRES (a URL whose role may create databases).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$HERE/../../shared}
: "${SERVER_BIN:?set SERVER_BIN}" "${INGOT_TEST_POSTGRES:?set INGOT_TEST_POSTGRES}"
PORT=${PORT:-18779}
WORK=${WORK:-/tmp/placement-conformance-pg}
PROFILE=${PLACEMENT_PROFILE:-default}
mkdir -p "$WORK"
if [ -f "$WORK/server.pid" ]; then
  PID=$(cat "$WORK/server.pid")
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  rm -f "$WORK/server.pid"
fi
# A new database per file; the previous one (its server is stopped) is dropped.
if [ -f "$WORK/db.name" ]; then
  psql -q "$INGOT_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $(cat "$WORK/db.name")" >/dev/null 2>&1 || true
fi
db=ingot_conformance_$$_$(date +%s)
echo "$db" > "$WORK/db.name"
psql -q "$INGOT_TEST_POSTGRES" -c "CREATE DATABASE $db" >/dev/null
url=$(printf '%s' "$INGOT_TEST_POSTGRES" | sed "s#/[^/?]*\(?.*\)\{0,1\}\$#/$db\1#")
set -- serve --listen "127.0.0.1:$PORT" --database "$url" --auth noauth2
case "$PROFILE" in
  default|legacy-rbac) set -- "$@" --enforce-new-defaults=false ;;
  secure-rbac) set -- "$@" --enforce-new-defaults=true ;;
  open-policy) set -- "$@" --enforce-new-defaults=false --policy-file "$SHARED/placement/open-policy.yaml" ;;
  cors) set -- "$@" --enforce-new-defaults=false --cors-allowed-origin http://valid.example.com \
          --cors-allow-headers openstack-api-version ;;
  *) echo "unknown profile $PROFILE" >&2; exit 2 ;;
esac
"$SERVER_BIN" "$@" >>"$WORK/server.log" 2>&1 &
echo $! > "$WORK/server.pid"
i=0
until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; do
  i=$((i+1))
  if [ $i -gt 200 ] || ! kill -0 "$(cat "$WORK/server.pid")" 2>/dev/null; then
    echo "server did not come up (profile $PROFILE); last log lines:" >&2
    tail -20 "$WORK/server.log" >&2 || true
    exit 1
  fi
  sleep 0.1
done
