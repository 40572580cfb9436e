import { WarrenError } from '../errors.js';
import { readUnsigned } from './leb128.js';

/** `\0asm` + the component-model layer's version word (0x0d 0x00 0x01 0x00). */
const COMPONENT_PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const EXPORT_SECTION = 11;

/** True for a WebAssembly component (not a core module): its preamble says layer 1. */
export function isComponentBinary(bytes: Uint8Array): boolean {
  if (bytes.byteLength < COMPONENT_PREAMBLE.length) return false;
  return COMPONENT_PREAMBLE.every((b, i) => bytes[i] === b);
}

/** An interface export (`warren:fixtures/kinds@1.0.0`) renamed to a plain kebab name, and back. */
export interface RenamedExport {
  plain: string;
  original: string;
}

/**
 * The component with its top-level interface exports renamed to plain names
 * (`warren:fixtures/kinds` → `warren-fixtures-kinds`). Why: the WIT printer that jco ships prints
 * only the component's own package, so an exported interface of another package shows as
 * `export warren:fixtures/kinds;` with no functions or types; an export with a plain name is
 * printed inline (`export warren-fixtures-kinds: interface { ... }`) with all of them. Only
 * names change: the export section is rewritten, every other byte is kept.
 */
export function withPlainExportNames(bytes: Uint8Array): { bytes: Uint8Array; renamed: RenamedExport[] } {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const renamed: RenamedExport[] = [];
  let pos = 8;
  while (pos < bytes.byteLength) {
    const id = bytes[pos]!;
    const [size, bodyStart] = readU32At(bytes, pos + 1);
    const end = bodyStart + size;
    if (end > bytes.byteLength) throw invalid('a section runs past the end of the component');
    if (id === EXPORT_SECTION) {
      const body = renameExports(bytes.subarray(bodyStart, end), renamed, new Set());
      parts.push(Uint8Array.of(EXPORT_SECTION, ...u32(body.byteLength)), body);
    } else parts.push(bytes.subarray(pos, end));
    pos = end;
  }
  return { bytes: concat(parts), renamed };
}

const INTERFACE_NAME = /^([a-z][a-z0-9-]*):([a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(@[0-9A-Za-z.+-]+)?$/;

function renameExports(body: Uint8Array, renamed: RenamedExport[], taken: Set<string>): Uint8Array {
  let [count, pos] = readU32At(body, 0);
  const out: number[] = [...u32(count)];
  const entries: { name: string; rest: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    // exportname': 0x00 len name (plain or interface name), or 0x01 (with a version suffix form).
    const tag = body[pos]!;
    if (tag !== 0x00 && tag !== 0x01) throw invalid(`unknown export name form 0x${tag.toString(16)}`);
    const [len, nameStart] = readU32At(body, pos + 1);
    const name = new TextDecoder().decode(body.subarray(nameStart, nameStart + len));
    const restStart = nameStart + len;
    pos = skipExportRest(body, restStart);
    entries.push({ name, rest: body.subarray(restStart, pos) });
  }
  for (const e of entries) taken.add(e.name);
  for (const e of entries) {
    let name = e.name;
    const m = INTERFACE_NAME.exec(name);
    if (m) {
      let plain = `${m[1]}-${m[2]}-${m[3]}`;
      for (let n = 2; taken.has(plain); n++) plain = `${m[1]}-${m[2]}-${m[3]}-v${n}`;
      taken.add(plain);
      renamed.push({ plain, original: name });
      name = plain;
    }
    const encoded = new TextEncoder().encode(name);
    out.push(0x00, ...u32(encoded.byteLength), ...encoded, ...e.rest);
  }
  return Uint8Array.from(out);
}

/** Past `sort idx (0x00 externdesc | 0x01 externdesc)?` of one export entry. */
function skipExportRest(b: Uint8Array, pos: number): number {
  const sort = b[pos++]!;
  if (sort === 0x00) pos++; // core sort byte
  pos = readU32At(b, pos)[1];
  const hasType = b[pos++]!;
  if (hasType === 0x00) return pos;
  const kind = b[pos++]!;
  switch (kind) {
    case 0x00: // core module: 0x11 typeidx
      return readU32At(b, pos + 1)[1];
    case 0x03: { // type bound: eq idx | sub resource
      const bound = b[pos++]!;
      return bound === 0x00 ? readU32At(b, pos)[1] : pos;
    }
    default: // func, value (a primitive byte or a type index), component, instance
      return readU32At(b, pos)[1];
  }
}

function readU32At(b: Uint8Array, pos: number): [number, number] {
  const r = readUnsigned(b, pos);
  return [r.value, r.next];
}

function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function invalid(why: string): WarrenError {
  return new WarrenError('E_WASM_INVALID', `the WebAssembly component is malformed: ${why}`);
}
