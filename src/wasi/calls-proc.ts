import { randomFillSync } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { CLOCK, E, EVENT_FD_READWRITE_HANGUP, EVENTTYPE, Errno, FDFLAGS_ALL, RIFLAGS_ALL, SDFLAGS_ALL, SUBCLOCK_ABSTIME } from './abi.js';
import { InlineYield } from './inline-yield.js';
import { sleepMs } from './stdio.js';
import type { WasiContext } from './wasi-context.js';
import { WasiExit } from './wasi-exit.js';

export type Syscall = (...args: never[]) => number;

function realtimeNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** args, environ, clocks, random, poll_oneoff, proc_*, sched_yield and sock_* (as wasmtime: no sockets). */
export function procCalls(ctx: WasiContext): Record<string, Syscall> {
  const sizes = (list: Buffer[], countPtr: number, sizePtr: number): number => {
    const dv = ctx.view();
    dv.setUint32(countPtr, list.length, true);
    dv.setUint32(sizePtr, list.reduce((n, b) => n + b.byteLength, 0), true);
    return E.SUCCESS;
  };
  const fill = (list: Buffer[], ptrsPtr: number, bufPtr: number): number => {
    const dv = ctx.view();
    const mem = ctx.bytes();
    for (let i = 0; i < list.length; i++) {
      dv.setUint32(ptrsPtr + 4 * i, bufPtr, true);
      mem.set(list[i]!, bufPtr);
      bufPtr += list[i]!.byteLength;
    }
    return E.SUCCESS;
  };

  const notSocket = (fd: number, badFlags: number): number => {
    if (badFlags !== 0) return E.INVAL;
    ctx.fds.get(fd);
    return E.NOTSOCK;
  };

  const now = (id: number): bigint => {
    if (id === CLOCK.REALTIME) return realtimeNs();
    if (id === CLOCK.MONOTONIC) return process.hrtime.bigint();
    // wasmtime has no CPU-time clocks in preview1 and says EBADF.
    if (id === CLOCK.PROCESS_CPUTIME || id === CLOCK.THREAD_CPUTIME) throw new Errno(E.BADF);
    throw new Errno(E.INVAL);
  };

  return {
    args_sizes_get: ((c: number, s: number) => sizes(ctx.encodedArgs, c, s)) as Syscall,
    args_get: ((p: number, b: number) => fill(ctx.encodedArgs, p, b)) as Syscall,
    environ_sizes_get: ((c: number, s: number) => sizes(ctx.encodedEnv, c, s)) as Syscall,
    environ_get: ((p: number, b: number) => fill(ctx.encodedEnv, p, b)) as Syscall,

    clock_res_get: ((id: number, out: number) => {
      now(id);
      ctx.view().setBigUint64(out, id === CLOCK.REALTIME ? 1000n : 1n, true);
      return E.SUCCESS;
    }) as Syscall,
    clock_time_get: ((id: number, _precision: bigint, out: number) => {
      ctx.view().setBigUint64(out, now(id), true);
      return E.SUCCESS;
    }) as Syscall,

    random_get: ((buf: number, len: number) => {
      const mem = ctx.bytes();
      if (buf + len > mem.byteLength) throw new RangeError('random_get buffer out of bounds');
      for (let off = 0; off < len; off += 65536) randomFillSync(mem, buf + off, Math.min(65536, len - off));
      return E.SUCCESS;
    }) as Syscall,

    /**
     * As wasmtime's preview1 poll_oneoff: no subscriptions is EINVAL; fd subscriptions are ready
     * at once (files and stdio never block here) with nbytes 1, and a read at or past the end of
     * a file says HANGUP; clocks are waited for when no fd is ready. A lone relative clock is a
     * plain sleep whose event has nbytes 1 (wasmtime's special case for it), whatever clock it
     * names; elsewhere only the realtime and monotonic clocks are EINVAL-free.
     */
    poll_oneoff: ((inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) => {
      if (nsubs === 0) throw new Errno(E.INVAL);
      const dv = ctx.view();
      const mono = process.hrtime.bigint();
      const clocks: { userdata: bigint; deadline: bigint }[] = [];
      const ready: { userdata: bigint; type: number; nbytes: bigint; flags: number }[] = [];
      let clockNbytes = 0n;
      for (let i = 0; i < nsubs; i++) {
        const p = inPtr + 48 * i;
        const userdata = dv.getBigUint64(p, true);
        const tag = dv.getUint8(p + 8);
        if (tag === EVENTTYPE.CLOCK) {
          const id = dv.getUint32(p + 16, true);
          const timeout = dv.getBigUint64(p + 24, true);
          const subFlags = dv.getUint16(p + 40, true);
          if (id > CLOCK.THREAD_CPUTIME || (subFlags & ~SUBCLOCK_ABSTIME) !== 0) throw new Errno(E.INVAL);
          const abs = (subFlags & SUBCLOCK_ABSTIME) !== 0;
          let deadline: bigint;
          if (nsubs === 1 && !abs) {
            deadline = mono + timeout;
            clockNbytes = 1n;
          } else if (id === CLOCK.MONOTONIC) deadline = abs ? timeout : mono + timeout;
          else if (id === CLOCK.REALTIME) deadline = abs ? mono + (timeout - realtimeNs()) : mono + timeout;
          else throw new Errno(E.INVAL);
          clocks.push({ userdata, deadline });
        } else if (tag === EVENTTYPE.FD_READ || tag === EVENTTYPE.FD_WRITE) {
          const e = ctx.fds.get(dv.getUint32(p + 16, true));
          let flags = 0;
          if (tag === EVENTTYPE.FD_READ && e.kind === 'file') {
            if (fstatSync(e.hostFd).size <= e.offset) flags = EVENT_FD_READWRITE_HANGUP;
          } else if (!(tag === EVENTTYPE.FD_READ ? e.kind === 'stdin' : e.kind === 'stdout' || e.kind === 'stderr' || e.kind === 'file')) {
            throw new Errno(E.BADF);
          }
          ready.push({ userdata, type: tag, nbytes: 1n, flags });
        } else {
          throw new Errno(E.INVAL);
        }
      }
      let t = mono;
      if (ready.length === 0 && clocks.length > 0) {
        const earliest = clocks.reduce((m, c) => (c.deadline < m ? c.deadline : m), clocks[0]!.deadline);
        if (!ctx.mayBlock && process.hrtime.bigint() < earliest) throw new InlineYield('poll_oneoff');
        while ((t = process.hrtime.bigint()) < earliest) sleepMs(Math.max(1, Math.ceil(Number(earliest - t) / 1e6)));
      }
      for (const c of clocks) if (c.deadline <= t) ready.push({ userdata: c.userdata, type: EVENTTYPE.CLOCK, nbytes: clockNbytes, flags: 0 });
      const out = ctx.view();
      ready.forEach((ev, i) => {
        const p = outPtr + 32 * i;
        out.setBigUint64(p, ev.userdata, true);
        out.setUint16(p + 8, 0, true);
        out.setUint8(p + 10, ev.type);
        out.setBigUint64(p + 16, ev.nbytes, true);
        out.setUint16(p + 24, ev.flags, true);
      });
      out.setUint32(neventsPtr, ready.length, true);
      return E.SUCCESS;
    }) as Syscall,

    proc_exit: ((code: number) => {
      // wasmtime refuses exit statuses it cannot pass on portably.
      if (code >>> 0 >= 126) throw new WebAssembly.RuntimeError('exit with invalid exit status outside of [0..126)');
      throw new WasiExit(code);
    }) as Syscall,
    proc_raise: (() => E.NOTSUP) as Syscall,
    sched_yield: (() => E.SUCCESS) as Syscall,

    // As wasmtime's preview1: no sockets. Flags with bits the call does not define are EINVAL
    // (wiggle decodes them first), then an fd that is not open is EBADF, any other ENOTSOCK.
    sock_accept: ((fd: number, flags: number) => notSocket(fd, flags & ~FDFLAGS_ALL)) as Syscall,
    sock_recv: ((fd: number, _iovs: number, _n: number, flags: number) => notSocket(fd, flags & ~RIFLAGS_ALL)) as Syscall,
    sock_send: ((fd: number) => notSocket(fd, 0)) as Syscall,
    sock_shutdown: ((fd: number, how: number) => notSocket(fd, how & ~SDFLAGS_ALL)) as Syscall,
  };
}
