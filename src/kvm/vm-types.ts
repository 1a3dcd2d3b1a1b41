/** x86 VM types (KVM_X86_*_VM) by number and by the stable name gmemtest reports. */
import {
  KVM_X86_DEFAULT_VM, KVM_X86_SEV_ES_VM, KVM_X86_SEV_VM, KVM_X86_SNP_VM, KVM_X86_SW_PROTECTED_VM,
  KVM_X86_TDX_VM,
} from './uapi.js';

export const VM_TYPES: readonly { readonly type: number; readonly name: string }[] = [
  { type: KVM_X86_DEFAULT_VM, name: 'default_vm' },
  { type: KVM_X86_SW_PROTECTED_VM, name: 'sw_protected_vm' },
  { type: KVM_X86_SEV_VM, name: 'sev_vm' },
  { type: KVM_X86_SEV_ES_VM, name: 'sev_es_vm' },
  { type: KVM_X86_SNP_VM, name: 'snp_vm' },
  { type: KVM_X86_TDX_VM, name: 'tdx_vm' },
];

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
