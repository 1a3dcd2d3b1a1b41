"""Validates KCIDB documents with KernelCI's own kcidb-io package.

Usage: python validate.py FILE...  Prints one JSON object: the kcidb-io schema version
used, where the package was imported from, and per file whether it is valid (exactly
against the latest schema version) with the validator's message when it is not.
"""
import json
import sys

import kcidb_io

latest = kcidb_io.schema.LATEST
out = {
    "latest": f"{latest.major}.{latest.minor}",
    "module": kcidb_io.__file__,
    "files": [],
}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    entry = {"file": path, "valid": True, "error": None, "tests": len(doc.get("tests", []))}
    try:
        latest.validate_exactly(doc)
    except Exception as exc:  # the validator's own message is the point
        entry["valid"] = False
        entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    out["files"].append(entry)
print(json.dumps(out))
