import { WarrenError } from '../../errors.js';
import { witTypeText, type ComponentWorld, type WitFunction, type WitType, type WitTypeDef } from '../../precompile/wit-types.js';

/**
 * WIT values as JSON (the HTTP API's typed calls) and as the JS values jco's glue takes and
 * gives. JSON mapping (README "Components"): bool, numbers (u64/s64 as decimal strings, floats
 * also "NaN"/"Infinity"/"-Infinity"), char and string as strings, list and tuple as arrays,
 * record as an object keyed by WIT field names, variant as {"tag", "value"}, enum as its case
 * name, flags as the array of set flag names, option as null or the value (an option of an
 * option: null or {"some": value}), result as {"ok": value} or {"err": value}.
 */

export interface ComponentFunction {
  /** How callers name it: `hello`, `warren:fixtures/inventory#add`. */
  name: string;
  /** Where jco's export object has it: [export key, function key] or [function key]. */
  jsPath: string[];
  fn: WitFunction;
  types: Record<string, WitTypeDef>;
}

/** kebab-case WIT name → jco's camelCase JS name. */
export function jsName(wit: string): string {
  return wit.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Every callable function of a world. */
export function componentFunctions(world: ComponentWorld): ComponentFunction[] {
  const out: ComponentFunction[] = [];
  for (const e of world.exports) {
    if (e.kind === 'function') out.push({ name: e.name, jsPath: [jsName(e.name)], fn: e.function, types: e.types });
    else for (const fn of e.functions) out.push({ name: `${e.name}#${fn.name}`, jsPath: [e.name.includes(':') ? e.name : jsName(e.name), jsName(fn.name)], fn, types: e.types });
  }
  return out;
}

/** Functions found per world object (the version cache hands out the same one) and name. */
const found = new WeakMap<ComponentWorld, Map<string, ComponentFunction>>();

/** The function a call names: its full name, or its bare name when only one export has it. */
export function findComponentFunction(world: ComponentWorld, name: string): ComponentFunction {
  let byName = found.get(world);
  if (!byName) found.set(world, (byName = new Map()));
  let fn = byName.get(name);
  if (!fn) {
    fn = lookUpFunction(world, name);
    if (byName.size < 1024) byName.set(name, fn);
  }
  return fn;
}

function lookUpFunction(world: ComponentWorld, name: string): ComponentFunction {
  const all = componentFunctions(world);
  const exact = all.find((f) => f.name === name);
  if (exact) return exact;
  const bare = all.filter((f) => f.fn.name === name || f.name.endsWith(`/${name}`));
  if (bare.length === 1) return bare[0]!;
  const names = all.map((f) => f.name);
  if (bare.length > 1) {
    throw new WarrenError('E_BAD_ARGS', `${name} is exported by several interfaces: name one of ${bare.map((f) => f.name).join(', ')}`, { function: name, candidates: bare.map((f) => f.name) });
  }
  throw new WarrenError('E_NOT_FOUND', `the component exports no function ${JSON.stringify(name)}; it exports ${names.join(', ')}`, { function: name, exports: names });
}

class BadValue extends Error {}

/** JSON arguments → jco values; E_BAD_ARGS naming the expected signature when they do not fit. */
export function argumentsToJs(target: ComponentFunction, args: unknown): unknown[] {
  const sig = target.fn.signature;
  const params = target.fn.params;
  const fail = (why: string) => new WarrenError('E_BAD_ARGS', `${why}; expected ${sig}`, { function: target.name, signature: sig });
  if (!Array.isArray(args)) throw fail('args must be an array');
  if (args.length !== params.length) throw fail(`${params.length} argument${params.length === 1 ? '' : 's'} expected, got ${args.length}`);
  return params.map((p, i) => {
    try {
      return toJs(p.type, args[i], target.types);
    } catch (err) {
      if (err instanceof BadValue) throw fail(`argument ${p.name}: ${err.message}`);
      throw err;
    }
  });
}

/** A call's outcome (a returned value, or a thrown result-error payload) → JSON. */
export function resultToJson(target: ComponentFunction, outcome: { value: unknown } | { error: unknown }): unknown {
  const ret = target.fn.result;
  if (ret === null) return null;
  const resolved = resolve(ret, target.types);
  if (resolved.kind === 'result') {
    if ('error' in outcome) return { err: resolved.err ? toJson(resolved.err, outcome.error, target.types) : null };
    return { ok: resolved.ok ? toJson(resolved.ok, outcome.value, target.types) : null };
  }
  if ('error' in outcome) throw new WarrenError('E_INTERNAL', `${target.name} threw a value but returns no result`);
  return toJson(ret, outcome.value, target.types);
}

/** Whether a function's result type is a `result` (jco throws its err payload). */
export function returnsResult(target: ComponentFunction): boolean {
  return target.fn.result !== null && resolve(target.fn.result, target.types).kind === 'result';
}

type Def = WitTypeDef | WitType;

function resolve(t: WitType, types: Record<string, WitTypeDef>): Exclude<Def, { kind: 'alias' } | { kind: 'named' }> {
  let cur: Def = t;
  for (let hops = 0; hops < 64; hops++) {
    if (cur.kind === 'named') {
      const def: WitTypeDef | undefined = types[cur.name];
      if (!def) throw new BadValue(`type ${cur.name} is not described by the component's world`);
      cur = def;
    } else if (cur.kind === 'alias') cur = cur.type;
    else return cur;
  }
  throw new BadValue('type aliases nest too deep');
}

const INT_RANGE: Record<string, [bigint, bigint]> = {
  s8: [-128n, 127n], u8: [0n, 255n], s16: [-32768n, 32767n], u16: [0n, 65535n], s32: [-(2n ** 31n), 2n ** 31n - 1n],
  u32: [0n, 2n ** 32n - 1n], s64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n],
};

