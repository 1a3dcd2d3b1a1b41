#!/usr/bin/env bash
# Regenerates fixtures/uapi-x86_64.json from the kernel's uapi headers.
# The headers come from Debian sid's linux-libc-dev (fetched with a private apt
# configuration, never installed); glibc's own headers supply struct stat.
# Usage: scripts/uapi/gen-fixture.sh   (needs apt-get, dpkg-deb and cc)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb http://deb.debian.org/debian sid main" > "$work/sources.list"
apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
     -o Dir::State::Status=/dev/null -o APT::Sandbox::User=root)
apt-get "${apt[@]}" -qq update
(cd "$work" && apt-get "${apt[@]}" -qq download linux-libc-dev)
deb=$(ls "$work"/linux-libc-dev_*.deb)
ver=$(dpkg-deb -f "$deb" Version)
dpkg-deb -x "$deb" "$work/root"
inc="$work/root/usr/include"
cc -std=gnu11 -Wall -Werror -I"$inc" -I"$inc/x86_64-linux-gnu" \
   -DHEADER_VERSION="\"linux-libc-dev $ver (Debian sid) uapi headers; struct stat from glibc $(ldd --version | head -1 | awk '{print $NF}')\"" \
   -o "$work/uapi-values" "$here/uapi-values.c"
"$work/uapi-values" > "$top/fixtures/uapi-x86_64.json"
echo "wrote fixtures/uapi-x86_64.json from linux-libc-dev $ver"
