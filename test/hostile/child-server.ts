import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiClient } from '../../src/cli/api-client.js';
import { listeningUrl } from '../support/serve-child.js';
import { repoRoot } from '../support/temp-dir.js';

const run = promisify(execFile);
const BIN = join(repoRoot, 'bin/warren.js');

/** Every server started and not yet killed: tests kill them all in after(), pass or fail. */
export const runningServers = new Set<ChildServer>();

/** `warren serve --port 0 --data DIR` as a child process, killed with SIGKILL by the fault tests. */
export class ChildServer {
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly token: string,
    readonly dataDir: string,
  ) {}

  get client(): ApiClient {
    return new ApiClient({ server: this.url, token: this.token });
  }

  static async start(dataDir: string, extraArgs: string[] = []): Promise<ChildServer> {
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WARREN_LOG: 'warn' },
    });
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const url = await listeningUrl(proc, () => err);
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const server = new ChildServer(proc, url, token, dataDir);
    runningServers.add(server);
    proc.once('exit', () => runningServers.delete(server));
    return server;
  }

  /** SIGKILL: no shutdown hooks, no flush. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGKILL');
    await gone;
  }

  /** `warren admin verify` as a child process against this server: exit code and its one-line report. */
  async verify(): Promise<{ code: number; stdout: string }> {
    try {
      const { stdout } = await run(process.execPath, [BIN, 'admin', 'verify', '--server', this.url, '--token', this.token]);
      return { code: 0, stdout };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === 'number' ? err.code : 1, stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  }
}

/** A small seeded PRNG (mulberry32): kill moments are random but replayable from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
