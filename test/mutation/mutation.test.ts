// Every check can fail: each perturbation of the catalogue makes its case report not ok
// with a check: diagnostic, on the real /dev/kvm (npm run mutation prints the table).
import t from 'tap';
import { CATALOGUE } from './catalogue.js';
import { Harness } from './harness.js';
import { kvmUnavailable } from '../helpers/kvm.js';

const skip = kvmUnavailable();

t.test('mutation: every case killed, every baseline passing', { skip: skip ?? false }, async (t) => {
  using h = new Harness();
  const ids = new Map<string, boolean>();
  for (const pt of CATALOGUE) ids.set(pt.id, (ids.get(pt.id) ?? false) || (pt.numa ?? false));
  const known = new Map<string, string>();
  for (const [id, numa] of ids) {
    const why = await h.knownFailure(id);
    if (why !== null) {
      known.set(id, why);
      t.comment(`${id}: this host's kernel fails it (known failure: ${why}); its perturbations are skipped here`);
      continue;
    }
    const o = await h.baseline(id, numa);
    t.equal(o.raw, 'pass', `baseline ${id}${numa ? ' (two-node model)' : ''} passes`, { diagnostics: o.diagnostics });
  }
  for (const pt of CATALOGUE) {
    const why = known.get(pt.id);
    if (why !== undefined) {
      t.pass(`${pt.case}: ${pt.what}: not run, the kernel here fails the case itself (${why})`, { skip: why });
      continue;
    }
    const row = await h.row(pt);
    t.ok(row.killed, `${pt.case}: ${pt.what} -> killed by "${row.by}"`);
  }
  const cases = new Set(CATALOGUE.map((p) => p.case));
  for (const c of ['guest_memfd_flags', 'create_guest_memfd_multiple', 'create_guest_memfd_invalid_sizes',
    'file_read_write', 'file_size', 'fallocate', 'invalid_punch_hole', 'mmap_not_supported', 'mmap_cow',
    'mmap_supported', 'fault_overflow', 'fault_private', 'collapse', 'mbind', 'numa_allocation', 'guest_memfd_guest',
    'invalid_binding', 'invalid_memory_region_flags', 'add_private_memory_region', 'add_overlapping_private_memory_regions']) {
    t.ok(cases.has(c), `${c} has perturbations`);
  }
});

t.test('the harness can tell a survivor: a perturbation that changes nothing is not a kill', { skip: skip ?? false }, async (t) => {
  using h = new Harness();
  const row = await h.row({
    case: 'file_size', id: 'default_vm.flags-none.file_size', what: 'passes every call through (changes nothing)',
    make: () => (_c, real) => real(),
  });
  t.equal(row.killed, false);
  t.equal(row.by, 'pass');
});
