import { WarrenError } from '../errors.js';
import { timeoutError } from './guest-error.js';
import { GuestThread } from './guest-thread.js';
import type { RunOptions } from './guest-pool.js';
import { unwrapReply } from './guest-pool.js';
import { instanceLost, type InstanceSlot } from './instance-slot.js';
import type { ThreadReply } from './thread-protocol.js';
import type { WorkerOpName, WorkerOps, WorkerRequest } from './worker-protocol.js';

/** Linked sets a host thread keeps (worker-instance-thread's MAX_LINKED_SETS: both sides evict alike). */
const MAX_LINKED_SETS = 64;
const BACKSTOP_CHECK_MS = 250;
/** `stop` only closes the instance's fds. */
const STOP_TIMEOUT_MS = 10_000;

/** One guest thread and the instances placed on it. */
interface Host {
  thread: GuestThread;
  /** [id of the op the thread runs or 0, its start in ms since the epoch], written by the thread. */
  progress: Float64Array;
  /** Instances placed here and not released. */
  instances: number;
  /** Ops posted and not answered yet, by call id: their timeouts (for the backstop). */
  inFlight: Map<number, number>;
  /** Linked sets the thread holds, oldest first (it is sent each once). */
  modules: Set<string>;
  /** The op the backstop stopped the thread for. */
  stoppedFor: number | null;
}

/**
 * The fixed set of guest threads that host every live worker instance when the deadline addon
 * is there: many instances per thread, a few threads per node, whatever the number of workers.
 * Each op carries its timeout and the thread stops the op at it (worker-instance-thread.ts):
 * only that instance is dropped, the other instances on the thread keep their memory. An
 * instance is placed on the thread with the fewest instances among those running no op, so a
 * thread busy with a long call does not take new instances; instances stay where they were
 * placed (their memory cannot move between threads while they live). Threads are started as
 * the first `count` instances come.
 *
 * A thread that overruns an op's deadline by the grace (stuck where the addon cannot stop it,
 * which should never happen) is terminated, like JobLanes does: every instance on it is lost
 * and comes back from its snapshot, as after a crash. A fresh thread takes its place.
 */
export class InstanceThreads {
  private readonly hosts: Host[] = [];
  private readonly backstop: NodeJS.Timeout;
  private closed = false;
  readonly stats = { placed: 0, timeouts: 0, threadsReplaced: 0 };

  constructor(
    readonly count: number,
    private readonly backstopGraceMs: number,
    private readonly onSpawn: () => void = () => undefined,
  ) {
    this.backstop = setInterval(() => this.checkDeadlines(), BACKSTOP_CHECK_MS);
    this.backstop.unref();
  }

  /** Instances placed on each thread now (in thread order). */
  get instancesPerThread(): number[] {
    return this.hosts.map((h) => h.instances);
  }

  /** Threads running (or with queued) ops now. */
  get busyThreads(): number {
    return this.hosts.filter((h) => h.inFlight.size > 0).length;
  }

  /** A place for a new instance, on the least loaded thread. */
  async place(): Promise<InstanceSlot> {
    if (this.closed) throw new WarrenError('E_UNAVAILABLE', 'the guest pool is closed');
    this.replaceDead();
    // Threads start with the first instances that need them: a node without live workers has none.
    if (this.hosts.length < this.count) this.hosts.push(this.newHost());
    let best = this.hosts[0]!;
    for (const h of this.hosts) if (load(h) < load(best)) best = h;
    best.instances++;
    this.stats.placed++;
    const slot = new SharedThreadSlot(this, best);
    try {
      await best.thread.ready;
    } catch (err) {
      best.instances--;
      throw err;
    }
    return slot;
  }

  /** Posts one op to a host's thread; the thread enforces `opts.timeoutMs` itself. */
  call<O extends WorkerOpName>(host: Host, op: O, payload: WorkerOps[O]['payload'], opts: RunOptions): Promise<ThreadReply> {
    const thread = host.thread;
    if (!thread.alive) return Promise.reject(instanceLost());
    let body = payload;
    if (op === 'start' || op === 'restore') body = this.withoutKnownModules(host, payload as WorkerOps['start']['payload']) as typeof payload;
    const id = thread.nextCallId();
    return new Promise<ThreadReply>((resolve, reject) => {
      host.inFlight.set(id, opts.timeoutMs);
      thread.expect(
        id,
        (r) => {
          if (r.type === 'stdout') opts.onStdout?.(r.chunk);
          else if (r.type === 'stderr') opts.onStderr?.(r.chunk);
          else {
            host.inFlight.delete(id);
            if (r.type === 'error' && r.error.code === 'E_TIMEOUT') this.stats.timeouts++;
            resolve(r);
          }
        },
        (err) => {
          host.inFlight.delete(id);
          // The thread died: the op the backstop stopped it for timed out; the others lost their instance.
          reject(host.stoppedFor === id ? timeoutError(opts.timeoutMs) : host.stoppedFor !== null ? instanceLost() : err);
        },
      );
      const request = { type: 'worker', id, op, payload: body, timeoutMs: opts.timeoutMs } as WorkerRequest;
      thread.post(request, opts.transfer);
    });
  }

