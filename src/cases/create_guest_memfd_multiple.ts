/**
 * Port of test_create_guest_memfd_multiple() of guest_memfd_test.c: two guest_memfds
 * of one VM are distinct files (different inodes), each of the size it was created with.
 */
import type { Vm } from '../kvm/vm.js';
import { expect, expectEq, expectResult } from './check.js';
import type { CaseEnv } from './env.js';

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
