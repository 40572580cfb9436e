/** File placement: worker roots from file trees, atomic updates, measuring, snapshots. */
export { placeFileTree, type PlaceFileTreeOptions, type PlacementResult } from './place-file-tree.js';
export { planUpdate, type UpdatePlan, type UpdateAction, type UpdateActionKind, type UpdateRule } from './plan-update.js';
export { applyUpdate, type ApplyUpdateOptions, type ApplyUpdateResult } from './apply-update.js';
export { readRootTag, recoverRoot, writeRootTag, type RecoverOutcome, type RootTag } from './recover-root.js';
export { measureTree } from './measure-tree.js';
export { fileIdentity, readOnlyIdentities } from './file-identity.js';
export { snapshotWritableTree, type SnapshotWritableTreeOptions, type SnapshotWritableTreeResult } from './snapshot-tree.js';
export { restoreWritableTree, type RestoreWritableTreeOptions, type RestoreWritableTreeResult } from './restore-tree.js';
export { removeWorkerDir, removeWorkerRoot } from './remove-worker-dir.js';
export type { CopyFallbackEvent } from './place-blob-file.js';
export type { PlacementLogger } from './placement-logger.js';
