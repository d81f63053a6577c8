#!/bin/sh
# Install the real Placement clients the client-compatibility suite drives (Debian bookworm):
# the openstack CLI (python3-openstackclient 6.0.0) with osc-placement 4.0.0, openstacksdk
# 0.101.0, and Nova 26.2.2's SchedulerReportClient (python3-nova). Only what is missing is
# installed; no services are started (python3-nova is the library, not nova-compute).
# Usage: scripts/clients/install.sh   (as root; idempotent)
set -eu
"$(dirname "$0")/../apt-ensure.sh" python3-openstackclient python3-osc-placement python3-openstacksdk python3-nova curl
/usr/bin/python3 -c 'import openstack, osc_placement, nova.scheduler.client.report' \
  && command -v openstack >/dev/null \
  && echo "clients installed: openstack $(dpkg-query -W -f='${Version}' python3-openstackclient), osc-placement $(dpkg-query -W -f='${Version}' python3-osc-placement), openstacksdk $(dpkg-query -W -f='${Version}' python3-openstacksdk), nova $(dpkg-query -W -f='${Version}' python3-nova)"
