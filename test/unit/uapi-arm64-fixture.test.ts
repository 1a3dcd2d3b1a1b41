// fixtures/uapi-arm64.json (scripts/uapi/gen-fixture-arm64.sh) against itself, the x86
// fixture and hand-computed encodings, until src/kvm/uapi/arch/arm64.ts exists to be
// checked against it the way uapi.test.ts checks the x86 numbers.
import { readFileSync } from 'node:fs';
import t from 'tap';

interface Fixture {
  header_version: string;
  arch: string;
  ioctls: Record<string, number>;
  constants: Record<string, number | string>;
  sizes: Record<string, number>;
  offsets: Record<string, number>;
  one_reg_ids?: Record<string, string>;
}
const load = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as Fixture;
const a64 = load('uapi-arm64.json');
const x86 = load('uapi-x86_64.json');

// asm-generic/ioctl.h, which arm64 uses as is: nr 0-7, type 8-15, size 16-29, dir 30-31
const enc = (dir: number, nr: number, size: number): number => ((dir << 30) | (size << 16) | (0xae << 8) | nr) >>> 0;
const IO = (nr: number) => enc(0, nr, 0);
const IOW = (nr: number, size: number) => enc(1, nr, size);
const IOR = (nr: number, size: number) => enc(2, nr, size);
const IOWR = (nr: number, size: number) => enc(3, nr, size);

t.test('fixture says where it comes from', async (t) => {
  t.equal(a64.arch, 'arm64');
  t.match(a64.header_version, /linux-libc-dev \d+\.\d+\S* \(Debian sid, arm64\)/);
});

t.test('ioctl numbers against the encoding and the struct sizes', async (t) => {
  const s = a64.sizes;
  const want: Record<string, number> = {
    KVM_GET_API_VERSION: IO(0x00), KVM_CREATE_VM: IO(0x01), KVM_CHECK_EXTENSION: IO(0x03),
    KVM_GET_VCPU_MMAP_SIZE: IO(0x04), KVM_CREATE_VCPU: IO(0x41), KVM_RUN: IO(0x80),
    KVM_SET_USER_MEMORY_REGION: IOW(0x46, s.kvm_userspace_memory_region!),
    KVM_SET_USER_MEMORY_REGION2: IOW(0x49, s.kvm_userspace_memory_region2!),
    KVM_CREATE_GUEST_MEMFD: IOWR(0xd4, s.kvm_create_guest_memfd!),
    KVM_ENABLE_CAP: IOW(0xa3, s.kvm_enable_cap!),
    KVM_GET_REGS: IOR(0x81, s.kvm_regs!), KVM_SET_REGS: IOW(0x82, s.kvm_regs!),
    KVM_ARM_PREFERRED_TARGET: IOR(0xaf, s.kvm_vcpu_init!), KVM_ARM_VCPU_INIT: IOW(0xae, s.kvm_vcpu_init!),
    KVM_SET_ONE_REG: IOW(0xac, s.kvm_one_reg!), KVM_GET_ONE_REG: IOW(0xab, s.kvm_one_reg!),
    KVM_GET_REG_LIST: IOWR(0xb0, 8), KVM_ARM_VCPU_FINALIZE: IOW(0xc2, 4),
  };
  t.same(Object.keys(a64.ioctls).sort(), Object.keys(want).sort(), 'the fixture has exactly these ioctls');
  for (const [name, v] of Object.entries(want)) t.equal(a64.ioctls[name], v, name);
});

t.test('what arm64 shares with x86-64 has the same value; what differs is the known list', async (t) => {
  const differ: string[] = [];
  for (const sec of ['ioctls', 'constants', 'sizes', 'offsets'] as const) {
    const ours = a64[sec] as Record<string, unknown>;
    for (const [k, v] of Object.entries(x86[sec] as Record<string, unknown>)) {
      if (k in ours && ours[k] !== v) differ.push(`${sec}.${k}`);
    }
  }
  t.same(differ.sort(), [
    // the generic syscall table (fstat 80, mbind 235, get_mempolicy 236, move_pages 239, prctl 167)
    'constants.SYS_fstat', 'constants.SYS_get_mempolicy', 'constants.SYS_mbind', 'constants.SYS_move_pages',
    'constants.SYS_prctl',
    // struct kvm_regs is per architecture (arm64: user_pt_regs, sp_el1, elr_el1, spsr[5], fp_regs)
    'ioctls.KVM_GET_REGS', 'ioctls.KVM_SET_REGS', 'sizes.kvm_regs',
    // the generic struct stat: 128 bytes, 32-bit st_mode and st_nlink before st_uid
    'offsets.stat.st_mode', 'offsets.stat.st_nlink', 'sizes.stat',
  ].sort());
  t.equal(a64.constants.SYS_fstat, 80);
  t.equal(a64.constants.SYS_mbind, 235);
  t.equal(a64.constants.SYS_get_mempolicy, 236);
  t.equal(a64.constants.SYS_move_pages, 239);
  t.equal(a64.constants.SYS_prctl, 167);
});

