// The runner notices a case that leaves a guest_memfd fd or a mapping of one behind.
import t from 'tap';
import { Kvm } from '../../src/kvm/kvm.js';
import { leaf } from '../../src/runner/plan.js';
import type { Outcome } from '../../src/runner/outcome.js';
import type { PlanNode } from '../../src/runner/plan.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { runPlan } from '../../src/runner/run.js';
import { kvmUnavailable } from '../helpers/kvm.js';

const skip = kvmUnavailable();

function collect(): { reporter: Reporter; results: Map<string, Outcome> } {
  const results = new Map<string, Outcome>();
  return {
    results,
    reporter: { begin() {}, enterGroup() {}, end() {}, result: (n: PlanNode, _d, _i, o) => { results.set(n.id, o); } },
  };
}

t.test('leaked fds and mappings fail the case that leaked them', { skip: skip ?? false }, async (t) => {
  using kvm = Kvm.open();
  using vm = kvm.createVm(0);
  const kept: { close(): unknown }[] = [];
  const plan = [
    leaf('', 'clean', () => { using g = vm.createGuestMemfd(4096, 0); void g; }),
    leaf('', 'leaks_fd', () => { kept.push(vm.createGuestMemfd(4096, 0)); }),
    leaf('', 'leaks_mapping', () => {
      using g = vm.createGuestMemfd(4096, 1);
      const m = g.mmap(4096);
      kept.push({ close: () => m.unmap() });
    }),
  ];
  const { reporter, results } = collect();
  await runPlan(plan, reporter, { checkLeaks: true });
  t.equal(results.get('clean')!.status, 'pass');
  t.equal(results.get('leaks_fd')!.status, 'fail');
  t.match(results.get('leaks_fd')!.diagnostics, [/leak: 1 guest_memfd\/vCPU fd/]);
  t.equal(results.get('leaks_mapping')!.status, 'fail');
  t.match(results.get('leaks_mapping')!.diagnostics, [/leak: 1 KVM mapping/]);
  kept.forEach((k) => k.close());
});

t.test('--repeat keeps ids unique and says which iteration', { skip: skip ?? false }, async (t) => {
  const { gmemtest } = await import('../helpers/kvm.js');
  const { parseKtap, ids } = await import('../helpers/ktap.js');
  const r = gmemtest(['--repeat', '3', '--filter', 'default_vm.flags-none.file_size']);
  t.equal(r.status, 0);
  const k = parseKtap(r.stdout);
  t.same(ids(k.tree).filter((i) => i.includes('file_size')),
    ['default_vm.flags-none.file_size-iter1', 'default_vm.flags-none.file_size-iter2', 'default_vm.flags-none.file_size-iter3']);
});
