#!/bin/sh
# Install (if needed) and start a throw-away real Ironic, run the ironic contract suite
# against it, and stop it again. Meant for .ci/run and for developers:
#   scripts/ironic/contract.sh            # noauth
#   AUTH=http_basic scripts/ironic/contract.sh
# Uses its own state directory and port, so it does not disturb an Ironic started by hand.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/scripts/ironic"
export IRONIC_DIR=${IRONIC_DIR:-/tmp/ingot-ironic-contract}
export PORT=${PORT:-16386}
export CONDUCTOR_GROUP=${CONDUCTOR_GROUP:-ingot}
export AUTH=${AUTH:-noauth}
# A short deploy delay makes deploying and deleting last long enough to meet their lock.
export DEPLOY_DELAY=${DEPLOY_DELAY:-1}
export BASIC_USER=${BASIC_USER:-ingot} BASIC_PASSWORD=${BASIC_PASSWORD:-ingot}

"$HERE/install.sh"
"$HERE/stop.sh" >/dev/null
trap '"$HERE/stop.sh" >/dev/null' EXIT INT TERM
URL=$(FRESH=1 "$HERE/start.sh")

export INGOT_IRONIC_URL="$URL" INGOT_IRONIC_CONDUCTOR_GROUP="$CONDUCTOR_GROUP" INGOT_IRONIC_DEPLOY_DELAY="$DEPLOY_DELAY"
if [ "$AUTH" = http_basic ]; then
	export INGOT_IRONIC_USER="$BASIC_USER" INGOT_IRONIC_PASSWORD="$BASIC_PASSWORD"
fi
cd "$ROOT"
go test -race -count=1 -run 'TestContract' -v ./internal/ironic/
