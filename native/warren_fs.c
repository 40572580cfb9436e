/*
 * warren_fs: the few *at syscalls Node's fs lacks (nodejs/node#31110), and utimensat/futimens to
 * the nanosecond (fs.utimes takes seconds as a double), as a raw Node-API addon.
 *
 * Why it exists: the WASI host resolves guest paths relative to directory fds it holds open;
 * without openat it has to go through /proc/self/fd/N/name strings, which cost more per open
 * than openat (docs/decisions.md). Placement hardlinks thousands of store blobs; one batch on two threads
 * (with the directories it needs) costs about half of one linkSync per file. No maintained npm package offers these calls.
 *
 * Contract shared with src/native/native-fs.ts:
 * - errors are thrown as Node's fs errors are: an Error with .code ('ENOENT', ...), .errno
 *   (negative), .syscall and .path, because callers switch on .code;
 * - stat results go into a caller-owned Float64Array (no Stats object per call):
 *   [0] mode, [1] dev, [2] ino, [3] size, [4] nlink. dev and ino are converted to double
 *   exactly as Node's fs.Stats does, so identities keyed on them match keys made from Stats;
 * - fileBatch reports one errno per directory and per file (0 = done) instead of throwing.
 * The module keeps no global state, so worker threads may load it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include <node_api.h>

#define STAT_SLOTS 5

static const char *errno_name(int err) {
  switch (err) {
#define N(e) case e: return #e;
    N(EPERM) N(ENOENT) N(ESRCH) N(EINTR) N(EIO) N(ENXIO) N(E2BIG) N(ENOEXEC) N(EBADF) N(ECHILD)
    N(EAGAIN) N(ENOMEM) N(EACCES) N(EFAULT) N(EBUSY) N(EEXIST) N(EXDEV) N(ENODEV) N(ENOTDIR)
    N(EISDIR) N(EINVAL) N(ENFILE) N(EMFILE) N(ENOTTY) N(ETXTBSY) N(EFBIG) N(ENOSPC) N(ESPIPE)
    N(EROFS) N(EMLINK) N(EPIPE) N(ERANGE) N(ENAMETOOLONG) N(ENOSYS) N(ENOTEMPTY) N(ELOOP)
    N(EOVERFLOW) N(EILSEQ) N(ENOTSOCK) N(EDQUOT) N(ESTALE) N(ECANCELED) N(ENOTSUP)
#undef N
    default: return "UNKNOWN";
  }
}

/* Throws an fs-style error; returns NULL so callers can `return throw_errno(...)`. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = errno_name(err);
  char msg[PATH_MAX + 128];
  int at = snprintf(msg, sizeof msg, "%s: ", name);
  snprintf(msg + at, sizeof msg - at, "%s, %s '%s'", strerror(err), syscall, path ? path : "");
  if (msg[at] >= 'A' && msg[at] <= 'Z') msg[at] += 'a' - 'A'; /* as libuv words it: "no such file..." */
  napi_value code, message, error, v;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, error, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, error, "syscall", v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, error, "path", v);
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
  return NULL;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

/* A path argument into `buf`; refuses non-strings, overlong paths and embedded NULs (which the
 * kernel would silently cut at, as Node refuses them). */
static int arg_path(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return 0;
  if (len + 4 >= cap) { /* UTF-8 truncation may stop up to 3 bytes short of the end */
    size_t full;
    napi_get_value_string_utf8(env, v, NULL, 0, &full);
    if (full >= cap - 1) return -1;
  }
  return strlen(buf) == len ? 1 : 0;
}

static double *arg_stat_buf(napi_env env, napi_value v) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok) return NULL;
  if (type != napi_float64_array || length < STAT_SLOTS) return NULL;
  return (double *)data;
}

static void fill_stat(double *out, const struct stat *st) {
  out[0] = (double)st->st_mode;
  out[1] = (double)st->st_dev;
  out[2] = (double)st->st_ino;
  out[3] = (double)st->st_size;
  out[4] = (double)st->st_nlink;
}

/*
 * Fds this addon opened, per Node environment (main thread or worker). Node tracks the fds that
 * fs.open makes in a worker and closes them when the worker ends; it must not see ours (it would
 * warn on closing them, and close a reused number at exit), yet ours must not outlive a worker
 * that is terminated (a job timeout) either. So each environment keeps its own set, close()
 * closes only fds in it (the caller closes the others with fs.closeSync), and the environment's
 * teardown closes whatever is left.
 */
typedef struct {
  uint8_t *owned;
  size_t cap;
} fd_set_t;

