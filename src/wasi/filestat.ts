import type { BigIntStats } from 'node:fs';
import { filetypeOfMode } from './abi.js';

/** Writes a preview1 `filestat` (64 bytes) for host stats, or zeros with `filetype` for stdio. */
export function writeFilestat(dv: DataView, ptr: number, st: BigIntStats | null, filetype?: number): void {
  if (st === null) {
    for (let i = 0; i < 64; i += 8) dv.setBigUint64(ptr + i, 0n, true);
    dv.setUint8(ptr + 16, filetype ?? 0);
    return;
  }
  dv.setBigUint64(ptr, st.dev, true);
  dv.setBigUint64(ptr + 8, st.ino, true);
  dv.setBigUint64(ptr + 16, 0n, true);
  dv.setUint8(ptr + 16, filetypeOfMode(Number(st.mode)));
  dv.setBigUint64(ptr + 24, st.nlink, true);
  dv.setBigUint64(ptr + 32, st.size, true);
  dv.setBigUint64(ptr + 40, st.atimeNs, true);
  dv.setBigUint64(ptr + 48, st.mtimeNs, true);
  dv.setBigUint64(ptr + 56, st.ctimeNs, true);
}
