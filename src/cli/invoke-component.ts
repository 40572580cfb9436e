import { WarrenError } from '../errors.js';
import type { ComponentVersionRecord, WorkerRecord } from '../records.js';
import type { ApiClient } from './api-client.js';
import { printJson } from './output.js';
import { parseWaveCall, waveResult } from './wave.js';

/**
 * `warren worker invoke ID 'add("apple", 3)'`: a typed call of a component worker written in
 * WAVE. The worker's world (from its version record) types the arguments into the API's JSON;
 * the JSON result is printed back as WAVE (or as is with --json).
 */
export async function invokeComponentCall(client: ApiClient, workerRef: string, call: string, json: boolean, headers: Record<string, string>): Promise<void> {
  const path = `/v1/workers/${encodeURIComponent(workerRef)}`;
  const worker = await client.json<WorkerRecord>('GET', path);
  const version = await client.json<ComponentVersionRecord>('GET', `/v1/components/${encodeURIComponent(worker.component)}/versions/${encodeURIComponent(worker.version)}`);
  if (!version.world) throw new WarrenError('E_BAD_REQUEST', `${worker.component}@${worker.version} is a core module, not a component: call an export with numbers`);
  const { target, args } = parseWaveCall(call, version.world);
  const res = await client.json<{ result: unknown; stdout: string; stderr: string }>('POST', `${path}/invoke`, { function: target.name, args }, headers);
  if (json) return printJson(res);
  if (res.stdout) process.stdout.write(res.stdout);
  if (res.stderr) process.stderr.write(res.stderr);
  const text = waveResult(target, res.result);
  if (text) process.stdout.write(`${text}\n`);
}
