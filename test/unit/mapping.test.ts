// Mapping lifetime: the zero-copy Buffer is a real view of the mapping, handed out only
// while the mapping exists; unmap is once-only.
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { setInterceptor } from '../../src/kvm/libc.js';
import { Mapping } from '../../src/kvm/mapping.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/kvm/uapi/linux.js';

const RW = PROT_READ | PROT_WRITE;

function tmpFile(size: number): { fd: number; done: () => void } {
  const path = join(tmpdir(), `gmemtest-map-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const fd = openSync(path, 'w+');
  ftruncateSync(fd, size);
  unlinkSync(path);
  return { fd, done: () => closeSync(fd) };
}

t.test('mem is a zero-copy view of the file mapping', async (t) => {
  const f = tmpFile(8192);
  t.teardown(f.done);
  using m = Mapping.map(0, 8192, RW, MAP_SHARED, f.fd);
  t.equal(m.mem, m.mem, 'the same Buffer while mapped');
  t.equal(m.mem.length, 8192);
  // A store through the Buffer is in the file...
  m.mem.fill(0x5a, 4096, 4097);
  const b = Buffer.alloc(1);
  readSync(f.fd, b, 0, 1, 4096);
  t.equal(b[0], 0x5a, 'store through mem reaches the file');
  // ...and a write to the file is seen by a load through it.
  writeSync(f.fd, Buffer.from([0x33]), 0, 1, 10);
  t.equal(m.mem[10], 0x33, 'load through mem sees the file');
});

t.test('mem throws once unmapped; unmap is once-only', async (t) => {
  const m = Mapping.map(0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  m.mem[0] = 1;
  t.same(m.unmap(), { ret: 0, errno: 0 }, 'munmap succeeds');
  t.ok(m.unmapped);
  t.throws(() => m.mem, /used after munmap/, 'mem after unmap throws');
  let calls = 0;
  setInterceptor((c, real) => { if (c.fn === 'munmap') calls++; return real(); });
  try {
    t.same(m.unmap(), { ret: 0, errno: 0 }, 'second unmap reports success');
    t.equal(calls, 0, 'second unmap does not call munmap (the range may belong to someone else by now)');
  } finally {
    setInterceptor(null);
  }
});

t.test('using disposes the mapping at scope end', async (t) => {
  let escaped: Mapping;
  {
    using m = Mapping.map(0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    escaped = m;
    t.notOk(m.unmapped);
  }
  t.ok(escaped.unmapped, 'unmapped after the block');
  t.throws(() => escaped.mem, /used after munmap/);
});

t.test('tryMap reports the errno', async (t) => {
  const r = Mapping.tryMap(0, 4096, RW, MAP_SHARED, -1);
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.errnoName, 'EBADF');
});
