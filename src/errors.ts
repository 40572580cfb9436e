/**
 * One error class for the whole of Warren. `code` is stable and documented: scripts and the
 * HTTP API rely on it (the API maps codes to statuses in one table, src/api/error-status.ts).
 */
export type ErrorCode =
  | 'E_MANIFEST_INVALID'
  | 'E_MANIFEST_SYNTAX'
  | 'E_FQ_NAME_INVALID'
  | 'E_VERSION_INVALID'
  | 'E_VERSION_EXISTS'
  | 'E_NOT_FOUND'
  | 'E_ALREADY_EXISTS'
  | 'E_CONFLICT'
  | 'E_IN_USE'
  | 'E_BAD_REQUEST'
  | 'E_HEADERS_TOO_LARGE'
  | 'E_BAD_ARGS'
  | 'E_WASM_INVALID'
  | 'E_MODULE_MISSING'
  | 'E_EXTENSION_MISSING'
  | 'E_IMPORT_UNKNOWN'
  | 'E_IMPORT_UNSUPPORTED'
  | 'E_ZIP_INVALID'
  | 'E_ZIP_UNSAFE'
  | 'E_ZIP_TOO_LARGE'
  | 'E_PATH_INVALID'
  | 'E_READ_ONLY'
  | 'E_TRAP'
  | 'E_TIMEOUT'
  | 'E_MEMORY_LIMIT'
  | 'E_OUTPUT_LIMIT'
  | 'E_DISK_QUOTA'
  | 'E_UPDATE_CONFLICT'
  | 'E_WORKER_STATE'
  | 'E_CANCELLED'
  | 'E_SNAPSHOT_FAILED'
  | 'E_SNAPSHOT_INVALID'
  | 'E_FILTER_INVALID'
  | 'E_UNAUTHORIZED'
  | 'E_TOKEN_EXPIRED'
  | 'E_TOKEN_INVALID'
  | 'E_TOKEN_REVOKED'
  | 'E_FORBIDDEN'
  | 'E_INTEGRITY'
  | 'E_UNAVAILABLE'
  | 'E_BUSY'
  | 'E_TOO_MANY_FILES'
  | 'E_MANIFEST_TOO_LARGE'
  | 'E_MANIFEST_TOO_MANY_ENTRIES'
  | 'E_DATA_DIR_LOCKED'
  | 'E_INTERNAL';

export class WarrenError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'WarrenError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isWarrenError(err: unknown, code?: ErrorCode): err is WarrenError {
  return err instanceof WarrenError && (code === undefined || err.code === code);
}
