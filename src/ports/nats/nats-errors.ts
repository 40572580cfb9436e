import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, ConnectionError, DrainingConnectionError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { WarrenError } from '../../errors.js';

/** Nats-Expected-Last-Subject-Sequence did not hold (the second code is newer servers' "unknown" variant). */
export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** Nobody listens on a request's subject (core NATS 503). */
export function isNoResponders(err: unknown): boolean {
  return err instanceof RequestError && err.isNoResponders();
}

/**
 * No server answered in time, nobody listens, JetStream is not there (yet), or the connection is
 * gone: the cluster is unavailable. The JetStream client turns a 503 on its API subjects into
 * JetStreamNotEnabled, which @nats-io/jetstream does not export: it is matched by name.
 */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof TimeoutError || err instanceof ClosedConnectionError || err instanceof DrainingConnectionError || err instanceof ConnectionError) {
    return true;
  }
  if (err instanceof RequestError) return err.isNoResponders() || /disconnect/i.test(err.message) || (err.cause !== undefined && isUnavailable(err.cause));
  if (err instanceof JetStreamApiError) return err.status === 503;
  return err instanceof Error && err.name === 'JetStreamNotEnabled';
}

/** Wraps anything NATS throws that has no better Warren meaning. */
export function fromNatsError(err: unknown, what: string, details: Record<string, unknown> = {}): WarrenError {
  if (err instanceof WarrenError) return err;
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  const nats = { natsError: err instanceof Error ? err.name : undefined, jsErrCode: err instanceof JetStreamApiError ? err.code : undefined };
  if (isUnavailable(err)) return new WarrenError('E_UNAVAILABLE', message, { ...details, ...nats });
  return new WarrenError('E_INTERNAL', message, { ...details, ...nats });
}
