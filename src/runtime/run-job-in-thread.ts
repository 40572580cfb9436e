import { JobRunner } from './job-runner.js';
import { OutputBatcher } from './output-batcher.js';
import type { LinkedModules, RunJobRequest, ThreadReply } from './thread-protocol.js';

const runner = new JobRunner();
const linkedSets = new Map<string, LinkedModules>();

/** Thread side of a job: output streamed back in chunks; the last chunk rides on the reply. */
export function runJobInThread(req: RunJobRequest, post: (reply: ThreadReply, transfer?: ArrayBuffer[]) => void): void {
  const stdout = new OutputBatcher((chunk) => post({ type: 'stdout', id: req.id, chunk }));
  const stderr = new OutputBatcher((chunk) => post({ type: 'stderr', id: req.id, chunk }));
  let modules: LinkedModules;
  try {
    modules = modulesFor(req);
  } catch (err) {
    post({ type: 'error', id: req.id, error: { code: 'E_INTERNAL', message: (err as Error).message, details: {} } });
    return;
  }
  const outcome = runner.run(req, modules, { stdout: (c) => stdout.write(c), stderr: (c) => stderr.write(c) });
  if (outcome.ok) {
    // One message per small job, not three.
    post({ type: 'done', id: req.id, result: { ...outcome.result, stdoutTail: stdout.take(), stderrTail: stderr.take() } });
  } else {
    stdout.flush();
    stderr.flush();
    post({ type: 'error', id: req.id, error: outcome.error });
  }
}

/** The linked set of a request: sent along the first time, then taken from this thread's cache. */
function modulesFor(req: RunJobRequest): LinkedModules {
  if (req.resetModules) linkedSets.clear();
  if (req.modules) {
    linkedSets.set(req.modulesKey, req.modules);
    return req.modules;
  }
  const known = linkedSets.get(req.modulesKey);
  if (!known) throw new Error(`guest thread lost linked set ${req.modulesKey}`);
  return known;
}
