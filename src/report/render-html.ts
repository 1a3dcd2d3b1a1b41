/**
 * One self-contained HTML page: the runs (kernel, arch, variant, where, capabilities,
 * totals), the matrix with a colour per status, the diagnostics of a cell on hover
 * (title) and on click (a panel), filters "only differences" / "only failures" and a
 * search. Everything is inline; the page loads no resource.
 */
import { CSS, SCRIPT } from './html-assets.js';
import {
  COUNT_KEYS, groupOf, STATUS_WORD, summaryLine, type Cell, type CountKey, type Matrix, type Run,
} from './model.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const countWord = (k: CountKey): string => (k === 'missing' ? 'not run' : k);

/** A cell's hover text: status, reason, diagnostics. */
function hover(c: Cell, run: Run): string {
  const head = `${STATUS_WORD[c.status]} on ${run.label}${c.reason ? `: ${c.reason}` : ''}`;
  return [head, ...c.diagnostics].join('\n');
}

function runCard(r: Run, i: number, m: Matrix): string {
  const counts = m.counts[i]!;
  const total = m.rows.length || 1;
  const facts: [string, string][] = [
    ['kernel', r.kernel ?? 'unknown'], ['arch', r.arch], ...(r.variant ? [['variant', r.variant] as [string, string]] : []),
    ['where', r.environment], ['gmemtest', r.version ?? 'unknown'],
  ];
  const bar = COUNT_KEYS.filter((k) => counts[k] > 0)
    .map((k) => `<span class="b-${k}" style="width:${((counts[k] / total) * 100).toFixed(2)}%" title="${counts[k]} ${countWord(k)}"></span>`).join('');
  const chips = COUNT_KEYS.filter((k) => counts[k] > 0).map((k) => `<li class="s-${k}">${counts[k]} ${countWord(k)}</li>`).join('');
  const problem = r.problem === null ? '' : `<p class="problem"><span class="s s-${r.problem.status}">${STATUS_WORD[r.problem.status]}</span> ${esc(r.problem.message)}</p>${r.problem.diagnostics.length > 0
    ? `<details><summary>what it printed (${r.problem.diagnostics.length} lines)</summary><pre>${esc(r.problem.diagnostics.join('\n'))}</pre></details>` : ''}`;
  const caps = r.capabilities.length === 0 ? '' : `<details><summary>host and KVM capabilities (${r.capabilities.length})</summary><table class="caps">${
    r.capabilities.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="mono">${esc(v)}</td></tr>`).join('')}</table></details>`;
  return `<article class="run" id="run-${i + 1}" data-run="${i}">
<div class="run-head"><span class="run-no">${i + 1}</span><h3 title="${esc(r.label)}">${esc(r.label)}</h3><span class="src">${r.source === 'boot' ? 'boot' : 'host'}</span></div>
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd${k === 'kernel' ? ' class="mono"' : ''}>${esc(v)}</dd>`).join('')}</dl>
<div class="bar">${bar}</div><ul class="counts">${chips}</ul>${problem}${caps}
<p class="file mono">${esc(r.file)}</p>
</article>`;
}

