#!/bin/sh
# Install (when missing) and start a fresh real Keystone for ingot's integration tests, and
# print the variables that point the tests at it, like scripts/postgres.sh does:
#   eval "$(scripts/keystone/env.sh)"   # exports INGOT_TEST_KEYSTONE_URL, ..., KEYSTONE_DIR
#   go test -race ./internal/keystonetest/
#   scripts/keystone/stop.sh             # with the exported KEYSTONE_DIR
# Uses KEYSTONE_DIR=/tmp/ingot-keystone-test and port 16500 unless set. Tokens last
# EXPIRATION=30 seconds unless set, so that the tests see tokens expire (and ingot renew its
# own) without waiting an hour. PLACEMENT_URL, IRONIC_URL, ADMIN_PASSWORD and PASSWORD go to
# start.sh and bootstrap.sh; the tests point the placement endpoint at the ingot they start.
# Everything but the export lines goes to stderr.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
export KEYSTONE_DIR=${KEYSTONE_DIR:-/tmp/ingot-keystone-test}
export PORT=${PORT:-16500}
export ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin-pass}
export PASSWORD=${PASSWORD:-ingot-pass}
export EXPIRATION=${EXPIRATION:-30}
"$HERE/install.sh" >&2
"$HERE/stop.sh" >&2
fresh=1
# The openstack CLI (keystoneauth) re-authenticates before every call when its token ends
# within 120 s: bootstrap.sh runs under hour-long tokens, then Keystone restarts with
# EXPIRATION on the same database.
if [ "$EXPIRATION" -lt 300 ]; then
	EXPIRATION=3600 FRESH=1 "$HERE/start.sh" >/dev/null
	"$HERE/stop.sh" >&2
	fresh=0
fi
url=$(FRESH=$fresh "$HERE/start.sh")
echo "export INGOT_TEST_KEYSTONE_URL=$url INGOT_TEST_KEYSTONE_ADMIN_PASSWORD=$ADMIN_PASSWORD INGOT_TEST_KEYSTONE_PASSWORD=$PASSWORD KEYSTONE_DIR=$KEYSTONE_DIR KEYSTONE_PORT=$PORT INGOT_TEST_KEYSTONE_EXPIRATION=$EXPIRATION"
