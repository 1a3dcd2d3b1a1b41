// One faulting probe, spawn to reaped, four ways, interleaved round by round:
//   helper-memfd     AccessHelper.spawn (posix_spawn of the generated helper from its memfd),
//                    mmap fd 3, FILL -> SIGBUS, waitpid: all synchronous
//   helper-file      the same, the executable in a file (as a build-time dist/ file would be)
//   child_process    Node's spawn() of the same helper (fd 3 in stdio), the same commands,
//                    the exit status through libuv ('exit' event)
//   node-probe       today's probe: a Node child (src/kvm/fault-probe.ts), read at offset 0
// The guest_memfd is MMAP without INIT_SHARED: the first access SIGBUSes.
// Usage: npx tsx bench/native-spawn.ts [rounds (21)]; prints one JSON line (ms).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessHelper, helperExecutable, helperProgram } from '../src/isolate/access-helper.js';
import { runFaultProbe } from '../src/isolate/fault-probe.js';
import { Kvm } from '../src/kvm/kvm.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../src/kvm/uapi/kvm.js';
import { COMMAND_SIZE, Op } from '../src/native/access-protocol.js';

const rounds = Number(process.argv[2] ?? 21);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const SIZE = 4096 * 4;
const SYS_mmap = 9;

const kvm = Kvm.open();
const vm = kvm.createVm(0);
const gmem = vm.createGuestMemfd(SIZE, GUEST_MEMFD_FLAG_MMAP);

const tGen0 = performance.now();
helperProgram();
const genMs = performance.now() - tGen0;
const tMemfd0 = performance.now();
const memfdPath = helperExecutable();
const memfdMs = performance.now() - tMemfd0;
const dir = mkdtempSync(join(tmpdir(), 'gmemtest-bench-'));
const filePath = join(dir, 'gmem-access');
writeFileSync(filePath, helperProgram().elf);
chmodSync(filePath, 0o755);

function viaHelper(path?: string): number {
  const t0 = performance.now();
  const h = AccessHelper.spawn({ fd: gmem.fd, ...(path ? { program: { path, argv: ['gmem-access', String(process.pid)] } } : {}) });
  const m = h.syscall(SYS_mmap, 0, SIZE, 3, 1, 3, 0);
  if (m.status !== 'ok' || m.ret < 0) throw new Error('mmap failed');
  const o = h.fill(m.ret, SIZE, 0xaa);
  const ms = performance.now() - t0;
  if (o.status !== 'died' || o.end.kind !== 'signaled' || o.end.signalName !== 'SIGBUS') throw new Error(`no SIGBUS: ${JSON.stringify(o)}`);
  return ms;
}

function command(op: number, ...args: number[]): Buffer {
  const b = Buffer.alloc(COMMAND_SIZE);
  b.writeBigUInt64LE(BigInt(op), 0);
  args.forEach((v, i) => b.writeBigInt64LE(BigInt(v), 8 + 8 * i));
  return b;
}

/** Node's child_process with the same helper: stdio pipes, fd 3, the exit status via libuv. */
function viaChildProcess(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(memfdPath, [String(process.pid)], { stdio: ['pipe', 'pipe', 'inherit', gmem.fd], argv0: 'gmem-access' });
    let got = Buffer.alloc(0);
    let sentFill = false;
    c.stdout!.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      // READY (32) + ACK (32) + RESULT of mmap (32): then FILL at the address it returned.
      if (!sentFill && got.length >= 96) {
        sentFill = true;
        const addr = Number(got.readBigInt64LE(64 + 16));
        c.stdin!.write(command(Op.FILL, addr, SIZE, 0xaa));
      }
    });
    c.stdin!.write(command(Op.SYSCALL, SYS_mmap, 0, SIZE, 3, 1, 3, 0));
    c.once('exit', (_code, sig) => {
      const ms = performance.now() - t0;
      if (sig !== 'SIGBUS') reject(new Error(`child_process: ${sig}`));
      else resolve(ms);
    });
  });
}

async function viaNodeProbe(): Promise<number> {
  const t0 = performance.now();
  const o = await runFaultProbe(gmem.fd, { op: 'fill', mapSize: SIZE, offset: 0, length: SIZE, value: 0xaa });
  const ms = performance.now() - t0;
  if (o.status !== 'sigbus') throw new Error(`node probe: ${o.status}`);
  return ms;
}

const r = { helperMemfd: [] as number[], helperFile: [] as number[], childProcess: [] as number[], nodeProbe: [] as number[] };
viaHelper(); viaHelper(filePath); await viaChildProcess(); await viaNodeProbe(); // warm-up
for (let i = 0; i < rounds; i++) {
  // The order changes every round: the one after the asynchronous ones would pay for their aftermath.
  const sync = [(): void => { r.helperMemfd.push(viaHelper()); }, (): void => { r.helperFile.push(viaHelper(filePath)); }];
  if (i % 2) sync.reverse();
  for (const f of sync) f();
  r.childProcess.push(await viaChildProcess());
  r.nodeProbe.push(await viaNodeProbe());
  await new Promise((res) => setTimeout(res, 5));
}
rmSync(dir, { recursive: true, force: true });
gmem.close(); vm.close(); kvm.close();
const med = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(median(v).toFixed(3))]));
const min = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(Math.min(...v).toFixed(3))]));
process.stdout.write(`${JSON.stringify({ rounds, medianMs: med, minMs: min, generateMs: Number(genMs.toFixed(3)),
  memfdMs: Number(memfdMs.toFixed(3)), elfBytes: helperProgram().elf.length })}\n`);
