// What the bundle (dist/bundle/gmemtest.mjs, the loader of gmemtest.cjs, what bin/gmemtest
// and every gmemtest boot guest run) loads before it does anything: inside a TCG guest each
// module costs tens to thousands of milliseconds, so the start-up must not load the packages
// and Node built-ins that only some commands use; and those commands must still find them.
// And the loader's V8 code cache: written by a whole run, used by the next, never trusted blindly.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { kvmUnavailable } from '../helpers/kvm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'bundle', 'gmemtest.mjs');
const noKvm = kvmUnavailable();
/**
 * node as a user's shell would start it. The test runner hooks every child it spawns
 * (NODE_OPTIONS, which load child_process themselves): env -i starts node without them.
 */
const clean = (...env: string[]): string[] =>
  ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, `HOME=${process.env.HOME ?? '/root'}`, ...env, process.execPath];

/** Runs the bundle with `args`; returns the built-ins and CommonJS files it loaded. */
function loadedBy(args: readonly string[]): { builtins: Set<string>; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-startup-'));
  try {
    const hook = join(dir, 'hook.cjs');
    const out = join(dir, 'loaded.json');
    writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({
      list: process.moduleLoadList, files: Object.keys(require.cache) })));\n`);
    spawnSync('env', [...clean(), '-r', hook, BUNDLE, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    const r = JSON.parse(readFileSync(out, 'utf8')) as { list: string[]; files: string[] };
    const builtins = new Set(r.list.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)));
    return { builtins, files: r.files.filter((f) => f !== hook) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('the start-up loads neither xmlbuilder2 nor the built-ins of other commands', async (t) => {
  for (const args of [['--version'], ['--list']]) {
    const { builtins, files } = loadedBy(args);
    for (const m of ['child_process', 'crypto', 'zlib', 'tty', 'net', 'internal/process/report']) {
      t.notOk(builtins.has(m), `${args.join(' ')}: ${m} is not loaded`);
    }
    t.same(files.filter((f) => f.includes('node_modules') && !f.includes('ffi-rs')), [], `${args.join(' ')}: no package but ffi-rs's binding`);
  }
});

t.test('the commands that use them still load them', async (t) => {
  // junit: xmlbuilder2; kcidb: crypto's createHash; pretty: tty (chalk). (boot's spawn and
  // spawnSync: test/unit/bundle-lazy.test.ts and the boot tests.)
  const junit = spawnSync('env', [...clean(), BUNDLE, '--list', '--format', 'junit'], { encoding: 'utf8' });
  t.equal(junit.status, 0, 'gmemtest --list --format junit runs');
  const xml = spawnSync('env', [...clean(), BUNDLE, '--format', 'junit', '--filter', 'default_vm.guest_memfd_flags'], { encoding: 'utf8' });
  t.match(xml.stdout, /^<\?xml version="1.0"/, 'a JUnit document, built by xmlbuilder2');
  const kcidb = spawnSync('env', [...clean(), BUNDLE, '--format', 'kcidb', '--filter', 'default_vm.guest_memfd_flags'], { encoding: 'utf8' });
  const doc = JSON.parse(kcidb.stdout) as { tests?: { id: string }[] };
  t.ok((doc.tests ?? []).length > 0, 'a KCIDB document with tests');
  const pretty = execFileSync('env', [...clean('FORCE_COLOR=1'), BUNDLE, '--format', 'pretty', '--filter', 'default_vm.guest_memfd_flags'], { encoding: 'utf8' });
  t.match(pretty, /guest_memfd_flags/, 'pretty output, coloured through chalk');
});

t.test('the loader: V8 code cache written by a whole run, used by the next, refused when it is not V8\'s', async (t) => {
  // A copy of the bundle inside the checkout (so that ffi-rs resolves as from dist/bundle/).
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.cache', 'bundle-loader-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['gmemtest.mjs', 'gmemtest.cjs']) writeFileSync(join(dir, f), readFileSync(join(ROOT, 'dist', 'bundle', f)));
  const caches = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.v8cache')).sort();
  const run = (...args: string[]): { out: string; said: string[]; code: number | null } => {
    const r = spawnSync('env', [...clean('GMEMTEST_V8CACHE_DEBUG=1'), join(dir, 'gmemtest.mjs'), ...args], { encoding: 'utf8' });
    return { out: r.stdout, said: r.stderr.split('\n').filter((l) => l.startsWith('gmemtest: v8cache: ')).map((l) => l.slice(19)), code: r.status };
  };
  t.same(run('--version').said, ['none'], '--version: no cache, and writes none');
  t.same(run('--list').said, ['none'], '--list: writes none');
  t.same(caches(), [], 'nothing written');
  if (noKvm) {
    t.same(run().said, ['none'], `a skipped-all run (${noKvm}) writes none`);
    t.same(caches(), [], 'nothing written');
    return;
  }
  t.same(run('--filter', 'default_vm.flags-none.*').said, ['none'], 'a filtered run writes none (it ran a few cases only)');
  t.same(run('--vm-type', 'default_vm').said, ['none'], 'nor does a run of one VM type');
  t.same(caches(), [], 'nothing written');
  const first = run();
  t.ok(first.code === 0 || first.code === 1, `a whole run ends 0 or 1 (${first.code})`);
  t.same(first.said, ['none', 'wrote the run cache'], 'a whole run writes the run cache');
  t.equal(caches().length, 1, 'one cache file');
  t.match(caches()[0], /^gmemtest\.cjs\.[0-9a-f]{16}\..+\.run\.v8cache$/, 'named for the program, V8 and the architecture');
  t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  const filter = ['--filter', 'default_vm.flags-none.*'];
  const second = run(...filter);
  t.same(second.said, ['used the run cache'], 'the next run uses it and writes nothing');
  const off = spawnSync('env', [...clean('GMEMTEST_V8CACHE_DEBUG=1', 'GMEMTEST_V8CACHE=off'), join(dir, 'gmemtest.mjs'), ...filter], { encoding: 'utf8' });
  t.match(off.stderr, /v8cache: none/, 'GMEMTEST_V8CACHE=off reads none');
  t.equal(off.stdout, second.out, 'and the KTAP is the same with and without the cache');
  writeFileSync(join(dir, caches()[0]!), Buffer.from('not a V8 code cache'));
  t.same(run(...filter).said, ['the run cache was refused'], 'a cache V8 refuses is not used; a filtered run does not replace it');
  t.same(run().said, ['the run cache was refused', 'wrote the run cache'], 'a whole run writes it again');
  t.same(run(...filter).said, ['used the run cache'], 'and then it is used');
});

t.test('npm run build wrote the start-up cache beside the program', async (t) => {
  const files = readdirSync(join(ROOT, 'dist', 'bundle'));
  t.ok(files.some((f) => /^gmemtest\.cjs\.[0-9a-f]{16}\..+\.startup\.v8cache$/.test(f)), files.join(', '));
});
