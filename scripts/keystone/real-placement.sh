#!/bin/sh
# Start the real Placement (Debian's 8.0.0, scripts/placement/) behind the real
# keystonemiddleware of the Keystone env.sh started, with master's policy defaults as a
# policy file, and print the variable that makes internal/cloud's TestRoleMatrixRealPlacement
# send it the role matrix:
#   eval "$(scripts/keystone/env.sh)"
#   eval "$(scripts/keystone/real-placement.sh)"
#   go test -run TestRoleMatrixRealPlacement ./internal/cloud/
#   WORK=/tmp/ingot-placement-keystone scripts/placement/stop.sh
# The policy file (placement-policy.sh) gives every placement:* rule master's check string
# (internal/policy's defaults). Placement 8.0.0 registers its rules for the system scope, so
# scope enforcement stays off and the test leaves the system-scoped personas out.
# Env: INGOT_TEST_KEYSTONE_URL, INGOT_TEST_KEYSTONE_PASSWORD (from env.sh), WORK
# (/tmp/ingot-placement-keystone), PORT (18879). Everything but the export line goes to stderr.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${INGOT_TEST_KEYSTONE_URL:?eval \"\$(scripts/keystone/env.sh)\" first}"
: "${INGOT_TEST_KEYSTONE_PASSWORD:?eval \"\$(scripts/keystone/env.sh)\" first}"
export WORK=${WORK:-/tmp/ingot-placement-keystone}
export PORT=${PORT:-18879}
mkdir -p "$WORK"
"$ROOT/scripts/keystone/placement-policy.sh" "$WORK/policy.yaml"
"$ROOT/scripts/placement/install.sh" >&2
AUTH=keystone KEYSTONE_URL=$INGOT_TEST_KEYSTONE_URL KEYSTONE_PASSWORD=$INGOT_TEST_KEYSTONE_PASSWORD \
	POLICY_FILE="$WORK/policy.yaml" FRESH=1 "$ROOT/scripts/placement/start.sh" >&2
echo "export INGOT_TEST_REAL_PLACEMENT_URL=http://127.0.0.1:$PORT"