static fd_set_t *fds_of(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static int fds_add(fd_set_t *set, int fd) {
  if ((size_t)fd >= set->cap) {
    size_t cap = set->cap ? set->cap : 1024;
    while (cap <= (size_t)fd) cap *= 2;
    uint8_t *owned = realloc(set->owned, cap);
    if (!owned) return 0;
    memset(owned + set->cap, 0, cap - set->cap);
    set->owned = owned;
    set->cap = cap;
  }
  set->owned[fd] = 1;
  return 1;
}

static void fds_teardown(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fd_set_t *set = data;
  for (size_t fd = 0; fd < set->cap; fd++)
    if (set->owned[fd]) close((int)fd);
  free(set->owned);
  free(set);
}

/* Records a new fd as ours; on failure (out of memory) closes it and throws. */
static int own_fd(napi_env env, int fd, const char *path) {
  fd_set_t *set = fds_of(env);
  if (set && fds_add(set, fd)) return 1;
  close(fd);
  throw_errno(env, ENOMEM, "openat", path);
  return 0;
}

#define GET_ARGS(n)                                                          \
  size_t argc = n;                                                           \
  napi_value argv[n];                                                        \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) \
    return throw_type(env, "missing arguments");

#define GET_PATH(i, buf)                                                     \
  do {                                                                       \
    int ok_ = arg_path(env, argv[i], buf, sizeof buf);                       \
    if (ok_ < 0) return throw_errno(env, ENAMETOOLONG, syscall, NULL);       \
    if (!ok_) return throw_type(env, "path must be a string without null bytes"); \
  } while (0)

/* openat(dirfd, path, flags, mode) -> fd */
static napi_value js_openat(napi_env env, napi_callback_info info) {
  static const char *syscall = "openat";
  GET_ARGS(4);
  int32_t dirfd, flags, mode;
  char path[PATH_MAX];
  if (!arg_int(env, argv[0], &dirfd) || !arg_int(env, argv[2], &flags) || !arg_int(env, argv[3], &mode))
    return throw_type(env, "dirfd, flags and mode must be numbers");
  GET_PATH(1, path);
  int fd = openat(dirfd, path, flags | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) return throw_errno(env, errno, syscall, path);
  if (!own_fd(env, fd, path)) return NULL;
  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

/* openatStat(dirfd, path, flags, mode, out) -> fd, with the fstat of the new fd in `out`. */
static napi_value js_openat_stat(napi_env env, napi_callback_info info) {
  static const char *syscall = "openat";
  GET_ARGS(5);
  int32_t dirfd, flags, mode;
  char path[PATH_MAX];
  if (!arg_int(env, argv[0], &dirfd) || !arg_int(env, argv[2], &flags) || !arg_int(env, argv[3], &mode))
    return throw_type(env, "dirfd, flags and mode must be numbers");
  GET_PATH(1, path);
  double *out = arg_stat_buf(env, argv[4]);
  if (!out) return throw_type(env, "out must be a Float64Array of 5 or more");
  int fd = openat(dirfd, path, flags | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) return throw_errno(env, errno, syscall, path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "fstat", path);
  }
  if (!own_fd(env, fd, path)) return NULL;
  fill_stat(out, &st);
  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

/* fstatat(dirfd, path, flags, out) -> true, or false when the name does not exist (ENOENT). */
static napi_value js_fstatat(napi_env env, napi_callback_info info) {
  static const char *syscall = "fstatat";
  GET_ARGS(4);
  int32_t dirfd, flags;
  char path[PATH_MAX];
  if (!arg_int(env, argv[0], &dirfd) || !arg_int(env, argv[2], &flags))
    return throw_type(env, "dirfd and flags must be numbers");
  GET_PATH(1, path);
  double *out = arg_stat_buf(env, argv[3]);
  if (!out) return throw_type(env, "out must be a Float64Array of 5 or more");
  struct stat st;
  napi_value r;
  if (fstatat(dirfd, path, &st, flags) != 0) {
    if (errno != ENOENT) return throw_errno(env, errno, syscall, path);
    napi_get_boolean(env, false, &r);
    return r;
  }
  fill_stat(out, &st);
  napi_get_boolean(env, true, &r);
  return r;
}

/* readlinkat(dirfd, path) -> target string */
static napi_value js_readlinkat(napi_env env, napi_callback_info info) {
  static const char *syscall = "readlinkat";
  GET_ARGS(2);
  int32_t dirfd;
  char path[PATH_MAX], target[PATH_MAX];
  if (!arg_int(env, argv[0], &dirfd)) return throw_type(env, "dirfd must be a number");
  GET_PATH(1, path);
  ssize_t n = readlinkat(dirfd, path, target, sizeof target);
  if (n < 0) return throw_errno(env, errno, syscall, path);
  if ((size_t)n >= sizeof target) return throw_errno(env, ENAMETOOLONG, syscall, path);
  napi_value r;
  napi_create_string_utf8(env, target, (size_t)n, &r);
  return r;
}

/*
 * A timespec from (seconds, nanoseconds) as JS numbers: nanoseconds -1 is UTIME_NOW, -2 is
 * UTIME_OMIT (leave that time alone), as utimensat(2) takes them. Seconds are whole numbers
 * below 2^53, so a double carries them exactly; fs.utimes takes seconds as one double, which
 * cannot carry nanoseconds (WASI sets times to the nanosecond, as wasmtime does here).
 */
static int arg_timespec(napi_env env, napi_value sec, napi_value nsec, struct timespec *ts) {
  double s, n;
  if (napi_get_value_double(env, sec, &s) != napi_ok || napi_get_value_double(env, nsec, &n) != napi_ok) return 0;
  if (n == -1) { ts->tv_sec = 0; ts->tv_nsec = UTIME_NOW; return 1; }
  if (n == -2) { ts->tv_sec = 0; ts->tv_nsec = UTIME_OMIT; return 1; }
  if (!(s >= 0 && s < 9007199254740992.0) || !(n >= 0 && n < 1e9) || s != (double)(int64_t)s || n != (double)(int64_t)n) return 0;
  ts->tv_sec = (time_t)s;
  ts->tv_nsec = (long)n;
  return 1;
}

/* utimensat(dirfd, path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, flags) */
static napi_value js_utimensat(napi_env env, napi_callback_info info) {
  static const char *syscall = "utimensat";
  GET_ARGS(7);
  int32_t dirfd, flags;
  char path[PATH_MAX];
  struct timespec ts[2];
  if (!arg_int(env, argv[0], &dirfd) || !arg_int(env, argv[6], &flags)) return throw_type(env, "dirfd and flags must be numbers");
  GET_PATH(1, path);
  if (!arg_timespec(env, argv[2], argv[3], &ts[0]) || !arg_timespec(env, argv[4], argv[5], &ts[1]))
    return throw_type(env, "times must be whole seconds and nanoseconds (0..1e9, -1 now, -2 unchanged)");
  if (utimensat(dirfd, path, ts, flags) != 0) return throw_errno(env, errno, syscall, path);
  return NULL;
}

/* futimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec) */
static napi_value js_futimens(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  int32_t fd;
  struct timespec ts[2];
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be a number");
  if (!arg_timespec(env, argv[1], argv[2], &ts[0]) || !arg_timespec(env, argv[3], argv[4], &ts[1]))
    return throw_type(env, "times must be whole seconds and nanoseconds (0..1e9, -1 now, -2 unchanged)");
  if (futimens(fd, ts) != 0) return throw_errno(env, errno, "futimens", NULL);
  return NULL;
}

/* close(fd) -> true if the fd was opened here (and is now closed), false if not ours (the caller
 * closes it with fs.closeSync, which keeps Node's own bookkeeping right). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be a number");
  fd_set_t *set = fds_of(env);
  napi_value r;
  if (!set || fd < 0 || (size_t)fd >= set->cap || !set->owned[fd]) {
    napi_get_boolean(env, false, &r);
    return r;
  }
  set->owned[fd] = 0;
  /* Linux frees the fd even when close fails (EINTR, EIO): it is not ours any more either way. */
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  napi_get_boolean(env, true, &r);
  return r;
}

