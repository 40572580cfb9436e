/** Live worker instances: start, restore, pause, commit, resume, idle eviction, and calls into them. */
export { pauseWorker, type PauseWorkerOptions, type PauseWorkerResult } from './pause-worker.js';
export { commitWorker, type CommitWorkerResult } from './commit-worker.js';
export { resumeWorker, type ResumeWorkerResult } from './resume-worker.js';
export { ensureLiveInstance, type EnsuredInstance } from './ensure-live-instance.js';
export { evictIdleWorkers, startIdleEviction, enforceLiveBudget, type EvictionPolicy, type EvictionReport } from './evict-idle-workers.js';
export { pauseLiveWorkers } from './pause-live-workers.js';
export type { SnapshotStats } from './take-snapshot.js';
