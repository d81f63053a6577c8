#!/bin/sh
# Quickstart: a real Ironic with fake-hardware nodes on loopback, ingot keeping one
# Placement resource provider per node on an embedded SQLite database, and one instance
# deployed on a node through Ironic and deleted again.
#
#   scripts/quickstart-ironic.sh          # then Ctrl-C stops ingot and Ironic
#
# Installs Debian's ironic-common when missing (needs root and the package mirror),
# starts Ironic (one process, fake-hardware, SQLite) on 127.0.0.1, enrolls NODES nodes
# and makes them available, builds ingot, starts `ingot serve --ironic-url ...`, shows
# the providers as the tracker creates them, then creates an instance with
# `ingot instance create --wait` (scheduled, claimed, locked and deployed on a
# baremetal-gold node), shows it in ingot, Ironic and Placement, and deletes it with
# `ingot instance delete --wait`. Environment:
#   NODES (10), IRONIC_PORT (16388), INGOT_PORT (8778), SYNC_INTERVAL (10s),
#   DEPLOY_DELAY (1: fake-hardware's seconds per deploy step, so deploying shows),
#   WORK (/tmp/ingot-quickstart: Ironic's state, ingot's database and logs),
#   INSTANCE=0 to skip the instance, ONCE=1 to stop everything at the end.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=${WORK:-/tmp/ingot-quickstart}
NODES=${NODES:-10}
INGOT_PORT=${INGOT_PORT:-8778}
SYNC_INTERVAL=${SYNC_INTERVAL:-10s}
export IRONIC_DIR="$WORK/ironic" PORT="${IRONIC_PORT:-16388}" CONDUCTOR_GROUP=ingot AUTH=noauth
export DEPLOY_DELAY="${DEPLOY_DELAY:-1}"
API="http://127.0.0.1:$INGOT_PORT"
PY=/usr/bin/python3 # installed with ironic-common
say() { printf '\n==> %s\n' "$*"; }

mkdir -p "$WORK"
scripts/ironic/stop.sh >/dev/null # a previous quickstart's Ironic, and only that
scripts/ironic/port-free.sh "$PORT" "wanted for Ironic; set IRONIC_PORT to a free port"
scripts/ironic/port-free.sh "$INGOT_PORT" "wanted for ingot; set INGOT_PORT to a free port"
say "installing Ironic (Debian's ironic-common) if missing"
scripts/ironic/install.sh
say "starting Ironic on 127.0.0.1:$PORT (fake-hardware, state in $IRONIC_DIR)"
IRONIC_URL=$(FRESH=1 scripts/ironic/start.sh)
INGOT_PID=""
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$INGOT_PID" ]; then
		kill "$INGOT_PID" 2>/dev/null && wait "$INGOT_PID" 2>/dev/null || true
	fi
	scripts/ironic/stop.sh >/dev/null
	echo "stopped ingot and Ironic"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "enrolling $NODES fake-hardware nodes and making them available"
# Some gold, some silver, each in a rack (CUSTOM_RACK_Rnn), every tenth with an owner.
scripts/ironic/enroll -url "$IRONIC_URL" -n "$NODES" -prefix quickstart -group "$CONDUCTOR_GROUP"

say "building and starting ingot on $API, tracking $IRONIC_URL every $SYNC_INTERVAL"
go build -o "$WORK/ingot" ./cmd/ingot
rm -f "$WORK/ingot.db" "$WORK/ingot.db-wal" "$WORK/ingot.db-shm"
env -u INGOT_IRONIC_USERNAME -u INGOT_IRONIC_PASSWORD "$WORK/ingot" serve --listen "127.0.0.1:$INGOT_PORT" \
	--database "sqlite:$WORK/ingot.db" --ironic-url "$IRONIC_URL" --ironic-conductor-group "$CONDUCTOR_GROUP" \
	--sync-interval "$SYNC_INTERVAL" >"$WORK/ingot.log" 2>&1 &
INGOT_PID=$!

placement() {
	curl -fsS -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement 1.39' "$API$1"
}
count() { placement /resource_providers 2>/dev/null | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["resource_providers"]))' 2>/dev/null || echo 0; }
i=0
while [ "$(count)" -lt "$NODES" ]; do
	i=$((i + 1))
	if [ "$i" -gt 240 ] || ! kill -0 "$INGOT_PID" 2>/dev/null; then
		echo "the providers did not appear; ingot's log ($WORK/ingot.log):" >&2
		tail -n 30 "$WORK/ingot.log" >&2
		exit 1
	fi
	sleep 0.25