t.test('glibc SYS_ names and the kernel __NR_ numbers agree', async (t) => {
  for (const n of ['fstat', 'mbind', 'get_mempolicy', 'move_pages', 'prctl', 'ioctl']) {
    t.equal(a64.constants[`SYS_${n}`], a64.constants[`__NR_${n}`], n);
  }
});

t.test("glibc's struct stat is the kernel's (fstat goes through syscall())", async (t) => {
  t.equal(a64.sizes.stat, a64.sizes.kernel_stat);
  for (const f of ['st_dev', 'st_ino', 'st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_rdev', 'st_size', 'st_blksize', 'st_blocks']) {
    t.equal(a64.offsets[`stat.${f}`], a64.offsets[`kernel_stat.${f}`], f);
  }
});

t.test('ONE_REG ids of the core registers: KVM_REG_ARM64 | SIZE_U64 | ARM_CORE | (offset in kvm_regs / 4)', async (t) => {
  const ids = a64.one_reg_ids ?? {};
  const base = 0x6000000000000000n | 0x0030000000000000n | 0x0010_0000n;
  const core = (off: number): string => '0x' + (base | BigInt(off / 4)).toString(16);
  for (let n = 0; n <= 30; n++) t.equal(ids[`x${n}`], core(a64.offsets['kvm_regs.regs.regs']! + 8 * n), `x${n}`);
  t.equal(ids.sp, core(a64.offsets['kvm_regs.regs.sp']!), 'sp');
  t.equal(ids.pc, core(a64.offsets['kvm_regs.regs.pc']!), 'pc');
  t.equal(ids.pstate, core(a64.offsets['kvm_regs.regs.pstate']!), 'pstate');
  t.equal(ids.sp_el1, core(a64.offsets['kvm_regs.sp_el1']!), 'sp_el1');
  t.equal(a64.constants.KVM_REG_ARM64, '0x6000000000000000');
  t.equal(a64.constants.KVM_REG_SIZE_U64, '0x30000000000000');
});

t.test('ONE_REG ids of system registers: ARM64_SYS_REG(op0, op1, CRn, CRm, op2)', async (t) => {
  const ids = a64.one_reg_ids ?? {};
  const sys = (op0: number, op1: number, crn: number, crm: number, op2: number): string =>
    '0x' + (0x6030000000130000n | BigInt((op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2)).toString(16);
  t.equal(ids.SCTLR_EL1, sys(3, 0, 1, 0, 0));
  t.equal(ids.CPACR_EL1, sys(3, 0, 1, 0, 2));
  t.equal(ids.TTBR0_EL1, sys(3, 0, 2, 0, 0));
  t.equal(ids.TCR_EL1, sys(3, 0, 2, 0, 2));
  t.equal(ids.MAIR_EL1, sys(3, 0, 10, 2, 0));
  t.equal(ids.VBAR_EL1, sys(3, 0, 12, 0, 0));
});

t.test('KVM_EXIT_MMIO and the arm64 VM type', async (t) => {
  t.equal(a64.constants.KVM_EXIT_MMIO, 6);
  t.same([a64.offsets['kvm_run.mmio.phys_addr'], a64.offsets['kvm_run.mmio.data'], a64.offsets['kvm_run.mmio.len'], a64.offsets['kvm_run.mmio.is_write']], [32, 40, 48, 52]);
  t.equal(a64.constants.KVM_VM_TYPE_ARM_IPA_SIZE_MASK, 0xff);
  t.equal(a64.constants.KVM_VM_TYPE_ARM_PROTECTED, 2 ** 31);
  t.equal(a64.sizes.kvm_vcpu_init, 32);
  t.equal(a64.offsets['kvm_vcpu_init.features'], 4);
});
