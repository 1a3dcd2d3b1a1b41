// What a kernel's answer does to the plan and the verdicts, on the real /dev/kvm with the
// answer changed at the libc seam: a capability bit gmemtest does not know, and a request
// upstream asserts on that the kernel refuses.
import t from 'tap';
import { buildPlan } from '../../src/cases/matrix.js';
import { probeCaps } from '../../src/kvm/caps.js';
import { EINVAL, ENOMEM } from '../../src/kvm/errno.js';
import { Kvm } from '../../src/kvm/kvm.js';
import { setInterceptor, type Interceptor } from '../../src/kvm/libc.js';
import { OFFSETOF } from '../../src/kvm/structs.js';
import { KVM_CAP_GUEST_MEMFD_FLAGS, KVM_CHECK_EXTENSION, KVM_CREATE_GUEST_MEMFD, KVM_CREATE_VM } from '../../src/kvm/uapi/kvm.js';
import type { Outcome } from '../../src/runner/outcome.js';
import { allIds, filterPlan, type PlanNode } from '../../src/runner/plan.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { runPlan } from '../../src/runner/run.js';
import { kvmUnavailable } from '../helpers/kvm.js';
import { fn, ioctl, rewriteU64, rule, structU64, type Match } from '../mutation/rules.js';

/** KVM_CREATE_GUEST_MEMFD with a (size, flags) the predicate accepts. */
const creating = (pred: (size: bigint, flags: bigint) => boolean): Match => (c) =>
  c.fn === 'ioctl' && c.args[1] === KVM_CREATE_GUEST_MEMFD &&
  pred(structU64(c, 2, OFFSETOF.kvm_create_guest_memfd.size), structU64(c, 2, OFFSETOF.kvm_create_guest_memfd.flags));

const skip = kvmUnavailable();
const BIT2 = 1n << 2n;

function collect(): { reporter: Reporter; results: Map<string, Outcome> } {
  const results = new Map<string, Outcome>();
  return { results, reporter: { begin() {}, enterGroup() {}, end() {}, result: (n: PlanNode, _d: number, _i: number, o: Outcome) => { results.set(n.id, o); } } };
}

t.test('a KVM_CAP_GUEST_MEMFD_FLAGS bit gmemtest does not know: created by guest_memfd_flags, its flag sets SKIP', { skip: skip ?? false }, async (t) => {
  using kvm = Kvm.open();
  // The kernel says it supports bit 2, and accepts it (the bit is taken off before the real call).
  const addBit: Interceptor = (c, real) => {
    if (c.fn === 'ioctl' && c.args[1] === KVM_CHECK_EXTENSION && c.args[2] === KVM_CAP_GUEST_MEMFD_FLAGS) {
      const r = real();
      return r.ret >= 0 ? { ret: r.ret | Number(BIT2), errno: 0 } : r;
    }
    if (c.fn === 'ioctl' && c.args[1] === KVM_CREATE_GUEST_MEMFD) {
      const flags = structU64(c, 2, OFFSETOF.kvm_create_guest_memfd.flags);
      if (flags & BIT2) return rewriteU64(2, OFFSETOF.kvm_create_guest_memfd.flags, flags & ~BIT2)(c, real);
    }
    return real();
  };
  setInterceptor(addBit);
  try {
    const caps = probeCaps(kvm);
    const vm = caps.vmTypes.find((v) => v.type === 0)!;
    t.equal((vm.guestMemfdFlags ?? 0) & 4, 4, 'the probe sees bit 2');
    const plan = buildPlan(kvm, caps, { mode: 'all', vmTypes: [0] });
    const sets = plan[0]!.children!.filter((n) => n.name.startsWith('flags-'));
    const withBit = sets.filter((n) => n.name.includes('bit2'));
    t.ok(withBit.length >= 1, 'flag sets holding bit 2 are listed');
    for (const n of withBit) t.equal(n.skip, 'flag bit 2 unknown to gmemtest', `${n.name} is SKIP with a stable reason`);
    t.ok(sets.some((n) => n.name === 'flags-mmap' && n.skip === undefined), 'the known sets still run');
    const { reporter, results } = collect();
    await runPlan(filterPlan(plan, ['default_vm.guest_memfd_flags', 'default_vm.flags-*bit2*']), reporter);
    t.equal(results.get('default_vm.guest_memfd_flags')?.status, 'pass', 'guest_memfd_flags creates a guest_memfd with bit 2 and expects success');
    for (const n of withBit) t.equal(results.get(n.id)?.status, 'skip');
  } finally {
    setInterceptor(null);
  }
});

