// `npm run test:kernels`: the kernel matrix. Fetches Debian sid's newest kernel
// and trixie's 6.12 (scripts/kernels/fetch.sh), boots each under QEMU/TCG with
// two NUMA nodes through `gmemtest boot --numa 2`, parses the KTAP and checks
// what each kernel must show:
//   sid (newest):  every default_vm case runs (no SKIP), all four flag sets,
//                  mbind and numa_allocation pass, guest_memfd_guest passes
//                  if the suite has it, nothing fails;
//   trixie (6.12): KVM_CAP_GUEST_MEMFD_FLAGS=0x0, so only flags-none,
//                  guest_memfd_guest SKIPs if present, nothing fails.
//   sid arm64:     Debian sid's arm64 kernel (scripts/arm64/fetch-kernel.sh) under
//                  qemu-system-aarch64, with the checks of sid (arm64 has no
//                  KVM_CAP_VM_TYPES: every case runs on default_vm); in the same
//                  guest, after gmemtest, upstream's C guest_memfd_test cross-built
//                  from the same linux-source (scripts/arm64/build-c-test.sh), whose
//                  verdict is shown beside and must agree (pass).
//   names:         the flat form (--format ktap-flat) of a host run and of a boot of
//                  each x86 kernel, flattened the Linaro way (scripts/kernels/names.ts):
//                  every case named once, and named alike wherever host and guest share it.
// Prints a per-kernel table. Exit 0 when all hold, and also (after a SKIP
// line) when fetch.sh says the archive cannot be reached (its exit 3); any
// other problem exits 1. KTAP of each boot: .cache/kernels-matrix/<suite>.ktap (the
// C test's output: sid-arm64.upstream.txt); the matrix as one HTML page (gmemtest
// report): .cache/kernels-matrix/matrix.html.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARM64_EXTRA_DIR } from '../../src/boot/arm64-root.js';
import { bootAndRun } from '../../src/boot/boot-and-run.js';
import { bootHeader, bootReport } from '../../src/cli/boot-ktap.js';
import { bundlePath, guestSetup } from '../../src/cli/boot-command.js';
import { readKtap, walkTests, type KtapDocument, type KtapTest } from '../../src/ktap/reader.js';
import { writeHtmlReport } from '../../src/report/index.js';
import { checkNames, named, namesSummary, tappyPython, type Named } from './names.js';
import { parseProgress, PROGRESS_ENV, StatusLine } from '../../src/cli/progress.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface ManifestEntry { suite: string; release: string; vmlinuz: string; modules: string }

interface Run { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

function run(cmd: string, args: string[], timeoutMs: number, stderrTo?: NodeJS.WritableStream,
  progress?: StatusLine): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(progress?.active ? { [PROGRESS_ENV]: '1' } : {}) };
  delete env.NODE_OPTIONS;
  const t0 = performance.now();
  return new Promise((res) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    let partial = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (progress?.active) {
        // Its progress events move the status line; the rest is its stderr as ever.
        const lines = (partial + d).split('\n');
        partial = lines.pop() ?? '';
        d = lines.filter((l) => {
          const e = parseProgress(l);
          if (e !== null && e.phase !== 'done') progress.update(e);
          return e === null;
        }).map((l) => `${l}\n`).join('');
      }
      stderr += d;
      stderrTo?.write(d);
    });
    const timer = setTimeout(() => { c.kill('SIGTERM'); setTimeout(() => c.kill('SIGKILL'), 5000).unref(); }, timeoutMs);
    c.on('error', (e) => { stderr += String(e); });
    c.on('close', (code, signal) => { clearTimeout(timer); res({ code, signal, stdout, stderr, ms: performance.now() - t0 }); });
  });
}

export interface Counts { cases: number; pass: number; fail: number; skip: number; xfail: number }

/** Leaf cases of the guest (a skipped VM type counts as one skipped case). */
export function countCases(guest: readonly KtapTest[]): Counts {
  const c: Counts = { cases: 0, pass: 0, fail: 0, skip: 0, xfail: 0 };
  for (const { test: n } of walkTests(guest)) {
    if (n.children.length > 0) continue;
    c.cases++;
    if (n.directive === 'SKIP') c.skip++;
    else if (n.directive === 'XFAIL') c.xfail++;
    else if (n.ok && n.directive === null) c.pass++;
    else c.fail++;
  }
  return c;
}

