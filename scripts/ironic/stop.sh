#!/bin/sh
# Stop the Ironic started by start.sh: only the process whose id start.sh recorded.
set -u
DIR=${IRONIC_DIR:-/tmp/ingot-ironic}
exec "$(dirname "$0")/../stop-pid.sh" ironic "$DIR/ironic.pid"
