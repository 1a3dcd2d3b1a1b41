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
  /** The highest NUMA node id in sysfs (maxNumaNodeId()): the multi-node gate's number. */
  maxNumaNode: number;
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

/**
 * The highest node id among /sys/devices/system/node/node<N> (0 without NUMA or without
 * that directory): the selftests' get_max_numa_node(), whose >= 1 is their
 * is_multi_numa_node_system() gate.
 */
export function maxNumaNodeId(sysfs = '/sys/devices/system/node'): number {
  try {
    return readdirSync(sysfs).reduce((max, d) => {
      const m = /^node(\d+)$/.exec(d);
      return m ? Math.max(max, Number(m[1])) : max;
    }, 0);
  } catch {
    return 0;
  }
}

export function hostInfo(): HostInfo {
  return {
    kernelRelease: release(),
    pageSize: libc.getpagesize(),
    thpPmdSize: readNumber('/sys/kernel/mm/transparent_hugepage/hpage_pmd_size'),
    numaNodes: numaNodeCount(),
    maxNumaNode: maxNumaNodeId(),
  };
}
