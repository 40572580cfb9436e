import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ApiClient } from '../../src/cli/api-client.js';
import { ServeChild } from '../support/serve-child.js';
import { pushComponentWasm } from '../components/component-fixtures.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { openBrowser, runWarren, screenshot, type Browser } from './console-browser.js';

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

function warren(args: string[], token = server.token) {
  return runWarren(server, home.path, args, token);
}

async function textOf(page: Page, testId: string): Promise<string> {
  const el = page.getByTestId(testId);
  await el.waitFor();
  return ((await el.textContent()) ?? '').trim();
}

let workerId = '';
let usedLink = '';

test('log in through `warren console`, see the component the CLI pushed, create a worker and invoke it', async () => {
  const push = await warren(['component', 'push', join(repoRoot, 'examples/counter'), '--json']);
  assert.equal(push.code, 0, push.stderr);

  const link = await warren(['console']);
  assert.equal(link.code, 0, link.stderr);
  const url = link.stdout.trim();
  usedLink = url;
  assert.match(url, new RegExp(`^${server.url}/ui/login\\?token=[A-Za-z0-9_-]+$`));

  const { page } = browser;
  await page.goto(url);
  await page.waitForURL(/\/ui\/components$/);
  assert.ok(!page.url().includes('token='), 'the one-time secret is gone from the address bar');
  const cookies = await browser.context.cookies(server.url);
  const session = cookies.find((c) => c.name === 'warren_session');
  assert.ok(session, 'the session cookie is set');
  assert.deepEqual([session.httpOnly, session.sameSite], [true, 'Strict']);
  assert.equal(await page.evaluate(() => document.cookie), '', 'page scripts cannot read the session');

  await page.getByRole('link', { name: 'sh.warren.counter' }).click();
  await page.getByRole('heading', { name: 'Component sh.warren.counter' }).waitFor();
  await page.getByRole('cell', { name: '/static/greeting.txt' }).waitFor();
  assert.match(await textOf(page, 'manifest'), /"namespace": "sh\.warren"/);
  await screenshot(page, 'component');

  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Workers' }).click();
  await page.getByText('No workers.').waitFor();
  await page.getByLabel('Component').fill('sh.warren.counter');
  await page.getByLabel('Name', { exact: true }).fill('e2e-counter');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/ui\/workers\/[^/]+$/);
  await page.getByRole('heading', { name: 'Worker sh.warren/e2e-counter' }).waitFor();
  workerId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

  await page.getByLabel('Export', { exact: true }).fill('increment');
  await page.getByRole('button', { name: 'Invoke' }).click();
  assert.equal(await textOf(page, 'invoke-returns'), '[1]');
  await page.getByRole('button', { name: 'Invoke' }).click();
  await page.getByTestId('invoke-returns').filter({ hasText: '[2]' }).waitFor();
  await screenshot(page, 'worker');

  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Workers' }).click();
  await page.getByRole('link', { name: 'e2e-counter' }).waitFor();
  await screenshot(page, 'workers');
  // The same worker through the API: the console called the real thing.
  const listed = await server.client.json<{ workers: { id: string; name: string }[] }>('GET', '/v1/workers');
  assert.deepEqual(listed.workers.map((w) => [w.id, w.name]), [[workerId, 'e2e-counter']]);
});

test("a WebAssembly component's page shows its exports with their WIT types", async () => {
  const pushed = await pushComponentWasm(server.client, data.path, 'sh.warren', 'typed', 'typed.component.wasm');
  assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
  const { page } = browser;
  await page.goto(`${server.url}/ui/components/sh.warren.typed`);
  const world = page.getByTestId('world');
  await world.getByText('add: func(name: string, count: u32) -> u32', { exact: true }).waitFor();
  await world.getByText('record item { name: string, count: u32 }', { exact: true }).waitFor();
  await world.getByText('hello: func(who: string) -> string', { exact: true }).waitFor();
  await screenshot(page, 'component-world');

  // A worker of it, called with typed arguments: the WIT result comes back as JSON.
  await page.goto(`${server.url}/ui/workers`);
  await page.getByLabel('Component').fill('sh.warren.typed');
  await page.getByLabel('Name', { exact: true }).fill('e2e-typed');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'Worker sh.warren/e2e-typed' }).waitFor();
  await page.getByLabel('Export', { exact: true }).fill('warren:fixtures/inventory#add');
  await page.getByLabel('Arguments (JSON array)').fill('["apple", 3]');
  await page.getByRole('button', { name: 'Invoke' }).click();
  assert.equal(await textOf(page, 'invoke-result-value'), '3');
  await page.getByLabel('Arguments (JSON array)').fill('["apple", "three"]');
  await page.getByRole('button', { name: 'Invoke' }).click();
  const refused = page.getByRole('alert').filter({ hasText: 'E_BAD_ARGS' });
  await refused.waitFor();
  assert.match((await refused.textContent()) ?? '', /add: func\(name: string, count: u32\) -> u32/, 'the error names the signature');
  await screenshot(page, 'worker-typed');
});

