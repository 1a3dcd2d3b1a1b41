// Debian's Chromium, driven by playwright-core (which never downloads a browser): the
// project's way of looking at its HTML as a person would. Each launch gets a fresh
// profile directory, removed on close; no network traffic is wanted or needed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.GMEMTEST_CHROMIUM ?? '/usr/bin/chromium';

/** Why Chromium cannot be used here, or null. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} not installed (Debian package chromium)`;
}

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'gmemtest-chromium-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Our own flags only: playwright's defaults are not wanted (ignoreDefaultArgs) except
    // the remote-debugging pipe it drives the browser through.
    ignoreDefaultArgs: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ],
    timeout: 60_000,
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