/* ---- fileBatch --------------------------------------------------------------------------- */

/*
 * One batch for placing a file tree: `ndirs` directories to make and `nops` links or copies,
 * on up to `threads` lanes. Directory j waits for its parent (parents[j], 1-based into the list;
 * 0: the parent is not in the list; -1: directory j exists already and is only opened; -2: it is
 * made, or may exist already; no list: each directory waits for the one before it), file i for
 * directory needs[i]-1 (no list: for every directory). Lanes make directories as their files need them (take_dirs). Strings arrive
 * as one NUL-joined string per list: one copy out of JS instead of thousands.
 *
 * Directories the batch made are held open (O_PATH, up to MAX_DIR_FDS), and what goes directly
 * into one is named relative to it (mkdirat, linkat, openat); sources are named relative to their
 * longest common directory, opened once. On ext4 that is ~0.7 us of a ~9 us link spared from
 * path walks. The result is the one full paths give; a name that is not simply
 * "<held dir>/<name>" keeps its full path.
 */
enum { OP_LINK = 0, OP_COPY = 1 };
enum { DIR_PENDING = 0, DIR_MADE = 1, DIR_FAILED = 2 };
/* parents[j] values below 0: what to do about a directory not in the list as a parent */
enum { DIR_EXISTS = -1, DIR_ENSURE = -2 };
#define MAX_LANES 16
/* Fds a batch may hold at once: several batches can run together, and an fd they take is one
 * the rest of the process cannot have (EMFILE). Deeper trees fall back to full paths. */
