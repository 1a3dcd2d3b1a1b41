/**
 * Known failures (--xfail FILE): one rule per line, `<test-id glob> <reason>`; blank
 * lines and lines starting with '#' are ignored.
 */
import { readFileSync } from 'node:fs';
import { globToRegExp } from './plan.js';

export interface XfailRule {
  readonly glob: string;
  readonly re: RegExp;
  readonly reason: string;
}

export class XfailFileError extends Error {}

export function parseXfail(text: string, file: string): XfailRule[] {
  const rules: XfailRule[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(\S.*)$/.exec(line);
    if (!m) throw new XfailFileError(`${file}:${i + 1}: expected '<test-id glob> <reason>', got '${line}'`);
    const glob = m[1]!;
    if (!/^[a-z0-9_.*?[\]!-]+$/.test(glob)) {
      throw new XfailFileError(`${file}:${i + 1}: '${glob}' is not a test-id glob ([a-z0-9_.-] and * ? [...])`);
    }
    let re: RegExp;
    try {
      re = globToRegExp(glob);
    } catch (e) {
      throw new XfailFileError(`${file}:${i + 1}: ${(e as Error).message}`);
    }
    rules.push({ glob, re, reason: m[2]!.replace(/#/g, '').replace(/\s+/g, ' ').trim() });
  });
  return rules;
}

export function loadXfail(file: string): XfailRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new XfailFileError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseXfail(text, file);
}

export function xfailReason(rules: readonly XfailRule[], id: string): string | null {
  return rules.find((r) => r.re.test(id))?.reason ?? null;
}
