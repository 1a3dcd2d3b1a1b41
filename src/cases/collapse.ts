/**
 * Port of test_collapse of guest_memfd_test.c: a PMD-aligned mapping of a PMD-sized
 * guest_memfd may be advised MADV_HUGEPAGE, but MADV_COLLAPSE must be refused (EINVAL),
 * and a zap followed by a read still works. The mappings, the advice and the reads are
 * the access helper's: madvise acts on the address space that faulted the pages in.
 */
import { EINVAL, errnoName } from '../kvm/errno.js';
import type { GuestMemfd } from '../kvm/guest-memfd.js';
import { hex } from '../kvm/hex.js';
import {
  MADV_COLLAPSE, MADV_DONTNEED, MADV_HUGEPAGE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_NONE,
  PROT_READ, PROT_WRITE,
} from '../kvm/uapi/linux.js';
import { CheckFailure } from '../runner/outcome.js';
import { expect, expectOk, skip } from './check.js';
import type { CaseEnv } from './env.js';
import { accessed, accessHelperFor, kvmMmapIn, kvmMunmapIn, type HelperMapping } from './kvm-util.js';

export function collapse(gmem: GuestMemfd, _totalSize: number, env: CaseEnv): void {
  const pmd = env.thpPmdSize;
  if (pmd === 0) skip('no transparent huge pages on this kernel (hpage_pmd_size is 0 or missing)');
  using mm = accessHelperFor(gmem);

  // Reserve twice the PMD size so a PMD-aligned address lies inside it, then place
  // the guest_memfd (offset 0, itself PMD-aligned) there with MAP_FIXED.
  const r = mm.mmap(0, pmd * 2, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expectOk(r, `mmap(PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS) of ${hex(pmd * 2)} bytes succeeds`);
  const reserved: HelperMapping = { mm, addr: r.ret, length: pmd * 2 };
  const aligned = Math.ceil(reserved.addr / pmd) * pmd;
  const mem = kvmMmapIn(mm, pmd, { addr: aligned, prot: PROT_READ | PROT_WRITE, flags: MAP_FIXED | MAP_SHARED });
  expect(mem.addr % pmd === 0, 'the userspace address is aligned to the PMD size', () =>
    [`address: ${hex(mem.addr)}`, `pmd size: ${hex(pmd)}`]);

  // Read-fault every page (reads, so no page is dirtied).
  accessed(mem, mm.touch(mem.addr, pmd, env.pageSize), 'reading one byte of every page');

  expectOk(mm.madvise(mem.addr, pmd, MADV_HUGEPAGE), 'madvise(MADV_HUGEPAGE) of the guest_memfd mapping succeeds');

  const c = mm.madvise(mem.addr, pmd, MADV_COLLAPSE);
  if (c.ret !== -1 || c.errno !== EINVAL) {
    throw new CheckFailure('madvise(MADV_COLLAPSE) of the guest_memfd mapping fails with EINVAL', [
      'expected: -1 (EINVAL): guest_memfd folios must not be collapsed into a huge mapping',
      c.ret === 0 ? 'got: 0: the kernel collapsed the range (guest_memfd memory mapped huge into host page tables)'
        : `got: ${c.ret}${c.ret < 0 ? ` (${errnoName(c.errno)})` : ''}`,
    ]);
  }

  expectOk(mm.madvise(mem.addr, pmd, MADV_DONTNEED), 'madvise(MADV_DONTNEED) of the guest_memfd mapping succeeds');
  // The read after the zap: it must fault in a page again.
  accessed(mem, mm.load(mem.addr, 1), 'reading the first byte after MADV_DONTNEED');

  kvmMunmapIn(reserved);
}
