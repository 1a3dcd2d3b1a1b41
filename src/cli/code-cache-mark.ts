/**
 * The mark the bundle's loader (scripts/bundle.mjs, WHOLE_RUN_MARK) reads at exit: this
 * process ran the whole suite, every case of the unfiltered plan to its end, so the V8 code
 * cache of its run is worth keeping. A filtered, listed, skipped-all or interrupted run
 * leaves no mark, and the loader writes no run cache after it.
 */
const WHOLE_RUN_MARK = Symbol.for('gmemtest.wholeSuiteRun');

export function markWholeSuiteRun(): void {
  (globalThis as Record<symbol, unknown>)[WHOLE_RUN_MARK] = true;
}
