#!/bin/sh
# Record the client-compatibility suite's expectations from the real Placement 8.0.0
# (Debian python3-placement on a private MariaDB, noauth2, default policy: the peer in
# scripts/placement): for each suite, a freshly synced, empty Placement, driver.py record,
# written to scripts/clients/expected/SUITE.json. Then, to prove the recording does not
# depend on the run, each suite is checked against a second fresh Placement; a difference
# there means a step records something unstable and must be changed, not committed.
# A manual step (CI only checks); re-record when a step changes and commit the JSON files.
#
# Usage: scripts/clients/record.sh [SUITE ...]     (as root; installs Placement and the clients)
# Env:   PORT (18826), WORK (/tmp/ingot-clients-placement), VERIFY=0 to skip the second run.
set -eu
# Python's string hashing is random per process, and Nova's report client creates missing
# traits in set order: a fixed seed makes their ids, and so their order in answers, the same
# in every run.
export PYTHONHASHSEED=0
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SUITES=${*:-cli sdk nova}
export PORT=${PORT:-18826}
export WORK=${WORK:-/tmp/ingot-clients-placement}
scripts/placement/install.sh
scripts/clients/install.sh
trap 'scripts/placement/stop.sh >/dev/null 2>&1 || true' EXIT INT TERM

# fresh: a newly synced, empty Placement database behind a new gunicorn (MariaDB stays up).
fresh() {
  KEEP_DB=1 scripts/placement/stop.sh >/dev/null
  FRESH=1 scripts/placement/start.sh >/dev/null
}

status=0
for suite in $SUITES; do
  fresh
  PYTHONWARNINGS=ignore /usr/bin/python3 scripts/clients/driver.py record "$suite" \
    "http://127.0.0.1:$PORT" "scripts/clients/expected/$suite.json" 2>&1 \
    | grep -v 'known eventlet monkey patching issues'
  if [ "${VERIFY:-1}" = 1 ]; then
    fresh
    PYTHONWARNINGS=ignore /usr/bin/python3 scripts/clients/driver.py check "$suite" \
      "http://127.0.0.1:$PORT" "scripts/clients/expected/$suite.json" >"$WORK/verify-$suite.out" 2>&1 \
      || status=1
    grep -v 'known eventlet monkey patching issues' "$WORK/verify-$suite.out" | sed 's/^/verify: /'
  fi
done
[ $status = 0 ] || echo "the real Placement answered differently in two runs: fix those steps" >&2
exit $status
