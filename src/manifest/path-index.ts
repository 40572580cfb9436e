interface Node {
  children: Map<string, Node> | null;
  /** Indexes of the entries whose path ends here, in the order they were added. */
  here: number[] | null;
}

/**
 * Clean absolute guest paths (`/a/b`) by segment, each with the indexes of the entries that
 * name it. Asking which entries lie at or above a path, or under it, costs the length of that
 * path (plus the answer): comparing every entry with every other held the event loop for
 * seconds on a manifest of tens of thousands of [[files]] (docs/decisions.md).
 */
export class PathIndex {
  private readonly root: Node = { children: null, here: null };

  add(path: string, index: number): void {
    let node = this.root;
    for (const segment of segmentsOf(path)) {
      node.children ??= new Map();
      let next = node.children.get(segment);
      if (!next) node.children.set(segment, (next = { children: null, here: null }));
      node = next;
    }
    (node.here ??= []).push(index);
  }

  /** Entries at each strict ancestor of `path`, then (with `andSelf`) at `path` itself: shallowest first. */
  above(path: string, andSelf = false): number[] {
    const out: number[] = [];
    const segments = segmentsOf(path);
    let node: Node | undefined = this.root;
    for (let i = 0; i < segments.length && node; i++) {
      node = node.children?.get(segments[i]!);
      if (!node?.here) continue;
      if (i < segments.length - 1 || andSelf) for (const k of node.here) out.push(k);
    }
    return out;
  }

  /** The entries at `path` or its deepest ancestor that has any, or null. */
  deepestAtOrAbove(path: string): number[] | null {
    let found: number[] | null = null;
    let node: Node | undefined = this.root;
    for (const segment of segmentsOf(path)) {
      node = node.children?.get(segment);
      if (!node) break;
      if (node.here) found = node.here;
    }
    return found;
  }

  /** Entries strictly under `path`. */
  below(path: string): number[] {
    let node: Node | undefined = this.root;
    for (const segment of segmentsOf(path)) {
      node = node.children?.get(segment);
      if (!node) return [];
    }
    const out: number[] = [];
    const stack: Node[] = [...(node.children?.values() ?? [])];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.here) for (const k of n.here) out.push(k);
      if (n.children) for (const c of n.children.values()) stack.push(c);
    }
    return out;
  }
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}
