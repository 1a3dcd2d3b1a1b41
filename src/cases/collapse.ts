/**
 * Port of test_collapse of guest_memfd_test.c: a PMD-aligned mapping of a PMD-sized
 * guest_memfd may be advised MADV_HUGEPAGE, but MADV_COLLAPSE must be refused (EINVAL),
 * and a zap followed by a read still works.
 */
import { EINVAL, errnoName } from '../kvm/errno.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { Mapping } from '../kvm/mapping.js';
import {
  MADV_COLLAPSE, MADV_DONTNEED, MADV_HUGEPAGE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE,
} from '../kvm/uapi/linux.js';
import { expect, expectOk, expectResult, skip } from './check.js';
import { CheckFailure } from '../runner/outcome.js';
import type { CaseEnv } from './env.js';
import { kvmMunmap } from './kvm-util.js';
import { hex } from '../kvm/hex.js';


export function collapse(gmem: GuestMemfd, _totalSize: number, env: CaseEnv): void {
  const pmd = env.thpPmdSize;
  if (pmd === 0) skip('no transparent huge pages on this kernel (hpage_pmd_size is 0 or missing)');

  // Reserve twice the PMD size so a PMD-aligned address lies inside it, then place
  // the guest_memfd (offset 0, itself PMD-aligned) there with MAP_FIXED.
  using reserved = Mapping.map(0, pmd * 2, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  const aligned = Math.ceil(reserved.addr / pmd) * pmd;
  using mem = expectResult(Mapping.tryMap(aligned, pmd, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, gmem.fd, 0),
    `mmap(MAP_FIXED | MAP_SHARED) of the guest_memfd at ${hex(aligned)} succeeds`, 'MAP_FAILED'); // disposed before `reserved`
  expect(mem.addr % pmd === 0, 'the userspace address is aligned to the PMD size', () =>
    [`address: ${hex(mem.addr)}`, `pmd size: ${hex(pmd)}`]);

  // Read-fault every page (reads, so no page is dirtied).
  const bytes = mem.mem;
  let sum = 0;
  for (let i = 0; i < pmd; i += env.pageSize) sum += bytes[i]!;

  expectOk(mem.madvise(0, pmd, MADV_HUGEPAGE), 'madvise(MADV_HUGEPAGE) of the guest_memfd mapping succeeds');

  const c = mem.madvise(0, pmd, MADV_COLLAPSE);
  if (c.ret !== -1 || c.errno !== EINVAL) {
    throw new CheckFailure('madvise(MADV_COLLAPSE) of the guest_memfd mapping fails with EINVAL', [
      'expected: -1 (EINVAL): guest_memfd folios must not be collapsed into a huge mapping',
      c.ret === 0 ? 'got: 0: the kernel collapsed the range (guest_memfd memory mapped huge into host page tables)'
        : `got: ${c.ret}${c.ret < 0 ? ` (${errnoName(c.errno)})` : ''}`,
    ]);
  }

  expectOk(mem.madvise(0, pmd, MADV_DONTNEED), 'madvise(MADV_DONTNEED) of the guest_memfd mapping succeeds');
  sum += bytes[0]!; // the read after the zap: it must fault in a page again, not crash
  void sum;

  kvmMunmap(mem);
  kvmMunmap(reserved);
}
