/** `0x1f` for 31: how numbers, flags and addresses are shown in diagnostics and headers. */
export const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