#define MAX_DIR_FDS 64

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *strings;
  char **dirs;
  char **srcs;
  char **dsts;
  uint8_t *kinds;   /* NULL: all links */
  int32_t *needs;   /* NULL: every op needs every directory */
  int32_t *parents; /* NULL: each directory needs the one before it */
  size_t ndirs, nops;
  mode_t dir_mode, copy_mode;
  int threads;
  /* Lane k starts on files [k*nops/lanes, (k+1)*nops/lanes) and then helps the others: two
   * threads linking into one directory mostly wait for each other on its lock, so each lane
   * keeps to its own stretch of the (path-sorted) list. */
  int lanes;
  atomic_size_t next_dir;
  atomic_size_t next[MAX_LANES];
  size_t end[MAX_LANES];
  atomic_int lane_ids;
  pthread_t tids[MAX_LANES];
  int started, joined; /* lanes started as pthreads, and joined */
  int src_opened;         /* guarded by lock */
  _Atomic int *dir_state; /* DIR_*, set under lock */
  int *dir_fd;            /* -1: not held */
  size_t *dir_len;
  atomic_int fds_held;
  size_t dirs_settled;    /* guarded by lock */
  int any_dir_failed;     /* guarded by lock */
  int src_fd;             /* -1: sources by full path */
  size_t src_skip;        /* bytes of each source path before its name relative to src_fd */
  pthread_mutex_t lock;
  pthread_cond_t dir_settled;
  int32_t *results; /* ndirs + nops errnos */
} batch_t;

static void batch_free(batch_t *b) {
  if (!b) return;
  pthread_mutex_destroy(&b->lock);
  pthread_cond_destroy(&b->dir_settled);
  free(b->strings);
  free(b->dirs);
  free(b->kinds);
  free(b->needs);
  free(b->parents);
  free((void *)b->dir_state);
  free(b->dir_fd);
  free(b->dir_len);
  free(b->results);
  free(b);
}

/* `path` relative to held directory d when it is "<dirs[d]>/<name>", else NULL. */
static const char *name_in(const batch_t *b, long d, const char *path) {
  if (d < 0 || b->dir_fd[d] < 0) return NULL;
  size_t n = b->dir_len[d];
  if (strncmp(path, b->dirs[d], n) != 0 || path[n] != '/') return NULL;
  const char *name = path + n + 1;
  return *name == '\0' || strchr(name, '/') ? NULL : name;
}

/* Copies src to a new file dst (O_EXCL) with mode copy_mode: a reflink where the filesystem can,
 * else copy_file_range, else read/write. A dst this call created is removed again on failure.
 * (src_dir, src) and (dst_dir, dst) are as for openat. */
static int copy_file(int src_dir, const char *src, int dst_dir, const char *dst, mode_t mode) {
  int in = openat(src_dir, src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  int out = openat(dst_dir, dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (out < 0) {
    int err = errno;
    close(in);
    return err;
  }
  int err = 0;
  if (ioctl(out, FICLONE, in) != 0) {
    int plain = 0;
    for (;;) {
      ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
      if (n > 0) continue;
      if (n == 0) break;
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) plain = 1;
      else err = errno;
      break;
    }
    if (plain) {
      char buf[65536];
      off_t at = lseek(out, 0, SEEK_CUR);
      if (at < 0 || lseek(in, at, SEEK_SET) < 0) err = errno;
      while (!err) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
          if (errno == EINTR) continue;
          err = errno;
          break;
        }
        for (ssize_t w = 0; w < n && !err;) {
          ssize_t k = write(out, buf + w, (size_t)(n - w));
          if (k < 0 && errno != EINTR) err = errno;
          else if (k > 0) w += k;
        }
      }
    }
  }
  if (!err && fchmod(out, mode) != 0) err = errno; /* exact mode whatever the umask */
  close(in);
  if (close(out) != 0 && !err) err = errno;
  if (err) unlinkat(dst_dir, dst, 0);
  return err;
}

/* Waits until directory d is made (true) or failed (false). */
static int dir_ready(batch_t *b, size_t d) {
  int s = atomic_load_explicit(&b->dir_state[d], memory_order_acquire);
  if (s != DIR_PENDING) return s == DIR_MADE;
  pthread_mutex_lock(&b->lock);
  while ((s = atomic_load_explicit(&b->dir_state[d], memory_order_relaxed)) == DIR_PENDING)
    pthread_cond_wait(&b->dir_settled, &b->lock);
  pthread_mutex_unlock(&b->lock);
  return s == DIR_MADE;
}

/* Waits until every directory is settled; false if one failed. */
static int all_dirs_ready(batch_t *b) {
  pthread_mutex_lock(&b->lock);
  while (b->dirs_settled < b->ndirs) pthread_cond_wait(&b->dir_settled, &b->lock);
  int ok = !b->any_dir_failed;
  pthread_mutex_unlock(&b->lock);
  return ok;
}

