/**
 * What guest_memfd_guest needs of a vCPU guest, whatever the architecture: a VM given a
 * program, memory mapped in the guest's page tables, arguments, and a run that ends in
 * the guest's report (a ucall), another exit, or the time limit.
 */
import type { VcpuExit } from '../kvm/exits.js';
import type { Vcpu } from '../kvm/vcpu.js';
import type { Vm } from '../kvm/vm.js';

/** The guest's report to the host (kvm_util's ucalls, reduced to what the case uses). */
export type Ucall =
  | { readonly kind: 'DONE' }
  /** The guest's check failed: arg0 and arg1 are what the program says they are. */
  | { readonly kind: 'ASSERT'; readonly arg0: bigint; readonly arg1: bigint }
  | { readonly kind: 'UNKNOWN'; readonly code: bigint; readonly arg0: bigint; readonly arg1: bigint };

/** Why run() returned. */
export type GuestStop =
  | { readonly kind: 'ucall'; readonly ucall: Ucall }
  | { readonly kind: 'exit'; readonly exit: VcpuExit }
  /** The guest did not exit within the time limit (kicked out of KVM_RUN). */
  | { readonly kind: 'timeout'; readonly ms: number }
  /**
   * The guest took an exception its program did not expect, and its exception handler
   * reported it (arm64's vector table); `description` says which and where.
   */
  | { readonly kind: 'exception'; readonly description: string };

export interface Guest extends Disposable {
  readonly vcpu: Vcpu;
  /** Maps [gpa, gpa + size) at the same guest-virtual addresses (virt_map). */
  identityMap(gpa: number, size: number): void;
  /** The program's arguments, in the architecture's argument registers (vcpu_args_set). */
  setArgs(...args: readonly (number | bigint)[]): void;
  /** Runs the vCPU until it reports, exits otherwise, or `timeoutMs` passes. Blocks the thread. */
  run(timeoutMs: number): GuestStop;
  /** Closes the vCPU and the guest's own memory; the Vm is the caller's. */
  close(): void;
}

/** An architecture's guest builder. */
export interface GuestArch {
  /** As ArchUapi names it. */
  readonly name: 'x86_64' | 'arm64';
  /** The guest's page size (kvm_util's vm->page_size). */
  readonly pageSize: number;
  /** Slot 0 (code, stack, page tables), vCPU 0 at the program's first instruction. */
  create(vm: Vm, program: Uint8Array): Guest;
}
