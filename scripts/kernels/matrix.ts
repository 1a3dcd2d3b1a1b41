// `npm run test:kernels`: the kernel matrix. Fetches Debian sid's newest kernel
// and trixie's 6.12 (scripts/kernels/fetch.sh), boots each under QEMU/TCG with
// two NUMA nodes through `gmemtest boot --numa 2`, parses the KTAP and checks
// what each kernel must show:
//   sid (newest):  every default_vm case runs (no SKIP), all four flag sets,
//                  mbind and numa_allocation pass, guest_memfd_guest passes
//                  if the suite has it, nothing fails;
//   trixie (6.12): KVM_CAP_GUEST_MEMFD_FLAGS=0x0, so only flags-none,
//                  guest_memfd_guest SKIPs if present, nothing fails.
// Prints a per-kernel table. Exit 0 when all hold, and also (after a SKIP
// line) when fetch.sh says the archive cannot be reached (its exit 3); any
// other problem exits 1. KTAP of each boot: .cache/kernels-matrix/<suite>.ktap; the
// matrix as one HTML page (gmemtest report): .cache/kernels-matrix/matrix.html.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readKtap, walkTests, type KtapDocument, type KtapTest } from '../../src/ktap/reader.js';
import { writeHtmlReport } from '../../src/report/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface ManifestEntry { suite: string; release: string; vmlinuz: string; modules: string }

interface Run { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

function run(cmd: string, args: string[], timeoutMs: number, stderrTo?: NodeJS.WritableStream): Promise<Run> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const t0 = performance.now();
  return new Promise((res) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; stderrTo?.write(d); });
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

async function main(): Promise<number> {
  const t0 = performance.now();
  const outDir = join(ROOT, '.cache/kernels-matrix');
  mkdirSync(outDir, { recursive: true });

  console.log('== kernels: fetch (scripts/kernels/fetch.sh)');
  const f = await run(join(ROOT, 'scripts/kernels/fetch.sh'), [], 20 * 60_000, process.stderr);
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
    let r = await run(join(ROOT, 'bin/gmemtest'), args, 330_000);
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
      r = await run(join(ROOT, 'bin/gmemtest'), args, 330_000);
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
    rows.push([k.suite, k.release, accel, String(counts.cases), String(counts.pass), String(counts.fail), String(counts.skip), String(counts.xfail), `${(r.ms / 1000).toFixed(1)} s`, retried ? `1 (${retried})` : '0', problems.length ? 'FAIL' : 'ok']);
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

  const head = ['kernel', 'release', 'accel', 'cases', 'pass', 'fail', 'skip', 'xfail', 'wall', 'retries', 'checks'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  console.log('');
  console.log(fmt(head));
  console.log(`|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const r of rows) console.log(fmt(r));
  let pageFailed = false;
  try {
    const page = writeHtmlReport(manifest.map((k) => ({ path: join(outDir, `${k.suite}.ktap`), label: k.suite })), join(outDir, 'matrix.html'),
      { title: 'gmemtest kernel matrix', generator: 'npm run test:kernels' });
    console.log(`\nHTML matrix: ${page.file}`);
  } catch (e) {
    pageFailed = true;
    console.log(`FAIL: the HTML matrix: ${(e as Error).message}`);
  }
  console.log(`\nfetch ${(fetchMs / 1000).toFixed(1)} s; matrix total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`kernels: ${manifest.length - failed} passed, ${failed} failed`);
  return failed > 0 || pageFailed || manifest.length === 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((c) => { process.exitCode = c; }, (e: unknown) => {
    console.error(`test:kernels: ${e instanceof Error ? e.stack : String(e)}`);
    process.exitCode = 1;
  });
}
