#!/usr/bin/env bash
# gen-standard.sh regenerates internal/standard/classes_gen.go and traits_gen.go from Debian's
# python3-os-resource-classes and python3-os-traits, which must be installed:
#
#   apt-get update
#   apt-get install -y --no-install-recommends python3-os-resource-classes python3-os-traits
#
# It queries them with Debian's /usr/bin/python3 (not a pyenv or venv python3, which would not
# see the Debian packages) and pipes the JSON into internal/standard/internal/gen, which writes
# the Go files with the package versions in their headers. Run it from anywhere, or through
# `go generate ./internal/standard`. Commit the generated files.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=/usr/bin/python3
packages=(python3-os-resource-classes python3-os-traits)

go=$(command -v go || true)
if [[ -z $go && -x /usr/local/go/bin/go ]]; then
	go=/usr/local/go/bin/go
fi
if [[ -z $go ]]; then
	echo "gen-standard.sh: go not found in PATH or /usr/local/go/bin" >&2
	exit 1
fi

if ! "$python" -c 'import os_resource_classes, os_traits' 2>/dev/null; then
	echo "gen-standard.sh: $python cannot import os_resource_classes and os_traits; install them with:" >&2
	echo "  apt-get install -y --no-install-recommends ${packages[*]}" >&2
	exit 1
fi

# "package version", e.g. "python3-os-traits 2.9.0-2", recorded in the generated headers.
source_of() {
	dpkg-query -W -f='${Package} ${Version}' "$1"
}
classes_source=$(source_of python3-os-resource-classes)
traits_source=$(source_of python3-os-traits)

cd "$repo"
"$python" internal/standard/internal/gen/query.py |
	"$go" run ./internal/standard/internal/gen \
		-dir internal/standard \
		-classes-source "$classes_source" \
		-traits-source "$traits_source"

echo "gen-standard.sh: wrote internal/standard/classes_gen.go ($classes_source) and traits_gen.go ($traits_source)"
