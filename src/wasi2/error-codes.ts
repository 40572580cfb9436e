import { E } from '../wasi/abi.js';

/** wasi:filesystem/types error-code of each preview1 errno (what wasmtime and the preview1 adapter map between). */
const CODES: Record<number, string> = {
  [E.ACCES]: 'access', [E.AGAIN]: 'would-block', [E.BADF]: 'bad-descriptor', [E.BUSY]: 'busy', [E.DQUOT]: 'quota',
  [E.EXIST]: 'exist', [E.FBIG]: 'file-too-large', [E.ILSEQ]: 'illegal-byte-sequence', [E.INTR]: 'interrupted',
  [E.INVAL]: 'invalid', [E.IO]: 'io', [E.ISDIR]: 'is-directory', [E.LOOP]: 'loop', [E.MLINK]: 'too-many-links',
  [E.NAMETOOLONG]: 'name-too-long', [E.NODEV]: 'no-device', [E.NOENT]: 'no-entry', [E.NOMEM]: 'insufficient-memory',
  [E.MFILE]: 'insufficient-memory', [E.NFILE]: 'insufficient-memory', [E.NOSPC]: 'insufficient-space',
  [E.NOTDIR]: 'not-directory', [E.NOTEMPTY]: 'not-empty', [E.NOTSUP]: 'unsupported', [E.NOTTY]: 'no-tty',
  [E.NXIO]: 'no-such-device', [E.OVERFLOW]: 'overflow', [E.PERM]: 'not-permitted', [E.PIPE]: 'pipe',
  [E.ROFS]: 'read-only', [E.SPIPE]: 'invalid-seek', [E.TXTBSY]: 'text-file-busy', [E.XDEV]: 'cross-device',
  [E.NOTCAPABLE]: 'access', [E.NOSYS]: 'unsupported',
};

/**
 * The error-code for a failure of the preview1 layer: a thrown errno (number) maps; anything
 * else is a host bug and is rethrown (it traps the guest rather than passing for a guest error).
 */
export function errorCodeOf(err: unknown): string {
  if (typeof err === 'number') return CODES[err] ?? 'io';
  throw err;
}

/** Runs `fn`, turning a preview1 errno into the thrown error-code string jco's glue lowers as `err`. */
export function fsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw errorCodeOf(err);
  }
}
