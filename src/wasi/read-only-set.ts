/**
 * Files that stay read-only inside read-write mounts. Keyed by file identity (dev:ino), so a
 * second name for the same bytes is read-only too; the guest paths are kept as well, because
 * inode numbers change when a root is placed again on another node (restore re-keys by stat).
 */
export class ReadOnlySet {
  private readonly ids = new Set<string>();
  readonly guestPaths: Set<string>;

  constructor(guestPaths: Iterable<string>) {
    this.guestPaths = new Set(guestPaths);
  }

  get empty(): boolean {
    return this.guestPaths.size === 0 && this.ids.size === 0;
  }

  addId(dev: number, ino: number): void {
    this.ids.add(`${dev}:${ino}`);
  }

  hasId(dev: number, ino: number): boolean {
    return this.ids.size !== 0 && this.ids.has(`${dev}:${ino}`);
  }

  hasPath(guestPath: string): boolean {
    return this.guestPaths.has(guestPath);
  }

  /** True when a read-only file lies below directory `dirGuestPath`. */
  hasPathUnder(dirGuestPath: string): boolean {
    const prefix = dirGuestPath === '/' ? '/' : dirGuestPath + '/';
    for (const p of this.guestPaths) if (p.startsWith(prefix)) return true;
    return false;
  }

  idList(): string[] {
    return [...this.ids].sort();
  }
}
