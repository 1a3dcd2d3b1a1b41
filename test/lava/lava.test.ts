// The LAVA example (examples/lava/): the test definition and the QEMU job validated by
// LAVA's own schemas (Debian's lava-common: lava_common.schemas.validate, the check the
// LAVA server makes on a submitted job, and lava_common.schemas.test.testdef.validate);
// the run script, with a stand-in lava-test-case that records its calls, on flat KTAP
// shaped as the part 9 spec says (--format ktap-flat), under dash, busybox and bash.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cleanEnv, gmemtest } from '../helpers/kvm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAVA = join(ROOT, 'examples/lava');
const SCRIPT = join(LAVA, 'gmemtest.sh');
const FIX = join(ROOT, 'test/report/fixtures');

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const lavaCommon = spawnSync('/usr/bin/python3', ['-c', 'import lava_common.schemas, yaml']).status === 0
  ? null : 'lava-common not installed (Debian package lava-common)';

interface Verdict { file: string; kind: string; valid: boolean; error: string | null }
function validate(jobs: string[], testdefs: string[]): Verdict[] {
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'test/lava/validate_lava.py'), 'job', ...jobs, 'testdef', ...testdefs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Verdict[];
}

t.test('LAVA accepts the example job and the test definition', { skip: lavaCommon ?? false }, async (t) => {
  for (const v of validate([join(LAVA, 'job-qemu-x86_64.yaml')], [join(LAVA, 'gmemtest.yaml')])) {
    t.ok(v.valid, `${v.kind} ${v.file.slice(ROOT.length)}: ${v.error ?? 'valid'}`);
  }
});

t.test('LAVA\'s validator is live: it rejects broken ones', { skip: lavaCommon ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-lava-'));
  const job = readFileSync(join(LAVA, 'job-qemu-x86_64.yaml'), 'utf8');
  const def = readFileSync(join(LAVA, 'gmemtest.yaml'), 'utf8');
  const broken = {
    'no-visibility.yaml': job.replace(/^visibility: public\n/m, ''),
    'action-timeout-too-long.yaml': job.replace('    action:\n        minutes: 20', '    action:\n        minutes: 90'),
    'bad-boot-method.yaml': job.replace('method: qemu', 'method: kwemu'),
    'bad-format.yaml': def.replace('format: Lava-Test Test Definition 1.0', 'format: Lava-Test Test Definition 2.0'),
    'no-steps.yaml': def.replace(/^run:\n[\s\S]*$/m, 'run:\n    commands: []\n'),
  };
  for (const [name, text] of Object.entries(broken)) {
    t.not(text, name.startsWith('bad-format') || name.startsWith('no-steps') ? def : job, `${name} differs from the original`);
    writeFileSync(join(dir, name), text);
  }
  const jobs = ['no-visibility.yaml', 'action-timeout-too-long.yaml', 'bad-boot-method.yaml'].map((f) => join(dir, f));
  const defs = ['bad-format.yaml', 'no-steps.yaml'].map((f) => join(dir, f));
  for (const v of validate(jobs, defs)) t.notOk(v.valid, `${v.file.slice(dir.length + 1)}: rejected (${v.error})`);
});

