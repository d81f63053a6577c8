#!/bin/sh
# Start the real Ironic (Debian ironic-common, one process serving API and conductor,
# fake-hardware, SQLite) on 127.0.0.1:$PORT and wait until it answers.
#
# Environment:
#   IRONIC_DIR       state, config, logs and pid file      (default /tmp/ingot-ironic)
#   PORT             listen port on 127.0.0.1             (default 16385)
#   CONDUCTOR_GROUP  the group this conductor serves      (default ingot)
#   SYNC_POWER       [conductor] sync_power_state_interval (default 600)
#   AUTH             noauth, http_basic or keystone        (default noauth)
#   BASIC_USER, BASIC_PASSWORD  the http_basic credentials (default ingot / ingot)
#   KEYSTONE_URL     with AUTH=keystone: the identity endpoint (http://HOST:PORT/v3) whose
#                    tokens Ironic accepts ([keystone_authtoken], keystonemiddleware)
#   KS_USER, KS_PASSWORD, KS_PROJECT  the service user Ironic validates tokens as
#                    (default ironic / ingot-pass / service: scripts/keystone/bootstrap.sh's)
#   DEPLOY_DELAY     [fake] deploy_delay, whole seconds (or "min,max"; Ironic 21.4 parses
#                    integers only and fails every deploy on "0.5") per deploy-interface
#                    call: deploying and deleting each take about twice it  (default 0)
#   AUTOMATED_CLEAN  1: [conductor] automated_clean on, with one fake clean step
#                    (bios.factory_reset) after every tear-down and provide  (default 0: off)
#   CLEAN_DELAY      [fake] bios_delay, whole seconds: that clean step and the BIOS settings
#                    cache after it each sleep it, so cleaning lasts about twice it (default 0)
#   CALLBACK_TIMEOUT [conductor] deploy_callback_timeout, seconds: a node whose
#                    deploy_interface is custom-agent sits in "wait call-back" that long,
#                    then goes to "deploy failed" (a real, per-node deploy failure) (default 5)
#   CHECK_INTERVAL   [conductor] check_provision_state_interval, seconds (default 2)
#   FRESH=1          remove the database and logs first
#
# Prints the base URL on success. Idempotent: a running instance is left alone.
set -eu

DIR=${IRONIC_DIR:-/tmp/ingot-ironic}
PORT=${PORT:-16385}
GROUP=${CONDUCTOR_GROUP:-ingot}
SYNC_POWER=${SYNC_POWER:-600}
AUTH=${AUTH:-noauth}
KS_URL=${KEYSTONE_URL:-}
KS_USER=${KS_USER:-ironic}
KS_PASSWORD=${KS_PASSWORD:-ingot-pass}
KS_PROJECT=${KS_PROJECT:-service}
case "$AUTH" in
noauth | http_basic) ;;
keystone)
	if [ -z "$KS_URL" ]; then
		echo "AUTH=keystone needs KEYSTONE_URL (the identity endpoint, http://HOST:PORT/v3)" >&2
		exit 1
	fi
	;;
*)
	echo "AUTH is noauth, http_basic or keystone: $AUTH" >&2
	exit 1
	;;
esac
DEPLOY_DELAY=${DEPLOY_DELAY:-0}
CLEAN_DELAY=${CLEAN_DELAY:-0}
CALLBACK_TIMEOUT=${CALLBACK_TIMEOUT:-5}
CHECK_INTERVAL=${CHECK_INTERVAL:-2}
case "${AUTOMATED_CLEAN:-0}" in
1 | true | yes | on) AUTOMATED_CLEAN=true ;;
*) AUTOMATED_CLEAN=false ;;
esac
case "$CALLBACK_TIMEOUT$CHECK_INTERVAL" in
*[!0-9]*)
	echo "CALLBACK_TIMEOUT and CHECK_INTERVAL are whole seconds" >&2
	exit 1
	;;
