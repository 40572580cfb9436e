import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { nativeFsStatus } from '../../src/native/native-fs.js';
import { MountTableBuilder, WasiHost } from '../../src/wasi/index.js';
import { PREOPEN_RIGHTS_BASE, PREOPEN_RIGHTS_INHERITING, R, RIGHTS_ALL } from '../../src/wasi/abi.js';
import { loadFixture } from './probe-guest.js';

/**
 * Warren's preview1 host against what wasmtime answers, call by call: each guest
 * (fixtures/c/wasi_{rights,times,slashes,fdops}.c) prints "<check> <result>" lines, and the
 * expected results below come from wasmtime's preview1 implementation
 * (crates/wasi/src/preview1.rs, "p1" below), the cap-std code it builds on
 * (crates/wasi/src/filesystem/primitives), and the WASI test suite wasmtime passes
 * (WebAssembly/wasi-testsuite tests/rust/wasm32-wasip1, "suite" below).
 */

const E = {
  SUCCESS: 0, BADF: 8, EXIST: 20, INVAL: 28, ISDIR: 31, NOENT: 44, NAMETOOLONG: 37, NOTDIR: 54, NOTSOCK: 57, PERM: 63,
  SPIPE: 70, NOTCAPABLE: 76,
} as const;

function runGuest(name: string, dir: string): Map<string, string> {
  const out: Uint8Array[] = [];
  const host = new WasiHost({
    args: [name], env: {}, mounts: new MountTableBuilder().mount('/data', dir, 'rw').build(),
    stdin: new Uint8Array(0), stdout: (c) => out.push(c), stderr: (c) => out.push(c),
  });
  try {
    assert.equal(host.start(new WebAssembly.Instance(loadFixture(`${name}.wasm`), host.imports)), 0);
  } finally {
    host.close();
  }
  const lines = new Map<string, string>();
  for (const line of Buffer.concat(out).toString('utf8').split('\n').filter(Boolean)) {
    const at = line.indexOf(' ');
    lines.set(line.slice(0, at), line.slice(at + 1));
  }
  return lines;
}

/** Asserts every expected check; a check the guest did not print fails too. */
function expectAll(got: Map<string, string>, expected: Record<string, number | bigint | string>): void {
  for (const [check, want] of Object.entries(expected)) assert.equal(got.get(check), String(want), check);
}