static void make_dir(batch_t *b, size_t j) {
  int32_t given = b->parents ? b->parents[j] : (int32_t)j;
  long p = given - 1; /* < 0: nothing to wait for */
  int err = 0;
  if (p >= 0 && !dir_ready(b, (size_t)p)) {
    err = ECANCELED;
  } else {
    const char *name = name_in(b, p, b->dirs[j]);
    int at = name ? b->dir_fd[p] : AT_FDCWD;
    const char *path = name ? name : b->dirs[j];
    int made = given == DIR_EXISTS ? 0 : mkdirat(at, path, b->dir_mode) == 0;
    if (!made && given != DIR_EXISTS && !(given == DIR_ENSURE && errno == EEXIST)) err = errno;
    if (!err) {
      /* An ensured directory that was there already is checked to be one, as mkdir -p does. */
      int flags = O_PATH | O_DIRECTORY | O_CLOEXEC | (given == DIR_ENSURE ? 0 : O_NOFOLLOW);
      int checked = !made && given == DIR_ENSURE;
      if (atomic_fetch_add(&b->fds_held, 1) < MAX_DIR_FDS) {
        b->dir_fd[j] = openat(at, path, flags); /* -1: full paths then */
        if (b->dir_fd[j] < 0 && checked) err = errno;
      } else if (checked) {
        struct stat st;
        if (fstatat(at, path, &st, 0) != 0) err = errno;
        else if (!S_ISDIR(st.st_mode)) err = ENOTDIR;
      }
    }
  }
  b->results[j] = err;
  pthread_mutex_lock(&b->lock);
  atomic_store_explicit(&b->dir_state[j], err ? DIR_FAILED : DIR_MADE, memory_order_release);
  b->dirs_settled++;
  if (err) b->any_dir_failed = 1;
  pthread_cond_broadcast(&b->dir_settled);
  pthread_mutex_unlock(&b->lock);
}

/* Makes directories, in list order, until directory d has been taken (by this lane or another):
 * a lane makes a directory when a file it is about to place needs one not made yet, so files go
 * into the first directories while later ones are still being made (siblings' mkdirs queue on
 * their parent's lock anyway). A taken directory is always being made: its maker waits only for
 * a parent, which comes earlier in the list, so no lane waits in a cycle. */
static void take_dirs(batch_t *b, size_t d) {
  while (atomic_load_explicit(&b->next_dir, memory_order_relaxed) <= d) {
    size_t j = atomic_fetch_add_explicit(&b->next_dir, 1, memory_order_relaxed);
    if (j >= b->ndirs) break;
    make_dir(b, j);
  }
}

static void place_one(batch_t *b, size_t i) {
  int32_t *r = &b->results[b->ndirs + i];
  long d = -1;
  if (b->needs) {
    d = (long)b->needs[i] - 1;
    if (d >= 0) take_dirs(b, (size_t)d);
    if (d >= 0 && !dir_ready(b, (size_t)d)) {
      *r = ECANCELED;
      return;
    }
  } else if (b->ndirs > 0) {
    take_dirs(b, b->ndirs - 1);
    if (!all_dirs_ready(b)) {
      *r = ECANCELED;
      return;
    }
  }
  const char *src = b->srcs[i];
  int src_at = AT_FDCWD;
  if (b->src_fd >= 0 && src[b->src_skip] != '\0') {
    src += b->src_skip;
    src_at = b->src_fd;
  }
  const char *name = name_in(b, d, b->dsts[i]);
  int dst_at = name ? b->dir_fd[d] : AT_FDCWD;
  const char *dst = name ? name : b->dsts[i];
  if (b->kinds && b->kinds[i] == OP_COPY) *r = copy_file(src_at, src, dst_at, dst, b->copy_mode);
  else *r = linkat(src_at, src, dst_at, dst, 0) == 0 ? 0 : errno;
}

/* Opens the longest directory every source is below, so that sources can be named from it. */
static void open_source_dir(batch_t *b) {
  b->src_fd = -1;
  if (b->nops == 0) return;
  const char *first = b->srcs[0];
  const char *slash = strrchr(first, '/');
  size_t k = slash ? (size_t)(slash - first) : 0;
  for (size_t i = 1; i < b->nops && k > 0; i++) {
    const char *s = b->srcs[i];
    while (k > 0 && (strncmp(s, first, k) != 0 || s[k] != '/')) {
      while (k > 0 && first[--k] != '/') {}
    }
  }
  if (k == 0 || k >= PATH_MAX) return; /* nothing shared but "/" (or relative names): full paths */
  char dir[PATH_MAX];
  memcpy(dir, first, k);
  dir[k] = '\0';
  b->src_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  b->src_skip = k + 1;
}

