#!/bin/sh
# Start the real OpenStack Placement (Debian python3-placement 8.0.0, API 1.0-1.39) the way the
# benchmark compares against it: a private MariaDB on a unix socket in $WORK (no TCP), noauth2,
# gunicorn WORKERS processes x THREADS threads (gthread, keep-alive) on 127.0.0.1:$PORT.
# Waits until GET / answers. Install the packages first with install.sh.
#
# Env: WORK     work dir for the DB files, config, logs and pid files (/tmp/ingot-placement)
#      PORT     listen port (18878; the shared peer scripts use 18778)
#      WORKERS  gunicorn processes (2)    THREADS  threads per process (4)
#      FRESH=1  drop the database and db-sync an empty one before starting
#      DEBUG=1  Placement debug logging (slows it down; not for benchmarks)
#      RANDOMIZE=1  [placement] randomize_allocation_candidates = True
#      AUTH=keystone  behind keystonemiddleware (KEYSTONE_URL, KEYSTONE_USER, KEYSTONE_PASSWORD,
#               KEYSTONE_PROJECT)
#      POLICY_FILE  a policy file (either auth; see auth_conf)
set -eu
WORK=${WORK:-/tmp/ingot-placement}
PORT=${PORT:-18878}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3            # Debian's python, which has the placement packages
SOCK="$WORK/mysql.sock"
PIDF="$WORK/gunicorn.pid"
mkdir -p "$WORK"

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_until TRIES CMD...: retry CMD every 0.2 s, at most TRIES times
wait_until() {
  n=$1; shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -ge "$n" ] && return 1; sleep 0.2
  done
}

sql() { mariadb --no-defaults -S "$SOCK" -uroot -e "$1"; }

start_mariadb() {
  running "$WORK/mariadbd.pid" && return 0
  if [ ! -d "$WORK/mysql/mysql" ]; then
    mkdir -p "$WORK/mysql"
    mariadb-install-db --no-defaults --datadir="$WORK/mysql" --user=root \
      --auth-root-authentication-method=socket >"$WORK/mariadb-install.log" 2>&1 \
      || { cat "$WORK/mariadb-install.log" >&2; exit 1; }
  fi
  # Durability as a typical deployment tunes it for throughput (flush the log once a second);
  # the buffer pool holds the whole benchmark data set.
  nohup mariadbd --no-defaults --datadir="$WORK/mysql" --socket="$SOCK" --skip-networking \
    --user=root --pid-file="$WORK/mariadbd.server.pid" --log-error="$WORK/mariadbd.err" \
    --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 --max-connections=500 \
    >/dev/null 2>&1 &
  echo $! >"$WORK/mariadbd.pid"
  wait_until 300 sql 'SELECT 1' || { echo "mariadb did not start" >&2; tail "$WORK/mariadbd.err" >&2; exit 1; }
  sql "CREATE USER IF NOT EXISTS 'placement'@'localhost' IDENTIFIED BY 'placement';
       GRANT ALL ON placement.* TO 'placement'@'localhost';"
}

# auth_conf: with AUTH=keystone, keystonemiddleware's section (the service user and the
# identity endpoint from KEYSTONE_URL, KEYSTONE_USER, KEYSTONE_PASSWORD, KEYSTONE_PROJECT)
# and, with POLICY_FILE (either auth), oslo.policy's (enforce_scope off, enforce_new_defaults on).
auth_conf() {
  [ "${AUTH:-noauth2}" = keystone ] && cat <<KS
[keystone_authtoken]
auth_type = password
auth_url = $KEYSTONE_URL
www_authenticate_uri = $KEYSTONE_URL
username = ${KEYSTONE_USER:-ingot}
password = $KEYSTONE_PASSWORD
project_name = ${KEYSTONE_PROJECT:-service}
user_domain_name = Default
project_domain_name = Default
service_token_roles_required = true
service_type = placement
KS
  if [ -n "${POLICY_FILE:-}" ]; then
    printf '[oslo_policy]\npolicy_file = %s\nenforce_scope = false\nenforce_new_defaults = true\n' "$POLICY_FILE"
  fi
}

write_conf() {
  cat >"$WORK/placement.conf" <<CONF
[DEFAULT]
debug = $([ "${DEBUG:-0}" = 1 ] && echo true || echo false)
log_file = $WORK/placement.log
[api]
auth_strategy = ${AUTH:-noauth2}
$(auth_conf)
[placement]
randomize_allocation_candidates = $([ "${RANDOMIZE:-0}" = 1 ] && echo True || echo False)
[placement_database]
connection = mysql+pymysql://placement:placement@localhost/placement?unix_socket=$SOCK
CONF
}

# sync_db: schema, then the standard traits and resource classes once before the workers start
# (each worker syncs them at start; two doing it at once on an empty DB can collide).
sync_db() {
  sql 'DROP DATABASE IF EXISTS placement; CREATE DATABASE placement CHARACTER SET utf8mb4;'
  $PY /usr/bin/placement-manage --config-file "$WORK/placement.conf" db sync >"$WORK/dbsync.log" 2>&1 \
    && $PY -c 'from placement.wsgi import init_application; init_application()' >>"$WORK/dbsync.log" 2>&1 \
    || { cat "$WORK/dbsync.log" >&2; exit 1; }
  touch "$WORK/synced"
}

if running "$PIDF"; then
  echo "placement already running: pid $(cat "$PIDF")"; exit 0
fi
export OS_PLACEMENT_CONFIG_DIR="$WORK"
write_conf
start_mariadb
if [ "${FRESH:-0}" = 1 ] || [ ! -f "$WORK/synced" ]; then sync_db; fi

if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then echo "port $PORT is in use" >&2; exit 1; fi
cd "$HERE"
nohup $PY -m gunicorn --bind "127.0.0.1:$PORT" --workers "$WORKERS" --threads "$THREADS" \
  --worker-class gthread --timeout 300 --keep-alive 30 wsgi_app:application \
  >>"$WORK/gunicorn.log" 2>&1 &
echo $! >"$PIDF"
if ! wait_until 600 curl -fsS "http://127.0.0.1:$PORT/"; then
  echo "placement did not come up; see $WORK/gunicorn.log and $WORK/placement.log" >&2
  tail -20 "$WORK/gunicorn.log" >&2
  exit 1
fi
echo "placement up: http://127.0.0.1:$PORT pid $(cat "$PIDF") (gunicorn ${WORKERS}x$THREADS, MariaDB $SOCK)"
