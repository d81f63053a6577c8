#!/bin/sh
# Stop the Ironic started by start.sh: only the process whose id start.sh recorded.
set -u
DIR=${IRONIC_DIR:-/tmp/ingot-ironic}
PIDFILE="$DIR/ironic.pid"
if [ ! -f "$PIDFILE" ]; then
	echo "ironic is not running (no $PIDFILE)"
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
	echo "stopped ironic (pid $PID)"
else
	echo "ironic (pid $PID) was not running"
fi
rm -f "$PIDFILE"
