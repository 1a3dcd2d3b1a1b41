/** A `gmemtest --format json` document (gmemtest-results/1) as a Run. */
import type { Totals } from '../ktap/totals.js';
import type { JsonRunLike } from '../runner/kcidb.js';
import { describeJsonHost } from '../runner/kcidb.js';
import type { Status } from '../runner/outcome.js';
import { RESULTS_FORMAT } from '../runner/report-json.js';
import type { Cell, RawStatus, Run } from './model.js';

/** Thrown for an input that is not a gmemtest result, or a damaged one: one line, naming the file. */
export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';
}

const STATUSES: readonly Status[] = ['pass', 'fail', 'error', 'timeout', 'skip', 'xfail', 'xpass'];
const RAW: readonly RawStatus[] = ['pass', 'fail', 'error', 'timeout', 'skip'];

const hex = (n: unknown): string => (typeof n === 'number' ? `0x${n.toString(16)}` : String(n));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a JSON document that is not ours looks like, for the error line. */
function notOurs(file: string, doc: unknown): ReportInputError {
  if (isObject(doc)) {
    const fmt = doc.format;
    if (typeof fmt === 'string' && fmt.startsWith('gmemtest-results/')) {
      return new ReportInputError(`${file}: results format ${fmt}; this gmemtest reads ${RESULTS_FORMAT}`);
    }
    if (isObject(doc.version) && typeof doc.version.major === 'number' && ('tests' in doc || 'builds' in doc || 'checkouts' in doc)) {
      return new ReportInputError(`${file}: a KCIDB document, not gmemtest results (give the output of gmemtest --format json)`);
    }
    if ('vmTypes' in doc && 'kernelRelease' in doc) {
      return new ReportInputError(`${file}: the output of gmemtest caps --json, not a run's results (give the output of gmemtest --format json)`);
    }
  }
  return new ReportInputError(`${file}: JSON, but not gmemtest results (no "format": "${RESULTS_FORMAT}")`);
}

/** The probe's answers as display pairs, in the order of the KTAP header. */
export function jsonCapabilities(host: unknown): [string, string][] {
  if (!isObject(host)) return [];
  const pairs: [string, string][] = [];
  const add = (label: string, v: unknown): void => { if (v !== undefined && v !== null) pairs.push([label, String(v)]); };
  add('kernel', host.kernelRelease);
  add('device', host.device);
  add('KVM API', host.apiVersion);
  add('page_size', host.pageSize);
  add('thp_pmd_size', host.thpPmdSize);
  add('numa_nodes', host.numaNodes);
  add('KVM_CAP_GUEST_MEMFD', host.capGuestMemfd);
  if (host.capVmTypes !== undefined) add('KVM_CAP_VM_TYPES', hex(host.capVmTypes));
  if (host.capGuestMemfdFlags !== undefined) add('KVM_CAP_GUEST_MEMFD_FLAGS', hex(host.capGuestMemfdFlags));
  for (const t of Array.isArray(host.vmTypes) ? host.vmTypes : []) {
    if (!isObject(t) || typeof t.name !== 'string') continue;
    pairs.push([t.name, typeof t.skipReason === 'string'
      ? `not testable: ${t.skipReason}`
      : `KVM_CAP_GUEST_MEMFD=${String(t.guestMemfd)} KVM_CAP_GUEST_MEMFD_FLAGS=${hex(t.guestMemfdFlags ?? 0)}`]);
  }
  return pairs;
}

export function runFromJson(file: string, text: string, doc: unknown): Omit<Run, 'label'> {
  if (!isObject(doc) || doc.tool !== 'gmemtest' || doc.format !== RESULTS_FORMAT) throw notOurs(file, doc);
  if (!Array.isArray(doc.results)) throw new ReportInputError(`${file}: malformed gmemtest results: no "results" list`);
  const cells = new Map<string, Cell>();
  doc.results.forEach((r: unknown, i) => {
    if (!isObject(r) || typeof r.id !== 'string' || !STATUSES.includes(r.status as Status)) {
      throw new ReportInputError(`${file}: malformed gmemtest results: results[${i}] has no id or no valid status`);
    }
    if (r.kind !== 'case') return;
    const status = r.status as Status;
    const raw = RAW.includes(r.raw_status as RawStatus) ? r.raw_status as RawStatus
      : status === 'xfail' ? 'fail' : status === 'xpass' ? 'pass' : status as RawStatus;
    cells.set(r.id, {
      status, raw,
      reason: typeof r.reason === 'string' ? r.reason : null,
      diagnostics: Array.isArray(r.diagnostics) ? r.diagnostics.map(String) : [],
      durationMs: typeof r.duration_ms === 'number' ? r.duration_ms : null,
    });
  });
  const host = isObject(doc.host) ? doc.host : {};
  const version = typeof doc.version === 'string' ? doc.version : null;
  const skipped = typeof doc.skipped === 'string' ? doc.skipped : undefined;
  const bail = typeof doc.bail_out === 'string' ? doc.bail_out : null;
  const problem = skipped !== undefined ? { status: 'skip' as const, message: `nothing could run: ${skipped}`, diagnostics: [] }
    : bail !== null ? { status: 'error' as const, message: `bailed out: ${bail}`, diagnostics: [] } : null;
  return {
    file, source: 'json', version,
    kernel: typeof host.kernelRelease === 'string' ? host.kernelRelease : null,
    // gmemtest-results/1 has no arch: gmemtest 0.1 runs on x86_64 only.
    arch: typeof host.arch === 'string' ? host.arch : 'x86_64',
    variant: null,
    environment: skipped !== undefined ? 'host (no usable KVM device)' : describeJsonHost(host),
    capabilities: jsonCapabilities(host),
    capabilitiesRecord: host,
    problem, cells,
    totals: isObject(doc.totals) ? doc.totals as unknown as Totals : null,
    text,
    json: { version: version ?? 'unknown', host, ...(skipped !== undefined ? { skipped } : {}), results: doc.results as JsonRunLike['results'] },
  };
}
