/** Boot machinery for `gmemtest boot`: see bootAndRun. */
export * from './boot-and-run.js';
export * from './initramfs.js';
export * from './modules.js';
export * from './qemu.js';
export { CpioWriter, type CpioEntry } from './cpio.js';
