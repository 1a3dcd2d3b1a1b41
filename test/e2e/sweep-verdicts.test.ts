// The batched verdicts of the two cases whose page_size - 1 ioctls go through the ioctl
// sweep (create_guest_memfd_invalid_sizes, add_private_memory_region). The mutation test
// cannot reach them: its seam sees single libc calls, and with it installed the cases call
// one by one. Here the sweep's results are made up (everything else is the real /dev/kvm):
// each unexpected result fails the case naming the value, the expectation and what came; a
// short run is gmemtest's own error; fds the kernel should not have made are closed.
import { fstatSync, openSync } from 'node:fs';
import t from 'tap';
import { add_private_memory_region } from '../../src/cases/add_private_memory_region.js';
import { create_guest_memfd_invalid_sizes } from '../../src/cases/create_guest_memfd_invalid_sizes.js';
import { replaceBatchedIoctls, type BatchedIoctls } from '../../src/cases/sweeper.js';
import { ARCH } from '../../src/kvm/arch/index.js';
import { EEXIST, EINVAL, ENOMEM } from '../../src/kvm/errno.js';
import { hostInfo } from '../../src/kvm/host.js';
import { Kvm } from '../../src/kvm/kvm.js';
import { CheckFailure } from '../../src/runner/outcome.js';
import { kvmUnavailable } from '../helpers/kvm.js';

const skip = kvmUnavailable() ?? false;
const env = hostInfo();
const last = env.pageSize - 1;

/** A stand-in whose every batched call answers `results` (the same for both requests). */
function answering(results: number[]): BatchedIoctls & { calls: number } {
  const b = {
    calls: 0,
    createGuestMemfdSizes: () => { b.calls++; return { issued: results.length, results }; },
    setMemoryRegion2Offsets: () => { b.calls++; return { issued: results.length, results }; },
  };
  return b;
}

const einvals = (n: number): number[] => new Array<number>(n).fill(-EINVAL);

/** A failure's diagnostics after its `check:` line (which repeats the message). */
const said = (e: unknown): string[] => (e as CheckFailure).diagnostics.filter((l) => !l.startsWith('check: '));

function failure(fn: () => void): CheckFailure | Error | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e as Error;
  }
}

t.afterEach(() => { replaceBatchedIoctls(null); });

t.test('add_private_memory_region: the unaligned offsets\' verdicts', { skip }, async (t) => {
  using kvm = Kvm.open();
  const run = (results: number[]) => {
    const b = answering(results);
    replaceBatchedIoctls(b);
    const e = failure(() => add_private_memory_region(kvm, ARCH.defaultVmType, env));
    t.equal(b.calls, 1, 'the offsets went through the sweep, once');
    return e;
  };
  const pass = run(einvals(last));
  // (the rest of the case is the real kernel's: this host's passes it)
  t.equal(pass, null, 'every offset EINVAL: the case passes');

  const made = run([...einvals(5), 0]);
  t.type(made, CheckFailure);
  t.equal(made?.message, 'a KVM_MEM_GUEST_MEMFD memslot at unaligned guest_memfd offset 6 fails with EINVAL');
  t.same(said(made), ['expected: -1 (EINVAL)', 'got: 0'], 'a memslot made at offset 6');

  const other = run([-EINVAL, -EEXIST]);
  t.equal(other?.message, 'a KVM_MEM_GUEST_MEMFD memslot at unaligned guest_memfd offset 2 fails with EINVAL');
  t.same(said(other), ['expected: -1 (EINVAL)', 'got: -1 (EEXIST)']);

  const short = run(einvals(100));
  t.notOk(short instanceof CheckFailure, 'a short run is gmemtest\'s error, not the kernel\'s failure');
  t.match(short?.message, `100 of ${last} offsets were tried`);
});

t.test('create_guest_memfd_invalid_sizes: the sizes\' verdicts', { skip }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(ARCH.defaultVmType);
  const run = (results: number[]) => {
    replaceBatchedIoctls(answering(results));
    return failure(() => create_guest_memfd_invalid_sizes(vm, 0, env));
  };
  t.equal(run(einvals(last)), null, 'every size EINVAL: the case passes');

  // An fd the kernel "made" for size 3 (a real fd, to see that the case closes it).
  const fd = openSync('/dev/null', 'r');
  const made = run([-EINVAL, -EINVAL, fd]);
  t.type(made, CheckFailure);
  t.equal(made?.message, 'guest_memfd of unaligned size 0x3 is refused with EINVAL');
  t.same(said(made), ['flags: 0x0', 'expected: -1 (EINVAL)', 'got: a guest_memfd fd']);
  t.throws(() => fstatSync(fd), { code: 'EBADF' }, 'and that fd is closed');

  const nomem = run([-ENOMEM]);
  t.same(said(nomem), ['flags: 0x0', 'expected: -1 (EINVAL)', 'got: -1 (ENOMEM)']);

  const short = run(einvals(7));
  t.notOk(short instanceof CheckFailure, 'a short run is gmemtest\'s error');
  t.match(short?.message, `7 of ${last} sizes were tried`);
});
