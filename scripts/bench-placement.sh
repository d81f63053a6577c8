#!/bin/sh
# Benchmark ingot against the real OpenStack Placement on this machine, in one run: the same data
# sets, the same requests (bench/placementbench), and one report (bench/benchreport) with each
# server's figures and ingot's speed-up over Placement.
#
# For every server and every data set size, the server is started on an empty database, the
# phases run, and the server is stopped:
#   placement  the real Placement 8.0.0 (scripts/placement/start.sh: private MariaDB, gunicorn
#              2 workers x 4 threads, noauth2); install it first with scripts/placement/install.sh
#   ingot      bin/ingot serve on a temporary SQLite database (built from ./cmd/ingot)
#   ingot-pg   bin/ingot serve on PostgreSQL, only when INGOT_POSTGRES_DSN is set. That database
#              is WIPED (DROP SCHEMA public CASCADE) before every size: give a scratch database.
#
# Env (defaults in brackets):
#   SERVERS        servers to run, in order ["placement ingot", plus ingot-pg with a DSN]
#   FLAT_SIZES     flat fleet sizes in providers ["1000 5000 10000"]
#   NESTED_SIZES   nested sizes in compute trees, 9 providers each + sharing disks ["1000"]
#   WIDE_SIZES     wide sizes: trees of each exploding shape (bugs 2070257, 2126751) ["2"];
#                  create + candidates only, no warmup, 3 samples, each request cut at
#                  WIDE_TIMEOUT [60s] (reported as timed out, the timeout as a lower bound)
#   GATE_SIZES     gate sizes: upstream's nested-perfload trees (7 providers each) ["1000"];
#                  phases create,check,gate,throughput, both servers randomizing candidates
#                  (ingot --randomize-allocation-candidates, Placement
#                  randomize_allocation_candidates = True). check writes each server's
#                  canonical answer to OUT; the report marks differing digests with ≠
#   PHASES         phases at every size [create,candidates,list,claim,put]
#   PHASES_<dataset>_<n>  phases for one size, e.g. PHASES_flat_10000=create,candidates
#                  [flat 10000: create,candidates; nested: create,candidates,list,claim;
#                  wide: create,candidates; gate: create,check,gate,throughput]
#   ROUNDS         runs of every size on every server [1]. Each round starts each server afresh;
#                  rounds go one after another (round 2 of every size follows round 1 of every
#                  size), and the report shows each metric's median over the rounds with every
#                  round's value. Short phases on a shared machine vary by 10-20% from minute to
#                  minute; medians of 3 rounds are steadier than one run.
#   BUDGET=ci      sizes and samples that fit a 90-minute CI run (see the end of this header)
#   BENCH_ARGS     extra placementbench flags for every run, e.g. "-samples 20"
#   OUT            result dir [bench/results/<UTC date>-<host>-<cores>cores]
#   INGOT_BIN      [bin/ingot, built with go build ./cmd/ingot unless BUILD_INGOT=0]
#   INGOT_POSTGRES_DSN  postgres://... enables ingot-pg
#   PLACEMENT_PORT [18878]   INGOT_PORT [18879]   START_TIMEOUT  seconds to wait for ingot [120]
#   REQUIRE_INGOT=1  fail instead of skipping ingot when it cannot be built or started
#   ORDER          by-size: for each size, every server in turn, so that they run close together in
#                  time and see similar background load on a shared machine [by-size] |
#                  by-server: every size on one server, then the next server
#
# Quick run:  FLAT_SIZES=1000 NESTED_SIZES= PHASES=create,put scripts/bench-placement.sh
# Placement alone (reference numbers):  SERVERS=placement scripts/bench-placement.sh
#
# Time the real Placement took on the 2-core reference machine (bench/results/20261125-*; the
# machine was shared with other work, load average 7-15): flat 1000, all phases ~4 min; flat 5000,
# all phases ~12 min (create 190 s: 26 providers/s); flat 10000, create + candidates ~13 min
# (create 465 s); nested 1000 (9,020 providers), create + candidates + list + claim ~15 min. The
# defaults take about 45 min for Placement plus ingot's share. BUDGET=ci (flat 1000 and 5000,
# nested 300, 20 samples per query, phases capped at 5 min) took 15 min for both servers
# (bench/results/20261125-ci-budget-2cores), well within CI's 90 minutes. Gate 1000 alone
# (issue 10: FLAT_SIZES= NESTED_SIZES= WIDE_SIZES= GATE_SIZES=1000) takes about 3.5 min,
# Placement 170 s of it (bench/results/20261205-150733-vm-2cores). The benchmark is not
# part of CI by default.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if [ "${BUDGET:-}" = ci ]; then
  FLAT_SIZES=${FLAT_SIZES-1000 5000}
  NESTED_SIZES=${NESTED_SIZES-300}
  WIDE_SIZES=${WIDE_SIZES-2}
  BENCH_ARGS="-samples 20 -query-budget 15s -max-phase 5m ${BENCH_ARGS:-}"