t.test('a request upstream asserts on, refused by the kernel, is the case\'s failed check, not an ERROR', { skip: skip ?? false }, async (t) => {
  using kvm = Kvm.open();
  const caps = probeCaps(kvm);
  const plan = buildPlan(kvm, caps, { mode: 'all', vmTypes: [0] });
  // vm_create_guest_memfd() of __gmem_test() refused (ENOMEM) for the one-page-by-4 files.
  const refuse = rule(ioctl(KVM_CREATE_GUEST_MEMFD, (a) => structU64({ fn: 'ioctl', args: [0, 0, a] }, 2, 0) === 16384n), () => ({ ret: -1, errno: ENOMEM }));
  let { reporter, results } = collect();
  setInterceptor(refuse());
  try {
    await runPlan(filterPlan(plan, ['default_vm.flags-none.file_size']), reporter);
  } finally {
    setInterceptor(null);
  }
  const o = results.get('default_vm.flags-none.file_size')!;
  t.equal(o.raw, 'fail', 'fail, not error');
  t.match(o.diagnostics, ['check: KVM_CREATE_GUEST_MEMFD(size 16384, flags 0x0) succeeds', 'expected: success', 'got: -1 (ENOMEM)']);

  // The VM itself refused: every case of the VM type fails its check.
  ({ reporter, results } = collect());
  const plan2 = buildPlan(kvm, caps, { mode: 'all', vmTypes: [0] });
  setInterceptor(rule(fn('ioctl', (a) => a[1] === KVM_CREATE_VM), () => ({ ret: -1, errno: EINVAL }))());
  try {
    await runPlan(filterPlan(plan2, ['default_vm.flags-none.*']), reporter);
  } finally {
    setInterceptor(null);
  }
  const ids = allIds(filterPlan(plan2, ['default_vm.flags-none.*']), true);
  t.ok(ids.length > 5);
  for (const id of ids) {
    t.equal(results.get(id)?.raw, 'fail', `${id}: fail`);
    t.match(results.get(id)?.diagnostics ?? [], ['check: KVM_CREATE_VM(type 0) succeeds', 'expected: success', 'got: -1 (EINVAL)']);
  }
});

t.test('a kernel whose shared memory SIGBUSes: the accesses fail their cases, named by the signal, and every case reports', { skip: skip ?? false }, async (t) => {
  using kvm = Kvm.open();
  const caps = probeCaps(kvm);
  const vm0 = caps.vmTypes.find((v) => v.type === 0);
  if (((vm0?.guestMemfdFlags ?? 0) & 3) !== 3) {
    t.pass('skipped: this host has no MMAP|INIT_SHARED flag set');
    return;
  }
  // Every guest_memfd of the MMAP|INIT_SHARED set is made private: its memory is mappable
  // but every user access to it SIGBUSes, as on a kernel that refuses faults on shared memory.
  const INIT_SHARED = 2n;
  const plan = filterPlan(buildPlan(kvm, caps, { mode: 'all', vmTypes: [0] }), ['default_vm.flags-mmap-init_shared', 'default_vm.flags-none']);
  setInterceptor(rule(creating((_s, f) => (f & INIT_SHARED) !== 0n), (c, real) =>
    rewriteU64(2, OFFSETOF.kvm_create_guest_memfd.flags, structU64(c, 2, OFFSETOF.kvm_create_guest_memfd.flags) & ~INIT_SHARED)(c, real))());
  const { reporter, results } = collect();
  try {
    await runPlan(plan, reporter, { checkLeaks: true });
  } finally {
    setInterceptor(null);
  }
  const ms = results.get('default_vm.flags-mmap-init_shared.mmap_supported')!;
  t.equal(ms.raw, 'fail', 'mmap_supported fails (it does not crash the runner)');
  t.match(ms.diagnostics, ['check: memset of the whole mapping', 'expected: the access completes', /^got: SIGBUS at offset 0x0 of the mapping/]);
  const co = results.get('default_vm.flags-mmap-init_shared.collapse')!;
  if (co.raw !== 'skip') t.match(co.diagnostics, ['check: reading one byte of every page', 'expected: the access completes', /^got: SIGBUS at offset 0x0/]);
  const fo = results.get('default_vm.flags-mmap-init_shared.fault_overflow')!;
  t.equal(fo.raw, 'fail', 'fault_overflow: the memset faults too early, at offset 0');
  for (const id of allIds(plan, true)) t.ok(results.has(id), `${id} reported`);
  t.equal(results.get('default_vm.flags-none.invalid_punch_hole')?.raw, 'pass', 'the flag sets after it still run');
});
