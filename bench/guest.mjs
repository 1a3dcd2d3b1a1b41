// The guest series of the benchmark: gmemtest where CI mostly runs it, inside a TCG guest
// booted by gmemtest boot's own machinery (dist/boot/boot-and-run.js bootAndRun: the same
// initramfs, /init, 9p host root and QEMU command line), Debian sid's 7.2 kernel from the
// fetcher's cache, --numa 2, 2 vCPUs, 2 GiB. Two kinds of boot, alternated, `boots` of each:
//
//   boot  the guest command exactly as `gmemtest boot` gives it (node + the bundle, KTAP,
//         NO_COLOR=1, the repository as cwd): its phases as the host saw them (prep,
//         kernel to /init, /init to the command, the command, power-off, total)
//   items a shell script of ours in the same place that times, with the guest's
//         /proc/uptime (10 ms steps; read by the shell itself, no process per reading):
//         node -e 0 (the boot's first Node start, then warm ones), the bundle, upstream's
//         C guest_memfd_test of the same tree, each variant's bundle, round by round in
//         a rotating order; then bench/micro.mjs (per failing ioctl: per-call FFI, the
//         batched sweep, C; one faulting access through the access helper) and
//         bench/phases.mjs (the run split into phases), both as one-file bundles; and
//         with --profile one run of the bundle under node --cpu-prof.
// Only one QEMU at a time is ever started here.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import {
  BENCH, BUILD, buildBaseline, cachedKernel, describeLoad, f, ktapTotals, loadNow, median, msRow, NODE, ratio, ROOT,
  round, stats, table, verdict,
} from './lib.mjs';
import { readProfile, summarise } from './profile.mjs';

export const GUEST_TARGET = 2; // in-guest gmemtest <= 2x (in-guest node -e 0 + in-guest upstream C)
const PROFILE_INTERVAL_US = 1000;

