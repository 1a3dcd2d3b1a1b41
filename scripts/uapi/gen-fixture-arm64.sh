#!/usr/bin/env bash
# Regenerates fixtures/uapi-arm64.json from Debian's arm64 headers:
# linux-libc-dev (sid, the uapi) and libc6-dev (bookworm: the glibc of the
# guest's arm64 root; struct stat and the SYS_ names), fetched through the
# private arm64 apt configuration (scripts/arm64/apt.sh), unpacked in a temp
# dir, never installed.
#
# The values are computed by the cross compiler at compile time: the C files
# are compiled with `aarch64-linux-gnu-gcc -S` and each value is read back from
# a comment line of the generated assembly (see uapi-values-arm64.c).  Nothing
# arm64 is linked or run, so neither an arm64 libc to link against nor
# qemu-user is needed.
#
# Usage: scripts/uapi/gen-fixture-arm64.sh   (needs apt-get, dpkg-deb, node and
#        gcc-aarch64-linux-gnu)
# Environment: GMEMTEST_LIBC_DEV_VERSION pins linux-libc-dev (default: sid's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ARM64_LOG_TAG=gen-fixture-arm64
# shellcheck source=../arm64/apt.sh
. "$top/scripts/arm64/apt.sh"
cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
command -v "$cc" >/dev/null || arm64_die "$cc missing (Debian package gcc-aarch64-linux-gnu)"

arm64_apt_setup
arm64_apt_update || true
uapi_ver=${GMEMTEST_LIBC_DEV_VERSION:-$(arm64_pkg_field linux-libc-dev/sid Version)}
libc_ver=$(arm64_pkg_field libc6-dev/bookworm Version)
[[ -n $uapi_ver && -n $libc_ver ]] || arm64_die "linux-libc-dev (sid) or libc6-dev (bookworm) not found for arm64"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arm64_download "$work/debs" "linux-libc-dev=$uapi_ver" "libc6-dev=$libc_ver"
# glibc's headers first, then the kernel's: linux-libc-dev from sid wins for
# <linux/...> and <asm/...> (dpkg-deb -x of it last overwrites bookworm's).
dpkg-deb -x "$work"/debs/libc6-dev_*.deb "$work/root"
dpkg-deb -x "$work"/debs/linux-libc-dev_*.deb "$work/root"
inc=$work/root/usr/include
flags=(-std=gnu11 -O0 -Wall -Werror -nostdinc
       -isystem "$("$cc" -print-file-name=include)"
       -isystem "$inc/aarch64-linux-gnu" -isystem "$inc")
"$cc" "${flags[@]}" -S -o "$work/values.s" "$here/uapi-values-arm64.c"
"$cc" "${flags[@]}" -S -o "$work/kstat.s" "$here/kernel-stat-arm64.c"

header="linux-libc-dev $uapi_ver (Debian sid, arm64) uapi headers; struct stat and SYS_ numbers from glibc $libc_ver (Debian bookworm, arm64); values computed by $("$cc" -dumpfullversion 2>/dev/null || "$cc" -dumpversion) $cc -S"
cat "$work/values.s" "$work/kstat.s" | node -e '
const lines = require("fs").readFileSync(0, "utf8").split("\n");
const out = { header_version: process.argv[1], arch: "arm64" };
const order = ["ioctls", "constants", "sizes", "offsets", "one_reg_ids"];
for (const s of order) out[s] = {};
for (const l of lines) {
  const m = /\/\/@@uapi (\S+) (\S+) (-?\d+)\s*$/.exec(l);
  if (!m) continue;
  const [, sec, name, v] = m;
  if (!(sec in out)) throw new Error("unknown section " + sec);
  if (name in out[sec]) throw new Error("duplicate " + sec + "." + name);
  const big = BigInt(v) & ((1n << 64n) - 1n);
  // JSON numbers lose precision past 2^53: such values (register ids) are hex strings.
  out[sec][name] = big > BigInt(Number.MAX_SAFE_INTEGER) ? "0x" + big.toString(16) : Number(big);
}
if (Object.keys(out.ioctls).length === 0) throw new Error("no values found in the assembly");
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
' "$header" >"$work/uapi-arm64.json"
mv "$work/uapi-arm64.json" "$top/fixtures/uapi-arm64.json"
echo "wrote fixtures/uapi-arm64.json from linux-libc-dev $uapi_ver and libc6-dev $libc_ver (arm64)"
