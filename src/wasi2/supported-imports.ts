/**
 * The WASI 0.2 interfaces Warren's component host implements (src/wasi2/), by package, and those
 * it refuses by default. A component importing anything else cannot be instantiated: push
 * refuses it (E_IMPORT_UNSUPPORTED) rather than letting every run fail.
 */
const SUPPORTED: Record<string, readonly string[]> = {
  'wasi:cli': ['environment', 'exit', 'stdin', 'stdout', 'stderr', 'terminal-input', 'terminal-output', 'terminal-stdin', 'terminal-stdout', 'terminal-stderr'],
  'wasi:io': ['error', 'poll', 'streams'],
  'wasi:filesystem': ['types', 'preopens'],
  'wasi:clocks': ['monotonic-clock', 'wall-clock'],
  'wasi:random': ['random', 'insecure', 'insecure-seed'],
};

/** Network access: no grant opens it yet, so these are refused with their own reason. */
const DENIED_PACKAGES = ['wasi:sockets', 'wasi:http'];

const IMPORT_NAME = /^([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@(\d+)\.(\d+)\.[0-9A-Za-z.+-]+)?$/;

export interface RefusedImport {
  import: string;
  reason: string;
}

/** Why `name` (as the world names it: `wasi:cli/stdin@0.2.3`, or a function) cannot be satisfied, or null when it can. */
export function refusedImport(name: string): RefusedImport | null {
  const m = IMPORT_NAME.exec(name);
  if (!m) return { import: name, reason: 'Warren provides no imports but WASI 0.2 interfaces' };
  const [, pkg, iface, major, minor] = m;
  if (DENIED_PACKAGES.includes(pkg!)) return { import: name, reason: `${pkg} is refused by default: components get no network access` };
  if (!SUPPORTED[pkg!]?.includes(iface!)) return { import: name, reason: `Warren's WASI 0.2 host does not implement ${pkg}/${iface}` };
  if (major !== undefined && (major !== '0' || minor !== '2')) return { import: name, reason: `only WASI 0.2.x is implemented, not ${major}.${minor}` };
  return null;
}

/** `wasi:cli/stdin@0.2.3` → `wasi:cli/stdin`: how jco's glue names an import in its `imports` object. */
export function unversionedImport(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}