fi
FLAT_SIZES=${FLAT_SIZES-1000 5000 10000}
NESTED_SIZES=${NESTED_SIZES-1000}
WIDE_SIZES=${WIDE_SIZES-2}
GATE_SIZES=${GATE_SIZES-1000}
WIDE_ARGS="-warmup 0 -samples 3 -query-timeout ${WIDE_TIMEOUT:-60s}"
PHASES=${PHASES:-create,candidates,list,claim,put}
PHASES_flat_10000=${PHASES_flat_10000:-create,candidates}
BENCH_ARGS=${BENCH_ARGS:-}
# not 18778/18779: the shared peer and conformance scripts use those on the same machine
PLACEMENT_PORT=${PLACEMENT_PORT:-18878}
INGOT_PORT=${INGOT_PORT:-18879}
INGOT_BIN=${INGOT_BIN:-$ROOT/bin/ingot}
DSN=${INGOT_POSTGRES_DSN:-}
DEFAULT_SERVERS="placement ingot"
[ -n "$DSN" ] && DEFAULT_SERVERS="$DEFAULT_SERVERS ingot-pg"
SERVERS=${SERVERS:-$DEFAULT_SERVERS}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-$(hostname)-$(nproc)cores}
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/ingot-bench.XXXXXX)
PLACEMENT_WORK="$TMP/placement"
INGOT_PID=""
URL=""

log() { echo "bench-placement: $*" >&2; }

cleanup() {
  stop_ingot
  WORK="$PLACEMENT_WORK" "$ROOT/scripts/placement/stop.sh" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# phases_for DATASET N: the phases to run for one size
phases_for() {
  eval "p=\${PHASES_$1_$2:-}"
  if [ -n "$p" ]; then echo "$p"
  elif [ "$1" = nested ]; then echo "${PHASES_nested:-create,candidates,list,claim}"
  elif [ "$1" = wide ]; then echo "create,candidates"
  elif [ "$1" = gate ]; then echo "${PHASES_gate:-create,check,gate,throughput}"
  else echo "$PHASES"; fi
}

build_tools() {
  go build -o "$TMP/placementbench" ./bench/placementbench
  go build -o "$TMP/benchreport" ./bench/benchreport
  case " $SERVERS " in *" ingot"*) build_ingot ;; esac
}

# build_ingot: build bin/ingot from ./cmd/ingot, or drop ingot from SERVERS when there is none.
build_ingot() {
  if [ "${BUILD_INGOT:-1}" = 1 ] && [ -d ./cmd/ingot ]; then
    go build -o "$ROOT/bin/ingot" ./cmd/ingot 2>"$TMP/ingot-build.log" || cat "$TMP/ingot-build.log" >&2
  fi
  [ -x "$INGOT_BIN" ] || { skip_ingot "$INGOT_BIN does not exist (ingot not buildable yet?)"; return 0; }
  # a private copy: others may rebuild bin/ingot while the benchmark runs
  cp "$INGOT_BIN" "$TMP/ingot"
  INGOT_BIN="$TMP/ingot"
}

