#!/bin/sh
# Install the real OpenStack Ironic (Debian's ironic-common: 21.4 on bookworm) for the
# contract tests, unless it is already installed. Needs root and Debian's package mirror.
#
# Only ironic-common is installed: it ships /usr/bin/ironic (API and conductor in one
# process) and /usr/bin/ironic-dbsync. ironic-api and ironic-conductor would pull in
# tftpd-hpa, xinetd, open-iscsi and uwsgi, none of which fake-hardware needs.
set -eu

missing=""
[ -x /usr/bin/ironic ] && [ -x /usr/bin/ironic-dbsync ] || missing="$missing ironic-common"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
# start.sh hashes the http_basic password with bcrypt (Ironic's user file format).
/usr/bin/python3 -c 'import bcrypt' 2>/dev/null || missing="$missing python3-bcrypt"

if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# Debian's python3 has the ironic modules; a python3 earlier on PATH (pyenv) may not.
/usr/bin/python3 -c 'import pbr.version; print("ironic", pbr.version.VersionInfo("ironic").version_string())'
