// The report's renderers on real results: the terminal table (colour only when asked for,
// ids shortened to a TTY's width), Markdown, and the HTML page (self-contained: it names
// no resource; its data parses; a cell per case and run). The page in a real browser is
// test/browser/report-html.test.ts.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import t from 'tap';
import { loadRuns } from '../../src/report/inputs.js';
import { buildMatrix } from '../../src/report/model.js';
import { renderHtml } from '../../src/report/render-html.js';
import { renderMarkdown } from '../../src/report/render-markdown.js';
import { renderText } from '../../src/report/render-text.js';

const FIX = fileURLToPath(new URL('../report/fixtures/', import.meta.url));
const m = buildMatrix(loadRuns(['boot-sid.ktap', 'boot-trixie.ktap', 'boot-timeout.ktap', 'host.json', 'host-upstream-xfail.json'].map((f) => join(FIX, f))));
const plain = new Chalk({ level: 0 });
const ESC = /\x1b\[/;

t.test('terminal table: runs with counts, a row per case, the failures with their diagnostics', async (t) => {
  const out = renderText(m, { chalk: plain });
  t.notMatch(out, ESC, 'no colour at level 0');
  t.match(out, /^gmemtest report: 5 runs, 42 cases, \d+ differ between runs, 1 failing, 1 run with a problem\n/);
  t.match(out, /\n1 +boot-sid +7\.2\.13\+deb14-amd64, x86_64 +37 +0 +0 +5 +0\n/, 'run 1: pass fail xfail skip not-run');
  t.match(out, /\n3 +boot-timeout .* 42\n/, 'the killed boot: every case not run');
  t.match(out, /TIMEOUT the kernel did not reach \/init; QEMU killed/, 'the run\'s problem');
  const lines = out.split('\n');
  const row = lines.find((l) => l.startsWith('guest_memfd_guest '))!;
  t.match(row, /^guest_memfd_guest +PASS +SKIP +- +FAIL +XFAIL$/);
  t.equal(lines.filter((l) => /^(default_vm|sw_protected_vm|sev_vm|sev_es_vm|snp_vm|tdx_vm|guest_memfd_guest)\b/.test(l)).length, 42, 'a row per case');
  t.match(out, /failures:\n {2}FAIL guest_memfd_guest on host\n {6}check: the guest runs to its DONE ucall\n/);
  const coloured = renderText(m, { chalk: new Chalk({ level: 1 }) });
  t.match(coloured, ESC, 'colour when the caller\'s chalk has it');
  t.equal(coloured.replace(/\x1b\[[0-9;]*m/g, ''), out, 'the same text under the colour');
});

t.test('terminal table: filters, and a TTY width', async (t) => {
  const fails = renderText(m, { chalk: plain, onlyFailures: true });
  const rows = fails.split('\n').filter((l) => /^(default_vm|guest_memfd_guest|sev)/.test(l));
  t.same(rows.map((l) => l.split(/\s+/)[0]), ['guest_memfd_guest']);
  t.match(fails, /\(41 of 42 cases not shown: only failures\)/);
  const narrow = renderText(m, { chalk: plain, width: 100 });
  for (const l of narrow.split('\n').filter((x) => x.startsWith('…') || x.startsWith('default_vm'))) t.ok(l.length <= 100, `fits: ${l}`);
  t.match(narrow, /\n…[a-z_.-]*create_guest_memfd_invalid_sizes /, 'long ids keep their end');
});

t.test('Markdown: runs table, the cases that differ or fail, everything folded', async (t) => {
  const md = renderMarkdown(m);
  t.match(md, /^## gmemtest report\n\n5 runs, 42 cases/);
  t.match(md, /\n\| # \| run \| kernel \| arch \| variant \| where \| pass \| fail \| xfail \| skip \| not run \|\n/);
  t.match(md, /\n\| 1 \| boot-sid \| `7\.2\.13\+deb14-amd64` \| x86_64 \| {2}\| QEMU tcg, 2 vCPUs, 2048 MiB, 2 NUMA nodes \(gmemtest boot\) \| 37 \| 0 \| 0 \| 5 \| 0 \|\n/);
  t.match(md, /\*\*boot-timeout\*\*: ⏱️ TIMEOUT the kernel did not reach \/init; QEMU killed/);
  const differ = m.rows.filter((r) => r.differs || r.failing).length;
  t.match(md, new RegExp(`### Cases that differ between runs or fail \\(${differ}\\)`));
  t.match(md, /\| `guest_memfd_guest` \| ✅ pass \| ⏭️ skip \| — \| ❌ FAIL \| ☑️ xfail \|/);
  t.match(md, /<details><summary>All cases \(42\)<\/summary>/);
  t.match(md, /<details><summary>Diagnostics of the failing cells \(1\)<\/summary>\n\n\*\*`guest_memfd_guest`\*\* on host: ❌ FAIL\n\n```\ncheck: the guest runs to its DONE ucall\n/);
  // every table row has as many cells as its header
  for (const table of md.split(/\n\n/).filter((b) => b.startsWith('| '))) {
    const widths = table.split('\n').map((l) => l.replace(/\\\|/g, '').split('|').length);
    t.ok(widths.every((w) => w === widths[0]), 'rows as wide as the header');
  }
  const none = renderMarkdown(buildMatrix(loadRuns([join(FIX, 'boot-sid.ktap')])));
  t.match(none, /None: every case has the same status in every run, and none fails\./);
});

t.test('Markdown escapes what would break a table', async (t) => {
  const runs = loadRuns([{ path: join(FIX, 'host.json'), label: 'a|b <x>' }]);
  const md = renderMarkdown(buildMatrix(runs));
  t.match(md, /\| a\\\|b &lt;x> \|/);
});

t.test('HTML: one self-contained page', async (t) => {
  const html = renderHtml(m, { generator: 'gmemtest 0.1.0' });
  t.match(html, /^<!doctype html>\n<html lang="en">/);
  t.notMatch(html, /\b(?:src|href)\s*=\s*(?!["']?#)/i, 'no src=, no href= but in-page anchors');
  t.notMatch(html, /https?:\/\//, 'no URL anywhere');
  t.notMatch(html, /@import|url\(/, 'no CSS that loads something');
  t.equal((html.match(/<script/g) ?? []).length, 2, 'the data and the inline script');
  t.equal((html.match(/<tr class="row[ "]/g) ?? []).length, 42, 'a row per case');
  t.equal((html.match(/<button type="button" class="s s-/g) ?? []).length, m.rows.reduce((n, r) => n + r.cells.filter(Boolean).length, 0), 'a button per cell that ran');
  t.equal((html.match(/class="s s-missing" title="not in this run"/g) ?? []).length, m.counts.reduce((n, c) => n + c.missing, 0), 'a dash per case a run lacks');
  const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as { rows: { id: string; cells: ({ status: string; diagnostics: string[] } | null)[] }[] };
  t.equal(data.rows.length, 42);
  t.same(data.rows.find((r) => r.id === 'guest_memfd_guest')!.cells[3]!.diagnostics[0], 'check: the guest runs to its DONE ucall');
  t.match(html, /title="FAIL on host\ncheck: the guest runs to its DONE ucall\n/, 'the diagnostics on hover');
  t.match(html, /<article class="run" id="run-3" data-run="2">/);
  t.match(html, /<span class="s s-timeout">TIMEOUT<\/span> the kernel did not reach \/init; QEMU killed/);
  t.match(html, /<tr class="total" data-status="pass"><th>pass<\/th><td class="" data-run="0">37<\/td>/, 'totals per run');
});

t.test('HTML escapes what it is given', async (t) => {
  const runs = loadRuns([{ path: join(FIX, 'host.json'), label: '<script>alert(1)</script>' }]);
  const html = renderHtml(buildMatrix(runs), { title: 'a "title" & <more>' });
  t.notMatch(html, /<script>alert/);
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(html, /<title>a &quot;title&quot; &amp; &lt;more&gt;<\/title>/);
  const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
  t.notMatch(data, /</, 'no < inside the data script');
});
