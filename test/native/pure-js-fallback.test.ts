import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeFsStatus } from '../../src/native/native-fs.js';

// The suite runs with the addon where it is built; the pure-JS paths it replaces (the
// /proc/self/fd resolver, per-entry placement) must keep passing the same WASI and placement
// tests, so they run here once more with WARREN_NO_NATIVE=1.
test('the WASI and placement tests pass without the addon too', { skip: nativeFsStatus.loaded ? false : 'this run already has no addon' }, () => {
  const testRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
  const files = ['wasi', 'fsplace'].flatMap((d) =>
    readdirSync(join(testRoot, d)).filter((f) => f.endsWith('.test.js')).map((f) => join(testRoot, d, f)));
  const env: NodeJS.ProcessEnv = { ...process.env, WARREN_NO_NATIVE: '1' };
  delete env.NODE_TEST_CONTEXT; // a fresh runner, not a child reporting to ours
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=dot', ...files], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, `without the addon:\n${r.stdout}\n${r.stderr}`);
});
