/**
 * `gmemtest boot --kvm-modules <dir>`: KVM modules a developer rebuilt (`make
 * M=arch/x86/kvm`) stand in for the kernel's own for one boot. The kernel's
 * modules tree is never written to: the boot's work dir gets a tree of symlinks
 * to it in which only the directories on the way to a replaced module are real,
 * the replaced files are copies of the new ones, and `depmod -b` rebuilds the
 * index files of that copy.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { canonicalModuleName, parseModulesDep, readModuleImage, type ResolvedModule } from './modules.js';

/** A KVM module file offered as a replacement. */
export interface KvmModuleFile {
  /** Canonical module name ("kvm_amd"). */
  name: string;
  /** Absolute or given path of the file. */
  path: string;
  compression: ResolvedModule['compression'];
  /** The module's vermagic string, from its .modinfo section. */
  vermagic: string;
}

/** Anything wrong with the given modules or the tree they are to replace modules of. */
export class KvmModulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KvmModulesError';
  }
}

const MODULE_FILE = /^(kvm[A-Za-z0-9_-]*)\.ko(?:\.(xz|zst|gz))?$/;

/** The release a vermagic string is for: its first word. */
export function vermagicRelease(vermagic: string): string {
  return vermagic.trim().split(/\s+/)[0] ?? '';
}

/**
 * The key=value strings of an ELF64 little-endian kernel module's .modinfo
 * section (a key may occur more than once: alias, depends...).
 */
export function readModinfo(image: Buffer, what = 'module'): Map<string, string[]> {
  if (image.length < 64 || image.readUInt32BE(0) !== 0x7f454c46) throw new KvmModulesError(`${what}: not an ELF file`);
  if (image[4] !== 2 || image[5] !== 1) throw new KvmModulesError(`${what}: not a 64-bit little-endian ELF file`);
  const shoff = Number(image.readBigUInt64LE(0x28));
  const shentsize = image.readUInt16LE(0x3a);
  const shnum = image.readUInt16LE(0x3c);
  const shstrndx = image.readUInt16LE(0x3e);
  if (shoff === 0 || shentsize < 0x40 || shoff + shnum * shentsize > image.length || shstrndx >= shnum) {
    throw new KvmModulesError(`${what}: bad ELF section header table`);
  }
  const section = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    return { name: image.readUInt32LE(at), offset: Number(image.readBigUInt64LE(at + 0x18)), size: Number(image.readBigUInt64LE(at + 0x20)) };
  };
  const strtab = section(shstrndx);
  const nameOf = (off: number): string => {
    const start = strtab.offset + off;
    const end = image.indexOf(0, start);
    return image.toString('latin1', start, end < 0 ? start : end);
  };
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameOf(s.name) !== '.modinfo') continue;
    if (s.offset + s.size > image.length) throw new KvmModulesError(`${what}: .modinfo runs past the end of the file`);
    const info = new Map<string, string[]>();
    for (const entry of image.toString('latin1', s.offset, s.offset + s.size).split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const k = entry.slice(0, eq);
      info.set(k, [...(info.get(k) ?? []), entry.slice(eq + 1)]);
    }
    return info;
  }
  throw new KvmModulesError(`${what}: no .modinfo section (not a kernel module)`);
}

function readVermagic(m: { name: string; path: string; compression: ResolvedModule['compression'] }): string {
  let image: Buffer;
  try {
    image = readModuleImage(m);
  } catch (e) {
    throw new KvmModulesError(`${m.path}: ${(e as Error).message}`);
  }
  const v = readModinfo(image, m.path).get('vermagic')?.[0];
  if (v === undefined || v.trim() === '') throw new KvmModulesError(`${m.path}: no vermagic in .modinfo`);
  return v.trim();
}

/**
 * The kvm*.ko / .ko.xz / .ko.zst / .ko.gz files of `dir`, each with its vermagic.
 * Throws KvmModulesError when there is none, when one module comes in two
 * files, or when a file is not a kernel module.
 */
export function findKvmModules(dir: string): KvmModuleFile[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new KvmModulesError(`${dir}: not a directory`);
    entries = readdirSync(dir).sort();
  } catch (e) {
    if (e instanceof KvmModulesError) throw e;
    throw new KvmModulesError(`${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
  const found: KvmModuleFile[] = [];
  for (const f of entries) {
    const m = MODULE_FILE.exec(f);
    if (!m) continue;
    const path = join(dir, f);
    if (!statSync(path).isFile()) continue;
    const name = canonicalModuleName(m[1]!);
    const other = found.find((x) => x.name === name);
    if (other) throw new KvmModulesError(`${dir}: module ${name} is there twice (${basename(other.path)}, ${f}); keep one`);
    const compression = (m[2] ?? 'none') as ResolvedModule['compression'];
    found.push({ name, path, compression, vermagic: readVermagic({ name, path, compression }) });
  }
  if (found.length === 0) throw new KvmModulesError(`${dir}: no kvm*.ko, .ko.xz or .ko.zst files`);
  return found;
}

/** Where each module of `mods` sits in the tree (path relative to modulesDir), or a KvmModulesError. */
function locateInTree(modulesDir: string, mods: readonly KvmModuleFile[]): Map<string, string> {
  const depPath = join(modulesDir, 'modules.dep');
  if (!existsSync(depPath)) throw new KvmModulesError(`${modulesDir}: no modules.dep (run depmod -b <root> <release>)`);
  const dep = parseModulesDep(readFileSync(depPath, 'utf8'));
  const where = new Map<string, string>();
  for (const m of mods) {
    const e = dep.get(m.name);
    if (!e) throw new KvmModulesError(`${m.path}: the kernel has no module ${m.name} to replace (not in ${depPath})`);
    where.set(m.name, e.rel);
  }
  return where;
}

/**
 * Checks that every module of `mods` was built for `release` and replaces a
 * module of the tree: its vermagic's release must be `release`, and its whole
 * vermagic that of the module it replaces (SMP, preempt, mod_unload...: the
 * kernel refuses a module whose vermagic differs from its own).
 */
export function checkKvmModules(mods: readonly KvmModuleFile[], release: string, modulesDir: string): void {
  for (const m of mods) {
    const rel = vermagicRelease(m.vermagic);
    if (rel !== release) {
      throw new KvmModulesError(`${m.path} was built for ${rel} (vermagic '${m.vermagic}'), the kernel is ${release}`);
    }
  }
  const where = locateInTree(modulesDir, mods);
  for (const m of mods) {
    const rel = where.get(m.name)!;
    const path = join(modulesDir, rel);
    const stock = readVermagic({ name: m.name, path, compression: compressionOfName(rel) });
    if (stock !== m.vermagic) {
      throw new KvmModulesError(`${m.path}: vermagic '${m.vermagic}' differs from the kernel's own ${m.name} ('${stock}', ${path})`);
    }
  }
}

