#!/usr/bin/python3
"""Reads a JUnit XML report with junitparser (Debian's python3-junitparser), a
consumer that is not gmemtest's, and prints what it found as JSON:

  {"suites": n, "tests": n, "failures": n, "errors": n, "skipped": n,
   "cases": [{"suite", "classname", "name", "time", "result", "message"}],
   "properties": {suite: {name: value}}}

"result" is pass, failure, error or skipped, as junitparser classifies the
case. Counts are recounted from the cases, not read from the attributes, so a
report whose attributes disagree with its cases shows up as a mismatch with
the "declared" block, which holds what the <testsuite> attributes say.

Usage: junit_read.py FILE
"""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite


def _result(case):
    kinds = [type(r) for r in case.result]
    if Failure in kinds:
        return "failure"
    if Error in kinds:
        return "error"
    if Skipped in kinds:
        return "skipped"
    return "pass"


def _suites(xml):
    if isinstance(xml, TestSuite):
        return [xml]
    return list(xml)


def read(path):
    xml = JUnitXml.fromfile(path)
    cases = []
    props = {}
    declared = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suites = _suites(xml)
    for s in suites:
        for k in declared:
            declared[k] += int(getattr(s, k) or 0)
        props[s.name] = {p.name: p.value for p in s.properties()}
        for c in s:
            res = list(c.result)
            cases.append({"suite": s.name, "classname": c.classname, "name": c.name,
                          "time": c.time, "result": _result(c),
                          "message": res[0].message if res else None})
    count = lambda r: sum(1 for c in cases if c["result"] == r)  # noqa: E731
    return {"suites": len(suites), "tests": len(cases), "failures": count("failure"),
            "errors": count("error"), "skipped": count("skipped"), "declared": declared,
            "cases": cases, "properties": props}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    json.dump(read(sys.argv[1]), sys.stdout, indent=1)
    sys.stdout.write("\n")
