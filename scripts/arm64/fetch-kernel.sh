#!/usr/bin/env bash
# Fetches Debian's arm64 kernel(s) and an arm64 static busybox for booting
# under qemu-system-aarch64, without installing anything on this machine.
# Development/CI helper (part 13), the arm64 sibling of scripts/kernels/fetch.sh.
#
# Usage: scripts/arm64/fetch-kernel.sh [SUITE...]      (default: sid)
#
# Per suite: resolve what `linux-image-arm64` points to, download the payload
# packages (sid 7.x splits the kernel: linux-binary-<rel> has the Image,
# linux-modules-<rel> the modules, linux-base-<rel> modules.builtin/.order),
# `dpkg -x` them and run `depmod -b`.  Once: `busybox-static` for arm64.
#
# Cache (see apt.sh): ~/.cache/gmemtest/kernels-arm64/
#   apt/                        private apt configuration (APT::Architecture arm64)
#   linux-image-<rel>_<ver>/    one unpacked kernel; root/ is the .deb contents
#   busybox-static_<ver>/       root/bin/busybox (aarch64, static)
#   manifest.json               {"arch":"arm64","busybox":...,"kernels":[{suite,...}]}
# A separate cache dir (not an arch field in kernels/) because apt's
# APT::Architecture is per configuration and the x86 manifest's consumers read
# every entry as an amd64 kernel.
#
# Exit: 0 ok, 1 failure, 2 usage, 3 archive unreachable and nothing cached (SKIP).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ARM64_LOG_TAG=gmemtest-kernels-arm64
KSUITES=("$@")
[[ ${#KSUITES[@]} -gt 0 ]] || KSUITES=(sid)
extra=()
for s in "${KSUITES[@]}"; do
  [[ $s =~ ^[a-z][a-z0-9-]*$ ]] || { echo "usage: $0 [SUITE...]" >&2; exit 2; }
  [[ $s == sid || $s == bookworm ]] || extra+=("$s")
done
# a kernel suite outside the fixed set (see apt.sh) joins the sources list
[[ ${#extra[@]} -eq 0 ]] || export GMEMTEST_ARM64_EXTRA_SUITES="${GMEMTEST_ARM64_EXTRA_SUITES:-} ${extra[*]}"
# shellcheck source=apt.sh
. "$here/apt.sh"

need=()
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
[[ -x /usr/sbin/depmod || -x /sbin/depmod ]] || need+=(kmod)
command -v xz >/dev/null || need+=(xz-utils)
command -v zstd >/dev/null || need+=(zstd)
if [[ ${#need[@]} -gt 0 ]]; then
  [[ ${GMEMTEST_NO_INSTALL:-0} == 1 ]] && arm64_die "missing host packages: ${need[*]}"
  arm64_log "installing host packages: ${need[*]}"
  env -u APT_CONFIG DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 \
    || arm64_die "apt-get install ${need[*]} failed"
fi

json() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

# Unpacks .debs $2.. into $1/root (atomically: $1.tmp, then rename).
unpack_into() {
  local dir=$1; shift
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  arm64_download "$dir.tmp/debs" "$@"
  local d; for d in "$dir.tmp"/debs/*.deb; do dpkg-deb -x "$d" "$dir.tmp/root"; done
  rm -rf "$dir.tmp/debs"
  printf '%s\n' "$@" >"$dir.tmp/packages"
}

# Sets K_REL, K_IMAGE, K_BASE for an unpacked kernel root.
locate() {
  local root=$1 img
  img=$(find "$root/usr/lib/modules" "$root/lib/modules" -mindepth 2 -maxdepth 2 -name vmlinuz -type f 2>/dev/null | head -n1 || true)
  if [[ -z $img ]]; then
    img=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -type f 2>/dev/null | head -n1 || true)
    [[ -n $img ]] || arm64_die "no kernel image in $root"
    K_REL=${img##*/vmlinuz-}
  else
    K_REL=$(basename "$(dirname "$img")")
  fi
  K_IMAGE=$img
  if [[ -d $root/usr/lib/modules/$K_REL ]]; then K_BASE=$root/usr; else K_BASE=$root; fi
}

entries=()
prepare_kernel() {
  local suite=$1 deps image ver payload dir
  deps=$(arm64_pkg_field "linux-image-arm64/$suite" Depends)
  image=$(tr ',' '\n' <<<"$deps" | sed 's/^ *//; s/ .*//' | grep -E '^linux-image-[0-9]' | head -n1 || true)
  [[ -n $image ]] || arm64_die "linux-image-arm64 in $suite depends on no linux-image-<release>"
  ver=$(arm64_pkg_field "$image" Version)
  mapfile -t payload < <(arm64_pkg_field "$image" Depends | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -E '^linux-(binary|modules|base)-[0-9]' || true)
  [[ ${#payload[@]} -gt 0 ]] || payload=("$image")
  dir=$ARM64_KERNEL_CACHE/${image}_$ver
  if [[ -f $dir/.complete ]]; then
    arm64_log "$suite: $image $ver (cached)"
  else
    arm64_log "$suite: $image $ver -> ${payload[*]}"
    local t0=$SECONDS
    unpack_into "$dir" "${payload[@]}"
    arm64_log "  downloaded and unpacked in $((SECONDS - t0)) s ($(du -sh "$dir.tmp/root" | cut -f1) unpacked)"
    locate "$dir.tmp/root"
    /usr/sbin/depmod -b "$K_BASE" "$K_REL" >&2
    [[ -s $K_BASE/lib/modules/$K_REL/modules.dep ]] || arm64_die "depmod made no modules.dep for $K_REL"
    printf '%s\n' "$suite" >"$dir.tmp/suite"
    touch "$dir.tmp/.complete"
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
  fi
  locate "$dir/root"
  local magic
  magic=$(od -An -c -j 56 -N 4 "$K_IMAGE" | tr -d ' ')
  [[ $magic == ARMd ]] || arm64_log "warning: $K_IMAGE has no arm64 Image header magic (got '$magic')"
  entries+=("$(printf '{"suite": %s, "release": %s, "version": %s, "vmlinuz": %s, "modules": %s, "root": %s}' \
    "$(json "$suite")" "$(json "$K_REL")" "$(json "$ver")" "$(json "$K_IMAGE")" \
    "$(json "$K_BASE/lib/modules/$K_REL")" "$(json "$dir/root")")")
  arm64_log "$suite: release $K_REL, image $K_IMAGE"
}

BUSYBOX=
prepare_busybox() {
  local ver dir b
  ver=$(arm64_pkg_field "busybox-static/sid" Version)
  [[ -n $ver ]] || arm64_die "busybox-static not found for arm64"
  dir=$ARM64_KERNEL_CACHE/busybox-static_${ver#*:}
  if [[ ! -f $dir/.complete ]]; then
    unpack_into "$dir" "busybox-static=$ver"
    # merged /usr (sid) ships usr/bin/busybox, older suites bin/busybox
    for b in usr/bin/busybox bin/busybox; do
      [[ -x $dir.tmp/root/$b ]] && { printf '%s\n' "$b" >"$dir.tmp/binary"; break; }
    done
    [[ -f $dir.tmp/binary ]] || arm64_die "no busybox binary in busybox-static $ver"
    touch "$dir.tmp/.complete"
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
  fi
  BUSYBOX=$dir/root/$(<"$dir/binary")
  arm64_log "busybox-static $ver: $BUSYBOX"
}

arm64_apt_setup
offline=0
arm64_apt_update || offline=1
mkdir -p "$ARM64_KERNEL_CACHE"
for s in "${KSUITES[@]}"; do prepare_kernel "$s"; done
prepare_busybox
{
  printf '{"arch": "arm64", "offline": %s, "busybox": %s, "kernels": [\n' "$([[ $offline == 1 ]] && echo true || echo false)" "$(json "$BUSYBOX")"
  first=1
  for e in "${entries[@]}"; do [[ $first == 1 ]] || printf ',\n'; first=0; printf '  %s' "$e"; done
  printf '\n]}\n'
} >"$ARM64_KERNEL_CACHE/manifest.json.tmp"
mv "$ARM64_KERNEL_CACHE/manifest.json.tmp" "$ARM64_KERNEL_CACHE/manifest.json"
cat "$ARM64_KERNEL_CACHE/manifest.json"
