import { WarrenError } from '../../errors.js';
import type { Integrity } from '../../ports/blobs.js';
import { readExportSignatures, type FunctionSignature } from '../../precompile/read-export-signatures.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';

type Signatures = ReadonlyMap<string, FunctionSignature>;

const MAX_ENTRIES = 1024;

/**
 * The signature of an export of a version's main module, read once per module digest in this
 * process (modules are immutable, so a digest's signatures never change). An export the module
 * does not have is E_NOT_FOUND, before anything reaches a thread.
 */
export async function exportSignature(ctx: NodeContext, version: ComponentVersionRecord, exportName: string): Promise<FunctionSignature> {
  const sig = (await signaturesOf(ctx, version.module.digest)).get(exportName);
  if (!sig) {
    throw new WarrenError('E_NOT_FOUND', `the worker's module exports no function ${JSON.stringify(exportName)}`, { export: exportName });
  }
  return sig;
}

function signaturesOf(ctx: NodeContext, digest: Integrity): Promise<Signatures> {
  const cache = ctx.exportSignatures;
  let entry = cache.get(digest);
  if (!entry) {
    entry = ctx.ports.blobs.get(digest).then((bytes) => readExportSignatures(bytes));
    cache.set(digest, entry);
    const forget = cache;
    entry.catch(() => forget.delete(digest));
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  }
  return entry;
}
