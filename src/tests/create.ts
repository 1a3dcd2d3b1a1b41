/**
 * Ports of the VM-level cases of guest_memfd_test.c: test_guest_memfd_flags,
 * test_create_guest_memfd_multiple, test_create_guest_memfd_invalid_sizes.
 */
import { EINVAL } from '../kvm/errno.js';
import { KVM_CAP_GUEST_MEMFD_FLAGS } from '../kvm/uapi.js';
import type { Vm } from '../kvm/vm.js';
import { CheckFailure, expect, expectEq } from './check.js';
import type { CaseEnv } from './env.js';
import { hex } from '../kvm/hex.js';


/** Every one of the 64 flag bits: accepted iff the VM's KVM_CAP_GUEST_MEMFD_FLAGS has it. */
export function guest_memfd_flags(vm: Vm, env: CaseEnv): void {
  const valid = BigInt(vm.checkExtension(KVM_CAP_GUEST_MEMFD_FLAGS));
  for (let bit = 0n; bit < 64n; bit++) {
    const flag = 1n << bit;
    const r = vm.tryCreateGuestMemfd(env.pageSize, flag);
    if (r.ok) r.value.close();
    if (flag & valid) {
      expect(r.ok, `guest_memfd with supported flag ${hex(flag)} is created`, () => [
        `KVM_CAP_GUEST_MEMFD_FLAGS: ${hex(valid)}`, 'expected: a guest_memfd fd',
        `got: -1 (${r.ok ? '' : r.errnoName})`,
      ]);
    } else if (r.ok || r.errno !== EINVAL) {
      throw new CheckFailure(`guest_memfd with unsupported flag ${hex(flag)} is refused with EINVAL`, [
        `KVM_CAP_GUEST_MEMFD_FLAGS: ${hex(valid)}`, 'expected: -1 (EINVAL)',
        `got: ${r.ok ? 'a guest_memfd fd' : `-1 (${r.errnoName})`}`,
      ]);
    }
  }
}

/** Two guest_memfds of one VM are distinct files, each of its own size. */
export function create_guest_memfd_multiple(vm: Vm, env: CaseEnv): void {
  const page = env.pageSize;
  const r1 = vm.tryCreateGuestMemfd(page, 0);
  expect(r1.ok, 'first guest_memfd (one page, flags 0) is created', () =>
    [`got: -1 (${r1.ok ? '' : r1.errnoName})`]);
  using fd1 = r1.value;
  const st1 = fd1.fstat();
  expect(st1.ok, 'fstat of the first guest_memfd succeeds');
  expectEq(st1.value.size, page, 'first guest_memfd st_size is the size asked for');

  const r2 = vm.tryCreateGuestMemfd(page * 2, 0);
  expect(r2.ok, 'second guest_memfd (two pages, flags 0) is created', () =>
    [`got: -1 (${r2.ok ? '' : r2.errnoName})`]);
  using fd2 = r2.value;
  const st2 = fd2.fstat();
  expect(st2.ok, 'fstat of the second guest_memfd succeeds');
  expectEq(st2.value.size, page * 2, 'second guest_memfd st_size is the size asked for');

  const again = fd1.fstat();
  expect(again.ok, 'fstat of the first guest_memfd succeeds again');
  expectEq(again.value.size, page, 'first guest_memfd st_size is unchanged by the second');
  expect(again.value.ino !== st2.value.ino, 'the two guest_memfds have different inode numbers', () =>
    [`both: ${again.value.ino}`]);
}

/** Every size from 1 to page_size - 1 is refused with EINVAL. */
export function create_guest_memfd_invalid_sizes(vm: Vm, flags: number, env: CaseEnv): void {
  for (let size = 1; size < env.pageSize; size++) {
    const r = vm.tryCreateGuestMemfd(size, flags);
    if (r.ok) r.value.close();
    if (r.ok || r.errno !== EINVAL) {
      throw new CheckFailure(`guest_memfd of unaligned size ${hex(size)} is refused with EINVAL`, [
        `flags: ${hex(flags)}`, 'expected: -1 (EINVAL)',
        `got: ${r.ok ? 'a guest_memfd fd' : `-1 (${r.errnoName})`}`,
      ]);
    }
  }
}
