/**
 * Port of test_guest_memfd_flags() of guest_memfd_test.c: every one of the 64 flag
 * bits is accepted by KVM_CREATE_GUEST_MEMFD exactly when the VM's
 * KVM_CAP_GUEST_MEMFD_FLAGS has it; every other bit is refused with EINVAL.
 */
import { EINVAL } from '../kvm/errno.js';
import { hex } from '../kvm/hex.js';
import { KVM_CAP_GUEST_MEMFD_FLAGS } from '../kvm/uapi/kvm.js';
import type { Vm } from '../kvm/vm.js';
import { CheckFailure } from '../runner/outcome.js';
import { expect } from './check.js';
import type { CaseEnv } from './env.js';

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
