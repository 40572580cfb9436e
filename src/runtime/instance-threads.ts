import { performance } from 'node:perf_hooks';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WarrenError } from '../errors.js';
import { timeoutError } from './guest-error.js';
import { GuestThread } from './guest-thread.js';
import type { RunOptions } from './guest-pool.js';
import { unwrapReply } from './guest-pool.js';
import { instanceLost, type InstanceSlot } from './instance-slot.js';
import type { ThreadReply } from './thread-protocol.js';
import type { ControlRequest, ExportedInstance, StartWorkerPayload, WorkerOpName, WorkerOps, WorkerRequest } from './worker-protocol.js';

/** Linked sets a host thread keeps (worker-instance-thread's MAX_LINKED_SETS: both sides evict alike). */
const MAX_LINKED_SETS = 64;
const BACKSTOP_CHECK_MS = 250;
/** `stop` only closes the instance's fds. */
const STOP_TIMEOUT_MS = 10_000;
/** `adopt` builds an instance from memory already in hand (and reopens its fds). */
const ADOPT_TIMEOUT_MS = 10_000;
/**
 * How long another worker's op must have held a thread before a worker waiting behind it is
 * moved to an idle thread. A move costs the two threads about a millisecond for a small guest
 * (docs/reliability.md, "Threads per node"): most ops end sooner than that, and are waited for.
 */
export const DEFAULT_MOVE_AFTER_MS = 5;

/** An op of one instance, waiting for its thread or running there. */
interface QueuedOp {
  slot: SharedThreadSlot;
  op: WorkerOpName;
  payload: WorkerOps[WorkerOpName]['payload'];
  opts: RunOptions;
  resolve: (r: ThreadReply) => void;
  reject: (e: Error) => void;
}

/** One guest thread and the instances placed on it. */
interface Host {
  thread: GuestThread;
  /** [id of the op the thread runs or 0, its start in ms since the epoch], written by the thread. */
  progress: Float64Array;
  /** Instances placed here and not released (with those moving in). */
  instances: number;
  /** Ops not posted yet, in order: the thread is sent one op at a time, so a waiting op can still go elsewhere. */
  queue: QueuedOp[];
  /** The op posted and not answered, and its call id. */
  running: { op: QueuedOp; id: number } | null;
  /** Control requests posted and not answered: no op is posted meanwhile (the two ports are not ordered). */
  controlOut: number;
  /** Our end of the thread's control port, and the flag that tells the thread a request is there. */
  control: MessagePort;
  controlFlag: Int32Array;
  /** Linked sets the thread holds, oldest first (it is sent each once). */
  modules: Set<string>;
  /** The op the backstop stopped the thread for. */
  stoppedFor: number | null;
  /** Fires when the running op has held waiting workers of other instances for moveAfterMs. */
  moveTimer: NodeJS.Timeout | null;
  /** Moves under way into this thread: it is no target for another until they land. */
  incoming: number;
}

/**
 * The fixed set of guest threads that host every live worker instance when the deadline addon
 * is there: many instances per thread, a few threads per node, whatever the number of workers.
 * Each op carries its timeout and the thread stops the op at it (worker-instance-thread.ts):
 * only that instance is dropped, the other instances on the thread keep their memory. An
 * instance is placed on the thread with the fewest instances among those running no op.
 * Threads are started as the first `count` instances come.
 *
 * A busy thread does not hold up workers that another thread could serve: ops wait here, not
 * in the thread, and a worker whose op has waited behind another worker's op for
 * `moveAfterMs` is moved to an idle thread. Its instance, idle, is exported from its thread
 * (memory, globals, WASI state) at the running guest's next syscall, adopted by the idle
 * thread (fds reopened there), then dropped from the first; its ops follow it, in order. A
 * worker in a call is never moved; a guest computing without syscalls keeps its neighbours
 * until its op ends (or times out). See docs/decisions.md, "Moving instances between threads".
 *
 * A thread that overruns an op's deadline by the grace (stuck where the addon cannot stop it,
 * which should never happen) is terminated, like JobLanes does: every instance on it is lost
 * and comes back from its snapshot, as after a crash. A fresh thread takes its place.
 */
export class InstanceThreads {
  private readonly hosts: Host[] = [];
  private readonly backstop: NodeJS.Timeout;
  private closed = false;
  /** Infinity = never move instances (the bench's baseline). */
  moveAfterMs = DEFAULT_MOVE_AFTER_MS;
  readonly stats = { placed: 0, timeouts: 0, threadsReplaced: 0, moves: 0, failedMoves: 0, moveMsTotal: 0 };

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
    return this.hosts.filter(busy).length;
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

