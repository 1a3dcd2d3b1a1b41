// gmemtest's output in every situation the README documents, read by the parsers kernel
// CI reads it with: KUnit's kunit.py (from Debian's linux-source of the matrix kernel),
// a Linaro-style flattening on tappy (LKFT's kselftest parsing, scripts/parsers/), tappy's
// own consumer, tap-parser strict, and junitparser for the JUnit form. Each must count
// what gmemtest's own Totals line says, and see every case once.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { readKtap, walkTests } from '../../src/ktap/reader.js';
import type { Totals } from '../../src/ktap/totals.js';
import { bootReport, bootReportFlat, bootHeader } from '../../src/cli/boot-ktap.js';
import type { BootResult } from '../../src/boot/boot-and-run.js';
import { install } from '../../scripts/kselftest-install.js';
import { kunitParse, kunitTree } from '../helpers/kunit.js';
import { asUser, BIN, cleanEnv, gmemtest, kvmUnavailable } from '../helpers/kvm.js';
import { junitparserMissing, junitRead, linaroFlatten, tapParserVerdict, tappyPython, tappyVerdict } from '../helpers/parsers.js';

const kvmSkip = kvmUnavailable();
const tappy = tappyPython();
const tappySkip = tappy.ok ? false : tappy.reason;
const kt = kunitTree();
const kunitSkip = kt.ok ? false : `kunit.py unavailable: ${kt.reason}`;
const isRoot = process.getuid?.() === 0;

interface Doc {
  name: string;
  text: string;
  code: number | null;
  flat: boolean;
}

/** gmemtest run as a user runs it; its stdout and exit code. */
function run(name: string, args: string[], flat: boolean, env: NodeJS.ProcessEnv = {}): Doc {
  const r = gmemtest(flat ? ['--format', 'ktap-flat', ...args] : args, env);
  return { name, text: r.stdout, code: r.status, flat };
}

