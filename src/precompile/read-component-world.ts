import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WarrenError } from '../errors.js';
import { withPlainExportNames } from './component-binary.js';
import { parseWorldWit } from './parse-world-wit.js';
import type { ComponentWorld } from './wit-types.js';

type WasmTools = { componentWit(bytes: Uint8Array): Promise<string> };
let tools: Promise<WasmTools> | null = null;

/**
 * The WIT world of a component: imports, and exports with every function's types. The WIT text
 * comes from wasm-tools as jco ships it (validation included: an invalid component is refused
 * here); exported interfaces are renamed to plain names first so that their bodies are printed
 * (see withPlainExportNames), then given their real names back.
 */
export async function readComponentWorld(bytes: Uint8Array): Promise<ComponentWorld> {
  const { bytes: plain, renamed } = withPlainExportNames(bytes);
  tools ??= import('@bytecodealliance/jco-transpile/wasm-tools') as Promise<WasmTools>;
  let text: string;
  try {
    text = await (await tools).componentWit(plain);
  } catch (err) {
    const why = (err as { payload?: unknown }).payload ?? (err as Error).message;
    throw new WarrenError('E_WASM_INVALID', `the WebAssembly component does not validate: ${String(why).split('\n')[0]}`, { size: bytes.byteLength });
  }
  const world = parseWorldWit(text);
  for (const e of world.exports) {
    const original = renamed.find((r) => r.plain === e.name);
    if (original) e.name = original.original;
  }
  return world;
}

/** The transpiler's version: part of the engine id, since its output is what runs. */
export function transpilerVersion(): string {
  try {
    // Its package.json is not in its exports: found beside the entry point (dist/index.js).
    const entry = createRequire(import.meta.url).resolve('@bytecodealliance/jco-transpile');
    const file = join(dirname(entry), '..', 'package.json');
    return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'absent';
  }
}
