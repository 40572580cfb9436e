/*
 * warren_fs: the few *at syscalls Node's fs lacks (nodejs/node#31110), as a raw Node-API addon.
 *
 * Why it exists: the WASI host resolves guest paths relative to directory fds it holds open;
 * without openat it has to go through /proc/self/fd/N/name strings, which cost ~2.5 us more
 * per open than openat. Placement hardlinks thousands of store blobs; one batch on two threads
 * costs about half of one linkSync per file. No maintained npm package offers these calls.
 *
 * Contract shared with src/native/native-fs.ts:
 * - errors are thrown as Node's fs errors are: an Error with .code ('ENOENT', ...), .errno
 *   (negative), .syscall and .path, because callers switch on .code;
 * - stat results go into a caller-owned Float64Array (no Stats object per call):
 *   [0] mode, [1] dev, [2] ino, [3] size, [4] nlink. dev and ino are converted to double
 *   exactly as Node's fs.Stats does, so identities keyed on them match keys made from Stats;
 * - linkBatch reports one errno per entry (0 = linked) instead of throwing.
 * The module keeps no global state, so worker threads may load it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* close(fd): no EBADF surprises are hidden, the caller decides. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be a number");
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return NULL;
}

/* ---- linkBatch --------------------------------------------------------------------------- */

/* One batch: `ndirs` directories made in order, then `nlinks` links on up to `threads` threads.
 * Strings arrive as one NUL-joined string per list (one copy out of JS instead of thousands). */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *strings;
  char **dirs;
  char **srcs;
  char **dsts;
  size_t ndirs, nlinks;
  mode_t dir_mode;
  int threads;
  atomic_size_t next;
  int32_t *results;
} batch_t;

static void batch_free(batch_t *b) {
  if (!b) return;
  free(b->strings);
  free(b->dirs);
  free(b->results);
  free(b);
}

static void *link_lane(void *arg) {
  batch_t *b = arg;
  for (;;) {
    size_t i = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
    if (i >= b->nlinks) break;
    b->results[b->ndirs + i] = link(b->srcs[i], b->dsts[i]) == 0 ? 0 : errno;
  }
  return NULL;
}

