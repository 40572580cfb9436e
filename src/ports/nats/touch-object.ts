import { JetStreamApiError, JsHeaders, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { isWrongLastSequence } from './nats-errors.js';

/**
 * Object Store meta lives on `$O.<bucket>.M.<base64url-padded name>` of stream `OBJ_<bucket>`
 * (ADR-20); the client's `update()` rewrites meta but keeps `mtime`. Re-putting a blob must
 * restart its GC grace period, as DiskBlobs.touch does locally, so this republishes the meta
 * with a fresh `mtime`, guarded by the meta's revision: a concurrent delete or re-upload wins
 * and the caller uploads again.
 *
 * Returns false when the object is absent, deleted, or changed under us.
 */
export async function touchObject(js: JetStreamClient, jsm: JetStreamManager, bucket: string, name: string): Promise<boolean> {
  const subject = `$O.${bucket}.M.${Buffer.from(name, 'utf8').toString('base64url')}${padding(name)}`;
  let stored;
  try {
    stored = await jsm.streams.getMessage(`OBJ_${bucket}`, { last_by_subj: subject }); // null: no such message
  } catch (err) {
    if (err instanceof JetStreamApiError && err.status === 404) return false; // no such stream
    throw err;
  }
  if (!stored) return false;
  const meta = stored.json<Record<string, unknown>>();
  if (meta.deleted === true) return false;
  meta.mtime = new Date().toISOString();
  const h = headers();
  h.set(JsHeaders.RollupHdr, JsHeaders.RollupValueSubject);
  try {
    await js.publish(subject, JSON.stringify(meta), { headers: h, expect: { lastSubjectSequence: stored.seq } });
  } catch (err) {
    if (isWrongLastSequence(err)) return false;
    throw err;
  }
  return true;
}

/** @nats-io/obj names meta subjects with *padded* base64url; Node's base64url has no padding. */
function padding(name: string): string {
  const rem = Buffer.byteLength(name, 'utf8') % 3;
  return rem === 0 ? '' : '='.repeat(3 - rem);
}
