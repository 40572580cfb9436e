import { WarrenError, type ErrorCode } from '../../errors.js';
import type { BusPayload } from '../bus.js';

/**
 * Bus payloads on NATS: UTF-8 JSON. Binary values (`Uint8Array`/`Buffer`, at any depth) travel
 * as `{"$binary": "<base64>"}` and come back as `Buffer`, so callers see the same shapes as on
 * the in-process bus. Base64 grows bytes by a third: a message holds at most about 750 KiB of
 * binary under the default 1 MiB max_payload; bigger bodies belong in Blobs (send the integrity).
 *
 * A handler's failure travels as `{"__error": {code, message, details}}` and is rethrown on the
 * requesting side as the same WarrenError.
 */

const BINARY_TAG = '$binary';

export function encodePayload(payload: BusPayload): Uint8Array {
  return Buffer.from(
    JSON.stringify(payload, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key]; // before Buffer.toJSON turned it into {type, data}
      if (raw instanceof Uint8Array) return { [BINARY_TAG]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
      return value;
    }),
  );
}

export function decodePayload(bytes: Uint8Array): BusPayload {
  const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'), (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const b64 = (v as Record<string, unknown>)[BINARY_TAG];
      if (keys.length === 1 && typeof b64 === 'string') return Buffer.from(b64, 'base64');
    }
    return v;
  });
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new WarrenError('E_BAD_REQUEST', 'bus payload is not a JSON object');
  }
  return value as BusPayload;
}

export interface WireError {
  __error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

export function errorReply(err: unknown): WireError {
  if (err instanceof WarrenError) return { __error: err.toJSON() };
  return { __error: { code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err), details: {} } };
}

/** Throws the WarrenError a reply carries, if it carries one. */
export function throwIfErrorReply(reply: BusPayload, subject: string): void {
  const e = reply.__error as WireError['__error'] | undefined;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    throw new WarrenError(e.code, e.message, { ...(e.details ?? {}), subject });
  }
}
