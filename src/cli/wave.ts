import { WarrenError } from '../errors.js';
import type { ComponentWorld, WitType, WitTypeDef } from '../precompile/wit-types.js';
import { findComponentFunction, type ComponentFunction } from '../services/components/wit-values.js';

/**
 * WAVE (the WebAssembly Value Encoding of wasmtime's `--invoke` and wasm-wave) for the CLI's
 * typed calls: `add("apple", 3)` is read by the function's WIT types into the JSON the HTTP API
 * takes, and a JSON result is written back as WAVE. Typed because WAVE alone is ambiguous
 * (`{a, b}` is flags or a record, `red` an enum case or a variant case).
 */

type Types = Record<string, WitTypeDef>;
type Resolved = Exclude<WitTypeDef | WitType, { kind: 'alias' } | { kind: 'named' }>;

/** `name(arg, ...)` → the function it names and its arguments as JSON. */
export function parseWaveCall(text: string, world: ComponentWorld): { target: ComponentFunction; args: unknown[] } {
  const open = text.indexOf('(');
  if (open < 0 || !text.trimEnd().endsWith(')')) throw bad(`a call is written name(arg, ...), e.g. add("apple", 3); got ${JSON.stringify(text)}`);
  const target = findComponentFunction(world, text.slice(0, open).trim());
  const r = new Reader(text.slice(open + 1, text.trimEnd().length - 1), target.types);
  const args: unknown[] = [];
  for (const [i, p] of target.fn.params.entries()) {
    if (i > 0) r.expect(',');
    args.push(r.value(p.type));
  }
  r.eat(',');
  r.end(target.fn.signature);
  return { target, args };
}

/** A JSON value of type `t` as WAVE text. */
export function waveText(t: WitType, v: unknown, types: Types): string {
  const r = resolve(t, types);
  switch (r.kind) {
    case 'primitive':
      if (r.name === 'string') return JSON.stringify(v);
      if (r.name === 'char') return `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      if (r.name === 'f32' || r.name === 'f64') return v === 'NaN' ? 'nan' : v === 'Infinity' ? 'inf' : v === '-Infinity' ? '-inf' : String(v);
      return String(v);
    case 'list':
      return `[${(v as unknown[]).map((x) => waveText(r.of, x, types)).join(', ')}]`;
    case 'tuple':
      return `(${r.of.map((x, i) => waveText(x, (v as unknown[])[i], types)).join(', ')})`;
    case 'option': {
      if (v === null) return 'none';
      const nested = resolve(r.of, types).kind === 'option';
      return `some(${waveText(r.of, nested ? (v as { some: unknown }).some : v, types)})`;
    }
    case 'result': {
      const o = v as { ok?: unknown; err?: unknown };
      const [tag, payload] = 'ok' in o ? (['ok', r.ok] as const) : (['err', r.err] as const);
      return payload ? `${tag}(${waveText(payload, o[tag], types)})` : tag;
    }
    case 'record':
      if (r.fields.length === 0) return '{:}';
      return `{${r.fields.map((f) => `${f.name}: ${waveText(f.type, (v as Record<string, unknown>)[f.name], types)}`).join(', ')}}`;
    case 'variant': {
      const o = v as { tag: string; value?: unknown };
      const c = r.cases.find((x) => x.name === o.tag);
      return c?.type ? `${o.tag}(${waveText(c.type, o.value, types)})` : o.tag;
    }
    case 'enum':
      return String(v);
    case 'flags':
      return `{${(v as string[]).join(', ')}}`;
    default:
      return JSON.stringify(v);
  }
}

/** The WAVE text of a call's JSON result (`null` for a function without one is not printed). */
export function waveResult(target: ComponentFunction, result: unknown): string {
  return target.fn.result ? waveText(target.fn.result, result, target.types) : '';
}

function resolve(t: WitType, types: Types): Resolved {
  let cur: WitTypeDef | WitType = t;
  for (let i = 0; i < 64; i++) {
    if (cur.kind === 'named') {
      const def: WitTypeDef | undefined = types[cur.name];
      if (!def) throw bad(`type ${cur.name} is not described by the component's world`);
      cur = def;
    } else if (cur.kind === 'alias') cur = cur.type;
    else return cur;
  }
  throw bad('type aliases nest too deep');
}

function bad(why: string): WarrenError {
  return new WarrenError('E_BAD_ARGS', why);
}

class Reader {
  private at = 0;

  constructor(
    private readonly s: string,
    private readonly types: Types,
  ) {}

