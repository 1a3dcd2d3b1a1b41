import { AccessHelper, describeOutcome } from '../src/isolate/access-helper.js';
import { Kvm } from '../src/kvm/kvm.js';
import { GUEST_MEMFD_FLAG_MMAP, GUEST_MEMFD_FLAG_INIT_SHARED } from '../src/kvm/uapi.js';
const kvm = Kvm.open(); const vm = kvm.createVm(0);
const g = vm.createGuestMemfd(4096 * 4, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
{
  using h = AccessHelper.spawn({ fd: g.fd });
  console.log('startup ms', h.startupMs.toFixed(2), 'pid', h.pid);
  console.log(h.syscall(39));
  const m = h.syscall(9, 0, 16384, 3, 1, 3, 0); console.log('mmap', m.status, m.status === 'ok' && m.ret.toString(16));
  if (m.status === 'ok') {
    console.log(h.fill(m.ret, 16384, 0xaa).status);
    const l = h.load(m.ret, 16384); console.log(l.status, l.status === 'ok' && l.data!.every((x) => x === 0xaa));
    console.log(h.touch(m.ret, 16384, 4096));
    console.log(h.put(0, Buffer.from('hello')).status, h.get(1, 3));
  }
  console.log(h.close());
}
const p = vm.createGuestMemfd(4096 * 4, GUEST_MEMFD_FLAG_MMAP);
const times: number[] = [];
for (let i = 0; i < 30; i++) {
  const t0 = performance.now();
  const h = AccessHelper.spawn({ fd: p.fd });
  const m = h.syscall(9, 0, 16384, 3, 1, 3, 0);
  const f = h.fill(m.status === 'ok' ? m.ret : 0, 16384, 0xaa);
  times.push(performance.now() - t0);
  if (i === 0) console.log(f, describeOutcome(f));
}
times.sort((a, b) => a - b); console.log('spawn->reaped median ms', times[15]!.toFixed(2), 'min', times[0]!.toFixed(2), 'max', times[29]!.toFixed(2));