const sh = (w) => `'${String(w).replace(/'/g, `'\\''`)}'`;

/** Upstream's C guest_memfd_test of the 7.2.13 tree, as the lab caches it, or why not. */
export function upstreamC() {
  const lab = join(homedir(), '.cache', 'gmemtest', 'lab');
  const dirs = existsSync(lab) ? readdirSync(lab).filter((d) => d.startsWith('selftests-7.2.13-1-')) : [];
  const found = dirs.map((d) => join(lab, d, 'guest_memfd_test')).filter((p) => existsSync(p));
  if (found.length === 0) {
    return { path: null, why: `no upstream C build: ${lab}/selftests-7.2.13-1-*/guest_memfd_test is missing (the lab of part 7 builds it)` };
  }
  return { path: found.sort().at(-1), why: null };
}

/** Bundles an entry into bench/build/ as scripts/bundle.mjs bundles the product. */
async function bundleInto(entry, name) {
  const { bundle } = await import('../scripts/bundle.mjs');
  const outfile = join(BUILD, name);
  await bundle({ entry, outfile });
  return outfile;
}

/** The one-file programs the guest runs besides the product's bundle. */
export async function prepareGuestPrograms() {
  mkdirSync(BUILD, { recursive: true });
  return { micro: await bundleInto(join(BENCH, 'micro.mjs'), 'micro.mjs') };
}

function phasesOf(t) {
  const at = (x) => (x == null ? null : x);
  return {
    prepMs: t.prepMs,
    kernelToInitMs: at(t.initMs),
    initToCommandMs: t.commandStartMs != null && t.initMs != null ? t.commandStartMs - t.initMs : null,
    commandMs: t.commandEndMs != null && t.commandStartMs != null ? t.commandEndMs - t.commandStartMs : null,
    commandGuestMs: at(t.commandGuestMs),
    powerOffMs: t.commandEndMs != null ? t.qemuMs - t.commandEndMs : null,
    totalMs: t.prepMs + t.qemuMs,
  };
}

/** `env VAR=VALUE...` before a variant's command, when it has variables. */
const envArgs = (v) => (Object.keys(v.env ?? {}).length ? ['env', ...Object.entries(v.env).map(([k, x]) => `${k}=${x}`)] : []);

/** The items script for boot `b`: rounds of the rotating series, then the one-offs. */
function itemsScript(b, o, p) {
  const series = [
    ['node', [NODE, '-e', '0']],
    ['gmemtest', [NODE, p.bundle]],
    ...(p.upstream ? [['upstream_c', [p.upstream]]] : []),
    ...(p.c ? [['c_baseline', [p.c]]] : []),
    ...p.variants.map((v) => [`variant:${v.name}`, [...envArgs(v), NODE, v.bundle]]),
  ];
  const lines = [
    '#!/bin/sh',
    '# Written by bench/guest.mjs for one boot; run by /init in the chroot of the host root.',
    'out="$GMEMTEST_OUT_DIR"',
    'n=0',
    'item() {',
    '  name=$1; shift; n=$((n + 1))',
    '  read a _ < /proc/uptime',
    '  "$@" > "$out/$n.out" 2> "$out/$n.err"',
    '  rc=$?',
    '  read b _ < /proc/uptime',
    '  echo "$n $name $a $b $rc"',
    '}',
    `item node_first ${[NODE, '-e', '0'].map(sh).join(' ')}`,
    // The boot's first use of KVM (and of the C binary), then the bundle's first run: node
    // and KVM are warm by then, the bundle and ffi-rs's binding are not.
    ...(p.upstream ? [`item upstream_c_first ${sh(p.upstream)}`] : []),
    `item gmemtest_first ${[NODE, p.bundle].map(sh).join(' ')}`,
  ];
  for (let r = 0; r < o.rounds; r++) {
    const k = (b + r) % series.length;
    for (const [name, argv] of [...series.slice(k), ...series.slice(0, k)]) lines.push(`item ${sh(name)} ${argv.map(sh).join(' ')}`);
  }
  lines.push(`item micro ${[NODE, p.micro, '--calls', '4095', '--rounds', '3', '--probes', '5', ...(p.c ? ['--c', p.c] : [])].map(sh).join(' ')}`);
  lines.push(`item phases ${[NODE, join(BENCH, 'phases.mjs')].map(sh).join(' ')}`);
  // Per-case durations of each variant beside the current build's (phases above).
  for (const v of p.variants) lines.push(`item ${sh(`json:${v.name}`)} ${[...envArgs(v), NODE, v.bundle, '--format', 'json'].map(sh).join(' ')}`);
  if (o.profile && b === 0) {
    lines.push(`item profile ${[NODE, '--cpu-prof', '--cpu-prof-dir', '__OUT__/prof', '--cpu-prof-interval', String(PROFILE_INTERVAL_US), p.bundle]
      .map(sh).join(' ').replace(`'__OUT__/prof'`, '"$out/prof"')}`);
  }
  return `${lines.join('\n')}\n`;
}

function readItems(stdout, outDir) {
  const items = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\d+) (\S+) ([\d.]+) ([\d.]+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    const [, n, name, a, b, rc] = m;
    const read = (ext) => {
      const file = join(outDir, `${n}.${ext}`);
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    };
    items.push({ name, ms: Math.round((Number(b) - Number(a)) * 1000), rc: Number(rc), out: read('out'), err: read('err') });
  }
  return items;
}

/**
 * Runs the guest series. `o`: { boots, rounds, profile, variants: [{name, bundle}] }.
 * Returns the results, or { skipped: reason }.
 */
export async function runGuest(o) {
  const k = cachedKernel('sid');
  if (!k.kernel) return { skipped: k.why };
  const { bootAndRun } = await import('../dist/boot/boot-and-run.js');
  const { missingTools } = await import('../dist/cli/boot-command.js');
  const missing = missingTools();
  if (missing) return { skipped: missing };
  const bundle = join(ROOT, 'dist', 'bundle', 'gmemtest.mjs');
  const up = upstreamC();
  if (!up.path) process.stderr.write(`bench: guest: upstream C column skipped: ${up.why}\n`);
  const c = buildBaseline();
  const programs = await prepareGuestPrograms();
  const p = { bundle, upstream: up.path, c: c.exe, variants: o.variants, ...programs };
  const common = { kernel: k.kernel.vmlinuz, modules: k.kernel.modules, numa: 2, cpus: 2, memory: '2G', accel: 'tcg', cwd: ROOT, env: { NO_COLOR: '1' } };

  const boots = [];
  const itemRuns = [];
  let profile = null;
  for (let b = 0; b < o.boots; b++) {
    // gmemtest boot's guest command, as bootCommand() hands it to bootAndRun().
    let load = loadNow();
    process.stderr.write(`bench: guest boot ${2 * b + 1}/${2 * o.boots}: gmemtest's guest command (${describeLoad(load)})\n`);
    const r = await bootAndRun({ ...common, timeoutSec: 600, command: [NODE, bundle] });
    if (!r.ok) throw new Error(`guest boot failed: ${r.failure}: ${r.message}\n${r.consoleTail.slice(-15).join('\n')}`);
    boots.push({ kind: 'boot', load, exitCode: r.exitCode, totals: ktapTotals(r.stdout), ...phasesOf(r.timings) });

    load = loadNow();
    process.stderr.write(`bench: guest boot ${2 * b + 2}/${2 * o.boots}: timed items (${describeLoad(load)})\n`);
    const script = join(BUILD, 'guest-items.sh');
    writeFileSync(script, itemsScript(b, o, p));
    const s = await bootAndRun({ ...common, timeoutSec: 1200, command: ['/bin/sh', script], keepWorkDir: true });
    try {
      if (!s.ok) throw new Error(`guest items boot failed: ${s.failure}: ${s.message}\n${s.consoleTail.slice(-15).join('\n')}`);
      const outDir = join(s.workDir, 'out');
      const items = readItems(s.stdout, outDir);
      boots.push({ kind: 'items', load, exitCode: s.exitCode, ...phasesOf(s.timings) });
      itemRuns.push(items);
      if (o.profile && b === 0 && existsSync(join(outDir, 'prof'))) {
        const { prof } = readProfile(join(outDir, 'prof'));
        mkdirSync(join(BUILD, 'prof'), { recursive: true });
        writeFileSync(join(BUILD, 'prof', 'guest.cpuprofile'), JSON.stringify(prof));
        profile = summarise(prof, PROFILE_INTERVAL_US, { root: ROOT });
        profile.file = relative(ROOT, join(BUILD, 'prof', 'guest.cpuprofile'));
      }
    } finally {
      if (s.workDir) rmSync(s.workDir, { recursive: true, force: true });
    }
  }
  return summariseGuest(boots, itemRuns, p, profile, up.why);
}

