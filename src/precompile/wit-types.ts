/**
 * A component's WIT world as plain data (JSON as is): what push stores, what `component show`
 * prints and what typed calls convert values with.
 */

export type WitPrimitive = 'bool' | 's8' | 'u8' | 's16' | 'u16' | 's32' | 'u32' | 's64' | 'u64' | 'f32' | 'f64' | 'char' | 'string';

export const WIT_PRIMITIVES: readonly WitPrimitive[] = ['bool', 's8', 'u8', 's16', 'u16', 's32', 'u32', 's64', 'u64', 'f32', 'f64', 'char', 'string'];

export type WitType =
  | { kind: 'primitive'; name: WitPrimitive }
  /** A type defined (or `use`d) by name in the same interface or world: see WitScope.types. */
  | { kind: 'named'; name: string }
  | { kind: 'list'; of: WitType }
  | { kind: 'option'; of: WitType }
  | { kind: 'result'; ok: WitType | null; err: WitType | null }
  | { kind: 'tuple'; of: WitType[] }
  | { kind: 'borrow'; of: string }
  /** future, stream, fixed-size lists...: shown, never called with. */
  | { kind: 'unsupported'; text: string };

export type WitTypeDef =
  | { kind: 'record'; fields: { name: string; type: WitType }[] }
  | { kind: 'variant'; cases: { name: string; type: WitType | null }[] }
  | { kind: 'enum'; cases: string[] }
  | { kind: 'flags'; flags: string[] }
  | { kind: 'alias'; type: WitType }
  | { kind: 'resource' }
  /** `use iface.{name}`: defined in another interface this world does not describe. */
  | { kind: 'used'; from: string };

export interface WitFunction {
  name: string;
  params: { name: string; type: WitType }[];
  result: WitType | null;
  /** `add: func(name: string, count: u32) -> u32` */
  signature: string;
}

/** Named types visible to functions of one interface (or of the world itself). */
export interface WitScope {
  types: Record<string, WitTypeDef>;
}

export type WorldExport =
  | ({ kind: 'function'; name: string; function: WitFunction } & WitScope)
  | ({ kind: 'interface'; name: string; functions: WitFunction[] } & WitScope);

export interface ComponentWorld {
  /** Imported interfaces (`wasi:cli/environment@0.2.3`) and functions (`log: func(msg: string)`), as named. */
  imports: string[];
  exports: WorldExport[];
}

/** WIT text of a type, as written in a signature. */
export function witTypeText(t: WitType): string {
  switch (t.kind) {
    case 'primitive': return t.name;
    case 'named': return t.name;
    case 'list': return `list<${witTypeText(t.of)}>`;
    case 'option': return `option<${witTypeText(t.of)}>`;
    case 'result':
      if (!t.ok && !t.err) return 'result';
      if (!t.err) return `result<${witTypeText(t.ok!)}>`;
      return `result<${t.ok ? witTypeText(t.ok) : '_'}, ${witTypeText(t.err)}>`;
    case 'tuple': return `tuple<${t.of.map(witTypeText).join(', ')}>`;
    case 'borrow': return `borrow<${t.of}>`;
    case 'unsupported': return t.text;
  }
}

export function functionSignature(name: string, params: WitFunction['params'], result: WitType | null): string {
  const args = params.map((p) => `${p.name}: ${witTypeText(p.type)}`).join(', ');
  return `${name}: func(${args})${result ? ` -> ${witTypeText(result)}` : ''}`;
}

/** WIT text of a type definition (`record item { name: string, count: u32 }`). */
export function typeDefText(name: string, def: WitTypeDef): string {
  switch (def.kind) {
    case 'record': return `record ${name} { ${def.fields.map((f) => `${f.name}: ${witTypeText(f.type)}`).join(', ')} }`;
    case 'variant': return `variant ${name} { ${def.cases.map((c) => (c.type ? `${c.name}(${witTypeText(c.type)})` : c.name)).join(', ')} }`;
    case 'enum': return `enum ${name} { ${def.cases.join(', ')} }`;
    case 'flags': return `flags ${name} { ${def.flags.join(', ')} }`;
    case 'alias': return `type ${name} = ${witTypeText(def.type)}`;
    case 'resource': return `resource ${name}`;
    case 'used': return `use ${def.from}.{${name}}`;
  }
}
