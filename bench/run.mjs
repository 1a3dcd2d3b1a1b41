#!/usr/bin/env node
// gmemtest benchmark: `npm run bench [-- options]`. Nothing is asserted: the targets are
// printed beside the measured ratios as met/missed, and everything is written to
// bench/results.json.
//
// Host series, interleaved round by round (`--runs N`) so that a change in the machine's
// load hits every series alike:
//   node -e 0; bin/gmemtest (KTAP): wall and first stdout byte; --list; --format json
//   (per-case durations); bench/phases.mjs (one run in-process: Node start-up, ffi-rs
//   binding, program load, main(), the cases); the C baseline (bench/c/gmem_baseline.c:
//   the suite's system calls from C, exec to exit and in-process); bench/micro.mjs (per
//   failing KVM_CREATE_GUEST_MEMFD: per-call FFI, the batched sweep, C; one faulting
//   access through the access helper, spawn to reaped); and each --variant's bundle
//   beside the current one, both as `node <bundle>`.
// Guest series (bench/guest.mjs): the same questions inside a TCG guest under gmemtest
// boot's machinery. Part of the default run when the kernel cache has sid's kernel.
//
// Options:
//   --runs N         host rounds (10)
//   --host | --guest only that series (default: both)
//   --boots N        guest boots of each kind (3)
//   --rounds N       guest rounds of the timed items per boot (2)
//   --variant N=REV  also measure the build of git revision REV (or a bundle .mjs) as N
//   --profile        one run under node --cpu-prof on the host (and in the guest), summarised
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  BENCH, BUILD, buildBaseline, caseDurations, describeLoad, ensureBuilt, f, loadNow, median, msRow, must, NODE, ratio,
  ROOT, round, stats, table, timed, verdict,
} from './lib.mjs';
import { perCaseTable, printGuest, printProfile, runGuest } from './guest.mjs';
import { readProfile, summarise } from './profile.mjs';
import { buildVariant } from './variant.mjs';

const GMEMTEST = join(ROOT, 'bin', 'gmemtest');
const BUNDLE = join(ROOT, 'dist', 'bundle', 'gmemtest.mjs');

const TARGETS = {
  suite_over_node: 2.5, // host suite wall <= 2.5x node -e 0
  probe_ms: 5, // one faulting access through the access helper, spawn to reaped
  sweep_over_c: 5, // per failing ioctl, the path the suite uses, <= 5x C
};