static void *op_lane(void *arg) {
  batch_t *b = arg;
  pthread_mutex_lock(&b->lock);
  if (!b->src_opened) open_source_dir(b); /* by the first lane, not by the thread starting them */
  b->src_opened = 1;
  pthread_mutex_unlock(&b->lock);
  int own = atomic_fetch_add(&b->lane_ids, 1);
  for (int k = 0; k < b->lanes; k++) {
    int lane = (own + k) % b->lanes;
    for (;;) {
      size_t i = atomic_fetch_add_explicit(&b->next[lane], 1, memory_order_relaxed);
      if (i >= b->end[lane]) break;
      place_one(b, i);
    }
  }
  if (b->ndirs > 0) take_dirs(b, b->ndirs - 1); /* directories no file needed */
  return NULL;
}

/* Splits the files into stretches, one per lane. A thread costs ~30 us, so small batches
 * stay on one. */
static void batch_plan(batch_t *b) {
  int lanes = b->threads;
  if ((size_t)lanes > b->nops / 64) lanes = (int)(b->nops / 64);
  if (lanes < 1) lanes = 1;
  b->lanes = lanes;
  for (int k = 0; k < lanes; k++) {
    atomic_init(&b->next[k], b->nops * (size_t)k / (size_t)lanes);
    b->end[k] = b->nops * (size_t)(k + 1) / (size_t)lanes;
  }
  atomic_init(&b->lane_ids, 0);
  atomic_init(&b->next_dir, 0);
  atomic_init(&b->fds_held, 0);
  for (size_t j = 0; j < b->ndirs; j++) b->dir_fd[j] = -1;
  b->src_fd = -1;
}

static void batch_close_fds(batch_t *b) {
  for (size_t j = 0; j < b->ndirs; j++)
    if (b->dir_fd[j] >= 0) close(b->dir_fd[j]);
  if (b->src_fd >= 0) close(b->src_fd);
}

/*
 * Lanes are kept on different CPUs for the batch. Unpinned, a new thread starts on its creator's
 * CPU and Linux moves it to an idle one only at its next balancing; and a lane woken by another
 * (a directory made, a directory lock let go) is woken onto the waker's CPU. Measured on a
 * 2-core VM: the second lane started 1-5 ms late, and lanes shared one CPU for whole batches
 * while the other idled. So one lane runs on the starting thread's CPU (`mine`) and the others
 * on the rest (`others`); a lane that cannot run leaves its files to the others. False when
 * there is no other CPU to use.
 */
static int split_cpus(cpu_set_t *allowed, cpu_set_t *mine, cpu_set_t *others) {
  int cpu = sched_getcpu();
  if (cpu < 0 || cpu >= CPU_SETSIZE || pthread_getaffinity_np(pthread_self(), sizeof *allowed, allowed) != 0 ||
      !CPU_ISSET(cpu, allowed))
    return 0;
  *others = *allowed;
  CPU_CLR(cpu, others);
  CPU_ZERO(mine);
  CPU_SET(cpu, mine);
  return CPU_COUNT(others) > 0;
}

/* Starts `count` lanes as pthreads on `cpus` (NULL: anywhere). */
static void start_lanes(batch_t *b, int count, const cpu_set_t *cpus) {
  pthread_attr_t attr;
  pthread_attr_t *attrp = NULL;
  if (cpus && pthread_attr_init(&attr) == 0) {
    attrp = &attr;
    if (pthread_attr_setaffinity_np(&attr, sizeof *cpus, cpus) != 0) {
      pthread_attr_destroy(&attr);
      attrp = NULL;
    }
  }
  for (int k = 0; k < count && b->started < MAX_LANES; k++) {
    if (pthread_create(&b->tids[b->started], attrp, op_lane, b) != 0) break;
    b->started++;
  }
  if (attrp) pthread_attr_destroy(attrp);
}

static void join_lanes(batch_t *b) {
  for (; b->joined < b->started; b->joined++) pthread_join(b->tids[b->joined], NULL);
}

/* fileBatchSync: the calling thread is a lane too, kept on its CPU meanwhile. */
static void batch_run(batch_t *b) {
  batch_plan(b);
  cpu_set_t allowed, mine, others;
  int pinned = b->lanes > 1 && split_cpus(&allowed, &mine, &others) &&
               pthread_setaffinity_np(pthread_self(), sizeof mine, &mine) == 0;
  start_lanes(b, b->lanes - 1, pinned ? &others : NULL);
  /* Lanes no pthread took are still covered: every lane helps every stretch before it stops. */
  op_lane(b);
  join_lanes(b);
  if (pinned) pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
  batch_close_fds(b);
}

/* fileBatch: every lane is a pthread, started from the JS thread at once (a libuv pool thread
 * took 0.3-1 ms to pick the work up); the pool thread only waits for them. The last lane runs
 * on the JS thread's CPU, from when that thread is idle again. */
static void batch_start(batch_t *b) {
  batch_plan(b);
  cpu_set_t allowed, mine, others;
  if (!split_cpus(&allowed, &mine, &others)) {
    start_lanes(b, b->lanes, NULL);
  } else if (b->lanes == 1) {
    start_lanes(b, 1, &others); /* the JS thread's CPU is busy until it awaits */
  } else {
    start_lanes(b, b->lanes - 1, &others);
    start_lanes(b, 1, &mine);
  }
}

