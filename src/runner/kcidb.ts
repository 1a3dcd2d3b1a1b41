/**
 * KernelCI's KCIDB I/O data (schema v5.3 of the kcidb-io package): the document that
 * `gmemtest --format kcidb` prints and `gmemtest report --kcidb` writes.
 *
 * The schema links three kinds of object by id, each id `<origin>:<anything>`:
 * a checkout (the source that was tested), a build of it, and the tests run on that
 * build. gmemtest tests kernels it did not build, so it describes each kernel as one
 * checkout (its release in `comment`, the schema's place for "the checked out release
 * version") and one build per architecture and variant; a test object per case, with
 * the case's stable id as its `path`.
 *
 * Statuses are what the kernel did (the raw status): an expected failure (`--xfail`) is
 * still FAIL and an unexpected pass still PASS, the expectation noted in `misc`; KCIDB
 * tracks known failures with its own issues. ERROR is a case that did not complete, MISS
 * a case the run never started (interrupted).
 */
import { createHash } from 'node:crypto';
import type { Status } from './outcome.js';

export const KCIDB_VERSION = { major: 5, minor: 3 } as const;
export const DEFAULT_KCIDB_ORIGIN = 'gmemtest';
/** What the schema allows as an origin (the part before ':' of every id). */
export const KCIDB_ORIGIN = /^[a-z0-9_]+$/;
/** What the schema allows as a test path. */
export const KCIDB_PATH = /^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$/;
/** log_excerpt's maximum length in the schema. */
export const LOG_EXCERPT_MAX = 16384;

export type KcidbStatus = 'FAIL' | 'ERROR' | 'MISS' | 'PASS' | 'DONE' | 'SKIP';

/** One case as the KCIDB document needs it. */
export interface KcidbCase {
  id: string;
  status: Status;
  /** What the case gave before --xfail (defaults to `status`). */
  raw?: 'pass' | 'fail' | 'error' | 'timeout' | 'skip';
  reason: string | null;
  diagnostics: readonly string[];
  durationMs: number | null;
}

/** One run (one kernel on one machine) as the KCIDB document needs it. */
export interface KcidbRun {
  /** Unique for the run within the origin: a digest of its result document. */
  key: string;
  kernelRelease: string | null;
  arch: string;
  variant: string | null;
  gmemtestVersion: string | null;
  /** Where it ran, in words (`environment.comment`). */
  environment: string;
  /** Host capabilities (`environment.misc`). */
  capabilities: Record<string, unknown>;
  /** Extra facts for each test's misc (the run's label, its input file). */
  misc?: Record<string, unknown>;
  startTime?: string;
  cases: readonly KcidbCase[];
}

interface KcidbTest {
  id: string;
  build_id: string;
  origin: string;
  path: string;
  status: KcidbStatus;
  comment?: string;
  log_excerpt?: string;
  duration?: number;
  start_time?: string;
  environment: { comment: string; misc: Record<string, unknown> };
  misc: Record<string, unknown>;
}

export interface KcidbDocument {
  version: { major: number; minor: number };
  checkouts: Record<string, unknown>[];
  builds: Record<string, unknown>[];
  tests: KcidbTest[];
}

/** The KCIDB status of a case: what the kernel did, whatever --xfail expected. */
export function kcidbStatus(c: Pick<KcidbCase, 'status' | 'raw' | 'reason'>): KcidbStatus {
  const raw = c.raw ?? (c.status === 'xfail' ? 'fail' : c.status === 'xpass' ? 'pass' : c.status);
  switch (raw) {
    case 'pass': return 'PASS';
    case 'fail': return 'FAIL';
    case 'skip': return 'SKIP';
    case 'timeout': return 'ERROR';
    case 'error': return /^not run\b/.test(c.reason ?? '') ? 'MISS' : 'ERROR';
  }
}

/** A run's key: the first 16 hex digits of the SHA-256 of its result document. */
export const runKey = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Test paths keep to the schema's characters (ids already do; a stray one becomes '_'). */
export function kcidbPath(id: string): string {
  const p = id.split('.').map((part) => part.replace(/[^a-zA-Z0-9_-]/g, '_') || '_').join('.');
  return KCIDB_PATH.test(p) ? p : p.replace(/\.+/g, '.').replace(/^\.|\.$/g, '');
}

