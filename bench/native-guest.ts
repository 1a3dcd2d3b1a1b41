// The native pieces' costs where they matter most: inside a TCG guest (run there by
// bench/native-guest-boot.ts as one bundled file), or on the host for comparison.
// Measures, in this process: generating the helper and the sweep (cold), one faulting
// probe spawn-to-reaped (AccessHelper vs today's Node probe child), and the per-ioctl
// cost of create_guest_memfd_invalid_sizes (batched, both loaders, vs one ffi-rs call
// per ioctl, vs C when a binary is given). Prints one JSON line.
//   node native-guest.mjs [--c <gmem_baseline binary>] [--probes N] [--node-probes N]
import { execFileSync, spawnSync } from 'node:child_process';
import { AccessHelper, helperExecutable, helperProgram } from '../src/isolate/access-helper.js';
import { IoctlSweeper } from '../src/isolate/ioctl-sweep.js';
import { runFaultProbe } from '../src/isolate/fault-probe.js';
import { setInterceptor } from '../src/kvm/libc.js';
import { Kvm } from '../src/kvm/kvm.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../src/kvm/uapi/kvm.js';
import { accessHelperProgram } from '../src/native/access-helper.js';
import { ioctlSweepProgram, ioctlSweepSharedObjectBytes } from '../src/native/ioctl-sweep.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string | null): string | null => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] ?? dflt : dflt;
};
const cBinary = opt('--c', null);
/** The helper as a file (e.g. on the guest's 9p root), to compare exec from a file with the memfd. */
const helperFile = opt('--helper-file', null);
const probes = Number(opt('--probes', '21'));
const nodeProbes = Number(opt('--node-probes', '5'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (f: () => void): number => { const t0 = performance.now(); f(); return performance.now() - t0; };
const r3 = (x: number): number => Number(x.toFixed(3));

const out: Record<string, unknown> = {};
out.generateHelperColdMs = r3(ms(() => helperProgram()));
out.generateSweepColdMs = r3(ms(() => ioctlSweepSharedObjectBytes(ioctlSweepProgram())));
out.generateHelperFreshMs = r3(ms(() => accessHelperProgram(undefined, { fresh: true })));
out.helperMemfdMs = r3(ms(() => helperExecutable()));

const nodeStarts: number[] = [];
for (let i = 0; i < 3; i++) nodeStarts.push(ms(() => spawnSync(process.execPath, ['-e', '0'])));
out.nodeE0Ms = r3(median(nodeStarts));

const kvm = Kvm.open();
const vm = kvm.createVm(0);
const SIZE = 4096 * 4;
const gmem = vm.createGuestMemfd(SIZE, GUEST_MEMFD_FLAG_MMAP);

const helper: number[] = [];
let firstSpawn = 0;
for (let i = 0; i < probes + 1; i++) {
  const t0 = performance.now();
  const h = AccessHelper.spawn({ fd: gmem.fd });
  const m = h.syscall(9, 0, SIZE, 3, 1, 3, 0);
  const o = h.fill(m.status === 'ok' ? m.ret : 0, SIZE, 0xaa);
  const dt = performance.now() - t0;
  if (o.status !== 'died' || o.end.kind !== 'signaled' || o.end.signal !== 7) throw new Error(`no SIGBUS: ${JSON.stringify(o)}`);
  if (i === 0) firstSpawn = dt;
  else helper.push(dt);
}
out.helperSigbusFirstMs = r3(firstSpawn);
if (helperFile) {
  const xs: number[] = [];
  for (let i = 0; i < probes; i++) {
    const t0 = performance.now();
    const h = AccessHelper.spawn({ fd: gmem.fd, program: { path: helperFile, argv: ['gmem-access', String(process.pid)] } });
    const m = h.syscall(9, 0, SIZE, 3, 1, 3, 0);
    const o = h.fill(m.status === 'ok' ? m.ret : 0, SIZE, 0xaa);
    xs.push(performance.now() - t0);
    if (o.status !== 'died') throw new Error('no SIGBUS from the file helper');
  }
  out.helperFromFileSigbusFirstMs = r3(xs[0]!);
  out.helperFromFileSigbusMedianMs = r3(median(xs));
}
// libc calls (FFI crossings) of one probe and of one idle round trip.
{
  let calls = 0;
  setInterceptor((_c, real) => { calls++; return real(); });
  const h = AccessHelper.spawn({ fd: gmem.fd });
  const spawnCalls = calls;
  calls = 0;
  h.syscall(39);
  const opCalls = calls;
  calls = 0;
  const m = h.syscall(9, 0, SIZE, 3, 1, 3, 0);
  calls = 0;
  h.fill(m.status === 'ok' ? m.ret : 0, SIZE, 0xaa);
  const dieCalls = calls;
  setInterceptor(null);
  out.ffiCalls = { spawn: spawnCalls, getpidRoundTrip: opCalls, faultingFillAndReap: dieCalls };
  const h2 = AccessHelper.spawn();
  const rt: number[] = [];
  for (let i = 0; i < 21; i++) rt.push(ms(() => h2.syscall(39)));
  out.helperRoundTripMedianMs = r3(median(rt));
  h2.close();
}
out.helperSigbusMedianMs = r3(median(helper));
out.helperSigbusMinMs = r3(Math.min(...helper));

const node: number[] = [];
for (let i = 0; i < nodeProbes; i++) {
  const t0 = performance.now();
  const o = await runFaultProbe(gmem.fd, { op: 'fill', mapSize: SIZE, offset: 0, length: SIZE, value: 0xaa });
  node.push(performance.now() - t0);
  if (o.status !== 'sigbus') throw new Error(`node probe: ${o.status}`);
}
out.nodeProbeSigbusMedianMs = r3(median(node));

const N = 4095;
const perCall = ms(() => {
  for (let size = 1; size <= N; size++) if (vm.tryCreateGuestMemfd(size, 0).ok) throw new Error('created');
}) * 1000 / N;
out.perFfiCallUsPerIoctl = r3(perCall);
for (const how of ['dlopen', 'bsearch'] as const) {
  let s: IoctlSweeper | null = null;
  out[`${how}SetupMs`] = r3(ms(() => { s = IoctlSweeper.open(how); }));
  const sweeper = s as unknown as IoctlSweeper;
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    runs.push(ms(() => {
      const o = sweeper.createGuestMemfdSizes(vm.fd, 0, 1, N, 22);
      if (o.issued !== N) throw new Error('stopped early');
    }) * 1000 / N);
  }
  out[`${how}UsPerIoctl`] = r3(median(runs));
  sweeper.close();
}
if (cBinary) {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    xs.push((JSON.parse(execFileSync(cBinary, ['--ffi-loop', '4095'], { encoding: 'utf8' })) as { ns_per_call: number }).ns_per_call / 1000);
  }
  out.cUsPerIoctl = r3(median(xs));
}
gmem.close(); vm.close(); kvm.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
