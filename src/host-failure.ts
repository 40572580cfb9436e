import { isWarrenError, WarrenError } from './errors.js';

/** EMFILE (this process) or ENFILE (the whole system): out of file descriptors. */
export function isFdExhaustion(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** The error a call gets when the node is out of file descriptors: retryable, and no host path in it. */
export function tooManyFilesError(what: string): WarrenError {
  return new WarrenError('E_TOO_MANY_FILES', `${what}: the node is out of file descriptors; try again later`);
}

/**
 * A failure of the host's own code as an error for the call that met it, never a crash of the
 * node: out of fds is E_TOO_MANY_FILES, a WarrenError stays itself, anything else is E_INTERNAL.
 */
export function hostFailure(err: unknown, what: string): WarrenError {
  if (isWarrenError(err)) return err;
  if (isFdExhaustion(err)) return tooManyFilesError(what);
  return new WarrenError('E_INTERNAL', `${what}: ${err instanceof Error ? err.message : String(err)}`);
}
