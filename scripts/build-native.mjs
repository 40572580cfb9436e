#!/usr/bin/env node
// Builds the native addons native/warren_fs.c -> native/build/Release/warren_fs.node and
// native/deadline.cc -> warren_deadline.node (runWithDeadline: the deadline job lanes, inline
// jobs and live-worker calls run under) with node-gyp (which ships with npm), against the
// headers of the running Node when they are installed next to it, so no download is needed.
// Runs from `npm ci` ("install") and from `npm run setup`. Outputs are kept when they are newer
// than their sources and were built for the running Node's ABI (process.versions.modules,
// written beside them): the deadline addon uses V8's own API, so a Node upgrade needs a rebuild.
//
// A failed build is reported here, and Warren refuses to start without the addons unless
// WARREN_NO_NATIVE=1 (src/native/native-fs.ts, src/runtime/deadline.ts); the tests require
// them (test/native, test/runtime). WARREN_NO_NATIVE=1 skips the build;
// WARREN_REQUIRE_NATIVE=1 makes a failed build fail the install too. `--dry-run` only says
// whether a build is needed (WARREN_NATIVE_DIR points it at another copy of native/: tests).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.env.WARREN_NATIVE_DIR ?? join(root, 'native');
const dryRun = process.argv.includes('--dry-run');
const outs = ['warren_fs.node', 'warren_deadline.node'].map((f) => join(dir, 'build', 'Release', f));
const sources = ['warren_fs.c', 'deadline.cc', 'binding.gyp'].map((f) => join(dir, f));
const abiFile = join(dir, 'build', 'Release', 'node-abi.json');
const abi = { modules: process.versions.modules, node: process.version };

function skip(why) {
  console.error(`native: ${why}`);
  process.exit(0);
}

function fail(why) {
  console.error(`native: addons not built (${why}); Warren will not start without them unless WARREN_NO_NATIVE=1 (then it uses pure-JS paths, which are slower)`);
  process.exit(process.env.WARREN_REQUIRE_NATIVE === '1' ? 1 : 0);
}

if (process.env.WARREN_NO_NATIVE === '1') skip('WARREN_NO_NATIVE=1, not built');
if (process.platform !== 'linux') skip(`no addon for ${process.platform}, the pure-JS paths are used`);
const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
const builtFor = existsSync(abiFile) ? JSON.parse(readFileSync(abiFile, 'utf8')).modules : null;
if (builtFor === abi.modules && outs.every((out) => existsSync(out) && statSync(out).mtimeMs >= newest)) skip('addons up to date');
if (dryRun) skip(builtFor === abi.modules ? 'rebuild needed: a source is newer than a build' : `rebuild needed: built for ABI ${builtFor ?? 'unknown'}, this Node is ABI ${abi.modules}`);

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
writeFileSync(abiFile, `${JSON.stringify(abi)}\n`);
console.error(`native: addons built for Node ${abi.node} (ABI ${abi.modules})`);
