// Every ioctl number, constant, struct size and field offset gmemtest hard-codes,
// against the values the kernel's uapi headers give (fixtures/uapi-x86_64.json).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { io, ior, iow, iowr } from '../../src/kvm/ioc.js';
import { OFFSETOF, SIZEOF } from '../../src/kvm/structs.js';
import * as uapi from '../../src/kvm/uapi.js';

interface Fixture {
  header_version: string;
  ioctls: Record<string, number>;
  constants: Record<string, number>;
  sizes: Record<string, number>;
  offsets: Record<string, number>;
}
const fx = JSON.parse(readFileSync(new URL('../../fixtures/uapi-x86_64.json', import.meta.url), 'utf8')) as Fixture;
const ours = uapi as unknown as Record<string, number | undefined>;

t.test('fixture says where it comes from', async (t) => {
  t.match(fx.header_version, /linux-libc-dev \d+\.\d+/);
});

t.test('ioctl numbers', async (t) => {
  for (const [name, value] of Object.entries(fx.ioctls)) t.equal(ours[name], value, name);
});

t.test('constants', async (t) => {
  const syscalls: Record<string, string> = { SYS_mbind: 'SYS_mbind', SYS_get_mempolicy: 'SYS_get_mempolicy', SYS_move_pages: 'SYS_move_pages' };
  for (const [name, value] of Object.entries(fx.constants)) t.equal(ours[syscalls[name] ?? name], value, name);
});

t.test('struct sizes', async (t) => {
  const sizes = SIZEOF as Record<string, number>;
  for (const [name, value] of Object.entries(fx.sizes)) t.equal(sizes[name], value, `sizeof(struct ${name})`);
});

t.test('field offsets', async (t) => {
  const offsets = OFFSETOF as unknown as Record<string, Record<string, number>>;
  for (const [key, value] of Object.entries(fx.offsets)) {
    const dot = key.indexOf('.');
    const struct = key.slice(0, dot);
    const field = key.slice(dot + 1);
    t.equal(offsets[struct]?.[field], value, `offsetof(struct ${struct}, ${field})`);
  }
});

t.test('ioctl encoding against hand-computed numbers', async (t) => {
  t.equal(io(0xae, 0x01), 0xae01);
  t.equal(ior(0xae, 0x81, 144), 0x8090ae81);
  t.equal(iow(0xae, 0x82, 144), 0x4090ae82);
  t.equal(iowr(0xae, 0xd4, 64), 0xc040aed4);
  t.throws(() => iow(0xae, 0, 1 << 14), RangeError);
});