done

say "the tracker's first pass (from $WORK/ingot.log)"
grep 'msg="tracker pass"' "$WORK/ingot.log" | head -n 1

say "the nodes as Placement resource providers (GET $API/resource_providers)"
placement /resource_providers | API="$API" $PY -c '
import json, os, sys, urllib.request
api = os.environ["API"]
def get(path):
    req = urllib.request.Request(api + path, headers={"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39"})
    return json.load(urllib.request.urlopen(req))
print("%-36s  %-26s %8s  %s" % ("provider (= Ironic node UUID)", "inventory", "reserved", "traits"))
for rp in sorted(json.load(sys.stdin)["resource_providers"], key=lambda p: p["uuid"]):
    invs = get("/resource_providers/%s/inventories" % rp["uuid"])["inventories"]
    traits = get("/resource_providers/%s/traits" % rp["uuid"])["traits"]
    for rc, inv in sorted(invs.items()) or [("(no resource class)", {"reserved": "-"})]:
        print("%-36s  %-26s %8s  %s" % (rp["uuid"], rc, inv["reserved"], ",".join(sorted(traits))))
'
if [ "${INSTANCE:-1}" = 1 ]; then
	export INGOT_URL="$API" INGOT_TOKEN=admin
	ID=$($PY -c 'import uuid; print(uuid.uuid4())')
	# A throw-away SSH public key for the config drive (any ed25519 key will do).
	$PY -c 'import base64, os, struct
blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + os.urandom(32)
print("ssh-ed25519", base64.b64encode(blob).decode(), "quickstart")' >"$WORK/quickstart.pub"
	say "creating instance $ID on a baremetal-gold node (ingot instance create --wait)"
	"$WORK/ingot" instance create --uuid "$ID" --name quickstart-1 --resource-class baremetal-gold \
		--image http://images.example.invalid/quickstart.qcow2 --image-checksum 0123456789abcdef0123456789abcdef \
		--ssh-key "$WORK/quickstart.pub" --wait
	NODE=$("$WORK/ingot" instance show "$ID" -f json | $PY -c 'import json,sys; print(json.load(sys.stdin)["node"])')
	say "the node in Ironic (GET $IRONIC_URL/v1/nodes/$NODE)"
	curl -fsS -H 'X-OpenStack-Ironic-API-Version: 1.82' \
		"$IRONIC_URL/v1/nodes/$NODE?fields=name,provision_state,instance_uuid,instance_info" | $PY -c '
import json, sys
n = json.load(sys.stdin)
ii = n["instance_info"]
print("%s: provision_state %s, instance_uuid %s" % (n["name"], n["provision_state"], n["instance_uuid"]))
print("instance_info: image_source %s, display_name %s, project_id %s" % (ii.get("image_source"), ii.get("display_name"), ii.get("project_id")))'
	say "its allocation in Placement (GET $API/allocations/$ID)"
	placement "/allocations/$ID"
	echo
	say "deleting the instance (ingot instance delete --wait)"
	"$WORK/ingot" instance delete "$ID" --wait
	say "the node is available again, with no instance"
	curl -fsS -H 'X-OpenStack-Ironic-API-Version: 1.82' "$IRONIC_URL/v1/nodes/$NODE?fields=name,provision_state,instance_uuid"
	echo
fi

cat <<EOF

Reserved is 1 while a node is unavailable (maintenance, power state unknown, not
"available") or has an instance. Try, while ingot runs:
  curl -s -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement latest' \\
    '$API/resource_providers?resources=CUSTOM_BAREMETAL_GOLD:1'
  go run ./internal/ironic/enroll -url $IRONIC_URL -n $((NODES + 5)) -prefix quickstart   # more nodes
  $WORK/ingot instance create --url $API --token admin --resource-class baremetal-silver \\
    --image http://images.example.invalid/a.qcow2 --image-checksum 0123456789abcdef0123456789abcdef --wait
  $WORK/ingot instance list --url $API --token admin
Ironic: $IRONIC_URL   ingot: $API   ingot's log: $WORK/ingot.log
EOF

if [ "${ONCE:-0}" = 1 ]; then
	exit 0
fi
say "ingot is running; Ctrl-C stops ingot and Ironic"
wait "$INGOT_PID"
