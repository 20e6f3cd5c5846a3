/* fuzz_common.h - what the fuzz targets of files, tiles and stores share:
 * one context per process (one thread, limits that keep a hostile header
 * from allocating gigabytes), the check of a failure's category, a scratch
 * folder for what must be a real file, and a loud stop when the library
 * breaks its contract. */
#ifndef EOPROC_FUZZ_COMMON_H
#define EOPROC_FUZZ_COMMON_H

#include <eoproc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* categories a failure may have, as bits: FUZZ_CAT(EO_E_IO) | ... */
#define FUZZ_CAT(cat) (1u << (cat))

static inline eo_ctx *fuzz_ctx(void) {
    static eo_ctx *ctx;
    if (!ctx && eo_ctx_new(&ctx) == EO_OK) {
        eo_ctx_set_threads(ctx, 1);
        eo_ctx_set_limit(ctx, EO_LIMIT_MAX_PIXELS, (int64_t)1 << 20);
        eo_ctx_set_limit(ctx, EO_LIMIT_MAX_BYTES, (int64_t)64 << 20);
    }
    return ctx;
}

/* the library broke its contract: say how, then stop */
static inline void fuzz_die(eo_ctx *ctx, const char *file, int line) {
    fprintf(stderr, "%s:%d: contract broken; last status %s: %s\n", file, line,
            eo_status_id(eo_ctx_status(ctx)), eo_ctx_errmsg(ctx));
    abort();
}
#define FUZZ_CHECK(ctx, cond)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_die(ctx, __FILE__, __LINE__);                                                     \
    } while (0)

/* a failure with one of the categories cats (never EO_OK) */
static inline int fuzz_expected(eo_status st, unsigned cats) {
    return st != EO_OK && (cats & FUZZ_CAT(EO_STATUS_CATEGORY(st)));
}

/* where to put what must be a real file: memory-backed when there is one */
static inline const char *fuzz_scratch(void) {
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

/* write data to path; 0 on success */
static inline int fuzz_write_file(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || put != size) {
        unlink(path);
        return -1;
    }
    return 0;
}

#endif
