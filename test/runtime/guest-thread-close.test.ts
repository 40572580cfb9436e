import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../support/temp-dir.js';

const guestThread = fileURLToPath(new URL('../../src/runtime/guest-thread.js', import.meta.url));

/**
 * An idle guest thread is unref'd (it must not keep the process alive), so terminating it must
 * ref it again until it has exited: otherwise a caller awaiting terminate() with nothing else on
 * the event loop (a node closing at the end of a test or a CLI command) is left with a promise
 * that never settles, and the process ends in the middle of its close.
 */
test('terminate() settles even when nothing else keeps the event loop alive: of an idle thread, and of one whose ready message comes after', () => {
  const script = `
    const { GuestThread } = await import(${JSON.stringify(guestThread)});
    const idle = new GuestThread();
    await idle.ready;
    await new Promise((r) => setImmediate(r)); // the thread is idle and unref'd now
    await idle.terminate();
    // A thread terminated while its 'ready' message waits in the queue (a node closed as its
    // threads start): that message must not unref the thread on its way out.
    const starting = new GuestThread();
    const until = Date.now() + 3000;
    while (Date.now() < until); // the thread starts and posts 'ready' meanwhile; nothing is read yet
    await starting.terminate();
    process.stdout.write('terminated');
  `;
  // A file, not --eval: a worker thread inherits the process's exec flags.
  const dir = makeTempDir('warren-thread-close-');
  try {
    const file = join(dir.path, 'close.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'terminated', `exit code ${r.status}: the process ended before terminate() settled`);
  } finally {
    dir.dispose();
  }
});
