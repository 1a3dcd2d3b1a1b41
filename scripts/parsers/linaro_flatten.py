#!/usr/bin/python3
"""A Linaro-style flattening of (K)TAP, for gmemtest's tests.

LKFT turns a kselftest or KUnit log into one flat list of "name result" lines
with the parse-output.py scripts of Linaro's test-definitions
(automated/linux/kselftest/ and automated/linux/kunit/). This file is written
from a reading of what those scripts do, not from their code: it reproduces
their observable behaviour (which lines count, how names are built, how
duplicates are told apart, how statuses map) so that gmemtest's tests can
assert what an LKFT-style consumer would record for a given output.

Both modes read lines with tappy (Debian's python3-tap), as the scripts do, so
tappy's own line classification is part of the behaviour: a result line must
start at column 0 ("ok"/"not ok"), a diagnostic starts with '#', and only
SKIP and TODO are directives tappy knows.

  --mode kselftest  (the default) output of run_kselftest.sh: nesting is
      recovered from the "# " prefix the kselftest runner puts before a test's
      own output; names are the path joined with '_', the SKIP reason is part
      of the name, and repeated names get _dup2, _dup3... in output order.
  --mode kunit      a KUnit log: only column-0 result lines count, each named
      "<last # Subtest: seen>_<description>"; no deduplication.

Usage: linaro_flatten.py [--mode kselftest|kunit] [FILE]   (stdin without FILE)
Prints one JSON document: {"mode", "results": [{"name", "result", "logs"}],
"counts": {"pass", "fail", "skip"}, "duplicates": n}.
"""
import argparse
import json
import re
import sys

from tap.parser import Parser

# Runs of characters outside this set become one '_'.
_OUTSIDE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_BRACKETED_NUMBER = re.compile(r"\[\d{1,5}\]")
_KERNEL_LOG_PREFIX = re.compile(r"<\d+>\[\s*\d+\.\d+\]\s*")


def linaro_slug(text):
    """Name as the scripts make it: '[123]' dropped, other characters to '_',
    one '_' trimmed at each end, and '_-' written '__'."""
    s = _BRACKETED_NUMBER.sub("", text)
    s = _OUTSIDE_NAME.sub("_", s)
    if s.startswith("_"):
        s = s[1:]
    if s.endswith("_"):
        s = s[:-1]
    return s.replace("_-", "__")


def _status(line):
    if not line.ok:
        return "fail"
    return "skip" if line.skip else "pass"


def _uncomment(text):
    # A diagnostic loses its first character ('#') and the spaces around the
    # rest, so every indentation level of what was inside collapses to one.
    return text[1:].strip() if text.startswith("#") else text


def _kselftest_name(line):
    desc = line.description
    if desc.startswith("selftests:"):
        desc = desc[len("selftests:"):]
    extra = ""
    directive = line.directive.text
    if line.ok and line.skip and directive.lower().startswith("skip"):
        extra = directive[4:]
    name = (desc + " " + extra).strip()
    return linaro_slug(name if name else "<unknown>")


def _kselftest_level(text):
    """One nesting level: results of this level, each with the results found in
    the diagnostics between it and the result before it as its children."""
    results = []
    pending = []
    last_name = None
    for line in Parser().parse_text(text):
        if line.category == "test":
            last_name = _kselftest_name(line)
            children = _kselftest_level("".join(p + "\n" for p in pending)) if pending else []
            results.append({"name": last_name, "result": _status(line),
                            "children": children, "logs": line.directive.text})
            pending = []
        elif line.category == "diagnostic":
            plain = _uncomment(line.text)
            pending.append(plain)
            # A diagnostic goes to the log of the result *before* it (and of
            # any earlier result of this level with the same name).
            for r in results:
                if r["name"] == last_name:
                    r["logs"] += plain + "\n"
    return results


def _flatten(prefix, results, out):
    for r in results:
        name = prefix + r["name"]
        _flatten(name + "_", r["children"], out)  # children before their parent
        out.append({"name": name, "result": r["result"], "logs": r["logs"]})
    return out


def _dedupe(flat):
    seen = {}
    dups = 0
    for r in flat:
        seen[r["name"]] = seen.get(r["name"], 0) + 1
        if seen[r["name"]] > 1:
            r["name"] = "%s_dup%d" % (r["name"], seen[r["name"]])
            dups += 1
    return dups


def flatten_kselftest(text):
    flat = _flatten("", _kselftest_level(text), [])
    return flat, _dedupe(flat)


def flatten_kunit(text):
    text = _KERNEL_LOG_PREFIX.sub("", text)
    parser = Parser()
    subtest = None
    pending = []
    flat = []
    for raw in text.splitlines():
        line = parser.parse_line(raw)
        if line.category == "diagnostic":
            if line.text.startswith("# Subtest:"):
                subtest = line.text.split(":", 1)[1].strip()
            else:
                pending.append(line.text.lstrip("#").strip())
            continue
        if line.category != "test":
            pending.append(raw.strip())  # plans, versions, indented lines...
            continue
        desc = line.description.strip()
        if (not desc or "ASSERTION FAILED" in desc or desc.lower() == "totals"
                or (subtest and desc == subtest)):
            pending = []  # the closing line of the current suite, or noise
            continue
        name = linaro_slug("%s_%s" % (subtest, desc) if subtest else desc)
        flat.append({"name": name, "result": _status(line),
                     "logs": "".join(p + "\n" for p in pending)})
        pending = []
    return flat, 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["kselftest", "kunit"], default="kselftest")
    ap.add_argument("file", nargs="?")
    args = ap.parse_args(argv)
    if args.file:
        with open(args.file, encoding="utf-8", errors="backslashreplace") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    flat, dups = (flatten_kselftest if args.mode == "kselftest" else flatten_kunit)(text)
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for r in flat:
        counts[r["result"]] += 1
    json.dump({"mode": args.mode, "results": flat, "counts": counts, "duplicates": dups},
              sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
