// The kernel lab's pure parts (scripts/lab): the guest KTAP reader on complete and
// truncated output, completeness, globs, verdict comparison, the C selftests' failure
// lines, and the mutant catalogue (names, anchors that must match exactly once).
import t from 'tap';
import { AnchorError, checkCatalogue, editsOf, mutate, MUTANTS, type Mutant } from '../../scripts/lab/mutants.js';
import {
  cCaught, compactIds, cSummary, globToRegExp, incompleteBecause, leafVerdicts, notOkCases, readCOutput, readGuestKtap, verdictDiff,
} from '../../scripts/lab/verdicts.js';

const KTAP = `KTAP version 1
# gmemtest 0.1.0: guest_memfd conformance
# sw_protected_vm: KVM_CAP_GUEST_MEMFD=1 KVM_CAP_GUEST_MEMFD_FLAGS=0x1
1..3
  KTAP version 1
  # Subtest: default_vm
  1..2
  ok 1 guest_memfd_flags
    KTAP version 1
    # Subtest: flags-mmap
    1..2
    ok 1 mmap_cow
    # check: a user access to private memory raises SIGBUS
    not ok 2 fault_private
  not ok 2 flags-mmap
not ok 1 default_vm
ok 2 sev_vm # SKIP VM type 2 not in KVM_CAP_VM_TYPES (0x3)
ok 3 guest_memfd_guest
# Totals: pass:3 fail:1 xfail:0 xpass:0 skip:1 error:0
`;

