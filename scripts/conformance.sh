#!/bin/sh
# Run the upstream Placement gabbits against bin/ingot with the shared harness
# (../shared/placement/conformance.sh), building the binary first.
#   scripts/conformance.sh [harness options] [FILE.yaml ...]
#
# The shared harness re-creates upstream's fixtures over HTTP but does not export six
# variables that upstream's SecureRBACPolicyFixture sets (RP_UUID1, RP_UUID2, RP_NAME1,
# RP_NAME2, ADMIN_PROJECT_ID, SERVICE_PROJECT_ID); the harness passes our environment
# through to gabbi, so they are exported here, freshly random for each run.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
cd "$ROOT"
go build -o bin/ingot ./cmd/ingot
uuid() { cat /proc/sys/kernel/random/uuid; }
export RP_UUID1="${RP_UUID1:-$(uuid)}" RP_UUID2="${RP_UUID2:-$(uuid)}"
export RP_NAME1="${RP_NAME1:-rp1-$(uuid)}" RP_NAME2="${RP_NAME2:-rp2-$(uuid)}"
export ADMIN_PROJECT_ID="${ADMIN_PROJECT_ID:-$(uuid)}" SERVICE_PROJECT_ID="${SERVICE_PROJECT_ID:-$(uuid)}"
exec "$SHARED/placement/conformance.sh" "$ROOT/bin/ingot" "$@"
