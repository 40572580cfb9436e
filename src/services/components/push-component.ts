import { createHash } from 'node:crypto';
import { WarrenError, isWarrenError } from '../../errors.js';
import type { Manifest } from '../../manifest/parse-manifest.js';
import { unpackComponentFiles } from '../../manifest/unpack-files.js';
import { analyzeModule, checkExtensions } from '../../precompile/analyze-module.js';
import { checkLinkable } from '../../precompile/check-linkable.js';
import type { ComponentVersionRecord } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { isComponentBinary } from '../../precompile/component-binary.js';
import { checkComponentPush } from './check-component-push.js';
import { componentKey, getComponentVersion } from './component-keys.js';

export interface PushComponentInput {
  /** Parsed and validated (parseManifest). */
  manifest: Manifest;
  module: Uint8Array;
  /** Path of the uploaded files zip, when the component has initial files. */
  filesZip?: string;
  /** Called with the manifest's namespace before anything is stored (the API's auth check). */
  authorize?: (namespace: string) => void;
}

export interface PushComponentResult {
  record: ComponentVersionRecord;
  /** False when the same bytes were already pushed under this version (idempotent). */
  created: boolean;
}

const sha256 = (data: Uint8Array | string) => `sha256-${createHash('sha256').update(data).digest('base64')}`;

/**
 * Publishes a component version. Everything is checked before anything is stored (manifest,
 * module, extensions); then blobs are written and, last, the one registry record that makes
 * the version visible. A crash or failure before that record leaves only unreferenced blobs,
 * which GC collects. Versions are immutable: other bytes under a pushed version are refused.
 */
export async function pushComponent(ctx: NodeContext, input: PushComponentInput): Promise<PushComponentResult> {
  const { blobs, registry } = ctx.ports;
  const manifest = input.manifest;
  input.authorize?.(manifest.namespace);
  if (!input.module || input.module.byteLength === 0) {
    throw new WarrenError('E_MODULE_MISSING', `component ${manifest.fq}@${manifest.version} has no module (manifest binary = ${JSON.stringify(manifest.binary)})`);
  }
  // A WebAssembly component (WASI 0.2) has its own checks; a core module is analyzed here.
  const world = isComponentBinary(input.module) ? await checkComponentPush(input.module, manifest) : null;
  if (!world) {
    const analysis = analyzeModule(input.module);
    checkExtensions(analysis, manifest.required_extensions);
    checkLinkable(analysis);
  }
  const extensions: ComponentVersionRecord['extensions'] = [];
  for (const fq of manifest.required_extensions) {
    try {
      const ext = await getComponentVersion(registry, fq);
      extensions.push({ fq, version: ext.version, module: ext.module.digest });
    } catch (err) {
      if (isWarrenError(err, 'E_NOT_FOUND')) {
        throw new WarrenError('E_EXTENSION_MISSING', `required extension ${fq} is not installed: push it first`, { extension: fq });
      }
      throw err;
    }
  }
  if (manifest.files.length > 0 && !input.filesZip) {
    throw new WarrenError('E_BAD_REQUEST', `manifest declares ${manifest.files.length} [[files]] entries but no files archive was uploaded`);
  }

  const manifestJson = JSON.stringify(manifest);
  const moduleDigest = sha256(input.module);
  const existing = await registry.get<ComponentVersionRecord>(componentKey(manifest.fq, manifest.version));
  // Cheap early refusal before unpacking anything: a different manifest or module can never match.
  if (existing && (existing.value.manifestDigest !== sha256(manifestJson) || existing.value.module.digest !== moduleDigest)) {
    throw versionExists(manifest.fq, manifest.version);
  }

  const files = input.filesZip ? await unpackComponentFiles(input.filesZip, blobs, manifest, ctx.zipLimits) : null;
  const manifestBlob = await blobs.put(manifestJson);
  const moduleBlob = await blobs.put(input.module);
  const fileTree = files?.treeDigest ?? null;
  const contentDigest = sha256(JSON.stringify([manifestBlob.integrity, moduleBlob.integrity, fileTree, extensions]));
  const record: ComponentVersionRecord = {
    fq: manifest.fq,
    namespace: manifest.namespace,
    name: manifest.name,
    version: manifest.version,
    manifest: manifest as unknown as Record<string, unknown>,
    manifestDigest: manifestBlob.integrity,
    module: { digest: moduleBlob.integrity, size: input.module.byteLength },
    extensions,
    fileTree,
    filesSize: files?.totalBytes ?? 0,
    contentDigest,
    createdAt: new Date().toISOString(),
    ...(world ? { world } : {}),
  };
  if (existing) return sameOrConflict(existing.value, record);
  try {
    await registry.compareAndSet(componentKey(record.fq, record.version), record, 0);
  } catch (err) {
    if (!isWarrenError(err, 'E_CONFLICT')) throw err;
    // Someone pushed the same version concurrently: fine if it is the same bytes.
    const raced = await registry.get<ComponentVersionRecord>(componentKey(record.fq, record.version));
    if (!raced) throw err;
    return sameOrConflict(raced.value, record);
  }
  ctx.metrics.componentsPushed.inc();
  ctx.logger.info({ fq: record.fq, version: record.version, module: record.module.digest }, 'component pushed');
  return { record, created: true };
}

function sameOrConflict(existing: ComponentVersionRecord, candidate: ComponentVersionRecord): PushComponentResult {
  if (existing.contentDigest !== candidate.contentDigest) throw versionExists(candidate.fq, candidate.version);
  return { record: existing, created: false };
}

function versionExists(fq: string, version: string): WarrenError {
  return new WarrenError('E_VERSION_EXISTS', `${fq}@${version} already exists with different contents; versions are immutable: bump the version`, {
    fq,
    version,
  });
}
