#!/bin/sh
# Measure what Keystone authentication costs ingot and the real Placement, in one run on this
# machine (issue 12): the same placementbench requests against four servers, all running at
# once, each on its own copy of the same data set (flat, N providers):
#   a  ingot-noauth2       bin/ingot serve --auth noauth2, SQLite (token "admin")
#   b  ingot-keystone      bin/ingot serve --auth keystone, SQLite
#   c  placement-noauth2   the real Placement 8.0.0 (scripts/placement/: gunicorn 2 workers x
#                          4 threads, its own MariaDB), noauth2 (token "admin")
#   d  placement-keystone  the same behind the real keystonemiddleware 10.1.0
# b and d get one real Keystone token (user nova, role service on project service, as Nova
# calls Placement), reused, so each middleware validates it once and then serves it from its
# cache. The Keystone is a fresh real one (scripts/keystone/); ingot and keystonemiddleware
# both validate as user ingot (admin + service on project service), and Placement runs with
# master's policy defaults (scripts/keystone/placement-policy.sh) under both auths, as
# ingot does.
#
# After the data sets are made and every server is warm (each worker has validated the
# token), ROUNDS rounds each run, for the pair a/b and then for the pair c/d:
#   paired    one client alternating request by request between the two servers, the sides
#             taking turns at going first: each candidate query at limit 10 and allocation
#             writes (PUT a new consumer, DELETE it: the data sets stay as they were),
#             SAMPLES pairs each: each side's median latency per request kind, and the
#             median of the per-pair differences (also over all kinds pooled)
#   pairedtp  the usual concurrency in time slices (SLICE) alternating between the two
#             servers: 10 clients per candidate query (limit 10) for TP_DURATION per side,
#             8 clients writing for WRITES_DURATION per side: each side's rate
# then the in-process benchmarks: ingot's middleware (internal/keystone:
# BenchmarkMiddlewareCached, BenchmarkPlacementAuth, BENCHTIME each) and keystonemiddleware
# (scripts/keystone/bench-middleware.py, KM_CALLS calls), each alone in front of a handler
# that does nothing, with the same cached token. Load that comes and goes on a shared machine
# hits both sides of a pair alike. bench/authreport takes per round
# b/a and d/c throughput and b-a and d-c latency, and reports the medians over the rounds
# against the targets: Keystone costs ingot under 5% of its throughput, and its overhead per
# cached request is under 1/20 of keystonemiddleware's.
#
# Env (defaults in brackets):
#   ROUNDS [3]  N [200]  SAMPLES [100]  TP_DURATION [3s]  WRITES_DURATION [3s]  SLICE [500ms]
#   BENCHTIME [2s]  KM_CALLS [20000]
#   OUT         result dir [bench/results/<UTC stamp>-keystone-<cores>cores]
#   PORT_A [18883]  PORT_B [18884]  PORT_C [18885]  PORT_D [18886]  KEYSTONE_PORT [18887]
#   SMOKE=1     every piece once, in about a minute (1 round, N=20, tiny durations), results
#               in a temporary directory: checks the script, not the figures
# Installs what it needs (Debian packages of Keystone, Placement and MariaDB) as root. Takes
# about 9-10 minutes on 2 cores; not part of CI.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ "${SMOKE:-0}" = 1 ]; then
	ROUNDS=${ROUNDS:-1} N=${N:-20} SAMPLES=${SAMPLES:-5} TP_DURATION=${TP_DURATION:-200ms}
	WRITES_DURATION=${WRITES_DURATION:-200ms} SLICE=${SLICE:-100ms} BENCHTIME=${BENCHTIME:-100x} KM_CALLS=${KM_CALLS:-200}
	OUT=${OUT:-$(mktemp -d /tmp/ingot-bench-keystone-smoke.XXXXXX)}