# skip_ingot REASON: run without ingot, unless REQUIRE_INGOT=1
skip_ingot() {
  [ "${REQUIRE_INGOT:-0}" = 1 ] && { log "$1"; exit 1; }
  log "WARNING: $1: running without ingot"
  SERVERS=$(echo "$SERVERS" | tr ' ' '\n' | grep -v '^ingot' | tr '\n' ' ')
}

wait_http() { # wait_http PORT PID: until GET / answers, at most START_TIMEOUT s, while PID lives
  i=0
  until curl -fs -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt $((${START_TIMEOUT:-120} * 5)) ] || ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
}

# start_ingot DATABASE-URL LOG [FLAGS...]
start_ingot() {
  if curl -s -o /dev/null "http://127.0.0.1:$INGOT_PORT/" 2>/dev/null; then
    log "port $INGOT_PORT is in use by another server (set INGOT_PORT)"; return 1
  fi
  db=$1 serverlog=$2
  shift 2
  "$INGOT_BIN" serve --listen "127.0.0.1:$INGOT_PORT" --database "$db" --auth noauth2 "$@" >"$serverlog" 2>&1 &
  INGOT_PID=$!
  wait_http "$INGOT_PORT" "$INGOT_PID" && return 0
  log "ingot did not come up:"; tail -20 "$2" >&2
  stop_ingot
  return 1
}

stop_ingot() {
  [ -n "$INGOT_PID" ] || return 0
  kill -TERM "$INGOT_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$INGOT_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$INGOT_PID" 2>/dev/null || true
  wait "$INGOT_PID" 2>/dev/null || true
  INGOT_PID=""
}

reset_postgres() {
  command -v psql >/dev/null || { log "ingot-pg needs psql (apt-get install postgresql-client)"; exit 1; }
  PGOPTIONS=--client-min-messages=warning \
    psql -q "$DSN" -c 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;' >/dev/null
}

# start_server SERVER DATASET N: start SERVER on an empty database; set URL (logs go to $OUT/$name, set by bench_one)
start_server() {
  case "$1" in
  placement)
    randomize=0
    [ "$2" = gate ] && randomize=1
    WORK="$PLACEMENT_WORK" PORT="$PLACEMENT_PORT" WORKERS=2 THREADS=4 FRESH=1 RANDOMIZE=$randomize \
      "$ROOT/scripts/placement/start.sh" >&2 || return 1
    URL="http://127.0.0.1:$PLACEMENT_PORT" ;;
  ingot)
    rm -f "$TMP/ingot-$2-$3.db"*
    # shellcheck disable=SC2046
    start_ingot "sqlite:$TMP/ingot-$2-$3.db" "$OUT/$name.server.log" $(ingot_flags "$2") || return 1
    URL="http://127.0.0.1:$INGOT_PORT" ;;
  ingot-pg)
    reset_postgres
    # shellcheck disable=SC2046
    start_ingot "$DSN" "$OUT/$name.server.log" $(ingot_flags "$2") || return 1
    URL="http://127.0.0.1:$INGOT_PORT" ;;
  *) log "unknown server $1"; exit 2 ;;
  esac
}

# ingot_flags DATASET: ingot's extra flags for a data set
ingot_flags() {
  [ "$1" = gate ] && echo "--randomize-allocation-candidates ${INGOT_GATE_FLAGS:-}"
  return 0
}

stop_server() {
  case "$1" in
  # sync: MariaDB's dirty pages are written back now, not during the next server's run
  placement) WORK="$PLACEMENT_WORK" "$ROOT/scripts/placement/stop.sh" >&2; sync ;;
  *) stop_ingot ;;
  esac
}