function parseArgs(argv) {
  const o = { runs: 10, host: true, guest: true, boots: 3, rounds: 2, variants: [], profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--runs') o.runs = num();
    else if (a === '--boots') o.boots = num();
    else if (a === '--rounds') o.rounds = num();
    else if (a === '--host') o.guest = false;
    else if (a === '--guest') o.host = false;
    else if (a === '--variant') o.variants.push(argv[++i]);
    else if (a === '--profile') o.profile = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: npm run bench -- [--runs N (10)] [--host | --guest] [--boots N (3)] [--rounds N (2)] '
        + '[--variant NAME=REV|BUNDLE.mjs]... [--profile]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!o.host && !o.guest) throw new Error('--host and --guest together measure nothing; give neither for both');
  return o;
}

// --- the host series --------------------------------------------------------------------
async function runHost(o, c, programs, variants) {
  const s = {
    node: [], suite: [], firstByte: [], list: [], json: [], bundle: [], c: [], cWork: [], cProbe: [], cCases: [],
    phaseBoot: [], phaseFfi: [], phaseCompile: [], phaseRun: [], phaseCases: [], phaseTotal: [],
    perCallUs: [], sweepUs: [], cUs: [], probeMs: [], helperReadyMs: [], helperRoundTripMs: [],
    crossing0Us: [], crossing7Us: [], leakScanMs: [], sweepOpenMs: [],
  };
  const v = Object.fromEntries(variants.map((x) => [x.name, []]));
  const perCase = new Map();
  let cInfo = null;
  let crossings = null;
  let phasesCache = null;
  const loads = [loadNow()];

  // One untimed warm-up of each (page cache, lazily loaded kernel parts).
  await timed(NODE, ['-e', '0']);
  must(await timed(GMEMTEST, []), 'gmemtest');
  if (c.exe) await timed(c.exe, []);

  for (let i = 0; i < o.runs; i++) {
    process.stderr.write(`\rbench: host round ${i + 1}/${o.runs}`);
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

    const p = JSON.parse(must(await timed(NODE, [join(BENCH, 'phases.mjs')], { keepOut: true }), 'bench/phases.mjs', [0]).out);
    phasesCache = p.cache;
    s.phaseBoot.push(p.bootMs);
    s.phaseFfi.push(p.ffiMs);
    s.phaseCompile.push(p.compileMs);
    s.phaseRun.push(p.runMs);
    s.phaseCases.push(p.casesMs);
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

    const mArgs = [programs.microHost, '--calls', '4095', '--rounds', '3', '--probes', '7', ...(c.exe ? ['--c', c.exe] : [])];
    const m = JSON.parse(must(await timed(NODE, mArgs, { keepOut: true }), 'bench/micro.mjs', [0]).out);
    s.perCallUs.push(m.ioctlUs.perCall);
    s.sweepUs.push(m.ioctlUs.sweep);
    s.cUs.push(m.ioctlUs.c);
    s.probeMs.push(m.helperMs.faultingProbe);
    s.helperReadyMs.push(m.helperMs.spawnToReady);
    s.helperRoundTripMs.push(m.helperMs.roundTrip);
    s.crossing0Us.push(m.crossing.getpagesizeUs);
    s.crossing7Us.push(m.crossing.syscallGetpidUs);
    s.leakScanMs.push(m.leakScan.ms);
    s.sweepOpenMs.push(m.sweepOpenMs);
    crossings = m.crossings;

    if (variants.length > 0) {
      // The current bundle and each variant's, launched the same way, in a rotating order.
      const runs = [['(current)', BUNDLE, {}], ...variants.map((x) => [x.name, x.bundle, x.env])];
      const k0 = i % runs.length;
      for (const [name, file, env] of [...runs.slice(k0), ...runs.slice(0, k0)]) {
        const r = must(await timed(NODE, [file], { env }), `node ${file}`);
        (name === '(current)' ? s.bundle : v[name]).push(r.wallMs);
      }
    }
  }
  process.stderr.write('\n');
  loads.push(loadNow());

  const st = Object.fromEntries(Object.entries(s).map(([k, x]) => [k, stats(x)]));
  const med = (k) => st[k]?.median ?? null;
  const caseSum = [...perCase.values()].reduce((a, x) => a + median(x), 0);
  const ratios = {
    suite_over_node: ratio(med('suite'), med('node')),
    suite_over_c: ratio(med('suite'), med('c')),
    run_over_c_work: ratio(med('phaseRun'), med('cWork')),
    probe_ms: med('probeMs'),
    sweep_over_c: ratio(med('sweepUs'), med('cUs')),
    per_call_over_c: ratio(med('perCallUs'), med('cUs')),
  };
  return {
    load: loads, st, perCase, caseSum, ratios, cInfo, crossings, phasesCache,
    variants: variants.map((x) => ({ name: x.name, spec: x.label, commit: x.commit ?? null, ms: stats(v[x.name]),
      overCurrent: ratio(stats(v[x.name])?.median, med('bundle')) })),
  };
}

function printHost(h, o, c) {
  const { st, ratios } = h;
  console.log(`\nhost series: ${o.runs} rounds, interleaved; node ${process.version}; C baseline ${c.exe ? `${c.cc} -O2` : `SKIPPED (${c.why})`}; ms`);
  console.log(`  load before / after: ${describeLoad(h.load[0])} / ${describeLoad(h.load[1])}\n`);
  console.log(table([
    msRow('node -e 0', st.node),
    msRow('bin/gmemtest (KTAP) wall', st.suite),
    msRow('  first stdout byte (start, load, probe)', st.firstByte),
    msRow('bin/gmemtest --list', st.list),
    msRow('bin/gmemtest --format json', st.json),
    msRow('in-process: node start-up', st.phaseBoot),
    msRow('in-process: ffi-rs binding load', st.phaseFfi),
    msRow(`in-process: program read + compile (cache: ${h.phasesCache})`, st.phaseCompile),
    msRow('in-process: program run (set-up, probe, cases, report)', st.phaseRun),
    msRow('in-process:   the cases (sum)', st.phaseCases),
    msRow('C baseline, exec to exit', st.c),
    msRow('C baseline, in-process work', st.cWork),
    msRow('  C: open + probe', st.cProbe),
    msRow('  C: cases', st.cCases),
    ...(h.variants.length ? [msRow('node dist/bundle/gmemtest.mjs (current)', st.bundle)] : []),
    ...h.variants.map((x) => msRow(`node <bundle of ${x.name}> (${x.spec})`, x.ms)),
  ], ['host series', 'min', 'median', 'max', 'n']));
  if (h.cInfo) console.log(`  C baseline: ${h.cInfo.children} child processes (the access helpers' part), ${h.cInfo.unexpected} unexpected results`);

  console.log(`\nper-case median duration (ms, from --format json; sum ${f(h.caseSum, 1)} ms)\n`);
  console.log(perCaseTable(Object.fromEntries([...h.perCase].map(([id, x]) => [id, median(x)]))));

  console.log('\nunit costs (bench/micro.mjs, medians of rounds)\n');
  console.log(table([
    msRow('failing KVM_CREATE_GUEST_MEMFD, per-call FFI (us)', st.perCallUs, 3),
    msRow('failing KVM_CREATE_GUEST_MEMFD, batched sweep (us)', st.sweepUs, 3),
    msRow('failing KVM_CREATE_GUEST_MEMFD, C (us)', st.cUs, 3),
    msRow('one FFI crossing, no argument (us)', st.crossing0Us, 2),
    msRow('one FFI crossing, 7 arguments (us)', st.crossing7Us, 2),
    msRow('faulting access via the helper, spawn to reaped (ms)', st.probeMs, 3),
    msRow('access helper spawn to READY (ms)', st.helperReadyMs, 3),
    msRow('access helper request round trip (ms)', st.helperRoundTripMs, 3),
    msRow('the ioctl sweep routine: generate and load (ms)', st.sweepOpenMs, 3),
    msRow("the runner's leak scan of /proc/self (ms)", st.leakScanMs, 3),
  ], ['unit', 'min', 'median', 'max', 'n']));
  if (h.crossings) {
    const x = h.crossings;
    console.log(`  FFI crossings: helper spawn to READY ${x.spawnToReady}, a request ${x.roundTrip}, faulting FILL to reaped ${x.faultingFillToReaped}, close ${x.closeIdle}`);
  }

  console.log('\nhost ratios (medians)\n');
  console.log(table([
    ['suite wall / node -e 0', `${f(ratios.suite_over_node)}x`, `<= ${TARGETS.suite_over_node}x`, verdict(ratios.suite_over_node, TARGETS.suite_over_node)],
    ['faulting access via the helper, spawn to reaped', `${f(ratios.probe_ms, 3)} ms`, `<= ${TARGETS.probe_ms} ms`, verdict(ratios.probe_ms, TARGETS.probe_ms)],
    ['per failing ioctl: sweep (the suite\'s path) / C', `${f(ratios.sweep_over_c)}x`, `<= ${TARGETS.sweep_over_c}x`, verdict(ratios.sweep_over_c, TARGETS.sweep_over_c)],
    ['per failing ioctl: per-call FFI / C', `${f(ratios.per_call_over_c)}x`, '-', ''],
    ['suite wall / C baseline wall', `${f(ratios.suite_over_c)}x`, '-', ''],
    ['program run / C in-process work', `${f(ratios.run_over_c_work)}x`, '-', ''],
    ...h.variants.map((x) => [`variant ${x.name} / current (node <bundle>)`, `${f(x.overCurrent)}x`, '-', '']),
  ], ['ratio', 'measured', 'target', '']));
}

// --profile on the host: one run under node --cpu-prof.
const HOST_PROFILE_INTERVAL_US = 250;
async function profileHost() {
  const dir = join(BUILD, 'prof', 'host');
  const { rmSync, mkdirSync } = await import('node:fs');
  // SIGPROF may interrupt a syscall the layer does not restart; keep the first whole run.
  let attempts = 0;
  let r;
  do {
    attempts++;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    r = await timed(NODE, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', String(HOST_PROFILE_INTERVAL_US), BUNDLE]);
  } while (![0, 1].includes(r.code) && attempts < 5);
  const { file, prof } = readProfile(dir);
  return { ...summarise(prof, HOST_PROFILE_INTERVAL_US, { root: ROOT }), file: relative(ROOT, file), attempts };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  ensureBuilt();
  const c = buildBaseline();
  if (!c.exe) process.stderr.write(`bench: C baseline skipped: ${c.why}\n`);
  const variants = o.variants.map(buildVariant);
  const programs = { microHost: join(BENCH, 'micro.mjs') };
  const results = { date: new Date().toISOString(), node: process.version, targets: TARGETS };

  if (o.host) {
    const h = await runHost(o, c, programs, variants);
    printHost(h, o, c);
    results.host = {
      runs: o.runs, load: h.load, ratios: Object.fromEntries(Object.entries(h.ratios).map(([k, x]) => [k, round(x, 4)])),
      met: {
        suite_over_node: h.ratios.suite_over_node == null ? null : h.ratios.suite_over_node <= TARGETS.suite_over_node,
        probe_ms: h.ratios.probe_ms == null ? null : h.ratios.probe_ms <= TARGETS.probe_ms,
        sweep_over_c: h.ratios.sweep_over_c == null ? null : h.ratios.sweep_over_c <= TARGETS.sweep_over_c,
      },
      ms: h.st, perCaseMedianMs: Object.fromEntries([...h.perCase].map(([id, x]) => [id, round(median(x), 4)])),
      caseSumMs: round(h.caseSum, 3), cBaseline: c.exe ? { compiler: c.cc, last: h.cInfo } : { skipped: c.why },
      crossings: h.crossings, variants: h.variants,
    };
    if (o.profile) {
      process.stderr.write('bench: profiling one host run (node --cpu-prof)\n');
      results.host.profile = await profileHost();
      printProfile('host gmemtest run', results.host.profile);
    }
  }
  if (o.guest) {
    const g = await runGuest({ boots: o.boots, rounds: o.rounds, profile: o.profile, variants });
    printGuest(g);
    results.guest = g;
  }
  writeFileSync(join(BENCH, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), join(BENCH, 'results.json'))}`);
}

main().catch((e) => {
  console.error(`\nbench: ${e.stack ?? e.message}`);
  process.exitCode = 1;
});