test("browse the worker's files, view one, download it and its folder as a zip", async () => {
  const { page } = browser;
  await page.goto(`${server.url}/ui/workers/${encodeURIComponent(workerId)}`);
  await page.getByRole('button', { name: 'Open folder state' }).click();
  await page.getByRole('button', { name: 'View count.txt' }).click();
  const expected = (await server.client.raw('GET', `/v1/workers/${workerId}/file-contents?path=/state/count.txt`)).body;
  const bytes = await readStream(expected);
  assert.equal(bytes.toString(), '1\n2\n', 'the two calls appended to the read-write file');
  assert.equal(await textOf(page, 'file-view'), bytes.toString().trim());

  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download count.txt' }).click()]);
  assert.equal(file.suggestedFilename(), 'count.txt');
  assert.deepEqual(readFileSync((await file.path())!), bytes);

  const [zip] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download /state as zip' }).click()]);
  assert.equal(zip.suggestedFilename(), 'state.zip');
  const zipped = readFileSync((await zip.path())!);
  assert.equal(zipped.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip archive');
  assert.ok(zipped.includes(Buffer.from('count.txt')), 'holding count.txt');
  await screenshot(page, 'worker-files');
});

test('pause the worker and resume it from the snapshot timeline; its memory comes back', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/ui/workers/${encodeURIComponent(workerId)}`);
  const snapshots = page.getByRole('group', { name: 'Snapshot actions' });
  await snapshots.getByRole('button', { name: 'Pause' }).click();
  await page.getByTestId('snapshot-outcome').filter({ hasText: /^Paused into snapshot \S+/ }).waitFor();
  await page.getByTestId('worker-status').filter({ hasText: 'paused' }).waitFor();
  await page.getByTestId('snapshot-timeline').getByText('pause', { exact: true }).waitFor();
  assert.equal((await server.client.json<{ status: string }>('GET', `/v1/workers/${workerId}`)).status, 'paused');

  await snapshots.getByRole('button', { name: 'Resume' }).click();
  await page.getByTestId('snapshot-outcome').filter({ hasText: /^Resumed from snapshot \S+/ }).waitFor();
  await page.getByLabel('Export', { exact: true }).fill('increment');
  await page.getByRole('button', { name: 'Invoke' }).click();
  await page.getByTestId('invoke-returns').filter({ hasText: '[3]' }).waitFor();
  await screenshot(page, 'worker-snapshots');
});

test('commit and fork from the timeline, filter the list, update to 1.1.0 with the outcome shown', async () => {
  const pushed = await warren(['component', 'push', join(repoRoot, 'examples/counter/warren-1.1.0.toml')]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const { page } = browser;
  await page.goto(`${server.url}/ui/workers/${encodeURIComponent(workerId)}`);
  await page.getByRole('group', { name: 'Snapshot actions' }).getByRole('button', { name: 'Commit' }).click();
  await page.getByTestId('snapshot-outcome').filter({ hasText: /^Committed snapshot \S+/ }).waitFor();
  await page.getByTestId('snapshot-timeline').getByText('commit', { exact: true }).waitFor();

  await page.getByLabel('Fork into a new worker named').fill('e2e-fork');
  await page.getByRole('button', { name: 'Fork' }).click();
  await page.getByRole('link', { name: 'e2e-fork' }).click();
  await page.getByRole('heading', { name: 'Worker sh.warren/e2e-fork' }).waitFor();
  await page.getByLabel('Export', { exact: true }).fill('increment');
  await page.getByRole('button', { name: 'Invoke' }).click();
  assert.equal(await textOf(page, 'invoke-returns'), '[4]', "the fork goes on from the commit's memory");

  await page.goto(`${server.url}/ui/workers`);
  await page.getByLabel('Filter').fill('name == e2e-fork');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/\?filter=/);
  await page.getByRole('link', { name: 'e2e-fork' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'e2e-counter' }).count(), 0, 'the filter left e2e-counter out');

  await page.goto(`${server.url}/ui/workers/${encodeURIComponent(workerId)}`);
  await page.getByLabel('Version').selectOption('1.1.0');
  await page.getByRole('button', { name: 'Update' }).click();
  assert.match(await textOf(page, 'update-outcome'), /^Moved from 1\.0\.0 to 1\.1\.0/);
  await page.getByRole('link', { name: 'sh.warren.counter' }).locator('..').filter({ hasText: '@1.1.0' }).waitFor();
  await screenshot(page, 'worker-updated');
});

test('the admin pages: tokens, cluster, metrics charts', async () => {
  const { page } = browser;
  const nav = page.getByRole('navigation', { name: 'Pages' });
  await nav.getByRole('link', { name: 'Tokens' }).click();
  await page.getByLabel('Namespaces (comma-separated)').fill('sh.serval');
  await page.getByLabel('For (subject)').fill('console-made');
  await page.getByRole('button', { name: 'Create token' }).click();
  const made = (await page.getByTestId('new-token').inputValue()).trim();
  const who = await new ApiClient({ server: server.url, token: made }).json<{ role: string; namespaces: string[] }>('GET', '/v1/whoami');
  assert.deepEqual([who.role, who.namespaces], ['project', ['sh.serval']]);
  await page.getByRole('cell', { name: 'console-made', exact: true }).waitFor();
  await screenshot(page, 'tokens');
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: /^Revoke token \S+ for console-made$/ }).click();
  await page.getByRole('row').filter({ hasText: 'console-made' }).getByText('revoked', { exact: true }).waitFor();
  await assert.rejects(new ApiClient({ server: server.url, token: made }).json('GET', '/v1/whoami'), /revoked/);

  await nav.getByRole('link', { name: 'Cluster' }).click();
  await page.getByText(/runs alone on embedded storage/).waitFor();
  await screenshot(page, 'cluster');

  await nav.getByRole('link', { name: 'Metrics' }).click();
  const totals = page.getByTestId('metric-totals');
  // The page's count of worker calls is what /metrics says (no call runs meanwhile), and not 0.
  const metrics = await readStream((await server.client.raw('GET', '/metrics')).body);
  const calls = metrics
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('warren_worker_invocations_total'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  assert.ok(calls >= 5, `the calls made so far are counted: ${calls}`);
  await totals.getByTestId('metric-calls').filter({ hasText: new RegExp(`^${calls}$`) }).waitFor();
  await page.getByRole('img', { name: /^Calls per second: now/ }).waitFor();
  await screenshot(page, 'metrics');
});

test('a project token is refused another namespace by the API, whatever the page offers', async () => {
  const made = await warren(['token', 'create', '--role', 'project', '--namespace', 'sh.serval', '--sub', 'serval-dev']);
  assert.equal(made.code, 0, made.stderr);
  const projectToken = made.stdout.trim();
  const loudify = await warren(['component', 'push', join(repoRoot, 'examples/loudify')]);
  assert.equal(loudify.code, 0, loudify.stderr);
  const { page } = browser;
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/ui\/login$/);
  assert.equal((await browser.context.cookies(server.url)).filter((c) => c.name === 'warren_session').length, 0, 'logout clears the cookie');

  // The first login link again: it worked once, and says so.
  await page.goto(usedLink);
  await page.waitForURL(/\/ui\/login\?error=E_TOKEN_INVALID$/);
  await page.getByRole('alert').filter({ hasText: /E_TOKEN_INVALID.*used already/ }).waitFor();
  await screenshot(page, 'login');

  // Paste-a-token login, from the keyboard alone.
  await page.getByLabel('API token').focus();
  await page.keyboard.type(projectToken);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByText('serval-dev').waitFor();
  // Its namespace's components only: the API lists sh.serval.loudify, not sh.warren.counter.
  await page.getByRole('link', { name: 'sh.serval.loudify' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'sh.warren.counter' }).count(), 0);

  await page.goto(`${server.url}/ui/workers/${encodeURIComponent(workerId)}`);
  await page.getByRole('alert').filter({ hasText: 'E_NOT_FOUND' }).waitFor();

  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Jobs' }).click();
  await page.getByLabel('Component').fill('sh.serval.loudify');
  await page.getByLabel('Stdin').fill('let it all out');
  await page.getByRole('button', { name: 'Run' }).click();
  assert.equal(await textOf(page, 'job-stdout'), 'LET IT ALL OUT');
  assert.equal(await textOf(page, 'job-exit-code'), '0');
  await screenshot(page, 'jobs');
  await page.getByLabel('Component').fill('sh.warren.counter');
  await page.getByRole('button', { name: 'Run' }).click();
  const refused = page.getByRole('alert');
  await refused.filter({ hasText: 'E_FORBIDDEN' }).waitFor();
  assert.match((await refused.textContent()) ?? '', /may not act on namespace sh\.warren/);
  await screenshot(page, 'project-refused');
  // Not hidden buttons: the Tokens page is not offered, and the API refuses it anyway.
  await page.goto(`${server.url}/ui/tokens`);
  await page.getByRole('alert').filter({ hasText: 'E_FORBIDDEN' }).waitFor();
});

test('the pages fit a narrow window', async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/ui/components', '/ui/jobs', '/ui/workers']) {
    await page.goto(server.url + path);
    await page.getByRole('heading', { level: 1 }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 390px wide`);
  }
  await screenshot(page, 'narrow-workers');
});

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}
