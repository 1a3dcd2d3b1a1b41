// The aarch64 programs of src/native/arm64/ on any host: the access helper's ELF as
// readelf and aarch64-linux-gnu-objdump read it (a static AArch64 executable laid out for
// 64 KiB pages, every word an instruction, its labels where the generator put them), the
// ioctl sweep against GNU as for the loop it documents, the sweep's shared object. They
// only run inside an arm64 machine: test/boot/arm64.test.ts does that.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { arm64AccessHelper } from '../../src/native/arm64/access-helper.js';
import { arm64IoctlSweep } from '../../src/native/arm64/ioctl-sweep.js';
import { ioctlSweepSharedObject, SWEEP_BLOCK, SWEEP_SYMBOL } from '../../src/native/ioctl-sweep.js';
import { LOAD_PAGE } from '../../src/native/machine.js';
import { SYS_ioctl } from '../../src/kvm/arch/arm64/uapi.js';

function tool(name: string, args: string[]): string | null {
  const r = spawnSync(name, args, { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const OBJDUMP = 'aarch64-linux-gnu-objdump';
const noReadelf = tool('readelf', ['--version']) !== null ? false : 'readelf not installed (binutils)';
const noCross = tool(OBJDUMP, ['--version']) !== null && tool('aarch64-linux-gnu-as', ['--version']) !== null
  ? false : 'binutils-aarch64-linux-gnu not installed';

const dir = mkdtempSync(join(tmpdir(), 'gmemtest-a64native-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const save = (name: string, b: Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
};

t.test('access helper: a small static AArch64 executable laid out for 64 KiB pages', async (t) => {
  const p = arm64AccessHelper();
  t.equal(p.machine, 'aarch64');
  t.equal(Buffer.from(p.elf).readUInt16LE(18), 183, 'e_machine EM_AARCH64');
  t.ok(p.elf.length < 8192, `ELF of ${p.elf.length} bytes`);
  t.same(p.image.segments.map((s) => `${s.type} ${s.flags}`), ['LOAD RX', 'LOAD RW', 'GNU_STACK RW']);
  for (const s of p.image.segments.filter((x) => x.type === 'LOAD')) {
    t.equal(s.align, LOAD_PAGE.aarch64);
    t.equal((s.vaddr - s.offset) % 0x10000, 0, `${s.flags} segment: address and offset agree modulo 64 KiB`);
  }
  const bss = p.image.segments[1]!;
  t.ok(p.bufferAddr >= bss.vaddr && p.bufferAddr + p.bufferSize <= bss.vaddr + bss.memsz, 'the data buffer is inside the bss');
  t.ok(p.loadMax <= bss.memsz);
  t.equal(p.image.codeVaddr % 4, 0, 'instructions word aligned');
});

t.test('access helper: readelf agrees with the writer', { skip: noReadelf }, async (t) => {
  const p = arm64AccessHelper();
  const path = save('gmem-access-arm64', p.elf);
  const h = tool('readelf', ['-hW', path])!;
  t.match(h, /Machine:\s+AArch64/);
  t.match(h, /Type:\s+EXEC/);
  t.match(h, new RegExp(`Entry point address:\\s+0x${p.image.entry.toString(16)}\\b`));
  const l = tool('readelf', ['-lW', path])!;
  t.notMatch(l, /INTERP/, 'no interpreter');
  t.equal((l.match(/^\s+LOAD\s.*0x10000$/gm) ?? []).length, 2, 'two LOAD segments aligned to 64 KiB');
});

t.test('access helper: aarch64-linux-gnu-objdump decodes every word, the labels where the generator put them', { skip: noCross }, async (t) => {
  const p = arm64AccessHelper();
  const path = save('gmem-access-arm64-d', p.elf);
  const out = tool(OBJDUMP, ['-d', '-w', path])!;
  for (const s of p.image.symbols) {
    t.match(out, new RegExp(`^0*${s.value.toString(16)} <${s.name}>:$`, 'm'), `<${s.name}> at 0x${s.value.toString(16)}`);
  }
  t.notMatch(out, /\.inst|undefined|<unknown>/, 'no word objdump cannot decode');
  t.match(out, /\bsvc\s+#0x0\b/);
  // rep stosb/movsb have no arm64 form: FILL and LOAD are byte loops of strb/ldrb post-index
  t.match(out, /strb\s+w2, \[x0\], #1/);
  t.match(out, /ldrb\s+w0, \[x1\], #1/);
});

function gas(src: string): string | null {
  const d = mkdtempSync(join(tmpdir(), 'gmemtest-a64sweep-'));
  try {
    writeFileSync(join(d, 'a.s'), `.text\n${src}\n`);
    const as = spawnSync('aarch64-linux-gnu-as', ['-o', join(d, 'a.o'), join(d, 'a.s')], { encoding: 'utf8' });
    if (as.error) return null;
    if (as.status !== 0) throw new Error(as.stderr);
    spawnSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', join(d, 'a.o'), join(d, 'a.bin')]);
    return readFileSync(join(d, 'a.bin')).toString('hex');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

t.test('ioctl sweep: the same bytes as GNU as for the loop it documents', { skip: noCross }, async (t) => {
  const B = SWEEP_BLOCK;
  const want = gas(`
    mov x9, x0
    ldr x10, [x9, #${B.first}]
    ldr x11, [x9, #${B.out}]
    add x12, x9, #${B.arg}
    ldr x14, [x9, #${B.field}]
next:
    ldr x13, [x9, #${B.last}]
    cmp x10, x13
    b.hi done
    str x10, [x14]
    ldr x0, [x9, #${B.fd}]
    ldr x1, [x9, #${B.request}]
    mov x2, x12
    ldr x8, [x9, #${B.nr}]
    svc #0
    str x0, [x11]
    add x11, x11, #8
    add x10, x10, #1
    ldr x13, [x9, #${B.expect}]
    cmp x0, x13
    b.eq next
done:
    ldr x13, [x9, #${B.first}]
    sub x0, x10, x13
    str x0, [x9, #${B.issued}]
    ret`);
  const p = arm64IoctlSweep();
  t.equal(Buffer.from(p.code).toString('hex'), want);
  t.equal(p.ioctlNr, SYS_ioctl);
  t.equal(p.entry, 0);
});

t.test('ioctl sweep: the shared object exports it, laid out for 64 KiB pages', { skip: noReadelf }, async (t) => {
  const p = arm64IoctlSweep();
  const so = ioctlSweepSharedObject(p);
  t.same(so.symbols.map((s) => [s.name, s.value - so.codeVaddr, s.size]), [[SWEEP_SYMBOL, p.entry, p.code.length - p.entry]]);
  const path = save('libsweep-arm64.so', so.bytes);
  t.match(tool('readelf', ['-hW', path])!, /Machine:\s+AArch64/);
  t.match(tool('readelf', ['--dyn-syms', '-W', path])!, new RegExp(`FUNC\\s+GLOBAL DEFAULT\\s+\\d+ ${SWEEP_SYMBOL}$`, 'm'));
  const loads = so.segments.filter((s) => s.type === 'LOAD');
  t.same(loads.map((s) => s.align), [0x10000, 0x10000]);
  for (const s of loads) t.equal((s.vaddr - s.offset) % 0x10000, 0);
});
