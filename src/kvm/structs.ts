/**
 * Layouts of the uapi structs that are the same on every 64-bit architecture gmemtest
 * supports (LP64, little endian): sizes and field offsets, plus the encoders the fd
 * classes use. Per-architecture structs (struct stat, vCPU registers) are in
 * arch/<arch>/. Checked field by field against the fixtures by test/unit/uapi.test.ts.
 */

export const SIZEOF = {
  sigevent: 64,
  itimerspec: 32,
  kvm_create_guest_memfd: 64,
  kvm_userspace_memory_region: 32,
  kvm_userspace_memory_region2: 160,
  kvm_run: 2352,
} as const;

export const OFFSETOF = {
  sigevent: { sigev_value: 0, sigev_signo: 8, sigev_notify: 12, sigev_notify_thread_id: 16 },
  itimerspec: { 'it_interval.tv_sec': 0, 'it_interval.tv_nsec': 8, 'it_value.tv_sec': 16, 'it_value.tv_nsec': 24 },
  kvm_create_guest_memfd: { size: 0, flags: 8, reserved: 16 },
  kvm_userspace_memory_region: { slot: 0, flags: 4, guest_phys_addr: 8, memory_size: 16, userspace_addr: 24 },
  kvm_userspace_memory_region2: {
    slot: 0, flags: 4, guest_phys_addr: 8, memory_size: 16, userspace_addr: 24,
    guest_memfd_offset: 32, guest_memfd: 40, pad1: 44, pad2: 48,
  },
  kvm_run: {
    request_interrupt_window: 0, immediate_exit: 1, exit_reason: 8,
    'io.direction': 32, 'io.size': 33, 'io.port': 34, 'io.count': 36, 'io.data_offset': 40,
    'mmio.phys_addr': 32, 'mmio.data': 40, 'mmio.len': 48, 'mmio.is_write': 52,
    'fail_entry.hardware_entry_failure_reason': 32, 'fail_entry.cpu': 40,
    'internal.suberror': 32, 'internal.ndata': 36, 'internal.data': 40,
    'memory_fault.flags': 32, 'memory_fault.gpa': 40, 'memory_fault.size': 48,
  },
} as const;

/** Reads a u64 field that is known to stay below 2^53 (sizes, addresses, inode numbers). */
export function u64(buf: Buffer, offset: number): number {
  return Number(buf.readBigUInt64LE(offset));
}
export function putU64(buf: Buffer, offset: number, value: number | bigint): void {
  if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) {
    // Two 32-bit stores: no BigInt on the hot path (one KVM_CREATE_GUEST_MEMFD per call).
    buf.writeUInt32LE(value % 0x1_0000_0000, offset);
    buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
  } else {
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), offset);
  }
}

export function encodeCreateGuestMemfd(buf: Buffer, size: number | bigint, flags: number | bigint): void {
  const o = OFFSETOF.kvm_create_guest_memfd;
  putU64(buf, o.size, size);
  putU64(buf, o.flags, flags);
  buf.fill(0, o.reserved, SIZEOF.kvm_create_guest_memfd);
}

/** struct kvm_userspace_memory_region (KVM_SET_USER_MEMORY_REGION). */
export interface MemoryRegion {
  slot: number;
  flags: number;
  guestPhysAddr: number;
  memorySize: number;
  userspaceAddr: number;
}

/** struct kvm_userspace_memory_region2: the first five fields, then the guest_memfd. */
export interface MemoryRegion2 extends MemoryRegion {
  /** A bigint where the offset is past 2^53 (test_invalid_binding's). */
  guestMemfdOffset: number | bigint;
  /** -1 (no fd) is stored as its u32 bit pattern, as C does. */
  guestMemfd: number;
}

/** The five fields both memslot structs begin with, at the offsets `o` gives them. */
function putMemoryRegion(buf: Buffer, o: typeof OFFSETOF.kvm_userspace_memory_region, r: MemoryRegion): void {
  buf.writeUInt32LE(r.slot, o.slot);
  buf.writeUInt32LE(r.flags >>> 0, o.flags);
  putU64(buf, o.guest_phys_addr, r.guestPhysAddr);
  putU64(buf, o.memory_size, r.memorySize);
  putU64(buf, o.userspace_addr, r.userspaceAddr);
}

export function encodeMemoryRegion(buf: Buffer, r: MemoryRegion): void {
  buf.fill(0, 0, SIZEOF.kvm_userspace_memory_region);
  putMemoryRegion(buf, OFFSETOF.kvm_userspace_memory_region, r);
}

export function encodeMemoryRegion2(buf: Buffer, r: MemoryRegion2): void {
  const o = OFFSETOF.kvm_userspace_memory_region2;
  buf.fill(0, 0, SIZEOF.kvm_userspace_memory_region2);
  putMemoryRegion(buf, o, r);
  putU64(buf, o.guest_memfd_offset, r.guestMemfdOffset);
  buf.writeUInt32LE(r.guestMemfd >>> 0, o.guest_memfd);
}

/** struct stat, decoded (the architecture's decoder fills it: arch/<arch>/uapi.ts). */
export interface Stat {
  dev: number;
  ino: number;
  nlink: number;
  mode: number;
  size: number;
  blksize: number;
  blocks: number;
}
