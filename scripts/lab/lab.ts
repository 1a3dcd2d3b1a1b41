// `npm run test:lab`: the kernel lab. Real kernels with real guest_memfd bugs.
//
//  1. Resolves the sid kernel the matrix boots (scripts/kernels/fetch.sh sid).
//  2. Fetches that kernel's own Debian source, headers and kbuild and prepares the tree
//     once (scripts/lab/fetch-source.sh; cached in ~/.cache/gmemtest/lab).
//  3. Builds the upstream C selftests of that tree (guest_memfd_test,
//     set_memory_region_test), cached.
//  4. Builds KVM (make M=arch/x86/kvm) in variants, each cached by a hash of its config
//     delta and mutant text: stock-rebuilt (unmodified), sw-protected
//     (CONFIG_KVM_SW_PROTECTED_VM=y) and every mutant of scripts/lab/mutants.ts on top of
//     sw-protected.
//  5. Boots the stock kernel, then the same kernel with each variant's kvm.ko and
//     kvm-amd.ko (bootAndRun's kvmModules, what `gmemtest boot --kvm-modules` uses),
//     two NUMA nodes, TCG; in each boot runs gmemtest and the C selftests.
//  6. Prints the table (also .cache/lab/table.md and table.json) and exits 0 only when:
//     the stock runs pass and are complete, stock-rebuilt's verdicts are the stock
//     kernel's, sw-protected passes all of that plus sw_protected_vm with its own flag
//     sets, and every mutant is detected by gmemtest (its expected cases not ok) in a
//     complete run. When the package archive cannot be reached: "SKIP: <reason>", exit 0.
//
// Usage: tsx scripts/lab/lab.ts [variant-name-glob...]   (default: every variant)
// A selection still boots the stock kernel, as the baseline. The product check
// (`gmemtest boot --kvm-modules` through the CLI) runs when sw-protected is selected.
// Environment: GMEMTEST_LAB_CACHE (default ~/.cache/gmemtest/lab), GMEMTEST_JOBS.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootAndRun, type BootResult } from '../../src/boot/boot-and-run.js';
import { checkCatalogue, editsOf, mutate, MUTANTS, type Mutant } from './mutants.js';
import { upstreamGaps } from './upstream-cases.js';
import { parseProgress, PROGRESS_ENV, StatusLine } from '../../src/cli/progress.js';
import { UPSTREAM } from '../../src/cases/catalogue.js';
import {
  cCaught, compactIds, cSummary, globToRegExp, incompleteBecause, leafVerdicts, notOkCases, readCOutput, readGuestKtap,
  verdictDiff, type CResult, type GuestKtap,
} from './verdicts.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, '.cache/lab');
const LAB = process.env.GMEMTEST_LAB_CACHE ?? join(process.env.HOME ?? homedir(), '.cache/gmemtest/lab');
const JOBS = process.env.GMEMTEST_JOBS ?? String(Math.max(1, Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || 1));
/** Bump when the way variants or selftests are built changes: every cached build is redone. */
const RECIPE = 1;
interface CTest { name: string; args: string[]; runs: (v: Variant) => boolean }
const C_TESTS: readonly CTest[] = [
  { name: 'guest_memfd_test', args: [], runs: () => true },
  // Its guest_memfd part checks memslot binding only; under TCG a run costs about as much
  // as gmemtest's, so it runs in the base variants and for the binding mutants. One loop
  // of the move/delete tests is enough: the guest_memfd part comes before them.
  { name: 'set_memory_region_test', args: ['1'], runs: (v) => v.mutant === undefined || v.mutant.area === 'binding' },
];
const SW_PROTECTED = { KVM_SW_PROTECTED_VM: 'y' };

interface Manifest { suite: string; release: string; version: string; vmlinuz: string; modules: string }
interface Tree { release: string; version: string; tree: string; headers: string }

interface Variant {
  name: string;
  /** What the variant is. */
  breaks: string;
  protects: string;
  config: Record<string, string>;
  mutant?: Mutant;
  /** null: the stock kernel's own modules. */
  dir: string | null;
  buildMs?: number;
  built?: 'cached' | 'built';
  buildError?: string;
}

interface BootOutcome {
  variant: string;
  booted: boolean;
  bootFailure?: string;
  exitCode?: number;
  ktapText: string;
  ktap: GuestKtap;
  c: Record<string, CResult>;
  wallMs: number;
  retried?: string;
  consoleTail: string[];
  /** Seconds: host-side prep, kernel to /init, and each guest program (guest uptime). */
  times: Record<string, number>;
}

const log = (s: string): void => { process.stdout.write(`${s}\n`); };
const secs = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

class Skip extends Error {}

function run(cmd: string, args: string[], opts: { cwd?: string; logFile?: string; timeoutMs?: number; stderrTo?: boolean } = {}): { code: number | null; stdout: string; stderr: string } {
  if (opts.logFile) {
    const fd = openSync(opts.logFile, 'a');
    try {
      const r = spawnSync(cmd, args, { cwd: opts.cwd, stdio: ['ignore', fd, fd], timeout: opts.timeoutMs });
      if (r.error) throw r.error;
      return { code: r.status, stdout: '', stderr: '' };
    } finally {
      closeSync(fd);
    }
  }
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 1 << 26, timeout: opts.timeoutMs, stdio: ['ignore', 'pipe', opts.stderrTo ? 'inherit' : 'pipe'] });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr ?? '' };
}

