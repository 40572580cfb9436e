import { WarrenError } from '../../errors.js';
import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { ComponentGuestState } from '../../runtime/component-state.js';
import type { GlobalValues } from '../../runtime/worker-protocol.js';
import type { WasiState } from '../../wasi/index.js';

/**
 * The `state` blob of a `full` snapshot: every exported global and the WASI state, as JSON; for a
 * component worker also its glue's resource tables (`component`; absent in a core module's).
 */
export interface GuestStateBlob {
  version: 1;
  globals: GlobalValues;
  wasi: WasiState;
  component?: ComponentGuestState;
}

export async function writeGuestState(target: Blobs, state: Omit<GuestStateBlob, 'version'>): Promise<Integrity> {
  const blob: GuestStateBlob = { version: 1, globals: state.globals, wasi: state.wasi, ...(state.component ? { component: state.component } : {}) };
  return (await target.put(JSON.stringify(blob))).integrity;
}

export async function readGuestState(source: Blobs, digest: Integrity): Promise<GuestStateBlob> {
  let parsed: GuestStateBlob;
  try {
    parsed = JSON.parse((await source.get(digest)).toString('utf8')) as GuestStateBlob;
  } catch (err) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `guest state ${digest} is unreadable: ${(err as Error).message}`, { digest });
  }
  if (parsed?.version !== 1 || typeof parsed.globals !== 'object' || parsed.wasi?.version !== 1) {
    throw new WarrenError('E_SNAPSHOT_INVALID', `guest state ${digest} has an unknown shape`, { digest });
  }
  return parsed;
}
