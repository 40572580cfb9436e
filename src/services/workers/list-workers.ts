import { WarrenError } from '../../errors.js';
import type { WorkerRecord } from '../../records.js';
import { REGISTRY_PREFIX } from '../../records.js';
import type { NodeContext } from '../node-context.js';
import { parseWorkerFilter } from './parse-worker-filter.js';

export interface ListWorkersInput {
  filter?: string | string[];
  /** Page size; default 50, at most 1000. */
  count?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
  /** Namespaces the caller may see; undefined = all (admin). */
  namespaces?: string[];
}

export interface WorkerPage {
  workers: WorkerRecord[];
  /** Give it back for the next page; null on the last page. */
  cursor: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;

/**
 * A page of workers in id order (ids sort by creation time). The cursor is the last id of the
 * page, so pages stay stable while workers are created or deleted between requests: nothing
 * is skipped and nothing repeated. Deleted workers are never listed.
 */
export async function listWorkers(ctx: NodeContext, input: ListWorkersInput = {}): Promise<WorkerPage> {
  const filter = parseWorkerFilter(input.filter);
  const count = input.count ?? DEFAULT_PAGE;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PAGE) {
    throw new WarrenError('E_BAD_REQUEST', `count must be a whole number from 1 to ${MAX_PAGE}`, { field: 'count' });
  }
  const after = input.cursor ? decodeCursor(input.cursor) : null;
  const entries = await ctx.ports.registry.list<WorkerRecord>(REGISTRY_PREFIX.worker);
  const visible = entries
    .map((e) => e.value)
    .filter((w) => w.status !== 'deleted' && (input.namespaces === undefined || input.namespaces.includes(w.namespace)))
    .filter((w) => after === null || w.id > after)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page: WorkerRecord[] = [];
  let more = false;
  for (const w of visible) {
    if (!filter.matches(w)) continue;
    if (page.length === count) {
      more = true;
      break;
    }
    page.push(w);
  }
  return { workers: page, cursor: more ? encodeCursor(page[page.length - 1].id) : null };
}

function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string' && after.length > 0) return after;
  } catch {
    // fall through
  }
  throw new WarrenError('E_BAD_REQUEST', 'invalid cursor: give back the cursor of the previous page unchanged', { field: 'cursor' });
}
