#!/usr/bin/env node
// Runs the compiled test files (*.test.js) under dist/test, or under the folders given
// (`node scripts/run-tests.mjs hostile wasi`). Node 20's `--test DIR` would also run every
// support module under a folder named test, and it has no glob support: hence this list.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist', 'test');
const only = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
const chosen = only.length ? files.filter((f) => only.some((o) => f.startsWith(join(root, o) + '/') || f === join(root, o))) : files;
if (chosen.length === 0) {
  console.error(`no test files under ${root} for ${only.join(' ') || 'all'}`);
  process.exit(1);
}
const concurrency = process.env.WARREN_TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...chosen], { stdio: 'inherit' });
process.exit(r.status ?? 1);
