import { WarrenError } from '../../errors.js';
import type { MountTable, WasiState } from '../../wasi/index.js';

/**
 * Points a snapshot's WASI state at this worker's dirs on this node: each mount keeps its index
 * (fds refer to mounts by index) and guest path, and takes the host path of the mount with that
 * guest path in `mounts` (the table a fresh start would use). The read-only list is the current
 * one: it is found by inode in the root as placed here. A worker resumed on another node, or a
 * fork, has its dirs somewhere else than where the snapshot was taken.
 */
export function rebaseWasiState(state: WasiState, mounts: MountTable): WasiState {
  const rebased = state.mounts.mounts.map((m) => {
    const here = mounts.mounts.find((n) => n.guestPath === m.guestPath);
    if (!here) throw new WarrenError('E_SNAPSHOT_INVALID', `the snapshot has a mount at ${m.guestPath}, which this worker does not`, { guestPath: m.guestPath });
    // The lower layer (an overlay root's shared tree) is this node's too, or none if `mounts` has none.
    const { lowerPath: _old, ...rest } = m;
    return { ...rest, hostPath: here.hostPath, mode: here.mode, ...(here.lowerPath === undefined ? {} : { lowerPath: here.lowerPath }) };
  });
  // fds keep their mount index and mount-relative path; WasiHost.restore rebuilds host paths from them.
  return { ...state, mounts: { mounts: rebased, readOnlyFiles: [...mounts.readOnlyFiles] }, readOnlyIds: [] };
}
