import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAll, type ApiClient } from '../../src/cli/api-client.js';
import { pushComponentDir } from '../../src/cli/push-component-dir.js';
import { isWarrenError } from '../../src/errors.js';
import type { ComponentVersionRecord, FileTree, WorkerRecord } from '../../src/records.js';
import { makeTempDir, repoRoot } from '../support/temp-dir.js';
import { ChildServer, prng, runningServers } from './child-server.js';
import { LONG, SEED, bump, summary } from './hostile-config.js';

const counts = summary('crash-faults');
const ROUNDS = LONG ? 50 : 10;
const work = makeTempDir('warren-hostile-crash-');
const random = prng(SEED);
let live: ChildServer | null = null;
after(async () => {
  await Promise.all([...runningServers].map((s) => s.kill()));
  work.dispose();
});

/** A random moment: mostly early (where the interesting half-done states are), up to 600 ms. */
function killDelayMs(): number {
  const r = random();
  return Math.floor(r * r * 600) + 5;
}

/**
 * One fault: `workload` runs against the server until its requests start failing; at a random
 * moment the server gets SIGKILL; then it is started again on the same data dir and
 * `warren admin verify` must report a clean store. Returns the restarted server.
 */
async function faultRound(server: ChildServer, workload: (client: ApiClient) => Promise<void>): Promise<ChildServer> {
  const running = workload(server.client).catch(() => undefined);
  await sleep(killDelayMs());
  await server.kill();
  bump(counts, 'faults injected');
  await running;
  live = await ChildServer.start(server.dataDir);
  const verify = await live.verify();
  assert.equal(verify.code, 0, `warren admin verify after a SIGKILL: ${verify.stdout}`);
  assert.match(verify.stdout, /0 missing, 0 corrupt/);
  return live;
}

/** True when the error says the server went away (the request is then unacknowledged). */
function connectionLost(err: unknown): boolean {
  if (isWarrenError(err)) return err.code === 'E_UNAVAILABLE' || (err.code === 'E_INTERNAL' && !err.details.status);
  return true;
}

// ---------------------------------------------------------------- push

function fileContent(version: string, i: number): string {
  return `${version}:${i}:`.repeat(4000);
}

/** A component dir for version `v`: the counter module and eight files whose bytes name the version. */
function pushDir(v: string): string {
  const dir = join(work.path, 'push', v);
  mkdirSync(join(dir, 'files'), { recursive: true });
  mkdirSync(join(dir, 'build'), { recursive: true });
  cpSync(join(repoRoot, 'examples/counter/build/counter.reactor.wasm'), join(dir, 'build/main.wasm'));
  for (let i = 0; i < 8; i++) writeFileSync(join(dir, 'files', `f${i}.txt`), fileContent(v, i));
  writeFileSync(join(dir, 'warren.toml'), `name = "push"\nnamespace = "sh.crash"\nversion = "${v}"\nbinary = "build/main.wasm"\n\n[[files]]\nsource = "./files"\ntarget = "/files"\n`);
  return dir;
}

async function blob(client: ApiClient, integrity: string): Promise<Buffer> {
  return readAll((await client.raw('GET', `/v1/blobs/${encodeURIComponent(integrity)}`)).body);
}

/** A version is whole when its record, module and every file of its tree read back as pushed. */
async function assertWholeVersion(client: ApiClient, record: ComponentVersionRecord): Promise<void> {
  const module = await readAll((await client.raw('GET', `/v1/components/sh.crash.push/versions/${record.version}/module`)).body);
  assert.deepEqual(module, readFileSync(join(repoRoot, 'examples/counter/build/counter.reactor.wasm')));
  assert.ok(record.fileTree, `version ${record.version} has no file tree`);
  const tree = JSON.parse((await blob(client, record.fileTree)).toString('utf8')) as FileTree;
  assert.equal(tree.entries.length, 8, `version ${record.version}: a partial tree`);
  for (const e of tree.entries) {
    const i = Number(/f(\d)\.txt$/.exec(e.path)?.[1]);
    assert.equal((await blob(client, e.digest)).toString('utf8'), fileContent(record.version, i), `${record.version} ${e.path}`);
  }
}

test(`SIGKILL during push (${ROUNDS} rounds): every acknowledged version is whole, no half-made version is listed, verify is clean`, async () => {
  let server = await ChildServer.start(join(work.path, 'data-push'));
  live = server;
  const acked = new Set<string>();
  let next = 0;
  for (let round = 0; round < ROUNDS; round++) {
    server = await faultRound(server, async (client) => {
      // Two pushers at once, each pushing new versions until the server dies under them.
      await Promise.all(
        [0, 1].map(async () => {
          for (;;) {
            const v = `1.0.${next++}`;
            try {
              const res = await pushComponentDir(client, pushDir(v));
              if (res.created) acked.add(v);
            } catch (err) {
              if (connectionLost(err)) return;
              throw err;
            }
          }
        }),
      );
    });
    const { versions } = await server.client.json<{ versions: ComponentVersionRecord[] }>('GET', '/v1/components/sh.crash.push').catch((e) => {
      if (isWarrenError(e, 'E_NOT_FOUND')) return { versions: [] };
      throw e;
    });
    const listed = new Set(versions.map((r) => r.version));
    for (const v of acked) assert.ok(listed.has(v), `acknowledged version ${v} is gone after the restart`);
    for (const r of versions) await assertWholeVersion(server.client, r);
    bump(counts, 'push: versions checked', versions.length);
  }
  bump(counts, 'push: acknowledged', acked.size);
  await server.kill();
});

