/**
 * Entry of a guest worker_thread. Guest code only ever runs here, never on the API thread;
 * guest calls are synchronous, so one thread runs one guest call at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runJobBatchInThread, runJobInThread } from './run-job-in-thread.js';
import { handleWorkerRequest, showWorkerProgressIn } from './worker-instance-thread.js';
import './worker-snapshot-ops.js';
import type { JobBatchRequest, ThreadMessage, ThreadRequest } from './thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('guest-thread-main must run in a worker_thread');
const progress = (workerData as { progress?: SharedArrayBuffer } | null)?.progress;
if (progress) showWorkerProgressIn(progress);
const post = (reply: ThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

port.on('message', (req: ThreadRequest | JobBatchRequest) => {
  if (req.type === 'job-batch') runJobBatchInThread(req, post);
  else if (req.type === 'run-job') runJobInThread(req, post);
  else if (req.type === 'worker') handleWorkerRequest(req, post);
});
post({ type: 'ready' });
