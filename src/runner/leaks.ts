/**
 * Counts the KVM resources this process holds (guest_memfd and vCPU fds, mappings of
 * KVM files), so the runner can tell a case that leaves one behind.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface KvmResources {
  /** fds of guest_memfds and vCPUs (anon_inode:[kvm-gmem], anon_inode:kvm-vcpu:N). */
  fds: number;
  /** Mappings of KVM files (guest_memfd pages, kvm_run). */
  maps: number;
}

const CASE_FD = /^anon_inode:(\[kvm-gmem\]|kvm-vcpu)/;

export function kvmResources(): KvmResources {
  let fds = 0;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (CASE_FD.test(readlinkSync(`/proc/self/fd/${name}`))) fds++;
    } catch {
      // The fd readdir itself used, already closed.
    }
  }
  let maps = 0;
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) if (line.includes('anon_inode:[kvm-') || line.includes('anon_inode:kvm-')) maps++;
  return { fds, maps };
}

/** Diagnostics naming what grew between two counts; empty when nothing did. */
export function leakDiagnostics(before: KvmResources, after: KvmResources): string[] {
  const out: string[] = [];
  if (after.fds > before.fds) out.push(`leak: ${after.fds - before.fds} guest_memfd/vCPU fd(s) left open by the case`);
  if (after.maps > before.maps) out.push(`leak: ${after.maps - before.maps} KVM mapping(s) left mapped by the case`);
  return out;
}
