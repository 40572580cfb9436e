import type { Command } from 'commander';
import pino from 'pino';
import { buildApp } from '../../api/build-app.js';
import { WarrenNode } from '../../services/warren-node.js';
import { routePlugins } from '../../api/route-plugins.js';
import { parseByteSize, parseDuration } from '../../manifest/parse-units.js';
import type { GlobalOptions } from '../connect.js';
import { WarrenError } from '../../errors.js';
import { DEFAULT_ZIP_LIMITS } from '../../manifest/zip-limits.js';

interface ServeOptions {
  port: string;
  host: string;
  dev?: boolean;
  nats?: string;
  nodeId?: string;
  gcInterval: string;
  heartbeat: string;
  deadAfter: string;
  cacheBudget: string;
  advertiseUrl?: string;
  idleEvict: string;
  maxLiveWorkers?: string;
  liveMemory?: string;
  zipMaxTotal: string;
  zipMaxEntry?: string;
  zipMaxEntries: string;
  guestFds?: string;
  metricsPublic?: boolean;
  guestThreads?: string;
  maxQueuedCalls?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run a Warren node: the HTTP API over embedded storage (or a NATS cluster with --nats)')
    .option('-p, --port <n>', 'port to listen on; 0 = any free port (printed)', '7070')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--dev', 'development mode: verbose logs and dev-only routes')
    .option('--nats <urls>', 'join a cluster: comma-separated NATS URLs, e.g. nats://127.0.0.1:4222')
    .option('--node-id <id>', 'this node\'s id in a cluster (default: hostname + random, kept in <data>/node-id)')
    .option('--gc-interval <duration>', 'collect garbage in the background this often (0 = never)', '1h')
    .option('--heartbeat <duration>', 'cluster: how often this node announces itself in node/<id>', '1s')
    .option('--dead-after <duration>', 'cluster: a node whose heartbeat is this old is dead and its workers move', '5s')
    .option('--cache-budget <size>', 'cluster: local blob cache size kept by eviction (blobs of workers placed here are kept)', '10GiB')
    .option('--advertise-url <url>', 'cluster: the HTTP address other nodes and clients reach this node at (default: the listen address)')
    .option('--idle-evict <duration>', 'pause workers idle this long (they resume on their next call); 0 = never', '0')
    .option('--max-live-workers <n>', 'pause the least recently used workers past this many live instances')
    .option('--live-memory <size>', 'pause the least recently used workers while live memory sums past this, e.g. 4GiB')
    .option('--zip-max-total <size>', 'component push: refuse a files zip whose entries inflate to more than this in all (real bytes, counted while unpacking)', `${DEFAULT_ZIP_LIMITS.maxTotalBytes / 2 ** 30}GiB`)
    .option('--zip-max-entry <size>', 'component push: refuse a files zip with one entry inflating to more than this (default: --zip-max-total)')
    .option('--zip-max-entries <n>', 'component push: refuse a files zip with more entries than this (files and directories)', String(DEFAULT_ZIP_LIMITS.maxEntries))
    .option('--metrics-public', 'serve /metrics without a token (default: a token of role admin, shared-reader or node)')
    .option('--guest-fds <n>', 'host file descriptors all guests may hold together (past it a guest\'s open is EMFILE); default: the open-file limit less a reserve for the host')
    .option('--max-queued-calls <n>', 'calls one worker may have waiting or running; past it a call is 503 E_BUSY with Retry-After (default 256)')
    .option('--guest-threads <n>', 'threads that host every live worker instance, many each (default: twice the cores, at most 16); without the deadline addon each live worker has a thread of its own')
    .addHelpText('after', '\nExamples:\n  warren serve                  # embedded storage in $WARREN_HOME or ~/.warren\n  warren serve --port 0 --dev\n  warren serve --nats nats://127.0.0.1:4222 --node-id a\n  warren serve --metrics-public  # Prometheus scrapes without a token\n  warren serve --zip-max-total 20GiB --zip-max-entry 4GiB --zip-max-entries 500000\n\nZip limits are absolute sizes, never compression ratios: a 1 GiB file of zeros is a legitimate file.\n')
    .action(async (opts: ServeOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const logger = pino({ level: opts.dev ? 'debug' : (process.env.WARREN_LOG ?? 'info') });
      const node = await WarrenNode.open({
        dataDir: g.data,
        nodeId: opts.nodeId,
        nats: opts.nats?.split(',').filter(Boolean),
        logger,
        gcIntervalMs: opts.gcInterval === '0' ? undefined : parseDuration(opts.gcInterval, 'gc-interval'),
        idleEvictMs: opts.idleEvict === '0' ? undefined : parseDuration(opts.idleEvict, 'idle-evict'),
        maxLiveWorkers: opts.maxLiveWorkers === undefined ? undefined : parsePositiveInt(opts.maxLiveWorkers, 'max-live-workers'),
        liveMemoryBudgetBytes: opts.liveMemory === undefined ? undefined : parseByteSize(opts.liveMemory, 'live-memory'),
        zipLimits: {
          maxTotalBytes: parseByteSize(opts.zipMaxTotal, 'zip-max-total'),
          maxEntryBytes: opts.zipMaxEntry === undefined ? undefined : parseByteSize(opts.zipMaxEntry, 'zip-max-entry'),
          maxEntries: parsePositiveInt(opts.zipMaxEntries, 'zip-max-entries'),
        },
        guestFds: opts.guestFds === undefined ? undefined : parsePositiveInt(opts.guestFds, 'guest-fds'),
        guestThreads: opts.guestThreads === undefined ? undefined : parsePositiveInt(opts.guestThreads, 'guest-threads'),
        maxQueuedCalls: opts.maxQueuedCalls === undefined ? undefined : parsePositiveInt(opts.maxQueuedCalls, 'max-queued-calls'),
        cluster: {
          heartbeatMs: parseDuration(opts.heartbeat, 'heartbeat'),
          deadAfterMs: parseDuration(opts.deadAfter, 'dead-after'),
          monitorMs: parseDuration(opts.heartbeat, 'heartbeat'),
          cacheBudgetBytes: parseByteSize(opts.cacheBudget, 'cache-budget'),
          advertiseUrl: opts.advertiseUrl,
        },
      });
      const app = await buildApp({ node, dev: opts.dev, metricsPublic: opts.metricsPublic, logger: opts.dev ? { level: 'debug' } : false, plugins: routePlugins });
      const url = await app.listen({ host: opts.host, port: Number(opts.port) });
      const admin = await node.tokens.ensureDevAdminToken();
      process.stdout.write(`warren listening on ${url} (node ${node.ctx.nodeId}, data ${node.ctx.layout.root})\n`);
      if (admin.created) process.stdout.write(`admin token written to ${admin.path} (keep it secret)\n`);
      const stop = async () => {
        await app.close();
        await node.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function parsePositiveInt(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new WarrenError('E_BAD_REQUEST', `--${field} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}
