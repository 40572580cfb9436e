import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ServeChild } from '../support/serve-child.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { openBrowser, screenshot, type Browser } from './console-browser.js';

const CLI_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'warren-cli-entry.js');
/** Far past a loaded machine's page loads: time is not what these tests measure. */
const UI_TIMEOUT_MS = 120_000;

const data = makeTempDir('warren-console-e2e-');
const home = makeTempDir('warren-console-home-');
let server: ServeChild;
let browser: Browser;

before(async () => {
  server = await ServeChild.start(data.path);
  browser = await openBrowser();
  browser.context.setDefaultTimeout(UI_TIMEOUT_MS);
});
after(async () => {
  await browser?.close();
  await server?.kill();
  data.dispose();
  home.dispose();
});

/** The real `warren` command against the server, as a person would type it. */
function warren(args: string[], token = server.token): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: home.path, XDG_CONFIG_HOME: join(home.path, 'cfg') };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_ENTRY, '--server', server.url, '--token', token, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function textOf(page: Page, testId: string): Promise<string> {
  const el = page.getByTestId(testId);
  await el.waitFor();
  return ((await el.textContent()) ?? '').trim();
}

test('log in through `warren console`, see workers, create one and invoke it', async () => {
  const push = await warren(['component', 'push', join(repoRoot, 'examples/counter'), '--json']);
  assert.equal(push.code, 0, push.stderr);

  const link = await warren(['console']);
  assert.equal(link.code, 0, link.stderr);
  const url = link.stdout.trim();
  assert.match(url, new RegExp(`^${server.url}/ui/login\\?token=[A-Za-z0-9_-]+$`));

  const { page } = browser;
  await page.goto(url);
  await page.waitForURL(/\/ui\/workers$/);
  assert.ok(!page.url().includes('token='), 'the one-time secret is gone from the address bar');
  const cookies = await browser.context.cookies(server.url);
  const session = cookies.find((c) => c.name === 'warren_session');
  assert.ok(session, 'the session cookie is set');
  assert.deepEqual([session.httpOnly, session.sameSite], [true, 'Strict']);
  assert.equal(await page.evaluate(() => document.cookie), '', 'page scripts cannot read the session');
  await page.getByText('No workers.').waitFor();
  await screenshot(page, 'workers');

  await page.getByLabel('Component').fill('sh.warren.counter');
  await page.getByLabel('Name', { exact: true }).fill('e2e-counter');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/ui\/workers\/[^/]+$/);
  await page.getByRole('heading', { name: 'Worker sh.warren/e2e-counter' }).waitFor();

  await page.getByLabel('Export', { exact: true }).fill('increment');
  await page.getByRole('button', { name: 'Invoke' }).click();
  assert.equal(await textOf(page, 'invoke-returns'), '[1]');
  await page.getByRole('button', { name: 'Invoke' }).click();
  await page.getByTestId('invoke-returns').filter({ hasText: '[2]' }).waitFor();
  await screenshot(page, 'worker-invoked');

  // The same worker through the API: the console called the real thing.
  const listed = await server.client.json<{ workers: { name: string }[] }>('GET', '/v1/workers');
  assert.deepEqual(listed.workers.map((w) => w.name), ['e2e-counter']);
});
