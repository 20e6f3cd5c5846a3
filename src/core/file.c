/* file.c - whole-file reads and atomic writes (a temporary name beside
 * the target, renamed into place), and making folders. */
#include "eoi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

eo_status eoi_read_file_bytes(eo_ctx *ctx, uint8_t **out, size_t *len, const char *path,
                              size_t limit) {
    *out = NULL;
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return eoi_fail(ctx, e == ENOENT ? EO_E_IO_NOT_FOUND : EO_E_IO_READ, "%s: %s", path,
                        strerror(e));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return eoi_fail(ctx, EO_E_IO_READ, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > limit) {
        fclose(f);
        return eoi_fail(ctx, EO_E_LIMIT, "%s: %lld bytes exceed the limit of %zu", path,
                        (long long)sb.st_size, limit);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = eoi_malloc(ctx, n + 1);
    if (!buf) {
        fclose(f);
        return EO_E_NOMEM;
    }
    size_t got = fread(buf, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != n) {
        eoi_free(buf);
        return eoi_fail(ctx, EO_E_IO_READ, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return EO_OK;
}

eo_status eoi_read_file(eo_ctx *ctx, char **out, size_t *len, const char *path, size_t limit) {
    uint8_t *buf = NULL;
    size_t n = 0;
    *out = NULL;
    if (len)
        *len = 0;
    eo_status st = eoi_read_file_bytes(ctx, &buf, &n, path, limit);
    if (st != EO_OK)
        return st;
    if (memchr(buf, '\0', n)) {
        eoi_free(buf);
        return eoi_fail(ctx, EO_E_IO_READ, "%s: binary data where text was expected", path);
    }
    *out = (char *)buf;
    if (len)
        *len = n;
    return EO_OK;
}

eo_status eoi_mkdirs(eo_ctx *ctx, const char *dir) {
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return eoi_fail(ctx, EO_E_IO_WRITE, "%.200s: bad folder name", dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot make the folder: %s", path,
                            strerror(errno));
        path[i] = c;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return eoi_fail(ctx, EO_E_IO_WRITE, "%s: not a folder", dir);
    return EO_OK;
}

/* Numbers the temporary names of this process (files and /vsimem/). */
static atomic_long tmp_counter;

eo_status eoi_tmp_beside(eo_ctx *ctx, char **out, const char *path, const char *ext) {
    *out = NULL;
    /* The rename at the end would replace a device or a FIFO (as root, /dev/null
     * itself) with a regular file: refuse anything but a regular file. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return eoi_fail(ctx, EO_E_IO_WRITE,
                        "%s: not a regular file (%s): outputs are written to a temporary name "
                        "and renamed into place, which would replace it",
                        path,
                        S_ISDIR(sb.st_mode)    ? "a directory"
                        : S_ISCHR(sb.st_mode)  ? "a character device"
                        : S_ISFIFO(sb.st_mode) ? "a FIFO"
                        : S_ISSOCK(sb.st_mode) ? "a socket"
                                               : "a special file");
    size_t n = strlen(path) + strlen(ext) + 48;
    char *t = eoi_malloc(ctx, n);
    if (!t)
        return EO_E_NOMEM;
    snprintf(t, n, "%s.tmp-%ld-%ld%s", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1),
             ext);
    *out = t;
    return EO_OK;
}

void eoi_vsimem_name(char *buf, size_t cap, const char *what, const char *ext) {
    snprintf(buf, cap, "/vsimem/eoproc/%s-%ld%s", what, atomic_fetch_add(&tmp_counter, 1), ext);
}

/* Remove a temporary and the rollback journal SQLite may leave beside it
 * (a GeoPackage or a job store): errno is kept for the caller. */
static void tmp_remove(const char *tmp) {
    if (!tmp)
        return;
    int e = errno;
    unlink(tmp);
    size_t n = strlen(tmp);
    char side[4096];
    if (n + sizeof "-journal" <= sizeof side) {
        memcpy(side, tmp, n);
        memcpy(side + n, "-journal", sizeof "-journal");
        unlink(side);
    }
    errno = e;
}

eo_status eoi_tmp_commit_all(eo_ctx *ctx, const char *const *tmp, const char *const *path,
                             int32_t n, eo_status st) {
    int32_t moved = 0;
    for (; moved < n && st == EO_OK; moved++)
        if (rename(tmp[moved], path[moved]) != 0) {
            int e = errno;
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot move the finished file into place: %s",
                          path[moved], strerror(e));
            errno = e;
            break;
        }
    if (st == EO_OK)
        return st;
    eoi_out_discard(path, moved); /* every one or none: those moved go again */
    for (int32_t k = moved; k < n; k++)
        tmp_remove(tmp[k]); /* nothing is left behind: not a temporary, not a path */
    return st;
}

eo_status eoi_tmp_commit(eo_ctx *ctx, const char *tmp, const char *path, eo_status st) {
    return eoi_tmp_commit_all(ctx, &tmp, &path, 1, st);
}

eo_status eoi_tmp_commit_new(eo_ctx *ctx, const char *tmp, const char *path, eo_status st) {
    if (st == EO_OK && link(tmp, path) != 0) { /* link, unlike rename, never replaces */
        int e = errno;
        st = e == EEXIST
                 ? eoi_fail(ctx, EO_E_STATE, "%s already exists", path)
                 : eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot move the finished file into place: %s",
                            path, strerror(e));
        errno = e;
    }
    tmp_remove(tmp); /* linked: the temporary name goes; failed: the file goes */
    return st;
}

void eoi_out_discard(const char *const *path, int32_t n) {
    int e = errno;
    for (int32_t k = 0; k < n; k++)
        if (path[k])
            unlink(path[k]);
    errno = e;
}

eo_status eoi_write_file(eo_ctx *ctx, const char *path, const void *data, size_t len) {
    char *tmp = NULL;
    eo_status st = eoi_tmp_beside(ctx, &tmp, path, "");
    if (st != EO_OK)
        return st;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: %s", path, strerror(errno));
        eoi_free(tmp);
        return st;
    }
    size_t put = fwrite(data, 1, len, f);
    int err = ferror(f);
    if (fclose(f) != 0 || err || put != len)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: write failed: %s", path, strerror(errno));
    st = eoi_tmp_commit(ctx, tmp, path, st);
    eoi_free(tmp);
    return st;
}

int eoi_tmp_anon(const char *dir) {
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd >= 0)
        return fd;
    size_t n = strlen(dir) + 32;
    char *t = eoi_malloc(NULL, n);
    if (!t) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(t, n, "%s/.eoproc-spool-XXXXXX", dir);
    fd = mkstemp(t);
    if (fd >= 0)
        unlink(t); /* gone with the descriptor, also after a crash */
    int e = errno;
    eoi_free(t);
    errno = e;
    return fd;
}

int eoi_write_fd(int fd, const void *p, size_t n, int64_t off) {
    const uint8_t *c = p;
    while (n > 0) {
        ssize_t k = off < 0 ? write(fd, c, n) : pwrite(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : ENOSPC;
        c += k;
        n -= (size_t)k;
        if (off >= 0)
            off += k;
    }
    return 0;
}
