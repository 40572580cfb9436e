import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWarrenError } from '../../src/errors.js';
import { LOCK_FILE } from '../../src/services/data-dir-lock.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { ServeChild } from '../support/serve-child.js';
import { makeTempDir } from '../support/temp-dir.js';

/** The `warren` command of this compiled tree (bin/warren.js loads dist/). */
const CLI_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'warren-cli-entry.js');
const started: ServeChild[] = [];
const work = makeTempDir('warren-shared-dir-');
after(async () => {
  await Promise.all(started.map((s) => s.kill()));
  work.dispose();
});

/** Runs `warren ARGS` to its end: exit code and stderr. */
function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, [CLI_ENTRY, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARREN_LOG: 'warn' } });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stderr })));
}

const holderPid = (dir: string): number => (JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid;

test('a second `warren serve` and a `--local` command on a served data dir fail with E_DATA_DIR_LOCKED naming the pid; after SIGKILL of the holder a new server starts', async () => {
  const dir = join(work.path, 'data');
  const first = await ServeChild.start(dir);
  started.push(first);
  assert.equal(holderPid(dir), first.proc.pid);

  const second = await runCli(['serve', '--port', '0', '--data', dir]);
  assert.notEqual(second.code, 0, 'the second server must not start');
  assert.match(second.stderr, /E_DATA_DIR_LOCKED/);
  assert.match(second.stderr, new RegExp(`process ${first.proc.pid}\\b`));

  const local = await runCli(['--local', '--data', dir, 'component', 'ls']);
  assert.notEqual(local.code, 0, 'a --local command must not open the served dir');
  assert.match(local.stderr, /E_DATA_DIR_LOCKED/);
  assert.match(local.stderr, new RegExp(`process ${first.proc.pid}\\b`));

  // The first still serves: the refused ones took nothing from it.
  assert.equal((await first.client.json<{ components: unknown[] }>('GET', '/v1/components')).components.length, 0);

  await first.kill();
  assert.ok(existsSync(join(dir, LOCK_FILE)), 'SIGKILL leaves the lock file behind');
  const next = await ServeChild.start(dir);
  started.push(next);
  assert.equal(holderPid(dir), next.proc.pid, 'the dead holder\'s lock was taken over');
});

test('in one process: a second open of a data dir is refused; close releases it, so open, close, open works', async () => {
  const dir = join(work.path, 'in-process');
  const a = await WarrenNode.open({ dataDir: dir, jobThreads: 1 });
  try {
    await assert.rejects(WarrenNode.open({ dataDir: dir, jobThreads: 1 }), (err) => {
      assert.ok(isWarrenError(err, 'E_DATA_DIR_LOCKED'), String(err));
      assert.equal(err.details.pid, process.pid);
      return true;
    });
  } finally {
    await a.close();
  }
  assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'close removes the lock file');
  const b = await WarrenNode.open({ dataDir: dir, jobThreads: 1 });
  await b.close();
});
