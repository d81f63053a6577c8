#!/bin/sh
# Install Debian's headless-capable Chromium for the dashboard's browser tests
# (internal/ui, chromedp) and print the variable that points the tests at it.
# Idempotent; as root on a fresh Debian machine. Usage: eval "$(scripts/chromium.sh)"
set -eu
here=$(dirname "$0")
"$here/apt-ensure.sh" chromium fonts-dejavu-core >&2
bin=$(command -v chromium)
echo "export INGOT_CHROMIUM=$bin"
