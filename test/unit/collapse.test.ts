// The collapse case's verdicts, on an ordinary file with MADV_COLLAPSE's answer forced
// through the libc seam: EINVAL passes; a kernel that collapses fails with a diagnostic.
import { ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { GuestMemfd } from '../../src/kvm/guest-memfd.js';
import { setInterceptor, type SysResult } from '../../src/kvm/libc.js';
import { MADV_COLLAPSE } from '../../src/kvm/uapi/linux.js';
import { CheckFailure, SkipCase } from '../../src/runner/outcome.js';
import { collapse } from '../../src/cases/collapse.js';

const PMD = 2 * 1024 * 1024;
const env = { kernelRelease: 'test', pageSize: 4096, thpPmdSize: PMD, numaNodes: 1 };

function fileGmem(): GuestMemfd {
  const path = join(tmpdir(), `gmemtest-collapse-${process.pid}`);
  const fd = openSync(path, 'w+');
  ftruncateSync(fd, PMD);
  unlinkSync(path);
  return new GuestMemfd(fd, PMD, 3n);
}

function withCollapseAnswer(answer: SysResult, fn: () => void): void {
  setInterceptor((c, real) => (c.fn === 'madvise' && c.args[2] === MADV_COLLAPSE ? answer : real()));
  try { fn(); } finally { setInterceptor(null); }
}

t.test('MADV_COLLAPSE refused with EINVAL: pass, nothing left mapped', async (t) => {
  using g = fileGmem();
  // Every mapping the case makes in its helper (the reservation, the file) must meet its munmap. Counting
  // PROT_NONE lines of /proc/self/maps instead would race with V8's own reservations.
  const mapped = new Map<number, number>();
  setInterceptor((c, real) => {
    const r = c.fn === 'madvise' && c.args[2] === MADV_COLLAPSE ? { ret: -1, errno: 22 } : real();
    if (!c.remote) return r; // the case's mappings are the access helper's
    if (c.fn === 'mmap' && r.ret >= 0) mapped.set(r.ret, c.args[1] as number);
    if (c.fn === 'munmap' && r.ret === 0) {
      const [addr, len] = c.args as number[];
      for (const [a, l] of mapped) if (a >= addr! && a + l <= addr! + len!) mapped.delete(a);
    }
    return r;
  });
  try { collapse(g, PMD, env); } finally { setInterceptor(null); }
  t.same([...mapped.keys()], [], 'the reservation and the file mapping are unmapped');
});

t.test('MADV_COLLAPSE succeeding is a failure that says so', async (t) => {
  using g = fileGmem();
  let err: unknown;
  withCollapseAnswer({ ret: 0, errno: 0 }, () => { try { collapse(g, PMD, env); } catch (e) { err = e; } });
  t.type(err, CheckFailure);
  t.match((err as CheckFailure).diagnostics.join('\n'), /fails with EINVAL[\s\S]*the kernel collapsed the range/);
});

t.test('MADV_COLLAPSE failing with another errno is a failure naming it', async (t) => {
  using g = fileGmem();
  let err: unknown;
  withCollapseAnswer({ ret: -1, errno: 12 }, () => { try { collapse(g, PMD, env); } catch (e) { err = e; } });
  t.match((err as CheckFailure).diagnostics.join('\n'), /got: -1 \(ENOMEM\)/);
});

t.test('no THP: SKIP with the reason', async (t) => {
  using g = fileGmem();
  t.throws(() => collapse(g, PMD, { ...env, thpPmdSize: 0 }), SkipCase);
});
