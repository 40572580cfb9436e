import { existsSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WarrenError } from '../errors.js';
import { parseManifest } from '../manifest/parse-manifest.js';
import { packComponentFiles } from '../manifest/pack-files.js';
import type { ComponentVersionRecord } from '../records.js';
import { readAll, type ApiClient } from './api-client.js';
import { multipartBody, type UploadPart } from './multipart-upload.js';

export interface PushProgress {
  onPack?: (done: number, total: number) => void;
  onUpload?: (sent: number, total: number) => void;
}

/**
 * Pushes a component directory (or its warren.toml): checks the manifest and the binary
 * locally first, packs the initial files into a zip, streams manifest + module + zip as one
 * multipart upload. `created` is false when the server already had these exact bytes.
 */
export async function pushComponentDir(client: ApiClient, path: string, progress: PushProgress = {}): Promise<{ created: boolean; record: ComponentVersionRecord }> {
  const manifestPath = existsSync(path) && statSync(path).isDirectory() ? join(path, 'warren.toml') : path;
  if (!existsSync(manifestPath)) throw new WarrenError('E_NOT_FOUND', `no warren.toml at ${resolve(manifestPath)}`);
  const componentDir = dirname(resolve(manifestPath));
  const manifestText = await readFile(manifestPath, 'utf8');
  const manifest = parseManifest(manifestText, { file: manifestPath });
  const modulePath = resolve(componentDir, manifest.binary);
  if (!existsSync(modulePath)) {
    throw new WarrenError('E_MODULE_MISSING', `binary ${manifest.binary} not found (looked at ${modulePath}); build it first`, { binary: manifest.binary });
  }
  const parts: UploadPart[] = [
    // A file part: its bytes go as they are (a text field's line ends would become CRLF).
    { name: 'manifest', file: manifestPath, filename: 'warren.toml', contentType: 'application/toml' },
    { name: 'module', file: modulePath, filename: basename(modulePath), contentType: 'application/wasm' },
  ];
  let zipPath: string | null = null;
  try {
    if (manifest.files.length) {
      const packed = await packComponentFiles(componentDir, manifest, { onProgress: progress.onPack });
      zipPath = packed.zipPath;
      if (zipPath) parts.push({ name: 'files', file: zipPath, filename: 'files.zip', contentType: 'application/zip' });
    }
    const { body, headers } = await multipartBody(parts, progress.onUpload);
    // The namespace in the query lets the server refuse a push it would not accept before the upload.
    const res = await client.raw('POST', `/v1/components?namespace=${encodeURIComponent(manifest.namespace)}`, body, headers);
    const record = JSON.parse((await readAll(res.body)).toString('utf8')) as ComponentVersionRecord;
    return { created: res.status === 201, record };
  } finally {
    if (zipPath) await rm(zipPath, { force: true });
  }
}
