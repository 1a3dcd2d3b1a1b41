// One whole gmemtest run (KTAP, default options) in this process, split into phases:
// Node's own start-up, loading gmemtest's module graph, and main() (device open, probe,
// plan, cases, report). The KTAP is counted, not printed; one JSON line goes to stdout.
// performance.now() counts from the process's time origin, i.e. from Node's start.
const bootMs = performance.now();
const { main } = await import('../dist/cli/program.js');
const loadedMs = performance.now();
let bytes = 0;
const io = { out: (t) => { bytes += t.length; }, err: (t) => { process.stderr.write(t); } };
const code = await main([], io);
const doneMs = performance.now();
const t = performance.nodeTiming;
process.stdout.write(`${JSON.stringify({
  v8StartMs: t.v8Start,
  bootstrapCompleteMs: t.bootstrapComplete,
  bootMs,
  loadMs: loadedMs - bootMs,
  mainMs: doneMs - loadedMs,
  totalMs: doneMs,
  code,
  ktapBytes: bytes,
})}\n`);
