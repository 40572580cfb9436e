/**
 * Child process of the crash test: opens a node on a data dir and, for one worker, increments
 * and commits in a loop, printing `called <count>` after each increment returned and
 * `committed <count> <snapshot>` after each commit returned.
 * The parent kills it with SIGKILL at a random moment.
 */
import { WarrenNode } from '../../src/services/warren-node.js';
import { commitWorker } from '../../src/services/instances/index.js';
import { invokeWorker } from '../../src/services/instances/invoke-worker.js';

const [dataDir, workerId] = process.argv.slice(2);
if (!dataDir || !workerId) throw new Error('usage: commit-loop-child DATA_DIR WORKER_ID');
// Guest threads are unref'd (a server's socket keeps a real node alive): keep this loop alive.
setInterval(() => undefined, 1 << 30);
const node = await WarrenNode.open({ dataDir, jobThreads: 1 });
for (;;) {
  const inc = await invokeWorker(node.ctx, workerId, { export: 'increment' });
  process.stdout.write(`called ${String(inc.returns?.[0])}\n`);
  const c = await commitWorker(node.ctx, workerId);
  process.stdout.write(`committed ${String(inc.returns?.[0])} ${c.snapshot.id}\n`);
}
