import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MissingModuleError, parseModulesDep, readModuleImage, resolveModules } from '../../src/boot/modules.js';

// A fake lib/modules/<release> laid out like Debian's (compressed .ko.xz).
function fakeModulesDir(dir: string, builtin: boolean): string {
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60)]);
  const files = ['kernel/fs/netfs/netfs.ko', 'kernel/net/9p/9pnet.ko', 'kernel/net/9p/9pnet_virtio.ko', 'kernel/fs/9p/9p.ko', 'kernel/virt/lib/irqbypass.ko', 'kernel/arch/x86/kvm/kvm.ko', 'kernel/drivers/crypto/ccp/ccp.ko', 'kernel/arch/x86/kvm/kvm-amd.ko'];
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), elf);
  }
  // xz-compress all but ccp, which stays plain
  execFileSync('xz', files.filter((f) => !f.includes('ccp')).map((f) => join(dir, f)));
  writeFileSync(
    join(dir, 'modules.dep'),
    [
      'kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz',
      'kernel/fs/netfs/netfs.ko.xz:',
      'kernel/arch/x86/kvm/kvm-amd.ko.xz: kernel/drivers/crypto/ccp/ccp.ko kernel/arch/x86/kvm/kvm.ko.xz kernel/virt/lib/irqbypass.ko.xz',
      'kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz',
      'kernel/arch/x86/kvm/kvm.ko.xz: kernel/virt/lib/irqbypass.ko.xz',
      'kernel/net/9p/9pnet.ko.xz: kernel/fs/netfs/netfs.ko.xz',
      'kernel/drivers/crypto/ccp/ccp.ko:',
      'kernel/virt/lib/irqbypass.ko.xz:',
      '',
    ].join('\n'),
  );
  if (builtin) writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/virtio/virtio_pci.ko\n');
  return dir;
}

t.test('modules.dep parsing canonicalises names', async (t) => {
  const m = parseModulesDep('kernel/arch/x86/kvm/kvm-amd.ko.zst: kernel/arch/x86/kvm/kvm.ko.zst\n');
  t.same(m.get('kvm_amd'), { rel: 'kernel/arch/x86/kvm/kvm-amd.ko.zst', deps: ['kvm'] });
});

t.test('resolves in dependency order, skips built-ins, decompresses', async (t) => {
  const dir = fakeModulesDir(t.testdir(), true);
  const r = resolveModules(dir, ['virtio_pci', 'netfs', '9pnet', '9pnet_virtio', '9p', 'irqbypass', 'kvm', 'ccp', 'kvm-amd']);
  t.same(r.builtin, ['virtio_pci']);
  const order = r.load.map((m) => m.name);
  t.same(order, ['netfs', '9pnet', '9pnet_virtio', '9p', 'irqbypass', 'kvm', 'ccp', 'kvm_amd']);
  // asking only for the leaves pulls in the same set, deps first
  const leaves = resolveModules(dir, ['9p', 'kvm_amd']).load.map((m) => m.name);
  t.ok(leaves.indexOf('netfs') < leaves.indexOf('9p'));
  t.ok(leaves.indexOf('kvm') < leaves.indexOf('kvm_amd') && leaves.indexOf('ccp') < leaves.indexOf('kvm_amd'));
  for (const m of r.load) t.equal(readModuleImage(m).readUInt32BE(0), 0x7f454c46, `${m.name} decompresses to ELF`);
  t.equal(r.load.find((m) => m.name === 'ccp')?.compression, 'none');
  t.equal(r.load.find((m) => m.name === 'kvm')?.compression, 'xz');
});

t.test('missing modules are a MissingModuleError naming them', async (t) => {
  const root = t.testdir({ mods: {}, empty: {} });
  const dir = fakeModulesDir(join(root, 'mods'), false);
  let err: unknown;
  try {
    resolveModules(dir, ['9p', 'virtio_pci', 'nope']);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof MissingModuleError, 'MissingModuleError');
  if (err instanceof MissingModuleError) {
    t.same(err.missing, ['virtio_pci', 'nope']);
    t.match(err.message, /modules\.builtin/);
  }
  t.throws(() => resolveModules(join(root, 'empty'), ['9p']), /no modules\.dep/);
});