/** Drops undefined and null members: the schema allows no null property. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

function excerpt(lines: readonly string[]): string | undefined {
  if (lines.length === 0) return undefined;
  const text = lines.join('\n').replace(/\0/g, '');
  return text.length <= LOG_EXCERPT_MAX ? text : `${text.slice(0, LOG_EXCERPT_MAX - 16)}\n[... truncated]`;
}

/** One KCIDB document for any number of runs; checkouts and builds shared where equal. */
export function kcidbDocument(runs: readonly KcidbRun[], origin = DEFAULT_KCIDB_ORIGIN): KcidbDocument {
  if (!KCIDB_ORIGIN.test(origin)) throw new Error(`KCIDB origin '${origin}': use [a-z0-9_]+`);
  const checkouts = new Map<string, Record<string, unknown>>();
  const builds = new Map<string, Record<string, unknown>>();
  const tests: KcidbTest[] = [];
  for (const run of runs) {
    const release = run.kernelRelease ?? 'unknown';
    const checkoutId = `${origin}:${release}`;
    const buildId = `${origin}:${release}:${run.arch}${run.variant ? `:${run.variant}` : ''}`;
    if (!checkouts.has(checkoutId)) {
      checkouts.set(checkoutId, defined({
        id: checkoutId, origin, comment: `Linux ${release}`, valid: true, misc: { kernel_release: release },
      }));
    }
    if (!builds.has(buildId)) {
      builds.set(buildId, defined({
        id: buildId, checkout_id: checkoutId, origin,
        architecture: run.arch.toLowerCase().replace(/[^a-z0-9_]/g, '_'),
        comment: `Linux ${release} (${run.arch})${run.variant ? `, ${run.variant}` : ''}`,
        // A kernel that gmemtest ran on: the build existed and booted.
        status: 'PASS' as const,
        misc: defined({ kernel_release: release, variant: run.variant ?? undefined }),
      }));
    }
    const environment = { comment: run.environment, misc: run.capabilities };
    for (const c of run.cases) {
      const misc = defined({
        gmemtest_version: run.gmemtestVersion ?? undefined,
        gmemtest_status: c.status,
        expectation: c.status === 'xfail' ? `expected to fail: ${c.reason ?? ''}`.trim()
          : c.status === 'xpass' ? `expected to fail, but passed: ${c.reason ?? ''}`.trim() : undefined,
        reason: c.reason ?? undefined,
        diagnostics: c.diagnostics.length > 0 ? [...c.diagnostics] : undefined,
        kernel_release: release,
        ...(run.misc ?? {}),
      });
      tests.push(defined({
        id: `${origin}:${run.key}:${c.id}`,
        build_id: buildId,
        origin,
        path: kcidbPath(c.id),
        status: kcidbStatus(c),
        comment: c.reason ?? undefined,
        log_excerpt: excerpt(c.diagnostics),
        duration: c.durationMs === null ? undefined : c.durationMs / 1000,
        start_time: run.startTime,
        environment,
        misc,
      }));
    }
  }
  return { version: { ...KCIDB_VERSION }, checkouts: [...checkouts.values()], builds: [...builds.values()], tests };
}

/** process.arch as kernel CI names architectures (KernelCI: x86_64, arm64; as src/kvm/arch/ does). */
export function kernelArch(nodeArch: string = process.arch): string {
  return ({ x64: 'x86_64', ia32: 'i386' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

/** What a `--format json` document's `host` (the capability probe) holds, as far as KCIDB needs it. */
interface JsonHost {
  kernelRelease?: string;
  device?: string;
  apiVersion?: number;
  numaNodes?: number;
  arch?: string;
}

/** Where a host run ran, in words. */
export function describeJsonHost(host: unknown): string {
  const h = (host ?? {}) as JsonHost;
  const parts: string[] = [];
  if (h.device) parts.push(h.device);
  if (h.apiVersion !== undefined) parts.push(`KVM API ${h.apiVersion}`);
  if (h.numaNodes !== undefined) parts.push(`${h.numaNodes} NUMA node${h.numaNodes === 1 ? '' : 's'}`);
  return `host ${parts.join(', ')}`.trim();
}

/** The parts of a `--format json` document (gmemtest-results/1) a KCIDB run is made of. */
export interface JsonRunLike {
  version: string;
  host?: unknown;
  /** Set in the document of a run where nothing could run (no device...). */
  skipped?: string;
  results: readonly { id: string; kind: string; status: Status; raw_status?: KcidbCase['raw']; reason: string | null; diagnostics: readonly string[]; duration_ms?: number }[];
}

/**
 * A `--format json` document as a KCIDB run; `text` is the document as printed (its
 * digest is the run's key, so the same document always gives the same ids).
 * Documents from gmemtest 0.1 have no arch: they are x86_64, the one it runs on.
 */
export function kcidbRunFromJson(doc: JsonRunLike, text: string,
  extra: { arch?: string; startTime?: string; misc?: Record<string, unknown>; kernelRelease?: string } = {}): KcidbRun {
  const host = (doc.host ?? {}) as JsonHost;
  return {
    key: runKey(text),
    kernelRelease: host.kernelRelease ?? extra.kernelRelease ?? null,
    arch: extra.arch ?? host.arch ?? 'x86_64',
    variant: null,
    gmemtestVersion: doc.version,
    environment: describeJsonHost(doc.host),
    capabilities: (doc.host ?? {}) as Record<string, unknown>,
    ...(extra.misc ? { misc: extra.misc } : {}),
    ...(extra.startTime ? { startTime: extra.startTime } : {}),
    cases: doc.skipped !== undefined
      // Nothing ran: the whole run is one skipped test, named as the KTAP names it.
      ? [{ id: 'gmemtest', status: 'skip', reason: doc.skipped, diagnostics: [], durationMs: null }]
      : doc.results.filter((r) => r.kind === 'case').map((r) => ({
        id: r.id, status: r.status, ...(r.raw_status ? { raw: r.raw_status } : {}), reason: r.reason,
        diagnostics: r.diagnostics, durationMs: r.duration_ms ?? null,
      })),
  };
}
