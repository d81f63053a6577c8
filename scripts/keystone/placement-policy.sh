#!/bin/sh
# Write to FILE (first argument) a policy file for the real Placement 8.0.0 that gives every
# placement:* rule master's check string, as internal/policy's defaults do: admin or
# service; placement:usages also the project's reader; the reshaper the service only.
# Placement 8.0.0 registers its rules for the system scope, so whoever uses the file keeps
# scope enforcement off (scripts/placement/start.sh does with POLICY_FILE).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: placement-policy.sh FILE}
rules=$(grep -o '"placement:[a-z_:]*"' "$ROOT/internal/policy/defaults.go" | tr -d '"' | sort -u)
[ -n "$rules" ] || {
	echo "no placement:* rules found in internal/policy/defaults.go" >&2
	exit 1
}
for r in $rules; do
	case $r in
	placement:usages) c='role:admin or (role:reader and project_id:%(project_id)s) or role:service' ;;
	placement:reshaper:reshape) c='role:service' ;;
	*) c='role:admin or role:service' ;;
	esac
	printf '"%s": "%s"\n' "$r" "$c"
done >"$out"
