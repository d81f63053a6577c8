#!/bin/sh
# Memory under large bodies: N (16) concurrent POST /resource_providers whose name is SIZE
# (15 MB) bytes, against a fresh bin/ingot on SQLite; prints each answer's status and
# ingot's peak and current resident memory (VmHWM, VmRSS), also after IDLE (30) seconds.
#   scripts/probe-large-bodies.sh        Env: N, SIZE, PORT (18860), IDLE
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${N:-16}; SIZE=${SIZE:-15000000}; PORT=${PORT:-18860}; IDLE=${IDLE:-30}
work=$(mktemp -d)
go build -o "$work/ingot" ./cmd/ingot
"$work/ingot" serve --listen "127.0.0.1:$PORT" --database "sqlite:$work/ingot.db" >"$work/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; do sleep 0.1; done
/usr/bin/python3 -c "import sys; sys.stdout.write('{\"name\": \"' + 'x' * $SIZE + '\"}')" >"$work/body"
mem() { grep -E '^(VmHWM|VmRSS)' "/proc/$pid/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo; }
echo "before: $(mem)"
i=0
pids=""
while [ $i -lt "$N" ]; do
  curl -s -o /dev/null -w '%{http_code} %{size_download}\n' -H 'X-Auth-Token: admin' \
    -H 'Content-Type: application/json' -H 'OpenStack-API-Version: placement 1.39' \
    --data-binary "@$work/body" "http://127.0.0.1:$PORT/resource_providers" >"$work/r$i" &
  pids="$pids $!"
  i=$((i + 1))
done
for p in $pids; do wait "$p" || true; done
echo "answers (status, bytes): $(cat "$work"/r* | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
echo "after:  $(mem)"
sleep "$IDLE"
echo "idle ${IDLE}s: $(mem)"
