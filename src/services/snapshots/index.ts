/** Snapshots of workers as stored: fork, list, and the keys. Taking and restoring them (pause, commit, resume) is in ../instances. */
export { forkWorker, type ForkWorkerInput, type ForkWorkerResult } from './fork-worker.js';
export { listSnapshots, type SnapshotList } from './list-snapshots.js';
export { getSnapshot, snapshotKey } from './snapshot-keys.js';
