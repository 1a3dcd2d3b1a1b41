// npm run mutation: every perturbation of the catalogue against its case on the real
// /dev/kvm; prints the table; exits 0 only if every case's baseline passes and every
// perturbation is killed.
import { CATALOGUE } from './catalogue.js';
import { Harness, table, type Row } from './harness.js';
import type { Outcome } from '../../src/runner/outcome.js';

async function main(): Promise<number> {
  let h: Harness;
  try {
    h = new Harness(process.env.GMEMTEST_DEVICE ?? '/dev/kvm');
  } catch (e) {
    console.log(`mutation: SKIP: cannot open the KVM device (${(e as Error).message})`);
    return 0;
  }
  using harness = h;
  const baseline = new Map<string, Outcome>();
  for (const pt of CATALOGUE) {
    if (!baseline.has(pt.id)) baseline.set(pt.id, await harness.baseline(pt.id, pt.numa ?? false));
  }
  const rows: Row[] = [];
  for (const pt of CATALOGUE) rows.push(await harness.row(pt));
  console.log(table(rows, baseline));
  if (harness.caps.numaNodes < 2) console.log('note: mbind, numa_allocation ran against the simulated two-node kernel (this host has one node)');
  if (await harness.guestSlotMmap()) {
    console.log('note: guest_memfd_guest ran with slot 1 given an mmap of the guest_memfd (this host does not serve guest_memfd-only memslots)');
  }
  const ok = rows.every((r) => r.killed) && [...baseline.values()].every((o) => o.raw === 'pass');
  return ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => { console.error(e); process.exitCode = 1; });
