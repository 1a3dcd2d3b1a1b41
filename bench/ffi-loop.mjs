// Per-call cost of gmemtest's FFI layer: a KVM_CREATE_GUEST_MEMFD that the kernel
// refuses (size 1 -> EINVAL), through Vm.tryCreateGuestMemfd exactly as the cases
// call it, and the same ioctl through the bare libc.ioctl binding (argument struct
// encoded once). Usage: node bench/ffi-loop.mjs [calls] [rounds]; prints one JSON line.
import { Kvm } from '../dist/kvm/kvm.js';

// The bare-binding loop needs internals that src/ may reshape; it is optional.
let bare = null;
try {
  const [{ libc }, { scratch }, { encodeCreateGuestMemfd }, { KVM_CREATE_GUEST_MEMFD }] = await Promise.all([
    import('../dist/kvm/libc.js'), import('../dist/kvm/native.js'),
    import('../dist/kvm/structs.js'), import('../dist/kvm/uapi.js'),
  ]);
  if ([libc?.ioctl, scratch, encodeCreateGuestMemfd].every((f) => typeof f === 'function') && KVM_CREATE_GUEST_MEMFD) {
    bare = { libc, scratch, encodeCreateGuestMemfd, KVM_CREATE_GUEST_MEMFD };
  }
} catch { /* layer reshaped: measure through the Vm only */ }

const calls = Number(process.argv[2] ?? 20000);
const rounds = Number(process.argv[3] ?? 5);

const kvm = Kvm.open();
const vm = kvm.createVm(0);

function layerRound(n) {
  let einval = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = vm.tryCreateGuestMemfd(1, 0);
    if (!r.ok && r.errno === 22) einval++;
    else if (r.ok) r.value.close();
  }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (einval !== n) throw new Error(`expected ${n} EINVAL, got ${einval}`);
  return ns;
}

function rawRound(n) {
  if (bare === null) return null;
  const { libc, scratch, encodeCreateGuestMemfd, KVM_CREATE_GUEST_MEMFD } = bare;
  const s = scratch();
  encodeCreateGuestMemfd(s.buf, 1, 0);
  const fd = vm.fd;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) libc.ioctl(fd, KVM_CREATE_GUEST_MEMFD, s.addr);
  return Number(process.hrtime.bigint() - t0) / n;
}

layerRound(Math.max(1, calls / 10)); // warm-up: let V8 optimise the path
rawRound(Math.max(1, calls / 10));
const layer = [];
const raw = [];
for (let r = 0; r < rounds; r++) {
  layer.push(layerRound(calls));
  raw.push(rawRound(calls));
}
vm.close();
kvm.close();
process.stdout.write(`${JSON.stringify({ calls, rounds, layerNsPerCall: layer, rawIoctlNsPerCall: bare === null ? null : raw })}\n`);
