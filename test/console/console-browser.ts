import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';

/** Debian's chromium (scripts/fresh-test.sh and .ci/run install it); the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** What this machine's sandbox needs, and nothing that reaches the network by itself. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots of the pages under test, for people to look at: test-results/console/ (gitignored). */
export const SCREENSHOTS = join(repoRoot, 'test-results', 'console');

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Headless chromium on a fresh profile. A missing chromium fails the test with how to install
 * it: a browser test that skips itself would let CI pass without ever opening the console.
 */
export async function openBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the console tests need Debian's chromium at ${CHROMIUM}: apt-get install -y chromium (scripts/fresh-test.sh and .ci/run install it)`);
  }
  const profile = makeTempDir('warren-chromium-');
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      profile.dispose();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
