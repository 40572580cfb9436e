import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one node, on a registry of its own (several nodes may share a process in tests). */
export class WarrenMetrics {
  readonly registry = new Registry();
  readonly jobsRun = new Counter({ name: 'warren_jobs_total', help: 'Jobs run, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly jobDuration = new Histogram({
    name: 'warren_job_duration_seconds',
    help: 'Wall-clock time of jobs',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly jobFailures = new Counter({ name: 'warren_job_failures_total', help: 'Jobs that failed, by error code', labelNames: ['code'] as const, registers: [this.registry] });
  readonly componentsPushed = new Counter({ name: 'warren_components_pushed_total', help: 'Component versions pushed', registers: [this.registry] });
  readonly invocations = new Counter({ name: 'warren_worker_invocations_total', help: 'Worker invocations, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly snapshotsOnCall = new Counter({ name: 'warren_snapshots_on_call_total', help: 'Snapshots committed after a call ([snapshots] on_call), by scope', labelNames: ['scope'] as const, registers: [this.registry] });
  readonly callsReplayed = new Counter({ name: 'warren_calls_replayed_total', help: 'Calls answered from the result recorded for their idempotency key', registers: [this.registry] });
  readonly fileReads = new Counter({
    name: 'warren_file_reads_total',
    help: "Worker file reads (contents, archives): staged (the state between two calls was copied), cancelled (the client went away), failed",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly fileReadsWaiting = new Gauge({ name: 'warren_file_reads_waiting', help: "Worker file reads waiting in their worker's queue", registers: [this.registry] });
  readonly liveWorkers = new Gauge({ name: 'warren_live_workers', help: 'Workers with a live instance on this node', registers: [this.registry] });
  readonly placementCopyFallbacks = new Counter({
    name: 'warren_placement_copy_fallbacks_total',
    help: 'Read-only files copied instead of hardlinked (store on another filesystem, link limit)',
    registers: [this.registry],
  });
  readonly gcSweptBlobs = new Counter({ name: 'warren_gc_swept_blobs_total', help: 'Blobs removed by GC', registers: [this.registry] });

  constructor() {
    // prom-client's default names start with process_ / nodejs_ already: `warren_` makes them
    // warren_process_cpu_seconds_total (a `warren_process_` prefix doubled it).
    collectDefaultMetrics({ register: this.registry, prefix: 'warren_' });
  }

  /** Job lanes' queue and batching, read when scraped (`source` null: one job per thread, no lanes). */
  observeJobLanes(source: () => { outstanding: number; stats: { batches: number; jobs: number } } | null): void {
    new Gauge({
      name: 'warren_jobs_queued',
      help: 'Jobs posted to job threads and not finished',
      registers: [this.registry],
      collect() {
        this.set(source()?.outstanding ?? 0);
      },
    });
    new Gauge({
      name: 'warren_job_thread_messages',
      help: 'Messages that carried jobs to job threads since start (jobs run / this = the mean batch)',
      registers: [this.registry],
      collect() {
        this.set(source()?.stats.batches ?? 0);
      },
    });
  }
}