esac
for d in "$DEPLOY_DELAY" "$CLEAN_DELAY"; do
	case "$d" in
	'' | *[!0-9,]* | *,*,* | ,* | *,)
		echo "DEPLOY_DELAY and CLEAN_DELAY are whole seconds or min,max: $d" >&2
		exit 1
		;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3 # Debian's python has the ironic modules; a pyenv shim does not
URL="http://127.0.0.1:$PORT"

if [ -f "$DIR/ironic.pid" ] && kill -0 "$(cat "$DIR/ironic.pid")" 2>/dev/null; then
	echo "$URL"
	exit 0
fi
# Not our Ironic (checked above), yet something listens there: Ironic could not bind, and a
# readiness check would be answered by that other program.
"$HERE/port-free.sh" "$PORT" "Ironic's port; choose a free one with PORT=, or IRONIC_PORT= for scripts/quickstart-ironic.sh"
if [ ! -x /usr/bin/ironic ]; then
	echo "ironic is not installed; run $HERE/install.sh" >&2
	exit 1
fi

case "$GROUP" in
*[A-Z]*)
	# Ironic stores conductor groups lowercased and filters case-sensitively.
	echo "CONDUCTOR_GROUP must be lowercase: $GROUP" >&2
	exit 1
	;;
esac

mkdir -p "$DIR/locks"
if [ "${FRESH:-0}" = 1 ]; then
	rm -f "$DIR/ironic.sqlite" "$DIR/ironic.log" "$DIR/stdout.log"
fi

if [ "$AUTH" = http_basic ]; then
	# Ironic reads an Apache-style file with bcrypt hashes.
	BASIC_USER=${BASIC_USER:-ingot} BASIC_PASSWORD=${BASIC_PASSWORD:-ingot} $PY -c '
import os, bcrypt
u, p = os.environ["BASIC_USER"], os.environ["BASIC_PASSWORD"]
print("%s:%s" % (u, bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()))
' >"$DIR/htpasswd"
fi

sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" -e "s|@GROUP@|$GROUP|g" \
	-e "s|@SYNC_POWER@|$SYNC_POWER|g" -e "s|@AUTH@|$AUTH|g" \
	-e "s|@DEPLOY_DELAY@|$DEPLOY_DELAY|g" -e "s|@CLEAN_DELAY@|$CLEAN_DELAY|g" \
	-e "s|@AUTOMATED_CLEAN@|$AUTOMATED_CLEAN|g" -e "s|@CALLBACK_TIMEOUT@|$CALLBACK_TIMEOUT|g" \
	-e "s|@CHECK_INTERVAL@|$CHECK_INTERVAL|g" -e "s|@KS_URL@|$KS_URL|g" \
	-e "s|@KS_USER@|$KS_USER|g" -e "s|@KS_PASSWORD@|$KS_PASSWORD|g" -e "s|@KS_PROJECT@|$KS_PROJECT|g" \
	"$HERE/ironic.conf.in" >"$DIR/ironic.conf"

# `ironic-dbsync upgrade` fails on SQLite (alembic cannot ALTER constraints there), so a
# new database is built from the models with create_schema, which also stamps the head.
if [ ! -s "$DIR/ironic.sqlite" ]; then
	if ! $PY /usr/bin/ironic-dbsync --config-file "$DIR/ironic.conf" create_schema \
		>"$DIR/dbsync.log" 2>&1; then
		cat "$DIR/dbsync.log" >&2
		exit 1
	fi
fi

nohup $PY /usr/bin/ironic --config-file "$DIR/ironic.conf" >"$DIR/stdout.log" 2>&1 &
echo $! >"$DIR/ironic.pid"

# GET / needs no authentication in any mode.
i=0
until curl -fsS -o /dev/null "$URL/" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 240 ] || ! kill -0 "$(cat "$DIR/ironic.pid")" 2>/dev/null; then
		echo "ironic did not come up; logs in $DIR" >&2
		tail -n 20 "$DIR/stdout.log" "$DIR/ironic.log" >&2 || true
		exit 1
	fi
	sleep 0.25
done
echo "$URL"
