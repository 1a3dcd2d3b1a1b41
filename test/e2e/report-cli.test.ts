// gmemtest report through bin/gmemtest: a real --format json run of this host beside the
// 7.2 kernel's, the outputs, colour, and one line and exit 2 for inputs it cannot use.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { gmemtest, kvmUnavailable } from '../helpers/kvm.js';

const FIX = fileURLToPath(new URL('../report/fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gmemtest-report-cli-'));
const ESC = /\x1b\[/;

t.test('two JSON runs from different kernels: this host now and the 7.2 guest', { skip: kvmUnavailable() ?? false }, async (t) => {
  const run = gmemtest(['--format', 'json']);
  t.ok(run.status === 0 || run.status === 1, `gmemtest --format json: exit ${run.status}`);
  const mine = join(dir, 'this-host.json');
  writeFileSync(mine, run.stdout);
  const html = join(dir, 'out/matrix.html');
  const r = gmemtest(['report', mine, join(FIX, 'guest-sid.json'), '--html', html], { NO_COLOR: '1' });
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, ESC);
  t.match(r.stdout, /^gmemtest report: 2 runs, 42 cases, \d+ differs? between runs, \d+ failing\n/);
  const release = (JSON.parse(run.stdout) as { host: { kernelRelease: string } }).host.kernelRelease;
  t.match(r.stdout, new RegExp(`\\n1 +this-host +${release.replace(/[.+]/g, '\\$&')}, x86_64 `));
  t.match(r.stdout, /\n2 +guest-sid +7\.2\.13\+deb14-amd64, x86_64 /);
  t.match(r.stdout, /\ndefault_vm\.flags-mmap\.mbind +(SKIP|PASS) +PASS\n/, 'mbind: the 2-node guest passes it');
  t.equal(r.stderr, `gmemtest: report: wrote ${html}\n`, 'the page\'s path on stderr; stdout stays the table');
  t.ok(existsSync(html));
  t.match(readFileSync(html, 'utf8'), /<table class="matrix" id="matrix">/);
});

t.test('--markdown and --kcidb print instead of the table; filters', async (t) => {
  const files = [join(FIX, 'boot-sid.ktap'), join(FIX, 'boot-trixie.ktap'), join(FIX, 'host.json')];
  const md = gmemtest(['report', '--markdown', ...files]);
  t.equal(md.status, 0);
  t.match(md.stdout, /^## gmemtest report\n/);
  const kcidb = gmemtest(['report', '--kcidb', '--kcidb-origin', 'ci_lab', ...files]);
  t.equal(kcidb.status, 0);
  const doc = JSON.parse(kcidb.stdout) as { version: unknown; tests: { id: string }[] };
  t.same(doc.version, { major: 5, minor: 3 });
  t.ok(doc.tests.every((x) => x.id.startsWith('ci_lab:')));
  const fails = gmemtest(['report', '--only-failures', ...files], { NO_COLOR: '1' });
  t.match(fails.stdout, /\nguest_memfd_guest +PASS +SKIP +FAIL\n/);
  t.notMatch(fails.stdout, /\ndefault_vm\./);
  const diffs = gmemtest(['report', '--only-differences', join(FIX, 'host.json'), join(FIX, 'host.ktap')], { NO_COLOR: '1' });
  t.match(diffs.stdout, /\(42 of 42 cases not shown: only differences\)/, 'the same run as JSON and as KTAP: no difference');
});

t.test('colour: FORCE_COLOR colours, NO_COLOR does not', async (t) => {
  const f = join(FIX, 'host.json');
  t.match(gmemtest(['report', f], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout, ESC);
  t.notMatch(gmemtest(['report', f], { NO_COLOR: '1', FORCE_COLOR: '' }).stdout, ESC);
});

t.test('a directory of results', async (t) => {
  const r = gmemtest(['report', FIX], { NO_COLOR: '1' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^gmemtest report: 10 runs, /, 'every result file of the fixtures directory (README.md is not one)');
});

for (const [what, args, msg] of [
  ['a missing file', ['report', '/nonexistent/run.json'], /^gmemtest: report: \/nonexistent\/run\.json: no such file or directory$/],
  ['a file that is not a result', ['report', join(FIX, 'README.md')], /README\.md: not a gmemtest result/],
  ['KCIDB as input', ['report', '@kcidb'], /a KCIDB document, not gmemtest results/],
  ['two outputs on stdout', ['report', '--markdown', '--kcidb', join(FIX, 'host.json')], /--markdown and --kcidb both print to stdout/],
  ['a bad origin', ['report', '--kcidb-origin', 'Not-Valid', join(FIX, 'host.json')], /a KCIDB origin is lower-case letters, digits and _/],
  ['no input', ['report'], /missing required argument/],
  ['a bad origin for the run', ['--format', 'kcidb', '--kcidb-origin', 'x:y'], /a KCIDB origin is lower-case letters/],
] as const) {
  t.test(`usage error: ${what}`, async (t) => {
    const argv = args.map((a) => (a === '@kcidb' ? (writeFileSync(join(dir, 'k.json'), '{"version":{"major":5},"tests":[]}'), join(dir, 'k.json')) : a));
    const r = gmemtest(argv);
    t.equal(r.status, 2);
    t.equal(r.stdout, '');
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line on stderr');
    t.match(r.stderr.trim(), msg);
  });
}
