/**
 * ffi-rs, loaded for the cheapest calls it offers.
 *
 * ffi-rs's package entry picks the platform's native binding (after a musl check that
 * builds a whole process report, ~5 ms) and wraps `load` in a function that re-maps the
 * parameter types on every call (for array arguments, which gmemtest never passes).
 * Here the platform binding is required directly, from ffi-rs's own location, and its
 * `load` called as is; on a platform without that binding the public entry is used.
 */
import { createRequire } from 'node:module';

type FfiRs = typeof import('ffi-rs');

/** The subset of ffi-rs gmemtest uses; the native binding and the public entry both have it. */
export type Ffi = Pick<FfiRs, 'DataType' | 'open' | 'close' | 'load' | 'createExternalBuffer'>;

const BINDINGS: Readonly<Record<string, string>> = {
  'linux-x64': '@yuuang/ffi-rs-linux-x64-gnu',
  'linux-arm64': '@yuuang/ffi-rs-linux-arm64-gnu',
};

export function loadFfi(): { ffi: Ffi; direct: boolean } {
  const require = createRequire(import.meta.url);
  const pkg = BINDINGS[`${process.platform}-${process.arch}`];
  if (pkg) {
    try {
      const fromFfiRs = createRequire(require.resolve('ffi-rs'));
      const native = fromFfiRs(pkg) as Ffi;
      if (typeof native.load === 'function' && typeof native.createExternalBuffer === 'function') {
        return { ffi: native, direct: true };
      }
    } catch {
      // musl, or a layout we do not know: the public entry below.
    }
  }
  return { ffi: require('ffi-rs') as FfiRs, direct: false };
}
