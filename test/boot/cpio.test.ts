import t from 'tap';
import { CpioWriter } from '../../src/boot/cpio.js';

interface Parsed {
  name: string;
  mode: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Buffer;
}

// Reads newc back, independently of the writer's code paths.
function parseNewc(buf: Buffer): Parsed[] {
  const out: Parsed[] = [];
  let off = 0;
  const field = (i: number): number => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
  for (;;) {
    if (buf.toString('ascii', off, off + 6) !== '070701') throw new Error(`bad magic at ${off}`);
    const mode = field(1);
    const nlink = field(4);
    const size = field(6);
    const rdevMajor = field(9);
    const rdevMinor = field(10);
    const nameSize = field(11);
    const name = buf.toString('utf8', off + 110, off + 110 + nameSize - 1);
    off += 110 + nameSize;
    off += (4 - (off % 4)) % 4;
    const data = buf.subarray(off, off + size);
    off += size;
    off += (4 - (off % 4)) % 4;
    if (name === 'TRAILER!!!') break;
    out.push({ name, mode, nlink, rdevMajor, rdevMinor, data });
  }
  if (off !== buf.length) throw new Error(`trailing bytes: ${buf.length - off}`);
  return out;
}

t.test('entries round-trip through a newc reader', async (t) => {
  const w = new CpioWriter();
  w.dir('bin').file('bin/tool', 'abc', 0o755).symlink('bin/sh', 'tool').chardev('dev/console', 5, 1).file('/init', Buffer.alloc(5, 7), 0o755);
  const entries = parseNewc(w.finish());
  t.same(
    entries.map((e) => [e.name, e.mode.toString(8)]),
    [
      ['bin', '40755'],
      ['bin/tool', '100755'],
      ['bin/sh', '120777'],
      ['dev/console', '20600'],
      ['init', '100755'],
    ],
  );
  t.equal(entries[1]?.data.toString(), 'abc');
  t.equal(entries[2]?.data.toString(), 'tool');
  t.same([entries[3]?.rdevMajor, entries[3]?.rdevMinor], [5, 1]);
  t.equal(entries[4]?.data.length, 5);
  t.equal(entries[0]?.nlink, 2);
});

t.test('archives are reproducible and 4-byte aligned', async (t) => {
  const make = (): Buffer => new CpioWriter().file('a', 'x').file('bb', 'yy').finish();
  const a = make();
  t.same(a, make());
  t.equal(a.length % 4, 0);
});

t.test('rejects duplicate and empty names', async (t) => {
  const w = new CpioWriter().file('a', '');
  t.throws(() => w.file('/a', ''), /duplicate/);
  t.throws(() => w.dir('/'), /bad cpio entry name/);
});
