#!/bin/sh
# Install a real OpenStack Keystone (Debian bookworm's python3-keystone: 22.0.x, Zed) and the
# openstack CLI for ingot's Keystone integration tests, unless already installed. As root.
#
# Only python3-keystone (the library, keystone-manage, the WSGI app) is installed, not the
# `keystone` package: that one asks debconf/dbconfig questions and brings uwsgi and an init
# script, none of which a loopback test Keystone needs. start.sh serves it with gunicorn.
# Package names only: apt uses the machine's own sources.
set -eu
"$(dirname "$0")/../apt-ensure.sh" python3-keystone python3-gunicorn python3-openstackclient python3-osc-placement curl
# Debian's python3 has the keystone modules; a python3 earlier on PATH (pyenv) may not.
/usr/bin/python3 -c 'import pbr.version; print("keystone", pbr.version.VersionInfo("keystone").version_string())'
