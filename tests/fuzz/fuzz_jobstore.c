/* fuzz_jobstore.c - fuzz target for the detect job store (src/jobs/job.c):
 * the bytes become job.sqlite in a fresh job folder (under /dev/shm, or
 * /tmp), which is opened with eo_job_open, then listed with eo_job_status
 * and eo_job_partitions. Any bytes in: a clean status (io, state.Invalid
 * for a store that is not a job's or is damaged, memory) out; never OK
 * without an object or its JSON. Nothing but the store's own files (WAL,
 * shared memory, journal, lock) may be left in the folder.
 *
 * Seeds (tests/fuzz/corpus/jobstore): made by tests/fuzz/make_seeds.py with
 * Python's sqlite3 and the store's schema: stores in progress, done and
 * failed, stores without parameters or with broken ones, NULLs and wrong
 * types in the partitions, no partitions table, truncated and flipped. */
#include "fuzz_common.h"

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CATS                                                                                       \
    (FUZZ_CAT(EO_E_IO) | FUZZ_CAT(EO_E_STATE) | FUZZ_CAT(EO_E_NOMEM) | FUZZ_CAT(EO_E_SOURCE) |     \
     FUZZ_CAT(EO_E_LIMIT))

static void list(eo_ctx *ctx, eo_job *job) {
    char *json = NULL;
    eo_status st = eo_job_status(ctx, &json, job);
    FUZZ_CHECK(ctx, st == EO_OK ? json != NULL : !json && fuzz_expected(st, CATS));
    eo_free(json);
    json = NULL;
    st = eo_job_partitions(ctx, &json, job);
    FUZZ_CHECK(ctx, st == EO_OK ? json != NULL : !json && fuzz_expected(st, CATS));
    eo_free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static long n;
    eo_ctx *ctx = fuzz_ctx();
    if (!ctx)
        return 0;
    char dir[128], path[192];
    snprintf(dir, sizeof dir, "%s/fuzz_jobstore-%ld-%ld", fuzz_scratch(), (long)getpid(), n++);
    if (mkdir(dir, 0700) != 0)
        return 0;
    snprintf(path, sizeof path, "%s/job.sqlite", dir);
    if (fuzz_write_file(path, data, size) == 0) {
        eo_job *job = NULL;
        eo_status st = eo_job_open(ctx, &job, dir);
        if (st != EO_OK)
            FUZZ_CHECK(ctx, !job && fuzz_expected(st, CATS));
        else {
            FUZZ_CHECK(ctx, job != NULL);
            list(ctx, job);
        }
        eo_job_close(job);
    }
    static const char *const left[] = {"job.sqlite", "job.sqlite-wal", "job.sqlite-shm",
                                       "job.sqlite-journal", "lock"};
    for (size_t i = 0; i < sizeof left / sizeof *left; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, left[i]);
        unlink(path);
    }
    FUZZ_CHECK(ctx, rmdir(dir) == 0); /* nothing else was left behind */
    return 0;
}
