/** The `# ` header lines of a run: who we are and what the host can do. */
import type { Caps } from '../kvm/caps.js';
import { ARCH } from '../kvm/arch/index.js';
import { hex } from '../kvm/hex.js';
import { UPSTREAM } from '../cases/catalogue.js';


/** The header's first line: who we are. */
export const toolLine = (version: string): string =>
  `gmemtest ${version}: guest_memfd conformance, a port of ${UPSTREAM.file} of ${UPSTREAM.release}`;

export function headerLines(version: string, caps: Caps, matrix: string): string[] {
  const lines = [
    toolLine(version),
    `host: kernel ${caps.kernelRelease}, device ${caps.device}, KVM API ${caps.apiVersion}, ` +
      `page_size ${caps.pageSize}, thp_pmd_size ${caps.thpPmdSize}, numa_nodes ${caps.numaNodes}, arch ${ARCH.name}`,
    `system fd: KVM_CAP_GUEST_MEMFD=${caps.capGuestMemfd} KVM_CAP_VM_TYPES=${hex(caps.capVmTypes)} ` +
      `KVM_CAP_GUEST_MEMFD_FLAGS=${hex(caps.capGuestMemfdFlags)}`,
  ];
  for (const t of caps.vmTypes) {
    lines.push(t.skipReason === null
      ? `${t.name}: KVM_CAP_GUEST_MEMFD=${t.guestMemfd} KVM_CAP_GUEST_MEMFD_FLAGS=${hex(t.guestMemfdFlags ?? 0)}`
      : `${t.name}: not testable: ${t.skipReason}${t.skipDetail ? ` (${t.skipDetail})` : ''}`);
  }
  lines.push(`matrix: ${matrix}`);
  return lines;
}
