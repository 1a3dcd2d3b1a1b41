// The unit costs behind gmemtest's run, measured in this process (the host, or a guest
// of bench/guest.mjs, where it runs bundled into one file). Prints one JSON line.
//
//   node bench/micro.mjs [--calls N (4095)] [--rounds R (5)] [--probes P (7)] [--c <gmem_baseline>]
//
// - per failing KVM_CREATE_GUEST_MEMFD (sizes 1..calls, EINVAL), three ways, interleaved
//   round by round: the per-call FFI path (vm.tryCreateGuestMemfd, what the suite does
//   with the test seam installed), the batched sweep (IoctlSweeper, what the suite does),
//   and, with --c, C's ioctl() in a loop (gmem_baseline --ffi-loop, its own clock);
// - one faulting access through the access helper, spawn to reaped: a private guest_memfd
//   (MMAP without INIT_SHARED) mapped by a new helper, FILL -> SIGBUS, waitpid;
// - the pieces of that: one FFI crossing (getpagesize: no argument; syscall(getpid):
//   seven), a helper started and closed without access, one helper round trip
//   (SYSCALL getpid), and how many FFI crossings each of those makes.
import { execFileSync } from 'node:child_process';
import { AccessHelper } from '../dist/isolate/access-helper.js';
import { IoctlSweeper } from '../dist/isolate/ioctl-sweep.js';
import { RemoteMm } from '../dist/isolate/remote-mm.js';
import { EINVAL } from '../dist/kvm/errno.js';
import { Kvm } from '../dist/kvm/kvm.js';
import { libc, setInterceptor } from '../dist/kvm/libc.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../dist/kvm/uapi/kvm.js';
import { kvmResources } from '../dist/runner/leaks.js';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const calls = Number(opt('--calls', '4095'));
const rounds = Number(opt('--rounds', '5'));
const probes = Number(opt('--probes', '7'));
const cBinary = opt('--c', null);

const now = () => performance.now();
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);
const SYS_getpid = 39;
const SYS_mmap = 9;
const PAGE = 4096;

const kvm = Kvm.open();
const vm = kvm.createVm(0);

// --- per failing ioctl ---------------------------------------------------------------
function perCallUs() {
  const t0 = now();
  for (let size = 1; size <= calls; size++) {
    const r = vm.tryCreateGuestMemfd(size, 0);
    if (r.ok) { r.value.close(); throw new Error(`size ${size} was accepted`); }
    if (r.errno !== EINVAL) throw new Error(`size ${size}: errno ${r.errno}`);
  }
  return ((now() - t0) * 1000) / calls;
}
const sweeper = (() => { const t0 = now(); const s = IoctlSweeper.open(); return { s, openMs: now() - t0 }; })();
function sweepUs() {
  const t0 = now();
  // As create_guest_memfd_invalid_sizes takes it: one crossing, then every result checked.
  const { issued, results } = sweeper.s.createGuestMemfdSizes(vm.fd, 0, 1, calls, EINVAL);
  let bad = 0;
  for (const ret of results) if (ret !== -EINVAL) bad++;
  const us = ((now() - t0) * 1000) / calls;
  if (issued !== calls || bad) throw new Error(`sweep: ${issued} issued, ${bad} not EINVAL`);
  return us;
}
function cUs() {
  if (!cBinary) return null;
  const o = JSON.parse(execFileSync(cBinary, ['--ffi-loop', String(calls)], { encoding: 'utf8' }));
  return o.ns_per_call / 1000;
}
const ioctl = { perCall: [], sweep: [], c: [] };
const firstSweepUs = sweepUs(); // the first crossing into the routine (cold)
perCallUs(); // warm-up: let V8 optimise the path
for (let r = 0; r < rounds; r++) {
  ioctl.perCall.push(perCallUs());
  ioctl.sweep.push(sweepUs());
  const c = cUs();
  if (c !== null) ioctl.c.push(c);
}

// --- FFI crossings ------------------------------------------------------------------
function crossingUs(f, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) f();
  return ((now() - t0) * 1000) / n;
}
const n = Math.max(100, calls);
crossingUs(() => libc.getpagesize(), n / 10);
const crossing = {
  getpagesizeUs: r3(crossingUs(() => libc.getpagesize(), n)),
  syscallGetpidUs: r3(crossingUs(() => libc.syscall(SYS_getpid), n)),
};

