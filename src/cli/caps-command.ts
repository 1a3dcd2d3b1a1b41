/** `gmemtest caps`: the capability probe, as a table or as JSON. */
import type { ChalkInstance } from 'chalk';
import { probeCaps, type Caps } from '../kvm/caps.js';
import { EXIT_PASS, EXIT_SKIP } from './exit-codes.js';
import { openDevice } from './open-device.js';
import type { Io } from './io.js';
import { hex } from '../kvm/hex.js';

const hexOrDash = (n: number | null): string => (n === null ? '-' : hex(n));

function table(caps: Caps, c: ChalkInstance): string {
  const rows: [string, string][] = [
    ['device', caps.device],
    ['kernel release', caps.kernelRelease],
    ['KVM API version', String(caps.apiVersion)],
    ['KVM_CAP_GUEST_MEMFD', String(caps.capGuestMemfd)],
    ['KVM_CAP_VM_TYPES', hex(caps.capVmTypes)],
    ['KVM_CAP_GUEST_MEMFD_FLAGS (system fd)', hex(caps.capGuestMemfdFlags)],
    ['page size', String(caps.pageSize)],
    ['THP PMD size', String(caps.thpPmdSize)],
    ['NUMA nodes', String(caps.numaNodes)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  out.push('', c.bold(`${'VM type'.padEnd(18)}${'type'.padEnd(6)}${'GUEST_MEMFD_FLAGS'.padEnd(19)}status`));
  for (const t of caps.vmTypes) {
    const status = t.skipReason === null ? c.green('testable') : c.yellow(`${t.skipReason}${t.skipDetail ? ` (${t.skipDetail})` : ''}`);
    out.push(`${t.name.padEnd(18)}${String(t.type).padEnd(6)}${hexOrDash(t.guestMemfdFlags).padEnd(19)}${status}`);
  }
  return `${out.join('\n')}\n`;
}

export async function capsCommand(opts: { device: string; json?: boolean }, io: Io): Promise<number> {
  const dev = openDevice(opts.device);
  if (!dev.ok) {
    if (opts.json) io.out(`${JSON.stringify({ device: opts.device, available: false, reason: dev.reason, detail: dev.detail }, null, 2)}\n`);
    else io.err(`gmemtest: ${dev.reason}: ${dev.detail}\n`);
    return EXIT_SKIP;
  }
  using kvm = dev.kvm;
  const caps = probeCaps(kvm);
  if (opts.json) io.out(`${JSON.stringify({ available: true, ...caps }, null, 2)}\n`);
  else io.out(table(caps, (await import('./colour.js')).chalkFor()));
  return EXIT_PASS;
}
