/** The style sheet and script inlined into the HTML report (the page loads nothing else). */

export const CSS = `
:root {
  --bg: #f6f7f9; --panel: #fff; --text: #1f2328; --muted: #656d76; --line: #d8dee4; --head: #eef1f4;
  --pass-bg: #dafbe1; --pass-fg: #116329;
  --skip-bg: #eaeef2; --skip-fg: #57606a;
  --xfail-bg: #ddf4ff; --xfail-fg: #0550ae;
  --fail-bg: #cf222e; --error-bg: #8250df; --timeout-bg: #bc4c00; --xpass-bg: #bf3989;
  --accent: #0969da; --differs: #d4a72c;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --panel: #161b22; --text: #e6edf3; --muted: #8d96a0; --line: #30363d; --head: #1c2128;
    --pass-bg: #12361f; --pass-fg: #7ee2a1; --skip-bg: #262c36; --skip-fg: #a3acb6; --xfail-bg: #0c2d4f; --xfail-fg: #8cc8ff;
    --accent: #58a6ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
header.top { padding: 20px 28px 8px; }
header.top h1 { margin: 0; font-size: 22px; font-weight: 650; letter-spacing: -0.01em; }
header.top h1 span { color: var(--muted); font-weight: 400; font-size: 14px; margin-left: 8px; }
.summary { margin: 4px 0 0; color: var(--muted); }
main { padding: 8px 28px 40px; }
h2.section { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 18px 0 8px; font-weight: 600; }

.runs { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 12px; }
.run { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
.run:target { outline: 2px solid var(--accent); }
.run-head { display: flex; align-items: center; gap: 8px; }
.run-no { display: inline-grid; place-items: center; min-width: 22px; height: 22px; border-radius: 11px; background: var(--head); color: var(--muted); font-size: 12px; font-weight: 600; }
.run h3 { margin: 0; font-size: 15px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.src { margin-left: auto; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); border: 1px solid var(--line); border-radius: 6px; padding: 0 6px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 10px 0; font-size: 13px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.bar { display: flex; height: 8px; border-radius: 4px; overflow: hidden; background: var(--head); margin: 8px 0 6px; }
.bar span { display: block; height: 100%; }
.b-pass { background: #2da44e; } .b-skip { background: #afb8c1; } .b-xfail { background: #54aeff; } .b-fail { background: var(--fail-bg); }
.b-error { background: var(--error-bg); } .b-timeout { background: var(--timeout-bg); } .b-xpass { background: var(--xpass-bg); } .b-missing { background: transparent; }
.counts { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0; padding: 0; }
.counts li { font-size: 12px; padding: 1px 7px; border-radius: 10px; }
.problem { margin: 10px 0 0; padding: 8px 10px; border-radius: 8px; background: var(--head); border-left: 3px solid var(--fail-bg); }
.problem .s { min-width: 0; margin-right: 4px; }
details { margin-top: 8px; }
details summary { cursor: pointer; color: var(--accent); font-size: 13px; }
details pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--head); padding: 8px; border-radius: 6px; max-height: 260px; overflow: auto; }
.caps { width: 100%; border-collapse: collapse; font-size: 12px; margin-top: 4px; }
.caps td { padding: 1px 4px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
.caps td:first-child { color: var(--muted); white-space: nowrap; }
.file { margin: 8px 0 0; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }

.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; margin: 4px 0 10px; }
.toolbar label { display: inline-flex; align-items: center; gap: 6px; cursor: pointer; user-select: none; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 4px 10px; }
.toolbar label .n { color: var(--muted); }
.toolbar input[type=search] { font: inherit; padding: 5px 10px; border: 1px solid var(--line); border-radius: 8px; background: var(--panel); color: var(--text); min-width: 220px; }
#shown { color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px; margin-left: auto; }

.scroll { overflow: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; max-height: 78vh; }
table.matrix { border-collapse: separate; border-spacing: 0; width: max-content; min-width: 100%; }
.matrix th, .matrix td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: center; white-space: nowrap; }
.matrix thead th { position: sticky; top: 0; z-index: 2; background: var(--head); font-weight: 600; vertical-align: bottom; padding: 8px; }
.matrix thead th a { color: var(--text); text-decoration: none; }
.matrix thead th a:hover { text-decoration: underline; }
.matrix thead th small { display: block; font-weight: 400; color: var(--muted); font-size: 11.5px; }
.matrix th.case { position: sticky; left: 0; z-index: 1; background: var(--panel); text-align: left; font-weight: 400; border-right: 1px solid var(--line); border-left: 3px solid transparent; }
.matrix thead th.case { z-index: 3; background: var(--head); }
.matrix tr.row.differs th.case { border-left-color: var(--differs); }
.matrix tr.row.failing th.case { border-left-color: var(--fail-bg); }
.matrix tr.group th { position: sticky; left: 0; text-align: left; background: var(--head); color: var(--muted); font-size: 12px; font-weight: 600; padding: 4px 10px; }
.matrix tr.row:hover th.case, .matrix tr.row:hover td { background-image: linear-gradient(rgba(127,127,127,.08), rgba(127,127,127,.08)); }
.matrix tfoot th, .matrix tfoot td { background: var(--head); font-variant-numeric: tabular-nums; border-bottom: 0; border-top: 1px solid var(--line); }
.matrix tfoot th { text-align: right; color: var(--muted); font-weight: 500; }
.matrix tfoot td.zero { color: var(--muted); font-weight: 300; }

.s { display: inline-block; min-width: 58px; padding: 1px 8px; border-radius: 6px; font-size: 12px; font-weight: 600; letter-spacing: .02em; border: 0; font-family: inherit; }
button.s { cursor: pointer; }
button.s:focus-visible, button.s.selected { outline: 2px solid var(--accent); outline-offset: 1px; }
.s-pass { background: var(--pass-bg); color: var(--pass-fg); }
.s-skip { background: var(--skip-bg); color: var(--skip-fg); }
.s-xfail { background: var(--xfail-bg); color: var(--xfail-fg); }
.s-fail { background: var(--fail-bg); color: #fff; }
.s-error { background: var(--error-bg); color: #fff; }
.s-timeout { background: var(--timeout-bg); color: #fff; }
.s-xpass { background: var(--xpass-bg); color: #fff; }
.s-missing { color: var(--muted); background: transparent; font-weight: 400; }
.s.has-diag::after { content: " •"; }

#detail { position: fixed; right: 20px; bottom: 20px; width: min(560px, calc(100vw - 40px)); max-height: 60vh; overflow: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 12px; box-shadow: 0 12px 32px rgba(0,0,0,.18); padding: 14px 16px; z-index: 10; }
#detail h3 { margin: 0 28px 4px 0; font-size: 14px; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", monospace; }
#detail .meta { margin: 0 0 8px; color: var(--muted); font-size: 13px; }
#detail .close { position: absolute; top: 8px; right: 10px; border: 0; background: transparent; font-size: 20px; cursor: pointer; color: var(--muted); }
#detail pre { margin: 8px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; background: var(--head); padding: 8px 10px; border-radius: 6px; }
#detail .none { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; padding: 0 28px 24px; }
`;

