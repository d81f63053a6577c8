#!/bin/sh
# Stop the real Placement started by start.sh: gunicorn (the recorded pid and its workers) and
# then the private MariaDB, by recorded pid only. KEEP_DB=1 leaves MariaDB running.
# Env: WORK (/tmp/ingot-placement)
set -u
WORK=${WORK:-/tmp/ingot-placement}

# stop_pid FILE SIGNAL: signal the recorded pid, wait up to 10 s, then SIGKILL it and the
# children it had.
stop_pid() {
  [ -f "$1" ] || return 0
  pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kids=$(pgrep -P "$pid" || true)
    kill "-$2" "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    for k in $kids; do
      for _ in $(seq 1 20); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$k" 2>/dev/null && kill -KILL "$k"
    done
    echo "stopped $(basename "$1" .pid) $pid"
  fi
  rm -f "$1"
}

stop_pid "$WORK/gunicorn.pid" INT      # gunicorn: quick shutdown
[ "${KEEP_DB:-0}" = 1 ] || stop_pid "$WORK/mariadbd.pid" TERM