function matrixTable(m: Matrix): string {
  const cols = m.runs.length;
  const head = `<thead><tr><th class="case">case</th>${m.runs.map((r, i) =>
    `<th class="run-col" data-run="${i}"><a href="#run-${i + 1}">${esc(r.label)}</a><small class="mono">${esc(r.kernel ?? 'unknown')}</small><small>${esc([r.arch, r.variant].filter(Boolean).join(' · '))}</small></th>`).join('')}</tr></thead>`;
  const body: string[] = [];
  let group: string | null = null;
  let block = -1;
  m.rows.forEach((row, ri) => {
    const g = groupOf(row.id);
    if (g !== group) {
      group = g;
      block++;
      body.push(`<tr class="group" data-group="${esc(g)}" data-block="${block}"><th colspan="${cols + 1}">${esc(g || 'top level')}</th></tr>`);
    }
    const leaf = g ? row.id.slice(g.length + 1) : row.id;
    const cells = row.cells.map((c, ci) => {
      if (c === null) return '<td><span class="s s-missing" title="not in this run">—</span></td>';
      const diag = c.diagnostics.length > 0 ? ' has-diag' : '';
      return `<td><button type="button" class="s s-${c.status}${diag}" data-row="${ri}" data-run="${ci}" title="${esc(hover(c, m.runs[ci]!))}">${STATUS_WORD[c.status]}</button></td>`;
    }).join('');
    const cls = ['row', row.differs ? 'differs' : '', row.failing ? 'failing' : ''].filter(Boolean).join(' ');
    body.push(`<tr class="${cls}" data-id="${esc(row.id)}" data-group="${esc(g)}" data-block="${block}" data-differs="${row.differs ? 1 : 0}" data-failing="${row.failing ? 1 : 0}">` +
      `<th class="case mono" title="${esc(row.id)}">${esc(leaf)}</th>${cells}</tr>`);
  });
  const keys = COUNT_KEYS.filter((k) => m.counts.some((n) => n[k] > 0));
  const foot = keys.map((k) => `<tr class="total" data-status="${k}"><th>${countWord(k)}</th>${m.counts.map((n, i) =>
    `<td class="${n[k] === 0 ? 'zero' : ''}" data-run="${i}">${n[k]}</td>`).join('')}</tr>`).join('');
  return `<table class="matrix" id="matrix">${head}<tbody>${body.join('\n')}</tbody><tfoot>${foot}</tfoot></table>`;
}

export interface HtmlOptions {
  /** The page's title (default: gmemtest report). */
  title?: string;
  /** Who made the page, for the footer (the gmemtest version). */
  generator?: string;
}

export function renderHtml(m: Matrix, opts: HtmlOptions = {}): string {
  const title = opts.title ?? 'gmemtest report';
  const differ = m.rows.filter((r) => r.differs).length;
  const failing = m.rows.filter((r) => r.failing).length;
  const data = {
    runs: m.runs.map((r) => ({ label: r.label, kernel: r.kernel ?? 'unknown', arch: r.arch, variant: r.variant })),
    rows: m.rows.map((r) => ({ id: r.id, cells: r.cells.map((c) => (c === null ? null : { status: c.status, reason: c.reason, diagnostics: c.diagnostics, durationMs: c.durationMs })) })),
  };
  const legend = COUNT_KEYS.map((k) => `<span class="s s-${k}">${k === 'missing' ? '— not run' : STATUS_WORD[k]}</span>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top"><h1>${esc(title)}<span>guest_memfd conformance across kernels and machines</span></h1>
<p class="summary" id="summary">${esc(summaryLine(m))}</p></header>
<main>
<h2 class="section">Runs</h2>
<section class="runs">${m.runs.map((r, i) => runCard(r, i, m)).join('\n')}</section>
<h2 class="section">Cases</h2>
<div class="toolbar">
<label><input type="checkbox" id="only-differences"> only differences <span class="n">${differ}</span></label>
<label><input type="checkbox" id="only-failures"> only failures <span class="n">${failing}</span></label>
<input type="search" id="search" placeholder="filter case ids" aria-label="filter case ids">
<span id="shown">${m.rows.length} of ${m.rows.length} cases shown</span>
<span class="legend">${legend}</span>
</div>
<div class="scroll">${matrixTable(m)}</div>
</main>
<aside id="detail" hidden aria-live="polite"><button type="button" class="close" aria-label="close">×</button>
<h3></h3><p class="meta"></p><p><span class="badge s"></span> <span class="reason"></span></p><pre></pre></aside>
<footer>Written by ${esc(opts.generator ?? 'gmemtest')} (gmemtest report). Click a cell for its diagnostics; hover for a preview.</footer>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
