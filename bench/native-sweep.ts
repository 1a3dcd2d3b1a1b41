// Per-ioctl cost of create_guest_memfd_invalid_sizes's loop: the batched routine (both
// loaders) against one ffi-rs call per ioctl (vm.tryCreateGuestMemfd) and the C loop.
// Usage: npx tsx bench/native-sweep.ts [rounds]; prints one JSON line.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoctlSweeper } from '../src/isolate/ioctl-sweep.js';
import { Kvm } from '../src/kvm/kvm.js';

const rounds = Number(process.argv[2] ?? 21);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const PAGE = 4096;
const N = PAGE - 1;

const kvm = Kvm.open();
const vm = kvm.createVm(0);

function perCall(): number {
  const t0 = process.hrtime.bigint();
  for (let size = 1; size < PAGE; size++) {
    const r = vm.tryCreateGuestMemfd(size, 0);
    if (r.ok) throw new Error('created');
  }
  return Number(process.hrtime.bigint() - t0) / N;
}

const setup: Record<string, number> = {};
function sweeper(how: 'dlopen' | 'bsearch'): IoctlSweeper {
  const t0 = process.hrtime.bigint();
  const s = IoctlSweeper.open(how);
  setup[how] = Number(process.hrtime.bigint() - t0) / 1e3;
  return s;
}
const sweepers = { dlopen: sweeper('dlopen'), bsearch: sweeper('bsearch') };
function batched(s: IoctlSweeper): number {
  const t0 = process.hrtime.bigint();
  const o = s.createGuestMemfdSizes(vm.fd, 0, 1, N, 22);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  if (o.issued !== N || o.results.some((r) => r !== -22)) throw new Error('unexpected result');
  return ns;
}

function cLoop(): number | null {
  const src = join(import.meta.dirname, 'c', 'gmem_baseline.c');
  if (!existsSync(src)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'gmemtest-bench-'));
  try {
    execFileSync('gcc', ['-O2', '-o', join(dir, 'b'), src]);
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) {
      xs.push((JSON.parse(execFileSync(join(dir, 'b'), ['--ffi-loop', '20000'], { encoding: 'utf8' })) as { ns_per_call: number }).ns_per_call);
    }
    return median(xs);
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

perCall(); batched(sweepers.dlopen); batched(sweepers.bsearch); // warm-up
const r = { perCall: [] as number[], dlopen: [] as number[], bsearch: [] as number[] };
for (let i = 0; i < rounds; i++) {
  r.perCall.push(perCall());
  r.dlopen.push(batched(sweepers.dlopen));
  r.bsearch.push(batched(sweepers.bsearch));
}
// One crossing with no ioctl at all: the routine with first > last.
function emptyCall(s: IoctlSweeper): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) s.run({ fd: -1, request: 0, first: 1, last: 0, expect: 0 });
  return Number(process.hrtime.bigint() - t0) / 1000 / 1e3;
}
const c = cLoop();
const out = {
  calls: N, rounds,
  nsPerIoctl: { c, perFfiCall: median(r.perCall), batchedDlopen: median(r.dlopen), batchedBsearch: median(r.bsearch) },
  usPerCrossingNoIoctl: { dlopen: emptyCall(sweepers.dlopen), bsearch: emptyCall(sweepers.bsearch) },
  setupUs: setup,
};
sweepers.dlopen.close(); sweepers.bsearch.close(); vm.close(); kvm.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
