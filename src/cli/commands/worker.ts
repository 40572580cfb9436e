import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { parseEnvPairs } from '../../parse-env-pairs.js';
import { WarrenError } from '../../errors.js';
import type { SnapshotRecord, WorkerRecord } from '../../records.js';
import type { SnapshotStats } from '../../services/instances/take-snapshot.js';
import { readAll, type ApiClient } from '../api-client.js';
import { withConnection } from '../connect.js';
import { invokeComponentCall } from '../invoke-component.js';
import { printJson, printTable } from '../output.js';

const collect = (v: string, prev: string[]) => [...prev, v];
/** What every `<worker>` argument takes (resolved by the server). */
const WORKER = 'the worker: its id (w_…), namespace/name, or its name alone (a token of one namespace)';
const workerPath = (id: string, rest = '') => `/v1/workers/${encodeURIComponent(id)}${rest}`;

interface FileNode {
  name: string;
  path: string;
  kind: string;
  size: number;
  permissions: string;
  lastModified: string;
}

export function registerWorkerCommand(program: Command): void {
  const worker = program.command('worker').alias('workers').description('create, call and inspect long-lived workers');

  worker
    .command('create')
    .argument('<component>', 'FQ[@VERSION], e.g. sh.warren.counter or sh.warren.counter@1.0.0 (default: latest)')
    .requiredOption('--name <name>', 'worker name, unique in the namespace ([a-z0-9-], 1-63)')
    .option('--env <K=V>', 'an environment variable (repeatable)', collect, [])
    .option('--arg <value>', 'an argument (repeatable)', collect, [])
    .description('create a worker: its own root with the component files, and durable volumes')
    .addHelpText('after', '\nExamples:\n  warren worker create sh.warren.counter --name c1\n  warren worker create sh.warren.counter@1.0.0 --name eu-1 --env REGION=eu\n')
    .action(async (ref: string, opts: { name: string; env: string[]; arg: string[] }, cmd: Command) => {
      const at = ref.indexOf('@');
      const body = {
        component: at === -1 ? ref : ref.slice(0, at),
        ...(at === -1 ? {} : { version: ref.slice(at + 1) }),
        name: opts.name,
        env: parseEnvPairs(opts.env, '--env'),
        args: opts.arg,
      };
      await withConnection(cmd, async (client, g) => {
        const w = await client.json<WorkerRecord>('POST', '/v1/workers', body);
        if (g.json) printJson(w);
        else process.stdout.write(`created worker ${w.id} (${w.namespace}/${w.name}) of ${w.component}@${w.version}\n`);
      });
    });

  worker
    .command('ls')
    .alias('list')
    .option('--filter <expr>', 'e.g. "status == idle and env.REGION == eu" (fields name, status, version, created_at, component, env.X)')
    .option('--count <n>', 'page size (default 50)')
    .option('--all', 'follow the cursor through every page')
    .description('list workers')
    .addHelpText('after', '\nExamples:\n  warren worker ls\n  warren worker ls --filter \'status == idle and env.REGION == eu\' --json\n  warren worker ls --filter \'name startswith eu-\' --all\n')
    .action(async (opts: { filter?: string; count?: string; all?: boolean }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const workers: WorkerRecord[] = [];
        let cursor: string | null = null;
        do {
          const q = new URLSearchParams();
          if (opts.filter) q.set('filter', opts.filter);
          if (opts.count) q.set('count', opts.count);
          if (cursor) q.set('cursor', cursor);
          const page: { workers: WorkerRecord[]; cursor: string | null } = await client.json('GET', `/v1/workers?${q}`);
          workers.push(...page.workers);
          cursor = page.cursor;
        } while (opts.all && cursor);
        if (g.json) printJson(opts.all ? { workers } : { workers, cursor });
        else {
          printTable(workers as unknown as Record<string, unknown>[], ['id', 'name', 'namespace', 'component', 'version', 'status', 'createdAt']);
          if (cursor && !opts.all) process.stdout.write(`(more: --all, or the next page with the API cursor ${cursor})\n`);
        }
      });
    });

  worker
    .command('show')
    .argument('<worker>', WORKER)
    .description('show a worker')
    .addHelpText('after', '\nExamples:\n  warren worker show w_…\n  warren worker show sh.warren/c1 --json\n  warren worker show c1           # a token of one namespace\n')
    .action(async (id: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const w = await client.json<WorkerRecord>('GET', workerPath(id));
        if (g.json) printJson(w);
        else printWorker(w);
      });
    });

  worker
    .command('invoke')
    .argument('<worker>', WORKER)
    .argument('[export]', 'an exported function to call (reactor modules)')
    .argument('[numbers...]', "arguments of the export, typed by its signature: integers (i64 of any size, kept exact), decimals, NaN, Infinity")
    .option('--stdin <file>', 'stdin/stdout convention: FILE or - as stdin, stdout printed, exit code returned')
    .option('--idempotency-key <key>', 'run the call at most once: a retry with the same key (within 24 h) prints the first result')
    .description('call a worker: an export with numbers, or _start with stdin (--stdin)')
    .addHelpText('after', '\nExamples:\n  warren worker invoke w_… \'add("apple", 3)\'   # a component function, arguments in WAVE\n  warren worker invoke w_… increment\n  warren worker invoke w_… add 2 3\n  warren worker invoke w_… mix 9007199254740993 2.5 -1    # mix(i64, f64, i32) -> i64\n  echo hi | warren worker invoke w_… --stdin -\n  warren worker invoke w_… increment --idempotency-key order-42   # safe to retry after a timeout or a crash\n')
    .action(async (id: string, exportName: string | undefined, numbers: string[], opts: { stdin?: string; idempotencyKey?: string }, cmd: Command) => {
      // Sent as the strings they are: the server reads them by the export's parameter types
      // (E_BAD_ARGS naming the signature when one does not fit), so an i64 beyond 2^53 keeps
      // every digit, which a JSON number would not.
      const args = numbers;
      if (!exportName && opts.stdin === undefined) throw new WarrenError('E_BAD_REQUEST', 'name an export to call, or give --stdin FILE|-');
      const exitCode = await withConnection(cmd, async (client, g) => {
        const keyHeader: Record<string, string> = opts.idempotencyKey === undefined ? {} : { 'idempotency-key': opts.idempotencyKey };
        if (opts.stdin !== undefined) return invokeWithStdin(client, id, opts.stdin, exportName, g.json ?? false, keyHeader);
        // A component's function, typed in WAVE: `add("apple", 3)`, `items()`.
        if (exportName?.includes('(')) return invokeComponentCall(client, id, [exportName, ...numbers].join(' '), g.json ?? false, keyHeader).then(() => 0);
        const res = await client.json<{ returns: unknown[]; stdout: string; stderr: string }>('POST', workerPath(id, '/invoke'), { export: exportName, args }, keyHeader);
        if (g.json) printJson(res);
        else {
          if (res.stdout) process.stdout.write(res.stdout);
          if (res.stderr) process.stderr.write(res.stderr);
          process.stdout.write(`${res.returns.map(String).join(' ')}\n`);
        }
        return 0;
      });
      process.exitCode = exitCode;
    });

  worker
    .command('cancel')
    .argument('<worker>', WORKER)
    .argument('<key>', 'the idempotency key the call was made with')
    .description('cancel a queued call by its idempotency key: it never runs, and its caller gets E_CANCELLED')
    .addHelpText('after', '\nExamples:\n  warren worker invoke w_… slow_export --idempotency-key job-7 &\n  warren worker cancel w_… job-7\n')
    .action(async (id: string, key: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ cancelled: boolean }>('DELETE', workerPath(id, `/invocations/${encodeURIComponent(key)}`));
        if (g.json) printJson(res);
        else process.stdout.write(`cancelled the queued call ${key} of ${id}\n`);
      });
    });

  worker
    .command('rm')
    .alias('delete')
    .argument('<worker>', WORKER)
    .description('delete a worker: stops it and removes its files')
    .addHelpText('after', '\nExamples:\n  warren worker rm w_…\n  warren worker rm sh.warren/c1 --json\n')
    .action(async (id: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const w = await client.json<WorkerRecord>('DELETE', workerPath(id));
        if (g.json) printJson(w);
        else process.stdout.write(`deleted worker ${w.id} (${w.name})\n`);
      });
    });

  worker
    .command('update')
    .argument('<worker>', WORKER)
    .requiredOption('--version <version>', 'the version to move to')
    .description("move a worker to another version (read-write files kept; rw→ro refused)")
    .addHelpText('after', '\nExamples:\n  warren worker update w_… --version 1.1.0\n  warren worker update sh.warren/c1 --version 1.0.0 --json\n')
    .action(async (id: string, opts: { version: string }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ worker: WorkerRecord; from: string; to: string; changed: boolean }>('POST', workerPath(id, '/update'), { version: opts.version });
        if (g.json) printJson(res);
        else process.stdout.write(res.changed ? `updated ${id} from ${res.from} to ${res.to}\n` : `${id} already runs ${res.to}\n`);
      });
    });

  worker
    .command('pause')
    .argument('<worker>', WORKER)
    .description("pause a worker: snapshot it into this node's store and free its instance (the next call resumes it)")
    .addHelpText('after', '\nExamples:\n  warren worker pause w_…\n  warren worker pause sh.warren/c1 --json\n')
    .action(async (id: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ worker: WorkerRecord; snapshot: SnapshotRecord | null; stats: SnapshotStats | null; changed: boolean }>('POST', workerPath(id, '/pause'));
        if (g.json) printJson(res);
        else if (!res.changed) process.stdout.write(`${id} is paused already\n`);
        else process.stdout.write(`paused ${id}${res.snapshot ? ` at ${res.snapshot.id} (${res.snapshot.scope}${statsText(res.stats)})` : ' (no live instance: nothing in memory to keep)'}\n`);
      });
    });

  worker
    .command('resume')
    .argument('<worker>', WORKER)
    .description('resume a worker from its latest snapshot (a live worker is left as is)')
    .addHelpText('after', '\nExamples:\n  warren worker resume w_…\n  warren worker resume sh.warren/c1 --json\n')
    .action(async (id: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ worker: WorkerRecord; resumed: boolean; how: string; snapshot: string | null }>('POST', workerPath(id, '/resume'));
        if (g.json) printJson(res);
        else if (!res.resumed) process.stdout.write(`${id} is live already\n`);
        else process.stdout.write(res.snapshot ? `resumed ${id} from ${res.snapshot}\n` : `started ${id} fresh (no snapshot to resume from)\n`);
      });
    });

  worker
    .command('commit')
    .argument('<worker>', WORKER)
    .description('commit a worker: an immutable, forkable snapshot in the cluster store (the worker stays live)')
    .addHelpText('after', '\nExamples:\n  warren worker commit w_…\n  warren worker commit sh.warren/c1 --json\n')
    .action(async (id: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ worker: WorkerRecord; snapshot: SnapshotRecord; stats: SnapshotStats }>('POST', workerPath(id, '/commit'));
        if (g.json) printJson(res);
        else process.stdout.write(`committed ${id} as ${res.snapshot.id} (${res.snapshot.scope}${statsText(res.stats)})\n`);
      });
    });

  worker
    .command('fork')
    .argument('<worker>', WORKER)
    .requiredOption('--name <name>', 'name of the new worker')
    .option('--snapshot <snapshot>', 'a committed snapshot of the worker (default: its last commit)')
    .description('create a new worker from a committed snapshot; the two then diverge')
    .addHelpText('after', '\nExamples:\n  warren worker commit w_…\n  warren worker fork w_… --name c2\n')
    .action(async (id: string, opts: { name: string; snapshot?: string }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ worker: WorkerRecord; snapshot: SnapshotRecord }>('POST', workerPath(id, '/fork'), { name: opts.name, ...(opts.snapshot ? { snapshot: opts.snapshot } : {}) });
        if (g.json) printJson(res);
        else process.stdout.write(`forked ${id} at ${res.snapshot.id} into worker ${res.worker.id} (${res.worker.namespace}/${res.worker.name})\n`);
      });
    });

  worker
    .command('snapshots')
    .argument('<worker>', WORKER)
    .option('--pauses', 'list pause snapshots too')
    .description("list a worker's committed snapshots")
    .addHelpText('after', '\nExamples:\n  warren worker snapshots w_…\n  warren worker snapshots sh.warren/c1 --pauses --json\n')
    .action(async (id: string, opts: { pauses?: boolean }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const q = opts.pauses ? '?pauses=true' : '';
        const res = await client.json<{ snapshots: SnapshotRecord[]; lastSnapshot: string | null; lastCommit: string | null }>('GET', workerPath(id, `/snapshots${q}`));
        if (g.json) printJson(res);
        else {
          const rows = res.snapshots.map((s) => ({ ...s, latest: s.id === res.lastSnapshot ? '*' : '' }));
          printTable(rows as unknown as Record<string, unknown>[], ['id', 'kind', 'scope', 'version', 'node', 'createdAt', 'latest']);
        }
      });
    });

  worker
    .command('files')
    .argument('<worker>', WORKER)
    .argument('[path]', 'guest path', '/')
    .option('-r, --recursive', 'list every descendant')
    .description("list a worker's files")
    .addHelpText('after', '\nExamples:\n  warren worker files w_…\n  warren worker files w_… /state -r\n  warren worker files sh.warren/c1 / -r --json\n')
    .action(async (id: string, path: string, opts: { recursive?: boolean }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const q = new URLSearchParams({ path, recursive: String(Boolean(opts.recursive)) });
        const { nodes } = await client.json<{ nodes: FileNode[] }>('GET', workerPath(id, `/files?${q}`));
        if (g.json) printJson(nodes);
        else printTable(nodes as unknown as Record<string, unknown>[], ['path', 'kind', 'size', 'permissions', 'lastModified']);
      });
    });

  worker
    .command('cat')
    .argument('<worker>', WORKER)
    .argument('<path>', 'guest path of a file')
    .description("print a worker file's bytes")
    .addHelpText('after', '\nExamples:\n  warren worker cat w_… /state/count.txt\n  warren worker cat sh.warren/c1 /static/greeting.txt > greeting.txt\n')
    .action(async (id: string, path: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client) => {
        const res = await client.raw('GET', workerPath(id, `/file-contents?${new URLSearchParams({ path })}`));
        await pipeline(res.body, process.stdout, { end: false });
      });
    });

  worker
    .command('download')
    .argument('<worker>', WORKER)
    .argument('[path]', 'guest path of a directory', '/')
    .requiredOption('-o, --output <file>', 'where to write the zip')
    .description('download a worker directory as a zip')
    .addHelpText('after', '\nExamples:\n  warren worker download w_… /state -o state.zip\n  warren worker download sh.warren/c1 / -o root.zip --json\n')
    .action(async (id: string, path: string, opts: { output: string }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.raw('GET', workerPath(id, `/archive?${new URLSearchParams({ path })}`));
        await pipeline(res.body, createWriteStream(opts.output));
        if (g.json) printJson({ output: opts.output, path });
        else process.stdout.write(`wrote ${opts.output}\n`);
      });
    });
}

