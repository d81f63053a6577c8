#!/bin/sh
# Install (when missing) and start a fresh real Ironic for ingot's test suite, and print
# the variables that point the tests at it, like scripts/postgres.sh does for PostgreSQL:
#   eval "$(scripts/ironic/env.sh)"    # exports INGOT_IRONIC_URL, ..._CONDUCTOR_GROUP, IRONIC_DIR
#   go test -race ./...                 # now also runs TestContract/real and TestEndToEnd/real
#   go run ./cmd/ingot serve            # `ingot serve` reads the same INGOT_IRONIC_* variables
#   scripts/ironic/stop.sh              # with the exported IRONIC_DIR
# Uses IRONIC_DIR=/tmp/ingot-ironic-test and port 16387 unless set; AUTH=http_basic also
# exports INGOT_IRONIC_USER and INGOT_IRONIC_PASSWORD. DEPLOY_DELAY (default 1 s, so
# deploying and deleting last about 2 s each and are observable), AUTOMATED_CLEAN,
# CLEAN_DELAY, CALLBACK_TIMEOUT and CHECK_INTERVAL go to start.sh; the delay is exported
# as INGOT_IRONIC_DEPLOY_DELAY for the tests that need a transition to last. Everything
# but the export lines goes to stderr.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
export IRONIC_DIR=${IRONIC_DIR:-/tmp/ingot-ironic-test}
export PORT=${PORT:-16387}
export CONDUCTOR_GROUP=${CONDUCTOR_GROUP:-ingot}
export DEPLOY_DELAY=${DEPLOY_DELAY:-1}
"$HERE/install.sh" >&2
"$HERE/stop.sh" >&2
url=$(FRESH=1 "$HERE/start.sh")
echo "export INGOT_IRONIC_URL=$url INGOT_IRONIC_CONDUCTOR_GROUP=$CONDUCTOR_GROUP IRONIC_DIR=$IRONIC_DIR INGOT_IRONIC_DEPLOY_DELAY=$DEPLOY_DELAY"
if [ "${AUTH:-noauth}" = http_basic ]; then
	# INGOT_IRONIC_USER for the tests, INGOT_IRONIC_USERNAME for `ingot serve`.
	echo "export INGOT_IRONIC_USER=${BASIC_USER:-ingot} INGOT_IRONIC_USERNAME=${BASIC_USER:-ingot} INGOT_IRONIC_PASSWORD=${BASIC_PASSWORD:-ingot}"
fi
