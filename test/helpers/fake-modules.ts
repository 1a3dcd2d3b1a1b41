// Fake kernel modules and a fake Debian-like modules tree, for the --kvm-modules tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findDepmod } from '../../src/boot/kvm-modules.js';

export const FAKE_RELEASE = '7.2.13+deb14-amd64';
export const FAKE_VERMAGIC = `${FAKE_RELEASE} SMP preempt mod_unload `;

/**
 * A minimal relocatable ELF64 (x86-64) kernel module: .modinfo, the symbols it
 * exports (__ksymtab_strings, as depmod reads them), .symtab with the undefined
 * symbols it imports, .strtab and .shstrtab. Enough for readModinfo and depmod.
 */
export function fakeModule(modinfo: Record<string, string>, opts: { extra?: string; exports?: string[]; imports?: string[] } = {}): Buffer {
  const info = Buffer.from(Object.entries(modinfo).map(([k, v]) => `${k}=${v}\0`).join('') + (opts.extra ?? ''), 'latin1');
  const ksyms = Buffer.from((opts.exports ?? []).map((x) => `${x}\0`).join(''), 'latin1');
  const imports = opts.imports ?? [];
  const strtab = Buffer.from(`\0${imports.map((x) => `${x}\0`).join('')}`, 'latin1');
  const symtab = Buffer.alloc(24 * (1 + imports.length)); // the null symbol, then one per import
  let at = 1;
  imports.forEach((x, i) => {
    const e = 24 * (i + 1);
    symtab.writeUInt32LE(at, e); // st_name
    symtab[e + 4] = 0x10; // STB_GLOBAL, STT_NOTYPE; st_shndx 0 = SHN_UNDEF
    at += x.length + 1;
  });
  const shstr = Buffer.from('\0.modinfo\0__ksymtab_strings\0.symtab\0.strtab\0.shstrtab\0', 'latin1');
  const nameAt = (n: string): number => shstr.indexOf(Buffer.from(`\0${n}\0`, 'latin1')) + 1;
  const parts: Buffer[] = [];
  let off = 64;
  const place = (b: Buffer): number => { const where = off; parts.push(b); off += b.length; return where; };
  const infoAt = place(info);
  const ksymAt = place(ksyms);
  place(Buffer.alloc((8 - (off % 8)) % 8));
  const symAt = place(symtab);
  const strAt = place(strtab);
  const shstrAt = place(shstr);
  place(Buffer.alloc((8 - (off % 8)) % 8));
  const shoff = off;
  const sh = (name: number, type: number, flags: number, where: number, size: number, link = 0, info_ = 0, align = 1, entsize = 0): Buffer => {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(name, 0); b.writeUInt32LE(type, 4); b.writeBigUInt64LE(BigInt(flags), 8);
    b.writeBigUInt64LE(BigInt(where), 0x18); b.writeBigUInt64LE(BigInt(size), 0x20);
    b.writeUInt32LE(link, 0x28); b.writeUInt32LE(info_, 0x2c);
    b.writeBigUInt64LE(BigInt(align), 0x30); b.writeBigUInt64LE(BigInt(entsize), 0x38);
    return b;
  };
  const sections = [
    Buffer.alloc(64),
    sh(nameAt('.modinfo'), 1 /* PROGBITS */, 2 /* ALLOC */, infoAt, info.length),
    sh(nameAt('__ksymtab_strings'), 1, 2, ksymAt, ksyms.length),
    sh(nameAt('.symtab'), 2 /* SYMTAB */, 0, symAt, symtab.length, 4, 1, 8, 24),
    sh(nameAt('.strtab'), 3 /* STRTAB */, 0, strAt, strtab.length),
    sh(nameAt('.shstrtab'), 3, 0, shstrAt, shstr.length),
  ];
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0x7f454c46, 0);
  h[4] = 2; h[5] = 1; h[6] = 1; // ELFCLASS64, little endian, EV_CURRENT
  h.writeUInt16LE(1, 0x10); // ET_REL
  h.writeUInt16LE(62, 0x12); // EM_X86_64
  h.writeUInt32LE(1, 0x14);
  h.writeBigUInt64LE(BigInt(shoff), 0x28);
  h.writeUInt16LE(64, 0x34); // e_ehsize
  h.writeUInt16LE(64, 0x3a); // e_shentsize
  h.writeUInt16LE(sections.length, 0x3c);
  h.writeUInt16LE(sections.length - 1, 0x3e);
  return Buffer.concat([h, ...parts, ...sections]);
}

/** A fake module that imports one symbol from each of `deps` and exports `<name>_sym`. */
export const fakeKvmModule = (name: string, deps: string, vermagic = FAKE_VERMAGIC): Buffer =>
  fakeModule({ name, depends: deps, vermagic, license: 'GPL' }, {
    exports: [`${name}_sym`],
    imports: deps.split(',').filter((d) => d !== '').map((d) => `${d}_sym`),
  });

/** A Debian-like lib/modules/<release>: .ko.xz files, modules.dep, order, builtin. */
export function fakeModulesTree(dir: string): string {
  const files: [string, Buffer][] = [
    ['kernel/fs/netfs/netfs.ko', fakeKvmModule('netfs', '')],
    ['kernel/net/9p/9pnet.ko', fakeKvmModule('9pnet', 'netfs')],
    ['kernel/net/9p/9pnet_virtio.ko', fakeKvmModule('9pnet_virtio', '9pnet,netfs')],
    ['kernel/fs/9p/9p.ko', fakeKvmModule('9p', '9pnet,netfs')],
    ['kernel/virt/lib/irqbypass.ko', fakeKvmModule('irqbypass', '')],
    ['kernel/arch/x86/kvm/kvm.ko', fakeKvmModule('kvm', 'irqbypass')],
    ['kernel/arch/x86/kvm/kvm-intel.ko', fakeKvmModule('kvm_intel', 'kvm,irqbypass')],
    ['kernel/arch/x86/kvm/kvm-amd.ko', fakeKvmModule('kvm_amd', 'kvm,ccp,irqbypass')],
    ['kernel/drivers/crypto/ccp/ccp.ko', fakeKvmModule('ccp', '')],
  ];
  for (const [f, data] of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), data);
  }
  execFileSync('xz', files.map(([f]) => join(dir, f)));
  writeFileSync(join(dir, 'modules.order'), `${files.map(([f]) => `${f}`).join('\n')}\n`);
  writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/virtio/virtio_pci.ko\n');
  writeFileSync(join(dir, 'modules.builtin.modinfo'), '');
  writeFileSync(join(dir, 'config'), 'CONFIG_KVM=m\n');
  const depmod = findDepmod();
  if (depmod) execFileSync(depmod, ['-b', join(dir, '../../..'), FAKE_RELEASE]);
  return dir;
}

