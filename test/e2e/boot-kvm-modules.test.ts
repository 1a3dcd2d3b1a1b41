// `gmemtest boot --kvm-modules`: the checks made before anything boots. A module
// built for another release, or whose vermagic differs from the kernel's own module,
// exits 2 with one stderr line naming both; so does a dir without kvm*.ko files.
// (Booting with rebuilt modules is `npm run test:lab`.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { findDepmod } from '../../src/boot/kvm-modules.js';
import { fakeKvmModule, fakeModulesTree, FAKE_RELEASE } from '../helpers/fake-modules.js';
import { gmemtest } from '../helpers/kvm.js';

const FILE = fileURLToPath(new URL('../../package.json', import.meta.url)); // a "kernel" without a setup header

t.test('usage errors: exit 2, one stderr line, nothing on stdout', { skip: findDepmod() === undefined ? 'no depmod (Debian package kmod)' : false }, async (t) => {
  const root = t.testdir({ mismatch: {}, flags: {}, empty: {}, stranger: {} });
  const tree = fakeModulesTree(join(root, 'lib/modules', FAKE_RELEASE));
  writeFileSync(join(root, 'mismatch/kvm.ko'), fakeKvmModule('kvm', 'irqbypass', '7.3.0-rc2 SMP preempt mod_unload '));
  writeFileSync(join(root, 'flags/kvm-amd.ko'), fakeKvmModule('kvm_amd', 'kvm', `${FAKE_RELEASE} SMP mod_unload `));
  writeFileSync(join(root, 'stranger/kvm-arm.ko'), fakeKvmModule('kvm_arm', ''));
  const cases: [string[], RegExp][] = [
    [['--kvm-modules', join(root, 'mismatch')],
      /^gmemtest: --kvm-modules: \S+\/mismatch\/kvm\.ko was built for 7\.3\.0-rc2 \(vermagic '7\.3\.0-rc2 SMP preempt mod_unload'\), the kernel is 7\.2\.13\+deb14-amd64\n$/],
    [['--kvm-modules', join(root, 'flags')], /vermagic '7\.2\.13\+deb14-amd64 SMP mod_unload' differs from the kernel's own kvm_amd \('7\.2\.13\+deb14-amd64 SMP preempt mod_unload'/],
    [['--kvm-modules', join(root, 'empty')], /--kvm-modules: \S+\/empty: no kvm\*\.ko, \.ko\.xz or \.ko\.zst files/],
    [['--kvm-modules', join(root, 'nonexistent')], /--kvm-modules: \S+\/nonexistent: no such directory/],
    [['--kvm-modules', join(root, 'stranger')], /the kernel has no module kvm_arm to replace/],
  ];
  for (const [extra, err] of cases) {
    const args = ['boot', '--kernel', FILE, '--modules', tree, ...extra];
    const r = gmemtest(args);
    t.equal(r.status, 2, `${extra.join(' ')}: exit 2`);
    t.match(r.stderr, err, `${extra.join(' ')}: stderr`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${extra.join(' ')}: one stderr line`);
    t.equal(r.stdout, '', `${extra.join(' ')}: no stdout`);
  }
  // No modules dir to be found next to the "kernel": said so, not guessed.
  const r = gmemtest(['boot', '--kernel', FILE, '--kvm-modules', join(root, 'mismatch')]);
  t.equal(r.status, 2);
  t.match(r.stderr, /^gmemtest: --kvm-modules: no modules dir found for \S+ to replace modules in; pass --modules\n$/);
});
