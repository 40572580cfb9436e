import { WarrenError } from '../errors.js';
import { hasWasmMagic, ownBytes } from './read-sections.js';
import { readModuleLayout, type ExternKind } from './read-module-layout.js';

export interface ModuleAnalysis {
  imports: { module: string; name: string; kind: ExternKind }[];
  exports: { name: string; kind: ExternKind }[];
  /** Distinct import module names, in first-import order. */
  importModules: string[];
  /** Exports a `_start` function (a command). */
  hasStart: boolean;
  /** Exports an `_initialize` function (a reactor). */
  hasInitialize: boolean;
  /** Memory 0, defined or imported; null when the module has none. */
  memory: { initial: number; maximum: number | null; imported: boolean } | null;
}

/** A fully qualified component name: the import module names that extensions satisfy. */
const FQ_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;

/**
 * Validates a module (the engine's own full validation, code included) and describes its
 * imports and exports. Bad magic and invalid modules are both E_WASM_INVALID, with messages
 * that tell them apart.
 */
export function analyzeModule(wasm: Uint8Array): ModuleAnalysis {
  if (!hasWasmMagic(wasm)) {
    throw new WarrenError('E_WASM_INVALID', 'not a WebAssembly binary: it does not start with the \\0asm magic number', { size: wasm.byteLength });
  }
  if (!WebAssembly.validate(ownBytes(wasm))) {
    let reason = '';
    try {
      new WebAssembly.Module(ownBytes(wasm));
    } catch (err) {
      reason = `: ${(err as Error).message}`;
    }
    throw new WarrenError('E_WASM_INVALID', `the WebAssembly module does not validate${reason}`, { size: wasm.byteLength });
  }
  const layout = readModuleLayout(wasm);
  const exports = layout.exports.map(({ name, kind }) => ({ name, kind }));
  const isFunctionExport = (name: string) => exports.some((e) => e.name === name && e.kind === 'function');
  const importedMemory = layout.imports.find((i) => i.kind === 'memory');
  const memoryLimits = importedMemory?.limits ?? layout.memories[0];
  return {
    imports: layout.imports.map(({ module, name, kind }) => ({ module, name, kind })),
    exports,
    importModules: [...new Set(layout.imports.map((i) => i.module))],
    hasStart: isFunctionExport('_start'),
    hasInitialize: isFunctionExport('_initialize'),
    memory: memoryLimits ? { initial: memoryLimits.min, maximum: memoryLimits.max, imported: importedMemory !== undefined } : null,
  };
}

/**
 * Import modules satisfied by extension components: every import module whose name is a valid
 * fq name (`sh.serval.birdfeeder`). `wasi_snapshot_preview1`, `wasi_unstable` and `env` have no
 * dot, so they never count.
 */
export function extensionImports(analysis: ModuleAnalysis): string[] {
  return analysis.importModules.filter((m) => FQ_RE.test(m));
}

export interface ExtensionCheck {
  /** Extensions the module imports from (all of them listed in required_extensions). */
  used: string[];
  /** Listed in required_extensions but never imported: allowed (an extension may be wanted for its side effects), reported. */
  unused: string[];
  warnings: string[];
}

/**
 * A module that imports from an fq name missing from `required_extensions` cannot be linked:
 * E_EXTENSION_MISSING before anything is stored. Listed-but-unused extensions are only warnings:
 * they are still resolved and instantiated, at a cost the warning makes visible.
 */
export function checkExtensions(analysis: ModuleAnalysis, requiredExtensions: readonly string[]): ExtensionCheck {
  const used = extensionImports(analysis);
  const missing = used.filter((fq) => !requiredExtensions.includes(fq));
  if (missing.length > 0) {
    throw new WarrenError(
      'E_EXTENSION_MISSING',
      `the module imports from ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not in required_extensions`,
      { missing, requiredExtensions: [...requiredExtensions] },
    );
  }
  const unused = requiredExtensions.filter((fq) => !used.includes(fq));
  const warnings = unused.map((fq) => `required extension ${fq} is listed but the module imports nothing from it`);
  return { used, unused, warnings };
}