# bench_one SERVER DATASET N [ROUND]: one size on a fresh server; the result goes to OUT as
# SERVER-DATASET-N.json (round 1) or SERVER-DATASET-N.rROUND.json
bench_one() {
  phases=$(phases_for "$2" "$3")
  name="$1-$2-$3"
  [ "${4:-1}" -gt 1 ] && name="$name.r$4"
  log "$name phases=$phases"
  started=$(date +%s)
  start_server "$1" "$2" "$3" || { log "$1 did not start: skipping $name"; return 1; }
  status=0
  args=$BENCH_ARGS
  [ "$2" = wide ] && args="$args $WIDE_ARGS"
  [ "$2" = gate ] && args="$args -check-dir $OUT"
  # shellcheck disable=SC2086
  "$TMP/placementbench" -url "$URL" -server "$1" -dataset "$2" -n "$3" -phases "$phases" $args \
    >"$OUT/$name.json" 2>"$OUT/$name.log" || status=$?
  stop_server "$1"
  log "$name done in $(($(date +%s) - started))s (exit $status; log $OUT/$name.log)"
  [ "$status" = 0 ] || { tail -5 "$OUT/$name.log" >&2; return 1; }
}

# add_results SERVER DATASET SIZES...: append every round's result file to args
add_results() {
  s=$1 ds=$2
  shift 2
  for n in "$@"; do
    for f in "$OUT/$s-$ds-$n.json" "$OUT/$s-$ds-$n".r*.json; do
      [ -s "$f" ] && args="$args $s=$f"
    done
  done
  return 0
}

report() {
  args=""
  for s in $SERVERS; do
    # shellcheck disable=SC2086
    { add_results "$s" flat $FLAT_SIZES; add_results "$s" nested $NESTED_SIZES; add_results "$s" wide $WIDE_SIZES
      add_results "$s" gate $GATE_SIZES; }
  done
  [ -n "$args" ] || { log "no results"; return 1; }
  # shellcheck disable=SC2086
  "$TMP/benchreport" -md "$OUT/report.md" -json "$OUT/report.json" \
    -title "ingot vs the real Placement ($(date -u +%Y-%m-%d), $(nproc) cores)" $args
  log "results in $OUT"
}

# compare_checks DATASET N: say whether the servers' canonical answers (check phase) are equal;
# a difference is kept as check-DATASET-N.diff. The canonical files are then compressed.
compare_checks() {
  cds=$1 cn=$2
  set -- "$OUT"/*-"$cds-$cn"-*.check.txt
  [ -e "$1" ] || return 0
  for f in "$@"; do
    [ "$f" = "$1" ] && continue
    if cmp -s "$1" "$f"; then
      log "check $cds $cn: $(basename "$f") = $(basename "$1")"
    else
      log "check $cds $cn: $(basename "$f") DIFFERS from $(basename "$1"): see $OUT/check-$cds-$cn.diff"
      diff "$1" "$f" | head -200 >>"$OUT/check-$cds-$cn.diff" || true
    fi
  done
  gzip -f "$@"
}

main() {
  build_tools
  log "servers: $SERVERS; flat: ${FLAT_SIZES:-none}; nested: ${NESTED_SIZES:-none}; wide: ${WIDE_SIZES:-none}; gate: ${GATE_SIZES:-none}; out: $OUT"
  failed=0
  for r in $(seq 1 "${ROUNDS:-1}"); do
    if [ "${ORDER:-by-size}" = by-server ]; then
      for s in $SERVERS; do
        for n in $FLAT_SIZES; do bench_one "$s" flat "$n" "$r" || failed=1; done
        for n in $NESTED_SIZES; do bench_one "$s" nested "$n" "$r" || failed=1; done
        for n in $WIDE_SIZES; do bench_one "$s" wide "$n" "$r" || failed=1; done
        for n in $GATE_SIZES; do bench_one "$s" gate "$n" "$r" || failed=1; done
      done
    else
      for n in $FLAT_SIZES; do for s in $SERVERS; do bench_one "$s" flat "$n" "$r" || failed=1; done; done
      for n in $NESTED_SIZES; do for s in $SERVERS; do bench_one "$s" nested "$n" "$r" || failed=1; done; done
      for n in $WIDE_SIZES; do for s in $SERVERS; do bench_one "$s" wide "$n" "$r" || failed=1; done; done
      for n in $GATE_SIZES; do for s in $SERVERS; do bench_one "$s" gate "$n" "$r" || failed=1; done; done
    fi
    for n in $GATE_SIZES; do compare_checks gate "$n"; done
  done
  report
  return $failed
}

main
