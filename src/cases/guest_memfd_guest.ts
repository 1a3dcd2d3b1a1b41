/**
 * Port of test_guest_memfd_guest() of guest_memfd_test.c: a guest reads, through its own
 * page tables, a guest_memfd page bound at GPA 4 GiB (slot 1, userspace_addr 0), checks
 * it holds the host's 0xaa, overwrites it with 0xff, and the host sees the 0xff.
 *
 * guestMemfdGuestBody() is the C function, step by step; it runs in a child process
 * with a timeout (guest-job.ts), started by guest_memfd_guest(), the case.
 */
import { hex } from '../kvm/hex.js';
import { ARCH } from '../kvm/arch/index.js';
import { describeExit } from '../kvm/exits.js';
import { Kvm } from '../kvm/kvm.js';
import type { Mapping } from '../kvm/mapping.js';
import {
  GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, KVM_CAP_GUEST_MEMFD_FLAGS, KVM_MEM_GUEST_MEMFD,
} from '../kvm/uapi/kvm.js';
import { GUEST } from '../guest/index.js';
import { announcePhase } from '../isolate/serve-job.js';
import { CaseTimeout, CheckFailure } from '../runner/outcome.js';
import { expect, expectOk, skip } from './check.js';
import type { CaseEnv } from './env.js';
import { guest_code } from './guest_code.js';
import { resultOf, runGuestJob, type GuestHooks, type GuestJob, type GuestResult } from './guest-job.js';

/** Above the first 4 GiB and slot 0 (the guest's code, stack and page tables). */
const GPA = 0x1_0000_0000;
const SLOT = 1;
const EXPECTED = 0xaa;
const WRITTEN = 0xff;
/** vm->page_size of this architecture's guest. */
const GUEST_PAGE_SIZE = GUEST.pageSize;
/** How long the vCPU may run before it is kicked out (counted from KVM_RUN). */
export const VCPU_TIMEOUT_MS = 10_000;

/** test_guest_memfd_guest() from the VM on; throws CheckFailure on a failed check. */
export function guestMemfdGuestBody(device: string, pageSize: number, hooks: GuestHooks = {}): void {
  using kvm = Kvm.open(device);
  using vm = kvm.createVm(ARCH.defaultVmType);
  using guest = GUEST.create(vm, hooks.program ? Uint8Array.from(hooks.program) : guest_code());

  const valid = vm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS);
  expect((valid & GUEST_MEMFD_FLAG_MMAP) !== 0, 'the default VM supports guest_memfd MMAP', () =>
    [`KVM_CAP_GUEST_MEMFD_FLAGS (vm): ${hex(valid)}`]);
  expect((valid & GUEST_MEMFD_FLAG_INIT_SHARED) !== 0, 'the default VM supports guest_memfd INIT_SHARED', () =>
    [`KVM_CAP_GUEST_MEMFD_FLAGS (vm): ${hex(valid)}`]);

  // guest_memfd files and memslots are sized in multiples of the host page size.
  const size = Math.max(GUEST_PAGE_SIZE, pageSize);
  using gmem = vm.createGuestMemfd(size, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
  using slotMap: Mapping | null = hooks.slot1Mmap ? gmem.mmap(size) : null;
  expectOk(vm.trySetUserMemoryRegion2({
    slot: SLOT, flags: KVM_MEM_GUEST_MEMFD, guestPhysAddr: GPA, memorySize: size,
    userspaceAddr: slotMap?.addr ?? 0, guestMemfd: gmem.fd, guestMemfdOffset: 0,
  }), `KVM_SET_USER_MEMORY_REGION2 binds the guest_memfd at gpa ${hex(GPA)} (slot ${SLOT}, KVM_MEM_GUEST_MEMFD)`);

  {
    using m = gmem.mmap(size);
    m.mem.fill(EXPECTED);
    if (hooks.corrupt) m.mem[hooks.corrupt.offset] = hooks.corrupt.value;
  }

  guest.identityMap(GPA, size);
  guest.setArgs(GPA, size);
  announcePhase('KVM_RUN');
  const stop = guest.run(VCPU_TIMEOUT_MS);
  announcePhase('after KVM_RUN');
  if (stop.kind === 'timeout') {
    throw new CaseTimeout(`the guest did not exit within ${VCPU_TIMEOUT_MS} ms`, [`KVM_RUN kicked out after ${Math.round(stop.ms)} ms`]);
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

  using m = gmem.mmap(size);
  const mem = m.mem;
  for (let i = 0; i < size; i++) {
    if (mem[i] !== WRITTEN) {
      throw new CheckFailure(`the host reads the guest's ${hex(WRITTEN)} at every offset`, [
        `expected: ${hex(WRITTEN)}`, `got: ${hex(mem[i]!)} at offset ${i}`,
      ]);
    }
  }
}

/** The child's handler: the body's outcome as data. */
export function guestMemfdGuestJob(job: GuestJob): GuestResult {
  return resultOf(() => guestMemfdGuestBody(job.device, job.pageSize, job.hooks));
}

export interface GuestCaseOptions {
  timeoutMs?: number;
  /** Project tests only. */
  hooks?: GuestHooks;
}

/** The case: SKIP without KVM_CAP_GUEST_MEMFD_FLAGS on the system fd, as upstream returns early. */
export async function guest_memfd_guest(kvm: Kvm, env: CaseEnv, opts: GuestCaseOptions = {}): Promise<void> {
  const sysFlags = kvm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS);
  if (sysFlags === 0) skip('KVM_CAP_GUEST_MEMFD_FLAGS is 0: no mmap()able guest_memfd to hand the guest');
  await runGuestJob({ device: kvm.path, pageSize: env.pageSize, ...(opts.hooks ? { hooks: opts.hooks } : {}) }, opts.timeoutMs);
}
