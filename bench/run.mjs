#!/usr/bin/env node
// gmemtest benchmark: `npm run bench [-- --runs N --calls N --profile]`.
//
// Measures, interleaved round by round so a change in machine load hits every series
// alike:
//   - `node -e 0` (bare Node start-up),
//   - `bin/gmemtest` (KTAP): wall and time to its first stdout byte,
//   - `bin/gmemtest --list` (start-up + module load + device open + probe + plan),
//   - `bin/gmemtest --format json` (per-case durations),
//   - bench/phases.mjs (one run split into Node start-up / module load / main()),
//   - the C baseline (bench/c/gmem_baseline.c: the same syscalls, from C),
//   - a "SIGBUS child"-like process start,
// then the per-call cost of a failing KVM_CREATE_GUEST_MEMFD through gmemtest's FFI
// layer and from C. Prints tables and writes bench/results.json. Nothing is asserted:
// the targets are printed beside the ratios as met/missed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const BUILD = join(BENCH, 'build');
const NODE = process.execPath;
const GMEMTEST = join(ROOT, 'bin', 'gmemtest'); // the launcher users run (sh, then node)
const MAIN_JS = join(ROOT, 'dist', 'cli', 'main.js'); // for node flags such as --cpu-prof

const TARGETS = {
  suite_over_node_start: 3,     // suite wall <= 3x bare node start-up
  ffi_overhead_us: 2.5,         // <= 2.5 us per ioctl above C
  sigbus_child_over_node_start: 1,
};

