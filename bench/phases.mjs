// One whole gmemtest run in this process, split into phases. Prints one JSON line.
//
//   node bench/phases.mjs [program module (bench/build/phases-program.mjs)] [gmemtest args...]
//
// The program module is dist/cli/program.js bundled into one file as the product's
// bundle is (bench/run.mjs and bench/guest.mjs write it), so the load is what
// bin/gmemtest loads. Phases, in ms from the process's time origin:
//   bootMs   Node's own start-up, up to this script's first line
//   ffiMs    loading ffi-rs's native binding (the .node file: read, dlopen, init)
//   loadMs   importing the program: read, compile, evaluate (libc bindings, errno set-up)
//   mainMs   main(): device open, probe, plan, the cases, the report
//   casesMs  the sum of the cases' own durations (from --format json, in this run)
// The output goes nowhere (counted); --format json is used to get the case durations.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const bootMs = performance.now();
const program = process.argv[2] ?? new URL('./build/phases-program.mjs', import.meta.url).pathname;

const t0 = performance.now();
let ffiMs = null;
try {
  // The binding src/kvm/ffi.ts loads, resolved from the program's location.
  const req = createRequire(pathToFileURL(program));
  const fromFfiRs = createRequire(req.resolve('ffi-rs'));
  fromFfiRs(`@yuuang/ffi-rs-${process.platform}-${process.arch}-gnu`);
  ffiMs = performance.now() - t0;
} catch {
  // not this platform's binding: counted in loadMs
}
const t1 = performance.now();
const { main } = await import(pathToFileURL(program).href);
const t2 = performance.now();
let text = '';
const io = { out: (s) => { text += s; }, err: (s) => { process.stderr.write(s); } };
const code = await main(['--format', 'json', ...process.argv.slice(3)], io);
const t3 = performance.now();
let casesMs = 0;
const perCase = {};
for (const r of JSON.parse(text).results ?? []) {
  if (r.kind === 'case') {
    casesMs += r.duration_ms;
    perCase[r.id] = r.duration_ms;
  }
}
process.stdout.write(`${JSON.stringify({ bootMs, ffiMs, loadMs: t2 - t1, mainMs: t3 - t2, casesMs, totalMs: t3, code, perCase })}\n`);
