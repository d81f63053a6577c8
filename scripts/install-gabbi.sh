#!/bin/sh
# Install what the Placement conformance run needs: curl, python3-yaml and Debian's gabbi.
#
# Debian bookworm's python3-gabbi 2.4.0 treats every response_strings entry as a literal
# substring, but three upstream gabbits (allocations-1-12, allocations-bug-1714072) match
# "/(does not have enough properties)|(should be non-empty)/" as a regular expression, which
# gabbi supports from 3.0. So gabbi 3.0.0 and the python3-wsgi-intercept (>= 1.13) it needs
# are taken from Debian trixie; both are pure Python (architecture all) and every other
# dependency comes from bookworm. Nothing is installed when gabbi 3 is already present.
# trixie is fetched from the mirror this machine's apt already uses for its own release: apt
# itself reads /etc/apt/sources.list and sources.list.d (one-line .list and deb822 .sources
# files) and `apt-get indextargets` reports each entry's URI, suite and component.
set -eu
export DEBIAN_FRONTEND=noninteractive
have_gabbi3() { dpkg-query -W -f '${Version}' python3-gabbi 2>/dev/null | grep -q '^3\.'; }
if have_gabbi3 && command -v curl >/dev/null && /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  exit 0
fi
apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends curl python3-yaml python3-gabbi >/dev/null
if ! have_gabbi3; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial"
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  mirror=$(apt-get indextargets --no-release-info --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)' |
    awk -v rel="$codename" '$1 == "deb" && $3 == rel && $4 == "main" { print $2; exit }')
  if [ -z "$mirror" ]; then
    echo "install-gabbi.sh: no 'deb ... ${codename:-?} main' entry in this machine's apt sources to take the Debian mirror from" >&2
    exit 1
  fi
  echo "deb $mirror trixie main" > "$work/sources.list"
  opts="-o Dir::Etc::sourcelist=$work/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$work/lists -o APT::Get::List-Cleanup=0"
  # shellcheck disable=SC2086
  apt-get $opts update -q >/dev/null
  # shellcheck disable=SC2086
  (cd "$work" && apt-get $opts download python3-gabbi python3-wsgi-intercept >/dev/null)
  apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "$work"/python3-gabbi_*_all.deb "$work"/python3-wsgi-intercept_*_all.deb >/dev/null
fi
dpkg-query -W -f 'python3-gabbi ${Version}\n' python3-gabbi
