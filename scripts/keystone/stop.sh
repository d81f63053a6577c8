#!/bin/sh
# Stop the Keystone started by start.sh: only the process whose id start.sh recorded (the
# gunicorn master, which stops its workers).
set -u
DIR=${KEYSTONE_DIR:-/tmp/ingot-keystone}
exec "$(dirname "$0")/../stop-pid.sh" keystone "$DIR/keystone.pid"
