/**
 * Port of test_invalid_binding() of guest_memfd_test.c: a KVM_MEM_GUEST_MEMFD memslot
 * (slot 0, GPA 0, the file's size) whose guest_memfd offset is ALIGN_DOWN(INT64_MAX,
 * page_size) lies past the end of the file, and offset + size past INT64_MAX: EINVAL.
 *
 * A kernel that accepts it has bound slot 0 of the flag set's VM; the slot is deleted
 * again so that the next flag set's cases meet the VM upstream's would.
 */
import { EINVAL } from '../kvm/errno.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import type { Vm } from '../kvm/vm.js';
import { expectErrno } from './check.js';
import type { CaseEnv } from './env.js';
import { gmemSlot } from './memory-region.js';

const INT64_MAX = (1n << 63n) - 1n;

export function invalid_binding(vm: Vm, gmem: GuestMemfd, size: number, env: CaseEnv): void {
  const offset = INT64_MAX & ~BigInt(env.pageSize - 1);
  const r = vm.trySetUserMemoryRegion2(gmemSlot(0, 0, size, gmem.fd, offset));
  if (r.ret === 0) vm.trySetUserMemoryRegion2(gmemSlot(0, 0, 0, -1, 0));
  expectErrno(r, EINVAL,
    `a KVM_MEM_GUEST_MEMFD memslot of ${size} bytes at guest_memfd offset 0x${offset.toString(16)} (past the file, offset + size past INT64_MAX) fails with EINVAL`);
}