// ---------------------------------------------------------------- workers

function counterDir(version: string, greeting: string): string {
  const dir = join(work.path, 'counter', version);
  cpSync(join(repoRoot, 'examples/counter'), dir, { recursive: true });
  writeFileSync(join(dir, 'static/greeting.txt'), greeting);
  // A generous call timeout (the example's is 5 s): an E_TIMEOUT is not a lost connection, and
  // would fail a round on a loaded machine although nothing is wrong.
  const manifest = readFileSync(join(dir, 'warren.toml'), 'utf8')
    .replace('namespace = "sh.warren"', 'namespace = "sh.crash"')
    .replace('version = "1.0.0"', `version = "${version}"`)
    .replace(/^timeout = ".*"$/m, 'timeout = "10m"');
  writeFileSync(join(dir, 'warren.toml'), manifest);
  return dir;
}
const GREETING: Record<string, string> = { '1.0.0': 'hello from one\n', '1.0.1': 'hello from one point one\n' };

async function fileText(client: ApiClient, id: string, path: string): Promise<string> {
  const res = await client.raw('GET', `/v1/workers/${id}/file-contents?${new URLSearchParams({ path })}`);
  return (await readAll(res.body)).toString('utf8');
}

async function listAll(client: ApiClient): Promise<WorkerRecord[]> {
  const out: WorkerRecord[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ count: '100', ...(cursor ? { cursor } : {}) });
    const page: { workers: WorkerRecord[]; cursor: string | null } = await client.json('GET', `/v1/workers?${q}`);
    out.push(...page.workers);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

/** A listed worker is whole: its files match its version, and it can be called. */
async function assertWholeWorker(client: ApiClient, w: WorkerRecord): Promise<void> {
  assert.ok(GREETING[w.version], `worker ${w.name} at unknown version ${w.version}`);
  assert.equal(await fileText(client, w.id, '/static/greeting.txt'), GREETING[w.version], `worker ${w.name}: files of another version`);
  const res = await client.json<{ returns: number[] }>('POST', `/v1/workers/${w.id}/invoke`, { export: 'greeting_length' });
  assert.equal(res.returns[0], GREETING[w.version]!.length);
  bump(counts, 'workers: checked');
}

let workerData: string;

test(`SIGKILL during worker creation (${ROUNDS} rounds): every acknowledged worker is whole; a crashed create leaves no visible worker`, async () => {
  workerData = join(work.path, 'data-workers');
  let server = await ChildServer.start(workerData);
  live = server;
  await pushComponentDir(server.client, counterDir('1.0.0', GREETING['1.0.0']!));
  await pushComponentDir(server.client, counterDir('1.0.1', GREETING['1.0.1']!));
  const acked = new Map<string, string>();
  const tried = new Set<string>();
  const checked = new Set<string>();
  const held = new Set<string>();
  let next = 0;
  for (let round = 0; round < ROUNDS; round++) {
    server = await faultRound(server, async (client) => {
      await Promise.all(
        [0, 1].map(async () => {
          for (;;) {
            const name = `w-${next++}`;
            tried.add(name);
            try {
              const w = await client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.crash.counter', version: '1.0.0', name });
              acked.set(name, w.id);
            } catch (err) {
              if (connectionLost(err)) return;
              throw err;
            }
          }
        }),
      );
    });
    const workers = await listAll(server.client);
    const byName = new Map(workers.map((w) => [w.name, w]));
    for (const [name, id] of acked) assert.equal(byName.get(name)?.id, id, `acknowledged worker ${name} is gone after the restart`);
    for (const w of workers) {
      assert.ok(tried.has(w.name), `a worker nobody created: ${w.name}`);
      assert.ok(['idle', 'failed'].includes(w.status), `worker ${w.name} left ${w.status}`);
      // Workers made before earlier faults were checked whole then; their records still are.
      if (checked.has(w.id)) continue;
      await assertWholeWorker(server.client, w);
      checked.add(w.id);
    }
    // A name whose create was cut off: either a whole worker, or refused as taken (a leftover
    // name index entry waits for the recovery grace period), never a worker without files.
    for (const name of tried) {
      if (byName.has(name) || held.has(name)) continue;
      const again = await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.crash.counter', version: '1.0.0', name }).catch((e) => e);
      if (isWarrenError(again)) {
        assert.equal(again.code, 'E_ALREADY_EXISTS', again.message);
        held.add(name);
        bump(counts, 'workers: names held by a crashed create');
      } else {
        acked.set(name, (again as WorkerRecord).id);
        await assertWholeWorker(server.client, again as WorkerRecord);
      }
    }
    const dirs = existsSync(join(workerData, 'workers')) ? readdirSync(join(workerData, 'workers')) : [];
    bump(counts, 'workers: orphan dirs seen', dirs.filter((d) => d.startsWith('w_') && !workers.some((w) => w.id === d)).length);
  }
  bump(counts, 'workers: acknowledged creates', acked.size);
  await server.kill();
});

