/**
 * 4-level x86-64 page tables (PML4 -> PDPT -> PD) mapping 2 MiB pages, written into a
 * Buffer that backs guest memory. Table pages come from a fixed pool of 4 KiB pages;
 * the PML4 is the pool's first page (what CR3 points at).
 */
import { SZ_2M, SZ_4K } from './layout.js';
import { hex } from '../../kvm/hex.js';

export const PTE_PRESENT = 1n << 0n;
export const PTE_WRITABLE = 1n << 1n;
/** In a PD entry: maps a 2 MiB page instead of pointing at a page table. */
export const PTE_LARGE = 1n << 7n;

const ADDR_MASK = 0x000ffffffffff000n;
/** 48-bit virtual addresses: 4-level paging without LA57. */
const VA_BITS = 48;

export class PageTables {
  readonly #mem: Buffer;
  readonly #memGpa: number;
  readonly #poolGpa: number;
  readonly #poolPages: number;
  #used = 0;
  /** GPA of the PML4: the value for CR3. */
  readonly root: number;

  /**
   * @param mem bytes of guest memory starting at GPA `memGpa`
   * @param poolGpa first GPA of the page-table pool (inside mem)
   */
  constructor(mem: Buffer, memGpa: number, poolGpa: number, poolPages: number) {
    if (poolGpa < memGpa || poolGpa + poolPages * SZ_4K > memGpa + mem.length) {
      throw new RangeError('page-table pool is not inside the memory given');
    }
    this.#mem = mem;
    this.#memGpa = memGpa;
    this.#poolGpa = poolGpa;
    this.#poolPages = poolPages;
    this.root = this.#allocPage();
  }

  #allocPage(): number {
    if (this.#used >= this.#poolPages) throw new Error(`page-table pool exhausted (${this.#poolPages} pages)`);
    const gpa = this.#poolGpa + this.#used++ * SZ_4K;
    const off = gpa - this.#memGpa;
    this.#mem.fill(0, off, off + SZ_4K);
    return gpa;
  }

  #entryOffset(tableGpa: number, index: number): number {
    return tableGpa - this.#memGpa + index * 8;
  }

  /** The next-level table an entry points at, created when the entry is empty. */
  #descend(tableGpa: number, index: number): number {
    const at = this.#entryOffset(tableGpa, index);
    const e = this.#mem.readBigUInt64LE(at);
    if (e & PTE_PRESENT) {
      if (e & PTE_LARGE) throw new Error(`${hex(tableGpa)}[${index}] already maps a large page`);
      return Number(e & ADDR_MASK);
    }
    const next = this.#allocPage();
    this.#mem.writeBigUInt64LE(BigInt(next) | PTE_PRESENT | PTE_WRITABLE, at);
    return next;
  }

  /** Maps the 2 MiB page at guest-virtual `gva` to guest-physical `gpa` (both aligned), writable. */
  map2M(gva: number, gpa: number): void {
    if (gva % SZ_2M !== 0 || gpa % SZ_2M !== 0) throw new RangeError('map2M needs 2 MiB-aligned addresses');
    if (gva >= 2 ** (VA_BITS - 1)) throw new RangeError(`gva ${hex(gva)} is not in the lower canonical half`);
    const va = BigInt(gva);
    const idx = (shift: bigint): number => Number((va >> shift) & 0x1ffn);
    const pdpt = this.#descend(this.root, idx(39n));
    const pd = this.#descend(pdpt, idx(30n));
    this.#mem.writeBigUInt64LE(BigInt(gpa) | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE, this.#entryOffset(pd, idx(21n)));
  }
}
