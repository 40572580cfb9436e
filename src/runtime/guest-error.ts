import { WarrenError } from '../errors.js';
import { isFdExhaustion, tooManyFilesError } from '../host-failure.js';
import type { GuestErrorInfo } from './thread-protocol.js';

/** A guest call stopped at its timeout, wherever it was stopped (API thread timer, job thread, backstop). */
export function timeoutError(timeoutMs: number): WarrenError {
  return new WarrenError('E_TIMEOUT', `guest ran past its ${timeoutMs} ms timeout and was stopped`, { timeoutMs });
}

/**
 * Turns what a guest run threw into a stable error code. A trap while linear memory sits at its
 * maximum is reported as E_MEMORY_LIMIT: the guest asked for more than its limit and died of it.
 */
export function classifyGuestError(err: unknown, memory?: { bytes: number; maxBytes: number | null }): GuestErrorInfo {
  if (err instanceof WebAssembly.LinkError) {
    return { code: 'E_EXTENSION_MISSING', message: `cannot link guest: ${err.message}`, details: {} };
  }
  if (err instanceof WebAssembly.CompileError) {
    return { code: 'E_WASM_INVALID', message: `invalid module: ${err.message}`, details: {} };
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  const wasmStack = stack.split('\n').filter((l) => l.includes('wasm://') || l.includes('wasm-function')).map((l) => l.trim());
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return { code: 'E_TRAP', message: 'guest trapped: stack overflow (call stack exhausted)', details: { trap: 'stack overflow', stack: wasmStack } };
  }
  if (err instanceof WebAssembly.RuntimeError || err instanceof RangeError) {
    const atLimit = memory && memory.maxBytes !== null && memory.bytes >= memory.maxBytes;
    if (atLimit) {
      return {
        code: 'E_MEMORY_LIMIT',
        message: `guest trapped at its memory limit (${memory.maxBytes} bytes): ${err.message}`,
        details: { trap: err.message, limitBytes: memory.maxBytes, stack: wasmStack },
      };
    }
    return { code: 'E_TRAP', message: `guest trapped: ${err.message}`, details: { trap: err.message, stack: wasmStack } };
  }
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string' && String((err as { code: string }).code).startsWith('E_')) {
    const e = err as { code: string; message?: string; details?: Record<string, unknown> };
    return { code: e.code, message: e.message ?? e.code, details: e.details ?? {} };
  }
  if (isFdExhaustion(err)) return tooManyFilesError('guest host').toJSON();
  return { code: 'E_INTERNAL', message: `guest host failure: ${err instanceof Error ? err.message : String(err)}`, details: {} };
}
