// The kernel matrix's pure parts (scripts/kernels/matrix.ts): the C test's verdict from
// its exit status and output, and the checks a newest kernel's KTAP must pass, on an
// arm64-shaped document (no VM type but the default).
import t from 'tap';
import { checkKernel, countCases, cVerdict } from '../../scripts/kernels/matrix.js';
import { readKtap } from '../../src/ktap/reader.js';
import { checkNames, named, tappyPython, type Named } from '../../scripts/kernels/names.js';

t.test('the C test: exit 0 passes, anything else is named', async (t) => {
  t.same(cVerdict(0, 'Random seed: 0x6b8b4567\n'), { pass: true, text: 'pass' });
  t.same(cVerdict(4, ''), { pass: false, text: 'skip (4)' });
  t.same(cVerdict(null, ''), { pass: false, text: 'did not finish' });
  const out = '==== Test Assertion Failure ====\n  guest_memfd_test.c:277: sb.st_size == total_size\n  pid=1 tid=1 errno=0\n';
  t.same(cVerdict(254, out), { pass: false, text: 'fail (exit 254): guest_memfd_test.c:277: sb.st_size == total_size' });
  t.same(cVerdict(134, 'Aborted'), { pass: false, text: 'fail (signal 6)' });
});

const flagSet = (name: string, cases: string[], n: number): string[] => [
  '      KTAP version 1', `      # Subtest: ${name}`, `      1..${cases.length}`,
  ...cases.map((c, i) => `      ok ${i + 1} ${c}`), `    ok ${n} ${name}`,
];

function arm64Doc(opts: { guest?: string; skipMbind?: boolean } = {}): string {
  return [
    'KTAP version 1', '1..1', '  KTAP version 1', '  # Subtest: linux-7_2_13-deb14-arm64',
    '  # host: kernel 7.2.13+deb14-arm64, device /dev/kvm, KVM API 12, page_size 4096, thp_pmd_size 2097152, numa_nodes 2, arch arm64',
    '  # system fd: KVM_CAP_GUEST_MEMFD=1 KVM_CAP_VM_TYPES=0x0 KVM_CAP_GUEST_MEMFD_FLAGS=0x3', '  1..2',
    '    KTAP version 1', '    # Subtest: default_vm', '    1..4',
    ...flagSet('flags-none', ['file_size', opts.skipMbind ? 'mbind # SKIP needs 2 NUMA nodes' : 'mbind', 'numa_allocation'], 1),
    ...flagSet('flags-mmap', ['mmap_supported', 'mbind', 'numa_allocation'], 2),
    ...flagSet('flags-init_shared', ['file_size'], 3),
    ...flagSet('flags-mmap-init_shared', ['fault_overflow'], 4),
    '  ok 1 default_vm', opts.guest ?? '  ok 2 guest_memfd_guest', 'ok 1 linux-7_2_13-deb14-arm64',
    '# Totals: pass:9 fail:0 xfail:0 xpass:0 skip:0 error:0', '',
  ].join('\n');
}

t.test("checkKernel: an arm64 document with the default VM only passes the newest kernel's checks", async (t) => {
  const text = arm64Doc();
  const p = readKtap(text);
  t.same(checkKernel('sid', 0, text, p), []);
  t.equal(countCases(p.tests[0]!.children).cases, 9);
  const skipped = arm64Doc({ skipMbind: true });
  t.match(checkKernel('sid', 0, skipped, readKtap(skipped)).join('\n'), /mbind skipped on the newest kernel/);
  const g = arm64Doc({ guest: '  not ok 2 guest_memfd_guest' });
  t.match(checkKernel('sid', 1, g, readKtap(g)).join('\n'), /guest_memfd_guest/);
});

t.test('names: a case shared by host and guest must be named alike; each once', async (t) => {
  const host: Named = { label: 'this host', ids: ['a.x', 'a.y', 'g'], names: ['a_x', 'a_y', 'g'], duplicates: 0 };
  t.same(checkNames([host, { label: 'sid', ids: ['a.x', 'a.z'], names: ['a_x', 'a_z'], duplicates: 0 }]), [], 'a case only one side has is fine');
  t.same(checkNames([host, { label: 'sid', ids: ['a.x'], names: ['a_x_SKIP_needs_2_nodes'], duplicates: 0 }]),
    ["a.x: 'a_x' on this host, 'a_x_SKIP_needs_2_nodes' on sid"]);
  t.same(checkNames([{ ...host, duplicates: 1 }]), ['this host: 1 duplicate name(s)']);
  t.same(checkNames([{ ...host, names: ['a_x'] }]), ['this host: 3 cases, 1 names']);
});

t.test('names: the Linaro-style flattening of a flat document, a bare SKIP keeping the name', { skip: tappyPython() === null ? 'no python3 with tappy' : false }, async (t) => {
  const doc = ['KTAP version 1', '# gmemtest header', '1..3', 'ok 1 default_vm.flags-none.file_size', 'ok 2 default_vm.flags-mmap.mbind # SKIP',
    '# skip: needs a multi-node NUMA system', 'not ok 3 guest_memfd_guest', '# check: the guest runs', '# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0', ''].join('\n');
  const n = named('doc', doc, tappyPython()!);
  t.same(n.ids, ['default_vm.flags-none.file_size', 'default_vm.flags-mmap.mbind', 'guest_memfd_guest']);
  t.equal(n.names.length, 3);
  t.equal(n.duplicates, 0);
  const passing = named('doc2', doc.replace('mbind # SKIP', 'mbind'), tappyPython()!);
  t.same(checkNames([n, passing]), [], 'skipped on one side, passing on the other: the same name');
});
