#!/usr/bin/env bash
# Fetch stock Debian kernels for the `gmemtest boot` matrix, without installing
# them on this machine.  Development/CI helper, not part of the shipped product.
#
# Usage: scripts/kernels/fetch.sh [SUITE...]        (default: sid trixie)
#
# For each suite it resolves, at run time, the kernel that suite's
# `linux-image-amd64` metapackage points to (sid: newest 7.x, trixie: 6.12.x),
# downloads the package(s) holding the vmlinuz and the modules with
# `apt-get download`, unpacks them with `dpkg -x`, runs `depmod -b`, and
# records the result.  Nothing is ever given to `dpkg -i`.
#
# Apt runs with a private configuration (APT_CONFIG): its own sources list
# (the host's Debian mirror, suites sid and trixie, main, amd64), its own lists,
# cache and archive dirs, no host apt.conf.d parts and an empty dpkg status,
# so the host's apt state is neither read nor changed.
#
# Cache: ${GMEMTEST_KERNEL_CACHE:-$HOME/.cache/gmemtest/kernels}
#   apt/                      private apt config, lists, archives
#   <package>_<version>/      one unpacked kernel (root of the .deb contents)
#       .complete             written last; a tree without it is redone
#   manifest.json             kernels resolved by the last run (see below)
# A kernel already unpacked is not downloaded again.
#
# Output: stdout gets manifest.json's content, a JSON array with one object a
# suite: {"suite","release","version","packages":[...],"vmlinuz","modules",
# "root"}, "modules" being the directory holding modules.dep.  Progress goes
# to stderr.
#
# Environment:
#   GMEMTEST_KERNEL_CACHE   cache dir (see above)
#   GMEMTEST_DEBIAN_MIRROR  Debian mirror URI; default: the one the host's own
#                           apt sources use for Debian (label "Debian")
#   GMEMTEST_NO_INSTALL=1   do not apt-get install missing host tools
#
# Exit codes:
#   0  every suite resolved and ready
#   1  any other failure (bad package layout, depmod failure, ...)
#   2  usage error
#   3  the package archive cannot be reached (network/DNS failure while
#      updating the lists or downloading) and the cache has nothing to fall back
#      on; the last stderr line starts with "gmemtest-kernels: SKIP:".
#      Callers (npm run test:kernels) report SKIP with that reason.
#      If the archive is unreachable but every requested suite is in the cache
#      from an earlier run, the cached kernels are used (exit 0, with a
#      warning on stderr).
set -euo pipefail

readonly EXIT_FAIL=1 EXIT_USAGE=2 EXIT_UNREACHABLE=3
# HOME can be unset in a CI job's environment: fall back to the user's home from passwd.
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
readonly CACHE="${GMEMTEST_KERNEL_CACHE:-${home:-/root}/.cache/gmemtest/kernels}"
readonly APTDIR="$CACHE/apt"

log() { printf 'gmemtest-kernels: %s\n' "$*" >&2; }
die() { log "error: $*"; exit "$EXIT_FAIL"; }
skip() { log "SKIP: $*"; exit "$EXIT_UNREACHABLE"; }