function lastLines(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).map((l) => `    | ${l}`).join('\n');
  } catch {
    return '';
  }
}

// --- 1, 2: kernel and source --------------------------------------------------------

function resolveKernel(): Manifest {
  const r = run(join(ROOT, 'scripts/kernels/fetch.sh'), ['sid'], { stderrTo: true, timeoutMs: 30 * 60_000 });
  if (r.code === 3) throw new Skip('scripts/kernels/fetch.sh: the package archive cannot be reached');
  if (r.code !== 0) throw new Error(`scripts/kernels/fetch.sh sid exited with ${r.code}`);
  const m = (JSON.parse(r.stdout) as Manifest[]).find((e) => e.suite === 'sid');
  if (!m) throw new Error('no sid kernel in the fetcher\'s manifest');
  return m;
}

function fetchSource(k: Manifest): Tree {
  const r = run(join(ROOT, 'scripts/lab/fetch-source.sh'), [k.release, k.version], { stderrTo: true, timeoutMs: 60 * 60_000 });
  if (r.code === 3) throw new Skip(`scripts/lab/fetch-source.sh: the package archive cannot be reached (linux-source of ${k.version})`);
  if (r.code !== 0) throw new Error(`scripts/lab/fetch-source.sh exited with ${r.code}`);
  return JSON.parse(r.stdout) as Tree;
}

/** Files left mutated by an interrupted run are put back from the tree's pristine copies. */
function restorePristine(tree: string): string[] {
  const pristine = join(tree, '.lab-pristine');
  const restored: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(pristine, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) { walk(r); continue; }
      if (r === 'config') continue;
      const want = readFileSync(join(pristine, r));
      if (!existsSync(join(tree, r)) || !readFileSync(join(tree, r)).equals(want)) {
        writeFileSync(join(tree, r), want);
        restored.push(r);
      }
    }
  };
  walk('');
  return restored;
}

// --- 3: the upstream C selftests -----------------------------------------------------

function buildSelftests(t: Tree): { dir: string; ms: number; cached: boolean } {
  const key = sha({ RECIPE, version: t.version, release: t.release, tests: C_TESTS.map((c) => c.name) });
  const dir = join(LAB, `selftests-${t.version}-${key}`);
  if (existsSync(join(dir, '.complete'))) return { dir, ms: 0, cached: true };
  const t0 = performance.now();
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const logFile = join(tmp, 'build.log');
  log(`== lab: building the tree's C selftests (make headers; ${C_TESTS.map((c) => c.name).join(', ')})`);
  if (run('make', ['-C', t.tree, `-j${JOBS}`, 'headers'], { logFile }).code !== 0) {
    throw new Error(`make headers failed; log ${logFile}:\n${lastLines(logFile, 20)}`);
  }
  for (const c of C_TESTS) {
    const r = run('make', ['-C', join(t.tree, 'tools/testing/selftests/kvm'), `-j${JOBS}`, `OUTPUT=${tmp}`, join(tmp, c.name)], { logFile });
    if (r.code !== 0 || !existsSync(join(tmp, c.name))) throw new Error(`building ${c.name} failed; log ${logFile}:\n${lastLines(logFile, 20)}`);
  }
  writeFileSync(join(tmp, '.complete'), '');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, ms: performance.now() - t0, cached: false };
}

// --- 4: KVM variants -----------------------------------------------------------------

function configLine(name: string, value: string): string {
  return value === 'n' ? `# CONFIG_${name} is not set` : `CONFIG_${name}=${value}`;
}

/** Puts the tree in the configuration `delta` (over the headers' .config), cleaning the M= build when it changes. */
function applyConfig(t: Tree, delta: Record<string, string>, logFile: string): void {
  const state = join(t.tree, '.lab-config-state');
  const want = sha({ RECIPE, delta });
  if (existsSync(state) && readFileSync(state, 'utf8').trim() === want) return;
  rmSync(state, { force: true });
  let config = readFileSync(join(t.tree, '.lab-pristine/config'), 'utf8');
  for (const [k, v] of Object.entries(delta)) {
    config = config.split('\n').filter((l) => !new RegExp(`^(# )?CONFIG_${k}( is not set|=)`).test(l)).join('\n');
    config = `${config.replace(/\n*$/, '\n')}${configLine(k, v)}\n`;
  }
  writeFileSync(join(t.tree, '.config'), config);
  const steps: [string, string[]][] = [
    ['make olddefconfig', ['-C', t.tree, 'olddefconfig']],
    // syncconfig: include/generated/autoconf.h and auto.conf follow the new .config
    ['make modules_prepare', ['-C', t.tree, `-j${JOBS}`, `KERNELRELEASE=${t.release}`, 'modules_prepare']],
    // an M= build does not notice a .config change: start it over
    ['make M=arch/x86/kvm clean', ['-C', t.tree, `KERNELRELEASE=${t.release}`, 'M=arch/x86/kvm', 'clean']],
  ];
  for (const [what, args] of steps) {
    if (run('make', args, { logFile }).code !== 0) throw new Error(`${what} failed; log ${logFile}:\n${lastLines(logFile, 20)}`);
    if (what === 'make olddefconfig') {
      const got = readFileSync(join(t.tree, '.config'), 'utf8').split('\n');
      for (const [k, v] of Object.entries(delta)) {
        if (!got.includes(configLine(k, v))) throw new Error(`CONFIG_${k}=${v} did not survive make olddefconfig (a dependency is missing)`);
      }
    }
  }
  writeFileSync(state, `${want}\n`);
}