fi
ROUNDS=${ROUNDS:-3}
N=${N:-200}
SAMPLES=${SAMPLES:-100}
TP_DURATION=${TP_DURATION:-3s}
WRITES_DURATION=${WRITES_DURATION:-3s}
SLICE=${SLICE:-500ms}
BENCHTIME=${BENCHTIME:-2s}
KM_CALLS=${KM_CALLS:-20000}
PORT_A=${PORT_A:-18883}
PORT_B=${PORT_B:-18884}
PORT_C=${PORT_C:-18885}
PORT_D=${PORT_D:-18886}
KEYSTONE_PORT=${KEYSTONE_PORT:-18887}
OUT=${OUT:-$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-keystone-$(nproc)cores}
PASSWORD=ingot-pass # every Keystone user's (scripts/keystone/bootstrap.sh)
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/ingot-bench-keystone.XXXXXX)
KS_DIR="$TMP/keystone"
RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
PID_A=""
PID_B=""

log() { echo "bench-keystone: $*" >&2; }

cleanup() {
	trap '' INT TERM # a second signal must not cut the cleanup short
	stop_pid "$PID_A"
	stop_pid "$PID_B"
	for w in c d; do WORK="$TMP/placement-$w" "$ROOT/scripts/placement/stop.sh" >/dev/null 2>&1 || true; done
	KEYSTONE_DIR="$KS_DIR" "$ROOT/scripts/keystone/stop.sh" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail MESSAGE LOG...: say what failed, show the logs' ends, stop
fail() {
	msg=$1
	shift
	log "$msg"
	for f in "$@"; do [ -f "$f" ] && tail -n 20 "$f" >&2; done
	exit 1
}

setup() {
	"$ROOT/scripts/keystone/install.sh" >&2
	"$ROOT/scripts/placement/install.sh" >&2
	go build -o "$TMP/placementbench" ./bench/placementbench
	go build -o "$TMP/authreport" ./bench/authreport
	go build -o "$TMP/ingot" ./cmd/ingot
	go test -c -o "$TMP/keystone.test" ./internal/keystone/
	"$ROOT/scripts/keystone/placement-policy.sh" "$TMP/policy.yaml"
	printf '%s\n' "$PASSWORD" >"$TMP/ks-password"
	# Tokens last 2 hours: the one token outlives the run.
	KS_URL=$(KEYSTONE_DIR="$KS_DIR" PORT="$KEYSTONE_PORT" PASSWORD="$PASSWORD" EXPIRATION=7200 FRESH=1 \
		PLACEMENT_URL="http://127.0.0.1:$PORT_D" "$ROOT/scripts/keystone/start.sh")
	TOKEN=$(token nova service)
	[ -n "$TOKEN" ] || fail "no token from Keystone at $KS_URL" "$KS_DIR/keystone.log"
	log "Keystone at $KS_URL; token of nova (${#TOKEN} characters)"
}

# token USER PROJECT: a project-scoped token of USER, from Keystone
token() {
	curl -sS --max-time 30 -D - -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"$1\",
		     \"domain\": {\"id\": \"default\"}, \"password\": \"$PASSWORD\"}}},
		     \"scope\": {\"project\": {\"name\": \"$2\", \"domain\": {\"id\": \"default\"}}}}}" \
		"$KS_URL/auth/tokens" | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *//p' | tr -d '\r'
}

# start_ingot AUTH PORT: ingot on its own database; sets PID_A (noauth2) or PID_B (keystone)
start_ingot() {
	if curl -s -o /dev/null "http://127.0.0.1:$2/" 2>/dev/null; then
		fail "port $2 is in use (set PORT_A or PORT_B)"
	fi
	auth=$1 db="$TMP/ingot-$1.db" serverlog="$TMP/ingot-$1.log" port=$2
	if [ "$1" = keystone ]; then
		set -- --auth keystone --keystone-url "$KS_URL" --keystone-username ingot \
			--keystone-password-file "$TMP/ks-password" --keystone-project service
	else
		set -- --auth noauth2
	fi
	"$TMP/ingot" serve --listen "127.0.0.1:$port" --database "sqlite:$db" "$@" >"$serverlog" 2>&1 &
	PID=$!
	if [ "$auth" = keystone ]; then PID_B=$PID; else PID_A=$PID; fi
	i=0
	until curl -fs -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$PID" 2>/dev/null; then
			fail "ingot did not come up" "$serverlog"
		fi
		sleep 0.2
	done
}

# stop_pid PID: stop a server this script started
stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# start_placement AUTH PORT WORK: the real Placement on a fresh database of its own
start_placement() {
	WORK="$3" PORT="$2" WORKERS=2 THREADS=4 AUTH="$1" FRESH=1 \
		POLICY_FILE="$TMP/policy.yaml" KEYSTONE_URL="$KS_URL" KEYSTONE_PASSWORD="$PASSWORD" \
		"$ROOT/scripts/placement/start.sh" >&2 || fail "the real Placement did not start" "$3/placement.log" "$3/gunicorn.log"
}

# use SERVER: set URL and BEARER (the token it gets)
use() {
	case $1 in
	ingot-noauth2) URL=http://127.0.0.1:$PORT_A BEARER=admin ;;
	ingot-keystone) URL=http://127.0.0.1:$PORT_B BEARER=$TOKEN ;;
	placement-noauth2) URL=http://127.0.0.1:$PORT_C BEARER=admin ;;
	placement-keystone) URL=http://127.0.0.1:$PORT_D BEARER=$TOKEN ;;
	esac
}

