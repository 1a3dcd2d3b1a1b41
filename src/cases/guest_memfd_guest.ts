/**
 * Port of test_guest_memfd_guest() of guest_memfd_test.c: a guest reads, through its own
 * page tables, a guest_memfd page bound at GPA 4 GiB (slot 1, userspace_addr 0), checks
 * it holds the host's 0xaa, overwrites it with 0xff, and the host sees the 0xff.
 *
 * The vCPU runs here, in this process, for at most VCPU_TIMEOUT_MS from KVM_RUN (a guest
 * that never exits is kicked out by a timer and reported `# TIMEOUT`); the host's fill and
 * read-back of the page are the access helper's, as every access to guest_memfd memory.
 */
import { ARCH } from '../kvm/arch/index.js';
import { describeExit } from '../kvm/exits.js';
import { hex } from '../kvm/hex.js';
import type { Kvm } from '../kvm/kvm.js';
import type { Mapping } from '../kvm/mapping.js';
import {
  GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, KVM_CAP_GUEST_MEMFD_FLAGS, KVM_MEM_GUEST_MEMFD,
} from '../kvm/uapi/kvm.js';
import { GUEST } from '../guest/index.js';
import { CaseTimeout, CheckFailure } from '../runner/outcome.js';
import { expect, expectOk, expectResult, skip } from './check.js';
import type { CaseEnv } from './env.js';
import { guest_code } from './guest_code.js';
import { accessed, accessHelperFor, expectBytes, kvmMmapIn, kvmMunmapIn } from './kvm-util.js';

/** Above the first 4 GiB and slot 0 (the guest's code, stack and page tables). */
const GPA = 0x1_0000_0000;
const SLOT = 1;
const EXPECTED = 0xaa;
const WRITTEN = 0xff;
/** How long the vCPU may run before it is kicked out (counted from KVM_RUN). */
export const VCPU_TIMEOUT_MS = 10_000;

/** Changes to upstream's case, for the project's own tests only. */
export interface GuestHooks {
  /** Give slot 1 an mmap of the guest_memfd as userspace_addr (upstream: 0). */
  slot1Mmap?: boolean;
  /** After the host's 0xaa fill, store `value` at `offset`. */
  corrupt?: { offset: number; value: number };
  /** Run these bytes instead of guest_code (e.g. a guest that never exits). */
  program?: Uint8Array;
  timeoutMs?: number;
}

/** The case: SKIP without KVM_CAP_GUEST_MEMFD_FLAGS on the system fd, as upstream returns early. */
export function guest_memfd_guest(kvm: Kvm, env: CaseEnv, hooks: GuestHooks = {}): void {
  if (kvm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS) === 0) {
    skip('KVM_CAP_GUEST_MEMFD_FLAGS is 0: no mmap()able guest_memfd to hand the guest');
  }
  using vm = kvm.createVm(ARCH.defaultVmType);
  using guest = GUEST.create(vm, hooks.program ?? guest_code());

  const valid = vm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS);
  expect((valid & GUEST_MEMFD_FLAG_MMAP) !== 0, 'the default VM supports guest_memfd MMAP', () =>
    [`KVM_CAP_GUEST_MEMFD_FLAGS (vm): ${hex(valid)}`]);
  expect((valid & GUEST_MEMFD_FLAG_INIT_SHARED) !== 0, 'the default VM supports guest_memfd INIT_SHARED', () =>
    [`KVM_CAP_GUEST_MEMFD_FLAGS (vm): ${hex(valid)}`]);

  // guest_memfd files and memslots are sized in multiples of the host page size.
  const size = Math.max(GUEST.pageSize, env.pageSize);
  using gmem = vm.createGuestMemfd(size, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
  using slotMap: Mapping | null = hooks.slot1Mmap
    ? expectResult(gmem.tryMmap(size), 'mmap of the guest_memfd for slot 1 (test hook) succeeds', 'MAP_FAILED') : null;
  expectOk(vm.trySetUserMemoryRegion2({
    slot: SLOT, flags: KVM_MEM_GUEST_MEMFD, guestPhysAddr: GPA, memorySize: size,
    userspaceAddr: slotMap?.addr ?? 0, guestMemfd: gmem.fd, guestMemfdOffset: 0,
  }), `KVM_SET_USER_MEMORY_REGION2 binds the guest_memfd at gpa ${hex(GPA)} (slot ${SLOT}, KVM_MEM_GUEST_MEMFD)`);

  {
    using mm = accessHelperFor(gmem);
    const m = kvmMmapIn(mm, size);
    accessed(m, mm.fill(m.addr, size, EXPECTED), `the host's memset of the page with ${hex(EXPECTED)}`);
    if (hooks.corrupt) accessed(m, mm.fill(m.addr + hooks.corrupt.offset, 1, hooks.corrupt.value), 'the test hook\'s store');
    kvmMunmapIn(m);
  }

  guest.identityMap(GPA, size);
  guest.setArgs(GPA, size);
  const timeoutMs = hooks.timeoutMs ?? VCPU_TIMEOUT_MS;
  const stop = guest.run(timeoutMs);
  if (stop.kind === 'timeout') {
    throw new CaseTimeout(`the guest did not exit within ${timeoutMs} ms`, [`vCPU kicked out of KVM_RUN after ${Math.round(stop.ms)} ms`]);
  }
  if (stop.kind === 'exit') {
    throw new CheckFailure('the guest runs to its DONE ucall', [
      'expected: DONE ucall', `got: ${describeExit(stop.exit)}`,
      `guest memory: slot ${SLOT}, gpa ${hex(GPA)}, size ${hex(size)}, userspace_addr ${hex(slotMap?.addr ?? 0)}`,
    ]);
  }
  if (stop.kind === 'exception') {
    throw new CheckFailure('the guest runs to its DONE ucall', ['expected: DONE ucall', `got: guest ${stop.description}`]);
  }
  const u = stop.ucall;
  if (u.kind === 'ASSERT') {
    throw new CheckFailure(`the guest reads ${hex(EXPECTED)} at every offset`, [
      `guest ASSERT: expected ${hex(EXPECTED)} at offset ${u.arg0}, got ${hex(u.arg1)}`,
    ]);
  }
  if (u.kind !== 'DONE') {
    throw new CheckFailure('the guest runs to its DONE ucall', ['expected: DONE ucall', `got: ucall code ${u.code}`]);
  }

  using mm = accessHelperFor(gmem);
  const m = kvmMmapIn(mm, size);
  const back = accessed(m, mm.load(m.addr, size), 'the host\'s read-back of the page');
  expectBytes(back, 0, WRITTEN, `the host reads the guest's ${hex(WRITTEN)} at every offset`);
  kvmMunmapIn(m);
}
