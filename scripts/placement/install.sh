#!/bin/sh
# Install what the real OpenStack Placement peer needs (Debian bookworm: python3-placement 8.0.0,
# API 1.0-1.39) served by gunicorn on a private MariaDB: only the packages that are missing.
# Usage: scripts/placement/install.sh   (as root; idempotent)
set -eu
"$(dirname "$0")/../apt-ensure.sh" python3-placement python3-gunicorn python3-pymysql mariadb-server mariadb-client curl
# The Debian packages start a system MariaDB; we run our own private one (start.sh), so the
# system service is left as the package configured it and never used.
/usr/bin/python3 -c 'import placement, gunicorn, pymysql' \
  && echo "placement, gunicorn, pymysql importable; mariadbd: $(command -v mariadbd || echo /usr/sbin/mariadbd)"