static void batch_run(batch_t *b) {
  int dir_failed = 0;
  for (size_t i = 0; i < b->ndirs; i++) {
    b->results[i] = mkdir(b->dirs[i], b->dir_mode) == 0 ? 0 : errno;
    if (b->results[i] != 0) dir_failed = 1;
  }
  if (dir_failed) {
    /* Links into a tree that could not be made would only fail confusingly: skip them. */
    for (size_t i = 0; i < b->nlinks; i++) b->results[b->ndirs + i] = ECANCELED;
    return;
  }
  int extra = b->threads - 1;
  if ((size_t)extra > b->nlinks / 64) extra = (int)(b->nlinks / 64); /* a thread costs ~30 us */
  pthread_t tids[15];
  int started = 0;
  for (; started < extra && started < 15; started++) {
    if (pthread_create(&tids[started], NULL, link_lane, b) != 0) break;
  }
  link_lane(b);
  for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
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

static size_t string_len(napi_env env, napi_value v, int *ok) {
  size_t len = 0;
  *ok = napi_get_value_string_utf8(env, v, NULL, 0, &len) == napi_ok;
  return len;
}

/* Reads (dirs, dirCount, dirMode, srcs, dsts, linkCount, threads) into a new batch. */
static batch_t *batch_parse(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    throw_type(env, "linkBatch(dirs, dirCount, dirMode, srcs, dsts, linkCount, threads)");
    return NULL;
  }
  int32_t ndirs, dir_mode, nlinks, threads;
  if (!arg_int(env, argv[1], &ndirs) || !arg_int(env, argv[2], &dir_mode) || !arg_int(env, argv[5], &nlinks) ||
      !arg_int(env, argv[6], &threads) || ndirs < 0 || nlinks < 0) {
    throw_type(env, "counts, mode and threads must be numbers");
    return NULL;
  }
  int ok1, ok2, ok3;
  size_t ld = string_len(env, argv[0], &ok1), ls = string_len(env, argv[3], &ok2), lt = string_len(env, argv[4], &ok3);
  if (!ok1 || !ok2 || !ok3) {
    throw_type(env, "dirs, srcs and dsts must be NUL-joined strings");
    return NULL;
  }
  batch_t *b = calloc(1, sizeof *b);
  size_t total = ld + 1 + ls + 1 + lt + 1;
  if (b) {
    b->strings = malloc(total);
    b->dirs = malloc(sizeof(char *) * ((size_t)ndirs + 2 * (size_t)nlinks + 1));
    b->results = calloc((size_t)ndirs + (size_t)nlinks + 1, sizeof(int32_t));
  }
  if (!b || !b->strings || !b->dirs || !b->results) {
    batch_free(b);
    throw_errno(env, ENOMEM, "linkBatch", NULL);
    return NULL;
  }
  char *d = b->strings, *s = d + ld + 1, *t = s + ls + 1;
  size_t got;
  napi_get_value_string_utf8(env, argv[0], d, ld + 1, &got);
  napi_get_value_string_utf8(env, argv[3], s, ls + 1, &got);
  napi_get_value_string_utf8(env, argv[4], t, lt + 1, &got);
  b->ndirs = (size_t)ndirs;
  b->nlinks = (size_t)nlinks;
  b->srcs = b->dirs + ndirs;
  b->dsts = b->srcs + nlinks;
  if (!split_list(d, ld, b->dirs, b->ndirs) || !split_list(s, ls, b->srcs, b->nlinks) || !split_list(t, lt, b->dsts, b->nlinks)) {
    batch_free(b);
    throw_type(env, "a list does not hold the given number of paths (a path with a null byte?)");
    return NULL;
  }
  for (size_t i = 0; i < b->ndirs + 2 * b->nlinks; i++) {
    if (b->dirs[i][0] == '\0') {
      batch_free(b);
      throw_type(env, "empty path in a batch");
      return NULL;
    }
  }
  b->dir_mode = (mode_t)dir_mode;
  b->threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
  atomic_init(&b->next, 0);
  return b;
}

static napi_value batch_results(napi_env env, batch_t *b) {
  size_t n = b->ndirs + b->nlinks;
  void *data;
  napi_value ab, arr;
  napi_create_arraybuffer(env, n * sizeof(int32_t), &data, &ab);
  if (n) memcpy(data, b->results, n * sizeof(int32_t));
  napi_create_typedarray(env, napi_int32_array, n, ab, 0, &arr);
  return arr;
}

static napi_value js_link_batch_sync(napi_env env, napi_callback_info info) {
  batch_t *b = batch_parse(env, info);
  if (!b) return NULL;
  batch_run(b);
  napi_value r = batch_results(env, b);
  batch_free(b);
  return r;
}

static void batch_execute(napi_env env, void *data) {
  (void)env;
  batch_run(data);
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  batch_t *b = data;
  if (status == napi_ok) {
    napi_resolve_deferred(env, b->deferred, batch_results(env, b));
  } else {
    napi_value code, msg, err;
    napi_create_string_utf8(env, "ECANCELED", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, "linkBatch was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &err);
    napi_reject_deferred(env, b->deferred, err);
  }
  napi_delete_async_work(env, b->work);
  batch_free(b);
}

static napi_value js_link_batch(napi_env env, napi_callback_info info) {
  batch_t *b = batch_parse(env, info);
  if (!b) return NULL;
  napi_value promise, name;
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "warren.linkBatch", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, batch_execute, batch_complete, b, &b->work) != napi_ok ||
      napi_queue_async_work(env, b->work) != napi_ok) {
    batch_free(b);
    return throw_errno(env, ENOMEM, "linkBatch", NULL);
  }
  return promise;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  const napi_property_descriptor props[] = {
    {"openat", NULL, js_openat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openatStat", NULL, js_openat_stat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fstatat", NULL, js_fstatat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readlinkat", NULL, js_readlinkat, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"linkBatch", NULL, js_link_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"linkBatchSync", NULL, js_link_batch_sync, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