  release(host: Host): void {
    host.instances--;
  }

  async close(reason: Error): Promise<void> {
    this.closed = true;
    clearInterval(this.backstop);
    await Promise.all(this.hosts.map((h) => h.thread.terminate(reason)));
  }

  /**
   * Posting a WebAssembly.Module costs the API thread and the guest thread a deserialization
   * (the compiled code itself is shared): each thread is sent a linked set once, then its key.
   */
  private withoutKnownModules(host: Host, payload: WorkerOps['start']['payload']): WorkerOps['start']['payload'] {
    const key = payload.modulesKey;
    if (key === undefined || payload.modules === null) return payload;
    if (host.modules.has(key)) return { ...payload, modules: null };
    if (host.modules.size >= MAX_LINKED_SETS) host.modules.delete(host.modules.values().next().value!);
    host.modules.add(key);
    return payload;
  }

  private newHost(): Host {
    const progress = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
    this.onSpawn();
    return { thread: new GuestThread({ progress }), progress: new Float64Array(progress), instances: 0, inFlight: new Map(), modules: new Set(), stoppedFor: null };
  }

  private replaceDead(): void {
    if (this.closed) return;
    for (let i = 0; i < this.hosts.length; i++) {
      if (this.hosts[i]!.thread.alive) continue;
      this.hosts[i] = this.newHost();
      this.stats.threadsReplaced++;
    }
  }

  private checkDeadlines(): void {
    const now = Date.now();
    for (const host of this.hosts) {
      const running = host.progress[0]!;
      if (running === 0 || host.stoppedFor !== null) continue;
      const timeoutMs = host.inFlight.get(running);
      if (timeoutMs !== undefined && now - host.progress[1]! > timeoutMs + this.backstopGraceMs) {
        host.stoppedFor = running;
        this.stats.timeouts++;
        void host.thread.terminate(timeoutError(timeoutMs));
      }
    }
    this.replaceDead();
  }
}

/** A thread busy with an op counts as holding many instances: new ones go to an idle thread first. */
function load(host: Host): number {
  return (host.inFlight.size > 0 ? 1_000_000 : 0) + host.instances;
}

/** An instance on one of InstanceThreads' shared threads. */
class SharedThreadSlot implements InstanceSlot {
  private dropped = false;
  /** The worker whose instance this is (from its first op): `release` stops it by name. */
  private workerId: string | null = null;

  constructor(
    private readonly threads: InstanceThreads,
    private readonly host: Host,
  ) {}

  get alive(): boolean {
    return !this.dropped && this.host.thread.alive;
  }

  async call<O extends WorkerOpName>(op: O, payload: WorkerOps[O]['payload'], opts: RunOptions): Promise<WorkerOps[O]['result']> {
    if (!this.alive) throw instanceLost();
    this.workerId ??= payload.workerId;
    const reply = await this.threads.call(this.host, op, payload, opts);
    // A timeout dropped the instance on the thread.
    if (reply.type === 'error' && reply.error.code === 'E_TIMEOUT') this.drop();
    // The thread's reply is the op's result (worker-protocol.ts types both ends of it).
    return unwrapReply(reply) as WorkerOps[O]['result'];
  }

  async release(): Promise<void> {
    if (this.dropped) return;
    // Posted now, not after an await: a new instance of the worker placed on this thread later
    // must find the stop ahead of its start. Awaited: once release() resolves the instance's fds
    // are closed (a delete removes its dir next, and a node short of fds needs them back).
    let stopped: Promise<unknown> = Promise.resolve();
    if (this.workerId !== null && this.host.thread.alive) {
      stopped = this.threads.call(this.host, 'stop', { workerId: this.workerId }, { timeoutMs: STOP_TIMEOUT_MS }).catch(() => undefined);
    }
    this.drop();
    await stopped;
  }

  private drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.threads.release(this.host);
  }
}
