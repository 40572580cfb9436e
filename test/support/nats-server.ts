import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/**
 * Real `nats-server` processes for tests: each on free 127.0.0.1 ports, with a config file and
 * a log file in the given dir (read the log when a test fails), killed when stopped or, at the
 * latest, when the test process exits. Never the system service.
 */

export interface NatsServerHandle {
  url: string;
  port: number;
  pid: number;
  /** Sends the signal (SIGTERM by default) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL: the crash case. */
  kill(): Promise<void>;
  /** The server's log so far, for assertion messages. */
  log(): string;
}

export interface NatsClusterHandle {
  urls: string[];
  servers: NatsServerHandle[];
  stopAll(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

interface ServerConfig {
  dir: string;
  port: number;
  jetstream: boolean;
  serverName?: string;
  cluster?: { name: string; port: number; routes: number[] };
}

function configText(c: ServerConfig): string {
  const lines = [`listen: "127.0.0.1:${c.port}"`];
  if (c.serverName) lines.push(`server_name: "${c.serverName}"`);
  if (c.jetstream) lines.push(`jetstream { store_dir: ${JSON.stringify(join(c.dir, 'js'))} }`);
  if (c.cluster) {
    const routes = c.cluster.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ');
    lines.push(`cluster { name: "${c.cluster.name}", listen: "127.0.0.1:${c.cluster.port}", routes: [${routes}] }`);
  }
  return lines.join('\n') + '\n';
}

async function spawnServer(c: ServerConfig): Promise<NatsServerHandle> {
  installExitHook();
  mkdirSync(c.dir, { recursive: true });
  const confFile = join(c.dir, 'nats.conf');
  const logFile = join(c.dir, 'nats.log');
  writeFileSync(confFile, configText(c));
  const logFd = openSync(logFile, 'a');
  const child = spawn('nats-server', ['-c', confFile], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  // A deadline against a hang, not a measure: a loaded machine can be slow to start a server.
  const deadline = Date.now() + 3 * 60_000;
  for (;;) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nats-server exited (${child.exitCode ?? child.signalCode}) before listening:\n${log()}`);
    }
    if (await canConnect(c.port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not listen on ${c.port}:\n${log()}`);
    }
    await sleep(25);
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${c.port}`,
    port: c.port,
    pid: child.pid!,
    stop,
    kill: () => stop('SIGKILL'),
    log,
  };
}

/** One server on a free loopback port; `storeDir` holds its config, log and JetStream data. */
export async function startNatsServer(opts: { jetstream?: boolean; storeDir: string }): Promise<NatsServerHandle> {
  // A port picked by listen-on-0 can be taken before the server binds it: retry a few times.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await spawnServer({ dir: opts.storeDir, port: await freePort(), jetstream: opts.jetstream ?? true });
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

/**
 * `size` JetStream servers routed to each other on loopback. Resolves once JetStream answers
 * account requests through every server (there is a meta leader and every server knows it).
 */
export async function startNatsCluster(size: number, baseDir: string): Promise<NatsClusterHandle> {
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const servers: NatsServerHandle[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < size; i++) {
      servers.push(
        await spawnServer({
          dir: join(baseDir, `n${i + 1}`),
          port: ports[i]!,
          jetstream: true,
          serverName: `n${i + 1}`,
          cluster: { name: 'warren-test', port: clusterPorts[i]!, routes: clusterPorts.filter((_, j) => j !== i) },
        }),
      );
    }
    for (const s of servers) await waitForJetStream(s.url, 5 * 60_000);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { urls: servers.map((s) => s.url), servers, stopAll };
}

/** Polls JetStream account info through `url` until it answers (meta leader elected). */
export async function waitForJetStream(url: string, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 1000, checkAPI: false });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`JetStream not ready on ${url}: ${String(err)}`);
        await sleep(100);
      }
    }
  } finally {
    await nc.close();
  }
}
