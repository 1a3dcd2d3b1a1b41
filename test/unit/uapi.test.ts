// Every ioctl number, constant, struct size and field offset gmemtest hard-codes, against
// the values the kernel's uapi headers give, once per architecture with that
// architecture's own fixture: fixtures/uapi-x86_64.json (cc on the host) and
// fixtures/uapi-arm64.json (aarch64-linux-gnu-gcc -S on Debian's arm64 headers). The names
// come from three owners: src/kvm/uapi/kvm.ts, src/kvm/uapi/linux.ts and the
// architecture's src/kvm/arch/<arch>/uapi.ts.
//
// Both directions are checked: each fixture value is ours, and each architecture-neutral
// name (kvm.ts, linux.ts, structs.ts's SIZEOF/OFFSETOF) is in every fixture with the
// same value: the kvm_run layout, KVM_CREATE_GUEST_MEMFD, region2 and the rest really are
// the same on arm64, not assumed to be.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { io, ior, iow, iowr } from '../../src/kvm/ioc.js';
import * as a64 from '../../src/kvm/arch/arm64/uapi.js';
import * as x86 from '../../src/kvm/arch/x86_64/uapi.js';
import type { ArchUapi } from '../../src/kvm/arch/types.js';
import { OFFSETOF, SIZEOF } from '../../src/kvm/structs.js';
import * as kvm from '../../src/kvm/uapi/kvm.js';
import * as linux from '../../src/kvm/uapi/linux.js';

