/** The architecture's VM types by number and by the stable name gmemtest reports (arch/). */
import { ARCH, type ArchUapi } from './arch/index.js';

export const VM_TYPES: ArchUapi['vmTypes'] = ARCH.vmTypes;

/** "default_vm" for 0; "vm_type_9" for a type this table does not know. */
export function vmTypeName(type: number): string {
  return VM_TYPES.find((t) => t.type === type)?.name ?? `vm_type_${type}`;
}

/**
 * Parses a --vm-type value: a name ("default_vm", or without the "_vm" suffix, any
 * case, '-' for '_') or a number 0-63. Returns null when it is neither.
 */
export function parseVmType(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/-/g, '_');
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n < 64 ? n : null;
  }
  const m = /^vm_type_(\d+)$/.exec(t);
  if (m) return Number(m[1]) < 64 ? Number(m[1]) : null;
  const hit = VM_TYPES.find((v) => v.name === t || v.name === `${t}_vm`);
  return hit ? hit.type : null;
}
