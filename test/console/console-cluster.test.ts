import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startNatsServer } from '../support/nats-server.js';
import { ServeChild } from '../support/serve-child.js';
import { makeTempDir } from '../support/temp-dir.js';
import { logInThroughLink, openBrowser, screenshot } from './console-browser.js';

test('clustered: the cluster page lists the nodes with their health, load and cache use', async () => {
  const tmp = makeTempDir('warren-console-cluster-');
  const nats = await startNatsServer({ storeDir: join(tmp.path, 'nats') });
  let server: ServeChild | undefined;
  const browser = await openBrowser();
  browser.context.setDefaultTimeout(120_000); // far past a loaded machine's page loads
  try {
    server = await ServeChild.start(join(tmp.path, 'n1'), { args: ['--nats', nats.url, '--node-id', 'n1'] });
    const { page } = browser;
    await logInThroughLink(page, server, tmp.path);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Cluster' }).click();
    const row = page.getByRole('row').filter({ hasText: 'n1 (this node)' });
    await row.getByText('alive', { exact: true }).waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    assert.match(cells.join(' | '), /n1 \(this node\) \| alive \| \d+ ms ago \| 0 \| 0 \| [\d.]+ MiB \| (not measured yet|[\d.]+ \S+ of 10 GiB) \| http:\/\/127\.0\.0\.1:\d+/);
    await screenshot(page, 'cluster-nodes');
  } finally {
    await browser.close();
    await server?.kill();
    await nats.stop();
    tmp.dispose();
  }
});
