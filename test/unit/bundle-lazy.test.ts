// scripts/bundle.mjs's lazy built-ins: in a bundle, child_process, crypto, tty and zlib
// load when an export is first read, and then behave as the modules themselves (named
// and default imports, require(), classes, instanceof, constants); node:process is the
// global process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
// @ts-expect-error: a plain .mjs build script without types
import { bundle } from '../../scripts/bundle.mjs';

const ENTRY = `
import { spawnSync } from 'node:child_process';
import { createHash, Hash } from 'node:crypto';
import zlib from 'node:zlib';
import proc from 'node:process';
const cjs = require('node:tty');
const loaded = () => process.moduleLoadList.filter((m) => /^NativeModule (child_process|crypto|zlib|tty)$/.test(m)).map((m) => m.slice(13));
const before = loaded();
const h = createHash('sha256');
const out = {
  before,
  hash: h.update('gmemtest').digest('hex'),
  isHash: h instanceof Hash,
  gzip: zlib.gunzipSync(zlib.gzipSync(Buffer.from('round trip'))).toString(),
  level: zlib.constants.Z_BEST_COMPRESSION,
  echo: spawnSync(process.execPath, ['-e', 'process.stdout.write("child")'], { encoding: 'utf8' }).stdout,
  isatty: typeof cjs.isatty(1),
  sameProcess: proc === process,
  after: loaded(),
};
console.log(JSON.stringify(out));
`;

t.test('lazy built-ins in a bundle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-lazy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'entry.mjs'), ENTRY);
  await (bundle as (o: object) => Promise<unknown>)({ entry: join(dir, 'entry.mjs'), outfile: join(dir, 'out.mjs'), externals: [] });
  // env -i: without the test runner's NODE_OPTIONS hooks, which load child_process themselves.
  const r = spawnSync('env', ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, process.execPath, join(dir, 'out.mjs')], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout) as Record<string, unknown>;
  t.same(o.before, [], 'none of them is loaded before an export is read');
  t.equal(o.hash, 'fe867ffe0bb248a96af9059a7c2c23797e202d1fd7a3ca336dbe5b87c43d9037', 'createHash works');
  t.equal(o.isHash, true, 'its object is an instance of the real class');
  t.equal(o.gzip, 'round trip', 'zlib (default import) round-trips');
  t.equal(o.level, 9, 'constants come through');
  t.equal(o.echo, 'child', 'spawnSync runs a child');
  t.equal(o.isatty, 'boolean', 'require() of a lazy built-in works');
  t.equal(o.sameProcess, true, 'node:process is the global process');
  t.same([...(o.after as string[])].sort(), ['child_process', 'crypto', 'tty', 'zlib'], 'each loaded once used');
});
