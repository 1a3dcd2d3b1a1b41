/**
 * Runs one faulting access in a short-lived child process (fault-probe-child.ts) that
 * inherits the file as its fd 3, and says how the child ended. The runner itself never
 * touches memory that may SIGBUS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { trackChild } from './children.js';

export interface ProbeSpec {
  /** memset (`fill`) or READ_ONCE of each byte (`read`) over [offset, offset + length). */
  readonly op: 'fill' | 'read';
  /** How much of the file the child maps (MAP_SHARED, read/write, offset 0). */
  readonly mapSize: number;
  readonly offset: number;
  readonly length: number;
  /** The byte `fill` stores. */
  readonly value?: number;
}

export interface ProbeOptions {
  /** The child is SIGKILLed and the probe reported `timeout` after this long. */
  readonly timeoutMs?: number;
  /** Sees the child as soon as it is spawned (tests use it to signal the child). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export type ProbeStatus = 'sigbus' | 'exited' | 'signal' | 'timeout' | 'spawn-error';

export interface ProbeOutcome {
  readonly status: ProbeStatus;
  /** The child printed "armed": it got as far as the access. */
  readonly armed: boolean;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: string;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

type ProbeListener = (spec: ProbeSpec, outcome: ProbeOutcome, pid: number | undefined) => void;
const listeners = new Set<ProbeListener>();

/** Calls `fn` with every finished probe (for tests and diagnostics); returns the unsubscribe. */
export function onProbeDone(fn: ProbeListener): () => void {
  listeners.add(fn);
  return () => { listeners.delete(fn); };
}

/**
 * The compiled child entry: the sibling .js, dist/ when this module runs from src/, or
 * the child's own bundle beside the single-file bundle (dist/bundle/fault-probe-child.mjs).
 */
export function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/\.[cm]?[jt]s$/, '').replace(/fault-probe$/, 'fault-probe-child.js');
  if (existsSync(sibling)) return sibling;
  const dist = sibling.replace(/([/\\])src([/\\]kvm[/\\])/, '$1dist$2');
  if (existsSync(dist)) return dist;
  const bundled = join(dirname(here), 'fault-probe-child.mjs');
  if (existsSync(bundled)) return bundled;
  throw new Error(`fault probe child not found (looked for ${sibling}, ${dist} and ${bundled}; run npm run build)`);
}

function argv(spec: ProbeSpec): string[] {
  const a = [spec.op, String(spec.mapSize), String(spec.offset), String(spec.length)];
  if (spec.op === 'fill') a.push(String(spec.value ?? 0));
  return a;
}

/** Starts the probe with `fd` as the child's fd 3 and resolves when the child is gone. */
export function runFaultProbe(fd: number, spec: ProbeSpec, opts: ProbeOptions = {}): Promise<ProbeOutcome> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const t0 = performance.now();
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    let child: ChildProcess | undefined;
    const finish = (o: Omit<ProbeOutcome, 'armed' | 'durationMs' | 'stdout' | 'stderr'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const outcome: ProbeOutcome = { ...o, armed: /^armed$/m.test(stdout), durationMs: performance.now() - t0, stdout, stderr };
      for (const l of listeners) l(spec, outcome, child?.pid);
      resolve(outcome);
    };
    try {
      child = trackChild(spawn(process.execPath, [childEntry(), ...argv(spec)], {
        stdio: ['ignore', 'pipe', 'pipe', fd],
        env: {},
      }));
    } catch (e) {
      resolve({ status: 'spawn-error', armed: false, code: null, signal: null, durationMs: 0, stdout, stderr,
        error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const timer = setTimeout(() => { timedOut = true; child?.kill('SIGKILL'); }, timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.once('error', (e) => finish({ status: 'spawn-error', code: null, signal: null, error: e.message }));
    // 'close' comes after the stdio pipes drained, so stdout is complete.
    child.once('close', (code, signal) => {
      // A child that died of SIGBUS did so before we could kill it, even when the timer
      // fired late (the thread was busy with another case): the SIGBUS is the answer. So
      // is an exit of its own: only a child our SIGKILL ended timed out.
      const status: ProbeStatus = signal === 'SIGBUS' ? 'sigbus' : timedOut && signal === 'SIGKILL' ? 'timeout' : signal ? 'signal' : 'exited';
      finish({ status, code, signal });
    });
    opts.onSpawn?.(child);
  });
}

/** What the child did, as diagnostic lines. */
export function describeProbe(spec: ProbeSpec, o: ProbeOutcome, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): string[] {
  const range = `${spec.op} [0x${spec.offset.toString(16)}, 0x${(spec.offset + spec.length).toString(16)}) of a 0x${spec.mapSize.toString(16)}-byte mapping`;
  const how = o.status === 'sigbus' ? 'killed by SIGBUS'
    : o.status === 'signal' ? `killed by ${o.signal}`
      : o.status === 'timeout' ? `did not finish within ${timeoutMs} ms; killed with SIGKILL`
        : o.status === 'exited' ? `exited with code ${o.code}`
          : `could not be started: ${o.error}`;
  const lines = [`probe: ${range}`, `child: ${how} after ${o.durationMs.toFixed(1)} ms${o.armed ? '' : ' (before reaching the access)'}`];
  const err = o.stderr.trim();
  if (err) lines.push(...err.split('\n').slice(0, 5).map((l) => `child stderr: ${l}`));
  return lines;
}
