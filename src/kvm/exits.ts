/**
 * Decoding of struct kvm_run after KVM_RUN returns: the exit reason's name and the
 * fields of the union member that reason selects, and a one-line description of it
 * for diagnostics (e.g. `KVM_EXIT_MMIO at gpa 0x100000000 (read, 1 byte)`).
 */
import { OFFSETOF } from './structs.js';
import {
  KVM_EXIT_EXCEPTION, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_INTR, KVM_EXIT_IO,
  KVM_EXIT_IO_OUT, KVM_EXIT_MEMORY_FAULT, KVM_EXIT_MMIO, KVM_EXIT_SHUTDOWN, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_UNKNOWN,
} from './uapi/kvm.js';
import { hex } from './hex.js';
import { ARCH } from './arch/index.js';

const EXIT_NAMES: ReadonlyMap<number, string> = new Map([
  [KVM_EXIT_UNKNOWN, 'KVM_EXIT_UNKNOWN'],
  [KVM_EXIT_EXCEPTION, 'KVM_EXIT_EXCEPTION'],
  [KVM_EXIT_IO, 'KVM_EXIT_IO'],
  [KVM_EXIT_HLT, 'KVM_EXIT_HLT'],
  [KVM_EXIT_MMIO, 'KVM_EXIT_MMIO'],
  [KVM_EXIT_SHUTDOWN, 'KVM_EXIT_SHUTDOWN'],
  [KVM_EXIT_FAIL_ENTRY, 'KVM_EXIT_FAIL_ENTRY'],
  [KVM_EXIT_INTR, 'KVM_EXIT_INTR'],
  [KVM_EXIT_INTERNAL_ERROR, 'KVM_EXIT_INTERNAL_ERROR'],
  [KVM_EXIT_SYSTEM_EVENT, 'KVM_EXIT_SYSTEM_EVENT'],
  [KVM_EXIT_MEMORY_FAULT, 'KVM_EXIT_MEMORY_FAULT'],
  ...(ARCH.exitNames ?? []),
]);

/** `KVM_EXIT_MMIO`, or `KVM_EXIT_<n>` for a reason this module has no name for. */
export function exitName(reason: number): string {
  return EXIT_NAMES.get(reason) ?? `KVM_EXIT_${reason}`;
}

export interface IoExit {
  readonly reason: typeof KVM_EXIT_IO;
  readonly direction: 'in' | 'out';
  /** Bytes per access (1, 2 or 4). */
  readonly size: number;
  readonly port: number;
  readonly count: number;
  /** Offset of the data in the kvm_run mapping. */
  readonly dataOffset: number;
  /** The bytes written (out) or to be filled in (in): size * count, copied. */
  readonly data: Buffer;
}

export interface MmioExit {
  readonly reason: typeof KVM_EXIT_MMIO;
  readonly physAddr: bigint;
  /** The 8-byte data field; the first `len` bytes are meaningful. */
  readonly data: Buffer;
  readonly len: number;
  readonly isWrite: boolean;
}

export interface FailEntryExit {
  readonly reason: typeof KVM_EXIT_FAIL_ENTRY;
  readonly hardwareEntryFailureReason: bigint;
  readonly cpu: number;
}

export interface InternalErrorExit {
  readonly reason: typeof KVM_EXIT_INTERNAL_ERROR;
  readonly suberror: number;
  readonly data: readonly bigint[];
}

export interface MemoryFaultExit {
  readonly reason: typeof KVM_EXIT_MEMORY_FAULT;
  readonly flags: bigint;
  readonly gpa: bigint;
  readonly size: bigint;
}

/** An exit with no fields decoded here (HLT, SHUTDOWN, and anything unknown). */
export interface PlainExit {
  readonly reason: number;
}

export type VcpuExit = (IoExit | MmioExit | FailEntryExit | InternalErrorExit | MemoryFaultExit | PlainExit) & {
  readonly name: string;
};

const R = OFFSETOF.kvm_run;
/** kvm_run.internal.data has room for 16 u64 words. */
const INTERNAL_DATA_MAX = 16;

