#!/bin/sh
# Stop the Keystone started by start.sh: only the process whose id start.sh recorded (the
# gunicorn master, which stops its workers).
set -u
DIR=${KEYSTONE_DIR:-/tmp/ingot-keystone}
PIDFILE="$DIR/keystone.pid"
if [ ! -f "$PIDFILE" ]; then
	echo "keystone is not running (no $PIDFILE)"
	exit 0
fi
PID=$(cat "$PIDFILE")
if kill -0 "$PID" 2>/dev/null; then
	kill -TERM "$PID"
	i=0
	while kill -0 "$PID" 2>/dev/null && [ "$i" -lt 40 ]; do
		sleep 0.25
		i=$((i + 1))
	done
	if kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID"
	fi
	echo "stopped keystone (pid $PID)"
else
	echo "keystone (pid $PID) was not running"
fi
rm -f "$PIDFILE"
