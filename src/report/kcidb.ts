/** `gmemtest report --kcidb`: the runs of the matrix as one KCIDB document (src/runner/kcidb.ts). */
import { kcidbDocument, kcidbRunFromJson, runKey, type KcidbDocument, type KcidbRun } from '../runner/kcidb.js';
import type { Run } from './model.js';

/** One run as KCIDB sees it. A JSON run converts exactly as `--format kcidb` does. */
export function kcidbRun(r: Run): KcidbRun {
  const misc = { run_label: r.label, result_file: r.file };
  if (r.json) return { ...kcidbRunFromJson(r.json, r.text, { arch: r.arch, misc }), variant: r.variant };
  const cases = [...r.cells].map(([id, c]) => ({ id, status: c.status, raw: c.raw, reason: c.reason, diagnostics: c.diagnostics, durationMs: c.durationMs }));
  // A boot that never ran the guest's suite is one test, `boot`, as the flat KTAP names it.
  if (cases.length === 0 && r.problem !== null) {
    cases.push({ id: r.problem.message.startsWith('nothing could run') ? 'gmemtest' : 'boot', status: r.problem.status, raw: r.problem.status === 'skip' ? 'skip' : r.problem.status === 'timeout' ? 'timeout' : 'error', reason: r.problem.message, diagnostics: r.problem.diagnostics, durationMs: null });
  }
  return {
    key: runKey(r.text), kernelRelease: r.kernel, arch: r.arch, variant: r.variant, gmemtestVersion: r.version,
    environment: r.environment, capabilities: { ...r.capabilitiesRecord }, misc, cases,
  };
}

export function kcidbOfRuns(runs: readonly Run[], origin?: string): KcidbDocument {
  return kcidbDocument(runs.map(kcidbRun), origin);
}
