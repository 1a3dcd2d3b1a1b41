// The HTML page of gmemtest report in a real browser: Debian's Chromium, headless, driven
// by playwright-core. The DOM is checked as a person would use the page (cells, totals,
// a failed cell's diagnostics after a click, the filters), nothing is fetched, and
// screenshots are kept in .cache/report/ to look at.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { writeHtmlReport } from '../../src/report/index.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';

// What the page's own script sees (the project's TypeScript has no DOM library).
declare const getComputedStyle: (el: unknown) => { backgroundColor: string };
interface DataElement { dataset: Record<string, string> }

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIX = join(ROOT, 'test/report/fixtures');
const OUT = join(ROOT, '.cache/report');

t.test('the report page in Chromium', { skip: chromiumMissing() ?? false, timeout: 180_000 }, async (t) => {
  mkdirSync(OUT, { recursive: true });
  const inputs = ['boot-sid.ktap', 'boot-trixie.ktap', 'boot-timeout.ktap', 'host.json', 'host-upstream-xfail.json'].map((f) => join(FIX, f));
  const { file, matrix } = writeHtmlReport(inputs, join(OUT, 'report.html'), { generator: 'gmemtest test' });
  const b = await launchChromium();
  t.teardown(() => b.close());
  const page = await b.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

  t.same(requests, [pathToFileURL(file).href], 'the page loads nothing but itself');
  t.match(await page.textContent('#summary'), /^5 runs, 42 cases, \d+ differ between runs, 1 failing, 1 run with a problem$/);
  t.equal(await page.locator('article.run').count(), 5, 'a card per run');
  t.match(await page.locator('article.run').nth(2).textContent(), /TIMEOUT\s*the kernel did not reach \/init; QEMU killed/, 'the killed boot says so');
  t.match(await page.locator('article.run').nth(0).textContent(), /7\.2\.13\+deb14-amd64.*37 pass.*5 skip/s, 'kernel and totals in the run header');
  t.equal(await page.locator('tr.row').count(), 42, 'a row per case');
  t.equal(await page.locator('tr.row button.s').count(), matrix.rows.reduce((n, r) => n + r.cells.filter(Boolean).length, 0), 'a button per cell that ran');
  for (const [i, c] of matrix.counts.entries()) {
    t.equal(await page.textContent(`tfoot tr[data-status="pass"] td[data-run="${i}"]`), String(c.pass), `run ${i + 1}: pass total`);
  }
  const guestRow = page.locator('tr.row[data-id="guest_memfd_guest"]');
  t.same(await guestRow.locator('td').allTextContents(), ['PASS', 'SKIP', '—', 'FAIL', 'XFAIL'], 'the row across the runs');
  const colour = await guestRow.locator('button.s-fail').evaluate((el) => getComputedStyle(el).backgroundColor);
  const passColour = await guestRow.locator('button.s-pass').evaluate((el) => getComputedStyle(el).backgroundColor);
  t.not(colour, passColour, 'a colour per status');
  t.match(await guestRow.locator('button.s-fail').getAttribute('title'), /check: the guest runs to its DONE ucall/, 'the diagnostics on hover');
  await page.setViewportSize({ width: 1400, height: 2600 });
  await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
  await page.setViewportSize({ width: 1400, height: 1000 });

  // A click on the failed cell shows its diagnostics.
  t.ok(await page.locator('#detail').isHidden(), 'no panel before a click');
  await guestRow.locator('button.s-fail').click();
  const panel = page.locator('#detail');
  t.ok(await panel.isVisible(), 'the panel opens');
  t.equal(await panel.locator('h3').textContent(), 'guest_memfd_guest');
  t.match(await panel.locator('.meta').textContent(), /run 4 host · kernel 6\.18\.44/);
  t.equal(await panel.locator('.badge').textContent(), 'FAIL');
  t.match(await panel.locator('pre').textContent(), /^check: the guest runs to its DONE ucall\nexpected: DONE ucall\ngot: KVM_EXIT_MMIO at gpa 0x100000000/);
  await page.screenshot({ path: join(OUT, 'report-detail.png') });
  await page.keyboard.press('Escape');
  t.ok(await panel.isHidden(), 'Escape closes it');

  // Only differences: rows every compared run agrees on are hidden.
  const differing = matrix.rows.filter((r) => r.differs).map((r) => r.id);
  await page.check('#only-differences');
  const visible = async (): Promise<string[]> => page.locator('tr.row:visible').evaluateAll((els) => els.map((e) => (e as unknown as DataElement).dataset.id!));
  t.same(await visible(), differing, 'exactly the rows that differ');
  t.ok(await page.locator('tr.row[data-id="sev_vm"]').isHidden(), 'sev_vm (SKIP everywhere it ran) is hidden');
  t.ok(await page.locator('tr.row[data-id="default_vm.flags-mmap.mbind"]').isVisible(), 'mbind (PASS with 2 nodes, SKIP with 1) stays');
  t.equal(await page.textContent('#shown'), `${differing.length} of 42 cases shown`);
  t.ok(await page.locator('tr.group[data-group="default_vm.flags-none"]').isHidden(), 'a group whose rows are all hidden is hidden');
  await page.setViewportSize({ width: 1400, height: 2000 }); // the table scrolls inside the page: show it all
  await page.screenshot({ path: join(OUT, 'report-only-differences.png'), fullPage: true });
  await page.setViewportSize({ width: 1400, height: 1000 });

  // Only failures, with and without the other filter; the search box.
  await page.uncheck('#only-differences');
  await page.check('#only-failures');
  t.same(await visible(), ['guest_memfd_guest']);
  await page.uncheck('#only-failures');
  await page.fill('#search', 'mbind');
  t.same(await visible(), ['default_vm.flags-mmap.mbind', 'default_vm.flags-mmap-init_shared.mbind']);
  await page.fill('#search', '');
  t.equal((await visible()).length, 42);
  t.same(errors, [], 'no script error');
  t.comment(`screenshots: ${join(OUT, 'report.png')}, report-detail.png, report-only-differences.png`);
});