function compressionOfName(rel: string): ResolvedModule['compression'] {
  if (rel.endsWith('.ko.xz')) return 'xz';
  if (rel.endsWith('.ko.zst')) return 'zst';
  if (rel.endsWith('.ko.gz')) return 'gz';
  return 'none';
}

/** depmod from kmod: on PATH, or in /usr/sbin or /sbin (not on a plain user's PATH). */
export function findDepmod(path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(':').filter((d) => d !== ''), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    try {
      accessSync(join(d, 'depmod'), constants.X_OK);
      return join(d, 'depmod');
    } catch {
      // next
    }
  }
  return undefined;
}

/** Index files depmod reads (the rest of modules.* it writes, and they are not carried over). */
const DEPMOD_INPUTS = new Set(['modules.order', 'modules.builtin', 'modules.builtin.modinfo']);

export interface OverlayOptions {
  /** The kernel's modules dir (lib/modules/<release>, holding modules.dep); never written to. */
  modulesDir: string;
  /** The replacements (from findKvmModules, checked with checkKvmModules). */
  modules: readonly KvmModuleFile[];
  /** The kernel release: the overlay is <into>/lib/modules/<release>. */
  release: string;
  /** A directory to build the overlay in (the boot's work dir); created if missing. */
  into: string;
  /** depmod to run (default: findDepmod()). */
  depmod?: string;
}

/**
 * Builds <into>/lib/modules/<release>: the tree of `modulesDir` with the given
 * modules in place of the same-named ones, and runs `depmod -b <into> <release>`
 * on it. Returns the new modules dir. Throws KvmModulesError on any problem.
 */
export function overlayKvmModules(o: OverlayOptions): string {
  const depmod = o.depmod ?? findDepmod();
  const modulesDir = resolve(o.modulesDir);
  if (depmod === undefined) throw new KvmModulesError('depmod not found (Debian package kmod): it is needed to index the replaced modules');
  const where = locateInTree(modulesDir, o.modules);
  const root = join(o.into, 'lib/modules', o.release);
  if (existsSync(root)) throw new KvmModulesError(`${root} exists already`);
  mkdirSync(root, { recursive: true });

  // Relative dirs that must be real (they hold, or lead to, a replaced file), and the
  // replaced files by their dir.
  const realDirs = new Set<string>(['']);
  const replacedIn = new Map<string, Map<string, KvmModuleFile>>();
  for (const m of o.modules) {
    const rel = where.get(m.name)!;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) realDirs.add(parts.slice(0, i).join('/'));
    const dir = parts.slice(0, -1).join('/');
    const files = replacedIn.get(dir) ?? new Map<string, KvmModuleFile>();
    files.set(parts[parts.length - 1]!, m);
    replacedIn.set(dir, files);
  }

  const build = (rel: string): void => {
    const src = rel === '' ? modulesDir : join(modulesDir, rel);
    const dst = rel === '' ? root : join(root, rel);
    if (rel !== '') mkdirSync(dst);
    const replaced = replacedIn.get(rel);
    for (const name of readdirSync(src)) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (rel === '' && name.startsWith('modules.')) {
        if (DEPMOD_INPUTS.has(name)) copyFileSync(join(src, name), join(dst, name));
        continue;
      }
      const m = replaced?.get(name);
      if (m) {
        // The new file keeps its own suffix: kvm.ko.xz in the tree may become kvm.ko.
        const base = name.replace(/\.ko(\.(xz|zst|gz))?$/, '');
        copyFileSync(m.path, join(dst, basename(m.path).replace(/^[^.]+/, base)));
        continue;
      }
      if (realDirs.has(childRel)) build(childRel);
      else symlinkSync(join(src, name), join(dst, name));
    }
  };
  try {
    build('');
  } catch (e) {
    throw new KvmModulesError(`cannot lay out the modules tree copy in ${root}: ${(e as Error).message}`);
  }

  const r = spawnSync(depmod, ['-b', o.into, o.release], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error) throw new KvmModulesError(`cannot run ${depmod}: ${r.error.message}`);
  if (r.status !== 0) throw new KvmModulesError(`depmod -b ${o.into} ${o.release} failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const dep = parseModulesDep(existsSync(join(root, 'modules.dep')) ? readFileSync(join(root, 'modules.dep'), 'utf8') : '');
  for (const m of o.modules) {
    const e = dep.get(m.name);
    const want = join(root, e?.rel ?? '');
    if (!e || !existsSync(want) || statSync(want).size !== statSync(m.path).size) {
      throw new KvmModulesError(`depmod on the copy did not index the new ${m.name} (${e ? e.rel : 'absent from modules.dep'})`);
    }
  }
  return root;
}
