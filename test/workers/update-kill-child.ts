/**
 * Child process of the update SIGKILL test: opens a node on a data dir and updates one worker,
 * stopping right after the step named on the command line (updateWorker's crashAfter hook),
 * where it SIGKILLs itself: the data dir is left exactly as a crash at that moment leaves it.
 * Without a step the update runs whole and the child prints `updated`.
 */
import { SimulatedCrash } from '../../src/fsplace/apply-update.js';
import { WarrenNode } from '../../src/services/warren-node.js';
import { updateWorker, type UpdateWorkerOptions } from '../../src/services/workers/update-worker.js';

const [dataDir, workerId, version, step] = process.argv.slice(2);
if (!dataDir || !workerId || !version) throw new Error('usage: update-kill-child DATA_DIR WORKER_ID VERSION [STEP]');
const node = await WarrenNode.open({ dataDir, jobThreads: 1 });
try {
  await updateWorker(node.ctx, workerId, version, { crashAfter: step as UpdateWorkerOptions['crashAfter'] });
} catch (err) {
  if (err instanceof SimulatedCrash) process.kill(process.pid, 'SIGKILL');
  throw err;
}
process.stdout.write('updated\n');
await node.close();
