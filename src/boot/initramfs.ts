/**
 * Builds the initramfs that `bootAndRun` boots: a static busybox, the
 * kernel's own 9p and kvm modules (decompressed, in load order) and a
 * generated /init that mounts the host root over 9p, chroots into it, runs
 * one command and powers the guest off.
 *
 * The archive is an uncompressed newc cpio (see cpio.ts): the kernel unpacks
 * it without a decompressor, which under TCG saves more time than the few MB
 * that gzip would save in a file QEMU loads straight into guest memory.
 */
import { readFileSync } from 'node:fs';
import { CpioWriter } from './cpio.js';
import { KVM_MODULES, NINEP_MODULES, readModuleImage, resolveModules, type ModuleResolution } from './modules.js';

/** 9p mount tag of the host root (shared read-only). */
export const HOST_ROOT_TAG = 'hostroot';
/** 9p mount tag of the writable host directory that receives the results. */
export const OUT_TAG = 'gmemtest_out';
/**
 * Path, inside the chroot, where the results share is visible to the command.
 * The host's /run is covered by a guest tmpfs (its host contents mean nothing
 * in the guest); the host's /tmp stays visible, read-only, so that files the
 * host prepared there (a bundle in os.tmpdir()) can be run.
 */
export const GUEST_OUT_DIR = '/run/gmemtest-out';
/** TMPDIR for the command: writable, in the same guest tmpfs. */
export const GUEST_TMPDIR = '/run/tmp';
/**
 * Every line /init prints for the host starts with this, at the start of a
 * console line: `@@gmemtest <key> <value...>`. Keys: `t <stage> <uptime-s>`,
 * `release <uname -r>`, `error <stage> <detail>`, `note <text>`,
 * `exit <code>`, `out <stdout line>` (stdout via the console, only when the
 * results share could not be mounted), `done`.
 */
export const MARK = '@@gmemtest';

/** Files /init writes in the results share. */
export const OUT_STDOUT = 'stdout';
export const OUT_EXIT = 'exit';

export interface InitramfsOptions {
  /** The kernel's modules dir (holding modules.dep), e.g. .../lib/modules/<release>. */
  modulesDir: string;
  /** argv of the command to run inside `chroot /host`; argv[0] is looked up in the chroot's PATH. */
  command: readonly string[];
  /** Module names to load (with their dependencies). Default: the 9p set and the kvm set. */
  modules?: readonly string[];
  /** Extra environment for the command (names must be shell identifiers). */
  env?: Readonly<Record<string, string>>;
  /** Working directory inside the chroot (default "/"). */
  cwd?: string;
  /** Static busybox binary to embed (default /bin/busybox, from Debian's busybox-static). */
  busybox?: string;
  /**
   * 9p cache mode for the read-only host root. "loose" lets the guest cache
   * file data and metadata, which is what makes node start in seconds under
   * TCG; "none" always asks the host.
   */
  hostRootCache?: 'loose' | 'none';
}

export interface Initramfs {
  /** The newc cpio archive, ready for QEMU's -initrd. */
  data: Buffer;
  /** Which modules it loads (in order) and which requested ones are built in. */
  modules: ModuleResolution;
  /** The generated /init, for diagnostics. */
  initScript: string;
}

/** Quotes one word for a POSIX shell. */
export function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Throws unless `path` is an x86-64 ELF executable without a program interpreter. */
export function assertStaticElf(path: string, image: Buffer): void {
  const ok =
    image.length > 64 &&
    image.readUInt32BE(0) === 0x7f454c46 && // \x7fELF
    image[4] === 2 && // ELFCLASS64
    image[5] === 1; // little endian
  if (!ok) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
  const phoff = Number(image.readBigUInt64LE(0x20));
  const phentsize = image.readUInt16LE(0x36);
  const phnum = image.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > image.length) break;
    if (image.readUInt32LE(at) === 3 /* PT_INTERP */) {
      throw new Error(`${path} is dynamically linked; the initramfs needs a static busybox (Debian package busybox-static)`);
    }
  }
}

