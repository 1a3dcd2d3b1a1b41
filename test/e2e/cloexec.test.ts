// guest_memfds are close-on-exec: a child process gets only the file it is handed.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { Kvm } from '../../src/kvm/kvm.js';
import { kvmUnavailable } from '../helpers/kvm.js';

const O_CLOEXEC = 0o2000000;
const fdFlags = (fd: number): number => parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);

t.test('KVM_CREATE_GUEST_MEMFD fds carry FD_CLOEXEC', { skip: kvmUnavailable() ?? false }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  using gmem = vm.createGuestMemfd(4096, 0);
  t.ok(fdFlags(gmem.fd) & O_CLOEXEC, 'guest_memfd');
  t.ok(fdFlags(vm.fd) & O_CLOEXEC, 'VM fd (KVM sets it)');
  t.ok(fdFlags(kvm.fd) & O_CLOEXEC, '/dev/kvm (opened O_CLOEXEC)');
});