  /** Runs one op of a slot's instance, after the slot's earlier ops; the thread enforces `opts.timeoutMs` itself. */
  run(slot: SharedThreadSlot, op: WorkerOpName, payload: WorkerOps[WorkerOpName]['payload'], opts: RunOptions): Promise<ThreadReply> {
    return new Promise<ThreadReply>((resolve, reject) => {
      const q: QueuedOp = { slot, op, payload, opts, resolve, reject };
      if (slot.moving) {
        slot.held.push(q);
        return;
      }
      const host = slot.host;
      host.queue.push(q);
      this.pump(host);
      if (host.running && host.running.op.slot !== slot) this.watch(host);
    });
  }

  release(host: Host): void {
    host.instances--;
  }

  async close(reason: Error): Promise<void> {
    this.closed = true;
    clearInterval(this.backstop);
    for (const h of this.hosts) if (h.moveTimer) clearTimeout(h.moveTimer);
    await Promise.all(this.hosts.map((h) => h.thread.terminate(reason)));
    for (const h of this.hosts) this.failQueue(h);
  }

  /** Posts the host's next op once the thread has answered the last one (and every control request). */
  private pump(host: Host): void {
    if (!host.thread.alive) return this.failQueue(host);
    if (host.running || host.controlOut > 0) return;
    const next = host.queue.shift();
    if (next) this.post(host, next);
    else this.lendTo(host);
  }

  private post(host: Host, q: QueuedOp): void {
    const thread = host.thread;
    const { op, opts } = q;
    let body = q.payload;
    if (op === 'start' || op === 'restore' || op === 'adopt') body = this.withoutKnownModules(host, body as StartWorkerPayload);
    const id = thread.nextCallId();
    host.running = { op: q, id };
    // Workers waiting behind this op may have to move if it runs long.
    if (host.queue.length > 0) this.watch(host);
    thread.expect(
      id,
      (r) => {
        if (r.type === 'stdout') opts.onStdout?.(r.chunk);
        else if (r.type === 'stderr') opts.onStderr?.(r.chunk);
        else {
          host.running = null;
          if (r.type === 'error' && r.error.code === 'E_TIMEOUT') this.stats.timeouts++;
          if (r.type === 'done' && (op === 'start' || op === 'restore')) q.slot.startedFrom(q.payload as StartWorkerPayload);
          q.resolve(r);
          this.pump(host);
        }
      },
      (err) => {
        host.running = null;
        // The thread died: the op the backstop stopped it for timed out; the others lost their instance.
        q.reject(host.stoppedFor === id ? timeoutError(opts.timeoutMs) : host.stoppedFor !== null ? instanceLost() : err);
        this.failQueue(host);
      },
    );
    thread.post({ type: 'worker', id, op, payload: body, timeoutMs: opts.timeoutMs } as WorkerRequest, opts.transfer);
  }

  /** A request about an idle instance that the thread serves even while another instance's op runs. */
  private control<O extends ControlRequest['op']>(host: Host, op: O, payload: WorkerOps[O]['payload']): Promise<ThreadReply> {
    const thread = host.thread;
    if (!thread.alive) return Promise.reject(instanceLost());
    const id = thread.nextCallId();
    host.controlOut++;
    return new Promise<ThreadReply>((resolve, reject) => {
      const settle = () => {
        host.controlOut--;
        this.pump(host);
      };
      thread.expect(
        id,
        (r) => {
          if (r.type !== 'done' && r.type !== 'error') return;
          settle();
          resolve(r);
        },
        () => {
          settle();
          reject(instanceLost());
        },
      );
      host.control.postMessage({ type: 'worker', id, op, payload });
      Atomics.store(host.controlFlag, 0, 1);
    });
  }

  /** Looks at a thread's waiting workers once its running op has held them for moveAfterMs. */
  private watch(host: Host): void {
    if (host.moveTimer !== null || host.running === null || !Number.isFinite(this.moveAfterMs)) return;
    // By the thread's clock once it is in the op; a full wait while the op is on its way to it.
    const wait = Math.max(0, this.moveAfterMs - heldFor(host));
    host.moveTimer = setTimeout(() => {
      host.moveTimer = null;
      this.rebalance(host);
    }, wait);
    host.moveTimer.unref();
  }

