/**
 * A minimal x86-64 guest on a Vm (what kvm_util's __vm_create_with_one_vcpu sets up,
 * reduced to what guest_memfd_test.c needs): slot 0 of anonymous memory holding the
 * page tables, GDT, TSS, code and stack; one vCPU started in 64-bit long mode at the
 * program with its arguments in rdi, rsi, ... (vcpu_args_set).
 *
 * The vCPU gets the CPUID KVM supports (KVM_SET_CPUID2), as kvm_util gives it: a
 * stock kernel refuses EFER.LME in KVM_SET_SREGS for a vCPU whose CPUID lacks long
 * mode (seen on 7.2 under `gmemtest boot`; this host's kvm_pvm did not check).
 */
import { initialRegs } from '../../kvm/arch/x86_64/regs.js';
import { getRegs, getSregs, setRegs, setSregs, setSupportedCpuid } from '../../kvm/arch/x86_64/vcpu-regs.js';
import { Mapping } from '../../kvm/mapping.js';
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../kvm/uapi/linux.js';
import { Vcpu } from '../../kvm/vcpu.js';
import type { Vm } from '../../kvm/vm.js';
import {
  CODE_GPA, CODE_MAX, GDT_GPA, LOW_MEM_SIZE, LOW_SLOT, PT_POOL_GPA, PT_POOL_PAGES, STACK_TOP, SZ_2M, SZ_4K, TSS_GPA,
} from './layout.js';
import { longModeSregs, writeGdt } from './long-mode.js';
import { PageTables } from './page-tables.js';
import type { Guest, GuestArch, GuestStop } from '../types.js';
import { decodeUcall, isUcallExit } from './ucall.js';

/** System V argument registers, in order (vcpu_args_set). */
const ARG_REGS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'] as const;

export class X86Guest implements Guest {
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

  /** Slot 0, the program, page tables, and vCPU 0 at the program's first byte. */
  static create(vm: Vm, program: Uint8Array): X86Guest {
    if (program.length > CODE_MAX) throw new RangeError(`program of ${program.length} bytes exceeds ${CODE_MAX}`);
    const lowMem = Mapping.map(0, LOW_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    let vcpu: Vcpu | null = null;
    try {
      vm.setUserMemoryRegion2({
        slot: LOW_SLOT, flags: 0, guestPhysAddr: 0, memorySize: LOW_MEM_SIZE, userspaceAddr: lowMem.addr,
        guestMemfdOffset: 0, guestMemfd: 0,
      });
      const mem = lowMem.mem;
      mem.set(program, CODE_GPA);
      const pt = new PageTables(mem, 0, PT_POOL_GPA, PT_POOL_PAGES);
      for (let gpa = 0; gpa < LOW_MEM_SIZE; gpa += SZ_2M) pt.map2M(gpa, gpa);
      const gdt = writeGdt(mem.subarray(GDT_GPA), GDT_GPA, TSS_GPA);
      mem.fill(0, TSS_GPA, TSS_GPA + 0x68);

      vcpu = Vcpu.create(vm, 0);
      setSupportedCpuid(vcpu, vm.kvm.fd);
      setSregs(vcpu, longModeSregs(getSregs(vcpu), pt.root, gdt, TSS_GPA));
      const regs = initialRegs();
      regs.rip = BigInt(CODE_GPA);
      regs.rsp = BigInt(STACK_TOP);
      setRegs(vcpu, regs);
      return new X86Guest(vm, vcpu, lowMem, pt);
    } catch (e) {
      vcpu?.close();
      lowMem.unmap();
      throw e;
    }
  }

  /** Identity-maps the 2 MiB pages holding [gpa, gpa + size) in the guest's page tables (virt_map). */
  identityMap(gpa: number, size: number): void {
    // The page tables live in slot 0's mapping: writing them after close() would fault.
    if (this.lowMem.unmapped) throw new Error('X86Guest used after close');
    for (let page = gpa - (gpa % SZ_2M); page < gpa + Math.max(size, 1); page += SZ_2M) this.pageTables.map2M(page, page);
  }

  /** Sets the program's arguments: rdi, rsi, rdx, rcx, r8, r9 (vcpu_args_set). */
  setArgs(...args: readonly (number | bigint)[]): void {
    if (args.length > ARG_REGS.length) throw new RangeError(`at most ${ARG_REGS.length} arguments`);
    const regs = getRegs(this.vcpu);
    args.forEach((a, i) => { regs[ARG_REGS[i]!] = BigInt(a); });
    setRegs(this.vcpu, regs);
  }

  /** Runs the vCPU until it reports (ucall), exits any other way, or `timeoutMs` passes. */
  run(timeoutMs: number): GuestStop {
    const r = this.vcpu.runFor(timeoutMs);
    if (r.kind === 'timeout') return r;
    const e = this.vcpu.lastExit();
    if (isUcallExit(e)) return { kind: 'ucall', ucall: decodeUcall(getRegs(this.vcpu)) };
    return { kind: 'exit', exit: e };
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

export const x86_64Guest: GuestArch = {
  name: 'x86_64',
  pageSize: SZ_4K,
  create: (vm, program) => X86Guest.create(vm, program),
};
