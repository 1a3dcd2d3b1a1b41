// `gmemtest boot`'s report from fake BootResults: the guest's KTAP nested as a subtest
// named for the release (golden file), its Totals folded, exit codes mapped, and every
// boot failure kind as `not ok ... # ERROR <kind>` (TIMEOUT) with console diagnostics.
// Regenerate the golden files with GMEMTEST_UPDATE_GOLDEN=1 and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import type { BootFailureKind, BootResult } from '../../src/boot/boot-and-run.js';
import { bootHeader, bootReport, bootReportFlat, releaseTestName } from '../../src/cli/boot-ktap.js';
import { readKtap } from '../../src/ktap/reader.js';
import { ids, parseKtap } from '../helpers/ktap.js';

const golden = (name: string): URL => new URL(`../../fixtures/golden/${name}`, import.meta.url);
const KERNEL = '/boot/vmlinuz-7.2.13+deb14-amd64';
const RELEASE = '7.2.13+deb14-amd64';
const NAME = 'linux-7_2_13-deb14-amd64';

const common = {
  release: RELEASE,
  accel: 'tcg' as const,
  timings: { prepMs: 210, initMs: 4800, modulesMs: 5600, commandStartMs: 6400, commandEndMs: 18400, commandGuestMs: 12000, qemuMs: 18600 },
  consoleTail: ['[    4.100000] Run /init as init process', '@@gmemtest t init 4.1', '', 'guest says\x07 hello'],
  qemuArgv: ['qemu-system-x86_64'],
  qemuStderr: '',
  initramfsBytes: 3_000_000,
  modulesLoaded: ['kvm'],
};
const completed = (stdout: string, exitCode: number): BootResult => ({ ok: true, exitCode, stdout, stdoutViaConsole: false, ...common });
const failed = (failure: BootFailureKind, message: string): BootResult => ({ ok: false, failure, message, ...common });
const header = bootHeader({
  version: '0.0.0-test', kernel: KERNEL, release: RELEASE, accel: 'tcg', cpus: 2, memoryMiB: 2048, numa: 2, timeoutSec: 300,
  guestArgv: ['/usr/bin/node', '/src/dist/bundle/gmemtest.mjs', '--filter', 'default_vm.*'],
});
const sample = readFileSync(golden('sample.ktap'), 'utf8');

function doc(r: BootResult): { text: string; exitCode: number; stderr?: string } {
  const rep = bootReport(r, KERNEL);
  return { text: header + rep.text, exitCode: rep.exitCode, stderr: rep.stderr };
}

t.test('release names follow the test-name alphabet', async (t) => {
  t.equal(releaseTestName('7.2.13+deb14-amd64', KERNEL), 'linux-7_2_13-deb14-amd64');
  t.equal(releaseTestName('6.12.117+deb13-amd64', KERNEL), 'linux-6_12_117-deb13-amd64');
  t.equal(releaseTestName('6.19.0-rc1-Custom #2', KERNEL), 'linux-6_19_0-rc1-custom--2');
  t.equal(releaseTestName(undefined, '/x/bzImage'), 'bzimage');
  t.equal(releaseTestName(undefined, '/x/vmlinuz-6.1'), 'vmlinuz-6_1');
  for (const r of ['7.2.13+deb14-amd64', 'a.b+c d#e', '...']) t.match(releaseTestName(r, KERNEL), /^[a-z0-9_-]+$/);
});

