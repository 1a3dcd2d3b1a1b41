/** The non-throwing style's return type: a value, or the errno of the failed call. */
import { errnoName } from './errno.js';

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errno: number; readonly errnoName: string };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(errno: number): Result<T> => ({ ok: false, errno, errnoName: errnoName(errno) });
