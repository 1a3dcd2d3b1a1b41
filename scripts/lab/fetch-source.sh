#!/usr/bin/env bash
# The kernel lab's source tree: Debian's own source of one kernel of the matrix,
# unpacked and prepared once for out-of-tree rebuilds of KVM (make M=arch/x86/kvm).
# Development/CI helper of `npm run test:lab`, not part of the shipped product.
#
# Usage: scripts/lab/fetch-source.sh <release> <version>
#   e.g. scripts/lab/fetch-source.sh 7.2.13+deb14-amd64 7.2.13-1
#   (the "release" and "version" of an entry of scripts/kernels/fetch.sh's manifest)
#
# Packages, all at <version>, downloaded with `apt-get download` through the private
# apt configuration scripts/kernels/fetch.sh writes (run it first; nothing is
# installed with dpkg -i):
#   linux-source-<major.minor>        the source, a .tar.xz inside the .deb
#   linux-headers-<release>           .config, Module.symvers, vmlinux (BTF base) of the build
#   linux-headers-<abi>-common        named by the headers' Depends
#   linux-kbuild-<abi>                named by the headers' Depends (kept for reference;
#                                     its tools need a newer glibc than bookworm's, the
#                                     tree builds its own)
#
# Preparation, once per version: the headers' .config, Module.symvers and vmlinux
# copied into the source; module signing off (CONFIG_MODULE_SIG_ALL=n, no trusted or
# revocation keys: no key material is needed or made); CONFIG_DEBUG_INFO_BTF_MODULES
# kept on (without it `struct module` changes layout and the stock kernel refuses the
# modules); `make olddefconfig`; `make modules_prepare KERNELRELEASE=<release>`.
# Pristine copies of virt/kvm/*.c and arch/x86/kvm/*.c go to .lab-pristine/ in the
# tree, so that a lab run that was killed while a mutant was applied can be undone.
#
# Cache: ${GMEMTEST_LAB_CACHE:-$HOME/.cache/gmemtest/lab}
#   debs/                          downloaded packages (removed once the tree is complete)
#   tree-<version>/                unpacked packages (pkg/) and the source (src/)
#       .complete                  written last; a tree without it is redone
#
# Output: one JSON object on stdout:
#   {"release","version","tree","headers","packages":[...]}
# "tree" is the prepared source dir. Progress goes to stderr.
#
# Environment:
#   GMEMTEST_LAB_CACHE      cache dir (above)
#   GMEMTEST_KERNEL_CACHE   the kernel fetcher's cache (its apt/ holds the private config)
#   GMEMTEST_NO_INSTALL=1   do not apt-get install missing host packages
#   GMEMTEST_JOBS           make -j (default: the number of CPUs)
#
# Exit codes: 0 ready; 1 any other failure; 2 usage error; 3 the package archive
# cannot be reached and the tree is not cached (last stderr line "gmemtest-lab: SKIP: ...").
set -euo pipefail

readonly EXIT_FAIL=1 EXIT_USAGE=2 EXIT_UNREACHABLE=3
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
readonly LAB="${GMEMTEST_LAB_CACHE:-${home:-/root}/.cache/gmemtest/lab}"
readonly KCACHE="${GMEMTEST_KERNEL_CACHE:-${home:-/root}/.cache/gmemtest/kernels}"
readonly JOBS="${GMEMTEST_JOBS:-$(nproc)}"

log() { printf 'gmemtest-lab: %s\n' "$*" >&2; }
die() { log "error: $*"; exit "$EXIT_FAIL"; }
skip() { log "SKIP: $*"; exit "$EXIT_UNREACHABLE"; }

