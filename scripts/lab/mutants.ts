// The kernel lab's mutants: each one plausible regression of the guest_memfd ABI,
// written as exact text replacements against the pristine Debian source of the
// kernel under test. An anchor that is missing (or found more than once) fails the
// lab loudly, so a new kernel version is noticed instead of being silently left
// unmutated.
//
// Each mutant names the behaviour it breaks, the upstream assertion that protects it,
// and the gmemtest case ids (globs, `*` matching dots too) that own that behaviour:
// gmemtest detects the mutant when every glob matches at least one `not ok` case of a
// complete run. `upstream` says which C selftest of the same tree is expected to fail
// on it, and why when none is.
//
// One mutant per protected behaviour: variations of one line (the other half of an
// alignment test, another width of the same flags test) were left out, as each mutant
// costs a boot.
//
// Mutants are built on top of the `sw-protected` configuration
// (CONFIG_KVM_SW_PROTECTED_VM=y), so both default_vm and sw_protected_vm meet them.

export interface Edit {
  /** Path in the kernel tree. */
  file: string;
  /** Exact text, found exactly once in the pristine file. */
  anchor: string;
  replacement: string;
}

export interface Mutant extends Edit {
  /** [a-z0-9-]: a variant name and a cache key part. */
  name: string;
  /** The behaviour of the ABI the mutant breaks, in one line. */
  breaks: string;
  /** Which assertion protects it (upstream function, or the gmemtest case). */
  protects: string;
  /** gmemtest case-id globs that must be `not ok`. */
  expect: string[];
  /**
   * The upstream C test expected to fail on this mutant ('none': neither does,
   * and `upstreamWhy` says why).
   */
  upstream: 'guest_memfd_test' | 'set_memory_region_test' | 'none';
  upstreamWhy?: string;
  /**
   * 'binding': the mutant changes how memslots bind a guest_memfd, so the lab also runs
   * set_memory_region_test (its guest_memfd part checks binding only, and a run costs
   * as much as gmemtest's under TCG).
   */
  area: 'guest_memfd' | 'binding';
  /** Further edits of the same regression (one logical change in two places). */
  also?: Edit[];
}

