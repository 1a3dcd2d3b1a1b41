// The arm64 guest's pieces that can be checked on any host: guest_code and the vector
// table against GNU as for aarch64, the translation-table descriptors and the MMU
// register values bit by bit, the ucall and ESR decoding. The guest itself runs in the
// arm64 boot test (test/boot/arm64.test.ts) and the kernel matrix.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { guest_code_arm64 } from '../../src/cases/guest_code.js';
import { CODE_GPA, LOW_MEM_SIZE, PT_POOL_GPA, UCALL_GPA, VECTORS_GPA, VECTORS_SIZE } from '../../src/guest/arm64/layout.js';
import {
  AF, blockDescriptor, MAIR, PageTables, SH_INNER, supports4kGranule, TCR,
} from '../../src/guest/arm64/page-tables.js';
import { decodeUcall, isUcallExit, ucallKind, UCALL_ASSERT, UCALL_DONE, UCALL_EXCEPTION } from '../../src/guest/arm64/ucall.js';
import { describeEsr, vectorName, vectorTable } from '../../src/guest/arm64/vectors.js';
import type { VcpuExit } from '../../src/kvm/exits.js';
import { KVM_EXIT_IO, KVM_EXIT_MMIO } from '../../src/kvm/uapi/kvm.js';

function gas(source: string): Uint8Array | null {
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-a64g-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.text\n${source}\n`);
    execFileSync('aarch64-linux-gnu-as', ['-o', join(dir, 'a.o'), join(dir, 'a.s')], { stdio: 'pipe' });
    execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')], { stdio: 'pipe' });
    return readFileSync(join(dir, 'a.bin'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const noGas = gas('nop') !== null ? false : 'aarch64-linux-gnu-as not installed (binutils-aarch64-linux-gnu)';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ucallHi = (UCALL_GPA >>> 16).toString();

t.test('guest_code (arm64): the same bytes as GNU as', { skip: noGas }, async (t) => {
  const ucall = (kind: number, l: string): string => `
    movz x9, #${ucallHi}, lsl #16
    movz x10, #${kind}
    str x10, [x9]
${l}: b ${l}`;
  const src = `
    movz x2, #0
check:
    cmp x2, x1
    b.hs fill
    ldrb w3, [x0, x2]
    cmp w3, #0xaa
    b.ne bad
    add x2, x2, #1
    b check
bad:
    mov x0, x2
    mov x1, x3
${ucall(UCALL_ASSERT, 'assert_stay')}
fill:
    mov w3, #0xff
    movz x2, #0
fill_next:
    cmp x2, x1
    b.hs filled
    strb w3, [x0, x2]
    add x2, x2, #1
    b fill_next
filled:
${ucall(UCALL_DONE, 'done_stay')}`;
  t.equal(UCALL_GPA % 0x10000, 0, 'the ucall address is one MOVZ');
  t.equal(hex(guest_code_arm64()), hex(gas(src)!));
});

t.test('vector table: 16 entries of 128 bytes reporting ESR/FAR/ELR and the index', { skip: noGas }, async (t) => {
  const entries: string[] = [];
  for (let i = 0; i < 16; i++) {
    entries.push(`.balign 128
v${i}: mrs x0, esr_el1
    mrs x1, far_el1
    mrs x2, elr_el1
    movz x3, #${i}
    movz x9, #${ucallHi}, lsl #16
    movz x10, #${UCALL_EXCEPTION}
    str x10, [x9]
s${i}: b s${i}`);
  }
  const v = vectorTable();
  t.equal(v.length, VECTORS_SIZE);
  t.equal(hex(v), hex(gas(`${entries.join('\n')}\n.balign 128`)!));
});

t.test('vector names and ESR decoding', async (t) => {
  t.equal(vectorName(0), 'synchronous, current EL with SP_EL0');
  t.equal(vectorName(4), 'synchronous, current EL with SP_ELx');
  t.equal(vectorName(13), 'IRQ, lower EL, AArch32');
  // measured on the TCG arm64 guest: a load from an unmapped VA
  t.equal(describeEsr(0x96000005n), 'data abort, same EL: translation fault, level 1');
  t.equal(describeEsr(0x86000007n), 'instruction abort, same EL: translation fault, level 3');
  t.equal(describeEsr(0x9600004fn), 'data abort, same EL: permission fault, level 3');
  t.equal(describeEsr(0x02000000n), 'unknown reason (e.g. an undefined instruction)');
  t.equal(describeEsr(0xf2000000n), 'BRK instruction');
  t.equal(describeEsr(0x44000000n), 'exception class 0x11');
});

t.test('layout: everything inside slot 0, VBAR 2 KiB aligned, the ucall address unbacked', async (t) => {
  t.equal(VECTORS_GPA % 0x800, 0);
  t.ok(PT_POOL_GPA + 8 * 4096 <= VECTORS_GPA && VECTORS_GPA + VECTORS_SIZE <= CODE_GPA);
  t.ok(UCALL_GPA >= LOW_MEM_SIZE && UCALL_GPA < 0x1_0000_0000, 'past slot 0, below the memory under test');
});

t.test('translation tables: descriptors and registers, bit by bit', async (t) => {
  t.equal(blockDescriptor(0, 'normal'), 0x701n, 'normal: AF | SH inner | AttrIndx 0 | block');
  t.equal(blockDescriptor(0x200000, 'device'), 0x200405n, 'device: AF | AttrIndx 1 | block');
  t.equal(AF | SH_INNER, 0x700n);
  t.throws(() => blockDescriptor(0x1000, 'normal'), RangeError);
  t.equal(TCR, 0x200803519n, 'T0SZ 25, WBWA walks, inner shareable, 4K, EPD1, IPS 40 bits');
  t.equal(MAIR, 0x04ffn);
  t.ok(supports4kGranule(0x00000000_00101125n));
  t.notOk(supports4kGranule(0xf0000000n));

  const mem = Buffer.alloc(LOW_MEM_SIZE, 0x55);
  const pt = new PageTables(mem, 0, PT_POOL_GPA, 8);
  t.equal(pt.root, PT_POOL_GPA);
  pt.map2M(0, 0);
  pt.map2M(0x1_0000_0000, 0x1_0000_0000);
  pt.map2M(0x1_0020_0000, 0x1_0020_0000);
  t.equal(pt.lookup(0), 0x701n);
  t.equal(pt.lookup(0x1_0000_0000), 0x1_0000_0701n);
  t.equal(pt.lookup(0x1_0020_0000), 0x1_0020_0701n);
  t.equal(pt.lookup(0x4000_0000), 0n, 'nothing at 1 GiB');
  const l1 = (i: number): bigint => mem.readBigUInt64LE(PT_POOL_GPA + 8 * i);
  t.equal(l1(0), BigInt(PT_POOL_GPA + 0x1000) | 0b11n, 'L1[0] is a table (second pool page)');
  t.equal(l1(4), BigInt(PT_POOL_GPA + 0x2000) | 0b11n, 'L1[4] (4 GiB) is a table, one for both blocks');
  t.equal(l1(1), 0n);
  t.throws(() => pt.map2M(2 ** 39, 0), RangeError);
  t.throws(() => pt.map2M(0x1000, 0x1000), RangeError);
});

t.test('ucall exits: an 8-byte MMIO write to the ucall address', async (t) => {
  const mmio = (addr: number, data: bigint, len = 8, isWrite = true): VcpuExit => {
    const d = Buffer.alloc(8);
    d.writeBigUInt64LE(data);
    return { reason: KVM_EXIT_MMIO, name: 'KVM_EXIT_MMIO', physAddr: BigInt(addr), data: d, len, isWrite };
  };
  const e = mmio(UCALL_GPA, 2n);
  t.ok(isUcallExit(e));
  t.equal(ucallKind(e as never), 2n);
  t.notOk(isUcallExit(mmio(UCALL_GPA + 8, 1n)), 'another address');
  t.notOk(isUcallExit(mmio(UCALL_GPA, 1n, 4)), 'a 4-byte store');
  t.notOk(isUcallExit(mmio(UCALL_GPA, 1n, 8, false)), 'a read');
  t.notOk(isUcallExit({ reason: KVM_EXIT_IO, name: 'KVM_EXIT_IO' }));
  t.same(decodeUcall(BigInt(UCALL_DONE), 0n, 0n), { kind: 'DONE' });
  t.same(decodeUcall(BigInt(UCALL_ASSERT), 7n, 0x55n), { kind: 'ASSERT', arg0: 7n, arg1: 0x55n });
  t.same(decodeUcall(9n, 1n, 2n), { kind: 'UNKNOWN', code: 9n, arg0: 1n, arg1: 2n });
});
