/**
 * Entry of a guest worker_thread. Guest code only ever runs here, never on the API thread;
 * guest calls are synchronous, so one thread runs one guest call at a time.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { runJobBatchInThread, runJobInThread } from './run-job-in-thread.js';
import { handleWorkerRequest, showWorkerProgressIn, takeControlRequests } from './worker-instance-thread.js';
import './worker-move-ops.js';
import './worker-snapshot-ops.js';
import type { JobBatchRequest, ThreadMessage, ThreadRequest } from './thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('guest-thread-main must run in a worker_thread');
const data = workerData as { progress?: SharedArrayBuffer; control?: { port: MessagePort; flag: SharedArrayBuffer } } | null;
if (data?.progress) showWorkerProgressIn(data.progress);
const post = (reply: ThreadMessage, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
if (data?.control) takeControlRequests(data.control.port, data.control.flag, post);

port.on('message', (req: ThreadRequest | JobBatchRequest) => {
  if (req.type === 'job-batch') runJobBatchInThread(req, post);
  else if (req.type === 'run-job') runJobInThread(req, post);
  else if (req.type === 'worker') handleWorkerRequest(req, post);
});
post({ type: 'ready' });
