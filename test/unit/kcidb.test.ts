// The KCIDB document (src/runner/kcidb.ts): what each field holds, for --format kcidb on a
// synthetic plan and for gmemtest report --kcidb on real results. Validation against
// KernelCI's own schema code is test/kcidb/kcidb-io.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { expectEq, skip } from '../../src/cases/check.js';
import { loadRuns } from '../../src/report/inputs.js';
import { kcidbOfRuns } from '../../src/report/kcidb.js';
import { kcidbDocument, kcidbPath, kcidbStatus, KCIDB_PATH, type KcidbDocument } from '../../src/runner/kcidb.js';
import { group, leaf, skipped, type PlanNode } from '../../src/runner/plan.js';
import { KcidbReporter } from '../../src/runner/report-kcidb.js';
import { JsonReporter } from '../../src/runner/report-json.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { runPlan } from '../../src/runner/run.js';
import { parseXfail } from '../../src/runner/xfail.js';

const FIX = fileURLToPath(new URL('../report/fixtures/', import.meta.url));

t.test('statuses: what the kernel did', async (t) => {
  const s = (status: Parameters<typeof kcidbStatus>[0]['status'], raw?: Parameters<typeof kcidbStatus>[0]['raw'], reason: string | null = null) => kcidbStatus({ status, raw, reason });
  t.equal(s('pass'), 'PASS');
  t.equal(s('fail'), 'FAIL');
  t.equal(s('skip'), 'SKIP');
  t.equal(s('error', undefined, 'TypeError: boom'), 'ERROR');
  t.equal(s('error', undefined, 'not run: interrupted'), 'MISS', 'a case the run never started');
  t.equal(s('timeout'), 'ERROR', 'did not complete');
  t.equal(s('xfail', 'fail'), 'FAIL', 'an expected failure is still a failure of the kernel');
  t.equal(s('xpass', 'pass'), 'PASS', 'an unexpected pass is a pass of the kernel');
  t.equal(s('xfail'), 'FAIL', 'raw status inferred when absent');
});

t.test('paths keep to the schema\'s characters', async (t) => {
  for (const id of ['default_vm.flags-mmap-init_shared.fallocate', 'guest_memfd_guest', 'vm_type_9.bit7.file_size-iter2']) t.equal(kcidbPath(id), id);
  t.equal(kcidbPath('odd id.with+chars'), 'odd_id.with_chars');
  t.ok(KCIDB_PATH.test(kcidbPath('a..b')));
  t.throws(() => kcidbDocument([], 'Bad-Origin'), /use \[a-z0-9_\]\+/);
});

function plan(): PlanNode[] {
  return [
    group('', 'vm_a', (id) => [
      leaf(id, 'good', () => {}),
      leaf(id, 'bad', () => expectEq(1, 2, 'the byte the guest wrote')),
      leaf(id, 'not_here', () => skip('needs a multi-node NUMA system')),
      leaf(id, 'known', () => expectEq(0, 1, 'memslot served')),
    ]),
    skipped('', 'vm_b', 'VM type 2 not in KVM_CAP_VM_TYPES (0x1)'),
  ];
}

/** Sends one run to several reporters (so they see the same durations). */
const tee = (...rs: Reporter[]): Reporter => ({
  begin: (n) => rs.forEach((r) => r.begin(n)),
  enterGroup: (...a) => rs.forEach((r) => r.enterGroup(...a)),
  result: (...a) => rs.forEach((r) => r.result(...a)),
  end: (...a) => rs.forEach((r) => r.end(...a)),
});