  /** Moves the workers waiting behind another worker's long op on `from` to idle threads, while there are some. */
  private rebalance(from: Host): void {
    const running = from.running;
    if (running === null || !from.thread.alive || this.closed) return;
    if (heldFor(from) < this.moveAfterMs) return this.watch(from);
    const seen = new Set<SharedThreadSlot>();
    for (const q of [...from.queue]) {
      const slot = q.slot;
      if (seen.has(slot)) continue;
      seen.add(slot);
      if (slot === running.op.slot || slot.moving || slot.released || !slot.movable) continue;
      // None idle now: the next thread to go idle looks again (lendTo).
      const to = this.idleHost(from);
      if (!to) return;
      void this.move(slot, from, to);
    }
  }

  /** A thread just went idle: it takes workers that wait behind a long op elsewhere. */
  private lendTo(idle: Host): void {
    if (!Number.isFinite(this.moveAfterMs)) return;
    for (const h of this.hosts) {
      if (busy(idle)) return;
      if (h !== idle && h.queue.length > 0 && heldFor(h) >= this.moveAfterMs) this.rebalance(h);
    }
  }

  /** The idle thread with the fewest instances (a new one while there are fewer than `count`), or null. */
  private idleHost(from: Host): Host | null {
    let best: Host | null = null;
    for (const h of this.hosts) {
      if (h === from || !h.thread.alive || busy(h) || h.controlOut > 0) continue;
      if (best === null || h.instances < best.instances) best = h;
    }
    if (best === null && this.hosts.length < this.count) {
      best = this.newHost();
      this.hosts.push(best);
    }
    return best;
  }

  /**
   * Moves an idle instance and its waiting ops from `from` to `to`. An instance not started yet
   * just changes threads. A failed move (the instance cannot be exported, an open file changed
   * under its path) leaves it where it was, and it is not tried again.
   */
  private async move(slot: SharedThreadSlot, from: Host, to: Host): Promise<void> {
    slot.moving = true;
    slot.held = from.queue.filter((q) => q.slot === slot);
    from.queue = from.queue.filter((q) => q.slot !== slot);
    to.instances++;
    to.incoming++;
    const began = performance.now();
    const started = slot.started;
    let home = from;
    try {
      if (started !== null) {
        const exported = unwrapReply(await this.control(from, 'export', { workerId: started.workerId })) as unknown as ExportedInstance;
        // Released meanwhile: its stop waits in `held`, for the thread that holds it.
        if (!slot.released) {
          const adopted = new Promise<ThreadReply>((resolve, reject) => {
            to.queue.unshift({ slot, op: 'adopt', payload: { ...started, ...exported }, opts: { timeoutMs: ADOPT_TIMEOUT_MS, transfer: [exported.memory] }, resolve, reject });
          });
          this.pump(to);
          unwrapReply(await adopted);
          home = to;
          // Its copy on `from` closes its fds now, not after the op that holds `from`.
          void this.control(from, 'stop', { workerId: started.workerId }).catch(() => undefined);
        }
      } else home = to;
      if (home === to) {
        this.stats.moves++;
        this.stats.moveMsTotal += performance.now() - began;
      }
    } catch {
      slot.movable = false;
      this.stats.failedMoves++;
    } finally {
      to.incoming--;
      if (home === to) {
        slot.host = to;
        // A slot dropped while it moved was counted off `from` already.
        (slot.dropped ? to : from).instances--;
      } else to.instances--;
      slot.moving = false;
      home.queue.unshift(...slot.held);
      slot.held = [];
      this.pump(home);
    }
  }

  private failQueue(host: Host): void {
    if (host.moveTimer) clearTimeout(host.moveTimer);
    host.moveTimer = null;
    for (const q of host.queue.splice(0)) q.reject(instanceLost());
  }

  /**
   * Posting a WebAssembly.Module costs the API thread and the guest thread a deserialization
   * (the compiled code itself is shared): each thread is sent a linked set once, then its key.
   */
  private withoutKnownModules(host: Host, payload: StartWorkerPayload): StartWorkerPayload {
    const key = payload.modulesKey;
    if (key === undefined || payload.modules === null) return payload;
    if (host.modules.has(key)) return { ...payload, modules: null };
    if (host.modules.size >= MAX_LINKED_SETS) host.modules.delete(host.modules.values().next().value!);
    host.modules.add(key);
    return payload;
  }