/* Splits a NUL-joined list of `n` strings into `out`; false if the count does not match. */
static int split_list(char *s, size_t len, char **out, size_t n) {
  if (n == 0) return len == 0;
  size_t k = 0;
  out[k++] = s;
  for (size_t i = 0; i < len; i++) {
    if (s[i] != '\0') continue;
    if (k == n) return 0;
    out[k++] = s + i + 1;
  }
  return k == n;
}

/* Room for a string's UTF-8 (3 bytes per UTF-16 unit at most): its UTF-16 length costs nothing,
 * its UTF-8 length a pass over it. */
static size_t string_room(napi_env env, napi_value v, int *ok) {
  size_t units = 0;
  *ok = napi_get_value_string_utf16(env, v, NULL, 0, &units) == napi_ok;
  return 3 * units;
}

/* Copies an optional typed array of `n` elements of `type` (null/undefined: NULL). */
static int copy_typed(napi_env env, napi_value v, napi_typedarray_type want, size_t n, size_t elem, void **out) {
  napi_valuetype vt;
  *out = NULL;
  if (napi_typeof(env, v, &vt) != napi_ok) return 0;
  if (vt == napi_null || vt == napi_undefined) return 1;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != want || length != n) return 0;
  *out = malloc(n * elem + 1);
  if (!*out) return 0;
  if (n) memcpy(*out, data, n * elem);
  return 1;
}

#define BATCH_ARGS 11 /* the last, dirParents, may be left out */
#define BATCH_USAGE "fileBatch(dirs, dirCount, dirMode, srcs, dsts, count, kinds, needs, copyMode, threads[, dirParents])"

static batch_t *batch_parse(napi_env env, napi_callback_info info) {
  size_t argc = BATCH_ARGS;
  napi_value argv[BATCH_ARGS];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < BATCH_ARGS - 1) {
    throw_type(env, BATCH_USAGE);
    return NULL;
  }
  int32_t ndirs, dir_mode, nops, copy_mode, threads;
  if (!arg_int(env, argv[1], &ndirs) || !arg_int(env, argv[2], &dir_mode) || !arg_int(env, argv[5], &nops) ||
      !arg_int(env, argv[8], &copy_mode) || !arg_int(env, argv[9], &threads) || ndirs < 0 || nops < 0) {
    throw_type(env, BATCH_USAGE ": counts, modes and threads must be numbers");
    return NULL;
  }
  int ok1, ok2, ok3;
  size_t ld = string_room(env, argv[0], &ok1), ls = string_room(env, argv[3], &ok2), lt = string_room(env, argv[4], &ok3);
  if (!ok1 || !ok2 || !ok3) {
    throw_type(env, BATCH_USAGE ": dirs, srcs and dsts must be NUL-joined strings");
    return NULL;
  }
  batch_t *b = calloc(1, sizeof *b);
  if (!b) {
    throw_errno(env, ENOMEM, "fileBatch", NULL);
    return NULL;
  }
  pthread_mutex_init(&b->lock, NULL);
  pthread_cond_init(&b->dir_settled, NULL);
  b->ndirs = (size_t)ndirs;
  b->nops = (size_t)nops;
  void *kinds, *needs;
  if (!copy_typed(env, argv[6], napi_uint8_array, b->nops, 1, &kinds) || !copy_typed(env, argv[7], napi_int32_array, b->nops, 4, &needs)) {
    batch_free(b);
    throw_type(env, BATCH_USAGE ": kinds must be a Uint8Array and needs an Int32Array of `count`, or null");
    return NULL;
  }
  b->kinds = kinds;
  b->needs = needs;
  void *parents = NULL;
  if (argc >= BATCH_ARGS && !copy_typed(env, argv[10], napi_int32_array, b->ndirs, 4, &parents)) {
    batch_free(b);
    throw_type(env, BATCH_USAGE ": dirParents must be an Int32Array of `dirCount`, or null");
    return NULL;
  }
  b->parents = parents;
  b->strings = malloc(ld + 1 + ls + 1 + lt + 1);
  b->dirs = malloc(sizeof(char *) * (b->ndirs + 2 * b->nops + 1));
  b->results = calloc(b->ndirs + b->nops + 1, sizeof(int32_t));
  b->dir_state = calloc(b->ndirs + 1, sizeof *b->dir_state);
  b->dir_fd = malloc((b->ndirs + 1) * sizeof *b->dir_fd);
  b->dir_len = malloc((b->ndirs + 1) * sizeof *b->dir_len);
  if (!b->strings || !b->dirs || !b->results || !b->dir_state || !b->dir_fd || !b->dir_len) {
    batch_free(b);
    throw_errno(env, ENOMEM, "fileBatch", NULL);
    return NULL;
  }
  char *d = b->strings, *s = d + ld + 1, *t = s + ls + 1;
  napi_get_value_string_utf8(env, argv[0], d, ld + 1, &ld);
  napi_get_value_string_utf8(env, argv[3], s, ls + 1, &ls);
  napi_get_value_string_utf8(env, argv[4], t, lt + 1, &lt);
  b->srcs = b->dirs + b->ndirs;
  b->dsts = b->srcs + b->nops;
  const char *bad = NULL;
  if (!split_list(d, ld, b->dirs, b->ndirs) || !split_list(s, ls, b->srcs, b->nops) || !split_list(t, lt, b->dsts, b->nops))
    bad = "a list does not hold `count` paths (a path with a null byte?)";
  for (size_t i = 0; !bad && i < b->ndirs + 2 * b->nops; i++)
    if (b->dirs[i][0] == '\0') bad = "empty path";
  for (size_t i = 0; !bad && b->needs && i < b->nops; i++)
    if (b->needs[i] < 0 || (size_t)b->needs[i] > b->ndirs) bad = "needs[i] must be within 0..dirCount";
  for (size_t j = 0; !bad && b->parents && j < b->ndirs; j++)
    if (b->parents[j] < DIR_ENSURE || b->parents[j] > (int32_t)j) bad = "dirParents[j] must be within -2..j (parents come first)";
  for (size_t i = 0; !bad && b->kinds && i < b->nops; i++)
    if (b->kinds[i] > OP_COPY) bad = "kinds[i] must be 0 (link) or 1 (copy)";
  if (bad) {
    batch_free(b);
    throw_type(env, bad);
    return NULL;
  }
  for (size_t j = 0; j < b->ndirs; j++) b->dir_len[j] = strlen(b->dirs[j]);
  b->dir_mode = (mode_t)dir_mode;
  b->copy_mode = (mode_t)copy_mode;
  b->threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
  return b;
}

