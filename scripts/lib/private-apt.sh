# shellcheck shell=bash
# A private apt configuration: its own sources list, lists, archives and caches under one
# directory, an empty dpkg status and none of the host's apt.conf.d parts, so that
# `apt-get download` and `apt-cache` work on Debian's archive without reading or changing
# the host's apt state. Sourced by scripts/kernels/fetch.sh (amd64 kernels) and
# scripts/arm64/apt.sh (arm64 packages). Nothing fetched this way is ever given to dpkg -i.

PRIVATE_APT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# The Debian mirror: GMEMTEST_DEBIAN_MIRROR, else the one the host's own apt sources use for
# Debian (label "Debian"), else deb.debian.org.
private_apt_mirror() {
  if [[ -n ${GMEMTEST_DEBIAN_MIRROR:-} ]]; then printf '%s\n' "$GMEMTEST_DEBIAN_MIRROR"; return; fi
  local uri
  # shellcheck disable=SC2016 # $(REPO_URI) is apt's own template
  uri=$(env -u APT_CONFIG apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 'Label: Debian' 2>/dev/null | head -n1)
  printf '%s\n' "${uri:-http://deb.debian.org/debian/}"
}

# private_apt_write DIR ARCH URI SUITE...: writes DIR/sources.list (main of each suite, for
# ARCH) and DIR/apt.conf, and exports APT_CONFIG. Returns 1 without the archive keyring.
private_apt_write() {
  local dir=$1 arch=$2 uri=$3 s
  shift 3
  [[ -r $PRIVATE_APT_KEYRING ]] || return 1
  mkdir -p "$dir"/{lists/partial,archives/partial,cache,parts.d,sources.d,prefs.d}
  for s in "$@"; do
    printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$arch" "$PRIVATE_APT_KEYRING" "$uri" "$s"
  done >"$dir/sources.list"
  cat >"$dir/apt.conf" <<CONF
Dir::State "$dir";
Dir::State::Lists "$dir/lists";
Dir::State::status "/dev/null";
Dir::Cache "$dir/cache";
Dir::Cache::archives "$dir/archives";
Dir::Cache::pkgcache "$dir/cache/pkgcache.bin";
Dir::Cache::srcpkgcache "$dir/cache/srcpkgcache.bin";
Dir::Etc::sourcelist "$dir/sources.list";
Dir::Etc::sourceparts "$dir/sources.d";
Dir::Etc::parts "$dir/parts.d";
Dir::Etc::preferencesparts "$dir/prefs.d";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
// The archive reachable from CI may be a frozen copy whose Release files are
// past their Valid-Until date; signatures are still checked.
Acquire::Check-Valid-Until "false";
Acquire::Retries "2";
Acquire::http::Timeout "30";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
CONF
  export APT_CONFIG=$dir/apt.conf
}

# Does this apt output (a file) say the archive could not be reached at all?
private_apt_unreachable() {
  grep -Eiq 'Could not resolve|Temporary failure resolving|Could not connect|Connection (failed|timed out|refused)|Network is unreachable|No route to host|Unable to connect' "$1"
}
