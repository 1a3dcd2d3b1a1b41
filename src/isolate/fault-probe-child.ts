/**
 * The fault probe's child process: maps the file it inherited as fd 3 and performs one
 * access that is expected to raise SIGBUS, which kills this process (Node cannot
 * survive it, which is why the access happens here and not in the runner).
 *
 *   node fault-probe-child.js fill <mapSize> <offset> <length> <value>
 *   node fault-probe-child.js read <mapSize> <offset> <length>
 *
 * Protocol on stdout: "mapped 0x<addr>" once the mapping exists, "armed" right before
 * the access, "done" when the access completed without a fault (then exit 0). Bad
 * arguments or a failed mmap: a message on stderr, exit 2.
 *
 * Keep this file's imports to libc/mapping: it is started for every probe.
 */
import { writeSync } from 'node:fs';
import { hex } from '../kvm/hex.js';
import { Mapping } from '../kvm/mapping.js';

const FD = 3;
const PROT_RW = 0x1 | 0x2;
const MAP_SHARED = 0x01;

function die(msg: string): never {
  writeSync(2, `fault-probe-child: ${msg}\n`);
  process.exit(2);
}

function int(s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || !Number.isSafeInteger(n) || n < 0) die(`bad ${what}: ${String(s)}`);
  return n;
}

const [op, mapArg, offArg, lenArg, valArg] = process.argv.slice(2);
if (op !== 'fill' && op !== 'read') die(`unknown op ${String(op)}`);
const mapSize = int(mapArg, 'mapSize');
const offset = int(offArg, 'offset');
const length = int(lenArg, 'length');
const value = op === 'fill' ? int(valArg, 'value') & 0xff : 0;
if (offset + length > mapSize) die(`range ${offset}+${length} is outside the ${mapSize}-byte mapping`);

const r = Mapping.tryMap(0, mapSize, PROT_RW, MAP_SHARED, FD, 0);
if (!r.ok) die(`mmap(fd ${FD}, ${mapSize}) failed: ${r.errnoName}`);
const m = r.value;
const mem = m.mem;
writeSync(1, `mapped ${hex(m.addr)}\n`);

writeSync(1, 'armed\n');
let sum = 0;
if (op === 'fill') {
  // memset: real stores into the shared mapping, in address order.
  mem.fill(value, offset, offset + length);
} else {
  // READ_ONCE of each byte: real loads.
  for (let i = offset; i < offset + length; i++) sum += mem[i]!;
}
writeSync(1, `done ${sum}\n`);
m.unmap();
process.exit(0);
