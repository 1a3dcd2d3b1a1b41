#!/bin/sh
# gmemtest as a LAVA test (the run script of gmemtest.yaml, Linaro test-definitions style).
#
# Installs gmemtest with npm, runs it with --format ktap-flat (one top-level KTAP result
# per case, named by the case's stable id, e.g. default_vm.flags-mmap.fallocate) and
# reports every case to LAVA:  lava-test-case <id> --result pass|fail|skip
#
#   ok N <id>             pass   (an expected failure, "ok N <id> # XFAIL ...", too)
#   ok N <id> # SKIP      skip
#   not ok N <id> [# ...] fail   (failures, errors, timeouts, unexpected passes)
#
# Indented lines (a nested subtest) are not cases of the flat form and are left alone.
# Besides the cases: gmemtest-install (pass, fail, or skip with -s true); and, when the
# run gave no case at all, gmemtest fail. Everything is also kept in OUTPUT_DIR:
# gmemtest.ktap, gmemtest.stderr, exit-code and result.txt ("<id> <result>" lines).
# Outside LAVA (no lava-test-case on PATH) the results are only printed.
#
# Usage: gmemtest.sh [-s SKIP_INSTALL] [-p PACKAGE] [-a ARGS] [-k KTAP] [-o OUTPUT_DIR]
#   -s true|false  skip installing (gmemtest already there, or $GMEMTEST names it)
#   -p PACKAGE     what `npm install --global` installs: a tarball (URL or path) made
#                  by `npm pack` in the gmemtest tree, or a git URL
#   -a ARGS        more gmemtest options, e.g. "--matrix upstream --vm-type default"
#   -k KTAP        report this flat KTAP file instead of running gmemtest
#   -o OUTPUT_DIR  where to keep the files (default ./output)
set -u

SKIP_INSTALL=false
PACKAGE=""
ARGS=""
KTAP=""
OUTPUT_DIR="$(pwd)/output"
GMEMTEST="${GMEMTEST:-gmemtest}"

usage() {
    echo "usage: $0 [-s true|false] [-p PACKAGE] [-a ARGS] [-k KTAP] [-o OUTPUT_DIR]" >&2
    exit 2
}

while getopts "s:p:a:k:o:h" opt; do
    case "$opt" in
        s) SKIP_INSTALL="$OPTARG" ;;
        p) PACKAGE="$OPTARG" ;;
        a) ARGS="$OPTARG" ;;
        k) KTAP="$OPTARG" ;;
        o) OUTPUT_DIR="$OPTARG" ;;
        *) usage ;;
    esac
done

mkdir -p "$OUTPUT_DIR" || exit 2
RESULTS="$OUTPUT_DIR/result.txt"
: > "$RESULTS"

# One result: to LAVA when running under it, and to result.txt in any case.
report() {
    echo "$1 $2" >> "$RESULTS"
    if command -v lava-test-case > /dev/null 2>&1; then
        lava-test-case "$1" --result "$2"
    else
        echo "$1 $2"
    fi
}

# Node.js 20 or newer, as gmemtest needs; Debian's nodejs and npm when apt-get is there.
have_node() {
    command -v node > /dev/null 2>&1 || return 1
    major="$(node -p 'process.versions.node.split(".")[0]' 2> /dev/null)" || return 1
    [ "${major:-0}" -ge 20 ]
}

install_gmemtest() {
    if [ "$SKIP_INSTALL" = "true" ] || [ "$SKIP_INSTALL" = "True" ]; then
        report gmemtest-install skip
        return 0
    fi
    if [ -z "$PACKAGE" ]; then
        echo "gmemtest.sh: nothing to install: give -p PACKAGE (an npm pack tarball or a git URL), or -s true" >&2
        report gmemtest-install fail
        return 1
    fi
    if ! have_node || ! command -v npm > /dev/null 2>&1; then
        if command -v apt-get > /dev/null 2>&1; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm || true
        fi
    fi
    if ! have_node; then
        echo "gmemtest.sh: Node.js 20 or newer is needed (node: $(node --version 2> /dev/null || echo none))" >&2
        report gmemtest-install fail
        return 1
    fi
    if npm install --global --no-audit --no-fund "$PACKAGE"; then
        report gmemtest-install pass
    else
        report gmemtest-install fail
        return 1
    fi
}

run_gmemtest() {
    # ARGS is a list of options: split on purpose.
    # shellcheck disable=SC2086
    "$GMEMTEST" --format ktap-flat $ARGS > "$OUTPUT_DIR/gmemtest.ktap" 2> "$OUTPUT_DIR/gmemtest.stderr"
    echo "$?" > "$OUTPUT_DIR/exit-code"
    cat "$OUTPUT_DIR/gmemtest.ktap"
    KTAP="$OUTPUT_DIR/gmemtest.ktap"
}

# "<id> <result>" for every top-level result line of a flat KTAP document.
parse_flat_ktap() {
    awk '
        /^(ok|not ok) [0-9]+ / {
            ok = ($1 == "ok")
            rest = $0
            sub(/^(not ok|ok) [0-9]+ /, "", rest)
            id = rest
            directive = ""
            hash = index(rest, "#")
            if (hash > 0) {
                id = substr(rest, 1, hash - 1)
                directive = substr(rest, hash + 1)
                sub(/^ +/, "", directive)
            }
            sub(/ +$/, "", id)
            if (id !~ /^[A-Za-z0-9._-]+$/) next
            result = ok ? "pass" : "fail"
            if (ok && toupper(substr(directive, 1, 4)) == "SKIP") result = "skip"
            print id, result
        }
    ' "$1"
}

if [ -z "$KTAP" ]; then
    install_gmemtest || exit 0
    run_gmemtest
elif [ ! -r "$KTAP" ]; then
    echo "gmemtest.sh: cannot read $KTAP" >&2
    exit 2
fi

if grep -q '^ *# Subtest: ' "$KTAP"; then
    echo "gmemtest.sh: $KTAP is nested KTAP: only its top-level results are cases here (run gmemtest --format ktap-flat)" >&2
fi

cases=0
parse_flat_ktap "$KTAP" > "$OUTPUT_DIR/cases.txt"
while read -r id result; do
    report "$id" "$result"
    cases=$((cases + 1))
done < "$OUTPUT_DIR/cases.txt"

if [ "$cases" -eq 0 ]; then
    echo "gmemtest.sh: no case results in $KTAP" >&2
    [ -s "$OUTPUT_DIR/gmemtest.stderr" ] 2> /dev/null && cat "$OUTPUT_DIR/gmemtest.stderr" >&2
    report gmemtest fail
fi
exit 0