function variantKey(t: Tree, v: Variant): string {
  return sha({ RECIPE, version: t.version, release: t.release, config: v.config, edits: v.mutant ? editsOf(v.mutant) : [] });
}

/** Builds (or finds cached) kvm.ko.xz + kvm-amd.ko.xz of one variant. */
function buildVariant(t: Tree, v: Variant): void {
  const key = variantKey(t, v);
  const base = join(LAB, 'variants', v.name);
  const dir = join(base, key);
  v.dir = dir;
  if (existsSync(join(dir, '.complete'))) { v.built = 'cached'; return; }
  const t0 = performance.now();
  mkdirSync(base, { recursive: true });
  for (const old of readdirSync(base)) if (old !== key) rmSync(join(base, old), { recursive: true, force: true });
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const logFile = join(tmp, 'build.log');
  applyConfig(t, v.config, logFile);

  const originals = new Map<string, Buffer>();
  try {
    if (v.mutant) {
      const mutated = mutate(v.mutant, (f) => readFileSync(join(t.tree, '.lab-pristine', f), 'utf8'));
      for (const [f, text] of mutated) {
        originals.set(f, readFileSync(join(t.tree, f)));
        writeFileSync(join(t.tree, f), text);
      }
    }
    const r = run('make', ['-C', t.tree, `-j${JOBS}`, `KERNELRELEASE=${t.release}`, 'M=arch/x86/kvm', 'modules'], { logFile });
    if (r.code !== 0) {
      const errors = readFileSync(logFile, 'utf8').split('\n').filter((l) => /error:|Error \d/.test(l)).slice(0, 8).map((l) => `    | ${l}`).join('\n');
      throw new Error(`make M=arch/x86/kvm modules failed; log ${logFile}:\n${errors || lastLines(logFile, 20)}`);
    }
  } finally {
    // Pristine sources again, whatever happened (their new mtime makes the next build recompile them).
    for (const [f, data] of originals) writeFileSync(join(t.tree, f), data);
  }
  for (const m of ['kvm', 'kvm-amd']) {
    const built = join(t.tree, 'arch/x86/kvm', `${m}.ko`);
    // As modules_install with INSTALL_MOD_STRIP=1, and compressed as Debian ships them.
    if (run('strip', ['--strip-debug', '-o', join(tmp, `${m}.ko`), built]).code !== 0) throw new Error(`strip ${built} failed`);
    if (run('xz', ['--check=crc32', '-T1', join(tmp, `${m}.ko`)]).code !== 0) throw new Error(`xz ${m}.ko failed`);
  }
  writeFileSync(join(tmp, 'variant.json'), `${JSON.stringify({ name: v.name, config: v.config, mutant: v.mutant ?? null, release: t.release, version: t.version }, null, 2)}\n`);
  writeFileSync(join(tmp, '.complete'), '');
  renameSync(tmp, dir);
  v.built = 'built';
  v.buildMs = performance.now() - t0;
}

// --- 5: boots --------------------------------------------------------------------------

function guestScript(cDir: string, v: Variant): string {
  const bundle = join(ROOT, 'dist/bundle/gmemtest.mjs');
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  // Guest uptime stamps around each program, for the timing columns.
  const stamp = (what: string): string => `read -r up _ < /proc/uptime; echo "${what} $up" >> "$GMEMTEST_OUT_DIR/times"`;
  const lines = [
    stamp('start'),
    // gmemtest first: its verdict is what the lab is about.
    `${q(process.execPath)} ${q(bundle)} > "$GMEMTEST_OUT_DIR/gmemtest.ktap" 2> "$GMEMTEST_OUT_DIR/gmemtest.stderr"`,
    'echo $? > "$GMEMTEST_OUT_DIR/gmemtest.exit"',
    stamp('gmemtest'),
  ];
  for (const c of C_TESTS.filter((t) => t.runs(v))) {
    lines.push(`timeout 180 ${q(join(cDir, c.name))} ${c.args.map(q).join(' ')} > "$GMEMTEST_OUT_DIR/${c.name}.log" 2>&1`);
    lines.push(`echo $? > "$GMEMTEST_OUT_DIR/${c.name}.exit"`);
    lines.push(stamp(c.name));
  }
  lines.push('exit 0');
  return lines.join('\n');
}

