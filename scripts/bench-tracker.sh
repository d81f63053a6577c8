#!/bin/sh
# The Ironic resource tracker's benchmark (bench/trackerbench): ingot's real binary on a new
# SQLite database tracking
#   1. a fake Ironic with NODES nodes that charges 0.27 ms per listed node (the real Ironic
#      21.4's cost with 14 fields, shared/peers/ironic) and 1 ms (its cost for the tracker's
#      fields, traits included, measured with scripts/ironic/enroll -measure);
#   2. a real Ironic (Debian's, scripts/ironic/) with REAL_NODES fake-hardware nodes, enrolled
#      first (about 2-30 nodes/s here: minutes per thousand).
# Each run reports the listing alone, the first pass, steady passes, the writes of an
# unchanged pass, claim latency during the first pass and ingot's resident memory.
#
#   scripts/bench-tracker.sh                    # NODES=10000 REAL_NODES=1000
#   REAL_NODES=0 scripts/bench-tracker.sh       # the fake only (about 2 minutes)
#
# Environment: NODES (10000), REAL_NODES (1000; 0 skips the real Ironic), OUT (directory for
# the reports, default bench/results/<date>-tracker-<cores>cores), IRONIC_DIR
# (/tmp/ingot-ironic-bench; kept, so a second run reuses the enrolled nodes), PORT (16389).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
NODES=${NODES:-10000}
REAL_NODES=${REAL_NODES:-1000}
OUT=${OUT:-bench/results/$(date +%Y%m%d)-tracker-$(nproc)cores}
export IRONIC_DIR=${IRONIC_DIR:-/tmp/ingot-ironic-bench} PORT=${PORT:-16389} CONDUCTOR_GROUP=ingot
export SYNC_POWER=3600 # no power sync across thousands of nodes while measuring
mkdir -p "$OUT"

for cost in 270us 1ms; do
	echo "== fake Ironic, $NODES nodes, $cost per listed node" >&2
	go run ./bench/trackerbench -n "$NODES" -cost "$cost" -json "$OUT/fake-$NODES-$cost.json" >"$OUT/fake-$NODES-$cost.md"
	cat "$OUT/fake-$NODES-$cost.md"
done

if [ "$REAL_NODES" -gt 0 ]; then
	echo "== real Ironic, $REAL_NODES nodes" >&2
	scripts/ironic/install.sh >&2
	trap 'scripts/ironic/stop.sh >/dev/null' EXIT
	URL=$(scripts/ironic/start.sh)
	scripts/ironic/enroll -url "$URL" -n "$REAL_NODES" -workers 16 -prefix bench >&2
	go run ./bench/trackerbench -ironic-url "$URL" -group "$CONDUCTOR_GROUP" -churn 0 \
		-json "$OUT/real-$REAL_NODES.json" >"$OUT/real-$REAL_NODES.md"
	cat "$OUT/real-$REAL_NODES.md"
fi
echo "reports in $OUT" >&2