/** Filters, the cell detail panel. Reads the cells' data from the JSON in #report-data. */
export const SCRIPT = `
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const rows = Array.from(document.querySelectorAll('tr.row'));
  const groups = Array.from(document.querySelectorAll('tr.group'));
  const onlyDiff = document.getElementById('only-differences');
  const onlyFail = document.getElementById('only-failures');
  const search = document.getElementById('search');
  const shown = document.getElementById('shown');
  const panel = document.getElementById('detail');

  function apply() {
    const q = search.value.trim().toLowerCase();
    let n = 0;
    for (const tr of rows) {
      const ok = (!onlyDiff.checked || tr.dataset.differs === '1') && (!onlyFail.checked || tr.dataset.failing === '1') &&
        (q === '' || tr.dataset.id.toLowerCase().includes(q));
      tr.hidden = !ok;
      if (ok) n++;
    }
    for (const g of groups) {
      const mine = rows.filter((tr) => tr.dataset.group === g.dataset.group && tr.dataset.block === g.dataset.block);
      g.hidden = mine.every((tr) => tr.hidden);
    }
    shown.textContent = n + ' of ' + rows.length + ' cases shown';
  }
  onlyDiff.addEventListener('change', apply);
  onlyFail.addEventListener('change', apply);
  search.addEventListener('input', apply);

  let selected = null;
  function show(button) {
    const r = Number(button.dataset.row), c = Number(button.dataset.run);
    const row = data.rows[r], cell = row.cells[c], run = data.runs[c];
    if (selected) selected.classList.remove('selected');
    selected = button;
    button.classList.add('selected');
    panel.querySelector('h3').textContent = row.id;
    panel.querySelector('.meta').textContent = 'run ' + (c + 1) + ' ' + run.label + ' \\u00b7 kernel ' + run.kernel + ' \\u00b7 ' + run.arch +
      (cell.durationMs !== null ? ' \\u00b7 ' + cell.durationMs.toFixed(1) + ' ms' : '');
    const badge = panel.querySelector('.badge');
    badge.className = 'badge s s-' + cell.status;
    badge.textContent = cell.status.toUpperCase();
    panel.querySelector('.reason').textContent = cell.reason || '';
    const pre = panel.querySelector('pre');
    pre.textContent = cell.diagnostics.length ? cell.diagnostics.join('\\n') : 'no diagnostics';
    pre.classList.toggle('none', cell.diagnostics.length === 0);
    panel.hidden = false;
  }
  document.getElementById('matrix').addEventListener('click', (e) => {
    const b = e.target.closest('button.s');
    if (b) show(b);
  });
  panel.querySelector('.close').addEventListener('click', () => {
    panel.hidden = true;
    if (selected) selected.classList.remove('selected');
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') panel.querySelector('.close').click(); });
  apply();
})();
`;
