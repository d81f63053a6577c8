#!/bin/sh
# Install the named Debian packages that are not installed yet (apt-get update first, only
# when something is missing; waits for another apt to finish). Idempotent; as root.
# Usage: scripts/apt-ensure.sh PKG...
set -eu
export DEBIAN_FRONTEND=noninteractive
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
echo "installing:$missing"
apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing >/dev/null