async function invokeWithStdin(client: ApiClient, id: string, source: string, exportName: string | undefined, json: boolean, headers: Record<string, string>): Promise<number> {
  let stdin: Buffer;
  if (source === '-') stdin = await readAll(process.stdin);
  else {
    if (!existsSync(source)) throw new WarrenError('E_NOT_FOUND', `stdin file ${source} not found`);
    stdin = await readAll(createReadStream(source));
  }
  const q = new URLSearchParams({ stdin: '1' });
  if (exportName) q.set('export', exportName);
  const res = await client.raw('POST', workerPath(id, `/invoke?${q}`), stdin, { 'content-type': 'application/octet-stream', ...headers });
  const stdout = await readAll(res.body);
  const stderr = decodeURIComponent(String(res.headers['x-warren-stderr'] ?? ''));
  const exitCode = Number(res.headers['x-warren-exit-code'] ?? 0);
  if (json) {
    printJson({ exitCode, stdout: stdout.toString('utf8'), stderr, returns: res.headers['x-warren-returns'] ? JSON.parse(String(res.headers['x-warren-returns'])) : undefined });
    return exitCode;
  }
  process.stdout.write(stdout);
  if (stderr) process.stderr.write(stderr);
  return exitCode;
}


function statsText(s: SnapshotStats | null): string {
  if (!s) return '';
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `, ${s.pagesWritten}/${s.pages} pages and ${s.filesWritten} files written, ${mib(s.memoryBytesWritten + s.fileBytesWritten)}, ${s.durationMs.toFixed(0)} ms`;
}

function printWorker(w: WorkerRecord): void {
  const env = Object.entries(w.env).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stdout.write(
    `${w.id}  ${w.namespace}/${w.name}\n  component ${w.component}@${w.version}\n  status    ${w.status}${w.error ? ` (${w.error.code}: ${w.error.message})` : ''}\n  node      ${w.node}\n  env       ${env || '-'}\n  args      ${w.args.join(' ') || '-'}\n  created   ${w.createdAt}\n  snapshot  ${w.lastSnapshot ?? '-'}\n  commit    ${w.lastCommit ?? '-'}\n`,
  );
}
