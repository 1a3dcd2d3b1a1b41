/** Facts about the host that are not KVM capabilities: page size, THP, NUMA, kernel. */
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { libc } from './libc.js';

export interface HostInfo {
  kernelRelease: string;
  pageSize: number;
  /** THP PMD size in bytes, or 0 when the kernel has no THP. */
  thpPmdSize: number;
  /** Number of online NUMA nodes (1 on a kernel without NUMA). */
  numaNodes: number;
}

function readNumber(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Parses a kernel cpulist such as "0-1,3" into the count of ids it names. */
export function countList(list: string): number {
  let n = 0;
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    n += b === undefined || Number.isNaN(b) ? 1 : b - a + 1;
  }
  return n;
}

export function numaNodeCount(sysfs = '/sys/devices/system/node'): number {
  try {
    return Math.max(1, countList(readFileSync(`${sysfs}/online`, 'utf8')));
  } catch {
    try {
      return Math.max(1, readdirSync(sysfs).filter((d) => /^node\d+$/.test(d)).length);
    } catch {
      return 1;
    }
  }
}

export function hostInfo(): HostInfo {
  return {
    kernelRelease: release(),
    pageSize: libc.getpagesize(),
    thpPmdSize: readNumber('/sys/kernel/mm/transparent_hugepage/hpage_pmd_size'),
    numaNodes: numaNodeCount(),
  };
}