function toJs(t: WitType, v: unknown, types: Record<string, WitTypeDef>): unknown {
  const r = resolve(t, types);
  switch (r.kind) {
    case 'primitive': {
      const p = r.name;
      if (p === 'bool') {
        if (typeof v !== 'boolean') throw new BadValue(`expected a bool (true or false), got ${JSON.stringify(v)}`);
        return v;
      }
      if (p === 'string') {
        if (typeof v !== 'string') throw new BadValue(`expected a string, got ${JSON.stringify(v)}`);
        return v;
      }
      if (p === 'char') {
        if (typeof v !== 'string' || [...v].length !== 1) throw new BadValue(`expected a char (a string of one character), got ${JSON.stringify(v)}`);
        return v;
      }
      if (p === 'f32' || p === 'f64') {
        if (typeof v === 'number') return v;
        if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
        throw new BadValue(`expected a number for ${p}, got ${JSON.stringify(v)}`);
      }
      const [lo, hi] = INT_RANGE[p]!;
      let n: bigint;
      if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
      else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = BigInt(v);
      else throw new BadValue(`expected an integer for ${p}${p.endsWith('64') ? ' (a decimal string beyond 2^53)' : ''}, got ${JSON.stringify(v)}`);
      if (n < lo || n > hi) throw new BadValue(`${n} is out of range for ${p}`);
      return p.endsWith('64') ? n : Number(n);
    }
    case 'list': {
      if (!Array.isArray(v)) throw new BadValue(`expected a list (array), got ${JSON.stringify(v)}`);
      const items = v.map((x) => toJs(r.of, x, types));
      const of = resolve(r.of, types);
      return of.kind === 'primitive' && of.name === 'u8' ? Uint8Array.from(items as number[]) : items;
    }
    case 'tuple': {
      if (!Array.isArray(v) || v.length !== r.of.length) throw new BadValue(`expected a tuple of ${r.of.length} (an array), got ${JSON.stringify(v)}`);
      return r.of.map((x, i) => toJs(x, v[i], types));
    }
    case 'option': {
      const nested = resolve(r.of, types).kind === 'option';
      if (v === null) return nested ? { tag: 'none' } : undefined;
      if (!nested) return toJs(r.of, v, types);
      if (typeof v !== 'object' || v === null || !('some' in v)) throw new BadValue(`expected null or {"some": value} for ${witTypeText(t)}, got ${JSON.stringify(v)}`);
      return { tag: 'some', val: toJs(r.of, (v as { some: unknown }).some, types) };
    }
    case 'result': {
      const o = v as { ok?: unknown; err?: unknown } | null;
      if (typeof o !== 'object' || o === null || ('ok' in o) === ('err' in o)) throw new BadValue(`expected {"ok": value} or {"err": value}, got ${JSON.stringify(v)}`);
      if ('ok' in o) return { tag: 'ok', val: r.ok ? toJs(r.ok, o.ok, types) : undefined };
      return { tag: 'err', val: r.err ? toJs(r.err, o.err, types) : undefined };
    }
    case 'record': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadValue(`expected a record (an object), got ${JSON.stringify(v)}`);
      const o = v as Record<string, unknown>;
      const unknown = Object.keys(o).filter((k) => !r.fields.some((f) => f.name === k));
      if (unknown.length) throw new BadValue(`unknown field ${unknown[0]}`);
      const out: Record<string, unknown> = {};
      for (const f of r.fields) {
        if (!(f.name in o)) throw new BadValue(`missing field ${f.name}`);
        out[jsName(f.name)] = toJs(f.type, o[f.name], types);
      }
      return out;
    }
    case 'variant': {
      const o = v as { tag?: unknown; value?: unknown } | null;
      const c = typeof o === 'object' && o !== null ? r.cases.find((x) => x.name === o.tag) : undefined;
      if (!c) throw new BadValue(`expected {"tag": ${r.cases.map((x) => JSON.stringify(x.name)).join('|')}, "value": ...}, got ${JSON.stringify(v)}`);
      return c.type ? { tag: c.name, val: toJs(c.type, o!.value, types) } : { tag: c.name };
    }
    case 'enum':
      if (typeof v !== 'string' || !r.cases.includes(v)) throw new BadValue(`expected one of ${r.cases.join(', ')}, got ${JSON.stringify(v)}`);
      return v;
    case 'flags': {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !r.flags.includes(x))) throw new BadValue(`expected an array of flags from ${r.flags.join(', ')}, got ${JSON.stringify(v)}`);
      return Object.fromEntries(r.flags.map((f) => [jsName(f), v.includes(f)]));
    }
    default:
      throw new BadValue(`a ${r.kind === 'used' ? `type from ${r.from}` : r.kind} cannot be passed as JSON`);
  }
}

