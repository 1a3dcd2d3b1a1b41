/** The shape of src/native/prebuilt.ts (base64 strings of generated machine code). */
export interface PrebuiltMachine {
  readonly accessHelper: { readonly bufferAddr: number; readonly bufferSize: number; readonly loadMax: number; readonly elf: string };
  readonly ioctlSweep: { readonly entry: number; readonly ioctlNr: number; readonly code: string; readonly sharedObject: string };
}
