#!/usr/bin/env node
// Builds the native addons native/warren_fs.c -> native/build/Release/warren_fs.node and
// native/deadline.cc -> warren_deadline.node (runWithDeadline, for inline jobs) with
// node-gyp (which ships with npm), against the headers of the running Node when they are
// installed next to it, so no download is needed. Runs from `npm ci` ("install") and from
// `npm run setup`; an output newer than its sources is kept.
//
// A failed build is a warning, not an error: every caller has a pure-JS fallback
// (src/native/native-fs.ts), only slower. CI asserts the addon loaded (test/native).
// WARREN_NO_NATIVE=1 skips the build; WARREN_REQUIRE_NATIVE=1 makes a failure fatal.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native');
const outs = ['warren_fs.node', 'warren_deadline.node'].map((f) => join(dir, 'build', 'Release', f));
const sources = ['warren_fs.c', 'deadline.cc', 'binding.gyp'].map((f) => join(dir, f));

function skip(why) {
  console.error(`native: ${why}`);
  process.exit(0);
}

function fail(why) {
  console.error(`native: addon not built (${why}); Warren uses its pure-JS fs paths, which are slower`);
  process.exit(process.env.WARREN_REQUIRE_NATIVE === '1' ? 1 : 0);
}

if (process.env.WARREN_NO_NATIVE === '1') skip('WARREN_NO_NATIVE=1, not built');
if (process.platform !== 'linux') skip(`no addon for ${process.platform}, the pure-JS paths are used`);
const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
if (outs.every((out) => existsSync(out) && statSync(out).mtimeMs >= newest)) skip('addons up to date');

// npm puts node-gyp in the environment of its scripts; outside npm, use the one npm ships.
const npmGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp ?? (existsSync(npmGyp) ? npmGyp : null);
const args = ['rebuild', '--directory', dir];
// Build against the running Node's own headers when they are there (offline, exact ABI).
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  : spawnSync('node-gyp', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.error) fail(`cannot run node-gyp: ${r.error.message}`);
if (r.status !== 0) {
  process.stderr.write(r.stderr.split('\n').filter((l) => !l.startsWith('gyp info')).join('\n'));
  fail(`node-gyp exited ${r.status}`);
}
console.error('native: addon built');