t.test('readGuestKtap: ids, leaves, directives of a complete run', async (t) => {
  const k = readGuestKtap(KTAP);
  t.same(k.problems, []);
  t.match(k.totals, /^# Totals: pass:3/);
  t.equal(k.bailOut, null);
  t.same(k.results.map((r) => [r.id, r.ok, r.leaf]), [
    ['default_vm.guest_memfd_flags', true, true],
    ['default_vm.flags-mmap.mmap_cow', true, true],
    ['default_vm.flags-mmap.fault_private', false, true],
    ['default_vm.flags-mmap', false, false],
    ['default_vm', false, false],
    ['sev_vm', true, true],
    ['guest_memfd_guest', true, true],
  ]);
  t.equal(k.results.find((r) => r.id === 'sev_vm')?.directive, 'SKIP');
  t.same(notOkCases(k), ['default_vm.flags-mmap.fault_private']);
  t.same(incompleteBecause({ booted: true, exitCode: 1, ktap: k }), []);
});

t.test('readGuestKtap: a run that died mid-way is incomplete, and what it wrote is kept', async (t) => {
  const cut = KTAP.slice(0, KTAP.indexOf('    not ok 2 fault_private'));
  const k = readGuestKtap(cut);
  t.same(k.results.map((r) => r.id), ['default_vm.guest_memfd_flags', 'default_vm.flags-mmap.mmap_cow']);
  t.match(k.problems.join('\n'), /output ends inside default_vm\.flags-mmap \(1 result\(s\) of 2\)/);
  t.match(k.problems.join('\n'), /1 of 3 planned top-level results|0 of 3 planned top-level results/);
  const why = incompleteBecause({ booted: true, exitCode: 135, ktap: k });
  t.match(why[0], /killed by signal 7 \(exit 135\)/);
  t.ok(why.includes('no Totals line'));
  t.match(incompleteBecause({ booted: false, bootFailure: 'kernel-panic: oops', ktap: k })[0], /^boot: kernel-panic/);
  // a plan not met and a wrong number are problems too
  t.match(readGuestKtap('KTAP version 1\n1..2\nok 1 a\nok 3 b\n# Totals: pass:2\n').problems.join('\n'), /b: numbered 3, expected 2/);
  t.match(readGuestKtap('KTAP version 1\n1..3\nok 1 a\n# Totals: pass:1\n').problems.join('\n'), /1 of 3 planned/);
  t.match(readGuestKtap('').problems.join('\n'), /no KTAP version line/);
  t.equal(readGuestKtap('KTAP version 1\n1..1\nBail out! interrupted by SIGTERM\n').bailOut, 'interrupted by SIGTERM');
});

t.test('globs and verdict comparison', async (t) => {
  t.ok(globToRegExp('*.flags-mmap.fault_private').test('sw_protected_vm.flags-mmap.fault_private'));
  t.notOk(globToRegExp('*.flags-mmap.fault_private').test('default_vm.flags-mmap-init_shared.fault_private'));
  t.ok(globToRegExp('*.flags-mmap*.mmap_cow').test('default_vm.flags-mmap-init_shared.mmap_cow'));
  t.notOk(globToRegExp('guest_memfd_guest').test('x.guest_memfd_guest'));
  const base = leafVerdicts(readGuestKtap(KTAP));
  t.same(verdictDiff(base, base), []);
  const other = new Map(base);
  other.set('default_vm.flags-mmap.mmap_cow', 'not ok');
  other.delete('sev_vm');
  other.set('new_case', 'ok');
  t.same(verdictDiff(base, other), [
    'default_vm.flags-mmap.mmap_cow: ok on the stock kernel, not ok here',
    'sev_vm: SKIP on the stock kernel, absent here',
    'new_case: ok here, absent on the stock kernel',
  ]);
  t.same(verdictDiff(base, other, (id) => id === 'sev_vm' || id === 'new_case'), ['default_vm.flags-mmap.mmap_cow: ok on the stock kernel, not ok here']);
  t.equal(compactIds(['default_vm.flags-mmap.fault_private', 'sw_protected_vm.flags-mmap.fault_private', 'guest_memfd_guest']),
    'flags-mmap.fault_private [default, sw_protected]; guest_memfd_guest');
});

t.test('readCOutput: the first failed assertion of a kvm selftest', async (t) => {
  const log = [
    'Random seed: 0x6b8b4567',
    '==== Test Assertion Failure ====',
    '  guest_memfd_test.c:240: false',
    '  pid=311 tid=311 errno=4 - Interrupted system call',
    '     1\t0x0000000000402fa6: test_fault_sigbus at guest_memfd_test.c:240',
    '     2\t (inlined by) test_fault_private at guest_memfd_test.c:257',
    '  \'memset(mem, val, map_size)\' should have triggered SIGBUS',
    '',
  ].join('\n');
  const c = readCOutput(log, 254);
  t.equal(c.assertion, 'guest_memfd_test.c:240: false');
  t.equal(c.message, '\'memset(mem, val, map_size)\' should have triggered SIGBUS');
  t.equal(cSummary(c), 'fail (254): guest_memfd_test.c:240: false');
  t.ok(cCaught(c));
  t.same(readCOutput('Random seed: 1\n', 0), { exit: 0, assertion: null, message: null });
  t.equal(cSummary({ exit: 135, assertion: null, message: null }), 'fail (135 SIGBUS)');
  t.notOk(cCaught({ exit: 4, assertion: null, message: null }), 'a skip is not a catch');
  t.notOk(cCaught(undefined));
});

t.test('the mutant catalogue: at least 15, well formed, anchors exactly once', async (t) => {
  t.ok(MUTANTS.length >= 15, `${MUTANTS.length} mutants`);
  t.same(checkCatalogue(MUTANTS), []);
  for (const name of ['fault-private-memory', 'fault-index0-only', 'bind-range-signed', 'mmap-private-accepted',
    'bind-non-gmem-fd-accepted', 'bind-unaligned-offset', 'bind-overlap-allowed', 'readonly-gmem-accepted']) {
    t.ok(MUTANTS.some((m) => m.name === name), `has ${name}`);
  }
  const bad = checkCatalogue([...MUTANTS.slice(0, 1), { ...MUTANTS[0]!, expect: [] }, { ...MUTANTS[0]!, name: 'Bad Name' }]);
  t.match(bad.join('\n'), /twice/);
  t.match(bad.join('\n'), /no expected case/);
  t.match(bad.join('\n'), /bad mutant name/);

  const m: Mutant = {
    name: 'demo', file: 'a.c', anchor: 'if (x)\n\treturn -EINVAL;\n', replacement: '', breaks: '', protects: '', expect: ['*'],
    area: 'guest_memfd', upstream: 'guest_memfd_test', also: [{ file: 'b.c', anchor: 'y = 1;', replacement: 'y = 2;' }],
  };
  t.equal(editsOf(m).length, 2);
  const files: Record<string, string> = { 'a.c': 'int f(int x)\n{\nif (x)\n\treturn -EINVAL;\nreturn 0;\n}\n', 'b.c': 'y = 1;\n' };
  const out = mutate(m, (f) => files[f]!);
  t.equal(out.get('a.c'), 'int f(int x)\n{\nreturn 0;\n}\n');
  t.equal(out.get('b.c'), 'y = 2;\n');
  t.throws(() => mutate(m, (f) => (f === 'a.c' ? 'nothing here' : files[f]!)), AnchorError);
  t.throws(() => mutate(m, (f) => (f === 'a.c' ? 'nothing here' : files[f]!)), /mutant demo: anchor not found in a\.c: 'if \(x\)'/);
  t.throws(() => mutate(m, (f) => (f === 'a.c' ? `${files['a.c']}${files['a.c']}` : files[f]!)), /found 2 times/);
  t.throws(() => mutate({ ...m, replacement: m.anchor }, (f) => files[f]!), /changes nothing/);
  // A replacement with `$&` and friends is taken literally.
  t.equal(mutate({ ...m, also: [], replacement: '$&$1' }, (f) => files[f]!).get('a.c'), 'int f(int x)\n{\n$&$1return 0;\n}\n');
});