function summariseGuest(boots, itemRuns, p, profile, upstreamWhy) {
  const series = new Map();
  const add = (k, v) => { if (!series.has(k)) series.set(k, []); series.get(k).push(v); };
  const totals = new Map();
  const micro = [];
  const phases = [];
  const variantCases = [];
  for (const items of itemRuns) {
    for (const it of items) {
      if (it.name === 'micro') {
        if (it.rc === 0) micro.push(JSON.parse(it.out));
        else process.stderr.write(`bench: guest micro exited ${it.rc}: ${it.err.slice(-500)}\n`);
        continue;
      }
      if (it.name === 'phases') {
        if (it.out.trim()) phases.push(JSON.parse(it.out));
        continue;
      }
      if (it.name === 'profile') continue;
      if (it.name.startsWith('json:')) {
        try {
          const doc = JSON.parse(it.out);
          variantCases.push({ name: it.name.slice(5), perCase: Object.fromEntries(doc.results.filter((r) => r.kind === 'case').map((r) => [r.id, r.duration_ms])) });
        } catch { /* a variant without --format json output: no per-case column */ }
        continue;
      }
      add(it.name, it.ms);
      if (it.name.startsWith('gmemtest') || it.name.startsWith('variant:')) {
        const t = ktapTotals(it.out);
        totals.set(it.name, t ? `pass:${t.pass} fail:${t.fail} skip:${t.skip} error:${t.error}` : `no Totals (exit ${it.rc})`);
      }
      if (it.name.startsWith('upstream_c') || it.name === 'c_baseline') totals.set(it.name, `exit ${it.rc}`);
    }
  }
  const st = (k) => stats(series.get(k) ?? []);
  const m = (k) => st(k)?.median ?? null;
  const nodeMs = m('node');
  const cMs = m('upstream_c');
  const floor = nodeMs != null && cMs != null ? nodeMs + cMs : null;
  const gm = m('gmemtest');
  const mm = (path) => median(micro.map((x) => path.split('.').reduce((o, k) => o?.[k], x)));
  const g = {
    load: boots.map((b) => b.load),
    boots: boots.length,
    ms: Object.fromEntries([...series.keys()].map((k) => [k, st(k)])),
    totals: Object.fromEntries(totals),
    perBoot: {
      boot: summarisePhases(boots.filter((b) => b.kind === 'boot')),
      items: summarisePhases(boots.filter((b) => b.kind === 'items')),
    },
    bootTotals: boots.filter((b) => b.kind === 'boot').map((b) => b.totals),
    micro: micro.length === 0 ? null : {
      perCallUs: mm('ioctlUs.perCall'), sweepUs: mm('ioctlUs.sweep'), cUs: mm('ioctlUs.c'), firstSweepUs: mm('ioctlUs.firstSweep'),
      crossingGetpagesizeUs: mm('crossing.getpagesizeUs'), crossingSyscallUs: mm('crossing.syscallGetpidUs'),
      faultingProbeMs: mm('helperMs.faultingProbe'), firstFaultingProbeMs: mm('helperMs.firstFaultingProbe'),
      helperSpawnToReadyMs: mm('helperMs.spawnToReady'), helperSpawnToClosedMs: mm('helperMs.spawnToClosed'),
      helperRoundTripMs: mm('helperMs.roundTrip'), leakScanMs: mm('leakScan.ms'), sweepOpenMs: mm('sweepOpenMs'),
      leakFdsMs: mm('leakScan.fdsMs'), leakMapsMs: mm('leakScan.mapsMs'), fds: mm('leakScan.fds'), mapsBytes: mm('leakScan.mapsBytes'),
      crossings: micro[0].crossings, raw: micro,
    },
    phases: phases.length === 0 ? null : {
      ...Object.fromEntries(['bootMs', 'ffiMs', 'compileMs', 'runMs', 'casesMs', 'totalMs'].map((k) => [k, median(phases.map((x) => x[k]))])),
      cache: phases.map((x) => x.cache).join(', '),
    },
    perCaseMs: perCaseMedians(phases),
    ratios: {
      gmemtest_over_floor: ratio(gm, floor),
      gmemtest_over_node: ratio(gm, nodeMs),
      gmemtest_over_c: ratio(gm, cMs),
    },
    variants: p.variants.map((v) => ({ name: v.name, spec: v.label ?? v.spec, commit: v.commit ?? null,
      medianMs: m(`variant:${v.name}`), overCurrent: ratio(m(`variant:${v.name}`), gm),
      perCaseMs: perCaseMedians(variantCases.filter((x) => x.name === v.name)) })),
    upstreamSkipped: upstreamWhy,
    profile,
  };
  g.ratios.sweep_over_c = ratio(g.micro?.sweepUs, g.micro?.cUs);
  g.ratios.per_call_over_c = ratio(g.micro?.perCallUs, g.micro?.cUs);
  return g;
}

