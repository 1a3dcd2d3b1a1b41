/**
 * The machines `gmemtest boot` can boot, one per guest architecture: the QEMU binary
 * (and the Debian package that has it), its board, the serial console's name in the
 * guest, the modules the initramfs loads, the ELF machine of the guest's busybox. And
 * which architecture a kernel image is for, from its header.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { KVM_MODULES, NINEP_MODULES } from './modules.js';

export type BootArch = 'x86_64' | 'arm64';
export const BOOT_ARCHES: readonly BootArch[] = ['x86_64', 'arm64'];

export interface Machine {
  readonly arch: BootArch;
  readonly qemu: string;
  /** The Debian package with `qemu`. */
  readonly qemuPackage: string;
  /** -M, when the default board is not the one. */
  readonly board?: string;
  /** The console= word of the kernel command line. */
  readonly console: string;
  /** The modules /init loads by default (with their dependencies). */
  readonly modules: readonly string[];
  /** e_machine of the binaries the guest runs (the initramfs's busybox). */
  readonly elfMachine: number;
}

export const MACHINES: Readonly<Record<BootArch, Machine>> = {
  x86_64: {
    arch: 'x86_64', qemu: 'qemu-system-x86_64', qemuPackage: 'qemu-system-x86', console: 'ttyS0,115200',
    modules: [...NINEP_MODULES, ...KVM_MODULES], elfMachine: 62,
  },
  // The virt board with EL2 (virtualization=on) so the guest kernel can run KVM, and a
  // GICv3 (KVM's vGIC needs one); `-cpu max` under TCG. KVM is built into Debian's arm64
  // kernel, so only the 9p set is loaded (virtio_pci is built in too).
  arm64: {
    arch: 'arm64', qemu: 'qemu-system-aarch64', qemuPackage: 'qemu-system-arm', board: 'virt,virtualization=on,gic-version=3',
    console: 'ttyAMA0', modules: NINEP_MODULES, elfMachine: 183,
  },
};

/** The architecture of a kernel image, from its header, or undefined when neither is recognised. */
export function kernelArch(path: string): BootArch | undefined {
  const head = Buffer.alloc(0x210);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  // x86 boot protocol: "HdrS" at 0x202 (Documentation/arch/x86/boot.rst).
  if (n >= 0x206 && head.toString('latin1', 0x202, 0x206) === 'HdrS') return 'x86_64';
  // arm64 Image header: magic "ARM\x64" at offset 56 (Documentation/arch/arm64/booting.rst).
  if (n >= 64 && head.readUInt32LE(56) === 0x644d5241) return 'arm64';
  return undefined;
}