// --- options ------------------------------------------------------------------
function parseArgs(argv) {
  const o = { runs: 10, calls: 20000, ffiRounds: 5, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--runs') o.runs = num();
    else if (a === '--calls') o.calls = num();
    else if (a === '--ffi-rounds') o.ffiRounds = num();
    else if (a === '--profile') o.profile = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: npm run bench -- [--runs N (10)] [--calls N (20000)] [--ffi-rounds N (5)] [--profile]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

// --- statistics -----------------------------------------------------------------
const sorted = (xs) => [...xs].sort((a, b) => a - b);
function median(xs) {
  if (xs.length === 0) return null;
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const stats = (xs) => (xs.length === 0 ? null
  : { n: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
const round = (x, d = 3) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

// --- processes --------------------------------------------------------------------
/** Spawns cmd, resolves with wall time to exit, time to the first stdout byte, output. */
function timed(cmd, args, { keepOut = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first = null;
    let out = '';
    let err = '';
    const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.on('data', (d) => {
      first ??= ms();
      if (keepOut) out += d;
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const wallMs = ms();
      // stdout may still be draining after exit; resolve once it is closed.
      const done = () => resolve({ wallMs, firstByteMs: first, code, signal, out, err });
      if (child.stdout.readableEnded) done();
      else child.stdout.on('end', done);
    });
  });
}

// 1 is a run with a failing case (e.g. guest_memfd_guest on a kvm_pvm host): still a whole run.
function must(r, what, okCodes = [0, 1]) {
  if (!okCodes.includes(r.code)) {
    throw new Error(`${what} exited ${r.code ?? r.signal}: ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return r;
}

// --- set-up -----------------------------------------------------------------------
function ensureBuilt() {
  if (existsSync(join(ROOT, 'dist', 'cli', 'program.js')) && existsSync(join(ROOT, 'dist', 'kvm', 'vm.js'))) return;
  console.error('bench: dist/ is missing; running npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** Compiles the C baseline; returns its path, or null (with the reason) without a compiler. */
function buildBaseline() {
  mkdirSync(BUILD, { recursive: true });
  const exe = join(BUILD, 'gmem_baseline');
  const src = join(BENCH, 'c', 'gmem_baseline.c');
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    const r = spawnSync(cc, ['-O2', '-Wall', '-o', exe, src], { encoding: 'utf8' });
    if (r.error?.code === 'ENOENT') continue;
    if (r.status !== 0) return { exe: null, why: `${cc} failed to compile ${relative(ROOT, src)}:\n${r.stderr}` };
    return { exe, why: null, cc };
  }
  return { exe: null, why: 'no C compiler (cc, gcc, clang; or $CC) on this host' };
}


// --- per-case durations -----------------------------------------------------------
function caseDurations(jsonText) {
  const doc = JSON.parse(jsonText);
  const m = new Map();
  for (const r of doc.results ?? []) if (r.kind === 'case' && r.status !== 'skip') m.set(r.id, r.duration_ms);
  return m;
}

// --- profile ----------------------------------------------------------------------
const INTERVAL_US = 250;
async function profileOnce() {
  const dir = join(BUILD, 'prof');
  // The profiler's SIGPROF interrupts syscalls: on this kind of host KVM_CREATE_VM and
  // fallocate then fail with EINTR (the FFI layer does not retry) and the run skips or
  // fails. Keep the first clean run; say how many were discarded.
  let attempts = 0;
  let r;
  do {
    attempts++;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    r = await timed(NODE, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', String(INTERVAL_US), MAIN_JS], { keepOut: true });
  } while (r.code !== 0 && attempts < 8);
  const eintr = attempts - 1;
  if (r.code !== 0) throw new Error(`gmemtest --cpu-prof did not pass in ${attempts} tries (last exit ${r.code})`);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const where = { descheduled: 0, module_load: 0, probe_and_plan: 0, cases: 0, reporting: 0, gc: 0, idle: 0, other: 0 };
  const short = (u) => (u ? u.replace(`file://${ROOT}/`, '').replace(/^node:/, 'node:') : '(native)');
  const total = prof.endTime - prof.startTime;
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) {
    // A sample's weight is the gap to the next one; on a loaded machine a gap far longer
    // than the interval is time off the CPU, not time in that function.
    const gap = dt[i + 1] ?? 0;
    const us = Math.min(gap, 4 * INTERVAL_US);
    where.descheduled += gap - us;
    const n = byId.get(prof.samples[i]);
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${short(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + us);
    const names = [];
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      names.push(`${f.functionName}|${f.url}`);
    }
    const has = (re) => names.some((s) => re.test(s));
    if (cf.functionName === '(garbage collector)') where.gc += us;
    else if (cf.functionName === '(idle)') where.idle += us;
    else if (has(/^runPlan\||^runCase\||^visit\|/)) where[has(/Reporter|report-/) ? 'reporting' : 'cases'] += us;
    else if (has(/^(probeCaps|buildPlan|openDevice|filterPlan|headerLines)\|/)) where.probe_and_plan += us;
    else if (has(/internal\/modules\/|^compileFunction|^link\||^instantiate\||^evaluate\||^import\|/)) where.module_load += us;
    else where.other += us;
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)
    .map(([fn, us]) => ({ fn, self_ms: round(us / 1000, 2), pct: round((100 * us) / total, 1) }));
  const whereMs = Object.fromEntries(Object.entries(where).map(([k, v]) => [k, round(v / 1000, 2)]));
  return { file: relative(ROOT, join(dir, file)), discarded_runs: eintr, profiled_ms: round(total / 1000, 1), top_self: top, by_phase_ms: whereMs };
}

// --- output -----------------------------------------------------------------------
const f = (x, d = 2) => (x == null ? 'n/a' : x.toFixed(d));
function table(rows, header) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(all[0]), w.map((n) => '-'.repeat(n)).join('  '), ...all.slice(1).map(line)].join('\n');
}
const msRow = (name, s) => [name, f(s?.min), f(s?.median), f(s?.max), s?.n ?? 0];

// --- main -------------------------------------------------------------------------
async function main() {
  const o = parseArgs(process.argv.slice(2));
  ensureBuilt();
  const c = buildBaseline();
  if (!c.exe) console.error(`bench: C baseline skipped: ${c.why}`);

  const s = { node: [], suite: [], firstByte: [], list: [], json: [], c: [], cWork: [], cProbe: [], cCases: [], child: [],
    phaseBoot: [], phaseLoad: [], phaseMain: [], phaseTotal: [] };
  const perCase = new Map();
  let cInfo = null;
  let childCode = null;

  // One untimed warm-up of each (page cache, lazily loaded kernel bits).
  await timed(NODE, ['-e', '0']);
  must(await timed(GMEMTEST, []), 'gmemtest');
  if (c.exe) await timed(c.exe, []);

  for (let i = 0; i < o.runs; i++) {
    process.stderr.write(`\rbench: round ${i + 1}/${o.runs}`);
    s.node.push((await timed(NODE, ['-e', '0'])).wallMs);

    const k = must(await timed(GMEMTEST, []), 'gmemtest');
    s.suite.push(k.wallMs);
    s.firstByte.push(k.firstByteMs);

    s.list.push(must(await timed(GMEMTEST, ['--list']), 'gmemtest --list').wallMs);

    const j = must(await timed(GMEMTEST, ['--format', 'json'], { keepOut: true }), 'gmemtest --format json');
    s.json.push(j.wallMs);
    for (const [id, ms] of caseDurations(j.out)) {
      if (!perCase.has(id)) perCase.set(id, []);
      perCase.get(id).push(ms);
    }

    const p = JSON.parse(must(await timed(NODE, [join(BENCH, 'phases.mjs')], { keepOut: true }), 'bench/phases.mjs').out);
    s.phaseBoot.push(p.bootMs);
    s.phaseLoad.push(p.loadMs);
    s.phaseMain.push(p.mainMs);
    s.phaseTotal.push(p.totalMs);

    if (c.exe) {
      const r = await timed(c.exe, [], { keepOut: true });
      cInfo = JSON.parse(r.out);
      if (cInfo.skipped) throw new Error(`C baseline: ${cInfo.skipped}`);
      s.c.push(r.wallMs);
      s.cWork.push(cInfo.work_ns / 1e6);
      s.cProbe.push(cInfo.probe_ns / 1e6);
      s.cCases.push(cInfo.cases_ns / 1e6);
    }

    const ch = must(await timed(NODE, [join(BENCH, 'sigbus-child.mjs')], { keepOut: true }), 'bench/sigbus-child.mjs', [0]);
    childCode = ch.code;
    s.child.push(JSON.parse(ch.out).childMs);
  }
  process.stderr.write('\n');

  // FFI per-call cost.
  process.stderr.write(`bench: ${o.ffiRounds} x ${o.calls} failing KVM_CREATE_GUEST_MEMFD calls (FFI, then C)\n`);
  const ffi = JSON.parse(must(await timed(NODE, [join(BENCH, 'ffi-loop.mjs'), String(o.calls), String(o.ffiRounds)], { keepOut: true }), 'bench/ffi-loop.mjs').out);
  const cCall = [];
  if (c.exe) {
    for (let r = 0; r < o.ffiRounds; r++) {
      const x = JSON.parse(must(await timed(c.exe, ['--ffi-loop', String(o.calls)], { keepOut: true }), 'gmem_baseline --ffi-loop').out);
      cCall.push(x.ns_per_call);
    }
  }

  const st = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, stats(v)]));
  const med = (k) => st[k]?.median ?? null;
  const ffiUs = median(ffi.layerNsPerCall) / 1000;
  const rawUs = ffi.rawIoctlNsPerCall ? median(ffi.rawIoctlNsPerCall) / 1000 : null;
  const cUs = cCall.length ? median(cCall) / 1000 : null;
  const caseSum = [...perCase.values()].reduce((a, v) => a + median(v), 0);

  const ratios = {
    suite_over_node_start: ratio(med('suite'), med('node')),
    suite_over_c: ratio(med('suite'), med('c')),
    work_over_c: ratio(med('phaseMain'), med('cWork')),
    cases_over_c: ratio(caseSum, med('cCases')),
    ffi_overhead_us: cUs == null ? null : ffiUs - cUs,
    sigbus_child_over_node_start: ratio(med('child'), med('node')),
  };
  const verdict = (k) => (ratios[k] == null ? 'n/a' : ratios[k] <= TARGETS[k] ? 'met' : 'missed');

  // --- print ---
  console.log(`\ngmemtest benchmark: ${o.runs} runs each, interleaved; node ${process.version}; ` +
    `C baseline ${c.exe ? `${c.cc} -O2` : 'SKIPPED'}; times in ms\n`);
  console.log(table([
    msRow('node -e 0 (bare start-up)', st.node),
    msRow('gmemtest (KTAP) wall', st.suite),
    msRow('  first stdout byte (start+load+probe)', st.firstByte),
    msRow('gmemtest --list (start+load+probe+plan)', st.list),
    msRow('gmemtest --format json wall', st.json),
    msRow('in-process: node start-up (to bench script)', st.phaseBoot),
    msRow('in-process: gmemtest module graph load', st.phaseLoad),
    msRow('in-process: main() (open, probe, cases, report)', st.phaseMain),
    msRow('in-process: sum of case medians (json)', caseSum ? { n: perCase.size, min: null, median: caseSum, max: null } : null),
    msRow('C baseline wall (exec+work)', st.c),
    msRow('C baseline in-process work', st.cWork),
    msRow('  C: open + probe part', st.cProbe),
    msRow('  C: cases part', st.cCases),
    msRow('SIGBUS child (spawn to reaped, real probe)', st.child),
  ], ['series', 'min', 'median', 'max', 'n']));
  console.log('  SIGBUS child: a real fault_private probe (bench/sigbus-child.mjs through dist/isolate/fault-probe.js): spawn, map, read, SIGBUS, reaped');

  // Per-case medians: one row per case, one column per flag set.
  const cols = [];
  const rows = new Map();
  for (const [id, v] of perCase) {
    const parts = id.split('.');
    const col = parts.length > 2 ? parts.slice(1, -1).join('.') : '(vm)';
    const row = parts.length > 2 ? `${parts[0]}.${parts.at(-1)}` : id;
    if (!cols.includes(col)) cols.push(col);
    if (!rows.has(row)) rows.set(row, {});
    rows.get(row)[col] = median(v);
  }
  console.log('\nper-case median duration (ms, from --format json)\n');
  console.log(table([...rows].map(([r, v]) => [r, ...cols.map((cc) => f(v[cc], 3))]), ['case', ...cols]));

  console.log(`\nFFI: ${o.ffiRounds} rounds x ${o.calls} calls, median of rounds (us/call)`);
  console.log(`  vm.tryCreateGuestMemfd (gmemtest layer)  ${f(ffiUs, 3)}   rounds: ${ffi.layerNsPerCall.map((x) => f(x / 1000, 2)).join(' ')}`);
  if (rawUs != null) console.log(`  libc.ioctl binding alone                 ${f(rawUs, 3)}`);
  console.log(`  C ioctl()                                ${cUs == null ? 'n/a (no C baseline)' : f(cUs, 3)}`);

  console.log('\nratios (medians)\n');
  console.log(table([
    ['gmemtest/C whole-run wall', f(ratios.suite_over_c), '-', '-'],
    ['gmemtest/C in-process work (main() / C work)', f(ratios.work_over_c), '-', '-'],
    ['  cases only (sum of case medians / C cases)', f(ratios.cases_over_c), '-', '-'],
    ['suite wall / bare node start-up', `${f(ratios.suite_over_node_start)}x`, `<= ${TARGETS.suite_over_node_start}x`, verdict('suite_over_node_start')],
    [`FFI call ${f(ffiUs, 3)} us vs C ${cUs == null ? 'n/a' : f(cUs, 3)} us: overhead`, `${f(ratios.ffi_overhead_us, 3)} us`, `<= ${TARGETS.ffi_overhead_us} us`, verdict('ffi_overhead_us')],
    ['SIGBUS child / bare node start-up', `${f(ratios.sigbus_child_over_node_start)}x`, `<= ${TARGETS.sigbus_child_over_node_start}x`, verdict('sigbus_child_over_node_start')],
  ], ['ratio', 'measured', 'target', '']));

  let profile = null;
  if (o.profile) {
    process.stderr.write('bench: profiling one run (node --cpu-prof)\n');
    profile = await profileOnce();
    console.log(`\nprofile of one gmemtest run (${profile.profiled_ms} ms profiled, ${profile.file}` +
      `${profile.discarded_runs ? `; ${profile.discarded_runs} earlier run(s) discarded: not all ok under SIGPROF` : ''})\n`);
    console.log(table(Object.entries(profile.by_phase_ms).map(([k, v]) => [k, f(v)]), ['phase', 'ms']));
    console.log('');
    console.log(table(profile.top_self.map((t) => [t.fn, f(t.self_ms), f(t.pct, 1)]), ['top self time', 'ms', '%']));
  }

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    runs: o.runs,
    ...Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v, 4)])),
    targets: Object.fromEntries(Object.entries(TARGETS).map(([k, v]) => [k, { target: v, measured: round(ratios[k], 4), met: ratios[k] == null ? null : ratios[k] <= v }])),
    raw: {
      ms: st,
      per_case_median_ms: Object.fromEntries([...perCase].map(([id, v]) => [id, round(median(v), 4)])),
      per_case_sum_ms: round(caseSum, 3),
      ffi: { calls: o.calls, rounds: o.ffiRounds, layer_ns_per_call: ffi.layerNsPerCall, raw_ioctl_ns_per_call: ffi.rawIoctlNsPerCall, c_ns_per_call: cCall,
        layer_us: round(ffiUs, 4), raw_ioctl_us: round(rawUs, 4), c_us: round(cUs, 4) },
      c_baseline: c.exe ? { compiler: c.cc, last: cInfo } : { skipped: c.why },
      sigbus_child: { file: 'bench/sigbus-child.mjs -> dist/isolate/fault-probe-child.js', exit_code: childCode },
    },
    ...(profile ? { profile } : {}),
  };
  writeFileSync(join(BENCH, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), join(BENCH, 'results.json'))}`);
}

main().catch((e) => {
  console.error(`\nbench: ${e.message}`);
  process.exitCode = 1;
});
