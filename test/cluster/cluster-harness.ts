import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../src/cli/api-client.js';
import { isWarrenError } from '../../src/errors.js';
import { startNatsCluster, type NatsClusterHandle } from '../support/nats-server.js';
import { repoRoot } from '../support/temp-dir.js';

/**
 * A Warren cluster for tests: a 3-server NATS cluster and Warren nodes as child processes
 * (`warren serve --nats ...`), so any of them can be SIGKILLed. Each node's log is
 * `<dir>/<id>.log`; `logs()` gathers them for assertion messages.
 */
export interface ProcessNode {
  id: string;
  url: string;
  dataDir: string;
  adminToken: string;
  client: ApiClient;
  pid: number;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestCluster {
  nats: NatsClusterHandle;
  nodes: Map<string, ProcessNode>;
  logs(): string;
  stopAll(): Promise<void>;
}

export interface ClusterTimes {
  heartbeat: string;
  deadAfter: string;
}

/**
 * Time is not what these waits test: they are deadlines against hanging, generous enough for a
 * shared machine running at half speed. A node's start (process, NATS connect, JetStream buckets),
 * and a wait for the cluster to settle (leader elections, failover).
 */
const START_MS = 5 * 60_000;
const WAIT_MS = 5 * 60_000;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export async function startTestCluster(dir: string, ids: string[], times: ClusterTimes): Promise<TestCluster> {
  const nats = await startNatsCluster(3, join(dir, 'nats'));
  const nodes = new Map<string, ProcessNode>();
  const logFiles: string[] = [];
  const cluster: TestCluster = {
    nats,
    nodes,
    logs: () => logFiles.map((f) => `--- ${f}\n${existsSync(f) ? readFileSync(f, 'utf8').slice(-4000) : ''}`).join('\n'),
    async stopAll() {
      await Promise.all([...nodes.values()].map((n) => n.kill()));
      await nats.stopAll();
    },
  };
  const started = await Promise.allSettled(ids.map((id) => startProcessNode(dir, id, nats.urls, times, logFiles)));
  for (const s of started) if (s.status === 'fulfilled') nodes.set(s.value.id, s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await cluster.stopAll();
    throw failed.reason;
  }
  return cluster;
}

async function startProcessNode(dir: string, id: string, natsUrls: string[], times: ClusterTimes, logFiles: string[]): Promise<ProcessNode> {
  const dataDir = join(dir, `node-${id}`);
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dir, `${id}.log`);
  logFiles.push(logFile);
  const logFd = openSync(logFile, 'a');
  const args = [join(repoRoot, 'bin', 'warren.js'), '--data', dataDir, 'serve', '--nats', natsUrls.join(','), '--node-id', id, '--port', '0'];
  args.push('--heartbeat', times.heartbeat, '--dead-after', times.deadAfter, '--gc-interval', '0');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', logFd], env: { ...process.env, WARREN_LOG: process.env.WARREN_LOG ?? 'warn' } });
  closeSync(logFd);
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  let out = '';
  const startup = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${id} did not start in ${START_MS / 1000} s:\n${out}\n${readFileSync(logFile, 'utf8')}`)), START_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /warren listening on (\S+)/.exec(out);
      if (m && /admin token written|listening/.test(out)) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`node ${id} exited (${code ?? signal}) before listening:\n${out}\n${readFileSync(logFile, 'utf8')}`));
    });
  });
  const url = await startup.catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });
  // The admin token file is written right after the listening line.
  const tokenFile = join(dataDir, 'admin.token');
  const deadline = Date.now() + START_MS;
  while (!existsSync(tokenFile) || readFileSync(tokenFile, 'utf8').trim() === '') {
    if (Date.now() > deadline) throw new Error(`node ${id} wrote no admin token`);
    await sleep(50);
  }
  const adminToken = readFileSync(tokenFile, 'utf8').trim();
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { id, url, dataDir, adminToken, client: new ApiClient({ server: url, token: adminToken }), pid: child.pid!, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** Retries `op` while it fails with E_UNAVAILABLE (JetStream electing leaders after a kill), up to `ms`. */
export async function whileUnavailable<T>(op: () => Promise<T>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!isWarrenError(err, 'E_UNAVAILABLE') || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

/** Polls `check` until it returns a value (not undefined), up to `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}
