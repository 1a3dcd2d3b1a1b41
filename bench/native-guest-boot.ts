// Boots the cached sid kernel under TCG and runs bench/native-guest.ts inside it (bundled
// into one file beside the fault probe's bundle, so the Node probe finds its child).
// Usage: npm run build && npx tsx bench/native-guest-boot.ts [manifest suite (sid)]
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootAndRun } from '../src/boot/boot-and-run.js';
import { accessHelperProgram } from '../src/native/access-helper.js';
// @ts-expect-error: a plain .mjs build script without types
import { bundle } from '../scripts/bundle.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const suite = process.argv[2] ?? 'sid';
const manifest = JSON.parse(readFileSync(join(homedir(), '.cache/gmemtest/kernels/manifest.json'), 'utf8')) as
  { suite: string; vmlinuz: string; modules: string }[];
const k = manifest.find((m) => m.suite === suite);
if (!k) throw new Error(`no ${suite} kernel in the cache (npm run kernels:fetch)`);
const out = join(root, 'dist', 'bundle', 'native-guest-bench.mjs');
if (!existsSync(join(root, 'dist', 'bundle', 'fault-probe-child.mjs'))) throw new Error('npm run build first');
await (bundle as (o: object) => Promise<unknown>)({ entry: join(root, 'bench', 'native-guest.ts'), outfile: out });
const dir = mkdtempSync(join(tmpdir(), 'gmemtest-guest-bench-'));
const c = join(dir, 'gmem_baseline');
execFileSync('gcc', ['-O2', '-o', c, join(root, 'bench', 'c', 'gmem_baseline.c')]);
// The helper as a build step would leave it in dist/, read over 9p in the guest.
const helperFile = join(root, 'dist', 'native', 'x86_64', 'gmem-access');
mkdirSync(dirname(helperFile), { recursive: true });
writeFileSync(helperFile, accessHelperProgram('x86_64').elf);
chmodSync(helperFile, 0o755);
try {
  const r = await bootAndRun({ kernel: k.vmlinuz, modules: k.modules, timeoutSec: 900,
    command: ['/usr/bin/node', out, '--c', c, '--helper-file', helperFile], cwd: root });
  if (!r.ok) throw new Error(`boot: ${JSON.stringify(r).slice(0, 2000)}`);
  process.stdout.write(r.stdout);
  process.stderr.write(`# boot: ${JSON.stringify(r.timings)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
