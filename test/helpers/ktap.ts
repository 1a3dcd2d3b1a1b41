// Parses gmemtest's KTAP with tap-parser. KTAP nests with two spaces and repeats a
// version line per subtest; TAP14 nests with four spaces and none. The mapping between
// the two is structural only (ktap.rst, "Major differences"), so the parse checks plans,
// numbering and nesting for real.
import { Parser, type FinalResults } from 'tap-parser';

export interface KtapNode {
  name: string;
  ok: boolean;
  directive: 'SKIP' | 'XFAIL' | 'XPASS' | 'TIMEOUT' | 'ERROR' | null;
  reason: string;
  children: KtapNode[];
}

export interface KtapParse {
  tree: KtapNode[];
  /** tap-parser's verdict on the whole document (plans, numbering, bail out). */
  ok: boolean;
  failures: FinalResults['failures'];
  bailout: string | boolean;
  /** Lines that are not TAP at all (there should be none). */
  extra: string[];
  totals: Record<string, number> | null;
}

export function ktapToTap14(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^( *)(.*)$/.exec(line)!;
    const depth = m[1]!.length / 2;
    if (!Number.isInteger(depth)) throw new Error(`odd indentation: '${line}'`);
    if (m[2] === 'KTAP version 1') {
      if (depth === 0) out.push('TAP version 14');
      continue;
    }
    out.push('    '.repeat(depth) + m[2]);
  }
  return out.join('\n');
}

const DIRECTIVE = /^(SKIP|XFAIL|XPASS|TIMEOUT|ERROR)\b\s*(.*)$/;

export function parseKtap(text: string): KtapParse {
  if (!text.startsWith('KTAP version 1\n')) throw new Error('output does not start with a KTAP version line');
  const extra: string[] = [];
  const parser = new Parser({ strict: true });
  const attach = (p: Parser, into: KtapNode[]): void => {
    let pending: KtapNode[] = [];
    p.on('child', (c: Parser) => {
      pending = [];
      attach(c, pending);
    });
    p.on('assert', (a: { name: string; ok: boolean; skip: string | boolean; todo: string | boolean; diag?: unknown; fullname: string; directive?: string }) => {
      let directive: KtapNode['directive'] = null;
      let reason = '';
      if (a.skip !== false) { directive = 'SKIP'; reason = a.skip === true ? '' : String(a.skip); }
      const m = DIRECTIVE.exec(a.name.split(' # ')[1] ?? '');
      if (m) { directive = m[1] as KtapNode['directive']; reason = m[2] ?? ''; }
      into.push({ name: a.name.split(' # ')[0]!.trim(), ok: a.ok, directive, reason, children: pending });
      pending = [];
    });
    p.on('extra', (e: string) => { if (e.trim() !== '') extra.push(e); });
  };
  const tree: KtapNode[] = [];
  attach(parser, tree);
  let totals: Record<string, number> | null = null;
  const tm = /^# Totals: (.*)$/m.exec(text);
  if (tm) totals = Object.fromEntries(tm[1]!.split(' ').map((kv) => { const [k, v] = kv.split(':'); return [k!, Number(v)]; }));
  let result: FinalResults | undefined;
  parser.on('complete', (r: FinalResults) => { result = r; });
  parser.end(ktapToTap14(text));
  if (!result) throw new Error('tap-parser did not complete');
  return { tree, ok: result.ok, failures: result.failures, bailout: result.bailout, extra, totals };
}

/** Dotted ids of every node, depth first, as gmemtest names them. */
export function ids(tree: readonly KtapNode[], prefix = ''): string[] {
  return tree.flatMap((n) => {
    const id = prefix ? `${prefix}.${n.name}` : n.name;
    return [id, ...ids(n.children, id)];
  });
}

export function find(tree: readonly KtapNode[], id: string): KtapNode | undefined {
  const [head, ...rest] = id.split('.');
  const n = tree.find((x) => x.name === head);
  return rest.length === 0 || !n ? n : find(n.children, rest.join('.'));
}
