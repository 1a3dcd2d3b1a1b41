import { readFileSync } from 'node:fs';

/** Set by scripts/bundle.mjs (esbuild `define`); undeclared when running from dist/. */
declare const __GMEMTEST_VERSION__: string | undefined;

/**
 * The package's version: the one baked into the single-file bundle at bundle
 * time, or else read from package.json next to dist/ (../../ from dist/cli/).
 */
export function packageVersion(): string {
  if (typeof __GMEMTEST_VERSION__ === 'string') return __GMEMTEST_VERSION__;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
