# shellcheck shell=bash
# Private apt configuration for Debian arm64 packages, sourced by the scripts in
# scripts/arm64/ (the kernel fetcher, the guest root `gmemtest boot` prepares, the
# C test build of the kernel matrix) and scripts/uapi/gen-fixture-arm64.sh.
#
# It never touches the host's apt state: own sources list, lists, archives and
# cache under $ARM64_APT_DIR, an empty dpkg status, none of the host's
# apt.conf.d parts.  Packages are only ever fetched with `apt-get download` and
# unpacked with `dpkg-deb -x`; nothing goes through dpkg -i.
#
# After arm64_apt_setup, APT_CONFIG points at the private apt.conf, so plain
# apt-get / apt-cache calls use it.  The sources list is one fixed set of
# suites, whichever script writes it, so that the scripts do not undo each
# other's `apt-get update`: sid (kernels, linux-libc-dev, busybox) and
# bookworm (the guest root's libc6/libstdc++6/libgcc-s1: the host's own
# Debian release), plus GMEMTEST_ARM64_EXTRA_SUITES (space separated).
# Environment:
#   GMEMTEST_ARM64_CACHE    root of the arm64 caches (default ~/.cache/gmemtest)
#   GMEMTEST_DEBIAN_MIRROR  Debian mirror URI (default: the host's Debian source)

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
ARM64_CACHE_ROOT=${GMEMTEST_ARM64_CACHE:-${home:-/root}/.cache/gmemtest}
ARM64_KERNEL_CACHE=$ARM64_CACHE_ROOT/kernels-arm64
ARM64_APT_DIR=$ARM64_KERNEL_CACHE/apt

arm64_log() { printf '%s: %s\n' "${ARM64_LOG_TAG:-gmemtest-arm64}" "$*" >&2; }
arm64_die() { arm64_log "error: $*"; exit 1; }
# Exit 3: the archive is unreachable (callers report SKIP with the last line).
arm64_skip() { arm64_log "SKIP: $*"; exit 3; }

# shellcheck source=../lib/private-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/private-apt.sh"

# Writes the configuration (idempotent) and exports APT_CONFIG.
arm64_apt_setup() {
  local suites=(sid bookworm) extra
  read -r -a extra <<<"${GMEMTEST_ARM64_EXTRA_SUITES:-}"
  suites+=("${extra[@]}")
  private_apt_write "$ARM64_APT_DIR" arm64 "$(private_apt_mirror)" "${suites[@]}" \
    || arm64_die "$PRIVATE_APT_KEYRING missing (package debian-archive-keyring)"
}

# apt-get update, at most once per $ARM64_APT_MAX_AGE seconds (default 6 h),
# unless the lists are missing.  Returns 1 when the archive is unreachable
# but lists from an earlier update exist (callers may go on with them).
arm64_apt_update() {
  local stamp=$ARM64_APT_DIR/updated max=${ARM64_APT_MAX_AGE:-21600} now log=$ARM64_APT_DIR/update.log
  now=$(date +%s)
  if [[ -f $stamp ]] && (( now - $(<"$stamp") < max )) && [[ $(<"$ARM64_APT_DIR/sources.list") == "$(<"$ARM64_APT_DIR/sources.list.updated" 2>/dev/null)" ]]; then
    return 0
  fi
  if apt-get update >"$log" 2>&1 && ! grep -Eq '^(Err|E):' "$log"; then
    printf '%s\n' "$now" >"$stamp"
    cp "$ARM64_APT_DIR/sources.list" "$ARM64_APT_DIR/sources.list.updated"
    return 0
  fi
  cat "$log" >&2
  private_apt_unreachable "$log" || arm64_die "apt-get update with the arm64 configuration failed"
  compgen -G "$ARM64_APT_DIR/lists/*_Packages*" >/dev/null || arm64_skip "the package archive cannot be reached and no arm64 package lists are cached"
  arm64_log "warning: the package archive cannot be reached; using the cached package lists"
  return 1
}

# Field $2 of package $1 as apt-cache picks it.
arm64_pkg_field() {
  apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n1
}

# Downloads packages (name or name=version) into dir $1 (cached in the private
# archives dir by file name) and prints the .deb paths.
arm64_download() {
  local dest=$1; shift
  mkdir -p "$dest"
  local log=$dest/.download.log
  if ! (cd "$dest" && apt-get download "$@") >"$log" 2>&1; then
    cat "$log" >&2
    private_apt_unreachable "$log" && arm64_skip "cannot download $* from the package archive"
    arm64_die "apt-get download $* failed"
  fi
  rm -f "$log"
}