/** Renders /init for the given module files (names only; files are /lib/modules/<name>.ko). */
export function renderInit(opts: {
  moduleNames: readonly string[];
  command: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  hostRootCache?: 'loose' | 'none';
}): string {
  if (opts.command.length === 0) throw new Error('empty command');
  const envLines = Object.entries(opts.env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad environment variable name: ${k}`);
    return `export ${k}=${shQuote(v)}`;
  });
  const argv = opts.command.map(shQuote).join(' ');
  const cwd = opts.cwd ?? '/';
  // With a working directory other than /, the host's /bin/sh changes into it
  // after the chroot (busybox is not inside the chroot).
  const run =
    cwd === '/'
      ? `chroot /host "$@"`
      : `chroot /host /bin/sh -c 'cd "$0" || exit 125; exec "$@"' ${shQuote(cwd)} "$@"`;
  const insmods = opts.moduleNames
    .map((n) => `insmod /lib/modules/${n}.ko || fail insmod ${shQuote(n)}`)
    .join('\n');
  const cache = opts.hostRootCache ?? 'loose';
  return `#!/bin/sh
# Generated by gmemtest (src/boot/initramfs.ts). Runs as PID 1.
/bin/busybox --install -s /bin
export PATH=/bin
mark() { echo "${MARK} $*"; }
stamp() { read -r up _ < /proc/uptime; mark t "$1" "$up"; }
fail() {
  mark error "$*"
  sync
  poweroff -f
  exit 1
}
mount -t proc proc /proc || fail mount proc
mount -t sysfs sysfs /sys || fail mount sysfs
mount -t devtmpfs devtmpfs /dev || fail mount devtmpfs
stamp init
mark release "$(uname -r)"
${insmods}
stamp modules
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=${cache},ro ${HOST_ROOT_TAG} /host || fail mount-hostroot
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ${OUT_TAG} /out; then
  OUT_SHARE=1
else
  mark note results share not mounted, stdout goes to the console
  OUT_SHARE=0
  mount -t tmpfs tmpfs /out || fail mount /out tmpfs
fi
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -o rbind /dev /host/dev || fail bind /dev
mount -o bind /proc /host/proc || fail bind /proc
mount -o bind /sys /host/sys || fail bind /sys
[ -d /host/run ] || fail no /run in the host root
mount -t tmpfs -o mode=755 tmpfs /host/run || fail tmpfs /run
mkdir -p /host${GUEST_OUT_DIR} && mount -o bind /out /host${GUEST_OUT_DIR} || fail bind out
mkdir -p -m 1777 /host${GUEST_TMPDIR} || fail mkdir ${GUEST_TMPDIR}
export HOME=/root LANG=C.UTF-8 TERM=dumb
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export GMEMTEST_OUT_DIR=${GUEST_OUT_DIR} TMPDIR=${GUEST_TMPDIR}
${envLines.join('\n')}
set -- ${argv}
stamp command-start
${run} < /dev/null > /out/${OUT_STDOUT}
rc=$?
stamp command-end
export PATH=/bin
echo "$rc" > /out/${OUT_EXIT}
if [ "$OUT_SHARE" = 0 ]; then
  sed 's/^/${MARK} out /' /out/${OUT_STDOUT}
fi
mark exit "$rc"
sync
umount /host${GUEST_OUT_DIR} 2>/dev/null
umount /out 2>/dev/null
mark done
poweroff -f
`;
}

/**
 * Builds the initramfs in memory. Throws MissingModuleError when a module
 * (or one of its dependencies) is neither in modules.dep nor built in, and a
 * plain Error for a missing or dynamic busybox or an undecompressable module.
 */
export function buildInitramfs(opts: InitramfsOptions): Initramfs {
  const busyboxPath = opts.busybox ?? '/bin/busybox';
  let busybox: Buffer;
  try {
    busybox = readFileSync(busyboxPath);
  } catch (e) {
    throw new Error(`cannot read ${busyboxPath} (Debian package busybox-static): ${(e as Error).message}`);
  }
  assertStaticElf(busyboxPath, busybox);

  const resolution = resolveModules(opts.modulesDir, opts.modules ?? [...NINEP_MODULES, ...KVM_MODULES]);
  const initScript = renderInit({
    moduleNames: resolution.load.map((m) => m.name),
    command: opts.command,
    env: opts.env,
    cwd: opts.cwd,
    hostRootCache: opts.hostRootCache,
  });

  const cpio = new CpioWriter();
  for (const d of ['bin', 'dev', 'proc', 'sys', 'host', 'out', 'tmp', 'lib', 'lib/modules']) cpio.dir(d);
  // The kernel opens /dev/console for PID 1 before anything is mounted.
  cpio.chardev('dev/console', 5, 1);
  cpio.chardev('dev/null', 1, 3, 0o666);
  cpio.file('bin/busybox', busybox, 0o755);
  cpio.symlink('bin/sh', 'busybox');
  for (const m of resolution.load) cpio.file(`lib/modules/${m.name}.ko`, readModuleImage(m));
  cpio.file('init', initScript, 0o755);
  return { data: cpio.finish(), modules: resolution, initScript };
}