function shell(name: string, script: string, flat: boolean): Doc {
  const r = spawnSync(...asUser('/bin/sh', ['-c', script, 'sh', BIN, ...(flat ? ['--format', 'ktap-flat'] : [])]),
    { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
  return { name, text: r.stdout, code: r.status, flat };
}

/** Started, then signalled `signals` times once it has printed a first case result. */
async function interrupted(name: string, signals: number, flat: boolean): Promise<Doc> {
  // Long enough that the signal always lands mid-run (the cases not reached cost nothing).
  const child = spawn(...asUser(BIN, [...(flat ? ['--format', 'ktap-flat'] : []), '--repeat', '60', '--filter', 'default_vm.flags-*', '--filter', 'guest_memfd_guest']),
    { env: cleanEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let sent = false;
  const send = (): void => {
    if (sent) return;
    sent = true;
    for (let i = 0; i < signals; i++) child.kill('SIGTERM');
  };
  // On the first case result; or, where this process sees the output late (a loaded
  // machine), a few seconds into the run, well before its end.
  const late = setTimeout(send, 3000);
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (/^ *ok \d+ /m.test(out)) send();
  });
  const code = await new Promise<number | null>((res) => child.on('close', (c) => { clearTimeout(late); res(c); }));
  return { name, text: out, code, flat };
}

function xfailFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-xf-'));
  const f = join(dir, 'xfail.txt');
  writeFileSync(f, text);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return f;
}

/** A guest's run re-emitted by gmemtest boot's own report (the guest's KTAP from a host run). */
function boot(name: string, r: BootResult, flat: boolean): Doc {
  const h = bootHeader({ version: '0', kernel: '/boot/vmlinuz', release: '7.2.13+deb14-amd64', accel: 'tcg', cpus: 2, memoryMiB: 2048,
    numa: 2, timeoutSec: 300, guestArgv: ['node', 'gmemtest.mjs'] }, flat);
  const rep = flat ? bootReportFlat(r) : bootReport(r, '/boot/vmlinuz');
  return { name, text: h + rep.text, code: rep.exitCode, flat };
}

const common = {
  release: '7.2.13+deb14-amd64', accel: 'tcg' as const, timings: { prepMs: 1, qemuMs: 2 }, consoleTail: ['console line'],
  qemuArgv: [], qemuStderr: '', initramfsBytes: 0, modulesLoaded: [],
};

function totalsOf(d: Doc): Totals {
  const tl = readKtap(d.text).totals;
  if (!tl) throw new Error(`${d.name}: no Totals line`);
  return tl;
}

/** What every parser must agree on, from gmemtest's own Totals. */
function expected(d: Doc): { leaves: number; pass: number; fail: number; skip: number } {
  const x = totalsOf(d);
  return { leaves: x.pass + x.fail + x.xfail + x.xpass + x.skip + x.error, pass: x.pass + x.xfail, fail: x.fail + x.xpass + x.error, skip: x.skip };
}

function checkDoc(t: Test, d: Doc): void {
  const want = expected(d);
  const doc = readKtap(d.text);
  t.same(doc.problems, [], `${d.name}: whole (gmemtest's own reader)`);
  t.notMatch(d.text, /^\s*Bail out!/m, `${d.name}: no bail-out`);
  t.notMatch(d.text, /^\s*1\.\.0\b/m, `${d.name}: no empty plan`);
  const codeAgrees = want.fail > 0 ? d.code === 1 : want.pass > 0 ? d.code === 0 : d.code === 4;
  t.ok(codeAgrees || d.code === 1, `${d.name}: exit ${d.code} agrees with the counts ${JSON.stringify(want)}`);

  const tp = tapParserVerdict(d.text);
  t.equal(tp.leaves.length, want.leaves, `${d.name}: tap-parser sees every case`);
  t.equal(tp.leaves.filter((l) => !l.ok).length, want.fail, `${d.name}: tap-parser's failures`);
  t.equal(tp.bailout, false, `${d.name}: tap-parser: no bail-out`);
  const names = new Set(walkTests(doc.tests).map(({ test }) => test.name));
  // tap-parser keeps what follows ' # ' in the name unless it is SKIP or TODO (KTAP's ERROR, XFAIL, TIMEOUT).
  t.same(tp.failures.filter((f) => !names.has(f.split(' # ')[0]!)), [], `${d.name}: tap-parser: no plan or numbering errors`);

  if (!tappySkip) {
    const ty = tappyVerdict(d.text);
    if (d.flat) t.equal(ty.tests, want.leaves + ty.rule_errors.length, `${d.name}: tappy reads every flat result`);
    t.notOk(ty.rule_errors.some((e) => /Bailed/.test(e)), `${d.name}: tappy does not bail out`);
  }
  if (!kunitSkip && kt.ok) {
    const k = kunitParse(d.text, kt.tree);
    t.same(k.errors, [], `${d.name}: kunit.py: no parse errors`);
    t.equal(k.counts.crashed, 0, `${d.name}: kunit.py: nothing crashed`);
    t.same({ tests: k.counts.tests, passed: k.counts.passed, failed: k.counts.failed, skipped: k.counts.skipped },
      { tests: want.leaves, passed: want.pass, failed: want.fail, skipped: want.skip }, `${d.name}: kunit.py counts = Totals`);
  }
  if (d.flat && !tappySkip) {
    const lf = linaroFlatten(d.text, 'kselftest');
    t.equal(lf.duplicates, 0, `${d.name}: Linaro-style names are unique`);
    t.equal(lf.results.length, want.leaves, `${d.name}: Linaro-style flattening sees every case`);
    t.same(lf.counts, { pass: want.pass, fail: want.fail, skip: want.skip }, `${d.name}: Linaro-style statuses`);
  }
}

t.test('every documented situation, nested and flat, read by every parser', { skip: kvmSkip ?? false }, async (t) => {
  const xfail = xfailFile('guest_memfd_guest known failure of this host\ndefault_vm.flags-none.fallocate passes here, expected to fail\n');
  for (const flat of [false, true]) {
    const f = flat ? 'flat' : 'nested';
    const docs: Doc[] = [
      run(`${f} normal run`, [], flat),
      run(`${f} all skipped`, ['--filter', 'sw_protected_vm', '--filter', '*.mbind'], flat),
      run(`${f} no device`, ['--device', '/nonexistent'], flat),
      run(`${f} xfail and xpass`, ['--xfail', xfail], flat),
      run(`${f} --repeat 2`, ['--repeat', '2', '--filter', 'default_vm.flags-none.*'], flat),
      shell(`${f} ulimit -n 20`, 'ulimit -n 20 && exec "$@"', flat),
      await interrupted(`${f} SIGTERM`, 1, flat),
      await interrupted(`${f} SIGTERM twice`, 2, flat),
      boot(`${f} boot`, { ok: true, exitCode: 1, stdout: run('guest', [], flat).text, stdoutViaConsole: false, ...common }, flat),
      boot(`${f} boot of a guest without a device`, { ok: true, exitCode: 4, stdout: run('guest', ['--device', '/nonexistent'], flat).text, stdoutViaConsole: false, ...common }, flat),
      boot(`${f} boot that panicked`, { ok: false, failure: 'kernel-panic', message: 'Kernel panic - not syncing: test', ...common }, flat),
      boot(`${f} boot whose guest died half-way`, { ok: true, exitCode: 135, stdout: run('guest', [], flat).text.split('\n').slice(0, 25).join('\n'), stdoutViaConsole: false, ...common }, flat),
    ];
    if (isRoot) {
      const r = spawnSync(...asUser('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', BIN, ...(flat ? ['--format', 'ktap-flat'] : [])]),
        { encoding: 'utf8', env: cleanEnv() });
      docs.push({ name: `${f} no permission`, text: r.stdout, code: r.status, flat });
    }
    for (const d of docs) t.test(d.name, async (t) => checkDoc(t, d));
  }
});

