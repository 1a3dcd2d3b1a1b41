#!/usr/bin/env bash
# Cross-builds upstream's C guest_memfd_test for arm64 from Debian's linux-source of
# the kernel under test, so the kernel matrix can run it in the same arm64 guest as
# gmemtest and show its verdict beside (scripts/kernels/matrix.ts).
#
# Usage: scripts/arm64/build-c-test.sh <version>     e.g. 7.2.13-1 (the kernel's package version)
#        prints the path of the arm64 guest_memfd_test on stdout
#
# Steps (nothing is installed on the host; only aarch64-linux-gnu-gcc is needed):
#   - linux-source-<major.minor>=<version> (arch all) through the private arm64 apt
#     configuration (apt.sh), or the .deb in GMEMTEST_LINUX_SOURCE_DEB; only Makefile,
#     scripts, include, usr, arch/arm64 and tools are unpacked from its tarball;
#   - `make ARCH=arm64 O=<obj> headers`: the tree's own uapi headers;
#   - a sysroot of Debian's arm64 libc6 + libc6-dev at the guest root's release
#     (bookworm: the program runs on that glibc);
#   - `make -C tools/testing/selftests/kvm ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-`
#     with CC "aarch64-linux-gnu-gcc --sysroot=<sysroot>" and KHDR_INCLUDES at those
#     headers, for that one program.
# Cache: ~/.cache/gmemtest/arm64-c/guest_memfd_test-<version>-<key>/ (.complete last;
# key = this recipe, the compiler's and the libc's versions); the unpacked source and
# the .deb are removed once the program is built.
# Exit codes: 0 built or cached; 1 failure; 2 usage; 3 the archive cannot be reached and
# nothing is cached (last stderr line "SKIP: ...").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ARM64_LOG_TAG=gmemtest-arm64-c
# shellcheck source=apt.sh
. "$here/apt.sh"
[[ $# -eq 1 && $1 =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { arm64_log "usage: $0 <linux-source version, e.g. 7.2.13-1>"; exit 2; }
version=$1
major_minor=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$version")
cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
command -v "$cc" >/dev/null || arm64_die "$cc missing (Debian package gcc-aarch64-linux-gnu)"
libc_suite=${GMEMTEST_ARM64_LIBC_SUITE:-bookworm}
CACHE=$ARM64_CACHE_ROOT/arm64-c
mkdir -p "$CACHE"
recipe=1

arm64_apt_setup
arm64_apt_update || true
libc_ver=$(arm64_pkg_field "libc6-dev/$libc_suite" Version)
[[ -n $libc_ver ]] || arm64_die "libc6-dev not found in $libc_suite (arm64)"
key=$(printf '%s\n' "recipe-$recipe" "$("$cc" -dumpfullversion 2>/dev/null || "$cc" -dumpversion)" "libc-$libc_ver" | sha256sum | cut -c1-12)
out=$CACHE/guest_memfd_test-$version-$key
if [[ -f $out/.complete ]]; then
  arm64_log "cached: $out/guest_memfd_test"
  printf '%s\n' "$out/guest_memfd_test"; exit 0
fi

t0=$(date +%s.%N)
work=$out.tmp
rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

deb=${GMEMTEST_LINUX_SOURCE_DEB:-}
if [[ -z $deb ]]; then
  arm64_log "apt: linux-source-$major_minor=$version"
  arm64_download "$work/debs" "linux-source-$major_minor=$version"
  deb=$(ls "$work"/debs/linux-source-"$major_minor"_*.deb)
fi
arm64_log "apt ($libc_suite, arm64): libc6=$libc_ver libc6-dev=$libc_ver"
arm64_download "$work/libc" "libc6=$libc_ver" "libc6-dev=$libc_ver"
for d in "$work"/libc/*.deb; do dpkg-deb -x "$d" "$work/sysroot"; done

src=linux-source-$major_minor
arm64_log "unpacking the parts of $src the selftest needs"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$src.tar.xz" |
  tar -xJ -C "$work" "$src/Makefile" "$src/scripts" "$src/include" "$src/usr" "$src/arch/arm64" "$src/tools"
tree=$work/$src
log=$work/build.log
arm64_log "make headers (ARCH=arm64)"
make -C "$tree" ARCH=arm64 O="$work/obj" headers >"$log" 2>&1 || { tail -20 "$log" >&2; arm64_die "make headers failed"; }
arm64_log "make guest_memfd_test (ARCH=arm64, $cc)"
mkdir -p "$work/out"
make -C "$tree/tools/testing/selftests/kvm" -j"${GMEMTEST_JOBS:-$(nproc)}" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
  CC="$cc --sysroot=$work/sysroot" OUTPUT="$work/out" KHDR_INCLUDES="-isystem $work/obj/usr/include" \
  "$work/out/guest_memfd_test" >>"$log" 2>&1 || { tail -20 "$log" >&2; arm64_die "building guest_memfd_test failed"; }

mkdir -p "$out.new"
install -m 0755 "$work/out/guest_memfd_test" "$out.new/guest_memfd_test"
cp "$log" "$out.new/build.log"
printf 'linux-source-%s %s (arch/arm64, tools/testing/selftests/kvm)\n%s\nlibc6-dev %s (%s, arm64)\n' \
  "$major_minor" "$version" "$("$cc" --version | head -1)" "$libc_ver" "$libc_suite" >"$out.new/BUILT-FROM"
touch "$out.new/.complete"
rm -rf "$out"; mv "$out.new" "$out"
arm64_log "built $out/guest_memfd_test in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
printf '%s\n' "$out/guest_memfd_test"
