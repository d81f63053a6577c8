#!/bin/sh
# Allocation writes through N ingot replicas on one PostgreSQL database (issue 14 item 5), in
# one run: for every variant of ingot and every N in NS, N `ingot serve` processes (each on its
# own port) share one database and bench/placementbench's claim and put phases send them
# CLIENTS concurrent clients in turn (round robin over the N servers, as a load balancer would).
#
# Variants (VARIANTS, run side by side for each N, so that they see similar background load):
#   current   bin/ingot built from this tree
#   norecord  the same tree built with -tags ingot_norecord: writes record no changes (no
#             change_version row, no changes rows) and views are rebuilt from scratch on every
#             read. It runs the put phase only: its claim GETs would cost far more.
#   base      the tree at git revision BASE_REV (e.g. the commit before a write-path change),
#             only when BASE_REV is set: before/after figures from one run
#
# Each variant gets its own scratch database (DBNAME_<variant>, dropped and created on the
# server of PG_DSN; the user needs CREATEDB), filled once with the flat data set of PROVIDERS
# one-unit providers by one server with CLIENTS clients (the create phase: 4 writes per
# provider; reported too). Each N then runs claim (CLAIMS consumers: candidates GET + PUT
# /allocations) and put (PUTS allocations to distinct free providers), and all that ROUNDS
# times (round 2 of every N after round 1 of every N). Each run uses up CLAIMS + PUTS
# providers: keep ROUNDS x (number of NS) x (CLAIMS + PUTS) below PROVIDERS.
#
# Env (defaults in brackets):
#   NS [1 3 5]   ROUNDS [2]   CLIENTS [16]   PROVIDERS [8000]   CLAIMS [100]   PUTS [1200]
#   VARIANTS ["current norecord", plus base with BASE_REV]   BASE_REV []
#   PG_DSN [postgres://ingot:ingot@127.0.0.1:5432/postgres]: the server's maintenance database
#   DBNAME [ingot_replica_writes]   BASE_PORT [19800]: servers listen on BASE_PORT..+N-1
#   OUT [bench/results/<UTC stamp>-replica-writes-<cores>cores]
#
# Output in OUT: <variant>-n<N>.r<round>.json (placementbench) with .log and the servers' logs,
# <variant>-create.json, and report.md: per round, variant and N claims/s, allocations/s and
# PUT p50/p99, and each variant's ratio to the first variant in the same round at the same N
# (same run, same machine).
#
# About 7 minutes on the 2-core machine with the defaults and three variants (BASE_REV set).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

NS=${NS:-1 3 5}
CLIENTS=${CLIENTS:-16}
ROUNDS=${ROUNDS:-2}
PROVIDERS=${PROVIDERS:-8000}
CLAIMS=${CLAIMS:-100}
PUTS=${PUTS:-1200}
BASE_REV=${BASE_REV:-}
DEFAULT_VARIANTS="current norecord"
[ -n "$BASE_REV" ] && DEFAULT_VARIANTS="base current norecord"
VARIANTS=${VARIANTS:-$DEFAULT_VARIANTS}
PG_DSN=${PG_DSN:-postgres://ingot:ingot@127.0.0.1:5432/postgres}
DBNAME=${DBNAME:-ingot_replica_writes}
BASE_PORT=${BASE_PORT:-19800}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-replica-writes-$(nproc)cores}

log() { echo "bench-replicas-writes: $*" >&2; }

# install what the script needs and is missing (Debian): psql, curl, jq
need=""
command -v psql >/dev/null || need="$need postgresql-client"
command -v curl >/dev/null || need="$need curl"
command -v jq >/dev/null || need="$need jq"
if [ -n "$need" ]; then
  log "installing$need"
  apt-get -o DPkg::Lock::Timeout=900 update -q >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q $need >&2
fi
command -v go >/dev/null || { log "needs Go (see README.md)"; exit 1; }

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/ingot-replica-writes.XXXXXX)
PIDS=""

stop_servers() {
  for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $PIDS; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=""
}
cleanup() {
  stop_servers
  for v in $VARIANTS; do drop_db "$v" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# dsn_for VARIANT: the URL of the variant's scratch database
dsn_for() { echo "$PG_DSN" | sed "s#/[^/?]*\([?]\|\$\)#/${DBNAME}_$1\1#"; }
psql_admin() { PGOPTIONS=--client-min-messages=warning psql -q -v ON_ERROR_STOP=1 "$PG_DSN" "$@" >/dev/null; }
drop_db() { psql_admin -c "DROP DATABASE IF EXISTS ${DBNAME}_$1 WITH (FORCE)"; }

build() {
  go build -o "$TMP/placementbench" ./bench/placementbench
  for v in $VARIANTS; do
    case "$v" in
    current) go build -o "$TMP/ingot-current" ./cmd/ingot ;;
    norecord) go build -tags ingot_norecord -o "$TMP/ingot-norecord" ./cmd/ingot ;;
    base)
      [ -n "$BASE_REV" ] || { log "variant base needs BASE_REV"; exit 2; }
      mkdir -p "$TMP/base-src"
      git archive "$BASE_REV" | tar -x -C "$TMP/base-src"
      (cd "$TMP/base-src" && go build -o "$TMP/ingot-base" ./cmd/ingot) ;;
    *) log "unknown variant $v"; exit 2 ;;
    esac
  done
}

wait_http() { # wait_http PORT PID
  w=0
  until curl -fs -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; do
    w=$((w + 1))
    if [ "$w" -gt 600 ] || ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
}