/**
 * Found by this test: updateWorker applied the files first and wrote the record after, with
 * nothing in between saying an update was under way, so a SIGKILL there left a worker recorded
 * at 1.0.0 holding 1.0.1's files. Fixed by the workers owner in b3fa10a (a root tag commits
 * with the update marker; recovery aligns the record with it).
 */
test(`SIGKILL during update (${ROUNDS} rounds): each worker is at one version with that version's files; acknowledged updates stay`, async () => {
  let server = await ChildServer.start(workerData);
  live = server;
  const ackedAt = new Map<string, string>();
  for (let round = 0; round < ROUNDS; round++) {
    // Fresh workers at 1.0.0 for each round (acknowledged before the fault window opens).
    const fresh: WorkerRecord[] = [];
    for (let i = 0; i < 6; i++) fresh.push(await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.crash.counter', version: '1.0.0', name: `u${round}-${i}` }));
    for (const w of fresh) ackedAt.set(w.id, '1.0.0');
    server = await faultRound(server, async (client) => {
      await Promise.all(
        [fresh.slice(0, 3), fresh.slice(3)].map(async (ws) => {
          for (const w of ws) {
            try {
              await client.json('POST', `/v1/workers/${w.id}/update`, { version: '1.0.1' });
              ackedAt.set(w.id, '1.0.1');
            } catch (err) {
              if (connectionLost(err)) return;
              throw err;
            }
          }
        }),
      );
    });
    const thisRound = new Set(fresh.map((w) => w.id));
    for (const [id, version] of ackedAt) {
      const w = await server.client.json<WorkerRecord>('GET', `/v1/workers/${id}`);
      if (version === '1.0.1') assert.equal(w.version, '1.0.1', `acknowledged update of ${w.name} lost`);
      // Files and a call for this round's workers; earlier rounds' were checked whole already.
      if (!thisRound.has(id)) continue;
      await assertWholeWorker(server.client, w);
      bump(counts, 'updates: workers checked');
    }
  }
  await server.kill();
});

// ---------------------------------------------------------------- commit

test(`SIGKILL during commit (${ROUNDS} rounds): acknowledged commits stay; memory and files resume from one snapshot`, async () => {
  let server = await ChildServer.start(join(work.path, 'data-commit'));
  live = server;
  const dir = counterDir('1.0.0', GREETING['1.0.0']!);
  const manifest = readFileSync(join(dir, 'warren.toml'), 'utf8').replace('name = "counter"', 'name = "committer"');
  writeFileSync(join(dir, 'warren.toml'), `${manifest}\n[snapshots]\non_pause = "full"\non_commit = "full"\n`);
  await pushComponentDir(server.client, dir);
  const workers: WorkerRecord[] = [];
  for (let i = 0; i < 4; i++) workers.push(await server.client.json<WorkerRecord>('POST', '/v1/workers', { component: 'sh.crash.committer', name: `c-${i}` }));
  /** worker id → the last acknowledged commit: its snapshot id and the counter it holds. */
  const acked = new Map<string, { snapshot: string; value: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    server = await faultRound(server, async (client) => {
      await Promise.all(
        workers.map(async (w) => {
          for (;;) {
            try {
              const value = (await client.json<{ returns: number[] }>('POST', `/v1/workers/${w.id}/invoke`, { export: 'increment' })).returns[0]!;
              const res = await client.json<{ snapshot: { id: string } }>('POST', `/v1/workers/${w.id}/commit`);
              acked.set(w.id, { snapshot: res.snapshot.id, value });
              bump(counts, 'commit: acknowledged');
            } catch (err) {
              if (connectionLost(err)) return;
              throw err;
            }
          }
        }),
      );
    });
    for (const w of workers) {
      const a = acked.get(w.id);
      const snaps = await server.client.json<{ snapshots: { id: string }[]; lastCommit: string | null }>('GET', `/v1/workers/${w.id}/snapshots`);
      if (a) assert.ok(snaps.snapshots.some((s) => s.id === a.snapshot), `acknowledged commit ${a.snapshot} of ${w.name} is gone`);
      const value = (await server.client.json<{ returns: number[] }>('POST', `/v1/workers/${w.id}/invoke`, { export: 'get' })).returns[0]!;
      if (a) assert.ok(value >= a.value, `${w.name} resumed at ${value}, before its acknowledged commit at ${a.value}`);
      // Memory and the state file come from one snapshot: the file's last line is the counter.
      const lines = (await fileText(server.client, w.id, '/state/count.txt')).trim().split('\n');
      assert.equal(Number(lines.at(-1)), value, `${w.name}: memory says ${value}, its file says ${lines.at(-1)}`);
      bump(counts, 'commit: workers checked');
    }
  }
  await server.kill();
});
