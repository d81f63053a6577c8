#!/bin/sh
# Start a local PostgreSQL (Debian's packages) for ingot's PostgreSQL test tier, and print
# the URL to put in INGOT_TEST_POSTGRES.
#   eval "$(scripts/postgres.sh)"     # exports INGOT_TEST_POSTGRES
# Installs postgresql when missing (apt-get update first), starts the default cluster and
# creates a role "ingot" (password "ingot") that may create databases. Idempotent.
set -eu
export DEBIAN_FRONTEND=noninteractive
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver main"; then
  pg_createcluster "$ver" main >/dev/null
fi
pg_ctlcluster "$ver" main start >/dev/null 2>&1 || true
port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')
i=0
until su postgres -c "psql -p $port -qAtc 'SELECT 1'" >/dev/null 2>&1; do
  i=$((i+1)); [ $i -gt 60 ] && { echo "postgresql did not start" >&2; exit 1; }; sleep 0.5
done
su postgres -c "psql -p $port -qAtc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ingot') THEN CREATE ROLE ingot LOGIN CREATEDB PASSWORD 'ingot'; END IF; END\\\$\\\$\"" >/dev/null
echo "export INGOT_TEST_POSTGRES=postgres://ingot:ingot@127.0.0.1:$port/postgres"
