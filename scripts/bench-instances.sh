#!/bin/sh
# Instances on bare metal, measured against a real Ironic (bench/instancebench): for 1, 24
# and 100 concurrent requests, each on as many free fake-hardware nodes,
#   1. Ironic's own allocation API: POST /v1/allocations {resource_class} until `active`;
#   2. ingot (built from this tree, on a fresh SQLite database, its instance controller
#      driving the same Ironic): POST /v1/instances until the node is locked (instance_uuid
#      set in Ironic) and until `active`;
# and reports the ratios; then
#   3. the scale run: FAKE_NODES concurrent creates on as many nodes of the fake Ironic
#      (in the benchmark's process), which charges the real Ironic's measured time per
#      request kind and deploys in 2 s: time to all active, double bookings, Ironic
#      requests per instance by purpose and watch requests per second.
# Installs Debian's Ironic when missing, starts it fresh with DEPLOY_DELAY, stops it at
# the end. Needs Go (the benchmark and ingot are built from this tree).
#
#   scripts/bench-instances.sh                     # about 4.5 minutes on 2 cores
#   CONCURRENCY=24 ROUNDS=3 FAKE_NODES=0 scripts/bench-instances.sh
#
# Environment: CONCURRENCY (1,24,100), ROUNDS (1), DEPLOY_DELAY (fake-hardware's deploy_delay
# in seconds, 1), IRONIC_DIR (/tmp/ingot-ironic-instbench), PORT (Ironic's, 16390),
# OUT (bench/results/<UTC date>-<host>-<cores>cores), SKIP_INGOT=1 (the allocation API only),
# FAKE_NODES (1000; 0 skips the scale run).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONCURRENCY=${CONCURRENCY:-1,24,100}
ROUNDS=${ROUNDS:-1}
export DEPLOY_DELAY=${DEPLOY_DELAY:-1}
export IRONIC_DIR=${IRONIC_DIR:-/tmp/ingot-ironic-instbench} PORT=${PORT:-16390} CONDUCTOR_GROUP=ingot
export SYNC_POWER=3600 # no power sync while measuring
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-$(hostname)-$(nproc)cores}
mkdir -p "$OUT"

scripts/ironic/install.sh >&2
scripts/ironic/stop.sh >/dev/null
TMP=$(mktemp -d /tmp/ingot-instbench.XXXXXX)
trap 'scripts/ironic/stop.sh >/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
URL=$(FRESH=1 scripts/ironic/start.sh)
echo "Ironic at $URL, deploy_delay $DEPLOY_DELAY s; results in $OUT" >&2

set -- -ironic-url "$URL" -group "$CONDUCTOR_GROUP" -c "$CONCURRENCY" -rounds "$ROUNDS" \
	-deploy-delay "$DEPLOY_DELAY" -json "$OUT/instances.json"
if [ "${SKIP_INGOT:-0}" != 1 ]; then
	go build -o "$TMP/ingot" ./cmd/ingot
	set -- "$@" -ingot-bin "$TMP/ingot" -ingot-log "$OUT/ingot.log" -fake "${FAKE_NODES:-1000}"
fi
go run ./bench/instancebench "$@" 2>"$OUT/instances.log" | tee "$OUT/report.md"
gzip -f "$OUT"/ingot.log* 2>/dev/null || true
echo "reports in $OUT" >&2
