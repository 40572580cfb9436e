/** Snapshots of workers: pause, commit, resume, fork, list, and idle eviction. */
export { pauseWorker, type PauseWorkerOptions, type PauseWorkerResult } from './pause-worker.js';
export { commitWorker, type CommitWorkerResult } from './commit-worker.js';
export { resumeWorker, type ResumeWorkerResult } from './resume-worker.js';
export { forkWorker, type ForkWorkerInput, type ForkWorkerResult } from './fork-worker.js';
export { listSnapshots, type SnapshotList } from './list-snapshots.js';
export { ensureLiveInstance, type EnsuredInstance } from './ensure-live-instance.js';
export { evictIdleWorkers, startIdleEviction, enforceLiveBudget, type EvictionPolicy, type EvictionReport } from './evict-idle-workers.js';
export { pauseLiveWorkers } from './pause-live-workers.js';
export { getSnapshot, snapshotKey } from './snapshot-keys.js';
export type { SnapshotStats } from './take-snapshot.js';
