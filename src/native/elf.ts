/**
 * A minimal ELF64 writer for the machine code src/native/ generates: a static executable
 * (ET_EXEC: no interpreter, no libraries, raw system calls only) and a shared object that
 * glibc's dlopen() accepts (ET_DYN: exported functions in .dynsym, found through DT_HASH;
 * no relocations, no imports, no DT_NEEDED). Little-endian; the machine (x86_64 or
 * aarch64) sets e_machine, the code is the caller's. Segments are laid out for a page size
 * the spec can give (default 4 KiB): arm64 kernels run with 4, 16 or 64 KiB pages, and a
 * segment whose address and file offset agree only modulo 4 KiB cannot be mapped on the
 * larger ones, so aarch64 programs use 64 KiB (as GNU ld's default for aarch64 does).
 *
 * Every file also gets section headers (.text, .bss, .symtab / .dynsym ...), which the
 * kernel and ld.so ignore, so that readelf and objdump can show what is in it; the
 * returned {@link ElfImage} describes the layout the writer chose, which
 * test/unit/native-elf.test.ts compares with readelf's and objdump's reading of the bytes.
 *
 * Layout (offsets in the file; addresses are offsets plus the load base):
 *   ELF header | program headers | [.hash .dynsym .dynstr] | .text  -> first PT_LOAD (R+X)
 *   [.dynamic]                                                       -> PT_LOAD (RW) + PT_DYNAMIC
 *   [.bss: no bytes in the file]                                     -> PT_LOAD (RW), p_filesz 0
 *   [.symtab .strtab] .shstrtab | section headers                   -> not loaded
 * plus PT_GNU_STACK (RW): no executable stack; without it glibc's dlopen would try to
 * make the thread stacks executable, and the kernel would map an executable's stack so.
 */

export type ElfMachine = 'x86_64' | 'aarch64';

const EM: Record<ElfMachine, number> = { x86_64: 62, aarch64: 183 };
export const ELF_PAGE = 0x1000;

