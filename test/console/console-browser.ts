import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const CLI_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'warren-cli-entry.js');

/** The real `warren` command against a server, as a person would type it (HOME kept apart). */
export function runWarren(server: { url: string; token: string }, home: string, args: string[], token = server.token): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, 'cfg') };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_ENTRY, '--server', server.url, '--token', token, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Logs the browser in through `warren console`'s one-time link; resolves on the landing page. */
export async function logInThroughLink(page: Page, server: { url: string; token: string }, home: string): Promise<void> {
  const link = await runWarren(server, home, ['console']);
  if (link.code !== 0) throw new Error(`warren console failed: ${link.stderr}`);
  await page.goto(link.stdout.trim());
  await page.waitForURL((u) => u.pathname.startsWith('/ui/') && u.pathname !== '/ui/login');
}