t.test('--format kcidb: one document, and the same as report --kcidb of the run\'s --format json', async (t) => {
  let kcidbText = '';
  let jsonText = '';
  const host = { kernelRelease: '7.3.0-test', device: '/dev/kvm', apiVersion: 12, numaNodes: 1 };
  await runPlan(plan(), tee(
    new KcidbReporter((s) => { kcidbText += s; }, '0.0.0-test', host, 'gmemtest_ci'),
    new JsonReporter((s) => { jsonText += s; }, '0.0.0-test', host),
  ), { xfail: parseXfail('vm_a.known host quirk\n', 'inline') });
  const doc = JSON.parse(kcidbText) as KcidbDocument;
  t.same(doc.version, { major: 5, minor: 3 });
  t.same(doc.checkouts, [{ id: 'gmemtest_ci:7.3.0-test', origin: 'gmemtest_ci', comment: 'Linux 7.3.0-test', valid: true, misc: { kernel_release: '7.3.0-test' } }]);
  t.equal(doc.builds.length, 1);
  t.match(doc.builds[0], { id: /^gmemtest_ci:7\.3\.0-test:/, checkout_id: 'gmemtest_ci:7.3.0-test', origin: 'gmemtest_ci', status: 'PASS' });
  t.same(doc.tests.map((x) => [x.path, x.status]), [
    ['vm_a.good', 'PASS'], ['vm_a.bad', 'FAIL'], ['vm_a.not_here', 'SKIP'], ['vm_a.known', 'FAIL'], ['vm_b', 'SKIP'],
  ], 'one test per case (groups are not tests), path = id');
  const bad = doc.tests[1]!;
  t.match(bad.id, /^gmemtest_ci:[0-9a-f]{16}:vm_a\.bad$/);
  t.equal(bad.build_id, doc.builds[0]!.id);
  t.match(bad.log_excerpt, /^check: the byte the guest wrote\n/);
  t.match(bad.misc, { gmemtest_version: '0.0.0-test', gmemtest_status: 'fail', kernel_release: '7.3.0-test' });
  t.same(bad.environment.misc, host, 'the host capabilities');
  t.match(bad.environment.comment, /host \/dev\/kvm, KVM API 12, 1 NUMA node/);
  t.match(doc.tests[3]!.misc, { gmemtest_status: 'xfail', expectation: 'expected to fail: host quirk' });
  t.ok(doc.tests.every((x) => typeof x.start_time === 'string' && !Number.isNaN(Date.parse(x.start_time))), 'start_time of the live run');
  t.ok(doc.tests.every((x) => typeof x.duration === 'number'), 'durations in seconds');
  t.notMatch(kcidbText, /null/, 'no null anywhere: the schema allows none');

  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-kcidb-'));
  writeFileSync(join(dir, 'run.json'), jsonText);
  const viaReport = kcidbOfRuns(loadRuns([join(dir, 'run.json')]), 'gmemtest_ci');
  const strip = (d: KcidbDocument): unknown => ({
    ...d, tests: d.tests.map(({ start_time: _s, misc: { run_label: _l, result_file: _f, ...misc }, ...x }) => ({ ...x, misc })),
  });
  t.same(strip(viaReport), strip(doc), 'same objects and ids (the live run adds start_time, the report the label and file)');
});

t.test('report --kcidb on real runs: checkouts and builds shared, a failed boot is one test', async (t) => {
  const runs = loadRuns(['boot-sid.ktap', 'guest-sid.json', 'boot-trixie.ktap', 'boot-timeout.ktap', 'host.json'].map((f) => join(FIX, f)));
  const doc = kcidbOfRuns(runs);
  t.same(doc.checkouts.map((c) => c.id), ['gmemtest:7.2.13+deb14-amd64', 'gmemtest:6.12.117+deb13-amd64', 'gmemtest:6.18.44-fc-v669'], 'one checkout per kernel release');
  t.same(doc.builds.map((b) => b.architecture), ['x86_64', 'x86_64', 'x86_64']);
  t.equal(doc.tests.length, 42 + 42 + 14 + 1 + 42);
  const ids = new Set(doc.tests.map((x) => x.id));
  t.equal(ids.size, doc.tests.length, 'test ids unique, even for the same case on the same kernel');
  const boot = doc.tests.filter((x) => x.misc.run_label === 'boot-timeout');
  t.same(boot.map((x) => [x.path, x.status]), [['boot', 'ERROR']]);
  t.match(boot[0]!.log_excerpt, /console, last 5 lines/);
  const guest = doc.tests.find((x) => x.misc.run_label === 'host' && x.path === 'guest_memfd_guest')!;
  t.equal(guest.status, 'FAIL');
  t.match(guest.log_excerpt, /got: KVM_EXIT_MMIO at gpa 0x100000000/);
  const sidKtap = doc.tests.filter((x) => x.misc.run_label === 'boot-sid');
  t.match(sidKtap[0]!.environment, { comment: /QEMU tcg, 2 vCPUs, 2048 MiB, 2 NUMA nodes/, misc: { KVM_CAP_GUEST_MEMFD_FLAGS: '0x3' } });
  const fromFile = JSON.parse(readFileSync(join(FIX, 'host.json'), 'utf8')) as { host: unknown };
  t.same(doc.tests.find((x) => x.misc.run_label === 'host')!.environment.misc, fromFile.host, 'JSON runs: the probe as it is');
});