  private newHost(): Host {
    const progress = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
    const flag = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const { port1, port2 } = new MessageChannel();
    // The thread's end keeps the thread's loop alive, not ours: our end must not keep the process.
    port1.unref();
    this.onSpawn();
    return {
      thread: new GuestThread({ progress, control: { port: port2, flag } }),
      progress: new Float64Array(progress),
      instances: 0,
      queue: [],
      running: null,
      controlOut: 0,
      control: port1,
      controlFlag: new Int32Array(flag),
      modules: new Set(),
      stoppedFor: null,
      moveTimer: null,
      incoming: 0,
    };
  }

  private replaceDead(): void {
    if (this.closed) return;
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[i]!;
      if (h.thread.alive) continue;
      this.failQueue(h);
      h.control.close();
      this.hosts[i] = this.newHost();
      this.stats.threadsReplaced++;
    }
  }

  private checkDeadlines(): void {
    const now = Date.now();
    for (const host of this.hosts) {
      const running = host.progress[0]!;
      if (running === 0 || host.stoppedFor !== null || host.running?.id !== running) continue;
      const timeoutMs = host.running.op.opts.timeoutMs;
      if (now - host.progress[1]! > timeoutMs + this.backstopGraceMs) {
        host.stoppedFor = running;
        this.stats.timeouts++;
        void host.thread.terminate(timeoutError(timeoutMs));
      }
    }
    this.replaceDead();
  }
}

/**
 * How long the thread has been in the op it runs, by its own clock (ms): 0 once it has left it,
 * even if its reply is still on its way. An API thread slow to read replies (under load) must
 * not take a thread that is done for a stuck one.
 */
function heldFor(host: Host): number {
  if (host.running === null || host.progress[0] !== host.running.id) return 0;
  return Date.now() - host.progress[1]!;
}

/** Running an op, with ops waiting, or about to take a moving instance. */
function busy(host: Host): boolean {
  return host.running !== null || host.queue.length > 0 || host.incoming > 0;
}

/** A busy thread counts as holding many instances: new ones go to an idle thread first. */
function load(host: Host): number {
  return (busy(host) ? 1_000_000 : 0) + host.instances;
}

/** An instance on one of InstanceThreads' shared threads (which may move it to another). */
class SharedThreadSlot implements InstanceSlot {
  dropped = false;
  /** Its stop is on its way: a released instance is not moved. */
  released = false;
  /** Being moved: its new ops wait in `held` and follow it. */
  moving = false;
  held: QueuedOp[] = [];
  /** False for instances that cannot be exported (components), and after a failed move. */
  movable = true;
  /** What the instance was started from, less a restore's memory: a move starts it again elsewhere. */
  started: StartWorkerPayload | null = null;
  /** The worker whose instance this is (from its first op): `release` stops it by name. */
  private workerId: string | null = null;

  constructor(
    private readonly threads: InstanceThreads,
    public host: Host,
  ) {}

  get alive(): boolean {
    return !this.dropped && this.host.thread.alive;
  }

  startedFrom(p: StartWorkerPayload): void {
    this.started = { workerId: p.workerId, modules: p.modules, modulesKey: p.modulesKey, args: p.args, env: p.env, mounts: p.mounts, limits: p.limits };
  }

  async call<O extends WorkerOpName>(op: O, payload: WorkerOps[O]['payload'], opts: RunOptions): Promise<WorkerOps[O]['result']> {
    if (!this.alive) throw instanceLost();
    this.workerId ??= payload.workerId;
    const reply = await this.threads.run(this, op, payload, opts);
    // A timeout dropped the instance on the thread.
    if (reply.type === 'error' && reply.error.code === 'E_TIMEOUT') this.drop();
    // The thread's reply is the op's result (worker-protocol.ts types both ends of it).
    return unwrapReply(reply) as WorkerOps[O]['result'];
  }

  async release(): Promise<void> {
    if (this.dropped) return;
    this.released = true;
    // Queued now, not after an await: a new instance of the worker placed on this thread later
    // must find the stop ahead of its start. Awaited: once release() resolves the instance's fds
    // are closed (a delete removes its dir next, and a node short of fds needs them back).
    let stopped: Promise<unknown> = Promise.resolve();
    if (this.workerId !== null && this.host.thread.alive) {
      stopped = this.threads.run(this, 'stop', { workerId: this.workerId }, { timeoutMs: STOP_TIMEOUT_MS }).catch(() => undefined);
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
