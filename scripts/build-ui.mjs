#!/usr/bin/env node
// Builds the web console (ui/) into dist/ui: type-check with tsc, bundle with Vite.
// A checkout whose node_modules predates the console gets told what to run, not a tsc error
// about missing modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const missing = ['vite', 'preact', 'uplot'].filter((p) => !existsSync(join(root, 'node_modules', p, 'package.json')));
if (missing.length > 0) {
  console.error(`build-ui: ${missing.join(', ')} not installed: run \`npm install\` (the web console needs them)`);
  process.exit(1);
}
for (const [cmd, args] of [
  ['tsc', ['-p', 'ui']],
  ['vite', ['build', '--config', 'ui/vite.config.mjs']],
]) {
  const r = spawnSync(join(root, 'node_modules', '.bin', cmd), args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
