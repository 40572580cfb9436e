import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeFsStatus } from '../../src/native/native-fs.js';

// The suite runs with the addons where they are built; the paths they replace must keep passing
// the same tests, so those run here once more with WARREN_NO_NATIVE=1: the /proc/self/fd
// resolver and per-entry placement (wasi, fsplace), and, without the deadline addon, one job
// per thread with the pool's timer instead of job lanes (jobs, runtime, the job API) and live
// workers without in-thread deadlines (workers).
test('the WASI, placement, job and worker tests pass without the addons too', { skip: nativeFsStatus.loaded ? false : 'this run already has no addon' }, () => {
  const testRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
  const files = ['wasi', 'fsplace', 'jobs', 'runtime', 'workers'].flatMap((d) =>
    readdirSync(join(testRoot, d)).filter((f) => f.endsWith('.test.js')).map((f) => join(testRoot, d, f)));
  files.push(join(testRoot, 'api', 'components-jobs.test.js'));
  const env: NodeJS.ProcessEnv = { ...process.env, WARREN_NO_NATIVE: '1' };
  delete env.NODE_TEST_CONTEXT; // a fresh runner, not a child reporting to ours
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=dot', ...files], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, `without the addon:\n${r.stdout}\n${r.stderr}`);
});
