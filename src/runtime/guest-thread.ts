import { Worker, type MessagePort } from 'node:worker_threads';
import { WarrenError } from '../errors.js';
import { processFdBudget } from './guest-fd-budget.js';
import { hostFailure } from '../host-failure.js';
import type { JobBatchRequest, ThreadMessage, ThreadReply, ThreadRequest, ThreadRequestBody } from './thread-protocol.js';

const THREAD_URL = new URL('./guest-thread-main.js', import.meta.url);

/**
 * One worker_thread that runs guest code. Requests carry an id; replies (stream chunks and a final
 * `done`/`error`) are routed back to the caller. A thread that is terminated (timeout, crash)
 * fails every request in flight with the given error and is never reused.
 */
export class GuestThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { onReply: (r: ThreadReply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | null = null;
  readonly ready: Promise<void>;

  /**
   * `progress`: where the thread shows the worker op it runs (see InstanceThreads' backstop);
   * `control`: the thread's end of a port for requests that must not wait for the op it runs,
   * and the flag set once one is posted (see worker-instance-thread's takeControlRequests).
   */
  constructor(opts: { progress?: SharedArrayBuffer; control?: { port: MessagePort; flag: SharedArrayBuffer } } = {}) {
    const budget = processFdBudget().forThread();
    this.worker = new Worker(THREAD_URL, {
      stdout: false,
      stderr: false,
      workerData: { fdBudget: budget.data, progress: opts.progress, control: opts.control },
      transferList: opts.control ? [opts.control.port] : [],
    });
    this.ready = new Promise((resolve, reject) => {
      // A thread that cannot start (EMFILE loading its script) fails whoever waits for it, never the process.
      const onError = (err: Error) => reject(hostFailure(err, 'starting a guest thread'));
      const onMessage = (m: ThreadReply) => {
        if (m.type === 'ready') {
          this.worker.off('error', onError);
          resolve();
        }
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', onError);
    });
    // An idle thread does not keep the process alive; one starting or with requests in flight
    // does (see `track`): nothing else may keep the loop alive while a caller waits on it.
    this.ready.then(
      () => this.pending.size === 0 && !this.dead && this.worker.unref(),
      () => undefined,
    );
    this.worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'ready') return;
      if (m.type === 'replies') {
        for (const r of m.replies) this.route(r);
        return;
      }
      this.route(m);
    });
    this.worker.on('error', (err) => this.fail(hostFailure(err, 'guest thread crashed')));
    this.worker.on('exit', () => {
      budget.release();
      this.fail(this.dead ?? new WarrenError('E_INTERNAL', 'guest thread exited'));
    });
  }

  get alive(): boolean {
    return this.dead === null;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Sends a request; `onReply` sees every reply including the last one; resolves with the last. */
  call(request: ThreadRequestBody, onReply: (r: ThreadReply) => void = () => undefined, transfer: ArrayBuffer[] = []): Promise<ThreadReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.track(id, {
        onReply: (r) => {
          onReply(r);
          if (r.type === 'done' || r.type === 'error') resolve(r);
        },
        reject,
      });
      this.worker.postMessage({ ...request, id } as ThreadRequest, transfer);
    });
  }

  /**
   * Low-level sends for callers that batch (JobLanes): `expect` registers the replies of a call
   * id taken from `nextCallId`, `post` sends the message that carries it. On the thread's death,
   * `reject` gets the reason.
   */
  nextCallId(): number {
    return this.nextId++;
  }

  expect(id: number, onReply: (r: ThreadReply) => void, reject: (e: Error) => void): void {
    if (this.dead) return reject(this.dead);
    this.track(id, { onReply, reject });
  }

  post(message: JobBatchRequest | ThreadRequest, transfer: ArrayBuffer[] = []): void {
    if (!this.dead) this.worker.postMessage(message, transfer);
  }

  private track(id: number, p: { onReply: (r: ThreadReply) => void; reject: (e: Error) => void }): void {
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(id, p);
  }

  private untrack(id: number): void {
    if (this.pending.delete(id) && this.pending.size === 0 && !this.dead) this.worker.unref();
  }

  private route(m: ThreadReply): void {
    if (m.type === 'ready') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'done' || m.type === 'error') this.untrack(m.id);
    p.onReply(m);
  }

  /** Stops the thread (even inside an endless guest loop) and fails what is in flight with `reason`. */
  async terminate(reason: Error = new WarrenError('E_INTERNAL', 'guest thread stopped')): Promise<void> {
    this.fail(reason);
    // Until it has exited the thread keeps the process alive (a dead thread is never unref'd
    // again): whoever awaits this must see it settle, even with nothing else on the event loop.
    this.worker.ref();
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    if (!this.dead) this.dead = err;
    for (const [id, p] of this.pending) {
      this.untrack(id);
      p.reject(err);
    }
  }
}
