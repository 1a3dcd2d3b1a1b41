/**
 * Kernel module resolution for the boot initramfs: reads a kernel's
 * modules.dep (and modules.builtin), turns a list of wanted module names into
 * the files to load, dependencies first, and decompresses them on the host.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Modules needed to mount the host root over virtio-9p. */
export const NINEP_MODULES: readonly string[] = ['virtio_pci', 'netfs', '9pnet', '9pnet_virtio', '9p'];
/**
 * Modules that give /dev/kvm in a TCG guest. TCG's `-cpu max` emulates AMD
 * SVM, so kvm-amd (not kvm-intel) is the one that loads; ccp is its dependency.
 */
export const KVM_MODULES: readonly string[] = ['irqbypass', 'kvm', 'ccp', 'kvm_amd'];

/** A module to load, in load order. */
export interface ResolvedModule {
  /** Canonical module name (dashes turned into underscores). */
  name: string;
  /** Absolute path of the (possibly compressed) .ko file. */
  path: string;
  /** Compression of `path`, as told by its suffix. */
  compression: 'none' | 'xz' | 'zst' | 'gz';
}

export interface ModuleResolution {
  /** Modules to insmod, each after all of its dependencies. */
  load: ResolvedModule[];
  /** Requested modules that are built into the kernel (nothing to load). */
  builtin: string[];
}

/** A requested module is neither in modules.dep nor in modules.builtin. */
export class MissingModuleError extends Error {
  constructor(
    readonly modulesDir: string,
    readonly missing: string[],
    detail: string,
  ) {
    super(`kernel modules not found in ${modulesDir}: ${missing.join(', ')}${detail ? ` (${detail})` : ''}`);
    this.name = 'MissingModuleError';
  }
}

/** Module names compare with '-' and '_' as the same character. */
export function canonicalModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

function moduleNameOfPath(relPath: string): string {
  return canonicalModuleName(basename(relPath).replace(/\.ko(\.(xz|zst|gz))?$/, ''));
}

function compressionOf(path: string): ResolvedModule['compression'] {
  if (path.endsWith('.ko.xz')) return 'xz';
  if (path.endsWith('.ko.zst')) return 'zst';
  if (path.endsWith('.ko.gz')) return 'gz';
  if (path.endsWith('.ko')) return 'none';
  throw new Error(`not a kernel module file name: ${path}`);
}

interface DepEntry {
  rel: string;
  deps: string[];
}

/** Parses modules.dep into name -> {relative path, dependency names}. */
export function parseModulesDep(text: string): Map<string, DepEntry> {
  const byName = new Map<string, DepEntry>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rel = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((d) => d !== '')
      .map(moduleNameOfPath);
    byName.set(moduleNameOfPath(rel), { rel, deps });
  }
  return byName;
}

/**
 * Resolves `wanted` against the kernel's modules dir (the one holding
 * modules.dep, i.e. lib/modules/<release>). Throws MissingModuleError naming
 * every module that is neither loadable nor built in; a modules dir without
 * modules.dep is reported the same way, with a hint to run depmod.
 */
export function resolveModules(modulesDir: string, wanted: readonly string[]): ModuleResolution {
  const depPath = join(modulesDir, 'modules.dep');
  if (!existsSync(depPath)) {
    throw new MissingModuleError(modulesDir, [...wanted], 'no modules.dep: run depmod -b on the unpacked kernel');
  }
  const deps = parseModulesDep(readFileSync(depPath, 'utf8'));
  const builtinPath = join(modulesDir, 'modules.builtin');
  const builtinSet = new Set<string>(
    existsSync(builtinPath)
      ? readFileSync(builtinPath, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map(moduleNameOfPath)
      : [],
  );

  const load: ResolvedModule[] = [];
  const builtin: string[] = [];
  const missing: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();

  const visit = (name: string, requestedBy: string | null): void => {
    if (done.has(name)) return;
    const entry = deps.get(name);
    if (!entry) {
      if (builtinSet.has(name)) {
        if (requestedBy === null) builtin.push(name);
      } else if (!missing.includes(name)) {
        missing.push(requestedBy === null ? name : `${name} (needed by ${requestedBy})`);
      }
      done.add(name);
      return;
    }
    if (visiting.has(name)) throw new Error(`dependency cycle in modules.dep at ${name}`);
    visiting.add(name);
    for (const dep of entry.deps) visit(dep, name);
    visiting.delete(name);
    done.add(name);
    const path = join(modulesDir, entry.rel);
    load.push({ name, path, compression: compressionOf(path) });
  };

  for (const w of wanted) visit(canonicalModuleName(w), null);
  if (missing.length > 0) {
    const hint = existsSync(builtinPath) ? '' : 'no modules.builtin to tell built-in modules apart';
    throw new MissingModuleError(modulesDir, missing, hint);
  }
  for (const m of load) {
    if (!existsSync(m.path)) throw new MissingModuleError(modulesDir, [m.name], `modules.dep names ${m.path}, which does not exist`);
  }
  return { load, builtin };
}

/**
 * The module's ELF image, decompressed on the host. Debian ships .ko.xz; the
 * guest's busybox insmod passes the file to init_module() as is, and
 * decompressing there under TCG would be slow anyway, so the initramfs
 * carries plain .ko files. xz and zstd use the host's tools (Node 20's zlib
 * has neither).
 */
export function readModuleImage(m: ResolvedModule): Buffer {
  if (m.compression === 'none') return readFileSync(m.path);
  if (m.compression === 'gz') return gunzipSync(readFileSync(m.path));
  const tool = m.compression === 'xz' ? 'xz' : 'zstd';
  const r = spawnSync(tool, ['-dc', m.path], { maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`cannot run ${tool} to decompress ${m.path}: ${r.error.message} (install ${tool === 'xz' ? 'xz-utils' : 'zstd'})`);
  if (r.status !== 0) throw new Error(`${tool} -dc ${m.path} failed: ${r.stderr.toString().trim()}`);
  const image = r.stdout;
  if (image.length < 4 || image.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${m.path} did not decompress to an ELF file`);
  return image;
}
