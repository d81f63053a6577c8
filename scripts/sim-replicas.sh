#!/bin/sh
# The replica simulation (issue 14, bench/replicasim): N ingot processes (the real binary)
# on one fresh PostgreSQL database, all tracking one fake Ironic of NODES nodes, started at
# once. Reports the time until every node is owned and has its provider, then over a steady
# window each replica's tracker pass time, CPU and memory and the database's load
# (commits and rows per second from pg_stat_database), and one ownership scan's cost.
#
#   scripts/sim-replicas.sh                      # N=5 NODES=100000, a few minutes
#   N=3 NODES=20000 STEADY=30s scripts/sim-replicas.sh
#
# Environment: N (5), NODES (100000), STEADY (the window, 60s), SYNC_INTERVAL (the
# replicas' --sync-interval, 10s), PORT_BASE (20220: the fake Ironic; replica i listens on
# PORT_BASE+1+i), INGOT_TEST_POSTGRES (a server whose user may create databases; default:
# scripts/postgres.sh starts or reuses the local one), OUT (default
# bench/results/<stamp>-replicas-sim-<cores>cores).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${N:-5}
NODES=${NODES:-100000}
STEADY=${STEADY:-60s}
SYNC_INTERVAL=${SYNC_INTERVAL:-10s}
PORT_BASE=${PORT_BASE:-20220}
OUT=${OUT:-bench/results/$(date -u +%Y%m%d-%H%M%S)-replicas-sim-$(nproc)cores}
if [ -z "${INGOT_TEST_POSTGRES:-}" ]; then
	eval "$(scripts/postgres.sh)"
fi
mkdir -p "$OUT" bin
go build -o bin/ingot ./cmd/ingot
go run ./bench/replicasim -n "$NODES" -replicas "$N" -ingot bin/ingot -postgres "$INGOT_TEST_POSTGRES" \
	-steady "$STEADY" -sync-interval "$SYNC_INTERVAL" -port-base "$PORT_BASE" -out "$OUT"
echo "report in $OUT" >&2