# warm: 40 candidate queries on 8 connections at once, so that every worker of the server has
# validated the token before anything is measured; each must answer 200
warm() {
	codes=$(seq 1 40 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 \
		-H "X-Auth-Token: $BEARER" -H 'OpenStack-API-Version: placement 1.39' \
		"$URL/allocation_candidates?resources=CUSTOM_BAREMETAL_GOLD:1&limit=10" | sort | uniq -c | tr -s ' ')
	case $codes in
	" 40 200") ;;
	*) fail "warming $URL: statuses $codes (want 40 x 200)" ;;
	esac
}

# bench NAME ARGS...: placementbench on the data set, result to OUT/NAME.json
bench() {
	name=$1
	shift
	"$TMP/placementbench" -url "$URL" -token "$BEARER" -dataset flat -n "$N" -run-id "$RUN_ID" "$@" \
		>"$OUT/$name.json" 2>"$OUT/$name.log" || fail "placementbench $name failed" "$OUT/$name.log"
}

# start_all: the four servers, each with the data set, warm
start_all() {
	start_ingot noauth2 "$PORT_A"
	start_ingot keystone "$PORT_B"
	start_placement noauth2 "$PORT_C" "$TMP/placement-c"
	start_placement keystone "$PORT_D" "$TMP/placement-d"
	log "data set: flat $N on each server (run id $RUN_ID)"
	for s in $SERVERS; do
		use "$s"
		bench "create-$s" -server "$s" -phases create
	done
	for s in $SERVERS; do
		use "$s"
		warm
	done
}

# pair NAME SERVER PAIR: the paired and pairedtp phases on the two servers, results to
# OUT/NAME.paired.json and OUT/NAME.pairedtp.json
pair() {
	use "$3"
	pair_url=$URL pair_token=$BEARER
	use "$2"
	bench "$1.paired" -server "$2" -pair-url "$pair_url" -pair-token "$pair_token" -phases paired -limits 10 \
		-samples "$SAMPLES" -query-budget 120s -timeout 60s
	bench "$1.pairedtp" -server "$2" -pair-url "$pair_url" -pair-token "$pair_token" -phases pairedtp \
		-c 8 -tp-clients 10 -tp-limit 10 -tp-duration "$TP_DURATION" -writes-duration "$WRITES_DURATION" -slice "$SLICE" \
		-timeout 60s
}

