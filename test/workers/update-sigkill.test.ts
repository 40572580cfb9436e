import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import { UPDATE_STEPS } from '../../src/fsplace/apply-update.js';
import { readRootTag } from '../../src/fsplace/recover-root.js';
import type { WorkerRecord } from '../../src/records.js';
import { startTestServer, type TestServer } from '../support/start-server.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { call, createWorker, failure, fileText, hostFileOf, listFiles } from './worker-fixtures.js';

const work = makeTempDir('warren-update-sigkill-');
const dataDir = join(work.path, 'data');
const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'update-kill-child.js');
let server: TestServer | null = null;
after(async () => {
  await server?.close();
  work.dispose();
});

const GREETING: Record<string, string> = { '1.0.0': 'hello from one\n', '1.0.1': 'hello from one point one, a longer greeting\n' };

/** The counter example at `version`: its read-only /static differs between the two versions. */
function counterDir(version: string): string {
  const dir = join(work.path, 'counter', version);
  cpSync(join(repoRoot, 'examples/counter'), dir, { recursive: true });
  writeFileSync(join(dir, 'static/greeting.txt'), GREETING[version]!);
  writeFileSync(join(dir, `static/only-${version}.txt`), version);
  const manifest = readFileSync(join(dir, 'warren.toml'), 'utf8')
    .replace('namespace = "sh.warren"', 'namespace = "sh.upd"')
    .replace('version = "1.0.0"', `version = "${version}"`)
    .replace(/^timeout = ".*"$/m, 'timeout = "10m"');
  writeFileSync(join(dir, 'warren.toml'), manifest);
  return dir;
}

/** Runs the child: it updates `id` to 1.0.1 and dies by SIGKILL right after `step` (or finishes). */
function runChild(id: string, step: string | null): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const child = spawn(process.execPath, [CHILD, dataDir, id, '1.0.1', ...(step ? [step] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, out })));
}

/** Steps before the marker leave the old version; from the marker on, the new one. */
const STEPS: { step: string | null; version: string }[] = [
  { step: 'tree-placed', version: '1.0.0' },
  ...UPDATE_STEPS.map((step) => ({ step, version: step === 'carried' || step === 'built' ? '1.0.0' : '1.0.1' })),
  { step: 'files-applied', version: '1.0.1' },
  { step: null, version: '1.0.1' },
];

test('a SIGKILL of the node at any step of an update leaves the worker on exactly the old or the new version, with that version\'s read-only layer and its own files', async () => {
  server = await startTestServer({ dataDir });
  await pushComponentDir(server.client, counterDir('1.0.0'));
  await pushComponentDir(server.client, counterDir('1.0.1'));
  const workers: WorkerRecord[] = [];
  for (const [i] of STEPS.entries()) {
    const w = await createWorker(server.client, 'sh.upd.counter', `w${i}`, { version: '1.0.0' });
    // What a guest writes lands in its own layer (no instance runs here: a live one would be paused at close).
    writeFileSync(join(dataDir, 'workers', w.id, 'root', 'state', 'count.txt'), '1\n');
    writeFileSync(join(dataDir, 'workers', w.id, 'root', 'mine.txt'), 'mine');
    workers.push(w);
  }
  await server.close();
  server = null;

  for (const [i, { step }] of STEPS.entries()) {
    const r = await runChild(workers[i]!.id, step);
    if (step === null) assert.equal(r.code, 0, r.out);
    else assert.equal(r.signal, 'SIGKILL', `child for ${step}: ${r.out}`);
  }

  // Restart: recovery runs before anything serves.
  server = await startTestServer({ dataDir });
  const c = server.client;
  for (const [i, { step, version }] of STEPS.entries()) {
    const id = workers[i]!.id;
    const at = `after a SIGKILL after ${step ?? 'nothing'}`;
    const record = await c.json<WorkerRecord>('GET', `/v1/workers/${id}`);
    assert.equal(record.version, version, at);
    const root = join(dataDir, 'workers', id, 'root');
    assert.equal((await readRootTag(root))?.version, version, `${at}: the root's tag names the record's version`);
    assert.deepEqual(readdirSync(join(dataDir, 'workers', id)).filter((n) => n.startsWith('root')).sort(), ['root', 'root.tag'], `${at}: nothing of the update left beside the root`);
    // The read-only layer is that version's, whole: its greeting and its own extra file, no other's.
    assert.equal(await fileText(c, id, '/static/greeting.txt'), GREETING[version], at);
    assert.equal(await fileText(c, id, `/static/only-${version}.txt`), version, at);
    const other = version === '1.0.0' ? '1.0.1' : '1.0.0';
    assert.equal((await failure(fileText(c, id, `/static/only-${other}.txt`))).code, 'E_NOT_FOUND', at);
    const greeting = await hostFileOf(server.node.ctx, id, '/static/greeting.txt');
    assert.ok(greeting.inLower, `${at}: read-only files come from the version's shared tree`);
    assert.equal(existsSync(join(root, 'static', 'greeting.txt')), false, `${at}: no read-only file in the worker's own layer`);
    const listed = new Map((await listFiles(c, id, '/', true)).map((n) => [n.path, n.permissions]));
    assert.equal(listed.get('/static/greeting.txt'), 'read-only', at);
    // The worker's own file (rw→rw) is kept either way.
    assert.equal(await fileText(c, id, '/state/count.txt'), '1\n', at);
    assert.equal(await fileText(c, id, '/mine.txt'), 'mine', at);
    assert.equal(listed.get('/mine.txt'), 'read-write', at);
    // The guest sees the same layer.
    assert.equal(await call(c, id, 'greeting_length'), GREETING[version]!.length, at);
  }
});
