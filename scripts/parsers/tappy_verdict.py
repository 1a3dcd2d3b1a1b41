#!/usr/bin/python3
"""tappy's own verdict on a TAP/KTAP file, as its `tappy` consumer gives it.

tappy (Debian's python3-tap) loads a file into unittest cases: one per result
line it recognises, plus one error case per rule the file breaks (no plan, a
plan neither first nor last, a count that differs from the plan, a Bail out!).
This prints what that consumer concludes, as JSON, for gmemtest's tests:

  {"tests": n, "failures": n, "errors": n, "skipped": n, "expected_failures": n,
   "unexpected_successes": n, "successful": bool, "rule_errors": [...], "results": [{"name", "status"}]}

Usage: tappy_verdict.py FILE
"""
import io
import json
import sys
import unittest

from tap.loader import Loader


def _status(line):
    # The order tap.adapter.Adapter applies: SKIP wins over ok/not ok, then TODO.
    if line.skip:
        return "skip"
    if line.todo:
        return "xpass" if line.ok else "xfail"
    return "pass" if line.ok else "fail"


def _cases(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _cases(t)
        else:
            yield t


def verdict(path):
    suite = Loader().load([path])
    cases = list(_cases(suite))  # running the suite empties it
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
    rows = []
    rule_errors = []
    for t in cases:
        line = t._line  # tap.adapter.Adapter keeps the parsed result line
        if line.number is None and not line.ok and not line.directive.text:
            rule_errors.append(line.description)  # added by the loader's rule checks
        rows.append({"name": line.description, "status": _status(line)})
    return {"tests": result.testsRun, "failures": len(result.failures), "errors": len(result.errors),
            "skipped": len(result.skipped), "expected_failures": len(result.expectedFailures),
            "unexpected_successes": len(result.unexpectedSuccesses),
            "successful": result.wasSuccessful(), "rule_errors": rule_errors, "results": rows}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    json.dump(verdict(sys.argv[1]), sys.stdout, indent=1)
    sys.stdout.write("\n")