t.test('kunit.py on the documented edge cases', { skip: kvmSkip ?? kunitSkip }, async (t) => {
  if (!kt.ok) return;
  const nodev = kunitParse(run('no device', ['--device', '/nonexistent'], false).text, kt.tree);
  t.same([nodev.counts.tests, nodev.counts.skipped, nodev.errors.length], [1, 1, 0], 'no device: one skipped test, no error');
  const sig = kunitParse((await interrupted('sigterm', 1, false)).text, kt.tree);
  t.same([sig.counts.crashed, sig.errors.length], [0, 0], 'interrupted: no crashed test, no error');
  const xf = xfailFile('default_vm.flags-none.file_size expected to fail\n');
  const xp = kunitParse(run('xpass', ['--filter', 'default_vm.flags-none.*', '--xfail', xf], false).text, kt.tree);
  t.same(xp.leaves.filter((l) => l.status === 'FAIL').map((l) => l.path), ['default_vm.flags-none.file_size'],
    'the one failure KUnit reports is the XPASS case');
  t.same([xp.counts.tests, xp.counts.failed], [7, 1], 'no failure invented for its group');
});

t.test('the flat form under the kernel\'s own kselftest runner', { skip: kvmSkip ?? kunitSkip ?? tappySkip }, async (t) => {
  if (!kt.ok) return;
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-ksft-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  install(kt.tree, dir);
  // Through a pipe, as CI reads it (a file on stdout makes the runner's lines overwrite each other).
  const r = spawnSync('bash', ['-c', './run_kselftest.sh 2>&1 | cat; exit "${PIPESTATUS[0]}"'], { cwd: dir, encoding: 'utf8', env: cleanEnv(), timeout: 600_000 });
  t.match(r.stdout, /^TAP version 13\n1\.\.1\n/, 'the runner\'s own document');
  t.match(r.stdout, /^# selftests: kvm: gmemtest$/m);
  t.match(r.stdout, /^(not )?ok 1 selftests: kvm: gmemtest/m, 'the runner\'s result for gmemtest');
  const host = run('host flat', [], true);
  const want = walkTests(readKtap(host.text).tests).map(({ id }) => id);
  const lf = linaroFlatten(r.stdout, 'kselftest');
  t.equal(lf.duplicates, 0, 'no _dupN names');
  const names = lf.results.map((x) => x.name);
  // The runner's own line for the collection, and one per case, named by its full id.
  t.equal(names.length, want.length + 1);
  for (const id of want) t.ok(names.some((n) => n.endsWith(id.replace(/\./g, '_'))), `${id} appears once, by its id`);
  t.same(names.filter((n) => /NUMA|this_host|node/.test(n)), [], 'no host detail in a name');
  const kp = kunitParse(r.stdout, kt.tree);
  t.same(kp.errors, [], 'kunit.py reads the wrapped stream');
});

t.test('--format junit read by junitparser: counts equal the Totals', { skip: kvmSkip ?? junitparserMissing() ?? false }, async (t) => {
  for (const args of [[], ['--device', '/nonexistent'], ['--filter', 'default_vm.flags-none.*', '--xfail', xfailFile('default_vm.flags-none.file_size x\n')]]) {
    const j = gmemtest(['--format', 'junit', ...args]);
    const k = gmemtest(args);
    const tl = readKtap(k.stdout).totals!;
    const jr = junitRead(j.stdout);
    t.equal(jr.tests, tl.pass + tl.fail + tl.xfail + tl.xpass + tl.skip + tl.error, `${args.join(' ') || 'host run'}: every case`);
    t.equal(jr.failures, tl.fail + tl.xpass, 'failures: fail + timeout + xpass');
    t.equal(jr.errors, tl.error, 'errors');
    t.equal(jr.skipped, tl.skip, 'skipped');
    t.same(jr.declared, { tests: jr.tests, failures: jr.failures, errors: jr.errors, skipped: jr.skipped }, 'attributes agree with the cases');
    t.equal(j.status, k.status, 'the same exit code as the KTAP run');
  }
});
