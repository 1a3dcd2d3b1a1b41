// KCIDB output validated by KernelCI's own validator: the kcidb-io Python package
// (kcidb_io.schema.LATEST.validate_exactly), installed into a virtualenv this test makes
// in .cache/kcidb-io-venv on top of Debian's python3-jsonschema.
//
// kcidb-io comes from `pip install kcidb-io`, from the package index pip is configured
// with; where that cannot install it (no index reachable, as on this project's CI
// machines) the test skips, saying what pip answered.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cleanEnv, gmemtest, kvmUnavailable } from '../helpers/kvm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VENV = join(ROOT, '.cache/kcidb-io-venv');
const PY = join(VENV, 'bin/python');
const FIX = join(ROOT, 'test/report/fixtures');

const run = (cmd: string, args: string[], timeoutMs = 180_000) =>
  spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env: { ...cleanEnv(), PIP_DISABLE_PIP_VERSION_CHECK: '1', SETUPTOOLS_SCM_PRETEND_VERSION: '0+local' } });
/** The last line a tool wrote, without terminal colour codes (pip colours when FORCE_COLOR is set). */
const lastLine = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').filter(Boolean).pop() ?? '';

/** Makes the virtualenv with kcidb-io in it; returns how, or throws why not (for the skip). */
function prepare(): string {
  const imports = (): boolean => existsSync(PY) && run(PY, ['-c', 'import kcidb_io, jsonschema']).status === 0;
  if (imports()) return `kcidb-io already in ${VENV}`;
  if (run('/usr/bin/python3', ['-c', 'import jsonschema, venv']).status !== 0) {
    throw new Error('/usr/bin/python3 lacks jsonschema or venv (Debian packages python3-jsonschema, python3-venv)');
  }
  const mk = run('/usr/bin/python3', ['-m', 'venv', '--system-site-packages', '--clear', VENV]);
  if (mk.status !== 0) throw new Error(`python3 -m venv: ${lastLine(mk.stderr)}`);
  const tried: string[] = [];
  const pip = run(join(VENV, 'bin/pip'), ['--no-color', 'install', '--no-deps', 'kcidb-io'], 120_000);
  if (pip.status === 0 && imports()) return 'pip install kcidb-io';
  tried.push(`pip install kcidb-io: ${lastLine(pip.stderr) || `exit ${pip.status}`}`);
  throw new Error(tried.join('; '));
}

let how: string | null = null;
let why: string | null = null;
try {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  how = prepare();
} catch (e) {
  why = `kcidb-io not available: ${(e as Error).message}`;
}

interface Verdict { latest: string; module: string; files: { file: string; valid: boolean; error: string | null; tests: number }[] }

function validate(files: string[]): Verdict {
  const r = run(PY, [join(ROOT, 'test/kcidb/validate.py'), ...files]);
  if (r.status !== 0) throw new Error(`validate.py: ${r.stderr}`);
  return JSON.parse(r.stdout) as Verdict;
}

const dir = mkdtempSync(join(tmpdir(), 'gmemtest-kcidb-io-'));
const save = (name: string, text: string): string => { writeFileSync(join(dir, name), text); return join(dir, name); };

t.test('kcidb-io validates gmemtest\'s KCIDB documents', { skip: why ?? false }, async (t) => {
  t.comment(`kcidb-io: ${how}`);
  const docs: string[] = [];
  // gmemtest report --kcidb over every real fixture (host runs, boots, a failed boot, flat KTAP).
  const all = ['boot-sid.ktap', 'boot-trixie.ktap', 'boot-timeout.ktap', 'guest-sid.json', 'host.json', 'host.ktap',
    'host-upstream-xfail.json', 'flat-directives.ktap', 'flat-boot-failed.ktap'].map((f) => join(FIX, f));
  const report = gmemtest(['report', '--kcidb', ...all]);
  t.equal(report.status, 0, report.stderr);
  docs.push(save('report.json', report.stdout));
  const origin = gmemtest(['report', '--kcidb', '--kcidb-origin', 'my_lab', join(FIX, 'host.json')]);
  docs.push(save('origin.json', origin.stdout));
  // --format kcidb where nothing can run.
  const none = gmemtest(['--format', 'kcidb', '--device', '/nonexistent']);
  t.equal(none.status, 4);
  docs.push(save('skip-all.json', none.stdout));
  // --format kcidb for real, on this host's /dev/kvm.
  const live = kvmUnavailable() === null ? gmemtest(['--format', 'kcidb']) : null;
  if (live) {
    t.ok(live.status === 0 || live.status === 1, `a real run: exit ${live.status}`);
    docs.push(save('live.json', live.stdout));
  } else t.comment('no /dev/kvm: the live --format kcidb run is left out');

  const v = validate(docs);
  t.equal(v.latest, '5.3', 'the schema version gmemtest writes is kcidb-io\'s latest');
  for (const f of v.files) {
    t.ok(f.valid, `${f.file.slice(dir.length + 1)} (${f.tests} tests): ${f.error ?? 'valid'}`);
    t.ok(f.tests > 0, 'has tests');
  }
  const doc = JSON.parse(readFileSync(docs[0]!, 'utf8')) as { version: { major: number; minor: number } };
  t.same(doc.version, { major: 5, minor: 3 });
});

t.test('the validator is live: it rejects what the schema forbids', { skip: why ?? false }, async (t) => {
  const good = JSON.parse(gmemtest(['report', '--kcidb', join(FIX, 'host.json')]).stdout) as { tests: Record<string, unknown>[] };
  const broken = [
    ['status', (d: typeof good) => { d.tests[0]!.status = 'PASSED'; }],
    ['path', (d: typeof good) => { d.tests[0]!.path = 'default vm/x'; }],
    ['id', (d: typeof good) => { d.tests[0]!.id = 'no-origin-prefix'; }],
    ['null', (d: typeof good) => { d.tests[0]!.comment = null; }],
    ['missing build_id', (d: typeof good) => { delete d.tests[0]!.build_id; }],
  ] as const;
  const files = broken.map(([name, f]) => {
    const d = structuredClone(good);
    f(d);
    return save(`broken-${name.replace(/ /g, '_')}.json`, JSON.stringify(d));
  });
  const v = validate(files);
  for (const [i, f] of v.files.entries()) t.notOk(f.valid, `${broken[i]![0]}: rejected (${f.error})`);
});
