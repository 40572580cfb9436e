import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';

/**
 * Issue 21 point 8: every command of README.md from "A five-minute tour" to the end runs as
 * written, in order, on a fresh data dir. The commands are read out of README.md itself (its
 * ```sh blocks), so the two cannot drift; the one change made to them is port 7070 → a free
 * port (other tests run beside this one), with WARREN_SERVER pointing the CLI at it.
 */
export function tourScript(readme: string): string {
  const start = readme.indexOf('\n## A five-minute tour\n');
  assert.ok(start >= 0, 'README.md has a five-minute tour');
  const blocks = [...readme.slice(start).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.ok(blocks.length >= 4, `${blocks.length} sh blocks`);
  return blocks.join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

test('the README tour runs as written, in order, on a fresh data dir', { timeout: 300_000 }, async () => {
  const tour = tourScript(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
  assert.match(tour, /--port 7070/);
  const port = await freePort();
  const tmp = makeTempDir('warren-readme-');
  const home = join(tmp.path, 'home');
  mkdirSync(join(tmp.path, 'tmp'));
  const script = [
    'set -euo pipefail',
    'shopt -s expand_aliases',
    // The tour leaves its server running in the background: stop it however the script ends.
    "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT",
    'set -x',
    tour.replaceAll('7070', String(port)),
  ].join('\n');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, TMPDIR: join(tmp.path, 'tmp'), WARREN_SERVER: `http://127.0.0.1:${port}`, WARREN_LOG: 'warn' };
  mkdirSync(home);
  // Its own process group: a tour that hangs (a server that never came up) is stopped whole.
  const child = spawn('bash', ['-c', script], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stopGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const watchdog = setTimeout(stopGroup, 240_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(watchdog);
  try {
    const failedAt = stderr.split('\n').filter((l) => l.startsWith('+ ')).at(-1);
    assert.equal(code, 0, `the tour stopped at ${failedAt}\n--- stderr (end)\n${stderr.slice(-3000)}\n--- stdout (end)\n${stdout.slice(-2000)}`);
    // What the README says the commands print.
    assert.match(stdout, /^SHOUT SHOUT$/m);
    assert.match(stdout, /^Ahoy, Ada!$/m);
    assert.match(stdout, /^HI$/m, 'stdin → stdout of a command worker');
    assert.match(stdout, /^content hello$/m);
    assert.match(stderr, /refused a write to \/in\/hello\.txt/);
    assert.match(stdout, /^updated sh\.warren\/c1 from 1\.0\.0 to 1\.1\.0$/m);
    assert.doesNotMatch(stdout, /^0\.1\.0$/m, 'no command printed the CLI version instead of running');
    // Snapshots: 1, 2, then 3 after the pause; the fork goes on from the commit (4); the keyed call runs once.
    const increments = stdout.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    assert.deepEqual(increments.slice(-6), [1, 2, 3, 4, 4, 4], stdout);
  } finally {
    stopGroup();
    tmp.dispose();
  }
});
