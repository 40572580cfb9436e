import type { Blobs, Integrity } from '../../ports/blobs.js';
import type { Registry } from '../../ports/registry.js';
import {
  REGISTRY_PREFIX,
  pageMapBlobs,
  type ArtifactMapRecord,
  type ComponentVersionRecord,
  type FileTree,
  type PageMap,
  type SnapshotRecord,
  type WorkerRecord,
} from '../../records.js';

export interface MarkedRoots {
  /** Every blob some root reaches, with the first record key that reached it. */
  marked: Map<Integrity, string>;
  /** Records no root keeps (with their revision, for a compare-and-set delete). */
  deadRecords: { key: string; revision: number }[];
  /** Index blobs (file trees, page maps) a live record names but the store cannot give. */
  unreadable: { key: string; integrity: Integrity }[];
  /** Registry records looked at. */
  records: number;
  /** The live page maps that place pages in packs (verify checks every page of them). */
  pageMaps: { key: string; map: PageMap }[];
}

export interface MarkRootsInput {
  blobs: Blobs;
  registry: Registry;
  /** Artifact maps of this engine id are roots; other engine ids' maps are dead. null: every engine's maps count. */
  engineId: string | null;
  /** Records younger than this (by their createdAt) are never dead: they may be mid-creation. */
  graceMs: number;
  now: number;
}

/**
 * The mark phase of GC, from the registry's records only (never from labels on blobs):
 * - `component/`: module, manifest, extension modules, file tree and each of its files;
 * - `worker/` not `deleted`: its last snapshot and last commit, its baseline tree and its files;
 * - `snapshot/`: commits always; pauses while their worker lives; a page map's packs (or, for
 *   maps from before packs, each page's blob);
 * - `precompile/<engineId>/`: each map whose component version still exists, every node.
 * Pauses of gone workers and artifact maps of other engines or deleted versions are dead records.
 */
export async function markRoots(input: MarkRootsInput): Promise<MarkedRoots> {
  const { blobs, registry } = input;
  const marked = new Map<Integrity, string>();
  const unreadable: MarkedRoots['unreadable'] = [];
  const deadRecords: MarkedRoots['deadRecords'] = [];
  const pageMaps: MarkedRoots['pageMaps'] = [];
  const mark = (integrity: Integrity | null | undefined, key: string) => {
    if (integrity && !marked.has(integrity)) marked.set(integrity, key);
  };
  const readJson = async <T>(integrity: Integrity, key: string): Promise<T | null> => {
    try {
      return JSON.parse((await blobs.get(integrity)).toString('utf8')) as T;
    } catch {
      unreadable.push({ key, integrity });
      return null;
    }
  };
  const markTree = async (integrity: Integrity | null, key: string) => {
    if (!integrity) return;
    mark(integrity, key);
    const tree = await readJson<FileTree>(integrity, key);
    for (const e of tree?.entries ?? []) mark(e.digest, key);
  };
  const isYoung = (createdAt: string) => input.now - Date.parse(createdAt) < input.graceMs;

  const components = await registry.list<ComponentVersionRecord>(REGISTRY_PREFIX.component);
  const versions = new Set<string>();
  for (const { key, value: c } of components) {
    versions.add(`${c.fq}/${c.version}`);
    mark(c.module.digest, key);
    mark(c.manifestDigest, key);
    for (const e of c.extensions ?? []) mark(e.module, key);
    await markTree(c.fileTree, key);
  }

  const workers = await registry.list<WorkerRecord>(REGISTRY_PREFIX.worker);
  const liveWorkers = new Set<string>();
  const keptSnapshots = new Set<string>();
  for (const { key, value: w } of workers) {
    if (w.status === 'deleted') continue;
    await markTree(w.baseline ?? null, key);
    liveWorkers.add(w.id);
    if (w.lastSnapshot) keptSnapshots.add(w.lastSnapshot);
    if (w.lastCommit) keptSnapshots.add(w.lastCommit);
  }

  const snapshots = await registry.list<SnapshotRecord>(REGISTRY_PREFIX.snapshot);
  for (const { key, value: s, revision } of snapshots) {
    if (s.kind !== 'commit' && !liveWorkers.has(s.worker) && !keptSnapshots.has(s.id) && !isYoung(s.createdAt)) {
      deadRecords.push({ key, revision });
      continue;
    }
    mark(s.state, key);
    await markTree(s.files, key);
    if (s.memory) {
      mark(s.memory, key);
      const pages = await readJson<PageMap>(s.memory, key);
      if (pages) {
        for (const digest of pageMapBlobs(pages)) mark(digest, key);
        if (pages.packs) pageMaps.push({ key, map: pages });
      }
    }
  }

  const maps = await registry.list<ArtifactMapRecord>(REGISTRY_PREFIX.precompile);
  for (const { key, value: m, revision } of maps) {
    const current = input.engineId === null || key.startsWith(`${REGISTRY_PREFIX.precompile}${input.engineId}/`);
    if (!current || (!versions.has(`${m.fq}/${m.version}`) && !isYoung(m.createdAt))) {
      deadRecords.push({ key, revision });
      continue;
    }
    for (const a of m.artifacts) mark(a.digest, key);
  }

  return { marked, deadRecords, unreadable, pageMaps, records: components.length + workers.length + snapshots.length + maps.length };
}
