/**
 * The process's one batched ioctl routine (isolate/ioctl-sweep.ts), for the cases whose
 * upstream loop makes page_size - 1 failing ioctls. Null where it cannot be loaded, and
 * while the project's fault-injection seam is installed (the tests): then the cases make
 * their calls one by one through libc, where the seam sees each.
 */
import { seamInstalled } from '../kvm/libc.js';
import { IoctlSweeper } from '../isolate/ioctl-sweep.js';

/** What the cases call on it. */
export type BatchedIoctls = Pick<IoctlSweeper, 'createGuestMemfdSizes' | 'setMemoryRegion2Offsets'>;

let sweeper: IoctlSweeper | null | undefined;
let standIn: BatchedIoctls | null = null;

/**
 * The project's tests: results made up for the cases' batched verdicts (which the seam,
 * seeing single calls only, never reaches); null puts the routine back.
 */
export function replaceBatchedIoctls(b: BatchedIoctls | null): void {
  standIn = b;
}

export function batchedIoctls(): BatchedIoctls | null {
  if (standIn !== null) return standIn;
  if (seamInstalled()) return null;
  if (sweeper === undefined) {
    try {
      sweeper = IoctlSweeper.open();
    } catch {
      sweeper = null;
    }
  }
  return sweeper;
}
