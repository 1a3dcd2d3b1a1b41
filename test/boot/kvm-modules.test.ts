// --kvm-modules: reading a module's vermagic from its ELF .modinfo, finding the
// kvm*.ko files of a dir, the release/vermagic checks, and the overlay of the
// kernel's modules tree (the given tree untouched, depmod on the copy).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import {
  checkKvmModules, findDepmod, findKvmModules, KvmModulesError, overlayKvmModules, readModinfo, vermagicRelease,
} from '../../src/boot/kvm-modules.js';
import { readModuleImage, resolveModules } from '../../src/boot/modules.js';
import { fakeModule, fakeModulesTree as fakeTree, fakeKvmModule as mod, FAKE_RELEASE as REL, FAKE_VERMAGIC as VERMAGIC } from '../helpers/fake-modules.js';

/** Every file under dir with its content hash (symlinks by target). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out[relative(dir, p)] = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

t.test('readModinfo: key=value strings of .modinfo, repeated keys kept', async (t) => {
  const info = readModinfo(fakeModule({ name: 'kvm', vermagic: VERMAGIC, alias: 'devname:kvm' }, { extra: 'alias=char-major-10-232\0' }));
  t.same(info.get('vermagic'), [VERMAGIC]);
  t.same(info.get('alias'), ['devname:kvm', 'char-major-10-232']);
  t.equal(info.get('nope'), undefined);
  t.equal(vermagicRelease(VERMAGIC), REL);
  t.throws(() => readModinfo(Buffer.from('not an elf file at all, but long enough to have a header.........')), /not an ELF file/);
  const noInfo = fakeModule({ vermagic: VERMAGIC });
  noInfo.write('.nomodi', noInfo.indexOf('.modinfo'), 'latin1'); // rename the section
  t.throws(() => readModinfo(noInfo), /no \.modinfo section/);
  const truncated = fakeModule({ vermagic: VERMAGIC }).subarray(0, 100);
  t.throws(() => readModinfo(truncated), /bad ELF section header table/);
});

t.test('findKvmModules: kvm*.ko in any supported compression, nothing else', async (t) => {
  const top = t.testdir({ found: {}, empty: {}, twice: {}, bad: { 'kvm.ko': 'plain text' } });
  const dir = join(top, 'found');
  writeFileSync(join(dir, 'kvm.ko'), mod('kvm', 'irqbypass'));
  writeFileSync(join(dir, 'kvm-amd.ko'), mod('kvm_amd', 'kvm'));
  execFileSync('xz', [join(dir, 'kvm-amd.ko')]);
  writeFileSync(join(dir, 'irqbypass.ko'), mod('irqbypass', ''));
  writeFileSync(join(dir, 'kvm.mod.c'), 'not a module');
  writeFileSync(join(dir, 'Module.symvers'), '');
  const zstd = spawnSync('zstd', ['--version']).status === 0;
  if (zstd) {
    writeFileSync(join(dir, 'kvm-intel.ko'), mod('kvm_intel', 'kvm'));
    execFileSync('zstd', ['-q', '--rm', join(dir, 'kvm-intel.ko')]);
  }
  const found = findKvmModules(dir);
  t.same(found.map((m) => [m.name, m.compression]).sort(), [['kvm', 'none'], ['kvm_amd', 'xz'], ...(zstd ? [['kvm_intel', 'zst']] : [])].sort());
  for (const m of found) t.equal(m.vermagic, VERMAGIC.trim());

  t.throws(() => findKvmModules(join(top, 'empty')), /no kvm\*\.ko, \.ko\.xz or \.ko\.zst files/);
  t.throws(() => findKvmModules('/nonexistent/dir'), /no such directory/);
  const twice = join(top, 'twice');
  writeFileSync(join(twice, 'kvm.ko'), mod('kvm', ''));
  writeFileSync(join(twice, 'kvm.ko.xz'), execFileSync('xz', ['-c'], { input: mod('kvm', '') }));
  t.throws(() => findKvmModules(twice), /module kvm is there twice \(kvm\.ko, kvm\.ko\.xz\)/);
  const bad = join(top, 'bad');
  t.throws(() => findKvmModules(bad), KvmModulesError);
});

t.test('checkKvmModules: the release and the whole vermagic must be the kernel\'s', { skip: findDepmod() === undefined ? 'no depmod (Debian package kmod)' : false }, async (t) => {
  const root = t.testdir({ good: {}, other: {}, flags: {}, stranger: {}, nodep: {} });
  const tree = fakeTree(join(root, 'lib/modules', REL));
  const good = join(root, 'good');
  writeFileSync(join(good, 'kvm.ko'), mod('kvm', 'irqbypass'));
  t.doesNotThrow(() => checkKvmModules(findKvmModules(good), REL, tree));

  const other = join(root, 'other');
  writeFileSync(join(other, 'kvm.ko'), mod('kvm', 'irqbypass', '7.3.0-rc1 SMP preempt mod_unload '));
  const err = t.throws(() => checkKvmModules(findKvmModules(other), REL, tree)) as Error;
  t.match(err.message, /kvm\.ko was built for 7\.3\.0-rc1 \(vermagic '7\.3\.0-rc1 SMP preempt mod_unload'\), the kernel is 7\.2\.13\+deb14-amd64/);
  t.equal(err.message.split('\n').length, 1, 'one line');

  const flags = join(root, 'flags');
  writeFileSync(join(flags, 'kvm.ko'), mod('kvm', 'irqbypass', `${REL} SMP mod_unload modversions `));
  t.throws(() => checkKvmModules(findKvmModules(flags), REL, tree), /vermagic '7\.2\.13\+deb14-amd64 SMP mod_unload modversions' differs from the kernel's own kvm \('7\.2\.13\+deb14-amd64 SMP preempt mod_unload'/);

  const stranger = join(root, 'stranger');
  writeFileSync(join(stranger, 'kvm-foo.ko'), mod('kvm_foo', 'kvm'));
  t.throws(() => checkKvmModules(findKvmModules(stranger), REL, tree), /the kernel has no module kvm_foo to replace/);
  t.throws(() => checkKvmModules(findKvmModules(good), REL, join(root, 'nodep')), /no modules\.dep/);
});

const noDepmod = findDepmod() === undefined ? 'no depmod (Debian package kmod)' : false;

t.test('overlayKvmModules: a copy with the new modules, indexed by depmod; the given tree untouched', { skip: noDepmod }, async (t) => {
  const root = t.testdir({});
  const tree = fakeTree(join(root, 'stock/lib/modules', REL));
  const before = snapshot(tree);
  const dir = join(root, 'built');
  mkdirSync(dir);
  const newKvm = mod('kvm', 'irqbypass');
  writeFileSync(join(dir, 'kvm.ko'), newKvm); // plain, where the tree has .ko.xz
  const newAmd = mod('kvm_amd', 'kvm,ccp,irqbypass');
  writeFileSync(join(dir, 'kvm-amd.ko.xz'), execFileSync('xz', ['-c'], { input: newAmd }));
  const mods = findKvmModules(dir);
  checkKvmModules(mods, REL, tree);

  const work = join(root, 'work');
  const overlay = overlayKvmModules({ modulesDir: tree, modules: mods, release: REL, into: work });
  t.equal(overlay, join(work, 'lib/modules', REL));
  t.same(snapshot(tree), before, 'the given tree is unchanged');

  const dep = readFileSync(join(overlay, 'modules.dep'), 'utf8');
  t.match(dep, /^kernel\/arch\/x86\/kvm\/kvm\.ko: kernel\/virt\/lib\/irqbypass\.ko\.xz$/m, 'the plain kvm.ko is indexed with its dependency');
  t.match(dep, /^kernel\/arch\/x86\/kvm\/kvm-amd\.ko\.xz: /m);
  t.match(dep, /^kernel\/arch\/x86\/kvm\/kvm-intel\.ko\.xz: .*kernel\/arch\/x86\/kvm\/kvm\.ko\b/m, 'kvm-intel now depends on the new kvm.ko');
  t.notOk(lstatSync(join(overlay, 'kernel/arch/x86/kvm/kvm.ko')).isSymbolicLink(), 'the replacement is a copy');
  t.ok(lstatSync(join(overlay, 'kernel/arch/x86/kvm/kvm-intel.ko.xz')).isSymbolicLink(), 'a sibling is a symlink');
  t.ok(lstatSync(join(overlay, 'kernel/fs')).isSymbolicLink(), 'an unrelated subtree is one symlink');
  t.ok(lstatSync(join(overlay, 'config')).isSymbolicLink());

  // What the initramfs builder sees: the new images, the rest from the stock tree.
  const r = resolveModules(overlay, ['9p', 'kvm_amd']);
  const kvm = r.load.find((m) => m.name === 'kvm')!;
  t.equal(kvm.compression, 'none');
  t.same(readModuleImage(kvm), newKvm);
  t.same(readModuleImage(r.load.find((m) => m.name === 'kvm_amd')!), newAmd);
  t.ok(r.load.some((m) => m.name === '9p'), 'other modules still resolve');

  t.throws(() => overlayKvmModules({ modulesDir: tree, modules: mods, release: REL, into: work }), /exists already/);
  t.throws(() => overlayKvmModules({ modulesDir: tree, modules: mods, release: REL, into: join(root, 'w2'), depmod: '/bin/false' }), /depmod -b .* failed/);
});
