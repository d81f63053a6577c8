#!/bin/sh
# Fail with a clear message when something already listens on a TCP port.
#   scripts/ironic/port-free.sh PORT 'what it is for; how to choose another'
# Reads the kernel's socket tables (/proc/net/tcp, tcp6), so it needs no tools beyond awk.
set -eu
PORT=${1:?usage: $0 PORT HINT}
HINT=${2:-}
hex=$(printf '%04X' "$PORT")
tables=""
for f in /proc/net/tcp /proc/net/tcp6; do
	[ -r "$f" ] && tables="$tables $f"
done
# shellcheck disable=SC2086 # the list of tables
if [ -n "$tables" ] && awk -v port="$hex" 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); if (toupper(a[n]) == port) found = 1 }
	END { exit !found }' $tables; then
	echo "port $PORT is already in use by another program${HINT:+ ($HINT)}" >&2
	exit 1
fi
