// Every ioctl number, constant, struct size and field offset gmemtest hard-codes,
// against the values the kernel's uapi headers give (fixtures/uapi-x86_64.json).
// The names come from three owners: src/kvm/uapi/kvm.ts, src/kvm/uapi/linux.ts and
// the architecture's src/kvm/arch/x86_64/uapi.ts.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { io, ior, iow, iowr } from '../../src/kvm/ioc.js';
import * as x86 from '../../src/kvm/arch/x86_64/uapi.js';
import { OFFSETOF, SIZEOF } from '../../src/kvm/structs.js';
import * as kvm from '../../src/kvm/uapi/kvm.js';
import * as linux from '../../src/kvm/uapi/linux.js';

interface Fixture {
  header_version: string;
  ioctls: Record<string, number>;
  constants: Record<string, number>;
  sizes: Record<string, number>;
  offsets: Record<string, number>;
}
const fx = JSON.parse(readFileSync(new URL('../../fixtures/uapi-x86_64.json', import.meta.url), 'utf8')) as Fixture;
// Each name lives in exactly one of the three owners (KVM, Linux, the architecture).
const owners = [kvm, linux, x86] as unknown as Record<string, number | undefined>[];
const ours: Record<string, number | undefined> = Object.assign({}, ...owners);
const sizes: Record<string, number> = { ...SIZEOF, ...x86.X86_SIZEOF };
const offsets = { ...OFFSETOF, ...x86.X86_OFFSETOF } as unknown as Record<string, Record<string, number>>;

t.test('fixture says where it comes from', async (t) => {
  t.match(fx.header_version, /linux-libc-dev \d+\.\d+/);
});

t.test('ioctl numbers', async (t) => {
  for (const [name, value] of Object.entries(fx.ioctls)) t.equal(ours[name], value, name);
});

t.test('constants', async (t) => {
  for (const [name, value] of Object.entries(fx.constants)) t.equal(ours[name], value, name);
});

t.test('struct sizes', async (t) => {
  for (const [name, value] of Object.entries(fx.sizes)) t.equal(sizes[name], value, `sizeof(struct ${name})`);
});

t.test('field offsets', async (t) => {
  for (const [key, value] of Object.entries(fx.offsets)) {
    const dot = key.indexOf('.');
    const struct = key.slice(0, dot);
    const field = key.slice(dot + 1);
    t.equal(offsets[struct]?.[field], value, `offsetof(struct ${struct}, ${field})`);
  }
});

t.test('no name is defined by two owners', async (t) => {
  const seen = new Map<string, number>();
  for (const o of owners) for (const k of Object.keys(o)) seen.set(k, (seen.get(k) ?? 0) + 1);
  t.same([...seen].filter(([, n]) => n > 1).map(([k]) => k), []);
});

t.test('the architecture table agrees with its named constants', async (t) => {
  for (const [name, nr] of Object.entries(x86.x86_64.sys)) t.equal(nr, fx.constants[`SYS_${name}`], `SYS_${name}`);
  t.equal(x86.x86_64.stat.size, fx.sizes.stat);
  t.equal(x86.x86_64.defaultVmType, fx.constants.KVM_X86_DEFAULT_VM);
});

t.test('ioctl encoding against hand-computed numbers', async (t) => {
  t.equal(io(0xae, 0x01), 0xae01);
  t.equal(ior(0xae, 0x81, 144), 0x8090ae81);
  t.equal(iow(0xae, 0x82, 144), 0x4090ae82);
  t.equal(iowr(0xae, 0xd4, 64), 0xc040aed4);
  t.throws(() => iow(0xae, 0, 1 << 14), RangeError);
});