# start_servers VARIANT N: N servers of VARIANT on its database; sets URLS
start_servers() {
  URLS=""
  for i in $(seq 0 $(($2 - 1))); do
    port=$((BASE_PORT + i))
    if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
      log "port $port is in use (set BASE_PORT)"; return 1
    fi
    "$TMP/ingot-$1" serve --listen "127.0.0.1:$port" --database "$(dsn_for "$1")" --auth noauth2 \
      >"$OUT/$1-n$2.server$i.log" 2>&1 &
    PIDS="$PIDS $!"
    URLS="$URLS${URLS:+,}http://127.0.0.1:$port"
  done
  i=0
  for p in $PIDS; do
    wait_http $((BASE_PORT + i)) "$p" || { log "server $i of $1 did not come up"; tail -5 "$OUT/$1-n$2.server$i.log" >&2; return 1; }
    i=$((i + 1))
  done
}

RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')

prepare() { # prepare VARIANT: a fresh database with the data set
  drop_db "$1"
  psql_admin -c "CREATE DATABASE ${DBNAME}_$1"
  start_servers "$1" 1
  log "$1: creating $PROVIDERS providers"
  "$TMP/placementbench" -url "$URLS" -server "$1" -dataset flat -n "$PROVIDERS" -c "$CLIENTS" \
    -run-id "$RUN_ID" -phases create >"$OUT/$1-create.json" 2>"$OUT/$1-create.log"
  stop_servers
}

measure() { # measure VARIANT N ROUND
  name="$1-n$2.r$3"
  phases=claim,put
  [ "$1" = norecord ] && phases=put
  start_servers "$1" "$2"
  log "$name: $phases, claims $CLAIMS, puts $PUTS, $CLIENTS clients"
  status=0
  "$TMP/placementbench" -url "$URLS" -server "$name" -dataset flat -n "$PROVIDERS" -c "$CLIENTS" \
    -run-id "$RUN_ID" -seed "$2$3" -phases "$phases" -claims "$CLAIMS" -puts "$PUTS" \
    >"$OUT/$name.json" 2>"$OUT/$name.log" || status=$?
  stop_servers
  [ "$status" = 0 ] || { log "$name failed"; tail -5 "$OUT/$name.log" >&2; }
  grep -E 'claims/s|allocations/s' "$OUT/$name.log" >&2 || true
}

report() {
  first=${VARIANTS%% *}
  {
    echo "# Allocation writes through N ingot replicas on one PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) cores)"
    echo
    echo "\`scripts/bench-replicas-writes.sh\`: NS=\"$NS\" ROUNDS=$ROUNDS VARIANTS=\"$VARIANTS\" BASE_REV=$BASE_REV CLIENTS=$CLIENTS PROVIDERS=$PROVIDERS CLAIMS=$CLAIMS PUTS=$PUTS."
    echo
    echo "Creating the data set (one server, $CLIENTS clients, 4 writes per provider):"
    echo
    echo "| variant | providers/s | requests/s | request p50 ms | request p99 ms | ratio (providers/s) |"
    echo "|---|---|---|---|---|---|"
    for v in $VARIANTS; do
      jq -r --slurpfile b "$OUT/$first-create.json" --arg v "$v" '
        def f(x): x * 100 | round / 100;
        "| \($v) | \(f(.create.providers_per_s)) | \(f(.create.requests_per_s)) | \(f(.create.latency.p50_ms)) | \(f(.create.latency.p99_ms)) | \(f(.create.providers_per_s / $b[0].create.providers_per_s)) |"' \
        "$OUT/$v-create.json" 2>/dev/null || echo "| $v | - | - | - | - | - |"
    done
    echo
    echo "Claim and put phases; ratios are to variant \`$first\` in the same round at the same N; the load average at the start of the put phase in the last column."
    echo
    echo "| round | N | variant | claims/s | claim PUT p50 ms | claim PUT p99 ms | put allocs/s | put p50 ms | put p99 ms | claims/s ratio | put allocs/s ratio | put p99 ratio | load |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for r in $(seq 1 "$ROUNDS"); do
      for n in $NS; do
        for v in $VARIANTS; do
          f="$OUT/$v-n$n.r$r.json"
          b="$OUT/$first-n$n.r$r.json"
          [ -s "$f" ] && [ -s "$b" ] || continue
          jq -r --slurpfile b "$b" --arg v "$v" --arg n "$n" --arg r "$r" '
            def f(x): if x == null or x == 0 then "-" else (x * 100 | round / 100) end;
            def ratio(a; c): if a == null or c == null or c == 0 then "-" else (a / c * 100 | round / 100) end;
            "| \($r) | \($n) | \($v) | \(f(.claim.claims_per_s)) | \(f(.claim.put_latency.p50_ms)) | \(f(.claim.put_latency.p99_ms)) | \(f(.put.allocations_per_s)) | \(f(.put.latency.p50_ms)) | \(f(.put.latency.p99_ms)) | \(ratio(.claim.claims_per_s; $b[0].claim.claims_per_s)) | \(ratio(.put.allocations_per_s; $b[0].put.allocations_per_s)) | \(ratio(.put.latency.p99_ms; $b[0].put.latency.p99_ms)) | \(.phase_load.put // "-") |"' "$f"
        done
      done
    done
  } >"$OUT/report.md"
  cat "$OUT/report.md"
  log "results in $OUT"
}

build
log "variants: $VARIANTS; N: $NS; rounds: $ROUNDS; out: $OUT"
for v in $VARIANTS; do prepare "$v"; done
for r in $(seq 1 "$ROUNDS"); do
  for n in $NS; do
    for v in $VARIANTS; do measure "$v" "$n" "$r"; done
  done
done
report
