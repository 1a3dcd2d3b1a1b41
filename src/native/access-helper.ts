/**
 * The access helper program for the running machine (protocol and contract:
 * access-protocol.ts; one generator per architecture under src/native/<arch>/). By
 * default the prebuilt bytes (prebuilt.ts, the generator's output checked by a test);
 * `fresh` runs the generator.
 */
import type { AccessHelperProgram } from './access-protocol.js';
import type { ElfMachine } from './elf.js';
import { hostMachine } from './machine.js';
import { PREBUILT } from './prebuilt.js';
import { arm64AccessHelper } from './arm64/access-helper.js';
import { x86_64AccessHelper } from './x86_64/access-helper.js';

export * from './access-protocol.js';

export function accessHelperProgram(machine: ElfMachine = hostMachine(), opts: { fresh?: boolean } = {}): AccessHelperProgram {
  const pre = PREBUILT[machine]?.accessHelper;
  if (pre && !opts.fresh) {
    return { machine, elf: new Uint8Array(Buffer.from(pre.elf, 'base64')), bufferAddr: pre.bufferAddr,
      bufferSize: pre.bufferSize, loadMax: pre.loadMax };
  }
  if (machine === 'x86_64') return x86_64AccessHelper();
  if (machine === 'aarch64') return arm64AccessHelper();
  throw new Error(`the access helper has no ${machine as string} generator`);
}
