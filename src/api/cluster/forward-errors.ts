import { WarrenError, isWarrenError } from '../../errors.js';

/** The request never reached a handler there: nobody serves the subject, or the worker moved. */
export function isRetryableForward(err: unknown): boolean {
  return isWarrenError(err, 'E_UNAVAILABLE') && (err.details.moved === true || /^no responder/.test(err.message));
}

/** The bus gave up waiting: the target may or may not have run the request. */
export function isForwardTimeout(err: unknown): boolean {
  return isWarrenError(err, 'E_UNAVAILABLE') && /^no reply in time/.test(err.message);
}

/** The answer was over NATS' max_payload and could not travel back. */
export function isReplyTooLarge(err: unknown): boolean {
  return isWarrenError(err, 'E_BAD_REQUEST') && typeof err.details.maxPayload === 'number';
}

export function bodyTooLarge(bytes: number, limit: number, target: string, url: string): WarrenError {
  return new WarrenError(
    'E_BAD_REQUEST',
    `request body of ${bytes} bytes is over the ${limit} bytes a node forwards over the cluster bus (NATS max_payload); send it to node ${target}${url ? ` directly at ${url}` : ''}`,
    { bytes, limitBytes: limit, node: target, url },
  );
}

export function replyTooLarge(err: WarrenError, target: string, url: string): WarrenError {
  return new WarrenError(
    'E_UNAVAILABLE',
    `the answer from node ${target} (${String(err.details.bytes)} bytes) is over NATS max_payload (${String(err.details.maxPayload)}) and cannot be forwarded; ask node ${target}${url ? ` directly at ${url}` : ''}`,
    { ...err.details, node: target, url },
  );
}
