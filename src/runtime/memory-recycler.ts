import { RECYCLED_MEMORY_IMPORT } from '../precompile/import-memory.js';

/** Memories at most this large at start are zeroed and reused; larger ones are cheaper fresh (the kernel zeroes lazily). */
const MAX_RECYCLED_PAGES = 64;
const MAX_KEPT_PER_SHAPE = 4;
const PAGE = 65536;

/**
 * A job thread's spare linear memories, by shape (initial, maximum). A memory goes back only
 * if the job left it at its initial size; it is zeroed before anyone sees it again, so the next
 * instance starts exactly as fresh as with a new memory (its data segments are written at
 * instantiation). Saves V8 reserving and releasing a memory region per job.
 */
export class MemoryRecycler {
  private readonly spare = new Map<string, WebAssembly.Memory[]>();

  take(limits: { initial: number; maximum: number | null }): WebAssembly.Memory {
    const got = this.spare.get(shapeKey(limits))?.pop();
    if (got) return got;
    return new WebAssembly.Memory(limits.maximum === null ? { initial: limits.initial } : { initial: limits.initial, maximum: limits.maximum });
  }

  give(limits: { initial: number; maximum: number | null }, memory: WebAssembly.Memory): void {
    if (limits.initial > MAX_RECYCLED_PAGES || memory.buffer.byteLength !== limits.initial * PAGE) return;
    const list = this.spare.get(shapeKey(limits)) ?? [];
    if (list.length >= MAX_KEPT_PER_SHAPE) return;
    new Uint8Array(memory.buffer).fill(0);
    list.push(memory);
    this.spare.set(shapeKey(limits), list);
  }

  imports(memory: WebAssembly.Memory): WebAssembly.Imports {
    return { [RECYCLED_MEMORY_IMPORT.module]: { [RECYCLED_MEMORY_IMPORT.name]: memory } };
  }
}

function shapeKey(l: { initial: number; maximum: number | null }): string {
  return `${l.initial}:${l.maximum ?? ''}`;
}
