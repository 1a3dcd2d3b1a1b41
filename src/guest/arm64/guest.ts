/**
 * A minimal arm64 guest on a Vm (what kvm_util sets up for guest_memfd_test.c on arm64,
 * reduced to what the test needs): slot 0 of anonymous memory holding the translation
 * tables, the exception vectors, code and stack; one vCPU reset with KVM's preferred
 * target (KVM_ARM_PREFERRED_TARGET, KVM_ARM_VCPU_INIT, no optional features), then
 * KVM_SET_ONE_REG for the MMU (MAIR, TCR, TTBR0, SCTLR: on, caches on), VBAR_EL1,
 * SP_EL1, PSTATE (EL1h, interrupts masked) and PC, with its arguments in x0, x1, ...
 * (vcpu_args_set).
 *
 * The MMU is on, as upstream runs its guests: with it off every data access is
 * Device-nGnRnE, uncached, which on hardware without FEAT_S2FWB can disagree with the
 * host's cached view of the same guest_memfd page. No vGIC is created: the program takes
 * no interrupts (upstream adds one for tests that do).
 */
import {
  PSR_A_BIT, PSR_D_BIT, PSR_F_BIT, PSR_I_BIT, PSR_MODE_EL1h, REG,
} from '../../kvm/arch/arm64/uapi.js';
import { getOneReg, preferredTarget, setOneReg, vcpuInit } from '../../kvm/arch/arm64/vcpu-regs.js';
import { hex } from '../../kvm/hex.js';
import { Mapping } from '../../kvm/mapping.js';
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../kvm/uapi/linux.js';
import { Vcpu } from '../../kvm/vcpu.js';
import type { Vm } from '../../kvm/vm.js';
import type { Guest, GuestArch, GuestStop } from '../types.js';
import {
  CODE_GPA, CODE_MAX, LOW_MEM_SIZE, LOW_SLOT, PT_POOL_GPA, PT_POOL_PAGES, STACK_TOP, SZ_2M, SZ_4K, UCALL_GPA, VECTORS_GPA,
} from './layout.js';
import { MAIR, PageTables, SCTLR_C, SCTLR_I, SCTLR_M, TCR, supports4kGranule } from './page-tables.js';
import { decodeUcall, isUcallExit, UCALL_EXCEPTION, ucallKind } from './ucall.js';
import { describeEsr, vectorName, vectorTable } from './vectors.js';

/** AAPCS64 argument registers x0-x7 (vcpu_args_set). */
const MAX_ARGS = 8;

export class Arm64Guest implements Guest {
  readonly vm: Vm;
  readonly vcpu: Vcpu;
  /** Slot 0's host mapping. */
  readonly lowMem: Mapping;
  readonly pageTables: PageTables;

  private constructor(vm: Vm, vcpu: Vcpu, lowMem: Mapping, pageTables: PageTables) {
    this.vm = vm;
    this.vcpu = vcpu;
    this.lowMem = lowMem;
    this.pageTables = pageTables;
  }

