import { WarrenError } from '../errors.js';
import { extensionImports, type ModuleAnalysis } from './analyze-module.js';

/**
 * Every function of wasi_snapshot_preview1, which Warren's WASI host provides in full (a test
 * keeps this list equal to the host's imports).
 */
export const WASI_PREVIEW1_FUNCTIONS: ReadonlySet<string> = new Set([
  'args_get', 'args_sizes_get', 'clock_res_get', 'clock_time_get', 'environ_get', 'environ_sizes_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights',
  'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread', 'fd_prestat_dir_name', 'fd_prestat_get',
  'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek', 'fd_sync', 'fd_tell', 'fd_write',
  'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open', 'path_readlink',
  'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise',
  'random_get', 'sched_yield', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
]);

const WASI_MODULE = 'wasi_snapshot_preview1';

/**
 * A module Warren could never instantiate is refused at push, not at its first run (which
 * answered 500 E_INTERNAL): every import must be a WASI preview1 function or come from a
 * required extension (checkExtensions), and the module needs a linear memory (its own, or an extension's), since
 * every WASI call passes its arguments through memory. The error names each import it cannot
 * satisfy, as `module.name`.
 */
export function checkLinkable(analysis: ModuleAnalysis): void {
  const extensions = new Set(extensionImports(analysis));
  const unknown = analysis.imports
    .filter((i) => !extensions.has(i.module) && !(i.module === WASI_MODULE && i.kind === 'function' && WASI_PREVIEW1_FUNCTIONS.has(i.name)))
    .map((i) => ({ import: `${i.module}.${i.name}`, kind: i.kind }));
  if (unknown.length > 0) {
    const names = unknown.map((u) => `${u.import} (${u.kind})`);
    const shown = names.length > 5 ? [...names.slice(0, 5), `and ${names.length - 5} more`] : names;
    throw new WarrenError(
      'E_IMPORT_UNKNOWN',
      `the module imports ${shown.join(', ')}, which Warren cannot provide: a guest may import wasi_snapshot_preview1 functions and the exports of its required_extensions`,
      { imports: unknown.slice(0, 100) },
    );
  }
  if (!analysis.memory) {
    throw new WarrenError('E_WASM_INVALID', 'the module defines no linear memory: a Warren guest needs one (WASI passes every argument through it)', { rule: 'needs-memory' });
  }
}
