import { WarrenError } from '../../errors.js';

/** JetStream's "wrong last sequence" (Nats-Expected-Last-Subject-Sequence did not hold). */
const JS_WRONG_LAST_SEQUENCE = 10071;

interface NatsLikeError {
  code?: string;
  message?: string;
  api_error?: { code?: number; err_code?: number; description?: string };
}

function asNats(err: unknown): NatsLikeError {
  return typeof err === 'object' && err !== null ? (err as NatsLikeError) : {};
}

export function isWrongLastSequence(err: unknown): boolean {
  const e = asNats(err);
  return e.api_error?.err_code === JS_WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(e.message ?? '');
}

/** No server answered in time, nobody listens, or the connection is gone: the cluster is unavailable. */
export function isUnavailable(err: unknown): boolean {
  const code = asNats(err).code;
  return code === 'TIMEOUT' || code === '503' || code === 'CONNECTION_REFUSED' || code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DRAINING' || code === 'DISCONNECT';
}

/** Wraps anything NATS throws that has no better Warren meaning. */
export function fromNatsError(err: unknown, what: string, details: Record<string, unknown> = {}): WarrenError {
  if (err instanceof WarrenError) return err;
  const e = asNats(err);
  const message = `${what}: ${e.api_error?.description ?? e.message ?? String(err)}`;
  const nats = { natsCode: e.code, jsErrCode: e.api_error?.err_code };
  if (isUnavailable(err)) return new WarrenError('E_UNAVAILABLE', message, { ...details, ...nats });
  return new WarrenError('E_INTERNAL', message, { ...details, ...nats });
}
