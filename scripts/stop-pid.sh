#!/bin/sh
# stop-pid.sh NAME PIDFILE: stop the process whose id PIDFILE records (a service one of
# the project's start.sh scripts started), and only that one: TERM, up to 10 s to exit,
# then KILL; the pid file is removed. A missing pid file or a process already gone is fine.
set -u
NAME=$1
PIDFILE=$2
if [ ! -f "$PIDFILE" ]; then
	echo "$NAME is not running (no $PIDFILE)"
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
	echo "stopped $NAME (pid $PID)"
else
	echo "$NAME (pid $PID) was not running"
fi
rm -f "$PIDFILE"
