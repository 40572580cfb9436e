import { WarrenError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import { workerNameKey, type WorkerNameIndex } from './worker-keys.js';

/** Worker ids are `w_` + base36; names are DNS labels, which have no `_`: the two never clash. */
export const isWorkerId = (ref: string): boolean => ref.startsWith('w_');

/**
 * The id of the worker a caller names: its id (`w_…`), `namespace/name`, or a bare name, which
 * is looked up in the caller's namespaces (`visible`: a project token's; undefined: all, where
 * a bare name is refused as ambiguous). A worker of a namespace the caller cannot see is not
 * found, exactly like one that does not exist. Does not check that the worker record is there:
 * the caller's getWorker does.
 */
export async function resolveWorkerRef(ctx: NodeContext, ref: string, visible: readonly string[] | undefined): Promise<string> {
  if (isWorkerId(ref)) return ref;
  const slash = ref.lastIndexOf('/');
  if (slash !== -1) {
    const namespace = ref.slice(0, slash);
    if (visible && !visible.includes(namespace)) throw notFound(ref);
    return (await lookup(ctx, namespace, ref.slice(slash + 1))) ?? throwNotFound(ref);
  }
  if (!visible) {
    throw new WarrenError('E_BAD_REQUEST', `worker ${JSON.stringify(ref)}: a bare name needs a token of one namespace; name it as namespace/${ref} or by its id`, { worker: ref });
  }
  const found: { namespace: string; id: string }[] = [];
  for (const namespace of visible) {
    const id = await lookup(ctx, namespace, ref);
    if (id) found.push({ namespace, id });
  }
  if (found.length > 1) {
    throw new WarrenError('E_BAD_REQUEST', `worker name ${ref} is in several of this token's namespaces (${found.map((f) => f.namespace).join(', ')}): use namespace/${ref}`, {
      worker: ref,
      namespaces: found.map((f) => f.namespace),
    });
  }
  return found[0]?.id ?? throwNotFound(ref);
}

const NAMESPACE_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

async function lookup(ctx: NodeContext, namespace: string, name: string): Promise<string | undefined> {
  // Only well-formed names reach the registry (a NATS key has a narrow alphabet).
  if (namespace.length > 128 || !NAMESPACE_RE.test(namespace) || !NAME_RE.test(name)) return undefined;
  return (await ctx.ports.registry.get<WorkerNameIndex>(workerNameKey(namespace, name)))?.value.id;
}

const notFound = (ref: string) => new WarrenError('E_NOT_FOUND', `no worker ${ref}`, { worker: ref });
function throwNotFound(ref: string): never {
  throw notFound(ref);
}