const GMEM = 'virt/kvm/guest_memfd.c';
const MAIN = 'virt/kvm/kvm_main.c';

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'fault-private-memory',
    file: GMEM,
    breaks: 'user faults on private memory (MMAP without INIT_SHARED) are served instead of SIGBUS: the seed review\'s check in kvm_gmem_fault_user_mapping() reverted',
    protects: 'test_fault_private (TEST_EXPECT_SIGBUS on a MMAP-only guest_memfd)',
    anchor: '\tif (!(GMEM_I(inode)->flags & GUEST_MEMFD_FLAG_INIT_SHARED))\n\t\treturn VM_FAULT_SIGBUS;\n\n',
    replacement: '',
    expect: ['*.flags-mmap.fault_private'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'fault-index0-only',
    file: GMEM,
    breaks: 'shared memory faultable only at index 0: the EOF check of the user fault counts the file in PMD-sized units, so every fault past index 0 of a small file is SIGBUS',
    protects: 'test_mmap_supported (memset of the whole mapping, then reads)',
    anchor: '\tif (((loff_t)vmf->pgoff << PAGE_SHIFT) >= i_size_read(inode))\n\t\treturn VM_FAULT_SIGBUS;\n',
    replacement: '\tif (vmf->pgoff > (i_size_read(inode) >> PMD_SHIFT))\n\t\treturn VM_FAULT_SIGBUS;\n',
    expect: ['*.flags-mmap-init_shared.mmap_supported', '*.flags-mmap-init_shared.fault_overflow'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
    upstreamWhy: 'the C dies of the unexpected SIGBUS in test_mmap_supported',
  },
  {
    name: 'bind-range-signed',
    file: GMEM,
    breaks: 'the binding range check of kvm_gmem_bind() done in signed arithmetic: offset ALIGN_DOWN(INT64_MAX, page_size) + size wraps negative and is accepted',
    protects: 'test_invalid_binding (KVM_MEM_GUEST_MEMFD memslot at an out-of-range guest_memfd offset: EINVAL)',
    anchor: '\tif (!PAGE_ALIGNED(offset) || offset + size > i_size_read(inode))\n\t\tgoto err;\n',
    replacement: '\tif (!PAGE_ALIGNED(offset) || (loff_t)offset + (loff_t)size > i_size_read(inode))\n\t\tgoto err;\n',
    expect: ['*.flags-*.invalid_binding'],
    area: 'binding',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'mmap-private-accepted',
    file: GMEM,
    breaks: 'MAP_PRIVATE (copy-on-write) mappings of a guest_memfd accepted: the VM_SHARED|VM_MAYSHARE check of kvm_gmem_mmap() dropped',
    protects: 'test_mmap_cow (MAP_PRIVATE mmap must fail)',
    anchor: '\tif ((vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) !=\n\t    (VM_SHARED | VM_MAYSHARE)) {\n\t\treturn -EINVAL;\n\t}\n\n',
    replacement: '',
    expect: ['*.flags-mmap*.mmap_cow'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'mmap-without-mmap-flag',
    file: GMEM,
    breaks: 'a guest_memfd created without GUEST_MEMFD_FLAG_MMAP can be mmap()ed: the kvm_gmem_supports_mmap() check of kvm_gmem_mmap() dropped',
    protects: 'test_mmap_not_supported (mmap must fail without MMAP)',
    anchor: '\tif (!kvm_gmem_supports_mmap(file_inode(file)))\n\t\treturn -ENODEV;\n\n',
    replacement: '',
    expect: ['*.flags-none.mmap_not_supported'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'flags-not-per-vm',
    file: GMEM,
    breaks: 'KVM_CREATE_GUEST_MEMFD checks the flags every VM could have, not this VM\'s: kvm_gmem_get_supported_flags(NULL), so a sw_protected VM accepts INIT_SHARED that its KVM_CAP_GUEST_MEMFD_FLAGS does not offer',
    protects: 'test_guest_memfd_flags on a VM type whose KVM_CAP_GUEST_MEMFD_FLAGS lacks INIT_SHARED',
    anchor: '\tif (flags & ~kvm_gmem_get_supported_flags(kvm))\n\t\treturn -EINVAL;\n',
    replacement: '\tif (flags & ~kvm_gmem_get_supported_flags(NULL))\n\t\treturn -EINVAL;\n',
    expect: ['sw_protected_vm.guest_memfd_flags'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'size-unaligned-accepted',
    file: GMEM,
    breaks: 'guest_memfd sizes that are not a multiple of the page size accepted: only size <= 0 refused',
    protects: 'test_create_guest_memfd_invalid_sizes (sizes 1..page_size-1: EINVAL)',
    anchor: '\tif (size <= 0 || !PAGE_ALIGNED(size))\n\t\treturn -EINVAL;\n',
    replacement: '\tif (size <= 0)\n\t\treturn -EINVAL;\n',
    expect: ['*.create_guest_memfd_invalid_sizes'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'inode-number-per-vm',
    file: GMEM,
    breaks: 'every guest_memfd of a VM gets the same inode number (taken from the VM instead of get_next_ino())',
    protects: 'test_create_guest_memfd_multiple (two guest_memfds have different st_ino)',
    anchor: '\tinode->i_size = size;\n',
    replacement: '\tinode->i_size = size;\n\tinode->i_ino = kvm->userspace_pid;\n',
    expect: ['*.create_guest_memfd_multiple'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'blksize-huge',
    file: GMEM,
    breaks: 'st_blksize of a guest_memfd is the PMD size, not the page size (i_blkbits set for huge folios that are not there)',
    protects: 'test_file_size (st_blksize == page_size)',
    anchor: '\tinode->i_mode |= S_IFREG;\n',
    replacement: '\tinode->i_mode |= S_IFREG;\n\tinode->i_blkbits = PMD_SHIFT;\n',
    expect: ['*.file_size'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'read-returns-eof',
    file: GMEM,
    breaks: 'read() on a guest_memfd succeeds (returns 0, EOF) instead of failing: a stub .read handler added to kvm_gmem_fops',
    protects: 'test_file_read_write (read/write/pread/pwrite must fail)',
    anchor: 'static struct file_operations kvm_gmem_fops = {\n\t.mmap\t\t= kvm_gmem_mmap,\n',
    replacement: 'static ssize_t kvm_gmem_read(struct file *file, char __user *buf,\n\t\t\t     size_t len, loff_t *ppos)\n{\n\treturn 0;\n}\n\n' +
      'static struct file_operations kvm_gmem_fops = {\n\t.mmap\t\t= kvm_gmem_mmap,\n\t.read\t\t= kvm_gmem_read,\n',
    expect: ['*.file_read_write'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'allocate-past-eof',
    file: GMEM,
    breaks: 'fallocate() allocates past the end of the file: kvm_gmem_allocate() compares only the length with i_size, not offset + length',
    protects: 'test_fallocate (allocation at and after total_size must fail)',
    anchor: '\tif (offset + len > i_size_read(inode))\n\t\treturn -EINVAL;\n',
    replacement: '\tif (len > i_size_read(inode))\n\t\treturn -EINVAL;\n',
    expect: ['*.fallocate'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'fallocate-offset-unaligned',
    file: GMEM,
    breaks: 'fallocate() with an offset that is not page aligned accepted (only the length is checked)',
    protects: 'test_fallocate (unaligned offset fails), test_invalid_punch_hole (offset 1: EINVAL)',
    anchor: '\tif (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len))\n\t\treturn -EINVAL;\n',
    replacement: '\tif (!PAGE_ALIGNED(len))\n\t\treturn -EINVAL;\n',
    expect: ['*.fallocate', '*.invalid_punch_hole'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'punch-hole-beyond-eof-refused',
    file: GMEM,
    breaks: 'FALLOC_FL_PUNCH_HOLE at or after the end of the file fails with EINVAL: the i_size range check hoisted from kvm_gmem_allocate() into kvm_gmem_fallocate(), for both modes',
    protects: 'test_fallocate (PUNCH_HOLE at and after total_size succeeds)',
    anchor: '\tif (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len))\n\t\treturn -EINVAL;\n',
    replacement: '\tif (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len))\n\t\treturn -EINVAL;\n\n\tif (offset + len > i_size_read(file_inode(file)))\n\t\treturn -EINVAL;\n',
    expect: ['*.fallocate'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'punch-hole-keeps-data',
    file: GMEM,
    breaks: 'PUNCH_HOLE returns 0 but frees nothing: the page cache range is never truncated, so a punched page keeps its data',
    protects: 'test_mmap_supported (the punched first page reads back as zeroes)',
    anchor: '\ttruncate_inode_pages_range(inode->i_mapping, offset, offset + len - 1);\n',
    replacement: '',
    expect: ['*.flags-mmap-init_shared.mmap_supported'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'numa-policy-ignored',
    file: GMEM,
    breaks: 'folios are allocated without the guest_memfd\'s shared NUMA policy (the lookup on the allocation path dropped): mbind() placement is not honoured',
    protects: 'test_numa_allocation (move_pages reports the nodes mbind asked for)',
    anchor: '\tpolicy = mpol_shared_policy_lookup(&GMEM_I(inode)->policy, index);\n',
    replacement: '\tpolicy = NULL;\n',
    expect: ['*.flags-mmap-init_shared.numa_allocation'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'mempolicy-falls-back-to-task',
    file: GMEM,
    breaks: 'where no policy was set, the .get_policy of a guest_memfd mapping returns the task\'s policy instead of NULL, so get_mempolicy() after MPOL_DEFAULT does not report MPOL_DEFAULT',
    protects: 'test_mbind (MPOL_DEFAULT reads back as MPOL_DEFAULT with an empty nodemask)',
    anchor: '\treturn mpol_shared_policy_lookup(&GMEM_I(inode)->policy, pgoff);\n}\n#endif /* CONFIG_NUMA */\n',
    replacement: '\treturn mpol_shared_policy_lookup(&GMEM_I(inode)->policy, pgoff) ?:\n\t       get_task_policy(current);\n}\n#endif /* CONFIG_NUMA */\n',
    expect: ['*.flags-mmap*.mbind'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'collapse-allowed',
    file: GMEM,
    breaks: 'guest_memfd folios can be collapsed into a huge mapping: the inode is no longer anonymous and its mapping takes large folios, so khugepaged treats it as a regular file',
    protects: 'test_collapse (MADV_COLLAPSE fails with EINVAL)',
    anchor: '\tinode->i_mode |= S_IFREG;\n',
    replacement: '\tinode->i_mode |= S_IFREG;\n\tinode->i_flags &= ~S_ANON_INODE;\n\tmapping_set_large_folios(inode->i_mapping);\n',
    expect: ['*.flags-mmap-init_shared.collapse'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'fault-at-eof',
    file: GMEM,
    breaks: 'a user fault exactly at the end of the file is served (off by one: > instead of >= in the EOF check)',
    protects: 'test_fault_overflow (a read at accessible_size == total_size is SIGBUS)',
    anchor: '\tif (((loff_t)vmf->pgoff << PAGE_SHIFT) >= i_size_read(inode))\n\t\treturn VM_FAULT_SIGBUS;\n',
    replacement: '\tif (((loff_t)vmf->pgoff << PAGE_SHIFT) > i_size_read(inode))\n\t\treturn VM_FAULT_SIGBUS;\n',
    expect: ['*.flags-mmap-init_shared.fault_overflow'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'user-fault-not-uptodate',
    file: GMEM,
    breaks: 'the user fault zeroes a new folio but does not mark it up to date, so the guest\'s first access zeroes it again: the guest does not see what host userspace wrote',
    protects: 'test_guest_memfd_guest (the guest reads the host\'s 0xaa)',
    anchor: '\tif (!folio_test_uptodate(folio)) {\n\t\tclear_highpage(folio_page(folio, 0));\n\t\tfolio_mark_uptodate(folio);\n\t}\n\n\tvmf->page = folio_file_page(folio, vmf->pgoff);\n',
    replacement: '\tif (!folio_test_uptodate(folio))\n\t\tclear_highpage(folio_page(folio, 0));\n\n\tvmf->page = folio_file_page(folio, vmf->pgoff);\n',
    expect: ['guest_memfd_guest'],
    area: 'guest_memfd',
    upstream: 'guest_memfd_test',
  },
  {
    name: 'gmem-only-slot-not-marked',
    file: GMEM,
    breaks: 'a memslot bound to an MMAP guest_memfd is not marked KVM_MEMSLOT_GMEM_ONLY, so guest accesses go to its (absent) userspace_addr instead of the guest_memfd',
    protects: 'test_guest_memfd_guest (a guest_memfd-only memslot at GPA 4 GiB is served)',
    anchor: '\tif (kvm_gmem_supports_mmap(inode))\n\t\tslot->flags |= KVM_MEMSLOT_GMEM_ONLY;\n',
    replacement: '',
    expect: ['guest_memfd_guest'],
    area: 'binding',
    upstream: 'guest_memfd_test',
  },
  // --- memslot binding (set_memory_region_test.c's guest_memfd part) --------------------
  {
    name: 'bind-non-gmem-fd-accepted',
    file: GMEM,
    breaks: 'KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD accepts an fd that is not a guest_memfd (KVM fd, VM fd, memfd): the f_op check of kvm_gmem_bind() exits with r still 0',
    protects: 'set_memory_region_test: test_add_private_memory_region (KVM fd, VM fd, memfd: EINVAL)',
    anchor: '\tif (file->f_op != &kvm_gmem_fops)\n\t\tgoto err;\n',
    replacement: '\tif (file->f_op != &kvm_gmem_fops) {\n\t\tr = 0;\n\t\tgoto err;\n\t}\n',
    expect: ['*.memslot_binding.add_private_memory_region'],
    area: 'binding',
    upstream: 'set_memory_region_test',
    upstreamWhy: 'guest_memfd_test binds only its own guest_memfds',
  },
  {
    name: 'bind-other-vm-gmem-accepted',
    file: GMEM,
    breaks: 'a memslot can be bound to another VM\'s guest_memfd: the f->kvm != kvm check of kvm_gmem_bind() dropped',
    protects: 'set_memory_region_test: test_add_private_memory_region (another VM\'s guest_memfd: EINVAL)',
    anchor: '\tf = file->private_data;\n\tif (f->kvm != kvm)\n\t\tgoto err;\n',
    replacement: '\tf = file->private_data;\n',
    expect: ['*.memslot_binding.add_private_memory_region'],
    area: 'binding',
    upstream: 'set_memory_region_test',
    upstreamWhy: 'guest_memfd_test never binds a guest_memfd to another VM',
  },
  {
    name: 'bind-unaligned-offset',
    file: MAIN,
    breaks: 'guest_memfd_offset need not be page aligned: kvm_set_memory_region() no longer tests the alignment and kvm_gmem_bind() checks the range in pages, which drops the offset\'s sub-page part',
    protects: 'set_memory_region_test: test_add_private_memory_region (offsets 1..page_size-1: EINVAL)',
    anchor: '\tif (mem->flags & KVM_MEM_GUEST_MEMFD &&\n\t    (mem->guest_memfd_offset & (PAGE_SIZE - 1) ||\n\t     mem->guest_memfd_offset + mem->memory_size < mem->guest_memfd_offset))\n\t\treturn -EINVAL;\n',
    replacement: '\tif (mem->flags & KVM_MEM_GUEST_MEMFD &&\n\t    mem->guest_memfd_offset + mem->memory_size < mem->guest_memfd_offset)\n\t\treturn -EINVAL;\n',
    also: [{
      file: GMEM,
      anchor: '\tif (!PAGE_ALIGNED(offset) || offset + size > i_size_read(inode))\n\t\tgoto err;\n',
      replacement: '\tif ((offset >> PAGE_SHIFT) + slot->npages > (i_size_read(inode) >> PAGE_SHIFT))\n\t\tgoto err;\n',
    }],
    expect: ['*.memslot_binding.add_private_memory_region'],
    area: 'binding',
    upstream: 'set_memory_region_test',
    upstreamWhy: 'guest_memfd_test binds only at offset 0 and ALIGN_DOWN(INT64_MAX, page_size)',
  },
  {
    name: 'bind-overlap-allowed',
    file: GMEM,
    breaks: 'two memslots may bind overlapping ranges of one guest_memfd: the EEXIST test of kvm_gmem_bind() inverted (only run when no binding exists)',
    protects: 'set_memory_region_test: test_add_overlapping_private_memory_regions (EEXIST)',
    anchor: '\tif (!xa_empty(&f->bindings) &&\n\t    xa_find(&f->bindings, &start, end - 1, XA_PRESENT)) {\n',
    replacement: '\tif (xa_empty(&f->bindings) &&\n\t    xa_find(&f->bindings, &start, end - 1, XA_PRESENT)) {\n',
    expect: ['*.memslot_binding.add_overlapping_private_memory_regions'],
    area: 'binding',
    upstream: 'set_memory_region_test',
    upstreamWhy: 'guest_memfd_test binds one memslot per guest_memfd',
  },
  {
    name: 'readonly-gmem-accepted',
    file: MAIN,
    breaks: 'KVM_MEM_READONLY | KVM_MEM_GUEST_MEMFD accepted: check_memory_region_flags() offers READONLY whatever the other flags',
    protects: 'set_memory_region_test: test_invalid_memory_region_flags (READONLY with GUEST_MEMFD: EINVAL)',
    anchor: '\tif (kvm_arch_has_readonly_mem(kvm) &&\n\t    !(mem->flags & KVM_MEM_GUEST_MEMFD))\n\t\tvalid_flags |= KVM_MEM_READONLY;\n',
    replacement: '\tif (kvm_arch_has_readonly_mem(kvm))\n\t\tvalid_flags |= KVM_MEM_READONLY;\n',
    expect: ['*.memslot_binding.invalid_memory_region_flags'],
    area: 'binding',
    upstream: 'set_memory_region_test',
    upstreamWhy: 'guest_memfd_test sets no memslot flags but KVM_MEM_GUEST_MEMFD',
  },
  {
    name: 'dirty-log-gmem-accepted',
    file: MAIN,
    breaks: 'KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_GUEST_MEMFD accepted: check_memory_region_flags() no longer takes dirty logging away from guest_memfd memslots',
    protects: 'set_memory_region_test: test_invalid_memory_region_flags (LOG_DIRTY_PAGES with GUEST_MEMFD: EINVAL)',
    anchor: '\tif (mem->flags & KVM_MEM_GUEST_MEMFD)\n\t\tvalid_flags &= ~KVM_MEM_LOG_DIRTY_PAGES;\n',
    replacement: '',
    expect: ['*.memslot_binding.invalid_memory_region_flags'],
    area: 'binding',
    upstream: 'set_memory_region_test',
    upstreamWhy: 'guest_memfd_test sets no memslot flags but KVM_MEM_GUEST_MEMFD',
  },
];

export class AnchorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnchorError';
  }
}

function count(hay: string, needle: string): number {
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) n++;
  return n;
}

/** Every edit of a mutant, the main one first. */
export function editsOf(m: Mutant): Edit[] {
  return [{ file: m.file, anchor: m.anchor, replacement: m.replacement }, ...(m.also ?? [])];
}

/**
 * The mutated contents of each file a mutant touches, from the pristine contents
 * `read(file)` gives. Throws AnchorError when an anchor is not found exactly once,
 * or when a replacement leaves the text as it was.
 */
export function mutate(m: Mutant, read: (file: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of editsOf(m)) {
    const text = out.get(e.file) ?? read(e.file);
    const n = count(text, e.anchor);
    if (n !== 1) {
      const first = e.anchor.split('\n').find((l) => l.trim() !== '')?.trim() ?? e.anchor;
      throw new AnchorError(`mutant ${m.name}: anchor ${n === 0 ? 'not found' : `found ${n} times`} in ${e.file}: '${first}'`);
    }
    const next = text.replace(e.anchor, () => e.replacement);
    if (next === text) throw new AnchorError(`mutant ${m.name}: the replacement in ${e.file} changes nothing`);
    out.set(e.file, next);
  }
  return out;
}

/** Checks the catalogue itself: unique names of [a-z0-9-], at least one expectation each. */
export function checkCatalogue(ms: readonly Mutant[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const m of ms) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(m.name)) problems.push(`bad mutant name '${m.name}'`);
    if (seen.has(m.name)) problems.push(`mutant name '${m.name}' twice`);
    seen.add(m.name);
    if (m.expect.length === 0) problems.push(`mutant ${m.name}: no expected case`);
    if (m.upstream === 'none' && !m.upstreamWhy) problems.push(`mutant ${m.name}: upstream 'none' needs upstreamWhy`);
    if (['stock', 'stock-rebuilt', 'sw-protected'].includes(m.name)) problems.push(`mutant name '${m.name}' is a base variant's`);
  }
  return problems;
}
