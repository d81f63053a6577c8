#!/bin/sh
# Start a real Keystone (Debian's python3-keystone, Zed) on 127.0.0.1:$PORT with SQLite and
# fernet tokens, served by gunicorn, and wait until it answers. A new database (first start,
# or FRESH=1) is created with keystone-manage (db_sync, fernet and credential keys,
# bootstrap of the admin user on project admin and on the system), then bootstrap.sh adds
# the service project, ingot's service user, one user per role and the catalog entries.
#
# Environment:
#   KEYSTONE_DIR    state, config, logs and pid file          (default /tmp/ingot-keystone)
#   PORT            listen port on 127.0.0.1                  (default 16500)
#   ADMIN_PASSWORD  the bootstrap admin's password            (default admin-pass)
#   PASSWORD        every other user's password (bootstrap.sh) (default ingot-pass)
#   PLACEMENT_URL   the placement endpoint in the catalog     (default http://127.0.0.1:8778)
#   IRONIC_URL      when set, a baremetal endpoint too
#   EXPIRATION      token lifetime in seconds                 (default 3600)
#   WORKERS         gunicorn workers                          (default 2)
#   FRESH=1         remove the database, keys and logs first
#
# Prints the identity URL (http://127.0.0.1:PORT/v3) on success. Idempotent: a running
# Keystone is left alone.
set -eu
DIR=${KEYSTONE_DIR:-/tmp/ingot-keystone}
PORT=${PORT:-16500}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin-pass}
EXPIRATION=${EXPIRATION:-3600}
WORKERS=${WORKERS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3 # Debian's python has the keystone modules; a pyenv shim does not
URL="http://127.0.0.1:$PORT/v3"

if [ -f "$DIR/keystone.pid" ] && kill -0 "$(cat "$DIR/keystone.pid")" 2>/dev/null; then
	echo "$URL"
	exit 0
fi
"$HERE/../ironic/port-free.sh" "$PORT" "Keystone's port; choose a free one with PORT="
if ! $PY -c 'import keystone' 2>/dev/null; then
	echo "keystone is not installed; run $HERE/install.sh" >&2
	exit 1
fi
case "$EXPIRATION" in '' | *[!0-9]*)
	echo "EXPIRATION is whole seconds: $EXPIRATION" >&2
	exit 1
	;;
esac
if [ "${FRESH:-0}" = 1 ]; then
	rm -rf "$DIR"
fi
mkdir -p "$DIR"
sed -e "s|@DIR@|$DIR|g" -e "s|@EXPIRATION@|$EXPIRATION|g" "$HERE/keystone.conf.in" >"$DIR/keystone.conf"
# keystone's WSGI app finds its configuration through this variable.
export OS_KEYSTONE_CONFIG_FILES="$DIR/keystone.conf"
km() { $PY /usr/bin/keystone-manage --config-file "$DIR/keystone.conf" "$@" >>"$DIR/setup.log" 2>&1; }

NEW=0
if [ ! -s "$DIR/keystone.sqlite" ]; then
	NEW=1
	# The key repositories must belong to the user serving Keystone: whoever runs this.
	u=$(id -un)
	g=$(id -gn)
	if ! { km db_sync && km fernet_setup --keystone-user "$u" --keystone-group "$g" &&
		km credential_setup --keystone-user "$u" --keystone-group "$g" &&
		km bootstrap --bootstrap-password "$ADMIN_PASSWORD" --bootstrap-username admin \
			--bootstrap-project-name admin --bootstrap-role-name admin \
			--bootstrap-service-name keystone --bootstrap-region-id RegionOne \
			--bootstrap-admin-url "$URL" --bootstrap-internal-url "$URL" --bootstrap-public-url "$URL"; }; then
		cat "$DIR/setup.log" >&2
		exit 1
	fi
	# Two gunicorn workers share the file. In SQLite's default journal mode a reader's
	# transaction blocks the other worker's writes ("database is locked" after 5 s, a 500);
	# in WAL mode readers and the writer do not block each other. The mode stays with the file.
	$PY -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' "$DIR/keystone.sqlite"
fi

# keystone parses sys.argv with oslo.config when the app initialises; under gunicorn that is
# gunicorn's command line, which it rejects (the worker then crash-loops while the master
# holds the port). The app module therefore clears argv first.
cat >"$DIR/keystone_wsgi.py" <<PY
import sys
sys.argv = sys.argv[:1]
from keystone.server.wsgi import initialize_public_application
application = initialize_public_application()
PY
# One thread per worker: Keystone's SQLite connections may not cross threads.
nohup $PY -m gunicorn --chdir "$DIR" --bind "127.0.0.1:$PORT" --workers "$WORKERS" --threads 1 \
	--access-logfile "$DIR/access.log" keystone_wsgi:application >"$DIR/stdout.log" 2>&1 &
echo $! >"$DIR/keystone.pid"
i=0
until curl -fsS -o /dev/null --max-time 5 "$URL" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 240 ] || ! kill -0 "$(cat "$DIR/keystone.pid")" 2>/dev/null; then
		echo "keystone did not come up; logs in $DIR" >&2
		tail -n 20 "$DIR/stdout.log" "$DIR/keystone.log" >&2 || true
		exit 1
	fi
	sleep 0.25
done

cat >"$DIR/admin-openrc" <<RC
export OS_AUTH_URL=$URL
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$ADMIN_PASSWORD
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
RC
if [ "$NEW" = 1 ]; then
	KEYSTONE_DIR=$DIR "$HERE/bootstrap.sh" >&2
fi
echo "$URL"
