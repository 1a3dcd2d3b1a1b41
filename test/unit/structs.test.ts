// Struct encoders: what putU64 and the kvm_create_guest_memfd encoder store, byte for byte.
import t from 'tap';
import { encodeCreateGuestMemfd, putU64 } from '../../src/kvm/structs.js';

t.test('putU64 stores numbers and bigints as little-endian u64', async (t) => {
  const b = Buffer.alloc(8);
  for (const v of [0, 1, 0xffff_ffff, 0x1_0000_0000, 2 ** 53 - 1]) {
    putU64(b, 0, v);
    t.equal(b.readBigUInt64LE(0), BigInt(v), `number ${v}`);
  }
  for (const v of [0n, 1n << 63n, (1n << 64n) - 1n]) {
    putU64(b, 0, v);
    t.equal(b.readBigUInt64LE(0), v, `bigint ${v}`);
  }
  putU64(b, 0, -1);
  t.equal(b.readBigUInt64LE(0), (1n << 64n) - 1n, 'a negative number wraps as in C');
});

t.test('kvm_create_guest_memfd: size, flags, zeroed reserved words', async (t) => {
  const b = Buffer.alloc(64, 0xee);
  encodeCreateGuestMemfd(b, 4096 * 4, 3);
  t.equal(b.readBigUInt64LE(0), 16384n);
  t.equal(b.readBigUInt64LE(8), 3n);
  t.ok(b.subarray(16, 64).every((x) => x === 0), 'reserved[6] all zero');
  encodeCreateGuestMemfd(b, 4096, 1n << 63n);
  t.equal(b.readBigUInt64LE(8), 1n << 63n);
});