/** id -> median ms over the boots' phases runs (--format json inside the guest). */
function perCaseMedians(phases) {
  const ids = [...new Set(phases.flatMap((x) => Object.keys(x.perCase ?? {})))];
  return Object.fromEntries(ids.map((id) => [id, median(phases.map((x) => x.perCase?.[id]))]));
}

/** The per-case table: one row per case, one column per flag set. */
export function perCaseTable(perCase, d = 2) {
  const cols = [];
  const rows = new Map();
  for (const [id, ms] of Object.entries(perCase)) {
    const parts = id.split('.');
    const col = parts.length > 2 ? parts.slice(1, -1).join('.') : '(vm)';
    const row = parts.length > 2 ? `${parts[0]}.${parts.at(-1)}` : id;
    if (!cols.includes(col)) cols.push(col);
    if (!rows.has(row)) rows.set(row, {});
    rows.get(row)[col] = ms;
  }
  return table([...rows].map(([r, x]) => [r, ...cols.map((c) => f(x[c], d))]), ['case', ...cols]);
}

function summarisePhases(list) {
  const keys = ['prepMs', 'kernelToInitMs', 'initToCommandMs', 'commandMs', 'commandGuestMs', 'powerOffMs', 'totalMs'];
  return Object.fromEntries(keys.map((k) => [k, stats(list.map((b) => b[k]))]));
}