/** What is wrong with one kernel's run (empty: all good). */
export function checkKernel(suite: string, exitCode: number | null, ktap: string, p: KtapDocument): string[] {
  const problems: string[] = [];
  if (p.problems.length > 0) problems.push(`the KTAP document is not well formed: ${p.problems.slice(0, 3).join(' | ')}`);
  const top = p.tests[0];
  if (p.tests.length !== 1 || !top) return [...problems, `expected one top-level test (the kernel), got ${p.tests.length}`];
  if (top.directive !== null) problems.push(`kernel test: ${top.directive} ${top.reason}`);
  const all = walkTests(top.children);
  const bad = all.filter(({ test: n }) => n.children.length === 0 && (!n.ok || ['XPASS', 'ERROR', 'TIMEOUT'].includes(n.directive ?? '')));
  for (const { id, test: n } of bad) problems.push(`${id}: ${n.ok ? '' : 'not ok '}${n.directive ?? ''} ${n.reason}`.trim());
  const t = p.totals;
  if (!t) problems.push('no Totals line');
  else if (t.fail + t.error + t.xpass > 0) problems.push(`Totals: fail:${t.fail} error:${t.error} xpass:${t.xpass}`);
  const vm = top.children.find((n) => n.name === 'default_vm');
  if (!vm) return [...problems, 'no default_vm in the guest\'s results'];
  const flagSets = vm.children.filter((n) => n.name.startsWith('flags-')).map((n) => n.name).sort();
  const guestCase = all.find(({ test: n }) => n.name === 'guest_memfd_guest');
  if (suite === 'sid') {
    if (exitCode !== 0) problems.push(`exit code ${exitCode}, expected 0`);
    if (!/KVM_CAP_GUEST_MEMFD_FLAGS=0x3\b/.test(ktap)) problems.push('KVM_CAP_GUEST_MEMFD_FLAGS=0x3 not in the guest header');
    const want = ['flags-init_shared', 'flags-mmap', 'flags-mmap-init_shared', 'flags-none'];
    if (flagSets.join() !== want.join()) problems.push(`flag sets ${flagSets.join(', ')}; expected ${want.join(', ')}`);
    for (const { id, test: n } of walkTests(vm.children, 'default_vm')) {
      if (n.directive === 'SKIP') problems.push(`${id} skipped on the newest kernel: ${n.reason}`);
    }
    for (const name of ['mbind', 'numa_allocation']) {
      const hits = walkTests(vm.children).filter(({ test: n }) => n.name === name);
      if (hits.length === 0) problems.push(`no ${name} case`);
      for (const { id, test: n } of hits) if (!n.ok || n.directive !== null) problems.push(`default_vm.${id}: ${n.directive ?? 'not ok'}, expected a pass`);
    }
    if (guestCase && (!guestCase.test.ok || guestCase.test.directive !== null)) problems.push(`${guestCase.id}: ${guestCase.test.directive ?? 'not ok'} ${guestCase.test.reason}, expected a pass`);
  } else {
    if (exitCode !== 0 && exitCode !== 4) problems.push(`exit code ${exitCode}, expected 0 (or 4)`);
    if (!/KVM_CAP_GUEST_MEMFD_FLAGS=0x0\b/.test(ktap)) problems.push('KVM_CAP_GUEST_MEMFD_FLAGS=0x0 not in the guest header');
    if (flagSets.join() !== 'flags-none') problems.push(`flag sets ${flagSets.join(', ') || '(none)'}; expected only flags-none`);
    if (guestCase && guestCase.test.directive !== 'SKIP') problems.push(`${guestCase.id}: ${guestCase.test.directive ?? (guestCase.test.ok ? 'ok' : 'not ok')}, expected SKIP`);
  }
  return problems;
}

/** A boot failure of the emulated machine (guest kernel oops/panic, hang, no result), if that is how it ended. */
export function machineFailure(ktap: string): string | undefined {
  const m = /^not ok 1 \S+ # (?:ERROR (kernel-panic|no-result)|(TIMEOUT))\b/m.exec(ktap);
  return m ? (m[1] ?? 'timeout') : undefined;
}

/** The C test's verdict from its exit status and output ("==== Test Assertion Failure ====" then the assertion). */
export function cVerdict(exit: number | null, output: string): { pass: boolean; text: string } {
  if (exit === null) return { pass: false, text: 'did not finish' };
  if (exit === 0) return { pass: true, text: 'pass' };
  if (exit === 4) return { pass: false, text: 'skip (4)' };
  const lines = output.split('\n');
  const at = lines.findIndex((l) => l.includes('Test Assertion Failure'));
  const where = at >= 0 ? `: ${(lines[at + 1] ?? '').trim()}` : '';
  return { pass: false, text: `fail (${exit > 128 && exit < 160 ? `signal ${exit - 128}` : `exit ${exit}`})${where}` };
}

