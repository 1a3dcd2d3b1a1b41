/**
 * Ports of the VM-level cases of guest_memfd_test.c: test_guest_memfd_flags,
 * test_create_guest_memfd_multiple, test_create_guest_memfd_invalid_sizes.
 */
import { EINVAL } from '../kvm/errno.js';
import { KVM_CAP_GUEST_MEMFD_FLAGS } from '../kvm/uapi.js';
import type { Vm } from '../kvm/vm.js';
import { expect, expectEq, expectResult } from './check.js';
import { CheckFailure } from '../runner/outcome.js';
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
  using fd1 = expectResult(vm.tryCreateGuestMemfd(page, 0), 'first guest_memfd (one page, flags 0) is created');
  const st1 = expectResult(fd1.fstat(), 'fstat of the first guest_memfd succeeds');
  expectEq(st1.size, page, 'first guest_memfd st_size is the size asked for');

  using fd2 = expectResult(vm.tryCreateGuestMemfd(page * 2, 0), 'second guest_memfd (two pages, flags 0) is created');
  const st2 = expectResult(fd2.fstat(), 'fstat of the second guest_memfd succeeds');
  expectEq(st2.size, page * 2, 'second guest_memfd st_size is the size asked for');

  const again = expectResult(fd1.fstat(), 'fstat of the first guest_memfd succeeds again');
  expectEq(again.size, page, 'first guest_memfd st_size is unchanged by the second');
  expect(again.ino !== st2.ino, 'the two guest_memfds have different inode numbers', () => [`both: ${again.ino}`]);
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
