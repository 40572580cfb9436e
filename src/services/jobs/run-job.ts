import { WarrenError, isWarrenError } from '../../errors.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { loadLinkedModules } from '../components/load-linked-modules.js';
import { readWorkerSettings } from '../workers/read-worker-settings.js';
import { hasJobFiles, prepareJobFiles, type JobFiles } from './prepare-job-files.js';

export interface RunJobInput {
  fq: string;
  version?: string;
  stdin: Uint8Array;
  args: string[];
  env: Record<string, string>;
  /** Overrides, capped by the manifest's limits. */
  limits?: { memoryBytes?: number; timeoutMs?: number };
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
}

export interface JobResult {
  fq: string;
  version: string;
  exitCode: number;
  durationMs: number;
  memoryBytes: number;
}

/**
 * One run of a component's `_start`: a fresh instance on a pooled thread, stdin in, stdout and
 * stderr streamed out through the callbacks, nothing kept. argv[0] is the component's name. The
 * guest sees its component's initial files as a new worker would (prepareJobFiles), with the
 * manifest's disk quota; what it writes is gone when the job ends.
 */
export async function runJob(ctx: NodeContext, input: RunJobInput): Promise<JobResult> {
  const started = performance.now();
  let record: ComponentVersionRecord | undefined;
  let files: JobFiles | null = null;
  try {
    record = await ctx.versions.get(input.fq, input.version);
    const manifestLimits = record.manifest.limits as { memory: number; timeout: number };
    const timeoutMs = Math.min(input.limits?.timeoutMs ?? manifestLimits.timeout, manifestLimits.timeout);
    const modules = await loadLinkedModules(ctx, record, input.limits?.memoryBytes, { recycledMemory: true });
    const manifestEnv = (record.manifest.env ?? {}) as Record<string, string>;
    // A version without files or volumes (most jobs) takes no step at all here.
    if (hasJobFiles(record)) files = await prepareJobFiles(ctx, record);
    const result = await ctx.pool.runJob(
      {
        type: 'run-job',
        modules: { main: modules.main, extensions: modules.extensions, ...(modules.component ? { component: modules.component } : {}) },
        modulesKey: modules.key,
        args: [record.name, ...input.args],
        env: { ...manifestEnv, ...input.env },
        stdin: input.stdin,
        mounts: files?.mounts ?? null,
        limits: {
          maxOutputBytes: ctx.maxOutputBytes,
          memoryMaxBytes: modules.memoryMaxBytes,
          ...(files ? { diskQuotaBytes: readWorkerSettings(record).limits.disk } : {}),
        },
        recycledMemory: modules.recycledMemory,
      },
      { timeoutMs, onStdout: input.onStdout, onStderr: input.onStderr },
    );
    if (result.outputLimitExceeded) {
      throw new WarrenError('E_OUTPUT_LIMIT', `job wrote more than ${ctx.maxOutputBytes} bytes of output and was cut off`, { limitBytes: ctx.maxOutputBytes });
    }
    const durationMs = performance.now() - started;
    ctx.metrics.jobsRun.inc({ outcome: 'ok' });
    ctx.metrics.jobDuration.observe(durationMs / 1000);
    return { fq: record.fq, version: record.version, exitCode: Number(result.exitCode), durationMs, memoryBytes: Number(result.memoryBytes) };
  } catch (err) {
    ctx.metrics.jobsRun.inc({ outcome: 'error' });
    ctx.metrics.jobFailures.inc({ code: isWarrenError(err) ? err.code : 'E_INTERNAL' });
    ctx.metrics.jobDuration.observe((performance.now() - started) / 1000);
    if (isWarrenError(err) && record) err.details.component = `${record.fq}@${record.version}`;
    throw err;
  } finally {
    await files?.dispose();
  }
}
