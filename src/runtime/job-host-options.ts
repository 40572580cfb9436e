import type { WasiHostOptions } from '../wasi/index.js';
import { threadFdBudget } from './guest-fd-budget.js';
import type { JobRunIo } from './job-runner.js';
import type { RunJobRequest } from './thread-protocol.js';

/** What a job's WASI host gets from its request and its output, for a core module (WasiHost) or a component (Wasi2Host) alike. */
export function jobHostOptions(req: Pick<RunJobRequest, 'args' | 'env' | 'mounts' | 'stdin' | 'limits'>, io: JobRunIo): WasiHostOptions {
  return {
    args: req.args,
    env: req.env,
    mounts: req.mounts ?? { mounts: [], readOnlyFiles: [] },
    stdin: req.stdin,
    stdout: io.stdout,
    stderr: io.stderr,
    maxOutputBytes: req.limits.maxOutputBytes,
    diskQuotaBytes: req.limits.diskQuotaBytes,
    mayBlock: io.mayBlock ?? true,
    fdBudget: threadFdBudget(),
  };
}