// --- the access helper --------------------------------------------------------------
const gmem = vm.createGuestMemfd(PAGE * 4, GUEST_MEMFD_FLAG_MMAP); // private: the first access faults
function faultingProbeMs() {
  const t0 = now();
  const mm = RemoteMm.start(gmem.fd);
  const m = mm.mmap(0, PAGE * 4, 3, 1, 3, 0); // PROT_READ|PROT_WRITE, MAP_SHARED, fd 3
  if (m.ret < 0) throw new Error(`helper mmap: errno ${m.errno}`);
  const a = mm.fill(m.ret, PAGE * 4, 0xaa);
  const ms = now() - t0;
  if (a.ok || a.failure.status !== 'died' || a.failure.end.kind !== 'signaled' || a.failure.end.signalName !== 'SIGBUS') {
    throw new Error(`probe did not die of SIGBUS: ${JSON.stringify(a.ok ? a : a.lines)}`);
  }
  if (!mm.ended) throw new Error('probe not reaped');
  return ms;
}
function idleHelperMs() {
  const t0 = now();
  const h = AccessHelper.spawn();
  const ready = now() - t0;
  h.close();
  return { ready, total: now() - t0 };
}
const firstProbeMs = faultingProbeMs(); // the first one also writes the helper's memfd
const probe = [];
const ready = [];
const lifecycle = [];
for (let i = 0; i < probes; i++) {
  probe.push(faultingProbeMs());
  const l = idleHelperMs();
  ready.push(l.ready);
  lifecycle.push(l.total);
}
const h = AccessHelper.spawn();
crossingUs(() => h.syscall(SYS_getpid), 5);
const roundTripMs = crossingUs(() => h.syscall(SYS_getpid), Math.max(5, probes * 3)) / 1000;
h.close();

// The runner's leak check scans /proc/self/fd and /proc/self/maps before and after each case.
kvmResources();
const leakScanMs = crossingUs(() => kvmResources(), Math.max(5, probes * 3)) / 1000;
// Its two halves: every fd's link, and the text of /proc/self/maps.
const fs = await import('node:fs');
let fds = 0;
let mapsBytes = 0;
let fdsMs = null;
let mapsMs = null;
try {
  fds = fs.readdirSync('/proc/self/fd').length;
  fdsMs = crossingUs(() => {
    for (const n of fs.readdirSync('/proc/self/fd')) { try { fs.readlinkSync(`/proc/self/fd/${n}`); } catch { /* gone */ } }
  }, Math.max(5, probes * 3)) / 1000;
  mapsMs = crossingUs(() => { mapsBytes = fs.readFileSync('/proc/self/maps', 'utf8').length; }, Math.max(5, probes * 3)) / 1000;
} catch { /* no procfs */ }

// FFI crossings (libc calls) of each piece, counted through the seam.
let count = 0;
const counted = (f) => { count = 0; f(); return count; };
setInterceptor((_c, real) => { count++; return real(); });
const crossings = {};
crossings.spawnToReady = counted(() => { globalThis.__h = AccessHelper.spawn({ fd: gmem.fd }); });
crossings.roundTrip = counted(() => globalThis.__h.syscall(SYS_getpid));
const mapped = globalThis.__h.syscall(SYS_mmap, 0, PAGE * 4, 3, 1, 3, 0);
crossings.faultingFillToReaped = counted(() => globalThis.__h.fill(mapped.ret, PAGE * 4, 0xaa));
crossings.closeIdle = counted(() => { const x = AccessHelper.spawn(); count = 0; x.close(); });
setInterceptor(null);

gmem.close();
sweeper.s.close();
vm.close();
kvm.close();

const med = (xs) => r3(median(xs));
process.stdout.write(`${JSON.stringify({
  calls, rounds, probes,
  ioctlUs: { perCall: med(ioctl.perCall), sweep: med(ioctl.sweep), c: med(ioctl.c), firstSweep: r3(firstSweepUs) },
  ioctlRoundsUs: { perCall: ioctl.perCall.map(r3), sweep: ioctl.sweep.map(r3), c: ioctl.c.map(r3) },
  sweepOpenMs: r3(sweeper.openMs),
  crossing,
  helperMs: {
    faultingProbe: med(probe), faultingProbeMin: r3(Math.min(...probe)), firstFaultingProbe: r3(firstProbeMs),
    spawnToReady: med(ready), spawnToClosed: med(lifecycle), roundTrip: r3(roundTripMs),
  },
  crossings,
  leakScan: { ms: r3(leakScanMs), fds, fdsMs: r3(fdsMs), mapsMs: r3(mapsMs), mapsBytes },
})}\n`);
