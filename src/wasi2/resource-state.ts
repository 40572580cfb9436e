import { WarrenError } from '../errors.js';
import { Descriptor, DirectoryEntryStream, type DescriptorFlags } from './filesystem.js';
import { InputStream, IoError, OutputStream, Pollable, type StreamOrigin } from './io-streams.js';
import type { Wasi2Host } from './wasi2-host.js';

/**
 * A host resource a component holds (an object of Warren's WASI 0.2 host in the glue's tables),
 * as plain data for a full snapshot. Descriptors and file streams name fds of the preview1 host,
 * whose own exported state (in the same snapshot) reopens them at their offsets; the stdio
 * streams and preopens are the host's own objects and come back as the new host's.
 */
export type HostResourceState =
  | { kind: 'preopen'; index: number }
  | { kind: 'descriptor'; fd: number; flags: DescriptorFlags; type: string }
  | { kind: 'stdio'; name: 'stdin' | 'stdout' | 'stderr'; ended?: boolean }
  | { kind: 'input-stream'; fd: number; at: string; ended: boolean }
  | { kind: 'output-stream'; fd: number; at: string | null }
  | { kind: 'pollable'; remainingNs: string | null }
  | { kind: 'directory-entry-stream'; entries: { name: string; type: string }[]; at: number }
  | { kind: 'error'; message: string; fsCode?: string };

/** A resource the host cannot put back: the snapshot fails with this, never leaves it out. */
export function uncapturable(what: string): WarrenError {
  return new WarrenError('E_SNAPSHOT_FAILED', `the component holds ${what}, which a full snapshot cannot capture`, { resource: what });
}

export function describeResource(host: Wasi2Host, obj: unknown): HostResourceState {
  if (obj instanceof Descriptor) {
    const index = host.preopens.findIndex(([d]) => d === obj);
    if (index >= 0) return { kind: 'preopen', index };
    return { kind: 'descriptor', fd: obj.fd, flags: { ...obj.flags }, type: obj.type };
  }
  if (obj instanceof InputStream) {
    const o = streamOrigin(obj.origin, 'an input stream');
    if (o.kind === 'file') return { kind: 'input-stream', fd: o.fd, at: String(o.at), ended: obj.ended };
    if (o.kind !== 'stdin' || obj !== host.stdio.stdin) throw uncapturable('an input stream of unknown origin');
    return { kind: 'stdio', name: 'stdin', ended: obj.ended };
  }
  if (obj instanceof OutputStream) {
    const o = streamOrigin(obj.origin, 'an output stream');
    if (o.kind === 'file') return { kind: 'output-stream', fd: o.fd, at: o.at === null ? null : String(o.at) };
    if (o.kind === 'stdin' || obj !== host.stdio[o.kind]) throw uncapturable('an output stream of unknown origin');
    return { kind: 'stdio', name: o.kind };
  }
  if (obj instanceof Pollable) {
    const left = obj.deadline === null ? null : obj.deadline - process.hrtime.bigint();
    return { kind: 'pollable', remainingNs: left === null ? null : String(left > 0n ? left : 0n) };
  }
  if (obj instanceof DirectoryEntryStream) return { kind: 'directory-entry-stream', entries: obj.entries.map((e) => ({ ...e })), at: obj.at };
  if (obj instanceof IoError) return { kind: 'error', message: obj.message, ...(obj.fsCode === undefined ? {} : { fsCode: obj.fsCode }) };
  const name = (obj as { constructor?: { name?: string } } | null)?.constructor?.name;
  throw uncapturable(`a resource of a kind the host does not know (${name ?? typeof obj})`);
}

/** The object for a described resource, in a host restored from the same snapshot. */
export function rebuildResource(host: Wasi2Host, s: HostResourceState): unknown {
  switch (s.kind) {
    case 'preopen': {
      const preopen = host.preopens[s.index];
      if (!preopen) throw new WarrenError('E_SNAPSHOT_INVALID', `the snapshot holds preopen ${s.index}, which the worker's mounts lack`);
      return preopen[0];
    }
    case 'descriptor':
      return new Descriptor(host.bridge, host, s.fd, s.flags, s.type);
    case 'stdio': {
      const stream = host.stdio[s.name];
      if (stream instanceof InputStream) stream.ended = Boolean(s.ended);
      return stream;
    }
    case 'input-stream': {
      const stream = fileDescriptor(host, s.fd).readViaStream(BigInt(s.at));
      stream.ended = s.ended;
      return stream;
    }
    case 'output-stream':
      return s.at === null ? fileDescriptor(host, s.fd).appendViaStream() : fileDescriptor(host, s.fd).writeViaStream(BigInt(s.at));
    case 'pollable':
      return new Pollable(host, s.remainingNs === null ? null : process.hrtime.bigint() + BigInt(s.remainingNs));
    case 'directory-entry-stream':
      return new DirectoryEntryStream(s.entries, s.at);
    case 'error':
      return new IoError(s.message, s.fsCode);
    default:
      throw new WarrenError('E_SNAPSHOT_INVALID', `the snapshot holds a host resource of unknown kind ${(s as { kind: string }).kind}`);
  }
}

function streamOrigin(origin: StreamOrigin | null, what: string): StreamOrigin {
  if (!origin) throw uncapturable(`${what} of unknown origin`);
  return origin;
}

/** A stream's own view of its file: it reads and writes by fd, whatever became of the guest's descriptor handle. */
function fileDescriptor(host: Wasi2Host, fd: number): Descriptor {
  return new Descriptor(host.bridge, host, fd, { read: true, write: true }, 'regular-file');
}
