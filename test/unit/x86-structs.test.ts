// Register codecs, page tables, GDT descriptors and kvm_run exit decoding, on plain
// buffers (no KVM needed).
import t from 'tap';
import { X86_OFFSETOF, X86_SIZEOF } from '../../src/kvm/arch/x86_64/uapi.js';
import { OFFSETOF, SIZEOF } from '../../src/kvm/structs.js';
import {
  KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IO, KVM_EXIT_IO_OUT, KVM_EXIT_MMIO, KVM_EXIT_SHUTDOWN,
} from '../../src/kvm/uapi/kvm.js';
import { decodeExit, describeExit } from '../../src/kvm/exits.js';
import { GDT_BYTES, LONG_MODE_CR0, longModeSregs, writeGdt } from '../../src/guest/x86_64/long-mode.js';
import { PageTables } from '../../src/guest/x86_64/page-tables.js';
import { decodeRegs, decodeSregs, encodeRegs, encodeSregs, initialRegs } from '../../src/kvm/arch/x86_64/regs.js';
import { decodeUcall, isUcallExit, UCALL_PORT } from '../../src/guest/x86_64/ucall.js';

t.test('kvm_regs round trip and layout', async (t) => {
  const r = initialRegs();
  t.equal(r.rflags, 2n, 'rflags bit 1 set');
  r.rip = 0x10000n;
  r.rdi = 0x100000000n;
  r.r15 = 0xffffffffffffffffn;
  const buf = Buffer.alloc(X86_SIZEOF.kvm_regs, 0xcc);
  encodeRegs(buf, r);
  t.equal(buf.readBigUInt64LE(X86_OFFSETOF.kvm_regs.rip), 0x10000n);
  t.equal(buf.readBigUInt64LE(X86_OFFSETOF.kvm_regs.rdi), 0x100000000n);
  t.same(decodeRegs(buf), r);
});

t.test('kvm_sregs: long mode round trip and layout', async (t) => {
  const base = decodeSregs(Buffer.alloc(X86_SIZEOF.kvm_sregs));
  base.apic_base = 0xfee00900n;
  const s = longModeSregs(base, 0x1000, { base: 0x9000n, limit: GDT_BYTES - 1 }, 0xa000);
  t.equal(s.cr0, 0x80050033n, 'CR0 as measured on the host');
  t.equal(LONG_MODE_CR0, 0x80050033n);
  t.equal(s.cr4, 0x20n, 'CR4.PAE only (no LA57)');
  t.equal(s.efer, 0x500n, 'EFER.LME|LMA');
  t.equal(s.apic_base, 0xfee00900n, 'what KVM_GET_SREGS gave is kept');
  const buf = Buffer.alloc(X86_SIZEOF.kvm_sregs);
  encodeSregs(buf, s);
  const cs = X86_OFFSETOF.kvm_sregs.cs;
  t.equal(buf.readUInt8(cs + X86_OFFSETOF.kvm_segment.l), 1, 'cs.l');
  t.equal(buf.readUInt16LE(cs + X86_OFFSETOF.kvm_segment.selector), 8, 'cs selector');
  t.equal(buf.readBigUInt64LE(X86_OFFSETOF.kvm_sregs.cr3), 0x1000n);
  t.equal(buf.readUInt16LE(X86_OFFSETOF.kvm_sregs.gdt + X86_OFFSETOF.kvm_dtable.limit), GDT_BYTES - 1);
  t.same(decodeSregs(buf), s);
});

t.test('GDT descriptors', async (t) => {
  const gdt = Buffer.alloc(GDT_BYTES);
  const dt = writeGdt(gdt, 0x9000, 0xa000);
  t.same(dt, { base: 0x9000n, limit: 0x27 });
  t.equal(gdt.readBigUInt64LE(0), 0n, 'null descriptor');
  t.equal(gdt.readBigUInt64LE(8), 0x00af9b000000ffffn, '64-bit code: P, DPL 0, S, type b, L, G');
  t.equal(gdt.readBigUInt64LE(16), 0x00cf93000000ffffn, 'data: P, S, type 3, D/B, G');
  t.equal(gdt.readBigUInt64LE(24), 0x00008b00a0000067n, 'busy 64-bit TSS at 0xa000, limit 0x67');
  t.equal(gdt.readBigUInt64LE(32), 0n, 'TSS base bits 63:32');
});

