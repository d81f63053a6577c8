#!/bin/sh
# Create, in the Keystone start.sh runs, what ingot and its tests need (start.sh calls this on
# a new database; it is not meant to run twice on one database):
#   project service; role service (Zed's bootstrap does not create it)
#   user ingot     admin + service on project service: ingot's own account. `service` lets it
#                  validate tokens (identity:validate_token) and marks it a service for
#                  X-Service-Token checks; `admin` is what a Zed Ironic behind Keystone wants
#                  of the service that manages its nodes (as devstack gives Placement and Nova);
#                  either role on project service lets it list, patch and deploy every node
#                  under Ironic 21's default policy (`service` through rule:service_role,
#                  `admin` through the deprecated rule:is_admin while enforce_new_defaults is
#                  off, its default there)
#   user nova      service on project service: a service calling Placement (Nova's role)
#   user ironic    service on project service: the account Ironic's keystonemiddleware
#                  validates tokens as (scripts/ironic/start.sh AUTH=keystone)
#   project demo, and on it: user member (member), reader (reader), projadmin (admin)
#   users sysadmin (admin on the system) and sysreader (reader on the system)
#   services placement (public and internal endpoints at PLACEMENT_URL) and, when
#   IRONIC_URL is set, baremetal, in region RegionOne
# Roles imply downwards (admin => member => reader), as Keystone's bootstrap sets them up.
# Environment: KEYSTONE_DIR (default /tmp/ingot-keystone; its admin-openrc is used),
# PASSWORD (every user's password, default ingot-pass), PLACEMENT_URL (default
# http://127.0.0.1:8778), IRONIC_URL (optional).
set -eu
DIR=${KEYSTONE_DIR:-/tmp/ingot-keystone}
PASSWORD=${PASSWORD:-ingot-pass}
PLACEMENT_URL=${PLACEMENT_URL:-http://127.0.0.1:8778}
IRONIC_URL=${IRONIC_URL:-}
# shellcheck disable=SC1091
. "$DIR/admin-openrc"
{
	cat <<CMDS
project create --domain default service
project create --domain default demo
role create service
user create --domain default --password $PASSWORD ingot
role add --project service --user ingot admin
role add --project service --user ingot service
user create --domain default --password $PASSWORD nova
role add --project service --user nova service
user create --domain default --password $PASSWORD ironic
role add --project service --user ironic service
user create --domain default --password $PASSWORD member
role add --project demo --user member member
user create --domain default --password $PASSWORD reader
role add --project demo --user reader reader
user create --domain default --password $PASSWORD projadmin
role add --project demo --user projadmin admin
user create --domain default --password $PASSWORD sysadmin
role add --system all --user sysadmin admin
user create --domain default --password $PASSWORD sysreader
role add --system all --user sysreader reader
service create --name placement placement
endpoint create --region RegionOne placement public $PLACEMENT_URL
endpoint create --region RegionOne placement internal $PLACEMENT_URL
CMDS
	if [ -n "$IRONIC_URL" ]; then
		cat <<CMDS
service create --name ironic baremetal
endpoint create --region RegionOne baremetal public $IRONIC_URL
endpoint create --region RegionOne baremetal internal $IRONIC_URL
CMDS
	fi
} >"$DIR/bootstrap.cmds"
# One openstack process reading commands from stdin: one start-up instead of twenty. It does
# not stop at a failing command, so its log is checked for errors.
/usr/bin/python3 /usr/bin/openstack <"$DIR/bootstrap.cmds" >"$DIR/bootstrap.log" 2>&1 || {
	cat "$DIR/bootstrap.log" >&2
	exit 1
}
if grep -qiE 'error|exception|conflict|not found|could not' "$DIR/bootstrap.log"; then
	cat "$DIR/bootstrap.log" >&2
	exit 1
fi
echo "keystone: created project service and demo, users ingot nova ironic member reader projadmin sysadmin sysreader, catalog placement${IRONIC_URL:+ baremetal}"
