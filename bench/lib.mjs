// Shared pieces of the benchmark: statistics, timed child processes, tables, the C build.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH);
export const BUILD = join(BENCH, 'build');
export const NODE = process.execPath;

// --- statistics -----------------------------------------------------------------
export function median(xs) {
  const s = xs.filter((x) => x != null).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const stats = (xs) => {
  const v = xs.filter((x) => x != null);
  return v.length === 0 ? null : { n: v.length, min: Math.min(...v), median: median(v), max: Math.max(...v) };
};
export const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
export const round = (x, d = 3) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

// --- output ---------------------------------------------------------------------
export const f = (x, d = 2) => (x == null ? 'n/a' : x.toFixed(d));
export function table(rows, header) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(all[0]), w.map((n) => '-'.repeat(n)).join('  '), ...all.slice(1).map(line)].join('\n');
}
export const msRow = (name, s, d = 2) => [name, f(s?.min, d), f(s?.median, d), f(s?.max, d), s?.n ?? 0];
export const verdict = (measured, target) => (measured == null ? 'n/a' : measured <= target ? 'met' : 'missed');

/** The machine's load as `uptime` shows it, and what else runs there that matters. */
export function loadNow() {
  const [one, five, fifteen] = loadavg();
  const ps = spawnSync('ps', ['-eo', 'comm='], { encoding: 'utf8' });
  const comms = ps.status === 0 ? ps.stdout.split('\n') : [];
  const count = (re) => comms.filter((c) => re.test(c)).length;
  return {
    loadavg: [round(one, 2), round(five, 2), round(fifteen, 2)],
    qemus: count(/^qemu-system/),
    compilers: count(/^(cc1|cc1plus|ld|make|rustc)$/),
  };
}
export const describeLoad = (l) =>
  `load average ${l.loadavg.join(', ')}; other QEMUs running: ${l.qemus}; compiler processes: ${l.compilers}`;

// --- processes --------------------------------------------------------------------
/** Spawns cmd; resolves with the wall time to exit, to the first stdout byte, and the output. */
export function timed(cmd, args, { keepOut = false, env = {}, cwd = ROOT } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first = null;
    let out = '';
    let err = '';
    const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    child.stdout.on('data', (d) => {
      first ??= ms();
      if (keepOut) out += d;
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const wallMs = ms();
      const done = () => resolve({ wallMs, firstByteMs: first, code, signal, out, err });
      if (child.stdout.readableEnded) done();
      else child.stdout.on('end', done);
    });
  });
}

/** 1 is a run with a failing case (guest_memfd_guest on a kvm_pvm host): still a whole run. */
export function must(r, what, okCodes = [0, 1]) {
  if (!okCodes.includes(r.code)) {
    throw new Error(`${what} exited ${r.code ?? r.signal}: ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return r;
}

// --- set-up -----------------------------------------------------------------------
export function ensureBuilt() {
  const need = [join(ROOT, 'dist', 'cli', 'program.js'), join(ROOT, 'dist', 'bundle', 'gmemtest.mjs')];
  if (need.every((p) => existsSync(p))) return;
  process.stderr.write('bench: dist/ is incomplete; running npm run build\n');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** Compiles the C baseline into bench/build/; returns its path, or null with the reason. */
export function buildBaseline() {
  mkdirSync(BUILD, { recursive: true });
  const exe = join(BUILD, 'gmem_baseline');
  const src = join(BENCH, 'c', 'gmem_baseline.c');
  if (existsSync(exe) && statSync(exe).mtimeMs > statSync(src).mtimeMs) return { exe, why: null, cc: 'cc (cached)' };
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    const r = spawnSync(cc, ['-O2', '-Wall', '-o', exe, src], { encoding: 'utf8' });
    if (r.error?.code === 'ENOENT') continue;
    if (r.status !== 0) return { exe: null, why: `${cc} failed to compile ${relative(ROOT, src)}:\n${r.stderr}` };
    return { exe, why: null, cc };
  }
  return { exe: null, why: 'no C compiler (cc, gcc, clang; or $CC) on this host' };
}

/** The per-case durations of a --format json document: id -> ms (skips left out). */
export function caseDurations(jsonText) {
  const doc = JSON.parse(jsonText);
  const m = new Map();
  for (const r of doc.results ?? []) if (r.kind === 'case' && r.status !== 'skip') m.set(r.id, r.duration_ms);
  return m;
}

/** `# Totals: pass:N fail:N ...` of a KTAP document, as an object (null without one). */
export function ktapTotals(text) {
  const line = text.split('\n').reverse().find((l) => /^# Totals:/.test(l));
  if (!line) return null;
  return Object.fromEntries([...line.matchAll(/(\w+):(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
}

/** The sid 7.2 kernel of the fetcher's cache, or why there is none. */
export function cachedKernel(suite = 'sid') {
  const manifest = join(process.env.HOME ?? '/root', '.cache', 'gmemtest', 'kernels', 'manifest.json');
  if (!existsSync(manifest)) return { why: `no kernel cache (${manifest}): run npm run kernels:fetch` };
  const k = JSON.parse(readFileSync(manifest, 'utf8')).find((m) => m.suite === suite);
  if (!k) return { why: `no ${suite} kernel in ${manifest}: run npm run kernels:fetch` };
  if (!existsSync(k.vmlinuz)) return { why: `${k.vmlinuz} (from ${manifest}) is missing: run npm run kernels:fetch` };
  return { kernel: k };
}
