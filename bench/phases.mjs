// One whole gmemtest run in this process, loaded as the product's loader loads it
// (dist/bundle/gmemtest.mjs: dist/bundle/gmemtest.cjs through vm.Script with V8's code
// cache, the run's cache if there is one, else the build's start-up one), split into
// phases. Prints one JSON line.
//
//   node bench/phases.mjs [program (dist/bundle/gmemtest.cjs)] [gmemtest args...]
//
// Phases, in ms:
//   bootMs     Node's own start-up, up to this script's first line (from the process's time origin)
//   ffiMs      loading ffi-rs's native binding (the .node file: read, dlopen, init)
//   compileMs  reading the program and the cache, vm.Script (with the cache: deserialising)
//   runMs      from the program's first line to the end of main(): its module set-up
//              (libc bindings, errno), device open, probe, plan, the cases, the report
//   casesMs    the sum of the cases' own durations (from --format json, in this run)
// The output is kept in memory (--format json, for the case durations), not printed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const bootMs = performance.now();
const program = process.argv[2] ?? fileURLToPath(new URL('../dist/bundle/gmemtest.cjs', import.meta.url));
const dir = dirname(program);
const req = createRequire(program);

const t0 = performance.now();
let ffiMs = null;
try {
  // The binding src/kvm/ffi.ts loads, resolved from the program's location.
  createRequire(req.resolve('ffi-rs'))(`@yuuang/ffi-rs-${process.platform}-${process.arch}-gnu`);
  ffiMs = performance.now() - t0;
} catch {
  // not this platform's binding: counted in runMs
}

// The loader's own choice of cache (see scripts/bundle.mjs loaderSource).
const t1 = performance.now();
const tag = `.${process.versions.v8}-${process.arch}.`;
const caches = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${program.split('/').pop()}.`) && f.includes(tag)) : [];
const pick = caches.find((f) => f.endsWith('.run.v8cache')) ?? caches.find((f) => f.endsWith('.startup.v8cache'));
const cachedData = pick ? readFileSync(join(dir, pick)) : undefined;
const source = readFileSync(program, 'utf8');
const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`,
  { filename: program, lineOffset: -1, cachedData });
const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? `${pick}: refused` : pick.replace(/^.*\.(\w+)\.v8cache$/, '$1');
const t2 = performance.now();

// The program writes its document to process.stdout and sets process.exitCode.
let text = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  const cb = rest.find((x) => typeof x === 'function');
  if (cb) cb();
  return true;
};
process.argv = [process.argv[0], program, '--format', 'json', ...process.argv.slice(3)];
const module = { exports: {} };
script.runInThisContext()(module.exports, req, module, program, dir);
process.once('beforeExit', () => {
  const t3 = performance.now();
  process.stdout.write = write;
  let casesMs = 0;
  const perCase = {};
  for (const r of JSON.parse(text).results ?? []) {
    if (r.kind === 'case') {
      casesMs += r.duration_ms;
      perCase[r.id] = r.duration_ms;
    }
  }
  const code = process.exitCode ?? 0;
  process.stdout.write(`${JSON.stringify({ bootMs, ffiMs, compileMs: t2 - t1, runMs: t3 - t2, casesMs, totalMs: t3, cache, code, perCase })}\n`);
  // Exit 0: the bench reads the JSON; the run's own code is in it.
  process.exitCode = 0;
});