/** A function in the code: its name, offset from the start of the code, size in bytes. */
export interface ElfSymbolSpec {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

/**
 * Symbols for the labels `names`, each sized up to the next label placed after it (or
 * `end`): what objdump needs to name the code's pieces.
 */
export function labelSymbols(offsetOf: (label: string) => number, names: readonly string[], end: number): ElfSymbolSpec[] {
  const offs = names.map(offsetOf);
  return names.map((name, i) => {
    const next = offs.filter((o) => o > offs[i]!).sort((x, y) => x - y)[0] ?? end;
    return { name, offset: offs[i]!, size: next - offs[i]! };
  });
}

export interface ExecutableSpec {
  readonly machine: ElfMachine;
  readonly code: Uint8Array;
  /** Offset of the entry point in `code`. */
  readonly entry: number;
  /** Load address of the file's first page (the ELF header); page-aligned. Default 0x400000. */
  readonly baseVaddr?: number;
  /** Zero-filled read/write memory at a fixed, page-aligned address above the text. */
  readonly bss?: { readonly vaddr: number; readonly size: number };
  /** Names for places in the code, written to .symtab (for objdump; the program never sees them). */
  readonly symbols?: readonly ElfSymbolSpec[];
  /** The page size segments are aligned to (p_align); a power of two, at least 4 KiB. Default ELF_PAGE. */
  readonly pageSize?: number;
}

export interface SharedObjectSpec {
  readonly machine: ElfMachine;
  /** Position-independent code: it is loaded at whatever address ld.so picks. */
  readonly code: Uint8Array;
  /** Exported functions (STB_GLOBAL, STT_FUNC in .dynsym). */
  readonly exports: readonly ElfSymbolSpec[];
  readonly soname?: string;
  /** As ExecutableSpec.pageSize. */
  readonly pageSize?: number;
}

export type SegmentType = 'LOAD' | 'DYNAMIC' | 'GNU_STACK';
export type SectionType = 'NULL' | 'PROGBITS' | 'NOBITS' | 'SYMTAB' | 'STRTAB' | 'HASH' | 'DYNSYM' | 'DYNAMIC';

export interface ElfSegment {
  readonly type: SegmentType;
  /** 'R', 'RW' or 'RX' (readelf writes RX as "R E"). */
  readonly flags: 'R' | 'RW' | 'RX';
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

export interface ElfSection {
  readonly name: string;
  readonly type: SectionType;
  /** sh_flags as readelf's letters: A (alloc), W (write), X (exec). */
  readonly flags: string;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly entsize: number;
  /** Index of the linked section (string table of a symbol table...), 0 if none. */
  readonly link: number;
  readonly info: number;
  readonly align: number;
}

export interface ElfSymbol {
  readonly name: string;
  /** Address (offset from the load base for a shared object). */
  readonly value: number;
  readonly size: number;
  /** Section index (.text's). */
  readonly shndx: number;
}

export interface ElfImage {
  readonly bytes: Uint8Array;
  readonly type: 'EXEC' | 'DYN';
  readonly machine: ElfMachine;
  /** e_entry (0 for a shared object). */
  readonly entry: number;
  /** Address of code[0]. */
  readonly codeVaddr: number;
  readonly segments: readonly ElfSegment[];
  readonly sections: readonly ElfSection[];
  /** .symtab of an executable or .dynsym of a shared object, without the null symbol. */
  readonly symbols: readonly ElfSymbol[];
  /** DT_* tag name -> value, for a shared object. */
  readonly dynamic: readonly { readonly tag: string; readonly value: number }[];
}

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const DYN_SIZE = 16;

const PT: Record<SegmentType, number> = { LOAD: 1, DYNAMIC: 2, GNU_STACK: 0x6474e551 };
const PF: Record<ElfSegment['flags'], number> = { R: 4, RW: 6, RX: 5 };
const SHT: Record<SectionType, number> = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, HASH: 5, DYNAMIC: 6, NOBITS: 8, DYNSYM: 11,
};
const DT = { NULL: 0, HASH: 4, STRTAB: 5, SYMTAB: 6, STRSZ: 10, SYMENT: 11, SONAME: 14 } as const;
type DtName = keyof typeof DT;

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

function pageSizeOf(spec: { readonly pageSize?: number }): number {
  const p = spec.pageSize ?? ELF_PAGE;
  if (!Number.isInteger(Math.log2(p)) || p < ELF_PAGE || p > 0x10000) throw new RangeError(`page size ${p} is not 4, 8, 16, 32 or 64 KiB`);
  return p;
}

function shFlags(letters: string): number {
  let f = 0;
  if (letters.includes('W')) f |= 1;
  if (letters.includes('A')) f |= 2;
  if (letters.includes('X')) f |= 4;
  return f;
}

/** The SysV ABI's symbol hash for DT_HASH (its bucket = hash % nbucket). */
export function elfHash(name: string): number {
  let h = 0;
  for (const c of Buffer.from(name, 'utf8')) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

/** A string table: "\0" then each name once, NUL-terminated. */
class StrTab {
  readonly #parts: Buffer[] = [Buffer.alloc(1)];
  readonly #at = new Map<string, number>();
  #size = 1;

  add(s: string): number {
    const known = this.#at.get(s);
    if (known !== undefined) return known;
    if (s.includes('\0')) throw new Error(`ELF name with a NUL byte: ${JSON.stringify(s)}`);
    const off = this.#size;
    const b = Buffer.from(`${s}\0`, 'utf8');
    this.#parts.push(b);
    this.#size += b.length;
    this.#at.set(s, off);
    return off;
  }

  bytes(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** The file's bytes, grown by placing blobs at chosen offsets. */
class FileImage {
  #buf = Buffer.alloc(0);

  get size(): number {
    return this.#buf.length;
  }

  /** Places `b` at the next multiple of `align`; returns its offset. */
  place(b: Uint8Array, align: number): number {
    const at = alignUp(this.#buf.length, align);
    const next = Buffer.alloc(at + b.length);
    this.#buf.copy(next);
    next.set(b, at);
    this.#buf = next;
    return at;
  }

  u16(at: number, v: number): void { this.#buf.writeUInt16LE(v, at); }
  u32(at: number, v: number): void { this.#buf.writeUInt32LE(v >>> 0, at); }
  u64(at: number, v: number): void { this.#buf.writeBigUInt64LE(BigInt(v), at); }

  bytes(): Uint8Array {
    return new Uint8Array(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length);
  }
}

function checkSymbols(code: Uint8Array, syms: readonly ElfSymbolSpec[]): void {
  const names = new Set<string>();
  for (const s of syms) {
    if (!s.name) throw new Error('ELF symbol without a name');
    if (names.has(s.name)) throw new Error(`ELF symbol '${s.name}' given twice`);
    names.add(s.name);
    if (!Number.isInteger(s.offset) || s.offset < 0 || s.size < 0 || s.offset + s.size > code.length) {
      throw new RangeError(`ELF symbol '${s.name}' [${s.offset}, +${s.size}) is outside the ${code.length}-byte code`);
    }
  }
}

function symBytes(entries: readonly { name: number; info: number; shndx: number; value: number; size: number }[]): Buffer {
  const b = Buffer.alloc(SYM_SIZE * entries.length);
  entries.forEach((e, i) => {
    const o = i * SYM_SIZE;
    b.writeUInt32LE(e.name, o);
    b.writeUInt8(e.info, o + 4);
    b.writeUInt8(0, o + 5); // st_other: STV_DEFAULT
    b.writeUInt16LE(e.shndx, o + 6);
    b.writeBigUInt64LE(BigInt(e.value), o + 8);
    b.writeBigUInt64LE(BigInt(e.size), o + 16);
  });
  return b;
}

const STB_GLOBAL = 1;
const STT_FUNC = 2;
const GLOBAL_FUNC = (STB_GLOBAL << 4) | STT_FUNC;

interface Draft {
  type: 'EXEC' | 'DYN';
  machine: ElfMachine;
  entry: number;
  segments: ElfSegment[];
  sections: ElfSection[];
}

/** Writes .shstrtab, the section headers, the program headers (reserved at offset 64) and the ELF header. */
function finish(f: FileImage, d: Draft): void {
  const shstr = new StrTab();
  d.sections.push({ name: '.shstrtab', type: 'STRTAB', flags: '', addr: 0, offset: 0, size: 0, entsize: 0, link: 0,
    info: 0, align: 1 });
  const nameOff = d.sections.map((s) => (s.type === 'NULL' ? 0 : shstr.add(s.name)));
  const shstrBytes = shstr.bytes();
  const shstrOff = f.place(shstrBytes, 1);
  d.sections[d.sections.length - 1] = { ...d.sections[d.sections.length - 1]!, offset: shstrOff, size: shstrBytes.length };
  const shoff = f.place(Buffer.alloc(SHDR_SIZE * d.sections.length), 8);
  d.sections.forEach((s, i) => {
    const o = shoff + i * SHDR_SIZE;
    f.u32(o, nameOff[i]!);
    f.u32(o + 4, SHT[s.type]);
    f.u64(o + 8, shFlags(s.flags));
    f.u64(o + 16, s.addr);
    f.u64(o + 24, s.offset);
    f.u64(o + 32, s.size);
    f.u32(o + 40, s.link);
    f.u32(o + 44, s.info);
    f.u64(o + 48, s.align);
    f.u64(o + 56, s.entsize);
  });
  d.segments.forEach((p, i) => {
    const o = EHDR_SIZE + i * PHDR_SIZE;
    f.u32(o, PT[p.type]);
    f.u32(o + 4, PF[p.flags]);
    f.u64(o + 8, p.offset);
    f.u64(o + 16, p.vaddr);
    f.u64(o + 24, p.vaddr); // p_paddr
    f.u64(o + 32, p.filesz);
    f.u64(o + 40, p.memsz);
    f.u64(o + 48, p.align);
  });
  // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV, ABI version 0, padding.
  f.bytes().set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0);
  f.u16(16, d.type === 'EXEC' ? 2 : 3);
  f.u16(18, EM[d.machine]);
  f.u32(20, 1); // e_version
  f.u64(24, d.entry);
  f.u64(32, EHDR_SIZE); // e_phoff
  f.u64(40, shoff);
  f.u32(48, 0); // e_flags
  f.u16(52, EHDR_SIZE);
  f.u16(54, PHDR_SIZE);
  f.u16(56, d.segments.length);
  f.u16(58, SHDR_SIZE);
  f.u16(60, d.sections.length);
  f.u16(62, d.sections.length - 1); // .shstrtab is last
}

const NULL_SECTION: ElfSection = { name: '', type: 'NULL', flags: '', addr: 0, offset: 0, size: 0, entsize: 0, link: 0, info: 0, align: 0 };
const GNU_STACK: ElfSegment = { type: 'GNU_STACK', flags: 'RW', offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: 16 };

/** A static executable: the code in a R+X segment with the headers, and an optional RW bss. */
export function writeExecutable(spec: ExecutableSpec): ElfImage {
  const base = spec.baseVaddr ?? 0x400000;
  const page = pageSizeOf(spec);
  if (base % page !== 0) throw new RangeError(`base address 0x${base.toString(16)} is not page-aligned`);
  if (!Number.isInteger(spec.entry) || spec.entry < 0 || spec.entry >= spec.code.length) {
    throw new RangeError(`entry ${spec.entry} is outside the ${spec.code.length}-byte code`);
  }
  const syms = spec.symbols ?? [];
  checkSymbols(spec.code, syms);
  const nseg = 2 + (spec.bss ? 1 : 0);
  const f = new FileImage();
  f.place(Buffer.alloc(EHDR_SIZE + PHDR_SIZE * nseg), 1);
  const textOff = f.place(spec.code, 16);
  const textEnd = f.size;
  const codeVaddr = base + textOff;
  const segments: ElfSegment[] = [
    { type: 'LOAD', flags: 'RX', offset: 0, vaddr: base, filesz: textEnd, memsz: textEnd, align: page },
  ];
  const sections: ElfSection[] = [NULL_SECTION,
    { name: '.text', type: 'PROGBITS', flags: 'AX', addr: codeVaddr, offset: textOff, size: spec.code.length,
      entsize: 0, link: 0, info: 0, align: 16 }];
  if (spec.bss) {
    const { vaddr, size } = spec.bss;
    if (vaddr % page !== 0) throw new RangeError(`bss address 0x${vaddr.toString(16)} is not page-aligned`);
    if (vaddr < alignUp(base + textEnd, page)) throw new RangeError(`bss at 0x${vaddr.toString(16)} overlaps the text`);
    if (!(size > 0)) throw new RangeError('bss size must be positive');
    // No bytes in the file: p_offset only has to agree with the address modulo the page size.
    const off = alignUp(textEnd, page);
    segments.push({ type: 'LOAD', flags: 'RW', offset: off, vaddr, filesz: 0, memsz: size, align: page });
    sections.push({ name: '.bss', type: 'NOBITS', flags: 'WA', addr: vaddr, offset: textEnd, size, entsize: 0,
      link: 0, info: 0, align: 16 });
  }
  segments.push(GNU_STACK);
  const symbols: ElfSymbol[] = syms.map((s) => ({ name: s.name, value: codeVaddr + s.offset, size: s.size, shndx: 1 }));
  if (symbols.length > 0) {
    const str = new StrTab();
    const table = symBytes([{ name: 0, info: 0, shndx: 0, value: 0, size: 0 },
      ...symbols.map((s) => ({ name: str.add(s.name), info: GLOBAL_FUNC, shndx: s.shndx, value: s.value, size: s.size }))]);
    const symOff = f.place(table, 8);
    const strBytes = str.bytes();
    const strOff = f.place(strBytes, 1);
    const symIndex = sections.length;
    sections.push({ name: '.symtab', type: 'SYMTAB', flags: '', addr: 0, offset: symOff, size: table.length,
      entsize: SYM_SIZE, link: symIndex + 1, info: 1, align: 8 });
    sections.push({ name: '.strtab', type: 'STRTAB', flags: '', addr: 0, offset: strOff, size: strBytes.length,
      entsize: 0, link: 0, info: 0, align: 1 });
  }
  const d: Draft = { type: 'EXEC', machine: spec.machine, entry: codeVaddr + spec.entry, segments, sections };
  finish(f, d);
  return { bytes: f.bytes(), type: 'EXEC', machine: spec.machine, entry: d.entry, codeVaddr, segments, sections,
    symbols, dynamic: [] };
}

/**
 * A shared object: headers, .hash, .dynsym, .dynstr and .text in one R+X segment at
 * address 0; .dynamic alone in a RW segment (ld.so adds the load base to its pointers
 * in place, on x86_64 at least, so it must be writable).
 */
export function writeSharedObject(spec: SharedObjectSpec): ElfImage {
  const page = pageSizeOf(spec);
  checkSymbols(spec.code, spec.exports);
  if (spec.exports.length === 0) throw new Error('a shared object needs at least one export');
  const nseg = 4;
  const f = new FileImage();
  f.place(Buffer.alloc(EHDR_SIZE + PHDR_SIZE * nseg), 1);

  // .dynstr first (the symbols need its offsets), placed after .hash and .dynsym.
  const dynstr = new StrTab();
  const nameOffs = spec.exports.map((s) => dynstr.add(s.name));
  const sonameOff = spec.soname === undefined ? -1 : dynstr.add(spec.soname);
  const nsyms = spec.exports.length + 1;

  // DT_HASH: nbucket, nchain, bucket[nbucket], chain[nchain] (32-bit words).
  const nbucket = spec.exports.length;
  const bucket = new Array<number>(nbucket).fill(0);
  const chain = new Array<number>(nsyms).fill(0);
  spec.exports.forEach((s, i) => {
    const idx = i + 1;
    const b = elfHash(s.name) % nbucket;
    chain[idx] = bucket[b]!; // prepend to the bucket's chain
    bucket[b] = idx;
  });
  const hash = Buffer.alloc(4 * (2 + nbucket + nsyms));
  [nbucket, nsyms, ...bucket, ...chain].forEach((w, i) => hash.writeUInt32LE(w, i * 4));
  const hashOff = f.place(hash, 8);
  // .text's index is fixed by the section order below: null, .hash, .dynsym, .dynstr, .text.
  const TEXT_INDEX = 4;
  const dynsymOff = f.place(Buffer.alloc(SYM_SIZE * nsyms), 8);
  const dynstrBytes = dynstr.bytes();
  const dynstrOff = f.place(dynstrBytes, 1);
  const textOff = f.place(spec.code, 16);
  const rxEnd = f.size;
  const codeVaddr = textOff; // loaded at base 0 + offset
  const symbols: ElfSymbol[] = spec.exports.map((s) => ({ name: s.name, value: codeVaddr + s.offset, size: s.size,
    shndx: TEXT_INDEX }));
  const symTable = symBytes([{ name: 0, info: 0, shndx: 0, value: 0, size: 0 },
    ...symbols.map((s, i) => ({ name: nameOffs[i]!, info: GLOBAL_FUNC, shndx: TEXT_INDEX, value: s.value, size: s.size }))]);
  f.bytes().set(symTable, dynsymOff);

  const dynamic: { tag: DtName; value: number }[] = [
    { tag: 'HASH', value: hashOff },
    { tag: 'STRTAB', value: dynstrOff },
    { tag: 'SYMTAB', value: dynsymOff },
    { tag: 'STRSZ', value: dynstrBytes.length },
    { tag: 'SYMENT', value: SYM_SIZE },
    ...(sonameOff >= 0 ? [{ tag: 'SONAME' as const, value: sonameOff }] : []),
    { tag: 'NULL', value: 0 },
  ];
  const dyn = Buffer.alloc(DYN_SIZE * dynamic.length);
  dynamic.forEach((e, i) => {
    dyn.writeBigUInt64LE(BigInt(DT[e.tag]), i * DYN_SIZE);
    dyn.writeBigUInt64LE(BigInt(e.value), i * DYN_SIZE + 8);
  });
  const dynOff = f.place(dyn, 8);
  // Its own page in memory, at the same offset within the page as in the file.
  const dynVaddr = alignUp(rxEnd, page) + (dynOff % page);
  const segments: ElfSegment[] = [
    { type: 'LOAD', flags: 'RX', offset: 0, vaddr: 0, filesz: rxEnd, memsz: rxEnd, align: page },
    { type: 'LOAD', flags: 'RW', offset: dynOff, vaddr: dynVaddr, filesz: dyn.length, memsz: dyn.length, align: page },
    { type: 'DYNAMIC', flags: 'RW', offset: dynOff, vaddr: dynVaddr, filesz: dyn.length, memsz: dyn.length, align: 8 },
    GNU_STACK,
  ];
  const sections: ElfSection[] = [NULL_SECTION,
    { name: '.hash', type: 'HASH', flags: 'A', addr: hashOff, offset: hashOff, size: hash.length, entsize: 4, link: 2, info: 0, align: 8 },
    { name: '.dynsym', type: 'DYNSYM', flags: 'A', addr: dynsymOff, offset: dynsymOff, size: symTable.length, entsize: SYM_SIZE,
      link: 3, info: 1, align: 8 },
    { name: '.dynstr', type: 'STRTAB', flags: 'A', addr: dynstrOff, offset: dynstrOff, size: dynstrBytes.length, entsize: 0,
      link: 0, info: 0, align: 1 },
    { name: '.text', type: 'PROGBITS', flags: 'AX', addr: codeVaddr, offset: textOff, size: spec.code.length, entsize: 0,
      link: 0, info: 0, align: 16 },
    { name: '.dynamic', type: 'DYNAMIC', flags: 'WA', addr: dynVaddr, offset: dynOff, size: dyn.length, entsize: DYN_SIZE,
      link: 3, info: 0, align: 8 },
  ];
  const d: Draft = { type: 'DYN', machine: spec.machine, entry: 0, segments, sections };
  finish(f, d);
  return { bytes: f.bytes(), type: 'DYN', machine: spec.machine, entry: 0, codeVaddr, segments, sections, symbols,
    dynamic: dynamic.map((e) => ({ tag: e.tag, value: e.value })) };
}
