// One real SIGBUS child, as fault_private makes it: a private (MMAP-only) guest_memfd,
// a probe child that maps it and reads offset 0, killed by SIGBUS. Prints one JSON line
// with the child's wall time from spawn to reaped (the probe module's own timing).
import { Kvm } from '../dist/kvm/kvm.js';
import { runFaultProbe } from '../dist/isolate/fault-probe.js';

const kvm = Kvm.open();
const vm = kvm.createVm(0);
const gmem = vm.createGuestMemfd(4096 * 4, 1 /* GUEST_MEMFD_FLAG_MMAP */);
const o = await runFaultProbe(gmem.fd, { op: 'read', mapSize: 4096 * 4, offset: 0, length: 1 });
gmem.close(); vm.close(); kvm.close();
if (o.status !== 'sigbus' || !o.armed) throw new Error(`probe did not SIGBUS: ${o.status}`);
console.log(JSON.stringify({ childMs: o.durationMs }));
