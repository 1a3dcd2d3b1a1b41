// Whether this machine can run the end-to-end tests, and a spawn helper for the CLI.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/gmemtest', import.meta.url));

/** null when /dev/kvm can be opened read-write; otherwise why the e2e tests skip. */
export function kvmUnavailable(device = '/dev/kvm'): string | null {
  try {
    closeSync(openSync(device, 'r+'));
    return null;
  } catch (e) {
    return `${device} unavailable (${(e as NodeJS.ErrnoException).code}): end-to-end tests need a KVM host`;
  }
}

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment a user's shell would give: without tap's loader hooks. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/**
 * [command, args] that run `cmd` as a user's shell would. tap wraps child_process and
 * puts its own loader into every child's NODE_OPTIONS; env(1) takes it out again
 * right before exec, so the program under test runs without tap's hooks.
 */
export function asUser(cmd: string, args: readonly string[]): [string, string[]] {
  return ['env', ['-u', 'NODE_OPTIONS', cmd, ...args]];
}

export function gmemtest(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const r: SpawnSyncReturns<string> = spawnSync(...asUser(BIN, args), {
    encoding: 'utf8',
    env: cleanEnv(env),
    timeout: 120_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
