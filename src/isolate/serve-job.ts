/**
 * The child side of isolate.ts: receive one job over IPC, run it, send the result,
 * exit. Also lets the job announce its phase (what it is doing), so a timeout can say
 * where the child was when it was killed. Imports nothing heavy: it starts every child.
 */

import { libc } from '../kvm/libc.js';
import { PR_SET_PDEATHSIG, SIGKILL } from '../kvm/uapi/linux.js';
import { ARCH } from '../kvm/arch/index.js';

/** prctl(PR_SET_PDEATHSIG, SIGKILL); a failure only loses that safety net. */
function dieWithParent(): void {
  libc.syscall(ARCH.sys.prctl, PR_SET_PDEATHSIG, SIGKILL);
}

export type ChildMessage<R> =
  /** The job arrived: the job's time starts now. */
  | { readonly type: 'started' }
  | { readonly type: 'phase'; readonly phase: string }
  | { readonly type: 'result'; readonly value: R };

/** Tells the parent what the job is doing now (no-op outside a child). */
export function announcePhase(phase: string): void {
  process.send?.({ type: 'phase', phase } satisfies ChildMessage<never>);
}

/** Serves one job: `handle` must turn every outcome, failures included, into a value. */
export function serveJob<J, R>(handle: (job: J) => R | Promise<R>): void {
  if (!process.send) throw new Error('serveJob: not started as an IPC child (use runInChild)');
  // A job can block its thread for good (a vCPU in KVM_RUN): if the parent dies
  // (even by SIGKILL), the kernel kills this child too.
  dieWithParent();
  process.once('message', (job: J) => {
    process.send!({ type: 'started' } satisfies ChildMessage<never>);
    void (async () => {
      const value = await handle(job);
      process.send!({ type: 'result', value } satisfies ChildMessage<R>, () => {
        process.disconnect();
        process.exitCode = 0;
      });
    })();
  });
}
