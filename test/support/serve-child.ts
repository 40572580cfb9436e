import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../../src/cli/api-client.js';

/** The `warren` command of the same compiled tree as this file (bin/warren.js loads dist/). */
const CLI_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'warren-cli-entry.js');

export interface ServeChildOptions {
  /** Extra `warren serve` arguments. */
  args?: string[];
  /** `ulimit -n` of the server process (soft and hard): it runs under `bash -c 'ulimit -n N; exec node ...'`. */
  openFiles?: number;
}

/**
 * `warren serve --port 0 --data DIR` as a child process, optionally under a low open-file limit.
 * Its stderr is kept (`stderr`), so a test can show why it died.
 */
export class ServeChild {
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly token: string,
    private readonly log: { stderr: string },
  ) {}

  /** What the server wrote to stderr so far. */
  get stderr(): string {
    return this.log.stderr;
  }

  get client(): ApiClient {
    return new ApiClient({ server: this.url, token: this.token });
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  static async start(dataDir: string, opts: ServeChildOptions = {}): Promise<ServeChild> {
    const argv = [CLI_ENTRY, 'serve', '--port', '0', '--data', dataDir, ...(opts.args ?? [])];
    const env = { ...process.env, WARREN_LOG: 'warn' };
    const proc = opts.openFiles === undefined
      ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn('bash', ['-c', `ulimit -n ${opts.openFiles} && exec "$0" "$@"`, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const log = { stderr: '' };
    proc.stderr!.on('data', (c: Buffer) => (log.stderr += c.toString()));
    const url = await listeningUrl(proc, () => log.stderr);
    return new ServeChild(proc, url, readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(), log);
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGKILL');
    await gone;
  }
}

/**
 * The URL a `warren serve` child prints once it listens (its stdout keeps being read, so a chatty
 * server never blocks on a full pipe). Rejects if it exits first, naming what it wrote.
 */
export function listeningUrl(proc: ChildProcess, stderr: () => string): Promise<string> {
  let out = '';
  return new Promise<string>((resolve, reject) => {
    // Only keeps a server that never listens from hanging the suite: far past a loaded machine's start.
    const timer = setTimeout(() => reject(new Error(`server did not start within 5 min:\n${out}\n${stderr()}`)), 5 * 60_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /warren listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${out}\n${stderr()}`));
    });
  });
}
