import { analyzeModule } from './analyze-module.js';
import { exportMutableGlobals } from './export-globals.js';
import { setMemoryMaximum } from './memory-limit.js';

/**
 * A named, versioned function of bytes. Bump `version` whenever a change to `run` changes its
 * output: the engine id changes with it, so every artifact is rebuilt and old ones lose their root.
 */
export interface Transform<P = void> {
  name: string;
  version: number;
  run(input: Uint8Array, params: P): Uint8Array;
}

/** Validation + import analysis; the output is the analysis as JSON. */
export const analyzeTransform: Transform = {
  name: 'analyze',
  version: 1,
  run: (input) => new TextEncoder().encode(JSON.stringify(analyzeModule(input))),
};

export const exportGlobalsTransform: Transform = {
  name: 'export-globals',
  version: 1,
  run: (input) => exportMutableGlobals(input).wasm,
};

export const memoryLimitTransform: Transform<{ maxPages: number }> = {
  name: 'memory-limit',
  version: 1,
  run: (input, { maxPages }) => setMemoryMaximum(input, maxPages),
};

export const TRANSFORMS: readonly { name: string; version: number }[] = [analyzeTransform, exportGlobalsTransform, memoryLimitTransform];

/** `name@version`, plus parameters that change the output: `memory-limit@1(max=4096)`. */
export function transformLabel(t: { name: string; version: number }, params?: Record<string, number | string>): string {
  const label = `${t.name}@${t.version}`;
  if (!params) return label;
  return `${label}(${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(',')})`;
}
