"""Validates LAVA job and test definitions with LAVA's own schemas (Debian's lava-common).

Usage: python3 validate_lava.py job FILE... -- testdef FILE...
Prints one JSON object: per file, whether lava_common accepts it and, if not, its message.
Jobs: lava_common.schemas.validate(job, strict=True), what the LAVA server runs on a
submission. Test definitions: lava_common.schemas.test.testdef.validate().
"""
import json
import sys

import yaml
from lava_common.schemas import validate as validate_job
from lava_common.schemas.test.testdef import validate as validate_testdef

kind = None
out = []
for arg in sys.argv[1:]:
    if arg in ("job", "testdef"):
        kind = arg
        continue
    with open(arg, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    entry = {"file": arg, "kind": kind, "valid": True, "error": None}
    try:
        if kind == "job":
            validate_job(data, strict=True)
        else:
            validate_testdef(data)
    except Exception as exc:  # voluptuous' message is the point
        entry["valid"] = False
        entry["error"] = f"{type(exc).__name__}: {exc}"
    out.append(entry)
print(json.dumps(out))
