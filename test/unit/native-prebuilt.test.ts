// src/native/prebuilt.ts holds exactly what the generators produce now.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { accessHelperProgram } from '../../src/native/access-helper.js';
import { ioctlSweepProgram, ioctlSweepSharedObject, ioctlSweepSharedObjectBytes } from '../../src/native/ioctl-sweep.js';
import { renderPrebuilt } from '../../src/native/prebuilt-render.js';

t.test('prebuilt.ts is current (else: npx tsx scripts/native-prebuilt.ts)', async (t) => {
  t.equal(readFileSync(new URL('../../src/native/prebuilt.ts', import.meta.url), 'utf8'), renderPrebuilt());
});

for (const machine of ['x86_64', 'aarch64'] as const) t.test(`${machine}: the prebuilt programs equal fresh ones`, async (t) => {
  const pre = accessHelperProgram(machine);
  const fresh = accessHelperProgram(machine, { fresh: true });
  t.same({ ...pre, elf: Buffer.from(pre.elf).toString('hex') },
    { machine: fresh.machine, elf: Buffer.from(fresh.elf).toString('hex'), bufferAddr: fresh.bufferAddr,
      bufferSize: fresh.bufferSize, loadMax: fresh.loadMax });
  const sp = ioctlSweepProgram(machine);
  const sf = ioctlSweepProgram(machine, { fresh: true });
  t.same({ ...sp, code: Buffer.from(sp.code).toString('hex') }, { ...sf, code: Buffer.from(sf.code).toString('hex') });
  t.equal(Buffer.from(ioctlSweepSharedObjectBytes(sp)).toString('hex'), Buffer.from(ioctlSweepSharedObject(sf).bytes).toString('hex'));
});
