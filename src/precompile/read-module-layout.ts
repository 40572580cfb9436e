import { WarrenError } from '../errors.js';
import { readUnsigned, skipLeb } from './leb128.js';
import { SECTION, findSection, readSections, type SectionSpan } from './read-sections.js';

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
const KINDS: ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

/** Memory or table limits, with the byte range `[start, end)` they occupy (flags included). */
export interface Limits {
  flags: number;
  min: number;
  max: number | null;
  shared: boolean;
  is64: boolean;
  start: number;
  end: number;
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternKind;
  /** For function imports: the index of its type in the type section. */
  typeIndex?: number;
  /** For memory imports. */
  limits?: Limits;
  /** For global imports. */
  global?: { type: string; mutable: boolean };
}

export interface ExportEntry {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface GlobalEntry {
  /** Index in the global index space (imported globals come first). */
  index: number;
  type: string;
  mutable: boolean;
}

/** What Warren's transforms need to know of a module, read without decoding any code. */
export interface ModuleLayout {
  sections: SectionSpan[];
  imports: ImportEntry[];
  exports: ExportEntry[];
  /** Defined (not imported) memories. */
  memories: Limits[];
  /** Defined (not imported) globals. */
  globals: GlobalEntry[];
  importedGlobals: number;
  importedMemories: number;
}

const VALTYPES: Record<number, string> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref',
};

/** Reads a section's payload: bytes, LEB128 numbers, names, value types, limits. */
export class Cursor {
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number) {}
  byte(): number {
    if (this.pos >= this.end) throw new WarrenError('E_WASM_INVALID', `section ends early at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    const d = readUnsigned(this.bytes, this.pos);
    this.pos = d.next;
    return d.value;
  }
  skipLeb(): void {
    this.pos = skipLeb(this.bytes, this.pos);
  }
  skip(n: number): void {
    this.pos += n;
  }
  name(): string {
    const len = this.u32();
    const s = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, len).toString('utf8');
    this.pos += len;
    return s;
  }
  valtype(): string {
    const b = this.byte();
    if (b === 0x63 || b === 0x64) {
      this.skipLeb(); // heap type, s33
      return b === 0x63 ? 'ref null' : 'ref';
    }
    return VALTYPES[b] ?? `0x${b.toString(16)}`;
  }
  limits(): Limits {
    const start = this.pos;
    const flags = this.byte();
    if (flags > 0x07) throw new WarrenError('E_WASM_INVALID', `bad limits flags 0x${flags.toString(16)} at byte ${start}`);
    const min = this.u32();
    const max = flags & 1 ? this.u32() : null;
    return { flags, min, max, shared: (flags & 2) !== 0, is64: (flags & 4) !== 0, start, end: this.pos };
  }
  /** Skips a constant expression up to and including its `end`. */
  constExpr(): void {
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd0 || op === 0xd2) this.skipLeb();
      else if (op === 0x43) this.skip(4);
      else if (op === 0x44) this.skip(8);
      else if ((op >= 0x6a && op <= 0x6c) || (op >= 0x7c && op <= 0x7e)) continue;
      else if (op === 0xfd) {
        if (this.u32() !== 12) throw unsupported(op, this.pos);
        this.skip(16);
      } else if (op === 0xfb) {
        const sub = this.u32();
        if ([0, 1, 6, 7].includes(sub)) this.u32();
        else if (sub === 8) (this.u32(), this.u32());
        else if (![0x1a, 0x1b, 0x1c].includes(sub)) throw unsupported(op, this.pos);
      } else throw unsupported(op, this.pos);
    }
  }
}

function unsupported(op: number, pos: number): WarrenError {
  return new WarrenError('E_WASM_INVALID', `unsupported opcode 0x${op.toString(16)} in a constant expression at byte ${pos}`);
}

function cursorFor(wasm: Uint8Array, section: SectionSpan | undefined): { c: Cursor; count: number } | null {
  if (!section) return null;
  const c = new Cursor(wasm, section.payload, section.end);
  return { c, count: c.u32() };
}

export function readModuleLayout(wasm: Uint8Array): ModuleLayout {
  const sections = readSections(wasm);
  const imports: ImportEntry[] = [];
  const exports: ExportEntry[] = [];
  const memories: Limits[] = [];
  const globals: GlobalEntry[] = [];

  const imp = cursorFor(wasm, findSection(sections, SECTION.import));
  for (let i = 0; imp && i < imp.count; i++) {
    const { c } = imp;
    const module = c.name();
    const name = c.name();
    const kindByte = c.byte();
    const kind = KINDS[kindByte];
    if (!kind) throw new WarrenError('E_WASM_INVALID', `bad import kind ${kindByte} for ${module}.${name}`);
    const entry: ImportEntry = { module, name, kind };
    if (kind === 'function') entry.typeIndex = c.u32();
    else if (kind === 'table') (c.valtype(), c.limits());
    else if (kind === 'memory') entry.limits = c.limits();
    else if (kind === 'global') entry.global = { type: c.valtype(), mutable: c.byte() === 1 };
    else (c.byte(), c.u32());
    imports.push(entry);
  }
  const importedGlobals = imports.filter((i) => i.kind === 'global').length;
  const importedMemories = imports.filter((i) => i.kind === 'memory').length;

  const mem = cursorFor(wasm, findSection(sections, SECTION.memory));
  for (let i = 0; mem && i < mem.count; i++) memories.push(mem.c.limits());

  const glob = cursorFor(wasm, findSection(sections, SECTION.global));
  for (let i = 0; glob && i < glob.count; i++) {
    const type = glob.c.valtype();
    const mutable = glob.c.byte() === 1;
    glob.c.constExpr();
    globals.push({ index: importedGlobals + i, type, mutable });
  }

  const exp = cursorFor(wasm, findSection(sections, SECTION.export));
  for (let i = 0; exp && i < exp.count; i++) {
    const name = exp.c.name();
    const kindByte = exp.c.byte();
    const kind = KINDS[kindByte];
    if (!kind) throw new WarrenError('E_WASM_INVALID', `bad export kind ${kindByte} for ${name}`);
    exports.push({ name, kind, index: exp.c.u32() });
  }

  return { sections, imports, exports, memories, globals, importedGlobals, importedMemories };
}
