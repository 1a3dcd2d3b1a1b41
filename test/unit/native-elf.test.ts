// The ELF writer: readelf and objdump (binutils) read back what the writer says it wrote,
// the executable runs, and glibc's dlopen (through ffi-rs) finds every export.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Asm } from '../../src/asm/x86_64.js';
import { loadFfi } from '../../src/kvm/ffi.js';
import { elfHash, writeExecutable, writeSharedObject, type ElfImage } from '../../src/native/elf.js';

const isX64 = process.platform === 'linux' && process.arch === 'x64';

function tool(name: string, args: string[]): { stdout: string; stderr: string } | null {
  const r = spawnSync(name, args, { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}
const haveBinutils = tool('readelf', ['--version']) !== null && tool('objdump', ['--version']) !== null;
const noBinutils = haveBinutils ? false : 'binutils (readelf, objdump) not installed';

const dir = mkdtempSync(join(tmpdir(), 'gmemtest-elf-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function save(name: string, img: ElfImage, mode = 0o644): string {
  const p = join(dir, name);
  writeFileSync(p, img.bytes);
  chmodSync(p, mode);
  return p;
}

const num = (s: string): number => Number.parseInt(s, 16);

/** readelf -lW: the program headers, as the writer's ElfSegment fields. */
function readSegments(path: string): object[] {
  const out = tool('readelf', ['-lW', path])!;
  const rows: object[] = [];
  for (const line of out.stdout.split('\n')) {
    const m = /^\s+(LOAD|DYNAMIC|GNU_STACK)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) 0x([0-9a-f]+)$/.exec(line);
    if (!m) continue;
    const flags = m[6]!.replace(/ /g, '');
    rows.push({ type: m[1], flags: flags === 'RE' ? 'RX' : flags, offset: num(m[2]!), vaddr: num(m[3]!),
      filesz: num(m[4]!), memsz: num(m[5]!), align: num(m[7]!) });
  }
  return rows;
}

/** readelf -SW: the section headers. */
function readSections(path: string): object[] {
  const out = tool('readelf', ['-SW', path])!;
  const rows: object[] = [];
  for (const line of out.stdout.split('\n')) {
    const m = /^\s+\[\s*\d+\] (\S*)\s+(\S+)\s+([0-9a-f]{16}) ([0-9a-f]{6}) ([0-9a-f]{6}) ([0-9a-f]{2}) (.{3}) +(\d+) +(\d+) +(\d+)$/.exec(line);
    if (!m) continue;
    rows.push({ name: m[1], type: m[2], flags: m[7]!.trim(), addr: num(m[3]!), offset: num(m[4]!), size: num(m[5]!),
      entsize: num(m[6]!), link: Number(m[8]), info: Number(m[9]), align: Number(m[10]) });
  }
  return rows;
}

/** readelf -sW / --dyn-syms: the FUNC symbols. */
function readSymbols(path: string, which: '-sW' | '--dyn-syms'): object[] {
  const out = tool('readelf', [which, '-W', path])!;
  const rows: object[] = [];
  for (const line of out.stdout.split('\n')) {
    const m = /^\s+\d+: ([0-9a-f]{16})\s+(\d+) FUNC\s+GLOBAL DEFAULT\s+(\d+) (\S+)$/.exec(line);
    if (m) rows.push({ name: m[4], value: num(m[1]!), size: Number(m[2]), shndx: Number(m[3]) });
  }
  return rows;
}

/** objdump -d: every byte of .text in address order, and the address of each <label>. */
function disassemble(path: string): { bytes: string; start: number; labels: Map<string, number> } {
  const out = tool('objdump', ['-d', '-w', path])!;
  const labels = new Map<string, number>();
  let bytes = '';
  let start = -1;
  for (const line of out.stdout.split('\n')) {
    const l = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (l) labels.set(l[2]!, num(l[1]!));
    const m = /^\s+([0-9a-f]+):\t((?:[0-9a-f]{2} )+)/.exec(line);
    if (m) {
      if (start < 0) start = num(m[1]!);
      bytes += m[2]!.replace(/ /g, '');
    }
  }
  return { bytes, start, labels };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const clean = <T extends object>(xs: readonly T[]): object[] => xs.map((x) => ({ ...x }));

// A program that writes "ok\n" to stdout and exits 42.
function helloExe(): { img: ElfImage; code: Uint8Array; asm: Asm } {
  const asm = new Asm().label('_start')
    .movR32Imm32('eax', 1).movR32Imm32('edi', 1).leaR64Rip('rsi', 'msg').movR32Imm32('edx', 3).syscall()
    // touch the bss, so a missing or read-only bss kills it
    .movR32Imm32('edi', 0x1000000).movR64R64X('rax', 'rdi').movMem64R64('rdi', 8, 'rax')
    .movR32Imm32('eax', 231).movR32Imm32('edi', 42).syscall().ud2()
    .label('msg');
  const code = new Uint8Array([...asm.assemble(), ...Buffer.from('ok\n')]);
  const img = writeExecutable({ machine: 'x86_64', code, entry: 0, bss: { vaddr: 0x1000000, size: 0x3000 },
    symbols: [{ name: '_start', offset: 0, size: asm.offsetOf('msg') }] });
  return { img, code, asm };
}

t.test('executable: header fields', async (t) => {
  const { img, code } = helloExe();
  const b = Buffer.from(img.bytes);
  t.equal(b.subarray(0, 4).toString('latin1'), '\x7fELF');
  t.equal(b.readUInt16LE(16), 2, 'ET_EXEC');
  t.equal(b.readUInt16LE(18), 62, 'EM_X86_64');
  t.equal(Number(b.readBigUInt64LE(24)), img.entry);
  t.equal(img.entry, img.codeVaddr);
  t.equal(hex(b.subarray(img.codeVaddr - 0x400000, img.codeVaddr - 0x400000 + code.length)), hex(code), 'code at its offset');
  t.same(img.segments.map((s) => s.type), ['LOAD', 'LOAD', 'GNU_STACK']);
  t.ok(img.bytes.length < 1024, `small: ${img.bytes.length} bytes`);
});

t.test('executable: readelf and objdump agree with the writer', { skip: noBinutils }, async (t) => {
  const { img, code, asm } = helloExe();
  const p = save('hello', img, 0o755);
  const hdr = tool('readelf', ['-hW', p])!;
  t.equal(hdr.stderr, '', 'no readelf warnings');
  t.match(hdr.stdout, /Type:\s+EXEC \(Executable file\)/);
  t.match(hdr.stdout, /Machine:\s+Advanced Micro Devices X86-64/);
  t.match(hdr.stdout, new RegExp(`Entry point address:\\s+0x${img.entry.toString(16)}\\n`));
  t.same(readSegments(p), clean(img.segments));
  t.same(readSections(p), clean(img.sections));
  t.same(readSymbols(p, '-sW'), clean(img.symbols));
  const all = tool('readelf', ['-aW', p])!;
  t.equal(all.stderr, '', 'readelf -a: no warnings');
  t.match(all.stdout, /There is no dynamic section in this file/);
  t.match(all.stdout, /There are no relocations in this file/);
  const d = disassemble(p);
  t.equal(d.start, img.codeVaddr, '.text starts where the writer put the code');
  t.equal(d.bytes, hex(code), 'objdump -d shows the code bytes');
  t.equal(d.labels.get('_start'), img.codeVaddr + asm.offsetOf('_start'));
});

t.test('executable: runs', { skip: isX64 ? false : 'x86_64 code' }, async (t) => {
  const p = save('hello-run', helloExe().img, 0o755);
  const r = spawnSync(p, [], { encoding: 'utf8' });
  t.equal(r.signal, null, 'not killed');
  t.equal(r.status, 42, 'exit code');
  t.equal(r.stdout, 'ok\n');
});

// Functions that return distinct values, many of them so DT_HASH spreads them over buckets.
const NAMES = ['answer', 'add', 'gmem_sweep', 'a', 'b', 'zz', 'printf', 'x_y_z', 'aaaaaaaaaaaaaaaaaaaaaaa', 'Q'];
function library(): { img: ElfImage; asm: Asm } {
  const asm = new Asm();
  NAMES.forEach((n, i) => {
    asm.label(n);
    if (n === 'add') asm.movR64R64('rax', 'rdi').addR64R64('rax', 'rsi').ret();
    else asm.movR32Imm32('eax', 100 + i).ret();
  });
  asm.label('end');
  const code = asm.assemble();
  const exports = NAMES.map((n, i) => ({ name: n, offset: asm.offsetOf(n),
    size: (i + 1 < NAMES.length ? asm.offsetOf(NAMES[i + 1]!) : code.length) - asm.offsetOf(n) }));
  return { img: writeSharedObject({ machine: 'x86_64', code, exports, soname: 'libgmemtest-test.so' }), asm };
}

t.test('shared object: readelf and objdump agree with the writer', { skip: noBinutils }, async (t) => {
  const { img, asm } = library();
  const p = save('libt.so', img);
  const all = tool('readelf', ['-aW', p])!;
  t.equal(all.stderr, '', 'readelf -a: no warnings');
  t.match(all.stdout, /Type:\s+DYN \(Shared object file\)/);
  t.match(all.stdout, /There are no relocations in this file/);
  t.notMatch(all.stdout, /NEEDED|INTERP/);
  t.same(readSegments(p), clean(img.segments));
  t.same(readSections(p), clean(img.sections));
  t.same(readSymbols(p, '--dyn-syms'), clean(img.symbols));
  const dyn = tool('readelf', ['-dW', p])!.stdout;
  for (const e of img.dynamic) {
    if (e.tag === 'NULL') continue;
    const shown = e.tag === 'SONAME' ? 'Library soname: \\[libgmemtest-test.so\\]'
      : e.tag === 'STRSZ' || e.tag === 'SYMENT' ? `${e.value} \\(bytes\\)` : `0x${e.value.toString(16)}`;
    t.match(dyn, new RegExp(`\\(${e.tag}\\)\\s+${shown}`), `DT_${e.tag}`);
  }
  const d = disassemble(p);
  for (const n of NAMES) t.equal(d.labels.get(n), img.codeVaddr + asm.offsetOf(n), `<${n}> at its address`);
});

t.test('shared object: dlopen through ffi-rs finds every export', { skip: isX64 ? false : 'x86_64 code' }, async (t) => {
  const { img } = library();
  const p = save('libt-run.so', img);
  const { ffi } = loadFfi();
  const lib = `gmemtest-elf-test-${process.pid}`;
  ffi.open({ library: lib, path: p });
  const call = (funcName: string, args: number[]): number => ffi.load({ library: lib, funcName,
    retType: ffi.DataType.I64, paramsType: args.map(() => ffi.DataType.I64), paramsValue: args, freeResultMemory: false } as Parameters<typeof ffi.load>[0]) as unknown as number;
  NAMES.forEach((n, i) => {
    if (n === 'add') t.equal(call(n, [40, 2]), 42, 'add(40, 2)');
    else t.equal(call(n, []), 100 + i, `${n}()`);
  });
  t.throws(() => call('not_exported', []), 'an unknown name is not found');
});

t.test('elfHash: the SysV ABI hash', async (t) => {
  t.equal(elfHash(''), 0);
  t.equal(elfHash('a'), 0x61);
  t.equal(elfHash('ab'), 0x672);
  // long names fold the top nibble back in; glibc's lookup above agrees with these buckets
  t.equal(elfHash('aaaaaaaaaaaaaaaaaaaaaaa') >>> 28, 0, 'the top four bits are always clear');
});

t.test('writer refuses what it cannot lay out', async (t) => {
  const code = new Uint8Array([0xc3]);
  t.throws(() => writeExecutable({ machine: 'x86_64', code, entry: 1 }), /entry/);
  t.throws(() => writeExecutable({ machine: 'x86_64', code, entry: 0, baseVaddr: 0x400010 }), /page-aligned/);
  t.throws(() => writeExecutable({ machine: 'x86_64', code, entry: 0, bss: { vaddr: 0x400000, size: 1 } }), /overlaps/);
  t.throws(() => writeExecutable({ machine: 'x86_64', code, entry: 0, bss: { vaddr: 0x1000001, size: 1 } }), /page-aligned/);
  t.throws(() => writeExecutable({ machine: 'x86_64', code, entry: 0, symbols: [{ name: 'f', offset: 0, size: 2 }] }), /outside/);
  t.throws(() => writeSharedObject({ machine: 'x86_64', code, exports: [] }), /at least one/);
  t.throws(() => writeSharedObject({ machine: 'x86_64', code, exports: [{ name: 'f', offset: 0, size: 1 }, { name: 'f', offset: 0, size: 1 }] }), /twice/);
  t.throws(() => writeSharedObject({ machine: 'x86_64', code, exports: [{ name: 'a\0b', offset: 0, size: 1 }] }), /NUL/);
});