/** A directory of stand-ins: lava-test-case recording its calls; optionally gmemtest. */
function standIns(): { bin: string; calls: string } {
  const bin = mkdtempSync(join(tmpdir(), 'gmemtest-lava-bin-'));
  const calls = join(bin, 'calls.txt');
  writeFileSync(calls, '');
  writeFileSync(join(bin, 'lava-test-case'), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
  chmodSync(join(bin, 'lava-test-case'), 0o755);
  return { bin, calls };
}

function runScript(args: string[], opts: { shell?: string[]; env?: NodeJS.ProcessEnv; bin?: { bin: string; calls: string } } = {}) {
  const b = opts.bin ?? standIns();
  const out = join(b.bin, 'output');
  const shell = opts.shell ?? ['sh'];
  const r = spawnSync(shell[0]!, [...shell.slice(1), SCRIPT, '-o', out, ...args], {
    encoding: 'utf8', cwd: LAVA, env: cleanEnv({ PATH: `${b.bin}:${process.env.PATH}`, ...opts.env }),
  });
  const calls = readFileSync(b.calls, 'utf8').split('\n').filter(Boolean);
  return { ...r, calls, out };
}

/** What lava-test-case must be told for a --format json document's cases. */
function expectedCalls(jsonFile: string): string[] {
  const doc = JSON.parse(readFileSync(jsonFile, 'utf8')) as { results: { id: string; kind: string; status: string }[] };
  const word: Record<string, string> = { pass: 'pass', xfail: 'pass', skip: 'skip' };
  return doc.results.filter((r) => r.kind === 'case').map((r) => `${r.id} --result ${word[r.status] ?? 'fail'}`);
}

t.test('the run script reports each case of a flat KTAP document', async (t) => {
  const r = runScript(['-k', join(FIX, 'flat-host.ktap')]);
  t.equal(r.status, 0, r.stderr);
  t.same(r.calls, expectedCalls(join(FIX, 'host.json')), 'one lava-test-case per case, by id, in order');
  t.equal(r.calls.length, 42);
  t.same(readFileSync(join(r.out, 'result.txt'), 'utf8').split('\n').filter(Boolean), r.calls.map((c) => c.replace(' --result ', ' ')), 'result.txt too');
  const d = runScript(['-k', join(FIX, 'flat-directives.ktap')]);
  t.same(d.calls, [
    'default_vm.guest_memfd_flags --result pass',
    'default_vm.flags-none.file_size --result pass', // ok ... # XFAIL
    'default_vm.flags-none.fallocate --result fail',
    'default_vm.flags-mmap.mbind --result skip', // ok ... # SKIP (bare)
    'default_vm.flags-mmap.mmap_cow --result fail', // XPASS: not ok
    'sw_protected_vm.flags-none.file_read_write --result fail', // not ok ... # ERROR
    'guest_memfd_guest --result fail', // not ok ... # TIMEOUT
  ]);
});

t.test('the same under dash, busybox sh with busybox awk, and bash', async (t) => {
  const want = expectedCalls(join(FIX, 'host.json'));
  const shells: [string, string[], boolean][] = [['dash', ['dash'], has('dash')], ['bash', ['bash'], has('bash')], ['busybox', ['busybox', 'sh'], has('busybox')]];
  for (const [name, shell, ok] of shells) {
    if (!ok) { t.comment(`${name}: not installed, left out`); continue; }
    const b = standIns();
    if (name === 'busybox') symlinkSync(spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim(), join(b.bin, 'awk'));
    const r = runScript(['-k', join(FIX, 'flat-host.ktap')], { shell, bin: b });
    t.same(r.calls, want, name);
  }
});

t.test('nested KTAP: only its top-level results, and a warning', async (t) => {
  const r = runScript(['-k', join(FIX, 'host.ktap')]);
  t.match(r.stderr, /is nested KTAP: only its top-level results are cases here \(run gmemtest --format ktap-flat\)/);
  t.same(r.calls, ['default_vm --result pass', 'sw_protected_vm --result skip', 'sev_vm --result skip', 'sev_es_vm --result skip',
    'snp_vm --result skip', 'tdx_vm --result skip', 'guest_memfd_guest --result fail']);
});

t.test('a run: gmemtest called with --format ktap-flat and the extra arguments, its output kept', async (t) => {
  const b = standIns();
  const argv = join(b.bin, 'argv.txt');
  writeFileSync(join(b.bin, 'fake-gmemtest'), `#!/bin/sh\necho "$*" > '${argv}'\ncat '${join(FIX, 'flat-host.ktap')}'\necho "a line on stderr" >&2\nexit 1\n`);
  chmodSync(join(b.bin, 'fake-gmemtest'), 0o755);
  const r = runScript(['-s', 'true', '-a', '--matrix upstream --vm-type default'], { bin: b, env: { GMEMTEST: join(b.bin, 'fake-gmemtest') } });
  t.equal(r.status, 0);
  t.equal(readFileSync(argv, 'utf8'), '--format ktap-flat --matrix upstream --vm-type default\n');
  t.same(r.calls, ['gmemtest-install --result skip', ...expectedCalls(join(FIX, 'host.json'))]);
  t.equal(readFileSync(join(r.out, 'gmemtest.ktap'), 'utf8'), readFileSync(join(FIX, 'flat-host.ktap'), 'utf8'));
  t.equal(readFileSync(join(r.out, 'exit-code'), 'utf8'), '1\n');
  t.equal(readFileSync(join(r.out, 'gmemtest.stderr'), 'utf8'), 'a line on stderr\n');
});

t.test('a run that gives no case is one failure; installing needs a package', async (t) => {
  const b = standIns();
  writeFileSync(join(b.bin, 'fake-gmemtest'), '#!/bin/sh\necho "gmemtest: option \'--format <format>\' argument \'ktap-flat\' is invalid" >&2\nexit 2\n');
  chmodSync(join(b.bin, 'fake-gmemtest'), 0o755);
  const r = runScript(['-s', 'true'], { bin: b, env: { GMEMTEST: join(b.bin, 'fake-gmemtest') } });
  t.same(r.calls, ['gmemtest-install --result skip', 'gmemtest --result fail']);
  t.match(r.stderr, /no case results in .*gmemtest\.ktap/);
  t.match(r.stderr, /argument 'ktap-flat' is invalid/, 'gmemtest\'s own message is shown');
  const noPackage = runScript(['-s', 'false']);
  t.equal(noPackage.status, 0);
  t.same(noPackage.calls, ['gmemtest-install --result fail'], 'no package: the install fails, nothing runs');
  t.match(noPackage.stderr, /give -p PACKAGE/);
  const bad = runScript(['-x']);
  t.equal(bad.status, 2, 'an unknown option is a usage error');
  t.equal(runScript(['-k', '/nonexistent.ktap']).status, 2);
});

t.test('shellcheck finds nothing in the run script', { skip: has('shellcheck') ? false : 'shellcheck not installed (Debian package shellcheck)' }, async (t) => {
  const r = spawnSync('shellcheck', ['-s', 'sh', SCRIPT], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout);
});

const flatLanded = gmemtest(['--help']).stdout.includes('ktap-flat');
t.test('the run script on this host\'s gmemtest', { skip: flatLanded ? false : 'bin/gmemtest has no --format ktap-flat yet (part 9)' }, async (t) => {
  const r = runScript(['-s', 'true'], { env: { GMEMTEST: join(ROOT, 'bin/gmemtest') } });
  t.ok(r.calls.length > 1, `${r.calls.length} calls`);
  t.ok(r.calls.slice(1).every((c) => / --result (pass|fail|skip)$/.test(c)));
});