const ARM64_SUITE = 'sid';
/** The arm64 row's label, and the file names of its results. */
const ARM64_ROW = 'sid-arm64';

interface Row { cells: string[]; failed: boolean; /** The boot's KTAP, when there was a boot. */ ktap?: string }

/** The arm64 row: fetch, build the C test, boot once running gmemtest then the C test. */
async function arm64Row(outDir: string): Promise<Row | null> {
  const t0 = performance.now();
  const status = new StatusLine(`test:kernels ${ARM64_ROW}`);
  const fail = (why: string, release = '?'): Row => {
    status.done('FAIL');
    console.log(`not ok: ${ARM64_ROW}: ${why}`);
    return { cells: [ARM64_ROW, release, '?', '0', '0', '0', '0', '0', `${((performance.now() - t0) / 1000).toFixed(1)} s`, '0', 'FAIL', '-'], failed: true };
  };
  console.log('== kernels: arm64 fetch (scripts/arm64/fetch-kernel.sh)');
  status.update({ phase: 'fetching' });
  const f = await run(join(ROOT, 'scripts/arm64/fetch-kernel.sh'), [ARM64_SUITE], 20 * 60_000, process.stderr);
  if (f.code === 3) {
    status.done('SKIP');
    console.log(`SKIP: ${ARM64_ROW} not run: ${f.stderr.trim().split('\n').reverse().find((l) => /SKIP:/.test(l))?.replace(/^.*SKIP:\s*/, '') ?? 'the package archive cannot be reached'}`);
    return null;
  }
  if (f.code !== 0) return fail(`scripts/arm64/fetch-kernel.sh exited with ${f.code ?? f.signal}`);
  const k = (JSON.parse(f.stdout) as { kernels: (ManifestEntry & { version: string })[] }).kernels.find((e) => e.suite === ARM64_SUITE);
  if (!k) return fail(`no ${ARM64_SUITE} kernel in the arm64 manifest`);
  const fetchMs = f.ms;

  console.log(`== kernels: arm64 C guest_memfd_test from linux-source ${k.version} (scripts/arm64/build-c-test.sh)`);
  status.update({ phase: 'building', detail: 'the C guest_memfd_test' });
  const c = await run(join(ROOT, 'scripts/arm64/build-c-test.sh'), [k.version], 30 * 60_000, process.stderr);
  const cTest = c.code === 0 ? c.stdout.trim().split('\n').pop() ?? '' : '';
  if (c.code !== 0 && c.code !== 3) return fail(`scripts/arm64/build-c-test.sh exited with ${c.code ?? c.signal}`, k.release);
  const cBuildMs = c.ms;

  const bundle = bundlePath();
  if (!bundle) return fail('dist/bundle/gmemtest.mjs is missing', k.release);
  const g = await guestSetup('arm64', bundle, []);
  if (g.kind !== 'ok') return fail(g.kind === 'skip' ? g.reason : g.message, k.release);
  // gmemtest as `gmemtest boot` runs it, then the C test; gmemtest's exit code is the command's.
  const script = [
    'ms() { read -r up _ < /proc/uptime; echo "${up%.*}${up#*.}0"; }',
    't0=$(ms)', '"$@"', 'rc=$?', 't1=$(ms)',
    `if [ -x ${ARM64_EXTRA_DIR}/guest_memfd_test ]; then`,
    `  (cd ${ARM64_EXTRA_DIR} && ./guest_memfd_test) > "$GMEMTEST_OUT_DIR/upstream.txt" 2>&1; echo $? > "$GMEMTEST_OUT_DIR/upstream.rc"`,
    'fi',
    't2=$(ms)', 'echo "gmemtest_ms=$((t1 - t0)) upstream_ms=$((t2 - t1))" > "$GMEMTEST_OUT_DIR/times"',
    'exit $rc',
  ].join('\n');
  const boot = async (): Promise<{ text: string; exit: number; c: { exit: number | null; output: string }; times: string; wallMs: number }> => {
    const b0 = performance.now();
    const r = await bootAndRun({
      kernel: k.vmlinuz, modules: k.modules, numa: 2, cpus: 2, memory: '2G', timeoutSec: 420, accel: 'tcg',
      command: ['/bin/sh', '-c', script, 'gmemtest', ...g.guestArgv], ...g.options,
      shares: [...(g.options.shares ?? []), ...(cTest ? [{ path: dirname(cTest), at: ARM64_EXTRA_DIR }] : [])],
      env: { NO_COLOR: '1', ...(status.active ? { [PROGRESS_ENV]: '1' } : {}) }, keepWorkDir: true,
      onConsoleLine: status.active ? (line) => {
        const e = parseProgress(line);
        if (e !== null && e.phase === 'running') status.update(e);
        else if (e === null && /\bguest_memfd_test\b|Random seed/.test(line)) status.update({ phase: 'running', detail: 'the C guest_memfd_test' });
      } : undefined,
    });
    const out = r.workDir ? join(r.workDir, 'out') : '';
    const read = (n: string): string => (out && existsSync(join(out, n)) ? readFileSync(join(out, n), 'utf8') : '');
    const cExit = read('upstream.rc').trim();
    const res = { c: { exit: /^\d+$/.test(cExit) ? Number(cExit) : null, output: read('upstream.txt') }, times: read('times').trim() };
    if (r.workDir) rmSync(r.workDir, { recursive: true, force: true });
    const header = bootHeader({
      version: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version, kernel: k.vmlinuz, release: r.release, modules: k.modules, accel: 'tcg', cpus: 2, memoryMiB: 2048, numa: 2,
      timeoutSec: 420, guestArgv: g.guestArgv, machine: g.machine,
    });
    const rep = bootReport(r, k.vmlinuz);
    return { text: header + rep.text, exit: rep.exitCode, ...res, wallMs: performance.now() - b0 };
  };
  console.log(`== kernels: ${ARM64_ROW} ${k.release}: boot --arch arm64 --numa 2, gmemtest then upstream's guest_memfd_test`);
  status.update({ phase: 'booting' });
  let b = await boot();
  const file = join(outDir, `${ARM64_ROW}.ktap`);
  writeFileSync(file, b.text);
  let retried = '';
  const crash = machineFailure(b.text);
  if (crash !== undefined) {
    writeFileSync(join(outDir, `${ARM64_ROW}.attempt1.ktap`), b.text);
    console.log(`retry: ${ARM64_ROW}: the boot ended in ${crash}; booting once more`);
    retried = crash;
    b = await boot();
    writeFileSync(file, b.text);
  }
  writeFileSync(join(outDir, `${ARM64_ROW}.upstream.txt`), b.c.output);
  let problems: string[];
  let counts: Counts = { cases: 0, pass: 0, fail: 0, skip: 0, xfail: 0 };
  try {
    const p = readKtap(b.text);
    counts = countCases(p.tests[0]?.children ?? []);
    problems = checkKernel(ARM64_SUITE, b.exit, b.text, p);
    if (!/^\s*# host: .*\barch arm64$/m.test(b.text)) problems.push('the guest header does not say arch arm64');
  } catch (e) {
    problems = [`cannot parse the KTAP: ${(e as Error).message}`];
  }
  const v = cTest ? cVerdict(b.c.exit, b.c.output) : { pass: false, text: 'not built (archive unreachable)' };
  if (cTest && !v.pass) problems.push(`upstream's C guest_memfd_test: ${v.text} (output in ${ARM64_ROW}.upstream.txt); gmemtest and the C test disagree`);
  const wall = performance.now() - t0;
  const root = g.machine?.rootMs ?? 0;
  const initMs = /kernel to \/init ([\d.]+) s/.exec(b.text)?.[1];
  console.log(`${ARM64_ROW} phases: fetch ${(fetchMs / 1000).toFixed(1)} s, C build ${(cBuildMs / 1000).toFixed(1)} s, root ${(root / 1000).toFixed(1)} s, ` +
    `boot to /init ${initMs ?? '?'} s, ${b.times || 'guest times unknown'}, boot+run ${(b.wallMs / 1000).toFixed(1)} s; row ${(wall / 1000).toFixed(1)} s`);
  status.done(problems.length ? 'FAIL' : 'ok');
  if (problems.length > 0) {
    console.log(`not ok: ${ARM64_ROW} (${k.release}), exit ${b.exit}; KTAP in ${file}:`);
    for (const pr of problems) console.log(`  - ${pr}`);
    console.log(b.text.split('\n').filter((l) => !/^\s*ok /.test(l)).slice(-60).map((l) => `  | ${l}`).join('\n'));
  } else {
    console.log(`ok: ${ARM64_ROW} (${k.release}); KTAP in ${file}`);
  }
  return {
    cells: [ARM64_ROW, k.release, 'tcg', String(counts.cases), String(counts.pass), String(counts.fail), String(counts.skip), String(counts.xfail),
      `${(wall / 1000).toFixed(1)} s`, retried ? `1 (${retried})` : '0', problems.length ? 'FAIL' : 'ok', v.text],
    failed: problems.length > 0,
    ktap: file,
  };
}

/**
 * The names phase (scripts/kernels/names.ts): the flat form of a host run and of a boot
 * of each x86 kernel, flattened the Linaro way; returns the problems (printed).
 */
async function namesPhase(manifest: readonly ManifestEntry[], outDir: string): Promise<string[]> {
  console.log('== kernels: names: --format ktap-flat on this host and in each x86 guest, flattened as LKFT does');
  const python = tappyPython();
  if (python === null) {
    console.log('not ok: names: no python3 with tappy (apt-get install python3-tap)');
    return ['no tappy'];
  }
  const runs: Named[] = [];
  const problems: string[] = [];
  const take = (label: string, r: Run, file: string): void => {
    writeFileSync(file, r.stdout);
    try {
      runs.push(named(label, r.stdout, python));
    } catch (e) {
      problems.push((e as Error).message);
    }
  };
  if (existsSync('/dev/kvm')) take('this host', await run(join(ROOT, 'bin/gmemtest'), ['--format', 'ktap-flat'], 120_000), join(outDir, 'host.flat.ktap'));
  else console.log('names: no /dev/kvm here: the guests are compared with each other');
  for (const k of manifest) {
    const status = new StatusLine(`test:kernels names ${k.suite}`);
    const r = await run(join(ROOT, 'bin/gmemtest'), ['boot', '--format', 'ktap-flat', '--kernel', k.vmlinuz, '--modules', k.modules,
      '--numa', '2', '--timeout', '300'], 330_000, undefined, status);
    status.done(`exit ${r.code ?? r.signal}`);
    if (machineFailure(r.stdout) !== undefined || /^not ok 1 boot # /m.test(r.stdout)) {
      problems.push(`${k.suite}: the flat boot did not run gmemtest: ${r.stdout.split('\n').find((l) => /^not ok 1 boot/.test(l)) ?? ''}`);
      continue;
    }
    take(k.suite, r, join(outDir, `${k.suite}.flat.ktap`));
  }
  problems.push(...checkNames(runs));
  for (const l of namesSummary(runs)) console.log(`names: ${l}`);
  if (problems.length > 0) {
    console.log('not ok: names:');
    for (const pr of problems.slice(0, 20)) console.log(`  - ${pr}`);
  } else {
    console.log(`ok: names: every case named once, shared cases named alike on ${runs.map((r) => r.label).join(', ')}`);
  }
  return problems;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const outDir = join(ROOT, '.cache/kernels-matrix');
  mkdirSync(outDir, { recursive: true });

  // GMEMTEST_MATRIX_ONLY=x86 or =arm64: only those rows (development; CI runs all).
  const only = process.env.GMEMTEST_MATRIX_ONLY;
  console.log('== kernels: fetch (scripts/kernels/fetch.sh)');
  const f = only === 'arm64' ? { code: 0, signal: null, stdout: '[]', stderr: '', ms: 0 } : await run(join(ROOT, 'scripts/kernels/fetch.sh'), [], 20 * 60_000, process.stderr);
  if (f.code === 3) {
    const reason = f.stderr.trim().split('\n').reverse().find((l) => /SKIP:/.test(l))?.replace(/^.*SKIP:\s*/, '') ?? 'the package archive cannot be reached';
    console.log(`SKIP: kernel matrix not run: ${reason}`);
    return 0;
  }
  if (f.code !== 0) {
    console.log(`FAIL: scripts/kernels/fetch.sh exited with ${f.code ?? f.signal}`);
    return 1;
  }
  const manifest = JSON.parse(f.stdout) as ManifestEntry[];
  const fetchMs = f.ms;

  const rows: string[][] = [];
  let failed = 0;
  for (const k of manifest) {
    console.log(`== kernels: ${k.suite} ${k.release}: gmemtest boot --numa 2`);
    const args = ['boot', '--kernel', k.vmlinuz, '--modules', k.modules, '--numa', '2', '--timeout', '300'];
    const status = new StatusLine(`test:kernels ${k.suite}`);
    let r = await run(join(ROOT, 'bin/gmemtest'), args, 330_000, undefined, status);
    const file = join(outDir, `${k.suite}.ktap`);
    writeFileSync(file, r.stdout);
    // The emulated machine itself can fail, rarely (one guest-kernel oops in __schedule
    // under TCG in ~15 boots seen): such a boot is tried once more, in plain sight.
    // A wrong result from gmemtest is never retried.
    let retried = '';
    const crash = machineFailure(r.stdout);
    if (crash !== undefined) {
      const first = join(outDir, `${k.suite}.attempt1.ktap`);
      writeFileSync(first, r.stdout);
      console.log(`retry: ${k.suite}: the boot ended in ${crash} (KTAP in ${first}); booting once more`);
      console.log(r.stdout.split('\n').filter((l) => /^# /.test(l)).slice(-25).map((l) => `  | ${l}`).join('\n'));
      retried = crash;
      r = await run(join(ROOT, 'bin/gmemtest'), args, 330_000, undefined, status);
      writeFileSync(file, r.stdout);
    }
    let problems: string[];
    let counts: Counts = { cases: 0, pass: 0, fail: 0, skip: 0, xfail: 0 };
    try {
      const p = readKtap(r.stdout);
      counts = countCases(p.tests[0]?.children ?? []);
      problems = checkKernel(k.suite, r.code, r.stdout, p);
    } catch (e) {
      problems = [`cannot parse the KTAP: ${(e as Error).message}`];
    }
    const accel = /^# accel: (\w+)/m.exec(r.stdout)?.[1] ?? '?';
    status.done(problems.length ? 'FAIL' : 'ok');
    rows.push([k.suite, k.release, accel, String(counts.cases), String(counts.pass), String(counts.fail), String(counts.skip), String(counts.xfail), `${(r.ms / 1000).toFixed(1)} s`, retried ? `1 (${retried})` : '0', problems.length ? 'FAIL' : 'ok', '-']);
    if (problems.length > 0) {
      failed++;
      console.log(`not ok: ${k.suite} (${k.release}), exit ${r.code ?? r.signal}; KTAP in ${file}:`);
      for (const pr of problems) console.log(`  - ${pr}`);
      console.log(r.stdout.split('\n').filter((l) => !/^\s*ok /.test(l)).slice(-60).map((l) => `  | ${l}`).join('\n'));
      if (r.stderr.trim()) console.log(`  stderr: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    } else {
      console.log(`ok: ${k.suite} (${k.release}); KTAP in ${file}`);
    }
  }

  if (manifest.length > 0) {
    const n = await namesPhase(manifest, outDir);
    if (n.length > 0) failed++;
  }

  let ran = manifest.length;
  let arm64Ktap: string | undefined;
  if (only !== 'x86') {
    const a = await arm64Row(outDir);
    if (a) {
      rows.push(a.cells);
      ran++;
      arm64Ktap = a.ktap;
      if (a.failed) failed++;
    }
  }

  const head = ['kernel', 'release', 'accel', 'cases', 'pass', 'fail', 'skip', 'xfail', 'wall', 'retries', 'checks', 'C guest_memfd_test'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  console.log('');
  console.log(fmt(head));
  console.log(`|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const r of rows) console.log(fmt(r));
  let pageFailed = false;
  try {
    const pages = [...manifest.map((k) => ({ path: join(outDir, `${k.suite}.ktap`), label: k.suite })),
      ...(arm64Ktap ? [{ path: arm64Ktap, label: ARM64_ROW }] : [])];
    const page = writeHtmlReport(pages, join(outDir, 'matrix.html'),
      { title: 'gmemtest kernel matrix', generator: 'npm run test:kernels' });
    console.log(`\nHTML matrix: ${page.file}`);
  } catch (e) {
    pageFailed = true;
    console.log(`FAIL: the HTML matrix: ${(e as Error).message}`);
  }
  console.log(`\nfetch ${(fetchMs / 1000).toFixed(1)} s; matrix total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`kernels: ${ran - failed} passed, ${failed} failed`);
  return failed > 0 || pageFailed || ran === 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((c) => { process.exitCode = c; }, (e: unknown) => {
    console.error(`test:kernels: ${e instanceof Error ? e.stack : String(e)}`);
    process.exitCode = 1;
  });
}
