/**
 * The guest's exception vector table (VBAR_EL1): 16 entries of 128 bytes, each of which
 * reports the exception to the host as a ucall (UCALL_EXCEPTION, ucall.ts) with ESR_EL1,
 * FAR_EL1, ELR_EL1 and its own index in x0-x3, then stays put. Without it an exception
 * (a translation fault on memory the tables do not map, an undefined instruction) would
 * jump to VBAR_EL1's reset value, and the guest would never exit on its own.
 */
import { Arm64Asm } from '../../asm/arm64.js';
import { hex } from '../../kvm/hex.js';
import { VECTORS_SIZE } from './layout.js';
import { UCALL_EXCEPTION, UCALL_GPA } from './ucall.js';

const ENTRY = 0x80;
const WHERE = ['current EL with SP_EL0', 'current EL with SP_ELx', 'lower EL, AArch64', 'lower EL, AArch32'];
const KIND = ['synchronous', 'IRQ', 'FIQ', 'SError'];

/** "synchronous, current EL with SP_ELx" for vector 4. */
export function vectorName(index: number): string {
  return `${KIND[index % 4] ?? '?'}, ${WHERE[Math.floor(index / 4)] ?? '?'}`;
}

export function vectorTable(): Uint8Array {
  const a = new Arm64Asm();
  for (let i = 0; i < 16; i++) {
    a.align(ENTRY).label(`vector_${i}`)
      .mrs('x0', 'ESR_EL1')
      .mrs('x1', 'FAR_EL1')
      .mrs('x2', 'ELR_EL1')
      .movz('x3', i)
      .movImm('x9', UCALL_GPA)
      .movz('x10', UCALL_EXCEPTION)
      .str('x10', 'x9')
      .label(`vector_${i}_stay`)
      .b(`vector_${i}_stay`);
  }
  a.align(ENTRY);
  const code = a.assemble();
  if (code.length !== VECTORS_SIZE) throw new Error(`vector table is ${code.length} bytes, not ${VECTORS_SIZE}`);
  return code;
}

/** ESR_EL1.EC values worth a name in a diagnostic. */
const EC_NAMES: Readonly<Record<number, string>> = {
  0x00: 'unknown reason (e.g. an undefined instruction)',
  0x15: 'SVC in AArch64',
  0x18: 'trapped MSR/MRS/system instruction',
  0x20: 'instruction abort from a lower EL',
  0x21: 'instruction abort, same EL',
  0x22: 'PC alignment fault',
  0x24: 'data abort from a lower EL',
  0x25: 'data abort, same EL',
  0x26: 'SP alignment fault',
  0x2f: 'SError',
  0x3c: 'BRK instruction',
};

/** DFSC/IFSC (ISS[5:0]) of an abort. */
function faultStatus(fsc: number): string {
  const level = fsc & 3;
  switch (fsc >> 2) {
    case 0b0000: return `address size fault, level ${level}`;
    case 0b0001: return `translation fault, level ${level}`;
    case 0b0010: return `access flag fault, level ${level}`;
    case 0b0011: return `permission fault, level ${level}`;
    default: return fsc === 0b010000 ? 'synchronous external abort' : fsc === 0b100001 ? 'alignment fault' : `fault status ${hex(fsc)}`;
  }
}

/** One line: what ESR_EL1 says (exception class, and for aborts the fault status). */
export function describeEsr(esr: bigint): string {
  const ec = Number((esr >> 26n) & 0x3fn);
  const name = EC_NAMES[ec] ?? `exception class ${hex(ec)}`;
  if (ec >= 0x20 && ec <= 0x25) return `${name}: ${faultStatus(Number(esr & 0x3fn))}`;
  return name;
}