describe('preview1 as wasmtime answers it', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let n = 0;
  const fresh = (): string => {
    const dir = join(tmp.path, `m${n++}`);
    mkdirSync(dir);
    return dir;
  };
  before(() => {
    tmp = makeTempDir();
  });
  after(() => tmp.dispose());

  it('rights: reported as wasmtime reports them; dropped for good; a dropped right fails its calls', () => {
    const dir = fresh();
    const got = runGuest('wasi_rights', dir);
    expectAll(got, {
      // p1 fd_fdstat_get: fixed sets for preopens ("expected by many userlands") and stdio.
      preopen_base: PREOPEN_RIGHTS_BASE, preopen_inheriting: PREOPEN_RIGHTS_INHERITING,
      stdin_base: R.FD_READ, stdout_base: R.FD_WRITE,
      // p1 fd_fdstat_get for other fds: every right, less FD_SEEK and FD_FILESTAT_SET_SIZE for a
      // directory, FD_READ/FD_READDIR without READ, FD_WRITE without WRITE; inheriting = base.
      // p1 path_open opens for READ only when FD_READ is asked for, a directory never for WRITE
      // (suite: directory_seek asks for FD_SEEK alone; seeking is EBADF).
      dir_base: RIGHTS_ALL & ~(R.FD_SEEK | R.FD_FILESTAT_SET_SIZE | R.FD_WRITE | R.FD_READ | R.FD_READDIR),
      dir_inheriting: RIGHTS_ALL & ~(R.FD_SEEK | R.FD_FILESTAT_SET_SIZE | R.FD_WRITE | R.FD_READ | R.FD_READDIR),
      dir_seek: E.BADF,
      rw_base: RIGHTS_ALL,
      ro_base: RIGHTS_ALL & ~R.FD_WRITE, ro_write: E.BADF,
      wo_base: RIGHTS_ALL & ~(R.FD_READ | R.FD_READDIR), wo_read: E.BADF,
      none_base: RIGHTS_ALL & ~(R.FD_READ | R.FD_READDIR | R.FD_WRITE), none_read: E.BADF,
      // suite fd_fdstat_set_rights: dropped READ/WRITE are gone from fdstat, SEEK stays, reads
      // and writes fail (EBADF or ENOTCAPABLE), and raising them again is ENOTCAPABLE.
      write: E.SUCCESS, drop_rw: E.SUCCESS, dropped_rw_has_read_write: 0, dropped_rw_has_seek: 1,
      dropped_read: E.BADF, dropped_pread: E.BADF, dropped_write: E.BADF, raise: E.NOTCAPABLE,
      seek_kept: E.SUCCESS, drop_seek: E.SUCCESS, dropped_seek: E.NOTCAPABLE, tell_kept: E.SUCCESS,
      drop_filestat_get: E.SUCCESS, dropped_filestat_get: E.NOTCAPABLE,
      // p1 fd_fdstat_set_rights: get_fd, which is EBADF for stdio and unknown fds; a rights value
      // with bits preview1 lacks fails wiggle's flags check (InvalidFlagValue -> EINVAL).
      set_rights_stdout: E.BADF, set_rights_badfd: E.BADF, set_rights_undefined_bit: E.INVAL,
      // p2 read_directory checks the directory's permissions, not its open mode.
      readdir_unreported: E.SUCCESS, open_dir_read: E.SUCCESS,
      dir_read_base: RIGHTS_ALL & ~(R.FD_SEEK | R.FD_FILESTAT_SET_SIZE | R.FD_WRITE),
      // suite path_open_read_without_rights: a right dropped from a directory's inheriting rights
      // is not given to a file opened from it, and reading that file is EBADF.
      drop_inherit_read: E.SUCCESS, dir_inheriting_has_read: 0, open_after_inherit_drop: E.SUCCESS,
      opened_has_read: 0, opened_read: E.BADF,
      // suite truncation_rights: O_TRUNC without FD_WRITE truncates; without
      // PATH_FILESTAT_SET_SIZE it is EPERM or ENOTCAPABLE.
      trunc_open: E.SUCCESS, drop_set_size: E.SUCCESS, trunc_dropped: E.NOTCAPABLE,
      drop_unlink: E.SUCCESS, unlink_dropped: E.NOTCAPABLE, drop_readdir: E.SUCCESS, readdir_dropped: E.NOTCAPABLE,
      raise_dir: E.NOTCAPABLE,
      // Rights are per fd: the preopen never dropped PATH_UNLINK_FILE.
      unlink_from_preopen: E.SUCCESS,
    });
    assert.equal(existsSync(join(dir, 'sub', 'f')), false);
  });

  it('rights: what was dropped stays dropped in an exported and restored WASI state', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'f'), 'x');
    const mounts = new MountTableBuilder().mount('/data', dir, 'rw').build();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const bytes = new Uint8Array(memory.buffer);
    const view = new DataView(memory.buffer);
    type Call = (...args: (number | bigint)[]) => number;
    const calls = (h: WasiHost) => h.imports.wasi_snapshot_preview1 as Record<string, Call>;
    const host = new WasiHost({ args: [], env: {}, mounts });
    let restored: WasiHost | null = null;
    try {
      host.bind(memory);
      bytes.set(Buffer.from('f'), 100);
      const rw = BigInt(R.FD_READ | R.FD_WRITE | R.FD_SEEK);
      assert.equal(calls(host).path_open!(3, 0, 100, 1, 0, rw, rw, 0, 0), E.SUCCESS);
      const fd = view.getUint32(0, true);
      assert.equal(calls(host).fd_fdstat_set_rights!(fd, BigInt(RIGHTS_ALL & ~R.FD_READ & ~R.FD_SEEK), BigInt(RIGHTS_ALL & ~R.FD_READ)), E.SUCCESS);
      restored = WasiHost.restore(JSON.parse(JSON.stringify(host.exportState())));
      restored.bind(memory);
      assert.equal(calls(restored).fd_fdstat_get!(fd, 200), E.SUCCESS);
      assert.equal(Number(view.getBigUint64(208, true)), RIGHTS_ALL & ~R.FD_READ & ~R.FD_SEEK);
      assert.equal(Number(view.getBigUint64(216, true)), RIGHTS_ALL & ~R.FD_READ);
      assert.equal(calls(restored).fd_seek!(fd, 0n, 0, 300), E.NOTCAPABLE);
      assert.equal(calls(restored).fd_fdstat_set_rights!(fd, BigInt(RIGHTS_ALL), 0n), E.NOTCAPABLE);
    } finally {
      host.close();
      restored?.close();
    }
  });

  it('timestamps: set to the nanosecond (microsecond without the addon), a symlink\'s own without SYMLINK_FOLLOW', () => {
    const dir = fresh();
    writeFileSync(join(dir, 't'), 'x');
    symlinkSync('t', join(dir, 'l'));
    const got = runGuest('wasi_times', dir);
    // p1 systimespec: seconds = ts / 1e9, nanoseconds = ts % 1e9, to futimens/utimensat. Without
    // the addon fs.utimes takes a double: truncated to the microsecond, as fs-set-times does
    // where only utimes(2) exists.
    const t = (ns: bigint): bigint => (nativeFsStatus.loaded ? ns : (ns / 1000n) * 1000n);
    const A1 = 1600000000123456789n;
    const M1 = 1700000000858742172n;
    const M2 = 1500000000000000999n;
    const L1 = 1400000000987654321n;
    expectAll(got, {
      open: E.SUCCESS, fd_set_both: E.SUCCESS, fd_atim: t(A1), fd_mtim: t(M1),
      // suite fd_filestat_set: mtim 100 ns earlier reads back as set, atim unchanged.
      fd_set_mtim: E.SUCCESS, fd2_atim: t(A1), fd2_mtim: t(M1 - 100n),
      // p1 systimespec: a time both set and set to now is EINVAL, checked before the fd
      // (wiggle decodes fstflags first: undefined bits are EINVAL even with a bad fd).
      fd_mtim_and_now: E.INVAL, fd_atim_and_now: E.INVAL, fd_undefined_flag: E.INVAL, fd_badfd_bad_flags: E.INVAL,
      // p1 fd_filestat_set_times: get_fd, EBADF for stdio.
      fd_stdout: E.BADF,
      path_set: E.SUCCESS, path_atim: t(A1), path_mtim: t(M2),
      // p2 set_times_at without SYMLINK_FOLLOW: set_symlink_times, the link's own times.
      link_set: E.SUCCESS, link_atim: t(L1), link_mtim: t(L1), target_atim: t(A1), target_mtim: t(M2),
      follow_set: E.SUCCESS, followed_atim: t(A1), followed_mtim: t(M1), link2_mtim: t(L1),
      path_both_and_now: E.INVAL, path_missing: E.NOENT, path_undefined_lookup: E.INVAL,
      mkdir: E.SUCCESS, open_dir: E.SUCCESS, dir_set: E.SUCCESS, dir_atim: t(A1), dir_mtim: t(M1),
      now_set: E.SUCCESS, now_after_m1: 1,
    });
    assert.equal(lstatSync(join(dir, 'l'), { bigint: true }).mtimeNs, t(L1));
  });

  it('trailing slashes: a new name ending in / names a directory that must exist, as cap-std\'s open_parent has it', () => {
    const dir = fresh();
    const got = runGuest('wasi_slashes', dir);
    expectAll(got, {
      // suite path_symlink_trailing_slashes (unix): missing -> ENOENT, a directory -> EEXIST,
      // a file -> ENOTDIR; without the slash an existing name is EEXIST.
      symlink_missing_slash: E.NOENT, symlink_missing_slashdot: E.NOENT, mkdir: E.SUCCESS,
      symlink_dir_slash: E.EXIST, symlink_dir: E.EXIST, rmdir: E.SUCCESS,
      symlink_file_slash: E.NOTDIR, symlink_file: E.EXIST, symlink_in_missing_dir: E.NOENT,
      // suite path_link: "link/" -> ENOENT; linking onto itself or a directory -> EEXIST;
      // a directory as the source -> EPERM; p2 link_at with SYMLINK_FOLLOW -> EINVAL.
      link_missing_slash: E.NOENT, mkdir2: E.SUCCESS, link_dir_slash: E.EXIST, link_file_slash: E.NOTDIR,
      link_old_slash: E.NOTDIR, link_itself: E.EXIST, link_onto_dir: E.EXIST, link_a_dir: E.PERM,
      link_follow: E.INVAL, link_ok: E.SUCCESS,
      // suite unlink_file_trailing_slashes and remove_directory_trailing_slashes (unix).
      unlink_dir: E.ISDIR, unlink_dir_slash: E.ISDIR, unlink_file_slash: E.NOTDIR,
      rmdir_file: E.NOTDIR, rmdir_file_slash: E.NOTDIR,
      // cap-std rename keeps a source's trailing slash: renameat("file/") is ENOTDIR.
      rename_file_slash: E.NOTDIR,
      // cap-std create_dir strips a trailing slash.
      mkdir_slash: E.SUCCESS, mkdir_exists_slash: E.EXIST, unlink_file: E.SUCCESS,
    });
    assert.equal(lstatSync(join(dir, 'link')).nlink, 1, 'only the link made without a slash exists');
    assert.equal(existsSync(join(dir, 'source')), false);
  });

  it('fd_renumber, sockets, poll_oneoff and argument checks', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'data'), 'abcd');
    writeFileSync(join(dir, 'empty'), '');
    const got = runGuest('wasi_fdops', dir);
    const ev = (ud: number, type: number, nbytes: number, flags: number) => `[ud=${ud} type=${type} error=0 nbytes=${nbytes} flags=${flags}]`;
    expectAll(got, {
      // suite renumber: the source is closed after, the target holds it; renumbering onto an fd
      // that is not open is EBADF.
      open_a: E.SUCCESS, open_b: E.SUCCESS, renumber: E.SUCCESS, close_from: E.BADF, read_to: E.SUCCESS, read_to_bytes: 4,
      renumber_to_closed: E.BADF, renumber_to_unused: E.BADF, renumber_from_unused: E.BADF,
      renumber_self: E.SUCCESS, renumber_self_unused: E.BADF, close_to: E.SUCCESS,
      // p1 sock_*: get_descriptor (EBADF) then ENOTSOCK; wiggle rejects undefined flag bits first.
      accept: E.NOTSOCK, accept_badfd: E.BADF, accept_undefined_flag: E.INVAL,
      recv: E.NOTSOCK, recv_badfd: E.BADF, recv_undefined_flag: E.INVAL,
      send: E.NOTSOCK, send_badfd: E.BADF,
      shutdown: E.NOTSOCK, shutdown_badfd: E.BADF, shutdown_undefined_flag: E.INVAL,
      open_empty: E.SUCCESS, open_data: E.SUCCESS,
      // p1 poll_oneoff: no subscriptions is EINVAL; a lone relative clock is a sleep whose event
      // has nbytes 1 (any valid clock id); fd events are ready at once with nbytes 1, a read at
      // the end of a file says HANGUP; clock events have nbytes 0 otherwise; fds other than
      // stdin/files for reading and stdout/stderr/files for writing are EBADF; other clocks than
      // realtime and monotonic, unknown clock flags or event types are EINVAL.
      poll_none: `${E.INVAL} events=0`,
      poll_sleep: `0 events=1 ${ev(7, 0, 1, 0)}`,
      poll_sleep_cputime: `0 events=1 ${ev(7, 0, 1, 0)}`,
      poll_fds: `0 events=3 ${ev(1, 1, 1, 1)} ${ev(2, 1, 1, 0)} ${ev(3, 2, 1, 0)}`,
      poll_stdin: `0 events=1 ${ev(1, 1, 1, 0)}`,
      poll_past_deadline: `0 events=1 ${ev(1, 0, 0, 0)}`,
      poll_read_stdout: `${E.BADF} events=0`, poll_write_stdin: `${E.BADF} events=0`,
      poll_read_dir: `${E.BADF} events=0`, poll_badfd: `${E.BADF} events=0`,
      poll_cputime_of_two: `${E.INVAL} events=0`, poll_unknown_clock: `${E.INVAL} events=0`,
      poll_undefined_clock_flag: `${E.INVAL} events=0`, poll_unknown_type: `${E.INVAL} events=0`,
      // p1 fd_write_impl: in append mode the write is an append whatever fd_pwrite's offset.
      open_append: E.SUCCESS, pwrite_append_1: E.SUCCESS, pwrite_append_2: E.SUCCESS,
      // p1: fd_readdir uses get_dir_fd, fd_sync/fd_datasync/fd_advise/fd_allocate get_file_fd,
      // fd_fdstat_set_flags get_file_mut (EBADF for anything else); fd_seek/fd_tell
      // get_seekable (ESPIPE for stdio, EBADF for directories); fd_pwrite on stdout and
      // fd_pread on stdin are ESPIPE.
      readdir_file: E.BADF, sync_dir: E.BADF, datasync_dir: E.BADF, seek_dir: E.BADF, tell_stdout: E.SPIPE,
      pwrite_stdout: E.SPIPE, pread_stdin: E.SPIPE, advise_undefined: E.INVAL, advise_dir: E.BADF, allocate_dir: E.BADF,
      set_flags_undefined: E.INVAL, set_flags_sync: E.INVAL, set_flags_dir: E.BADF,
      open_undefined_oflag: E.INVAL, open_undefined_lookup: E.INVAL, open_undefined_fdflag: E.INVAL,
      // p1 path_open: a file as the directory is ENOTDIR.
      open_from_file: E.NOTDIR, stat_undefined_lookup: E.INVAL,
      // p1 fd_prestat_get EBADF, fd_prestat_dir_name ENOTDIR for a non-preopen; too short a buffer ENAMETOOLONG.
      prestat_file: E.BADF, prestat_dir_name_file: E.NOTDIR, prestat_dir_name_short: E.NAMETOOLONG,
    });
    assert.equal(readFileSync(join(dir, 'data'), 'utf8'), 'abcd');
    assert.equal(readFileSync(join(dir, 'appended'), 'utf8'), 'xyxy');
  });
});