/** Reads the exit out of a kvm_run mapping (copies what it keeps). */
export function decodeExit(run: Buffer): VcpuExit {
  const reason = run.readUInt32LE(R.exit_reason);
  const name = exitName(reason);
  switch (reason) {
    case KVM_EXIT_IO: {
      const size = run.readUInt8(R['io.size']);
      const count = run.readUInt32LE(R['io.count']);
      const dataOffset = Number(run.readBigUInt64LE(R['io.data_offset']));
      const len = size * count;
      const data = dataOffset > 0 && dataOffset + len <= run.length
        ? Buffer.from(run.subarray(dataOffset, dataOffset + len)) : Buffer.alloc(0);
      return {
        reason, name, size, count, dataOffset, data,
        direction: run.readUInt8(R['io.direction']) === KVM_EXIT_IO_OUT ? 'out' : 'in',
        port: run.readUInt16LE(R['io.port']),
      };
    }
    case KVM_EXIT_MMIO:
      return {
        reason, name,
        physAddr: run.readBigUInt64LE(R['mmio.phys_addr']),
        data: Buffer.from(run.subarray(R['mmio.data'], R['mmio.data'] + 8)),
        len: run.readUInt32LE(R['mmio.len']),
        isWrite: run.readUInt8(R['mmio.is_write']) !== 0,
      };
    case KVM_EXIT_FAIL_ENTRY:
      return {
        reason, name,
        hardwareEntryFailureReason: run.readBigUInt64LE(R['fail_entry.hardware_entry_failure_reason']),
        cpu: run.readUInt32LE(R['fail_entry.cpu']),
      };
    case KVM_EXIT_INTERNAL_ERROR: {
      const ndata = Math.min(run.readUInt32LE(R['internal.ndata']), INTERNAL_DATA_MAX);
      const data: bigint[] = [];
      for (let i = 0; i < ndata; i++) data.push(run.readBigUInt64LE(R['internal.data'] + 8 * i));
      return { reason, name, suberror: run.readUInt32LE(R['internal.suberror']), data };
    }
    case KVM_EXIT_MEMORY_FAULT:
      return {
        reason, name,
        flags: run.readBigUInt64LE(R['memory_fault.flags']),
        gpa: run.readBigUInt64LE(R['memory_fault.gpa']),
        size: run.readBigUInt64LE(R['memory_fault.size']),
      };
    default:
      return { reason, name };
  }
}

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** One line naming the exit and its data. */
export function describeExit(e: VcpuExit): string {
  switch (e.reason) {
    case KVM_EXIT_IO: {
      const x = e as IoExit;
      const data = x.direction === 'out' ? `, data ${x.data.toString('hex') || '(none)'}` : '';
      return `${e.name} ${x.direction} port ${hex(x.port)} (${plural(x.size, 'byte')} x ${x.count}${data})`;
    }
    case KVM_EXIT_MMIO: {
      const x = e as MmioExit;
      const data = x.isWrite ? `, data ${x.data.subarray(0, x.len).toString('hex')}` : '';
      return `${e.name} at gpa ${hex(x.physAddr)} (${x.isWrite ? 'write' : 'read'}, ${plural(x.len, 'byte')}${data})`;
    }
    case KVM_EXIT_FAIL_ENTRY: {
      const x = e as FailEntryExit;
      return `${e.name}: hardware entry failure reason ${hex(x.hardwareEntryFailureReason)} on cpu ${x.cpu}`;
    }
    case KVM_EXIT_INTERNAL_ERROR: {
      const x = e as InternalErrorExit;
      return `${e.name}: suberror ${x.suberror}, data [${x.data.map(hex).join(', ')}]`;
    }
    case KVM_EXIT_MEMORY_FAULT: {
      const x = e as MemoryFaultExit;
      return `${e.name} at gpa ${hex(x.gpa)} (size ${hex(x.size)}, flags ${hex(x.flags)})`;
    }
    case KVM_EXIT_HLT:
    case KVM_EXIT_SHUTDOWN:
    default:
      return e.name;
  }
}
