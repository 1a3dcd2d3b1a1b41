/**
 * The process's one batched ioctl routine (isolate/ioctl-sweep.ts), for the cases whose
 * upstream loop makes page_size - 1 failing ioctls. Null where it cannot be loaded, and
 * while the project's fault-injection seam is installed (the tests): then the cases make
 * their calls one by one through libc, where the seam sees each.
 */
import { seamInstalled } from '../kvm/libc.js';
import { IoctlSweeper } from '../isolate/ioctl-sweep.js';

let sweeper: IoctlSweeper | null | undefined;

export function batchedIoctls(): IoctlSweeper | null {
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