static napi_value batch_results(napi_env env, batch_t *b) {
  size_t n = b->ndirs + b->nops;
  void *data;
  napi_value ab, arr;
  napi_create_arraybuffer(env, n * sizeof(int32_t), &data, &ab);
  if (n) memcpy(data, b->results, n * sizeof(int32_t));
  napi_create_typedarray(env, napi_int32_array, n, ab, 0, &arr);
  return arr;
}

static napi_value js_file_batch_sync(napi_env env, napi_callback_info info) {
  batch_t *b = batch_parse(env, info);
  if (!b) return NULL;
  batch_run(b);
  napi_value r = batch_results(env, b);
  batch_free(b);
  return r;
}

static void batch_execute(napi_env env, void *data) {
  (void)env;
  batch_t *b = data;
  if (b->started == 0) op_lane(b); /* no thread could be started: this one does it all */
  join_lanes(b);
  batch_close_fds(b);
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  batch_t *b = data;
  if (b->joined < b->started) { /* not executed (cancelled): its lanes must end before b goes */
    join_lanes(b);
    batch_close_fds(b);
  }
  if (status == napi_ok) {
    napi_resolve_deferred(env, b->deferred, batch_results(env, b));
  } else {
    napi_value code, msg, err;
    napi_create_string_utf8(env, "ECANCELED", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, "fileBatch was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &err);
    napi_reject_deferred(env, b->deferred, err);
  }
  napi_delete_async_work(env, b->work);
  batch_free(b);
}

static napi_value js_file_batch(napi_env env, napi_callback_info info) {
  batch_t *b = batch_parse(env, info);
  if (!b) return NULL;
  napi_value promise, name;
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "warren.fileBatch", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, batch_execute, batch_complete, b, &b->work) != napi_ok) {
    batch_free(b);
    return throw_errno(env, ENOMEM, "fileBatch", NULL);
  }
  batch_start(b);
  if (napi_queue_async_work(env, b->work) != napi_ok) {
    if (b->started == 0) op_lane(b);
    join_lanes(b);
    batch_close_fds(b);
    napi_delete_async_work(env, b->work);
    batch_free(b);
    return throw_errno(env, ENOMEM, "fileBatch", NULL);
  }
  return promise;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  fd_set_t *set = calloc(1, sizeof *set);
  if (!set || napi_set_instance_data(env, set, fds_teardown, NULL) != napi_ok) {
    free(set);
    napi_throw_error(env, "ENOMEM", "warren_fs: cannot allocate its fd set");
    return NULL;
  }
  const napi_property_descriptor props[] = {
    {"openat", NULL, js_openat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openatStat", NULL, js_openat_stat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fstatat", NULL, js_fstatat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readlinkat", NULL, js_readlinkat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"utimensat", NULL, js_utimensat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"futimens", NULL, js_futimens, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fileBatch", NULL, js_file_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fileBatchSync", NULL, js_file_batch_sync, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
