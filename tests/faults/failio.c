/* failio.c - an LD_PRELOAD shim for write-fault loops (tests only).
 *
 * Counts the calls that put bytes on disk or make them last: write,
 * pwrite, pwrite64, writev (on descriptors above 2), fwrite (on streams
 * other than stdout and stderr), fsync and fdatasync (of files, not folders),
 * rename and renameat.
 * The Nth counted call (EOPROC_FAILIO_NTH=N, N >= 1) fails as a full disk
 * would: -1 with errno ENOSPC (EIO for fsync and fdatasync), or 0 items
 * for fwrite. Each injected fault appends the call's name to the file
 * EOPROC_FAILIO_LOG, so that a test can tell "the command had no Nth call"
 * from "the command succeeded despite a failed write". Without
 * EOPROC_FAILIO_NTH the shim only passes calls through.
 *
 * libc's own stdio writes through internal calls that no shim sees, hence
 * fwrite is counted itself (one call, however many bytes). glibc only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long g_count;
static long g_nth = -1; /* -1: not read yet; 0: off */

static long nth(void) {
    if (g_nth < 0) {
        const char *s = getenv("EOPROC_FAILIO_NTH");
        long v = s ? strtol(s, NULL, 10) : 0;
        g_nth = v > 0 ? v : 0;
    }
    return g_nth;
}

/* Whether this call is the one to fail; records it in the log. */
static int inject(const char *what) {
    long n = nth();
    if (!n || atomic_fetch_add(&g_count, 1) + 1 != n)
        return 0;
    const char *log = getenv("EOPROC_FAILIO_LOG");
    if (log) { /* raw system calls: the shim must not count itself */
        int fd = (int)syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            (void)syscall(SYS_write, fd, what, strlen(what));
            (void)syscall(SYS_write, fd, "\n", (size_t)1);
            (void)syscall(SYS_close, fd);
        }
    }
    return 1;
}

/* Syncs of a folder are not counted: SQLite (the detect job's store) syncs
 * the folder after making a journal and ignores a failure there by design,
 * and eoproc itself syncs no folder. */
static int is_dir(int fd) {
    struct stat sb;
    return fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* the next definition of name (libc's), looked up once */
#define REAL(name)                                                                                 \
    static __typeof__(&name) real_##name;                                                          \
    if (!real_##name)                                                                              \
        real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name);

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write);
    if (fd > 2 && inject("write")) {
        errno = ENOSPC;
        return -1;
    }
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite);
    if (fd > 2 && inject("pwrite")) {
        errno = ENOSPC;
        return -1;
    }
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
    REAL(pwrite64);
    if (fd > 2 && inject("pwrite64")) {
        errno = ENOSPC;
        return -1;
    }
    return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    REAL(writev);
    if (fd > 2 && inject("writev")) {
        errno = ENOSPC;
        return -1;
    }
    return real_writev(fd, iov, cnt);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f) {
    REAL(fwrite);
    if (f != stdout && f != stderr && n && size && inject("fwrite")) {
        /* as stdio fails on a full disk: a short count and the stream's
         * error flag set (glibc's _IO_ERR_SEEN), which ferror() reports */
        f->_flags |= 0x0020;
        errno = ENOSPC;
        return 0;
    }
    return real_fwrite(p, size, n, f);
}

int fsync(int fd) {
    REAL(fsync);
    if (!is_dir(fd) && inject("fsync")) {
        errno = EIO;
        return -1;
    }
    return real_fsync(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync);
    if (!is_dir(fd) && inject("fdatasync")) {
        errno = EIO;
        return -1;
    }
    return real_fdatasync(fd);
}

int rename(const char *a, const char *b) {
    REAL(rename);
    if (inject("rename")) {
        errno = ENOSPC;
        return -1;
    }
    return real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b) {
    REAL(renameat);
    if (inject("renameat")) {
        errno = ENOSPC;
        return -1;
    }
    return real_renameat(da, a, db, b);
}
