/**
 * Stage-1 translation tables for the arm64 guest at EL1: 4 KiB granule, 39-bit virtual
 * addresses (TCR_EL1.T0SZ = 25, so the walk starts at level 1: 512 entries of 1 GiB),
 * each level-1 entry pointing at a level-2 table of 2 MiB block descriptors. Only TTBR0
 * (the lower half) is used. The tables are written into a Buffer that backs guest
 * memory, from a fixed pool of 4 KiB pages; the level-1 table is the pool's first.
 */
import { hex } from '../../kvm/hex.js';
import { SZ_2M, SZ_4K } from './layout.js';

/** Bits [1:0] of a descriptor: 0b01 block (levels 1-2), 0b11 table (or page at level 3). */
export const DESC_BLOCK = 0b01n;
export const DESC_TABLE = 0b11n;
/** Lower attributes of a block: AttrIndx[2:0] at bits 4:2, SH at 9:8, AF at 10. */
export const ATTR_INDEX_SHIFT = 2n;
export const SH_INNER = 0b11n << 8n;
export const AF = 1n << 10n;

/** MAIR_EL1 attribute indices (see MAIR below). */
export const ATTR_NORMAL = 0;
export const ATTR_DEVICE = 1;
/** MAIR_EL1: attr0 Normal write-back read/write-allocate (0xff), attr1 Device-nGnRE (0x04). */
export const MAIR = 0x04ffn;

/** Output address bits [47:12] of a descriptor (48-bit OA; no LPA2 format here). */
const ADDR_MASK = 0x0000fffffffff000n;
/** 39-bit virtual addresses: T0SZ = 64 - 39. */
export const VA_BITS = 39;
export const T0SZ = 64 - VA_BITS;

export type Memory = 'normal' | 'device';

/** The block descriptor that maps the 2 MiB at `pa` with these attributes. */
export function blockDescriptor(pa: number, mem: Memory): bigint {
  if (pa % SZ_2M !== 0) throw new RangeError(`block address ${hex(pa)} is not 2 MiB aligned`);
  const attr = BigInt(mem === 'normal' ? ATTR_NORMAL : ATTR_DEVICE) << ATTR_INDEX_SHIFT;
  // AP[2:1] = 00: read/write at EL1; UXN/PXN clear: executable (the code block is normal memory).
  return BigInt(pa) | AF | (mem === 'normal' ? SH_INNER : 0n) | attr | DESC_BLOCK;
}

export class PageTables {
  readonly #mem: Buffer;
  readonly #memGpa: number;
  readonly #poolGpa: number;
  readonly #poolPages: number;
  #used = 0;
  /** GPA of the level-1 table: the value for TTBR0_EL1. */
  readonly root: number;

  /**
   * @param mem bytes of guest memory starting at GPA `memGpa`
   * @param poolGpa first GPA of the table pool (inside mem)
   */
  constructor(mem: Buffer, memGpa: number, poolGpa: number, poolPages: number) {
    if (poolGpa < memGpa || poolGpa + poolPages * SZ_4K > memGpa + mem.length || poolGpa % SZ_4K !== 0) {
      throw new RangeError('page-table pool is not inside the memory given, page aligned');
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

  #at(tableGpa: number, index: number): number {
    return tableGpa - this.#memGpa + index * 8;
  }

  /** Identity- (or otherwise) maps the 2 MiB block at `va` to `pa`. */
  map2M(va: number, pa: number, mem: Memory = 'normal'): void {
    if (va % SZ_2M !== 0) throw new RangeError(`virtual address ${hex(va)} is not 2 MiB aligned`);
    if (va >= 2 ** VA_BITS) throw new RangeError(`virtual address ${hex(va)} is beyond ${VA_BITS} bits`);
    const l1 = Math.floor(va / 2 ** 30) % 512;
    const l2 = Math.floor(va / SZ_2M) % 512;
    const e1At = this.#at(this.root, l1);
    let e1 = this.#mem.readBigUInt64LE(e1At);
    if ((e1 & 0b11n) === 0n) {
      const table = this.#allocPage();
      e1 = BigInt(table) | DESC_TABLE;
      this.#mem.writeBigUInt64LE(e1, e1At);
    } else if ((e1 & 0b11n) !== DESC_TABLE) {
      throw new Error(`level-1 entry ${l1} is not a table`);
    }
    const table = Number(e1 & ADDR_MASK);
    this.#mem.writeBigUInt64LE(blockDescriptor(pa, mem), this.#at(table, l2));
  }

  /** The descriptor mapping `va` at level 2, or 0n (for tests and diagnostics). */
  lookup(va: number): bigint {
    const e1 = this.#mem.readBigUInt64LE(this.#at(this.root, Math.floor(va / 2 ** 30) % 512));
    if ((e1 & 0b11n) !== DESC_TABLE) return 0n;
    return this.#mem.readBigUInt64LE(this.#at(Number(e1 & ADDR_MASK), Math.floor(va / SZ_2M) % 512));
  }
}

/**
 * TCR_EL1 for these tables: T0SZ 25, inner/outer write-back walks (IRGN0 = ORGN0 = 0b01),
 * inner shareable (SH0 = 0b11), 4 KiB granule (TG0 = 0b00), TTBR1 walks off (EPD1), and
 * intermediate physical addresses of 40 bits (IPS = 0b010: the default VM's IPA size).
 * A BigInt: IPS sits above bit 31.
 */
export const TCR = BigInt(T0SZ) | (0b01n << 8n) | (0b01n << 10n) | (0b11n << 12n) | (0b00n << 14n) | (1n << 23n) | (0b010n << 32n);

/** SCTLR_EL1 bits turned on over the reset value: M (stage-1 MMU), C (data cache), I (instruction cache). */
export const SCTLR_M = 1n << 0n;
export const SCTLR_C = 1n << 2n;
export const SCTLR_I = 1n << 12n;

/** ID_AA64MMFR0_EL1.TGran4 (bits 31:28): 0b1111 = no 4 KiB granule at stage 1. */
export function supports4kGranule(mmfr0: bigint): boolean {
  return ((mmfr0 >> 28n) & 0xfn) !== 0xfn;
}