suites=("$@")
[[ ${#suites[@]} -gt 0 ]] || suites=(sid trixie)
for s in "${suites[@]}"; do
  [[ $s =~ ^[a-z][a-z0-9-]*$ ]] || { log "usage: $0 [SUITE...]  (bad suite '$s')"; exit "$EXIT_USAGE"; }
done

# --- host tools ------------------------------------------------------------
# command -> Debian package providing it
ensure_tools() {
  local -A need=()
  command -v depmod >/dev/null 2>&1 || [[ -x /usr/sbin/depmod || -x /sbin/depmod ]] || need[kmod]=1
  command -v dpkg-deb >/dev/null 2>&1 || need[dpkg]=1
  command -v qemu-system-x86_64 >/dev/null 2>&1 || need[qemu-system-x86]=1
  command -v xz >/dev/null 2>&1 || need[xz-utils]=1
  command -v zstd >/dev/null 2>&1 || need[zstd]=1
  # The initramfs needs a statically linked busybox; Debian's busybox-static
  # ships it as /bin/busybox (the dynamic "busybox" package conflicts with it).
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need[busybox-static]=1
  [[ ${#need[@]} -eq 0 ]] && return 0
  if [[ ${GMEMTEST_NO_INSTALL:-0} == 1 ]]; then
    die "missing host packages: ${!need[*]} (GMEMTEST_NO_INSTALL=1)"
  fi
  log "installing host packages: ${!need[*]}"
  # The host's own apt configuration, not the private one.
  if ! env -u APT_CONFIG DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${!need[@]}" >&2; then
    env -u APT_CONFIG apt-get update >&2 || skip "apt-get update (host sources) failed: cannot install ${!need[*]}"
    env -u APT_CONFIG DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${!need[@]}" >&2 \
      || die "apt-get install ${!need[*]} failed"
  fi
}

# --- private apt configuration ---------------------------------------------
# shellcheck source=../lib/private-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/private-apt.sh"

# --- per suite ---------------------------------------------------------------
# Print the value of field $2 of package $1 (one version, as apt-cache picks).
pkg_field() {
  apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n1
}

# The kernel image package a suite's metapackage depends on.
resolve_image_pkg() {
  local suite=$1 deps
  deps=$(pkg_field "linux-image-amd64/$suite" Depends)
  [[ -n $deps ]] || die "linux-image-amd64 not found in $suite"
  tr ',' '\n' <<<"$deps" | sed 's/^ *//; s/ .*//' | grep -E '^linux-image-[0-9]' | head -n1
}

# The packages to unpack for an image package: on layouts that split the
# kernel (sid 7.x: linux-binary-* for vmlinuz, linux-modules-* for modules,
# linux-base-<release> for modules.builtin/modules.order/config) the image
# package is an empty dependency hub; otherwise it holds everything.
payload_pkgs() {
  local image=$1 deps split
  deps=$(pkg_field "$image" Depends)
  split=$(tr ',|' '\n\n' <<<"$deps" | sed 's/^ *//; s/ .*//' | grep -E '^linux-(binary|modules|base)-[0-9]' || true)
  if [[ -n $split ]]; then printf '%s\n' "$split"; else printf '%s\n' "$image"; fi
}

json_str() { # minimal JSON string escaping for paths and names
  local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"
}

# Locate vmlinuz and the modules dir in an unpacked tree; sets K_REL (release),
# K_VMLINUZ and K_BASE (the depmod base: the dir whose lib/modules/<release>
# exists).  Runs in the caller's shell so that die() ends the script.
locate_kernel() {
  local root=$1 vmlinuz rel base
  # trixie: boot/vmlinuz-<release>; sid 7.x (linux-binary-*):
  # usr/lib/modules/<release>/vmlinuz.
  vmlinuz=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -type f 2>/dev/null | sort | head -n1 || true)
  if [[ -n $vmlinuz ]]; then
    rel=${vmlinuz##*/vmlinuz-}
  else
    vmlinuz=$(find "$root/usr/lib/modules" "$root/lib/modules" -mindepth 2 -maxdepth 2 -name vmlinuz -type f 2>/dev/null | sort | head -n1 || true)
    [[ -n $vmlinuz ]] || die "no boot/vmlinuz-* nor lib/modules/*/vmlinuz in $root"
    rel=${vmlinuz%/vmlinuz}; rel=${rel##*/}
  fi
  [[ -n $rel ]] || die "cannot read the release from $vmlinuz"
  if [[ -d $root/usr/lib/modules/$rel ]]; then base=$root/usr
  elif [[ -d $root/lib/modules/$rel ]]; then base=$root
  else die "no lib/modules/$rel in $root"
  fi
  K_REL=$rel K_VMLINUZ=$vmlinuz K_BASE=$base
}

prepare_suite() {
  local suite=$1 image version dir pkgs
  image=$(resolve_image_pkg "$suite")
  [[ -n $image ]] || die "no linux-image-<version> dependency of linux-image-amd64/$suite"
  version=$(pkg_field "$image" Version)
  mapfile -t pkgs < <(payload_pkgs "$image")
  dir="$CACHE/${image}_${version}"
  if [[ ! -f $dir/.complete ]]; then
    log "$suite: $image $version -> ${pkgs[*]}"
    rm -rf "$dir" "$dir.tmp"
    mkdir -p "$dir.tmp/debs"
    local out="$dir.tmp/download.log"
    if ! (cd "$dir.tmp/debs" && apt-get download "${pkgs[@]}") >"$out" 2>&1; then
      cat "$out" >&2
      if private_apt_unreachable "$out"; then rm -rf "$dir.tmp"; skip "cannot download ${pkgs[*]} from the package archive"; fi
      die "apt-get download ${pkgs[*]} failed"
    fi
    local deb
    for deb in "$dir.tmp"/debs/*.deb; do dpkg -x "$deb" "$dir.tmp/root"; done
    rm -rf "$dir.tmp/debs" "$out"
    locate_kernel "$dir.tmp/root"
    local rel=$K_REL base=$K_BASE
    /usr/sbin/depmod -b "$base" "$rel" 2>&1 | grep -v '^$' >&2 || true
    [[ -s $base/lib/modules/$rel/modules.dep ]] || die "depmod produced no modules.dep for $rel"
    printf '%s\n' "${pkgs[@]}" >"$dir.tmp/packages"
    printf '%s\n' "$suite" >"$dir.tmp/suite"
    touch "$dir.tmp/.complete"
    mv "$dir.tmp" "$dir"
  else
    log "$suite: $image $version (cached)"
  fi
  record_suite "$suite" "$dir" "$version"
}

# Append one manifest entry from an unpacked kernel dir.
record_suite() {
  local suite=$1 dir=$2 version=$3 rel vmlinuz base pkgs p first=1
  locate_kernel "$dir/root"
  rel=$K_REL vmlinuz=$K_VMLINUZ base=$K_BASE
  mapfile -t pkgs <"$dir/packages"
  {
    printf '  {"suite": %s, "release": %s, "version": %s, "packages": [' \
      "$(json_str "$suite")" "$(json_str "$rel")" "$(json_str "$version")"
    for p in "${pkgs[@]}"; do
      [[ $first == 1 ]] || printf ', '
      first=0; json_str "$p"
    done
    printf '], "vmlinuz": %s, "modules": %s, "root": %s}' \
      "$(json_str "$vmlinuz")" "$(json_str "$base/lib/modules/$rel")" "$(json_str "$dir/root")"
  } >>"$manifest_tmp.entries"
  printf '\n' >>"$manifest_tmp.entries"
  log "$suite: release $rel"
  log "  vmlinuz $vmlinuz"
  log "  modules $base/lib/modules/$rel"
}

# Newest cached tree per suite (for the offline fallback); prints dirs.
cached_dir_for() {
  local suite=$1 d best=
  for d in "$CACHE"/linux-image-*_*/; do
    d=${d%/}
    [[ -f $d/.complete && $(<"$d/suite") == "$suite" ]] || continue
    best=$d
  done
  [[ -n $best ]] && printf '%s\n' "$best"
}

write_manifest() {
  local first=1 line
  {
    printf '[\n'
    while IFS= read -r line; do
      [[ $first == 1 ]] || printf ',\n'
      first=0; printf '%s' "$line"
    done <"$manifest_tmp.entries"
    printf '\n]\n'
  } >"$manifest_tmp"
  mv "$manifest_tmp" "$CACHE/manifest.json"
  rm -f "$manifest_tmp.entries"
  cat "$CACHE/manifest.json"
}

main() {
  ensure_tools
  mkdir -p "$CACHE"
  manifest_tmp="$CACHE/manifest.json.tmp"
  rm -f "$manifest_tmp" "$manifest_tmp.entries"
  : >"$manifest_tmp.entries"

  local uri
  uri=$(private_apt_mirror)
  private_apt_write "$APTDIR" amd64 "$uri" "${suites[@]}" || die "$PRIVATE_APT_KEYRING missing (package debian-archive-keyring)"

  local out="$APTDIR/update.log"
  local update_ok=1
  if ! apt-get update >"$out" 2>&1 || grep -Eq '^(Err|E):' "$out"; then update_ok=0; fi
  if [[ $update_ok == 0 ]]; then
    cat "$out" >&2
    if ! private_apt_unreachable "$out"; then die "apt-get update with the private configuration failed"; fi
    # Offline: fall back on what the cache holds, if it holds every suite.
    local s d
    for s in "${suites[@]}"; do
      d=$(cached_dir_for "$s" || true)
      [[ -n $d ]] || skip "the package archive cannot be reached ($uri) and no $s kernel is cached"
    done
    log "warning: the package archive cannot be reached; using cached kernels (may not be the newest)"
    for s in "${suites[@]}"; do
      d=$(cached_dir_for "$s")
      local base=${d##*/}
      record_suite "$s" "$d" "${base##*_}"
    done
    write_manifest
    return 0
  fi

  local s
  for s in "${suites[@]}"; do prepare_suite "$s"; done
  write_manifest
}

main
