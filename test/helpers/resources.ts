/**
 * What this process holds, read from /proc/self: open fds and mappings, in total and
 * those of KVM (VM fds, guest_memfds and their mappings). The project's tests compare
 * two snapshots around a run to find a leak (the runner itself uses src/runner/leaks.ts).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ResourceSnapshot {
  readonly fds: number;
  /** fds whose target is a KVM anon inode (kvm-vm, kvm-vcpu, kvm-gmem). */
  readonly kvmFds: number;
  readonly maps: number;
  /** Mappings of a guest_memfd. */
  readonly gmemMaps: number;
  /** Anonymous PROT_NONE mappings (address-space reservations). */
  readonly reservations: number;
}

export function resourceSnapshot(): ResourceSnapshot {
  let fds = 0;
  let kvmFds = 0;
  for (const f of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${f}`);
    } catch {
      continue; // the directory's own fd, gone by now
    }
    fds++;
    if (/^anon_inode:\[?kvm-/.test(target)) kvmFds++;
  }
  const lines = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l !== '');
  const gmemMaps = lines.filter((l) => l.includes('[kvm-gmem]')).length;
  const reservations = lines.filter((l) => / ---p 00000000 00:00 0\s*$/.test(l)).length;
  return { fds, kvmFds, maps: lines.length, gmemMaps, reservations };
}