  /** Slot 0, the program, vectors, tables, and vCPU 0 at the program's first instruction. */
  static create(vm: Vm, program: Uint8Array): Arm64Guest {
    if (program.length > CODE_MAX) throw new RangeError(`program of ${program.length} bytes exceeds ${CODE_MAX}`);
    if (program.length % 4 !== 0) throw new RangeError(`program of ${program.length} bytes is not whole A64 instructions`);
    const lowMem = Mapping.map(0, LOW_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    let vcpu: Vcpu | null = null;
    try {
      vm.setUserMemoryRegion2({
        slot: LOW_SLOT, flags: 0, guestPhysAddr: 0, memorySize: LOW_MEM_SIZE, userspaceAddr: lowMem.addr,
        guestMemfdOffset: 0, guestMemfd: 0,
      });
      const mem = lowMem.mem;
      mem.set(program, CODE_GPA);
      mem.set(vectorTable(), VECTORS_GPA);
      const pt = new PageTables(mem, 0, PT_POOL_GPA, PT_POOL_PAGES);
      pt.map2M(0, 0, 'normal');
      pt.map2M(UCALL_GPA - (UCALL_GPA % SZ_2M), UCALL_GPA - (UCALL_GPA % SZ_2M), 'device');

      vcpu = Vcpu.create(vm, 0);
      // The target KVM suggests, no optional features (no PSCI, PMU, SVE, pointer auth).
      vcpuInit(vcpu, { target: preferredTarget(vm).target, features: [] });
      const mmfr0 = getOneReg(vcpu, REG.ID_AA64MMFR0_EL1);
      if (!supports4kGranule(mmfr0)) throw new Error(`the vCPU has no 4 KiB stage-1 granule (ID_AA64MMFR0_EL1 ${hex(mmfr0)})`);
      setOneReg(vcpu, REG.MAIR_EL1, MAIR);
      setOneReg(vcpu, REG.TCR_EL1, TCR);
      setOneReg(vcpu, REG.TTBR0_EL1, pt.root);
      setOneReg(vcpu, REG.SCTLR_EL1, getOneReg(vcpu, REG.SCTLR_EL1) | SCTLR_M | SCTLR_C | SCTLR_I);
      setOneReg(vcpu, REG.VBAR_EL1, VECTORS_GPA);
      setOneReg(vcpu, REG.sp_el1, STACK_TOP);
      setOneReg(vcpu, REG.pstate, PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT);
      setOneReg(vcpu, REG.pc, CODE_GPA);
      return new Arm64Guest(vm, vcpu, lowMem, pt);
    } catch (e) {
      vcpu?.close();
      lowMem.unmap();
      throw e;
    }
  }

  /** Identity-maps the 2 MiB blocks holding [gpa, gpa + size) as normal memory (virt_map). */
  identityMap(gpa: number, size: number): void {
    if (this.lowMem.unmapped) throw new Error('Arm64Guest used after close');
    for (let block = gpa - (gpa % SZ_2M); block < gpa + Math.max(size, 1); block += SZ_2M) this.pageTables.map2M(block, block);
  }

  /** Sets the program's arguments in x0, x1, ... (vcpu_args_set). */
  setArgs(...args: readonly (number | bigint)[]): void {
    if (args.length > MAX_ARGS) throw new RangeError(`at most ${MAX_ARGS} arguments`);
    args.forEach((v, i) => setOneReg(this.vcpu, REG.x(i), v));
  }

  /** Runs the vCPU until it reports (ucall), exits any other way, or `timeoutMs` passes. */
  run(timeoutMs: number): GuestStop {
    const r = this.vcpu.runFor(timeoutMs);
    if (r.kind === 'timeout') return r;
    const e = this.vcpu.lastExit();
    if (!isUcallExit(e)) return { kind: 'exit', exit: e };
    const kind = ucallKind(e);
    const x = (n: number): bigint => getOneReg(this.vcpu, REG.x(n));
    if (kind === BigInt(UCALL_EXCEPTION)) {
      const [esr, far, elr, vector] = [x(0), x(1), x(2), Number(x(3))];
      return {
        kind: 'exception',
        description: `${vectorName(vector)} exception: ${describeEsr(esr)} (ESR_EL1 ${hex(esr)}, FAR_EL1 ${hex(far)}, ELR_EL1 ${hex(elr)})`,
      };
    }
    return { kind: 'ucall', ucall: decodeUcall(kind, x(0), x(1)) };
  }

  /** Closes the vCPU and unmaps slot 0. The Vm is the caller's to close. */
  close(): void {
    this.vcpu.close();
    this.lowMem.unmap();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export const arm64Guest: GuestArch = {
  name: 'arm64',
  pageSize: SZ_4K,
  create: (vm, program) => Arm64Guest.create(vm, program),
};