export function printGuest(g) {
  if (g.skipped) {
    console.log(`\nguest series: SKIPPED: ${g.skipped}`);
    return;
  }
  console.log(`\nguest series: Debian sid 7.2 under TCG (gmemtest boot's machinery, --numa 2, 2 vCPUs, 2 GiB), ` +
    `${g.boots / 2} boot(s) of each kind; times in ms (guest clock, 10 ms steps)`);
  console.log(`  load at each boot: ${g.load.map((l) => `[${l.loadavg.join(' ')}${l.qemus ? `, ${l.qemus} other QEMU` : ''}]`).join(' ')}\n`);
  const rows = [
    msRow('in-guest node -e 0 (warm)', g.ms.node, 0),
    msRow("  the boot's first (node read over 9p)", g.ms.node_first, 0),
    msRow('in-guest gmemtest (bundle, KTAP, warm)', g.ms.gmemtest, 0),
    msRow("  the boot's first (bundle, ffi-rs cold)", g.ms.gmemtest_first, 0),
    msRow('in-guest upstream C guest_memfd_test', g.ms.upstream_c, 0),
    msRow("  the boot's first (first use of KVM)", g.ms.upstream_c_first, 0),
    msRow("C baseline (the suite's syscalls, helpers as forks)", g.ms.c_baseline, 0),
    ...g.variants.map((v) => msRow(`variant ${v.name} (${v.spec})`, g.ms[`variant:${v.name}`], 0)),
  ];
  if (g.phases) {
    rows.push(['in-process: node start-up', '', f(g.phases.bootMs, 0), '', '']);
    rows.push(['in-process: ffi-rs binding load', '', f(g.phases.ffiMs, 0), '', '']);
    rows.push([`in-process: program read + compile (cache: ${g.phases.cache})`, '', f(g.phases.compileMs, 0), '', '']);
    rows.push(['in-process: program run (set-up, probe, cases, report)', '', f(g.phases.runMs, 0), '', '']);
    rows.push(['in-process:   the cases (sum)', '', f(g.phases.casesMs, 0), '', '']);
  }
  console.log(table(rows, ['guest series', 'min', 'median', 'max', 'n']));
  if (g.upstreamSkipped) console.log(`  upstream C: skipped: ${g.upstreamSkipped}`);
  console.log(`  results: ${Object.entries(g.totals).map(([k, v]) => `${k} ${v}`).join('; ')}`);

  if (g.perCaseMs && Object.keys(g.perCaseMs).length > 0) {
    const sum = Object.values(g.perCaseMs).reduce((a, x) => a + (x ?? 0), 0);
    console.log(`\nin-guest per-case duration (ms, medians of the phases runs, --format json; sum ${f(sum, 0)} ms)\n`);
    console.log(perCaseTable(g.perCaseMs, 0));
    const withCases = g.variants.filter((v) => Object.keys(v.perCaseMs).length > 0);
    if (withCases.length > 0) {
      const ids = Object.keys(g.perCaseMs);
      const total = (pc) => ids.reduce((a, id) => a + (pc[id] ?? 0), 0);
      console.log('\nin-guest per-case duration, current build and variants (ms, medians; --format json runs of the same boots)\n');
      console.log(table([
        ...ids.map((id) => [id, f(g.perCaseMs[id], 0), ...withCases.map((v) => f(v.perCaseMs[id], 0))]),
        ['(sum)', f(total(g.perCaseMs), 0), ...withCases.map((v) => f(total(v.perCaseMs), 0))],
      ], ['case', 'current', ...withCases.map((v) => v.name)]));
    }
  }

  const pb = g.perBoot.boot;
  const pi = g.perBoot.items;
  console.log('\nper boot (host clock, medians; "gmemtest boot" = the guest command as gmemtest boot runs it)\n');
  console.log(table([
    ['prep (initramfs)', f(pb.prepMs?.median, 0), f(pi.prepMs?.median, 0)],
    ['kernel to /init', f(pb.kernelToInitMs?.median, 0), f(pi.kernelToInitMs?.median, 0)],
    ['/init to command (modules, 9p mounts)', f(pb.initToCommandMs?.median, 0), f(pi.initToCommandMs?.median, 0)],
    ['command', f(pb.commandMs?.median, 0), f(pi.commandMs?.median, 0)],
    ['  as the guest clock saw it', f(pb.commandGuestMs?.median, 0), f(pi.commandGuestMs?.median, 0)],
    ['power-off', f(pb.powerOffMs?.median, 0), f(pi.powerOffMs?.median, 0)],
    ['total', f(pb.totalMs?.median, 0), f(pi.totalMs?.median, 0)],
  ], ['phase', 'gmemtest boot', 'items boot']));
  console.log(`  gmemtest boot results: ${g.bootTotals.map((t) => (t ? `pass:${t.pass} fail:${t.fail} skip:${t.skip}` : 'no Totals')).join('; ')}`);

  if (g.micro) {
    const u = g.micro;
    console.log('\nin-guest unit costs (bench/micro.mjs, medians of boots)\n');
    console.log(table([
      ['failing KVM_CREATE_GUEST_MEMFD, per-call FFI (us)', f(u.perCallUs, 1)],
      ['failing KVM_CREATE_GUEST_MEMFD, batched sweep (us)', f(u.sweepUs, 2)],
      ['failing KVM_CREATE_GUEST_MEMFD, C (us)', f(u.cUs, 2)],
      ['one FFI crossing, no argument / 7 arguments (us)', `${f(u.crossingGetpagesizeUs, 0)} / ${f(u.crossingSyscallUs, 0)}`],
      ['access helper: faulting access, spawn to reaped (ms)', f(u.faultingProbeMs, 1)],
      ['access helper: spawn to READY / to closed, no access (ms)', `${f(u.helperSpawnToReadyMs, 1)} / ${f(u.helperSpawnToClosedMs, 1)}`],
      ['access helper: one request round trip (ms)', f(u.helperRoundTripMs, 2)],
      ['access helper: the first faulting access of a process (ms)', f(u.firstFaultingProbeMs, 1)],
      ['the ioctl sweep routine: generate and load (ms)', f(u.sweepOpenMs, 1)],
      ["the runner's leak scan of /proc/self (ms)", f(u.leakScanMs, 1)],
      [`  every fd's link (${f(u.fds, 0)} fds) / /proc/self/maps (${f(u.mapsBytes / 1024, 0)} KiB) (ms)`, `${f(u.leakFdsMs, 1)} / ${f(u.leakMapsMs, 1)}`],
      ['FFI crossings: spawn / round trip / faulting fill to reaped / close',
        `${u.crossings.spawnToReady} / ${u.crossings.roundTrip} / ${u.crossings.faultingFillToReaped} / ${u.crossings.closeIdle}`],
    ], ['unit', 'median']));
  }

  const r = g.ratios;
  console.log('\nguest ratios (medians)\n');
  console.log(table([
    ['gmemtest / (node -e 0 + upstream C)', `${f(r.gmemtest_over_floor)}x`, `<= ${GUEST_TARGET}x`, verdict(r.gmemtest_over_floor, GUEST_TARGET)],
    ['gmemtest / node -e 0', `${f(r.gmemtest_over_node)}x`, '-', ''],
    ['gmemtest / upstream C', `${f(r.gmemtest_over_c)}x`, '-', ''],
    ['per failing ioctl: sweep / C', `${f(r.sweep_over_c)}x`, '<= 5x', verdict(r.sweep_over_c, 5)],
    ['per failing ioctl: per-call FFI / C', `${f(r.per_call_over_c)}x`, '-', ''],
    ...g.variants.map((v) => [`variant ${v.name} / current`, `${f(v.overCurrent)}x`, '-', '']),
  ], ['ratio', 'measured', 'target', '']));

  if (g.profile) printProfile('in-guest gmemtest run', g.profile);
}

export function printProfile(what, p) {
  console.log(`\nprofile of one ${what} (${p.profiledMs} ms profiled, ${p.descheduledMs} ms of it off the CPU; ${p.file})\n`);
  console.log(table(Object.entries(p.byPhaseMs).map(([k, v]) => [k, f(v, 1)]), ['phase', 'ms']));
  console.log('');
  console.log(table(Object.entries(p.insideCasesMs).map(([k, v]) => [k, f(v, 1)]), ['inside the cases', 'ms']));
  console.log('');
  console.log(table(p.topSelf.map((t) => [t.fn, f(t.selfMs, 1), f(t.pct, 1)]), ['top self time', 'ms', '%']));
}

export { round };
