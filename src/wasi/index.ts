/** Warren's WASI preview1 host: mount table, read-only files, serializable state. */
export { MountTableBuilder, normalizeGuestPath, type Mount, type MountMode, type MountTable } from './mount-table.js';
export type { OutputSink, StdinSource } from './stdio.js';
export type { WasiFdState, WasiState } from './wasi-state.js';
export { WasiExit } from './wasi-exit.js';
export { setSyscallCheckpoint, WasiHost, type WasiHostOptions, type WasiRestoreIo } from './wasi-host.js';
export { InlineYield } from './inline-yield.js';