function toJson(t: WitType, v: unknown, types: Record<string, WitTypeDef>): unknown {
  const r = resolve(t, types);
  switch (r.kind) {
    case 'primitive':
      if (typeof v === 'bigint') return String(v);
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v;
    case 'list':
      return Array.from(v as ArrayLike<unknown>, (x) => toJson(r.of, x, types));
    case 'tuple':
      return r.of.map((x, i) => toJson(x, (v as unknown[])[i], types));
    case 'option': {
      const nested = resolve(r.of, types).kind === 'option';
      if (!nested) return v === undefined || v === null ? null : toJson(r.of, v, types);
      const o = v as { tag: string; val?: unknown };
      return o.tag === 'none' ? null : { some: toJson(r.of, o.val, types) };
    }
    case 'result': {
      const o = v as { tag: 'ok' | 'err'; val?: unknown };
      const payload = o.tag === 'ok' ? r.ok : r.err;
      return { [o.tag]: payload ? toJson(payload, o.val, types) : null };
    }
    case 'record': {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(r.fields.map((f) => [f.name, toJson(f.type, o[jsName(f.name)], types)]));
    }
    case 'variant': {
      const o = v as { tag: string; val?: unknown };
      const c = r.cases.find((x) => x.name === o.tag);
      return c?.type ? { tag: o.tag, value: toJson(c.type, o.val, types) } : { tag: o.tag };
    }
    case 'enum':
      return v;
    case 'flags': {
      const o = v as Record<string, boolean>;
      return r.flags.filter((f) => o[jsName(f)]);
    }
    default:
      return null;
  }
}
