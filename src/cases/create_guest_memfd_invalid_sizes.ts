/**
 * Port of test_create_guest_memfd_invalid_sizes() of guest_memfd_test.c: every size
 * from 1 to page_size - 1 is refused with EINVAL, with the flag set under test.
 */
import { EINVAL } from '../kvm/errno.js';
import { hex } from '../kvm/hex.js';
import type { Vm } from '../kvm/vm.js';
import { CheckFailure } from '../runner/outcome.js';
import type { CaseEnv } from './env.js';

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
