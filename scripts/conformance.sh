#!/bin/sh
# Run the upstream Placement gabbits against bin/ingot with the shared harness
# (../shared/placement/conformance.sh), building the binary first.
#   scripts/conformance.sh                 # all 79 files, as CI runs it: every test must pass
#   scripts/conformance.sh FILE.yaml ...   # some files, plain harness output
#   INGOT_CONFORMANCE_DB=postgres scripts/conformance.sh [FILE.yaml ...]   # on PostgreSQL
# PORT (default 18779) is where the server under test listens.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
cd "$ROOT"
go build -o bin/ingot ./cmd/ingot
export PORT=${PORT:-18779}
if [ "${INGOT_CONFORMANCE_DB:-sqlite}" = postgres ]; then
  # The same files against ingot on PostgreSQL (a fresh database per file), through the
  # shared harness with our PostgreSQL variant of its reset command. Without file names,
  # the files that exercise the store most (the whole suite passes too, but takes ~20 min
  # because each file gets a new database).
  if [ $# -eq 0 ]; then
    set -- resource-provider.yaml inventory.yaml allocations.yaml allocations-post.yaml \
      allocations-1.28.yaml reshaper.yaml traits.yaml aggregate.yaml usage.yaml \
      resource-classes.yaml consumer-types-1.38.yaml allocation-candidates.yaml granular.yaml \
      shared-resources.yaml with-allocations.yaml
  fi
  work=$(mktemp -d)
  rc=0
  WORK="$work" SERVER_BIN="$ROOT/bin/ingot" SHARED="$SHARED" /usr/bin/python3 "$SHARED/placement/gabbi_live.py" \
    --url "http://127.0.0.1:$PORT" --gabbits "$SHARED/placement/gabbits" \
    --reset-cmd "$ROOT/scripts/serve-fresh-postgres.sh" "$@" || rc=$?
  [ -f "$work/server.pid" ] && kill "$(cat "$work/server.pid")" 2>/dev/null || true
  rm -rf "$work"
  exit $rc
fi
if [ $# -gt 0 ]; then
  exec "$SHARED/placement/conformance.sh" "$ROOT/bin/ingot" "$@"
fi

# The whole suite: every file must run and every test in it pass; a skipped test, a file
# that did not run or whose fixture could not be seeded, or an expected failure that passed
# fails the run as much as a failing test does.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rc=0
"$SHARED/placement/conformance.sh" "$ROOT/bin/ingot" --json "$work/all.json" -v || rc=$?
/usr/bin/python3 - "$work/all.json" "$rc" <<'PY'
import json, sys
try:
    files = json.load(open(sys.argv[1]))['files']
except (OSError, ValueError, KeyError) as e:
    print('conformance: FAILED, the harness wrote no results (%s)' % e)
    sys.exit(1)
problems = []
total = passed = 0
for f in files:
    name = f.get('file', '?')
    if 'not_run' in f:
        problems.append('%s: not run (%s)' % (name, f['not_run']))
        continue
    total += f['total']
    passed += f['passed']
    if f.get('seed_error'):
        problems.append('%s: fixture not seeded: %s' % (name, f['seed_error'][:200]))
    if f['total'] == 0:
        problems.append('%s: no tests ran' % name)
    for kind in ('skipped', 'xfail', 'xpass'):
        if f.get(kind):
            problems.append('%s: %d %s' % (name, f[kind], kind))
    for test in f.get('failing', []):
        problems.append('%s: %s' % (name, test))
if sys.argv[2] != '0' and not problems:
    problems.append('the harness exited with status %s' % sys.argv[2])
status = 'FAILED' if problems or passed != total else 'ok'
print('conformance: %s, %d of %d tests passed in %d files' % (status, passed, total, len(files)))
for p in problems:
    print('  ' + p)
sys.exit(1 if status != 'ok' else 0)
PY