describe() {
	{
		echo "# Keystone authentication benchmark ($(date -u +%Y-%m-%d), $(nproc) cores)"
		echo
		echo "Command (from the repository root):"
		echo
		echo '```sh'
		echo "ROUNDS=$ROUNDS N=$N SAMPLES=$SAMPLES TP_DURATION=$TP_DURATION WRITES_DURATION=$WRITES_DURATION SLICE=$SLICE BENCHTIME=$BENCHTIME KM_CALLS=$KM_CALLS scripts/bench-keystone.sh"
		echo '```'
		echo
		echo "- ingot: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)'), $(go version | cut -d' ' -f3)"
		echo "- Keystone $(/usr/bin/python3 -c 'import pbr.version; print(pbr.version.VersionInfo("keystone").version_string())'), keystonemiddleware $(/usr/bin/python3 -c 'import pbr.version; print(pbr.version.VersionInfo("keystonemiddleware").version_string())'), Placement $(/usr/bin/python3 -c 'import pbr.version; print(pbr.version.VersionInfo("openstack-placement").version_string())' 2>/dev/null || echo '?') (gunicorn 2 workers x 4 threads, MariaDB)"
		echo "- data set: flat, $N providers; token: user nova, role service on project service, $(printf %s "$TOKEN" | wc -c) characters"
		echo "- load average (1, 5, 15 min): $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
		echo
		echo "Files: \`ingot.r<k>.paired.json\` and \`placement.r<k>.paired.json\` (one client alternating between the"
		echo "noauth2 and the keystone server), \`ingot.r<k>.pairedtp.json\` and \`placement.r<k>.pairedtp.json\` (concurrent"
		echo "clients in alternating time slices), their \`.log\`, \`create-<server>.*\` (the data sets),"
		echo "\`gobench.r<k>.txt\` (go test -bench of internal/keystone), \`kmbench.r<k>.txt\` (scripts/keystone/bench-middleware.py),"
		echo "\`report.md\` / \`report.json\` (bench/authreport)."
		echo
	} >"$OUT/README.md"
}

main() {
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	setup
	start_all
	for r in $(seq 1 "$ROUNDS"); do
		started=$(date +%s)
		pair "ingot.r$r" ingot-noauth2 ingot-keystone
		pair "placement.r$r" placement-noauth2 placement-keystone
		"$TMP/keystone.test" -test.run '^$' -test.bench 'MiddlewareCached|PlacementAuth' \
			-test.benchtime "$BENCHTIME" -test.benchmem >"$OUT/gobench.r$r.txt" 2>&1 ||
			fail "go benchmarks failed" "$OUT/gobench.r$r.txt"
		/usr/bin/python3 "$ROOT/scripts/keystone/bench-middleware.py" "$KS_URL" "$PASSWORD" "$TOKEN" "$KM_CALLS" \
			>"$OUT/kmbench.r$r.txt" 2>"$TMP/kmbench.log" || fail "keystonemiddleware benchmark failed" "$TMP/kmbench.log"
		log "round $r done in $(($(date +%s) - started))s"
	done
	describe
	"$TMP/authreport" -dir "$OUT" -md "$OUT/report.md" -json "$OUT/report.json" \
		-title "Keystone authentication: ingot vs keystonemiddleware ($(date -u +%Y-%m-%d), $(nproc) cores)"
	sed -n '/^## Summary/,$p' "$OUT/report.md" >>"$OUT/README.md"
	sed -n '/^## Summary/,/^## Throughput/p' "$OUT/report.md" | sed '$d' >&2
	if grep -q '^## Problems' "$OUT/report.md"; then
		log "some requests failed: see Problems in $OUT/report.md"
		exit 1
	fi
	log "results in $OUT"
}

SERVERS="ingot-noauth2 ingot-keystone placement-noauth2 placement-keystone"
main
