import { WarrenError } from '../errors.js';
import { describeResource, rebuildResource, uncapturable, type HostResourceState } from '../wasi2/resource-state.js';
import type { Wasi2Host } from '../wasi2/wasi2-host.js';
import type { ComponentInstance, GlueTable } from './component-instance.js';
import { readGlobals, writeGlobals } from './instance-globals.js';
import type { GlobalValues } from './worker-protocol.js';

/**
 * What a full snapshot of a component worker holds besides memory pages and the preview1 host's
 * state: the glue's resource tables (handle numbers live in guest memory, so they must come
 * back the same) and the host objects they name, as data.
 */
export interface ComponentGuestState {
  version: 1;
  tables: SavedTable[];
  /** Each distinct host object once (a stdio stream may sit under several reps). */
  resources: HostResourceState[];
}

interface SavedTable {
  index: number;
  /** The glue's handle array as it was: free list, scopes and reps. */
  handles: number[];
  captureCount: number;
  /** [rep, index into `resources`]. */
  captures: [number, number][];
}

/** jco's flag bit in handle table slots (T_FLAG): a free slot's link, or an owned handle's rep. */
const T_FLAG = 1 << 30;

/**
 * The glue's tables and host resources between two calls. A borrow still live, a handle whose
 * host object the glue lost, a resource the component defines held by the host, or a host
 * object of a kind resource-state.ts does not know fail the snapshot: it is never partial.
 */
export function captureComponentState(host: Wasi2Host, inst: ComponentInstance): ComponentGuestState {
  if (!inst.tablesTracked) throw uncapturable('resource tables this version of jco\'s glue does not show Warren');
  const resources: HostResourceState[] = [];
  const ids = new Map<unknown, number>();
  const tables = inst.tables.map((t): SavedTable => {
    for (const rep of liveReps(t)) {
      if (!t.captures) throw uncapturable(`a handle of resource table ${t.index}, a resource the component defines`);
      if (!t.captures.has(rep)) throw uncapturable(`handle of rep ${rep} in resource table ${t.index}, whose host object the glue does not hold`);
    }
    const captures: [number, number][] = [];
    for (const [rep, obj] of t.captures ?? []) {
      let id = ids.get(obj);
      if (id === undefined) {
        id = resources.push(describeResource(host, obj)) - 1;
        ids.set(obj, id);
      }
      captures.push([rep, id]);
    }
    return { index: t.index, handles: Array.from(t.handles), captureCount: t.getCount?.() ?? 0, captures };
  });
  return { version: 1, tables, resources };
}

/** Puts the tables of a snapshot into a fresh instance of the same glue, over a host restored from it. */
export function restoreComponentState(host: Wasi2Host, inst: ComponentInstance, state: ComponentGuestState): void {
  if (state?.version !== 1 || !Array.isArray(state.tables) || !Array.isArray(state.resources)) {
    throw new WarrenError('E_SNAPSHOT_INVALID', 'the snapshot\'s component state has an unknown shape');
  }
  const objects = state.resources.map((r) => rebuildResource(host, r));
  const byIndex = new Map(inst.tables.map((t) => [t.index, t]));
  for (const saved of state.tables) {
    const t = byIndex.get(saved.index);
    if (!t) throw new WarrenError('E_SNAPSHOT_INVALID', `the snapshot has resource table ${saved.index}, which the component's glue lacks`);
    if (!saved.handles.every((n) => Number.isInteger(n))) throw new WarrenError('E_SNAPSHOT_INVALID', `resource table ${saved.index} of the snapshot is not a handle table`);
    t.handles.length = 0;
    t.handles.push(...saved.handles);
    t.handles._createdReps = new Set(saved.captures.map(([rep]) => rep));
    if (saved.captures.length > 0 || saved.captureCount > 0) {
      if (!t.captures || !t.setCount) throw new WarrenError('E_SNAPSHOT_INVALID', `resource table ${saved.index} holds no host objects in this glue`);
    }
    t.captures?.clear();
    for (const [rep, id] of saved.captures) {
      if (!(id in objects)) throw new WarrenError('E_SNAPSHOT_INVALID', `resource table ${saved.index} names host object ${id}, which the snapshot lacks`);
      t.captures!.set(rep, objects[id]);
    }
    t.setCount?.(saved.captureCount);
  }
}

/** Reps of the handles in use; a live borrow (only ever inside a call) fails the snapshot. */
function liveReps(t: GlueTable): number[] {
  const reps: number[] = [];
  const h = t.handles;
  for (let i = 2; i + 1 < h.length; i += 2) {
    const scope = h[i]!;
    const val = h[i + 1]!;
    if ((scope & T_FLAG) !== 0 || val === 0) continue;
    if (scope !== 0 || (val & T_FLAG) === 0) throw uncapturable(`a borrowed handle in resource table ${t.index}`);
    reps.push(val & ~T_FLAG);
  }
  return reps;
}

/** Every exported global of every core instance (readGlobals of each), keyed `<instance>/<export>`. */
export function readComponentGlobals(instances: WebAssembly.Instance[]): GlobalValues {
  const globals: GlobalValues = {};
  instances.forEach((instance, i) => {
    for (const [name, value] of Object.entries(instance.exports)) {
      if (value instanceof WebAssembly.Global && !isNumeric(value)) throw uncapturable(`global ${name} of core instance ${i}, which holds no number`);
    }
    for (const [name, g] of Object.entries(readGlobals(instance))) globals[`${i}/${name}`] = g;
  });
  return globals;
}

export function writeComponentGlobals(instances: WebAssembly.Instance[], globals: GlobalValues): void {
  const of = instances.map((): GlobalValues => ({}));
  for (const [key, g] of Object.entries(globals)) {
    const slash = key.indexOf('/');
    const own = slash > 0 ? of[Number(key.slice(0, slash))] : undefined;
    if (!own) throw new WarrenError('E_SNAPSHOT_INVALID', `the snapshot has global ${key}, which no core instance of the component exports`, { global: key });
    own[key.slice(slash + 1)] = g;
  }
  instances.forEach((instance, i) => writeGlobals(instance, of[i]!));
}

function isNumeric(global: WebAssembly.Global): boolean {
  try {
    const v: unknown = global.value;
    return typeof v === 'number' || typeof v === 'bigint';
  } catch {
    return false; // v128: JS cannot read it
  }
}
