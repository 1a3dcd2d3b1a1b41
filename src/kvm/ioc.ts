/**
 * ioctl request encoding, as include/uapi/asm-generic/ioctl.h lays it out on x86_64:
 * bits 0-7 number, 8-15 type, 16-29 argument size, 30-31 direction.
 */
const NRBITS = 8;
const TYPEBITS = 8;
const SIZEBITS = 14;
const NRSHIFT = 0;
const TYPESHIFT = NRSHIFT + NRBITS;
const SIZESHIFT = TYPESHIFT + TYPEBITS;
const DIRSHIFT = SIZESHIFT + SIZEBITS;

export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

export function ioc(dir: number, type: number, nr: number, size: number): number {
  if (size >= 1 << SIZEBITS) throw new RangeError(`ioctl argument size ${size} does not fit in ${SIZEBITS} bits`);
  // >>> 0 keeps the result an unsigned 32-bit number when the READ bit is set.
  return ((dir << DIRSHIFT) | (size << SIZESHIFT) | (type << TYPESHIFT) | (nr << NRSHIFT)) >>> 0;
}

export const io = (type: number, nr: number): number => ioc(IOC_NONE, type, nr, 0);
export const ior = (type: number, nr: number, size: number): number => ioc(IOC_READ, type, nr, size);
export const iow = (type: number, nr: number, size: number): number => ioc(IOC_WRITE, type, nr, size);
export const iowr = (type: number, nr: number, size: number): number =>
  ioc(IOC_READ | IOC_WRITE, type, nr, size);
