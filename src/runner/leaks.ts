/**
 * The KVM resources this process holds — guest_memfd and vCPU fds, mappings of KVM
 * files — as a set of keys (`fd 12 anon_inode:[kvm-gmem]`, `map 7f..-7f.. ...`), so the
 * runner can tell which case left one behind.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export type KvmResources = ReadonlySet<string>;

const CASE_FD = /^anon_inode:(\[kvm-gmem\]|kvm-vcpu)/;

export function kvmResources(): KvmResources {
  const out = new Set<string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${name}`);
      if (CASE_FD.test(target)) out.add(`fd ${name} ${target}`);
    } catch {
      // The fd readdir itself used, already closed.
    }
  }
  const maps = readFileSync('/proc/self/maps', 'utf8');
  // Most scans find no KVM mapping at all (the cases map guest_memfd in the access helper):
  // one search of the text instead of splitting a few hundred lines.
  if (!maps.includes('anon_inode:')) return out;
  for (const line of maps.split('\n')) {
    if (line.includes('anon_inode:[kvm-') || line.includes('anon_inode:kvm-')) {
      const [range, , , , , path] = line.split(/\s+/);
      out.add(`map ${range} ${path}`);
    }
  }
  return out;
}

/** What is in `after` and not in `before`. */
export function added(before: KvmResources, after: KvmResources): string[] {
  return [...after].filter((k) => !before.has(k));
}

/** Diagnostics naming what a case left behind; empty when nothing. */
export function leakDiagnostics(left: readonly string[]): string[] {
  const fds = left.filter((k) => k.startsWith('fd ')).length;
  const maps = left.length - fds;
  const out: string[] = [];
  if (fds > 0) out.push(`leak: ${fds} guest_memfd/vCPU fd(s) left open by the case`);
  if (maps > 0) out.push(`leak: ${maps} KVM mapping(s) left mapped by the case`);
  return out;
}
