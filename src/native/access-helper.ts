/**
 * The access helper program for the running machine (protocol and contract:
 * access-protocol.ts; one generator per architecture under src/native/<arch>/).
 */
import type { AccessHelperProgram } from './access-protocol.js';
import type { ElfMachine } from './elf.js';
import { hostMachine } from './machine.js';
import { x86_64AccessHelper } from './x86_64/access-helper.js';

export * from './access-protocol.js';

export function accessHelperProgram(machine: ElfMachine = hostMachine()): AccessHelperProgram {
  if (machine === 'x86_64') return x86_64AccessHelper();
  throw new Error(`the access helper has no ${machine} generator yet`);
}
