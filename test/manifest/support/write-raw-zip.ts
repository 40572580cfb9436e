import { deflateRawSync, crc32 } from 'node:zlib';

/** One entry of a hand-made zip; every field a hostile archive might lie about is settable. */
export interface RawEntry {
  name: string | Buffer;
  data?: Buffer;
  /** 0 = stored, 8 = deflate (default). */
  method?: number;
  /** Unix mode stored in the high 16 bits of the external attributes (default 0o100644). */
  mode?: number;
  /** Overrides of what the headers claim. */
  declaredSize?: number;
  declaredCompressedSize?: number;
  crc?: number;
  utf8?: boolean;
  /** Point this entry's central record at another entry's local header. */
  shareDataWith?: number;
}

/**
 * Writes zip bytes by hand: local header + data per entry, central directory, end record.
 * yazl refuses to write hostile names, so tests build hostile archives with this.
 */
export function writeRawZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  entries.forEach((e, i) => {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const data = e.data ?? Buffer.alloc(0);
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const crc = e.crc ?? crc32(data);
    const size = e.declaredSize ?? data.length;
    const csize = e.declaredCompressedSize ?? body.length;
    const flags = e.utf8 === false ? 0 : 0x800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(csize, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const headerOffset = e.shareDataWith !== undefined ? offsets[e.shareDataWith]! : offset;
    offsets.push(offset);
    if (e.shareDataWith === undefined) {
      locals.push(local, name, body);
      offset += 30 + name.length + body.length;
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(csize, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(headerOffset, 42);
    centrals.push(central, name);
    void i;
  });
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}
