/*
 * warren_fs: the few *at syscalls Node's fs lacks (nodejs/node#31110), and utimensat/futimens to
 * the nanosecond (fs.utimes takes seconds as a double), as a raw Node-API addon.
 *
 * Why it exists: the WASI host resolves guest paths relative to directory fds it holds open;
 * without openat it has to go through /proc/self/fd/N/name strings, which cost more per open
 * than openat (docs/decisions.md). No maintained npm package offers these calls.
 *
 * Contract shared with src/native/native-fs.ts:
 * - errors are thrown as Node's fs errors are: an Error with .code ('ENOENT', ...), .errno
 *   (negative), .syscall and .path, because callers switch on .code;
 * - stat results go into a caller-owned Float64Array (no Stats object per call):
 *   [0] mode, [1] dev, [2] ino, [3] size, [4] nlink. dev and ino are converted to double
 *   exactly as Node's fs.Stats does, so identities keyed on them match keys made from Stats.
 * The module keeps no global state, so worker threads may load it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
