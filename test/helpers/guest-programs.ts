// Guest programs the project's tests run instead of upstream's guest_code.
import { Asm } from '../../src/asm/x86_64.js';

/** A guest that never exits on its own: `spin: jmp spin`. */
export function spinProgram(): Uint8Array {
  return new Asm().label('spin').jmp('spin').assemble();
}
