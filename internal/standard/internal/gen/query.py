"""Print Placement's standard catalogues as JSON on stdout.

Run with Debian's interpreter, /usr/bin/python3, after
    apt-get install -y --no-install-recommends \
        python3-os-resource-classes python3-os-traits

Output: {"resource_classes": [...], "traits": [...]}
  resource_classes  os_resource_classes.STANDARDS in upstream order (index == upstream id)
  traits            os_traits.get_traits(), sorted (upstream returns module-definition order)

Used by scripts/gen-standard.sh and by the drift test in internal/standard.
"""
import json
import sys

import os_resource_classes
import os_traits

json.dump(
    {
        "resource_classes": list(os_resource_classes.STANDARDS),
        "traits": sorted(os_traits.get_traits()),
    },
    sys.stdout,
)
sys.stdout.write("\n")