const machineFailure = (r: BootResult): string | undefined => (!r.ok && ['kernel-panic', 'no-result', 'timeout'].includes(r.failure) ? r.failure : undefined);

/**
 * While a boot runs, its progress on the status line: the guest's gmemtest writes its
 * progress events to gmemtest.stderr and the script its stamps to times, both in the
 * results share, which the host sees as they are written.
 */
function watchGuest(tmpRoot: string, status: StatusLine): () => void {
  if (!status.active) return () => {};
  const timer = setInterval(() => {
    for (const d of readdirSync(tmpRoot)) {
      const out = join(tmpRoot, d, 'out');
      const read = (f: string): string => { try { return readFileSync(join(out, f), 'utf8'); } catch { return ''; } };
      if (/^gmemtest /m.test(read('times'))) { status.update({ phase: 'running', detail: 'the C selftests' }); continue; }
      const events = read('gmemtest.stderr').split('\n').map(parseProgress).filter((e) => e !== null && e.phase === 'running');
      const last = events.at(-1);
      if (last) status.update(last);
      else if (existsSync(out)) status.update({ phase: 'booting' });
    }
  }, 1000);
  return () => clearInterval(timer);
}

async function bootOnce(k: Manifest, v: Variant, cDir: string, tmpRoot: string, status: StatusLine): Promise<{ r: BootResult; files: Map<string, string> }> {
  // bootAndRun makes its work dir in os.tmpdir(): here, so that the lab finds (and removes) it.
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmpRoot;
  let r: BootResult;
  const unwatch = watchGuest(tmpRoot, status);
  try {
    r = await bootInGuest(k, v, cDir, status.active);
  } finally {
    unwatch();
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  const files = new Map<string, string>();
  // The work dir is kept (keepWorkDir) so the guest's files can be read; a failure before
  // QEMU ran does not name it, so every work dir under tmpRoot is read and removed.
  for (const d of readdirSync(tmpRoot)) {
    const out = join(tmpRoot, d, 'out');
    if (existsSync(out)) for (const f of readdirSync(out)) files.set(f, readFileSync(join(out, f), 'utf8'));
    rmSync(join(tmpRoot, d), { recursive: true, force: true });
  }
  return { r, files };
}

function bootInGuest(k: Manifest, v: Variant, cDir: string, progress: boolean): Promise<BootResult> {
  return bootAndRun({
    kernel: k.vmlinuz,
    modules: k.modules,
    ...(v.dir ? { kvmModules: v.dir } : {}),
    numa: 2,
    timeoutSec: 480,
    command: ['/bin/sh', '-c', guestScript(cDir, v)],
    cwd: ROOT,
    env: { NO_COLOR: '1', ...(progress ? { [PROGRESS_ENV]: '1' } : {}) },
    keepWorkDir: true,
    tailLines: 80,
  });
}

async function boot(k: Manifest, v: Variant, cDir: string, tmpRoot: string, status: StatusLine): Promise<BootOutcome> {
  const t0 = performance.now();
  status.update({ phase: 'booting' });
  let { r, files } = await bootOnce(k, v, cDir, tmpRoot, status);
  let retried: string | undefined;
  // The emulated machine can fail now and then (see the matrix), and on a loaded host a
  // TCG guest can be slow enough for gmemtest's 10 s child timeouts: a boot that ended in
  // a panic, no result or a timeout is tried once more, and so is one where a case that
  // matters timed out (any case of a base variant; an expected case of a mutant), in plain
  // sight (the first attempt's files are kept). A result is never retried.
  const matters = (id: string): boolean => !v.mutant || v.mutant.expect.some((g) => globToRegExp(g).test(id));
  const timedOutCases = readGuestKtap(files.get('gmemtest.ktap') ?? '').results.filter((x) => x.directive === 'TIMEOUT' && matters(x.id)).map((x) => x.id);
  const crash = machineFailure(r) ?? (timedOutCases.length ? `TIMEOUT of ${timedOutCases.join(', ')}` : undefined);
  if (crash !== undefined) {
    writeFileSync(join(OUT, `${v.name}.attempt1.console.txt`), r.consoleTail.join('\n'));
    writeFileSync(join(OUT, `${v.name}.attempt1.ktap`), files.get('gmemtest.ktap') ?? '');
    status.clear();
    log(`   retry: ${v.name}: ${crash}; booting once more (attempt 1 in .cache/lab/${v.name}.attempt1.*)`);
    retried = crash;
    ({ r, files } = await bootOnce(k, v, cDir, tmpRoot, status));
  }
  const ktapText = files.get('gmemtest.ktap') ?? '';
  const exitText = files.get('gmemtest.exit')?.trim();
  const c: Record<string, CResult> = {};
  for (const t of C_TESTS) {
    const e = files.get(`${t.name}.exit`)?.trim();
    if (e === undefined && files.get(`${t.name}.log`) === undefined) continue;
    c[t.name] = readCOutput(files.get(`${t.name}.log`) ?? '', e !== undefined && /^\d+$/.test(e) ? Number(e) : null);
  }
  writeFileSync(join(OUT, `${v.name}.ktap`), ktapText);
  writeFileSync(join(OUT, `${v.name}.console.txt`), r.consoleTail.join('\n'));
  for (const t of C_TESTS) if (files.has(`${t.name}.log`)) writeFileSync(join(OUT, `${v.name}.${t.name}.log`), files.get(`${t.name}.log`)!);
  // Its stderr without the progress events the status line read from it.
  const stderr = (files.get('gmemtest.stderr') ?? '').split('\n').filter((l) => parseProgress(l) === null).join('\n').trim();
  if (stderr) writeFileSync(join(OUT, `${v.name}.gmemtest.stderr`), `${stderr}\n`);
  const times: Record<string, number> = { prep: r.timings.prepMs / 1000, qemu: r.timings.qemuMs / 1000 };
  if (r.timings.initMs !== undefined) times.init = r.timings.initMs / 1000;
  let prev: number | undefined;
  for (const l of (files.get('times') ?? '').split('\n')) {
    const [what, up] = l.trim().split(/\s+/);
    if (!what || up === undefined || !Number.isFinite(Number(up))) continue;
    if (prev !== undefined) times[what] = Math.round((Number(up) - prev) * 10) / 10;
    prev = Number(up);
  }
  return {
    times,
    variant: v.name,
    booted: r.ok,
    bootFailure: r.ok ? undefined : `${r.failure}: ${r.message}`,
    exitCode: exitText !== undefined && /^\d+$/.test(exitText) ? Number(exitText) : undefined,
    ktapText,
    ktap: readGuestKtap(ktapText),
    c,
    wallMs: performance.now() - t0,
    retried,
    consoleTail: r.consoleTail,
  };
}

// --- 6: verdicts and the table -----------------------------------------------------------

interface Row {
  variant: string;
  protects: string;
  breaks: string;
  expect: string[];
  notOk: string[];
  complete: boolean;
  incomplete: string[];
  exitCode: number | null;
  gmemtest: 'detected' | 'MISSED' | 'pass' | 'FAIL';
  c: Record<string, CResult>;
  cVerdict: string;
  upstreamExpected: string;
  problems: string[];
  notes: string[];
  buildMs?: number;
  bootMs: number;
  retried?: string;
  times: Record<string, number>;
}

function judgeBase(v: Variant, b: BootOutcome, stock: BootOutcome | undefined): Row {
  const incomplete = incompleteBecause({ booted: b.booted, bootFailure: b.bootFailure, exitCode: b.exitCode, ktap: b.ktap });
  const notOk = notOkCases(b.ktap);
  const problems: string[] = [];
  const notes: string[] = [];
  if (incomplete.length) problems.push(`incomplete run: ${incomplete.join('; ')}`);
  if (notOk.length) problems.push(`not ok: ${notOk.join(', ')}`);
  if (b.exitCode !== undefined && b.exitCode !== 0) problems.push(`gmemtest exited with ${b.exitCode}`);
  for (const [name, c] of Object.entries(b.c)) if (c.exit !== 0) problems.push(`${name}: ${cSummary(c)}`);
  if (Object.keys(b.c).length !== C_TESTS.filter((t) => t.runs(v)).length) problems.push('a C selftest did not run');
  if (stock && v.dir !== null) {
    const base = leafVerdicts(stock.ktap);
    const mine = leafVerdicts(b.ktap);
    if (v.name === 'stock-rebuilt') {
      problems.push(...verdictDiff(base, mine));
    } else {
      const isSw = (id: string): boolean => id === 'sw_protected_vm' || id.startsWith('sw_protected_vm.');
      problems.push(...verdictDiff(base, mine, isSw));
      const sw = [...mine].filter(([id]) => isSw(id));
      const sets = [...new Set(sw.map(([id]) => id.split('.')[1]).filter((s): s is string => s?.startsWith('flags-') ?? false))].sort();
      if (sw.some(([, x]) => x === 'SKIP')) problems.push(`sw_protected_vm skipped: ${b.ktap.results.find((r) => isSw(r.id) && r.directive === 'SKIP')?.reason ?? ''}`);
      if (sets.join(',') !== 'flags-mmap,flags-none') problems.push(`sw_protected_vm flag sets: ${sets.join(', ') || 'none'}; expected flags-none, flags-mmap (KVM_CAP_GUEST_MEMFD_FLAGS=0x1)`);
      if (!/sw_protected_vm: KVM_CAP_GUEST_MEMFD=1 KVM_CAP_GUEST_MEMFD_FLAGS=0x1\b/.test(b.ktapText)) problems.push('no "sw_protected_vm: ... KVM_CAP_GUEST_MEMFD_FLAGS=0x1" in the guest header');
      notes.push(`sw_protected_vm: ${sw.filter(([, x]) => x === 'ok').length} cases pass in ${sets.join(', ')}`);
    }
  }
  return {
    variant: v.name, protects: v.protects, breaks: v.breaks, expect: [], notOk, complete: incomplete.length === 0, incomplete,
    exitCode: b.exitCode ?? null, gmemtest: problems.length ? 'FAIL' : 'pass', c: b.c,
    cVerdict: Object.entries(b.c).map(([n, c]) => `${n}: ${cSummary(c)}`).join('; ') || 'not run',
    upstreamExpected: 'pass', problems, notes, buildMs: v.buildMs, bootMs: b.wallMs, retried: b.retried, times: b.times,
  };
}

function judgeMutant(v: Variant, b: BootOutcome): Row {
  const m = v.mutant!;
  const incomplete = incompleteBecause({ booted: b.booted, bootFailure: b.bootFailure, exitCode: b.exitCode, ktap: b.ktap });
  const notOk = notOkCases(b.ktap);
  const problems: string[] = [];
  const notes: string[] = [];
  // A case that timed out says the machine was slow, not what the kernel did: it does not count.
  const timedOut = new Set(b.ktap.results.filter((r) => r.directive === 'TIMEOUT').map((r) => r.id));
  const unmatched = m.expect.filter((g) => !notOk.some((id) => !timedOut.has(id) && globToRegExp(g).test(id)));
  const complete = incomplete.length === 0;
  const detected = complete && unmatched.length === 0 && b.exitCode === 1;
  if (!complete) problems.push(`incomplete run: ${incomplete.join('; ')}`);
  if (unmatched.length) problems.push(`expected not ok, not seen: ${unmatched.join(', ')}`);
  if (complete && b.exitCode !== 1) problems.push(`gmemtest exited with ${b.exitCode}, expected 1`);
  const others = notOk.filter((id) => !timedOut.has(id) && !m.expect.some((g) => globToRegExp(g).test(id)));
  if (others.length) notes.push(`also not ok: ${compactIds(others)}`);
  if (timedOut.size) notes.push(`TIMEOUT: ${compactIds([...timedOut])}`);
  // The C side: which test caught it, against the catalogue's expectation.
  const caughtBy = Object.entries(b.c).filter(([, c]) => cCaught(c)).map(([n]) => n);
  if (m.upstream === 'none' ? caughtBy.length > 0 : !caughtBy.includes(m.upstream)) {
    problems.push(`upstream C: expected ${m.upstream === 'none' ? 'no C test to fail' : `${m.upstream} to fail`}, got ${caughtBy.length ? caughtBy.join(', ') : 'every C test passing'}`);
  }
  if (m.upstreamWhy) notes.push(`C: ${m.upstreamWhy}`);
  return {
    variant: v.name, protects: m.protects, breaks: m.breaks, expect: m.expect, notOk, complete, incomplete,
    exitCode: b.exitCode ?? null, gmemtest: detected ? 'detected' : 'MISSED', c: b.c,
    cVerdict: Object.entries(b.c).map(([n, c]) => `${n}: ${cSummary(c)}`).join('; ') || 'not run',
    upstreamExpected: m.upstream, problems, notes, buildMs: v.buildMs, bootMs: b.wallMs, retried: b.retried, times: b.times,
  };
}

const timesText = (t: Record<string, number>): string => Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');

function cCell(c: Record<string, CResult>): string {
  const parts: string[] = [];
  for (const [name, r] of Object.entries(c)) {
    const short = name.replace(/_test$/, '');
    parts.push(`${short}: ${r.exit ?? '-'}${r.assertion ? ` \`${r.assertion}\`` : ''}`);
  }
  return parts.join('<br>') || 'not run';
}

function table(rows: readonly Row[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const head = ['variant', 'protects', 'expected not ok', 'gmemtest not ok', 'complete run?', 'gmemtest', 'C exit, first failing assertion', 'notes'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    out.push(`| ${[
      r.variant, r.protects, r.expect.length ? r.expect.join(', ') : '(none: pass as stock)',
      r.notOk.length ? compactIds(r.notOk) : '-',
      r.complete ? 'yes' : `no: ${r.incomplete[0] ?? ''}`,
      r.gmemtest, cCell(r.c), [...r.notes, ...(r.retried ? [`retried once (${r.retried})`] : [])].join('; '),
    ].map(esc).join(' | ')} |`);
  }
  return `${out.join('\n')}\n`;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const only = process.argv.slice(2).map(globToRegExp);
  const full = only.length === 0;
  mkdirSync(OUT, { recursive: true });
  const catalogue = checkCatalogue(MUTANTS);
  if (catalogue.length) { for (const p of catalogue) log(`FAIL: ${p}`); return 1; }

  log('== lab: the sid kernel (scripts/kernels/fetch.sh sid)');
  const k = resolveKernel();
  log(`   ${k.release} (${k.version}): ${k.vmlinuz}`);
  log('== lab: its source tree (scripts/lab/fetch-source.sh)');
  const tFetch = performance.now();
  const tree = fetchSource(k);
  const fetchMs = performance.now() - tFetch;
  const restored = restorePristine(tree.tree);
  if (restored.length) log(`   restored pristine ${restored.join(', ')} (left mutated by an interrupted run)`);

  // The port follows this tree's upstream: a test_* function of its guest_memfd_test.c (or
  // a guest_memfd binding case of set_memory_region_test.c) the port lacks fails the lab.
  const gaps = upstreamGaps(tree.tree);
  if (gaps.length) {
    for (const g of gaps) log(`FAIL: ${g}`);
    log(`lab: the port's catalogue (src/cases/catalogue.ts) does not cover ${tree.release}'s selftests`);
    return 1;
  }
  log(`== lab: the port covers ${tree.release}'s guest_memfd_test.c and set_memory_region_test.c (${UPSTREAM.release} catalogue)`);

  // Every anchor is checked before anything is built: a kernel whose source moved fails here.
  const anchorProblems: string[] = [];
  for (const m of MUTANTS) {
    try { mutate(m, (f) => readFileSync(join(tree.tree, '.lab-pristine', f), 'utf8')); } catch (e) { anchorProblems.push((e as Error).message); }
  }
  if (anchorProblems.length) {
    for (const p of anchorProblems) log(`FAIL: ${p}`);
    log(`lab: ${anchorProblems.length} mutant(s) do not apply to ${tree.release}'s source; fix their anchors in scripts/lab/mutants.ts`);
    return 1;
  }

  const tC = performance.now();
  const selftests = buildSelftests(tree);
  log(`== lab: C selftests ${selftests.cached ? '(cached)' : `built in ${secs(performance.now() - tC)}`}: ${selftests.dir}`);

  const variants: Variant[] = [
    { name: 'stock-rebuilt', breaks: 'nothing: the unmodified source', protects: 'the rebuild itself (verdicts equal the stock kernel\'s)', config: {}, dir: '' },
    { name: 'sw-protected', breaks: 'nothing: CONFIG_KVM_SW_PROTECTED_VM=y', protects: 'a second real VM type (sw_protected_vm) and its flag sets', config: SW_PROTECTED, dir: '' },
    ...MUTANTS.map((m): Variant => ({ name: m.name, breaks: m.breaks, protects: m.protects, config: SW_PROTECTED, mutant: m, dir: '' })),
  ].filter((v) => full || only.some((re) => re.test(v.name)));
  if (variants.length === 0) { log('FAIL: no variant matches the arguments'); return 1; }
  // This run's files only: what an earlier run left of these variants goes.
  for (const f of readdirSync(OUT)) {
    if (full || ['stock', 'product-check', ...variants.map((v) => v.name)].some((n) => f.startsWith(`${n}.`))) rmSync(join(OUT, f), { recursive: true, force: true });
  }

  const tBuild = performance.now();
  // A full run forgets the builds of variants the catalogue no longer has.
  const variantsDir = join(LAB, 'variants');
  if (full && existsSync(variantsDir)) {
    for (const d of readdirSync(variantsDir)) if (!variants.some((v) => v.name === d)) rmSync(join(variantsDir, d), { recursive: true, force: true });
  }
  // Variants of the configuration the tree is in go first: a configuration change means
  // a clean M= build (a minute or two), so each configuration is built in one go.
  const stateFile = join(tree.tree, '.lab-config-state');
  const current = existsSync(stateFile) ? readFileSync(stateFile, 'utf8').trim() : '';
  const buildOrder = [...variants].sort((a, b) => Number(sha({ RECIPE, delta: b.config }) === current) - Number(sha({ RECIPE, delta: a.config }) === current));
  for (const v of buildOrder) {
    const status = new StatusLine(`test:lab build ${v.name}`);
    status.update({ phase: 'building' });
    try {
      buildVariant(tree, v);
      status.done(v.built === 'cached' ? 'cached' : `built in ${secs(v.buildMs)}`);
      log(`== lab: build ${v.name}: ${v.built === 'cached' ? 'cached' : `built in ${secs(v.buildMs)}`}`);
    } catch (e) {
      v.buildError = (e as Error).message;
      v.dir = null;
      status.done('FAILED');
      log(`== lab: build ${v.name}: FAILED: ${v.buildError}`);
    }
  }
  const buildMs = performance.now() - tBuild;

  const tmpRoot = mkdtempSync(join(OUT, 'boot-tmp-'));
  const tBoot = performance.now();
  const stockVariant: Variant = { name: 'stock', breaks: 'nothing: Debian\'s own kvm.ko', protects: 'the baseline', config: {}, dir: null };
  log(`== lab: boot stock ${k.release} (QEMU/TCG, 2 NUMA nodes): gmemtest, ${C_TESTS.map((c) => c.name).join(', ')}`);
  const stockStatus = new StatusLine('test:lab stock');
  const stock = await boot(k, stockVariant, selftests.dir, tmpRoot, stockStatus);
  const rows: Row[] = [judgeBase(stockVariant, stock, undefined)];
  stockStatus.done(rows[0]!.gmemtest);
  log(`   ${rows[0]!.gmemtest} in ${secs(stock.wallMs)} (${timesText(stock.times)})${rows[0]!.problems.length ? `: ${rows[0]!.problems.join('; ')}` : ''}`);
  for (const v of variants) {
    if (v.dir === null) {
      rows.push({
        variant: v.name, protects: v.protects, breaks: v.breaks, expect: v.mutant?.expect ?? [], notOk: [], complete: false,
        incomplete: ['not built'], exitCode: null, gmemtest: 'FAIL', c: {}, cVerdict: 'not run', upstreamExpected: v.mutant?.upstream ?? 'pass',
        problems: [`does not build: ${v.buildError}`], notes: [], bootMs: 0, times: {},
      });
      continue;
    }
    log(`== lab: boot ${v.name}`);
    const status = new StatusLine(`test:lab ${v.name}`);
    const b = await boot(k, v, selftests.dir, tmpRoot, status);
    const row = v.mutant ? judgeMutant(v, b) : judgeBase(v, b, stock);
    status.done(row.gmemtest);
    rows.push(row);
    log(`   ${row.gmemtest} in ${secs(b.wallMs)} (${timesText(b.times)}); gmemtest not ok: ${row.notOk.length ? compactIds(row.notOk) : '-'}; complete: ${row.complete ? 'yes' : `no (${row.incomplete.join('; ')})`}; C: ${row.cVerdict}`);
    for (const p of row.problems) log(`   - ${p}`);
  }
  rmSync(tmpRoot, { recursive: true, force: true });
  const bootMs = performance.now() - tBoot;

  // The product path: `gmemtest boot --kvm-modules` through the CLI, once (when sw-protected is selected).
  let smoke: { ok: boolean; detail: string; ms: number } | undefined;
  const sw = variants.find((v) => v.name === 'sw-protected');
  if (sw?.dir) {
    // One case is enough here (sw-protected's own boot ran them all): the point is the CLI path.
    log('== lab: product check: gmemtest boot --kvm-modules <sw-protected> --numa 2 -- --filter sw_protected_vm.guest_memfd_flags');
    const s0 = performance.now();
    const args = ['boot', '--kernel', k.vmlinuz, '--kvm-modules', sw.dir, '--numa', '2', '--', '--filter', 'sw_protected_vm.guest_memfd_flags'];
    const r = await new Promise<{ code: number | null; out: string }>((res) => {
      const c = spawn(join(ROOT, 'bin/gmemtest'), args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      c.on('close', (code) => res({ code, out }));
    });
    writeFileSync(join(OUT, 'product-check.ktap'), r.out);
    const header = /^# kvm modules: /m.test(r.out);
    const swRan = /^ {4}ok 1 guest_memfd_flags$/m.test(r.out) && /^ {2}ok 1 sw_protected_vm$/m.test(r.out);
    const ok = r.code === 0 && header && swRan;
    smoke = { ok, detail: `exit ${r.code}${header ? '' : ', no "# kvm modules:" header'}${swRan ? '' : ', sw_protected_vm did not run'}`, ms: performance.now() - s0 };
    log(`   ${ok ? 'ok' : 'FAIL'}: ${smoke.detail} (${secs(smoke.ms)}); KTAP in .cache/lab/product-check.ktap`);
  }

  const text = table(rows);
  writeFileSync(join(OUT, 'table.md'), `# gmemtest kernel lab: ${k.release} (${k.version})\n\n${text}`);
  const totalMs = performance.now() - t0;
  const mutantRows = rows.filter((r) => MUTANTS.some((m) => m.name === r.variant));
  const detected = mutantRows.filter((r) => r.gmemtest === 'detected').length;
  const cCaughtN = mutantRows.filter((r) => Object.values(r.c).some(cCaught)).length;
  writeFileSync(join(OUT, 'table.json'), `${JSON.stringify({
    kernel: k, tree: tree.tree, selftests: selftests.dir, full,
    timings: { totalMs, fetchSourceMs: fetchMs, buildMs, bootMs, smokeMs: smoke?.ms },
    summary: { mutants: mutantRows.length, detected, cCaught: cCaughtN },
    productCheck: smoke ?? null, rows,
  }, null, 2)}\n`);
  log('');
  log(text);
  const failing = rows.filter((r) => r.problems.length > 0);
  log(`lab: ${mutantRows.length} mutants, gmemtest detects ${detected} with a complete run, the upstream C catches ${cCaughtN}; `
    + `${rows.length - mutantRows.length} base runs; ${failing.length} variant(s) with problems${failing.length ? `: ${failing.map((r) => r.variant).join(', ')}` : ''}`);
  log(`lab: total ${secs(totalMs)} (source ${secs(fetchMs)}, builds ${secs(buildMs)}, boots ${secs(bootMs)}${smoke ? `, product check ${secs(smoke.ms)}` : ''}); table in .cache/lab/table.md`);
  return failing.length > 0 || (smoke !== undefined && !smoke.ok) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((c) => { process.exitCode = c; }, (e: unknown) => {
    if (e instanceof Skip) { log(`SKIP: kernel lab not run: ${e.message}`); process.exitCode = 0; return; }
    console.error(`test:lab: ${e instanceof Error ? e.stack : String(e)}`);
    process.exitCode = 1;
  });
}