[[ $# -eq 2 ]] || { log "usage: $0 <release> <version>"; exit "$EXIT_USAGE"; }
readonly RELEASE=$1 VERSION=$2
[[ $RELEASE =~ ^[0-9]+\.[0-9]+[A-Za-z0-9.+~-]*$ ]] || { log "bad release '$RELEASE'"; exit "$EXIT_USAGE"; }
[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { log "bad version '$VERSION'"; exit "$EXIT_USAGE"; }
readonly MAJOR=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$RELEASE")
readonly TREE="$LAB/tree-$VERSION"

json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

print_result() {
  local pkgs=() p first=1
  mapfile -t pkgs <"$TREE/packages"
  printf '{"release": %s, "version": %s, "tree": %s, "headers": %s, "packages": [' \
    "$(json_str "$RELEASE")" "$(json_str "$VERSION")" "$(json_str "$TREE/src")" \
    "$(json_str "$TREE/pkg/usr/src/linux-headers-$RELEASE")"
  for p in "${pkgs[@]}"; do [[ $first == 1 ]] || printf ', '; first=0; json_str "$p"; done
  printf ']}\n'
}

# --- host packages for building kernel modules --------------------------------
ensure_tools() {
  local -A need=()
  local t
  for t in flex bison bc make gcc; do command -v "$t" >/dev/null 2>&1 || need[$t]=1; done
  command -v pahole >/dev/null 2>&1 || need[dwarves]=1
  command -v xz >/dev/null 2>&1 || need[xz-utils]=1
  command -v strip >/dev/null 2>&1 || need[binutils]=1
  command -v dpkg-deb >/dev/null 2>&1 || need[dpkg]=1
  local p
  for p in libelf-dev libssl-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need[$p]=1
  done
  [[ ${#need[@]} -eq 0 ]] && return 0
  [[ ${GMEMTEST_NO_INSTALL:-0} == 1 ]] && die "missing host packages: ${!need[*]} (GMEMTEST_NO_INSTALL=1)"
  log "installing host packages: ${!need[*]}"
  # The host's own apt configuration, not the kernel fetcher's private one.
  if ! env -u APT_CONFIG DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${!need[@]}" >&2; then
    env -u APT_CONFIG apt-get update >&2 || skip "apt-get update (host sources) failed: cannot install ${!need[*]}"
    env -u APT_CONFIG DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${!need[@]}" >&2 \
      || die "apt-get install ${!need[*]} failed"
  fi
}

unreachable_output() {
  grep -Eiq 'Could not resolve|Temporary failure resolving|Could not connect|Connection (failed|timed out|refused)|Network is unreachable|No route to host|Unable to connect' "$1"
}

# The packages to fetch, at $VERSION: source, headers, and what the headers depend on.
package_list() {
  local deps common kbuild
  deps=$(apt-cache show "linux-headers-$RELEASE=$VERSION" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
  [[ -n $deps ]] || die "linux-headers-$RELEASE $VERSION not in the archive's lists (did scripts/kernels/fetch.sh run?)"
  common=$(tr ',' '\n' <<<"$deps" | sed 's/^ *//; s/ .*//' | grep -E '^linux-headers-.*-common$' | head -n1 || true)
  kbuild=$(tr ',' '\n' <<<"$deps" | sed 's/^ *//; s/ .*//' | grep -E '^linux-kbuild-' | head -n1 || true)
  [[ -n $common && -n $kbuild ]] || die "linux-headers-$RELEASE does not depend on a -common and a linux-kbuild package: $deps"
  printf '%s\n' "linux-source-$MAJOR" "linux-headers-$RELEASE" "$common" "$kbuild"
}

# set_config FILE NAME VALUE   (VALUE: y, n, or a quoted string) -- in place, like scripts/config
set_config() {
  local file=$1 name=$2 value=$3
  sed -i -E "/^(# )?CONFIG_${name}( is not set|=.*)$/d" "$file"
  if [[ $value == n ]]; then printf '# CONFIG_%s is not set\n' "$name" >>"$file"
  else printf 'CONFIG_%s=%s\n' "$name" "$value" >>"$file"; fi
}

prepare_tree() {
  local tmp="$TREE.tmp" pkgs=() p
  rm -rf "$tmp" "$TREE"
  mkdir -p "$tmp" "$LAB/debs"
  mapfile -t pkgs < <(package_list)
  log "packages: ${pkgs[*]} ($VERSION)"
  local out="$tmp/download.log" want=()
  for p in "${pkgs[@]}"; do
    compgen -G "$LAB/debs/${p}_*.deb" >/dev/null || want+=("$p=$VERSION")
  done
  if [[ ${#want[@]} -gt 0 ]]; then
    if ! (cd "$LAB/debs" && apt-get download "${want[@]}") >"$out" 2>&1; then
      cat "$out" >&2
      if unreachable_output "$out"; then rm -rf "$tmp"; skip "cannot download ${want[*]} from the package archive"; fi
      die "apt-get download ${want[*]} failed"
    fi
  fi
  local t0=$SECONDS deb
  for p in "${pkgs[@]}"; do
    deb=$(compgen -G "$LAB/debs/${p}_*.deb" | head -n1)
    dpkg -x "$deb" "$tmp/pkg"
  done
  local tarball
  tarball=$(compgen -G "$tmp/pkg/usr/src/linux-source-$MAJOR.tar.*" | head -n1 || true)
  [[ -n $tarball ]] || die "linux-source-$MAJOR holds no usr/src/linux-source-$MAJOR.tar.*"
  mkdir -p "$tmp/unpack"
  tar -xf "$tarball" -C "$tmp/unpack"
  rm -f "$tarball"
  mv "$tmp/unpack/linux-source-$MAJOR" "$tmp/src"
  rmdir "$tmp/unpack"
  log "unpacked in $((SECONDS - t0)) s"

  local hdr="$tmp/pkg/usr/src/linux-headers-$RELEASE" src="$tmp/src" f
  for f in .config Module.symvers vmlinux; do
    [[ -s $hdr/$f ]] || die "linux-headers-$RELEASE has no $f"
    cp "$hdr/$f" "$src/$f"
  done
  set_config "$src/.config" MODULE_SIG_ALL n
  set_config "$src/.config" SYSTEM_TRUSTED_KEYS '""'
  set_config "$src/.config" SYSTEM_REVOCATION_KEYS '""'
  set_config "$src/.config" DEBUG_INFO_BTF_MODULES y
  t0=$SECONDS
  make -C "$src" -s olddefconfig >&2 || die "make olddefconfig failed"
  grep -qx 'CONFIG_DEBUG_INFO_BTF_MODULES=y' "$src/.config" \
    || die "CONFIG_DEBUG_INFO_BTF_MODULES did not survive olddefconfig (is pahole new enough?); the modules would not load"
  grep -qx 'CONFIG_KVM=m' "$src/.config" || die "CONFIG_KVM is not a module in this kernel's config"
  log "make modules_prepare (KERNELRELEASE=$RELEASE, -j$JOBS)"
  make -C "$src" -s -j"$JOBS" KERNELRELEASE="$RELEASE" modules_prepare >"$tmp/prepare.log" 2>&1 \
    || { tail -n 40 "$tmp/prepare.log" >&2; die "make modules_prepare failed (log: $TREE/prepare.log)"; }
  log "modules_prepare in $((SECONDS - t0)) s"
  [[ $(cat "$src/include/config/kernel.release" 2>/dev/null) == "$RELEASE" ]] \
    || die "include/config/kernel.release is '$(cat "$src/include/config/kernel.release" 2>/dev/null)', not $RELEASE"

  mkdir -p "$src/.lab-pristine"
  (cd "$src" && cp --parents virt/kvm/*.c arch/x86/kvm/*.c .lab-pristine/)
  cp "$src/.config" "$src/.lab-pristine/config"
  printf '%s\n' "${pkgs[@]}" >"$tmp/packages"
  touch "$tmp/.complete"
  mv "$tmp" "$TREE"
  rm -f "$LAB/debs/"*.deb
}

main() {
  ensure_tools
  if [[ -f $TREE/.complete ]]; then
    log "source tree $TREE/src (cached)"
    print_result
    return 0
  fi
  [[ -r $KCACHE/apt/apt.conf ]] || die "no private apt configuration in $KCACHE/apt (run scripts/kernels/fetch.sh first)"
  export APT_CONFIG="$KCACHE/apt/apt.conf"
  prepare_tree
  log "source tree $TREE/src ready"
  print_result
}

main