t.test('guest KTAP nested under the release, Totals folded: golden file', async (t) => {
  const { text, exitCode } = doc(completed(sample, 1));
  if (process.env.GMEMTEST_UPDATE_GOLDEN) writeFileSync(golden('boot-nested.ktap'), text);
  t.equal(text, readFileSync(golden('boot-nested.ktap'), 'utf8'));
  t.equal(exitCode, 1, 'guest exit 1 passes through');
  const p = parseKtap(text);
  t.same(p.extra, []);
  t.equal(p.tree.length, 1);
  t.equal(p.tree[0]!.name, NAME);
  t.equal(p.tree[0]!.ok, false);
  t.same(p.tree[0]!.children.map((n) => n.name), ['suite_a', 'suite_b', 'suite_c']);
  t.ok(ids(p.tree).includes(`${NAME}.suite_a.nested.known_bad`));
  const guestTotals = /^# Totals: .*$/m.exec(sample)![0];
  t.equal(text.match(/# Totals:/g)?.length, 1, 'one Totals line');
  t.match(text, new RegExp(`^${guestTotals}$`, 'm'), 'the outer Totals are the guest\'s');
  t.match(text, /^  # gmemtest test header$/m, 'guest header lines kept as diagnostics');
  t.match(text, /^# accel: tcg;/m);
});

t.test('guest exit codes map through', async (t) => {
  const pass = 'KTAP version 1\n# hdr\n1..1\nok 1 a\n# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n';
  let d = doc(completed(pass, 0));
  t.equal(d.exitCode, 0);
  t.match(d.text, new RegExp(`^ok 1 ${NAME}$`, 'm'));
  t.match(d.text, /^# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0$/m);
  t.equal(parseKtap(d.text).ok, true);

  d = doc(completed('KTAP version 1\n1..1\n# cannot open /dev/kvm: ENOENT (no such device)\nok 1 gmemtest # SKIP no usable KVM device\n' +
    '# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n', 4));
  t.equal(d.exitCode, 4);
  t.match(d.text, /^ {2}ok 1 gmemtest # SKIP no usable KVM device$/m, 'the guest\'s skip is nested, with its reason');
  t.match(d.text, new RegExp(`^ok 1 ${NAME} # SKIP$`, 'm'), 'the kernel\'s result is a bare SKIP');
  t.match(d.text, /skip:1 error:0$/m);
  t.equal(parseKtap(d.text).ok, true);

  // A crash half-way: the partial KTAP is kept as diagnostics (nested it would leave a plan
  // open), the test is an error, exit 1.
  d = doc(completed('KTAP version 1\n1..2\nok 1 a\n', 134));
  t.equal(d.exitCode, 1);
  t.match(d.text, new RegExp(`^not ok 1 ${NAME} # ERROR guest KTAP not whole \\(exit 134\\): top level: plan 1..2 but 1 results$`, 'm'));
  t.match(d.text, /^# guest KTAP \(not whole\):\n# {3}KTAP version 1\n# {3}1\.\.2\n# {3}ok 1 a$/m);
  t.match(d.text, /^#   guest says hello$/m, 'console lines as diagnostics, control characters dropped');
  t.same(readKtap(d.text).problems, [], 'the outer document is whole');

  d = doc(completed('', 127));
  t.equal(d.exitCode, 1);
  t.match(d.text, /# ERROR guest gmemtest exited with 127 without KTAP output$/m);
  t.equal(parseKtap(d.text).tree[0]!.ok, false);

  d = doc(completed('', 2));
  t.equal(d.exitCode, 2, 'a usage error in the guest is a usage error');
  t.match(d.stderr, /rejected its arguments/);

  d = doc(completed('KTAP version 1\n1..2\nok 1 a\nBail out! gmemtest: Error: boom\n', 1));
  t.equal(d.exitCode, 1);
  t.match(d.text, /^#   Bail out! gmemtest: Error: boom$/m, 'the guest\'s bail-out is a diagnostic');
  t.match(d.text, /# ERROR guest KTAP not whole \(exit 1\): it bailed out: gmemtest: Error: boom$/m);
  t.equal(parseKtap(d.text).bailout, false, 'the outer document does not bail out');
});

t.test('every boot failure: not ok # ERROR <kind> (TIMEOUT), console tail, exit 1', async (t) => {
  const kinds: BootFailureKind[] = ['missing-modules', 'initramfs', 'qemu-error', 'kvm-internal-error', 'kernel-panic',
    'no-init', 'module-load', 'init-error', 'timeout', 'no-result'];
  for (const kind of kinds) {
    const d = doc(failed(kind, `what went wrong (${kind})`));
    t.equal(d.exitCode, 1, `${kind}: exit 1`);
    const want = kind === 'timeout'
      ? `not ok 1 ${NAME} # TIMEOUT what went wrong (timeout)`
      : `not ok 1 ${NAME} # ERROR ${kind}`;
    t.match(d.text, new RegExp(`^${want.replace(/[()]/g, '\\$&')}$`, 'm'), `${kind}: result line`);
    t.match(d.text, new RegExp(`^# ${kind}: what went wrong`, 'm'), `${kind}: message`);
    t.match(d.text, /^# console, last 3 lines:\n#   \[ +4\.10+\] Run \/init/m, `${kind}: console tail`);
    t.match(d.text, /^# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1$/m);
    const p = parseKtap(d.text);
    t.same(p.extra, [], `${kind}: valid KTAP`);
    t.equal(p.tree[0]!.ok, false);
    if (kind === 'kernel-panic') {
      if (process.env.GMEMTEST_UPDATE_GOLDEN) writeFileSync(golden('boot-failure.ktap'), d.text);
      t.equal(d.text, readFileSync(golden('boot-failure.ktap'), 'utf8'), 'golden file');
    }
  }
  const noRelease = bootReport({ ...failed('qemu-error', 'x'), release: undefined }, '/k/bzImage');
  t.match(noRelease.text, /^not ok 1 bzimage # ERROR qemu-error$/m, 'kernel file name when the release is unknown');
});

t.test('flat: the guest\'s flat results unprefixed, its header as guest lines, plans that hold', async (t) => {
  const flatHeader = bootHeader({
    version: '0.0.0-test', kernel: KERNEL, release: RELEASE, accel: 'tcg', cpus: 2, memoryMiB: 2048, numa: 2, timeoutSec: 300,
    guestArgv: ['/usr/bin/node', '/src/dist/bundle/gmemtest.mjs', '--format', 'ktap-flat'],
  }, true);
  t.notMatch(flatHeader, /^1\.\./m, 'no plan before the boot');
  const flatDoc = (r: BootResult): { text: string; exitCode: number } => {
    const rep = bootReportFlat(r);
    return { text: flatHeader + rep.text, exitCode: rep.exitCode };
  };
  const guest = readFileSync(golden('sample-flat.ktap'), 'utf8');
  let d = flatDoc(completed(guest, 1));
  t.equal(d.exitCode, 1);
  t.match(d.text, /^# guest: gmemtest test header$/m);
  t.match(d.text, /^1\.\.9$/m, 'the guest\'s plan');
  t.match(d.text, /^ok 4 suite_a\.skips # SKIP$/m, 'ids as the guest gave them');
  t.same(readKtap(d.text).problems, []);
  t.same(readKtap(d.text).totals, readKtap(guest).totals, 'the guest\'s Totals');

  d = flatDoc(failed('kernel-panic', 'Kernel panic - not syncing: boom'));
  t.equal(d.exitCode, 1);
  t.match(d.text, /^1\.\.1\nnot ok 1 boot # ERROR kernel-panic\n# kernel-panic: Kernel panic - not syncing: boom$/m);
  t.same(readKtap(d.text).problems, []);

  d = flatDoc(failed('timeout', 'timeout after 300000 ms: the command did not finish; QEMU killed'));
  t.match(d.text, /^not ok 1 boot # TIMEOUT timeout after 300000 ms/m);

  // Died half-way: the results that came, and one more for the boot, under a plan that counts them.
  d = flatDoc(completed('KTAP version 1\n1..42\nok 1 default_vm.guest_memfd_flags\nnot ok 2 default_vm.flags-none.file_size\n', 135));
  t.equal(d.exitCode, 1);
  t.match(d.text, /^1\.\.3\nok 1 default_vm\.guest_memfd_flags\nnot ok 2 default_vm\.flags-none\.file_size\nnot ok 3 boot # ERROR guest gmemtest did not finish its run \(exit 135\)$/m);
  t.same(readKtap(d.text).problems, [], 'a whole document');
  t.equal(readKtap(d.text).totals?.error, 1);

  d = flatDoc(completed('usage', 2));
  t.equal(d.exitCode, 2);
});