  value(t: WitType): unknown {
    const r = resolve(t, this.types);
    this.space();
    switch (r.kind) {
      case 'primitive':
        if (r.name === 'bool') {
          const w = this.word();
          if (w !== 'true' && w !== 'false') throw this.error(`a bool (true or false)`);
          return w === 'true';
        }
        if (r.name === 'string') return this.quoted('"');
        if (r.name === 'char') return this.quoted("'");
        if (r.name === 'f32' || r.name === 'f64') {
          const w = this.number();
          return w === 'nan' ? 'NaN' : w === 'inf' ? 'Infinity' : w === '-inf' ? '-Infinity' : Number(w);
        }
        {
          const w = this.number();
          if (!/^-?\d+$/.test(w)) throw this.error(`an integer for ${r.name}`);
          return r.name.endsWith('64') || !Number.isSafeInteger(Number(w)) ? w : Number(w);
        }
      case 'list':
        return this.sequence('[', ']', () => this.value(r.of));
      case 'tuple': {
        let i = 0;
        return this.sequence('(', ')', () => {
          const x = r.of[i++];
          if (!x) throw this.error(`a tuple of ${r.of.length}`);
          return this.value(x);
        });
      }
      case 'option': {
        const w = this.word();
        if (w === 'none') return null;
        if (w !== 'some') throw this.error('some(...) or none');
        this.expect('(');
        const inner = this.value(r.of);
        this.expect(')');
        return resolve(r.of, this.types).kind === 'option' ? { some: inner } : inner;
      }
      case 'result': {
        const w = this.word();
        if (w !== 'ok' && w !== 'err') throw this.error('ok(...) or err(...)');
        const payload = w === 'ok' ? r.ok : r.err;
        if (!payload) return { [w]: null };
        this.expect('(');
        const inner = this.value(payload);
        this.expect(')');
        return { [w]: inner };
      }
      case 'record': {
        const out: Record<string, unknown> = {};
        this.expect('{');
        if (this.eat(':')) {
          this.expect('}');
          return out;
        }
        while (!this.eat('}')) {
          const name = this.word();
          const f = r.fields.find((x) => x.name === name);
          if (!f) throw this.error(`a field of ${r.fields.map((x) => x.name).join(', ')}`);
          this.expect(':');
          out[name] = this.value(f.type);
          if (!this.eat(',')) {
            this.expect('}');
            break;
          }
        }
        return out;
      }
      case 'variant': {
        const w = this.word();
        const c = r.cases.find((x) => x.name === w);
        if (!c) throw this.error(`one of ${r.cases.map((x) => x.name).join(', ')}`);
        if (!c.type) return { tag: w };
        this.expect('(');
        const inner = this.value(c.type);
        this.expect(')');
        return { tag: w, value: inner };
      }
      case 'enum':
        return this.word();
      case 'flags':
        return this.sequence('{', '}', () => this.word());
      default:
        throw this.error(`a value (a ${r.kind} cannot be written in WAVE here)`);
    }
  }

  private sequence<T>(open: string, close: string, item: () => T): T[] {
    this.expect(open);
    const out: T[] = [];
    while (!this.eat(close)) {
      out.push(item());
      if (!this.eat(',')) {
        this.expect(close);
        break;
      }
    }
    return out;
  }

  private quoted(q: string): string {
    if (this.s[this.at] !== q) throw this.error(q === '"' ? 'a "string"' : "a 'c'har");
    let out = '';
    for (this.at++; this.at < this.s.length; this.at++) {
      const c = this.s[this.at]!;
      if (c === q) {
        this.at++;
        return out;
      }
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[++this.at];
      if (e === 'n') out += '\n';
      else if (e === 't') out += '\t';
      else if (e === 'r') out += '\r';
      else if (e === 'u') {
        const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.s.slice(this.at + 1));
        if (!m) throw this.error('\\u{hex}');
        out += String.fromCodePoint(parseInt(m[1]!, 16));
        this.at += m[0].length;
      } else out += e ?? '';
    }
    throw this.error(`a closing ${q}`);
  }

  private number(): string {
    this.space();
    const m = /^-?(?:inf|nan|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.s.slice(this.at));
    if (!m) throw this.error('a number');
    this.at += m[0].length;
    return m[0];
  }

  word(): string {
    this.space();
    const m = /^%?[a-z][a-z0-9-]*/.exec(this.s.slice(this.at));
    if (!m) throw this.error('a name');
    this.at += m[0].length;
    return m[0].replace(/^%/, '');
  }

  eat(t: string): boolean {
    this.space();
    if (this.s.startsWith(t, this.at)) {
      this.at += t.length;
      return true;
    }
    return false;
  }

  expect(t: string): void {
    if (!this.eat(t)) throw this.error(JSON.stringify(t));
  }

  end(signature: string): void {
    this.space();
    if (this.at < this.s.length) throw bad(`too many arguments or trailing text at ${JSON.stringify(this.s.slice(this.at))}; expected ${signature}`);
  }

  private space(): void {
    while (this.at < this.s.length && /\s/.test(this.s[this.at]!)) this.at++;
  }

  private error(what: string): WarrenError {
    return bad(`WAVE: expected ${what} at ${JSON.stringify(this.s.slice(this.at, this.at + 20) || 'the end')}`);
  }
}