t.test('page tables: 2 MiB pages, 4 levels', async (t) => {
  const mem = Buffer.alloc(0x10000);
  const pt = new PageTables(mem, 0, 0x1000, 8);
  t.equal(pt.root, 0x1000, 'PML4 is the first pool page');
  pt.map2M(0, 0);
  pt.map2M(0x100000000, 0x100000000);
  const e = (gpa: number, i: number): bigint => mem.readBigUInt64LE(gpa + 8 * i);
  t.equal(e(0x1000, 0), 0x2003n, 'PML4[0] -> PDPT at 0x2000, P|W');
  t.equal(e(0x2000, 0), 0x3003n, 'PDPT[0] -> PD at 0x3000');
  t.equal(e(0x3000, 0), 0x83n, 'PD[0]: 2 MiB page at 0, P|W|PS');
  t.equal(e(0x2000, 4), 0x4003n, 'PDPT[4] (4 GiB) -> PD at 0x4000');
  t.equal(e(0x4000, 0), 0x100000083n, 'PD[0]: 2 MiB page at 4 GiB');
  t.throws(() => pt.map2M(0x1000, 0), /aligned/);
  t.throws(() => pt.map2M(2 ** 47, 0), /canonical/);
  const small = new PageTables(Buffer.alloc(0x3000), 0, 0x1000, 2);
  t.throws(() => small.map2M(0, 0), /exhausted/);
});

function run(reason: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(SIZEOF.kvm_run + 64);
  b.writeUInt32LE(reason, OFFSETOF.kvm_run.exit_reason);
  fill(b);
  return b;
}
const R = OFFSETOF.kvm_run;

t.test('exit decoding', async (t) => {
  const mmio = decodeExit(run(KVM_EXIT_MMIO, (b) => {
    b.writeBigUInt64LE(0x100000000n, R['mmio.phys_addr']);
    b.writeUInt32LE(1, R['mmio.len']);
  }));
  t.equal(describeExit(mmio), 'KVM_EXIT_MMIO at gpa 0x100000000 (read, 1 byte)');
  const mmioW = decodeExit(run(KVM_EXIT_MMIO, (b) => {
    b.writeBigUInt64LE(0xfee00000n, R['mmio.phys_addr']);
    b.writeUInt32LE(4, R['mmio.len']);
    b.writeUInt8(1, R['mmio.is_write']);
    b.writeUInt32LE(0xdeadbeef, R['mmio.data']);
  }));
  t.equal(describeExit(mmioW), 'KVM_EXIT_MMIO at gpa 0xfee00000 (write, 4 bytes, data efbeadde)');

  const io = decodeExit(run(KVM_EXIT_IO, (b) => {
    b.writeUInt8(KVM_EXIT_IO_OUT, R['io.direction']);
    b.writeUInt8(1, R['io.size']);
    b.writeUInt16LE(UCALL_PORT, R['io.port']);
    b.writeUInt32LE(1, R['io.count']);
    b.writeBigUInt64LE(BigInt(SIZEOF.kvm_run), R['io.data_offset']);
    b.writeUInt8(0x01, SIZEOF.kvm_run);
  }));
  t.equal(describeExit(io), 'KVM_EXIT_IO out port 0x1000 (1 byte x 1, data 01)');
  t.ok(isUcallExit(io), 'an out to UCALL_PORT is a ucall');

  t.equal(describeExit(decodeExit(run(KVM_EXIT_HLT, () => {}))), 'KVM_EXIT_HLT');
  t.equal(describeExit(decodeExit(run(KVM_EXIT_SHUTDOWN, () => {}))), 'KVM_EXIT_SHUTDOWN');
  t.notOk(isUcallExit(decodeExit(run(KVM_EXIT_HLT, () => {}))));
  t.equal(describeExit(decodeExit(run(KVM_EXIT_FAIL_ENTRY, (b) => {
    b.writeBigUInt64LE(0x80000021n, R['fail_entry.hardware_entry_failure_reason']);
    b.writeUInt32LE(1, R['fail_entry.cpu']);
  }))), 'KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x80000021 on cpu 1');
  t.equal(describeExit(decodeExit(run(KVM_EXIT_INTERNAL_ERROR, (b) => {
    b.writeUInt32LE(1, R['internal.suberror']);
    b.writeUInt32LE(2, R['internal.ndata']);
    b.writeBigUInt64LE(0x10n, R['internal.data']);
    b.writeBigUInt64LE(0x20n, R['internal.data'] + 8);
  }))), 'KVM_EXIT_INTERNAL_ERROR: suberror 1, data [0x10, 0x20]');
  t.equal(describeExit(decodeExit(run(99, () => {}))), 'KVM_EXIT_99');
});

t.test('ucall decoding', async (t) => {
  const r = initialRegs();
  r.rax = 0xffffffff00000001n;
  t.same(decodeUcall(r), { kind: 'DONE' }, 'only eax counts');
  r.rax = 2n; r.rbx = 123n; r.rcx = 0x5an;
  t.same(decodeUcall(r), { kind: 'ASSERT', arg0: 123n, arg1: 0x5an });
  r.rax = 7n;
  t.equal(decodeUcall(r).kind, 'UNKNOWN');
});