interface Fixture {
  header_version: string;
  ioctls: Record<string, number>;
  constants: Record<string, number | string>;
  sizes: Record<string, number>;
  offsets: Record<string, number>;
  one_reg_ids?: Record<string, string>;
}
const load = (file: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${file}`, import.meta.url), 'utf8')) as Fixture;

type Offsets = Record<string, Record<string, number>>;
/** structs.ts's offsets and the architecture's, struct by struct (kvm_run has fields in both). */
function mergeOffsets(...all: Offsets[]): Offsets {
  const out: Offsets = {};
  for (const o of all) for (const [s, fields] of Object.entries(o)) out[s] = { ...out[s], ...fields };
  return out;
}

interface Arch {
  name: string;
  fx: Fixture;
  module: Record<string, unknown>;
  table: ArchUapi;
  sizes: Record<string, number>;
  offsets: Offsets;
  /** Fixture names that are checks inside the fixture, not values of ours (see below). */
  internal: (name: string) => boolean;
}

const ARCHES: Arch[] = [
  {
    name: 'x86_64', fx: load('uapi-x86_64.json'), module: x86 as unknown as Record<string, unknown>, table: x86.x86_64,
    sizes: { ...SIZEOF, ...x86.X86_SIZEOF }, offsets: mergeOffsets(OFFSETOF as unknown as Offsets, x86.X86_OFFSETOF as unknown as Offsets),
    internal: () => false,
  },
  {
    name: 'arm64', fx: load('uapi-arm64.json'), module: a64 as unknown as Record<string, unknown>, table: a64.arm64,
    sizes: { ...SIZEOF, ...a64.ARM64_SIZEOF }, offsets: mergeOffsets(OFFSETOF as unknown as Offsets, a64.ARM64_OFFSETOF as unknown as Offsets),
    // __NR_x is checked equal to SYS_x; kernel_stat is checked equal to glibc's stat.
    internal: (n) => n.startsWith('__NR_') || n.startsWith('kernel_stat'),
  },
];

const same = (ours: unknown, theirs: number | string): boolean =>
  typeof theirs === 'string' ? typeof ours === 'bigint' && ours === BigInt(theirs) : ours === theirs;

for (const a of ARCHES) {
  const owners = [kvm, linux, a.module] as unknown as Record<string, unknown>[];
  const ours: Record<string, unknown> = Object.assign({}, ...owners);
  const { fx } = a;

  t.test(`${a.name}: fixture says where it comes from`, async (t) => {
    t.match(fx.header_version, /linux-libc-dev \d+\.\d+/);
  });

  t.test(`${a.name}: ioctl numbers`, async (t) => {
    for (const [name, value] of Object.entries(fx.ioctls)) t.equal(ours[name], value, name);
  });

  t.test(`${a.name}: constants`, async (t) => {
    for (const [name, value] of Object.entries(fx.constants)) {
      if (a.internal(name)) continue;
      t.ok(same(ours[name], value), `${name}: ours ${String(ours[name])}, headers ${value}`);
    }
  });

  t.test(`${a.name}: struct sizes`, async (t) => {
    for (const [name, value] of Object.entries(fx.sizes)) {
      if (!a.internal(name)) t.equal(a.sizes[name], value, `sizeof(struct ${name})`);
    }
  });

  t.test(`${a.name}: field offsets`, async (t) => {
    for (const [key, value] of Object.entries(fx.offsets)) {
      if (a.internal(key)) continue;
      const dot = key.indexOf('.');
      t.equal(a.offsets[key.slice(0, dot)]?.[key.slice(dot + 1)], value, `offsetof(struct ${key.slice(0, dot)}, ${key.slice(dot + 1)})`);
    }
  });

  t.test(`${a.name}: every architecture-neutral name has the same value here`, async (t) => {
    const headers: Record<string, number | string> = { ...fx.ioctls, ...fx.constants };
    for (const [name, v] of Object.entries({ ...kvm, ...linux })) {
      if (typeof v !== 'number' || name === 'KVMIO') continue; // KVMIO: the encoding test below
      t.equal(headers[name], v, name);
    }
    for (const [name, v] of Object.entries(SIZEOF)) t.equal(fx.sizes[name], v, `sizeof(struct ${name})`);
    for (const [s, fields] of Object.entries(OFFSETOF)) {
      for (const [f, v] of Object.entries(fields)) t.equal(fx.offsets[`${s}.${f}`], v, `offsetof(struct ${s}, ${f})`);
    }
  });

  t.test(`${a.name}: no name is defined by two owners`, async (t) => {
    const seen = new Map<string, number>();
    for (const o of owners) for (const k of Object.keys(o)) seen.set(k, (seen.get(k) ?? 0) + 1);
    t.same([...seen].filter(([, n]) => n > 1).map(([k]) => k), []);
  });

  t.test(`${a.name}: the architecture table agrees with its named constants`, async (t) => {
    t.equal(a.table.name, a.name);
    for (const [name, nr] of Object.entries(a.table.sys)) t.equal(nr, fx.constants[`SYS_${name}`], `SYS_${name}`);
    t.equal(a.table.stat.size, fx.sizes.stat);
    t.ok(a.table.vmTypes.some((v) => v.type === a.table.defaultVmType && v.name === 'default_vm'), 'the default VM is named default_vm');
  });
}

const [X86, A64] = ARCHES as [Arch, Arch];

t.test('x86_64: the default VM type', async (t) => {
  t.equal(x86.x86_64.defaultVmType, X86.fx.constants.KVM_X86_DEFAULT_VM);
});

t.test('arm64: one VM type, type 0 (the default IPA size), as upstream tests arm64', async (t) => {
  t.same(a64.arm64.vmTypes, [{ type: 0, name: 'default_vm' }]);
  t.equal(a64.arm64.defaultVmType & (A64.fx.constants.KVM_VM_TYPE_ARM_IPA_SIZE_MASK as number), 0, 'IPA size field 0: KVM_PHYS_SHIFT');
  t.equal(a64.KVM_VM_TYPE_ARM_MASK, A64.fx.constants.KVM_VM_TYPE_ARM_MASK);
});

t.test("arm64: glibc's SYS_ names are the kernel's __NR_ numbers", async (t) => {
  const c = A64.fx.constants;
  const nr = Object.keys(c).filter((k) => k.startsWith('__NR_'));
  t.ok(nr.length >= 5);
  for (const k of nr) t.equal(c[`SYS_${k.slice(5)}`], c[k], k);
});

t.test("arm64: glibc's struct stat is the kernel's (fstat goes through syscall())", async (t) => {
  const { sizes, offsets } = A64.fx;
  t.equal(sizes.stat, sizes.kernel_stat);
  for (const f of ['st_dev', 'st_ino', 'st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_rdev', 'st_size', 'st_blksize', 'st_blocks']) {
    t.equal(offsets[`stat.${f}`], offsets[`kernel_stat.${f}`], f);
  }
});

t.test('arm64: the struct stat decoder reads the generic layout', async (t) => {
  const b = Buffer.alloc(a64.ARM64_SIZEOF.stat, 0xee);
  const o = A64.fx.offsets;
  b.writeBigUInt64LE(0x801n, o['stat.st_dev']!);
  b.writeBigUInt64LE(12345n, o['stat.st_ino']!);
  b.writeUInt32LE(0o100600, o['stat.st_mode']!);
  b.writeUInt32LE(1, o['stat.st_nlink']!);
  b.writeBigInt64LE(2097152n, o['stat.st_size']!);
  b.writeInt32LE(4096, o['stat.st_blksize']!);
  b.writeBigInt64LE(4096n, o['stat.st_blocks']!);
  t.same(a64.arm64.stat.decode(b), { dev: 0x801, ino: 12345, nlink: 1, mode: 0o100600, size: 2097152, blksize: 4096, blocks: 4096 });
});

t.test('arm64: ONE_REG ids, recomputed from kvm_regs offsets and sysreg encodings, are the headers\'', async (t) => {
  const ids = A64.fx.one_reg_ids ?? {};
  const ours: Record<string, bigint> = {};
  for (let n = 0; n <= 30; n++) ours[`x${n}`] = a64.REG.x(n);
  for (const [k, v] of Object.entries(a64.REG)) if (typeof v === 'bigint') ours[k] = v;
  t.same(Object.keys(ours).sort(), Object.keys(ids).sort(), 'the same set of registers');
  for (const [k, v] of Object.entries(ids)) t.equal(ours[k], BigInt(v), k);
  t.equal(a64.REG.x(0), 0x6030000000100000n);
  t.equal(a64.REG.pc, 0x6030000000100040n);
  t.throws(() => a64.REG.x(31), RangeError);
  t.throws(() => a64.coreRegId(4), RangeError);
});

t.test('arm64: what it shares with x86-64 has the same value; what differs is this list', async (t) => {
  const differ: string[] = [];
  for (const sec of ['ioctls', 'constants', 'sizes', 'offsets'] as const) {
    const theirs = A64.fx[sec] as Record<string, unknown>;
    for (const [k, v] of Object.entries(X86.fx[sec] as Record<string, unknown>)) {
      if (k in theirs && theirs[k] !== v) differ.push(`${sec}.${k}`);
    }
  }
  t.same(differ.sort(), [
    // the generic system call table
    'constants.SYS_fstat', 'constants.SYS_get_mempolicy', 'constants.SYS_gettid', 'constants.SYS_madvise',
    'constants.SYS_mbind', 'constants.SYS_mmap', 'constants.SYS_move_pages', 'constants.SYS_munmap',
    'constants.SYS_prctl', 'constants.SYS_timer_create', 'constants.SYS_timer_delete', 'constants.SYS_timer_settime',
    // the generic struct stat: 128 bytes, 32-bit st_mode and st_nlink before st_uid
    'offsets.stat.st_mode', 'offsets.stat.st_nlink', 'sizes.stat',
  ].sort());
});

t.test('ioctl encoding (asm-generic, the same on x86_64 and arm64) against hand-computed numbers', async (t) => {
  t.equal(io(0xae, 0x01), 0xae01);
  t.equal(ior(0xae, 0x81, 144), 0x8090ae81);
  t.equal(iow(0xae, 0x82, 144), 0x4090ae82);
  t.equal(iowr(0xae, 0xd4, 64), 0xc040aed4);
  t.equal(a64.KVM_ARM_VCPU_INIT, 0x4020aeae);
  t.equal(a64.KVM_ARM_PREFERRED_TARGET, 0x8020aeaf);
  t.equal(a64.KVM_SET_ONE_REG, 0x4010aeac);
  t.throws(() => iow(0xae, 0, 1 << 14), RangeError);
});
