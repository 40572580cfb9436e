import { WarrenError } from '../errors.js';

/** A decoded value and the offset just past it. */
export interface Decoded {
  value: number;
  next: number;
}

/**
 * Unsigned LEB128. Returned as a JS number: exact up to 2^53, which covers every index, size and
 * memory64 page count a real module carries.
 */
export function readUnsigned(bytes: Uint8Array, offset: number): Decoded {
  let value = 0;
  let scale = 1;
  let pos = offset;
  for (;;) {
    if (pos >= bytes.length) throw truncated(offset);
    const byte = bytes[pos++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, next: pos };
    scale *= 128;
    if (pos - offset > 10) throw new WarrenError('E_WASM_INVALID', `LEB128 at byte ${offset} is too long`);
  }
}

/** Skips a signed or unsigned LEB128 without decoding it. */
export function skipLeb(bytes: Uint8Array, offset: number): number {
  let pos = offset;
  for (;;) {
    if (pos >= bytes.length) throw truncated(offset);
    if ((bytes[pos++]! & 0x80) === 0) return pos;
    if (pos - offset > 10) throw new WarrenError('E_WASM_INVALID', `LEB128 at byte ${offset} is too long`);
  }
}

export function encodeUnsigned(value: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot LEB128-encode ${value}`);
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return Uint8Array.from(out);
}

function truncated(offset: number): WarrenError {
  return new WarrenError('E_WASM_INVALID', `module ends inside a LEB128 at byte ${offset}`);
}
