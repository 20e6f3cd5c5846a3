/*
 * eoi.h - shared internals of eoproc: the context's layout, error and log
 * helpers, checked size arithmetic, allocation, GDAL error capture, JSON
 * helpers and the thread pool. Never installed.
 *
 * Internal names that cross files start with eoi_ (not exported: the
 * version script exports eo_* only, and everything is hidden by default).
 */
#ifndef EOI_H
#define EOI_H

#include "eoproc.h"
#include "eoproc/experimental.h" /* the library defines these calls too */

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <geos_c.h>
#include <json-c/json.h>
#include <proj.h>

#define EOI_MSG_MAX 2048
#define EOI_NLIMITS 7

struct eo_ctx {
    eo_status status;
    char msg[EOI_MSG_MAX];
    eo_log_fn log_fn;
    void *log_user;
    int32_t log_min;
    eo_progress_fn progress_fn;
    void *progress_user;
    atomic_int cancelled;
    int32_t threads; /* requested; 0 = all CPUs */
    int64_t limits[EOI_NLIMITS];
    GEOSContextHandle_t geos;
    PJ_CONTEXT *pj;
    char geos_msg[512];  /* last GEOS error or notice */
    char gdal_msg[1024]; /* last GDAL error of the current call */
    int gdal_err;        /* CPLErrorNum of it, 0 = none */
    /* transformations made by eoi_crs_transformer (creating one costs
     * milliseconds, cloning it microseconds), least recently used evicted */
    struct eoi_pj_cache {
        char *src, *dst;
        PJ *pj;
        uint64_t used;
    } pj_cache[8];
    uint64_t pj_clock;
    /* the host's fetcher of tile URLs (eo_ctx_set_tile_url_fetcher) */
    eo_tile_url_fn tile_url_fn;
    void *tile_url_user;
};

#if defined(__GNUC__)
#define EOI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EOI_PRINTF(a, b)
#endif

/* ---- errors and logging ------------------------------------------------ */

/* Record a failure on ctx (status + formatted message) and return st. */
/* Whether st is one of the statuses eoproc defines (exactly, not by category):
 * for codes read back from storage, which a damaged file can make anything. */
bool eoi_status_known(eo_status st);

eo_status eoi_fail(eo_ctx *ctx, eo_status st, const char *fmt, ...) EOI_PRINTF(3, 4);
eo_status eoi_vfail(eo_ctx *ctx, eo_status st, const char *fmt, va_list ap);
/* Log a message at level through the context's sink. */
void eoi_log(eo_ctx *ctx, int level, const char *fmt, ...) EOI_PRINTF(3, 4);
/* Report progress; returns EO_E_CANCELLED (recorded on ctx) when the
 * context was cancelled or the callback asked to stop. */
eo_status eoi_progress(eo_ctx *ctx, double fraction, const char *stage);
/* EO_E_CANCELLED (recorded) if eo_ctx_cancel was called; EO_OK otherwise. */
eo_status eoi_check_cancel(eo_ctx *ctx);

#define EOI_CHECK_ARG(ctx, cond)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return eoi_fail((ctx), EO_E_ARG, "%s: invalid argument: %s", __func__, #cond);         \
    } while (0)

/* Forward a failure unchanged, keeping the deeper message. */
#define EOI_TRY(st, expr)                                                                          \
    do {                                                                                           \
        if (((st) = (expr)) != EO_OK)                                                              \
            goto done;                                                                             \
    } while (0)

/* Return a failure at once (where there is nothing to clean up). */
#define EOI_TRY_RET(expr)                                                                          \
    do {                                                                                           \
        eo_status st_ret_ = (expr);                                                                \
        if (st_ret_ != EO_OK)                                                                      \
            return st_ret_;                                                                        \
    } while (0)

/* ---- checked arithmetic (return true on overflow) ---------------------- */
static inline bool eoi_mul_size(size_t *out, size_t a, size_t b) {
    return __builtin_mul_overflow(a, b, out);
}
static inline bool eoi_mul_size3(size_t *out, size_t a, size_t b, size_t c) {
    size_t t;
    return __builtin_mul_overflow(a, b, &t) || __builtin_mul_overflow(t, c, out);
}
static inline bool eoi_add_size(size_t *out, size_t a, size_t b) {
    return __builtin_add_overflow(a, b, out);
}
static inline bool eoi_mul_i64(int64_t *out, int64_t a, int64_t b) {
    return __builtin_mul_overflow(a, b, out);
}

/* ---- allocation -------------------------------------------------------- */
/* malloc/calloc that record EO_E_NOMEM on ctx (ctx may be NULL) and honour
 * the EO_LIMIT_MAX_BYTES limit and the test fault injector. */
void *eoi_malloc(eo_ctx *ctx, size_t n);
void *eoi_calloc(eo_ctx *ctx, size_t count, size_t size);
void *eoi_realloc(eo_ctx *ctx, void *p, size_t n);
/* Make room for `need` elements of esize bytes in the growable array *p of
 * capacity *cap (doubled, starting at `first`). false when the size
 * overflows (EO_E_LIMIT) or memory is short (EO_E_NOMEM), recorded on ctx
 * when there is one; *p and *cap are then unchanged. */
bool eoi_grow(eo_ctx *ctx, void **p, size_t *cap, size_t need, size_t esize, size_t first);
char *eoi_strdup(eo_ctx *ctx, const char *s);
void eoi_free(void *p);
/* (The fault injector for tests is eo_exp_fail_alloc, eoproc/experimental.h.) */

/* ---- option setters (src/core/setters.c) -------------------------------- */
/* *dst = v when lo <= v <= hi, else EO_E_ARG with the message fmt of the
 * setter's object, given (what, v, lo, hi): "%s: %d (%d to %d)". */
eo_status eoi_set_int_in(eo_ctx *ctx, int32_t *dst, int32_t v, int32_t lo, int32_t hi,
                         const char *fmt, const char *what);
/* The index of the first band number below 1 (bands are 1-based) among
 * count, or -1: each setter names the band in its own message. */
int32_t eoi_bands_bad(const int32_t *bands, int32_t count);
/* EO_OK, or EO_E_ARG "band N: bands are numbered from 1" for the first band
 * number below 1: the message of the clip, preview and tile setters. */
eo_status eoi_bands_check(eo_ctx *ctx, const int32_t *bands, int32_t count);
/* *slot (eoi_malloc'd or NULL; the old one freed) and *n become a copy of
 * the count bands (NULL and 0 for none). On failure both are unchanged. */
eo_status eoi_bands_assign(eo_ctx *ctx, int32_t **slot, int32_t *n, const int32_t *bands,
                           int32_t count);

/* ---- limits ------------------------------------------------------------ */
int64_t eoi_limit(const eo_ctx *ctx, int which);
/* Check a raster of w x h x bands samples of esize bytes against the limits;
 * *nbytes receives the size. what names the thing for the message. */
eo_status eoi_check_raster_size(eo_ctx *ctx, size_t *nbytes, int64_t w, int64_t h, int64_t bands,
                                size_t esize, const char *what);

/* Seconds on the monotonic clock (for durations only). */
double eoi_now_s(void);

/* ---- threads ----------------------------------------------------------- */
/* A context for a worker thread: the parent's limits and thread count, its
 * own GEOS / PROJ / GDAL state, no callbacks. */
eo_status eoi_ctx_worker_new(eo_ctx *parent, eo_ctx **out);
/* Copy a worker's failure (status and message) onto the parent. */
eo_status eoi_ctx_take_error(eo_ctx *parent, const eo_ctx *worker);
/* After the join of a parallel job that returned st over n worker contexts:
 * a failure (not a cancel) becomes the first failed worker's, on parent.
 * Returns the status to return. */
eo_status eoi_ctx_take_first(eo_ctx *parent, eo_status st, eo_ctx *const *workers, int32_t n);
/* A worker's error without a context of its own: a callback run on a
 * worker thread (a window of the strip runner, a tile column of the COG
 * writer) must not touch the caller's context, so it records its failure
 * here, in its worker's slot, and the caller hands the first one to the
 * context after the join (eoi_werr_take). */
#define EOI_WERR_MAX 1024
typedef struct eoi_werr {
    eo_status st;
    char msg[EOI_WERR_MAX];
} eoi_werr;
/* Record st and the message (printf-like, cut to fit); returns st. */
eo_status eoi_werr_set(eoi_werr *w, eo_status st, const char *fmt, ...) EOI_PRINTF(3, 4);
/* The first of n workers' errors that holds a message, or NULL. */
const eoi_werr *eoi_werr_first(const eoi_werr *w, int32_t n);
/* After the join of a job that returned st (EO_OK and EO_E_CANCELLED are
 * returned as they are: a cancel's message is already on ctx): the ctx's
 * error becomes the first of the n workers' messages, or fallback when none
 * has one. Returns st. */
eo_status eoi_werr_take(eo_ctx *ctx, eo_status st, const eoi_werr *w, int32_t n,
                        const char *fallback);
int32_t eoi_threads(const eo_ctx *ctx);
/* Run fn(user, i, worker) for i in [0, n) on up to eoi_threads(ctx) threads
 * (worker in [0, nworkers)). fn returns a status; the first failure stops
 * the handing out of new items and is returned. fn must not touch ctx: each
 * worker writes its error into its own slot (eoi_werr). */
typedef eo_status (*eoi_job_fn)(void *user, int64_t i, int32_t worker);
eo_status eoi_parallel_for(eo_ctx *ctx, int64_t n, eoi_job_fn fn, void *user);
/* The same items on up to threads new threads (worker ids 0..threads-1)
 * while the caller goes on with other work (nothing the items touch):
 * eoi_async_wait, called exactly once, joins them and returns the first
 * failure. When no thread can be started the items run inside
 * eoi_async_start. */
typedef struct eoi_async eoi_async;
eo_status eoi_async_start(eo_ctx *ctx, eoi_async **out, int64_t n, int32_t threads, eoi_job_fn fn,
                          void *user);
eo_status eoi_async_wait(eo_ctx *ctx, eoi_async *a);

/* ---- GDAL glue (src/core/gdal_glue.c) ---------------------------------- */
/* Register GDAL drivers once per process (thread-safe). */
void eoi_gdal_init(void);
/* Push an error handler that records GDAL's messages on ctx instead of
 * printing them, and turn off side files (.aux.xml) for this thread. Every
 * entry point that calls GDAL brackets its work with these two. */
void eoi_gdal_begin(eo_ctx *ctx);
void eoi_gdal_end(eo_ctx *ctx);
/* CPLError number of a root-cause error raised inside eoproc's own GDAL
 * callbacks (the tile datasets' virtual files): the handler keeps its
 * message over the follow-up errors GDAL raises for the same failure. */
#define EOI_CPLE_STICKY 0x454f
/* The last GDAL error message of this call, or fallback. */
const char *eoi_gdal_msg(eo_ctx *ctx, const char *fallback);

/* ---- JSON (json-c) ----------------------------------------------------- */
/* A JSON number that prints in the shortest form that reads back exactly. */
json_object *eoi_json_double(double d);
/* [xmin, ymin, xmax, ymax] */
json_object *eoi_json_bbox(const eo_bbox *b);
/* Serialize obj into a malloc'd string for the caller (eo_free). */
eo_status eoi_json_dump(eo_ctx *ctx, char **out, json_object *obj, bool pretty);
/* Parse text as JSON (depth-limited, size-limited); on failure records
 * st_on_error with "what: <reason> at offset N". */
eo_status eoi_json_parse(eo_ctx *ctx, json_object **out, const char *text, const char *what,
                         eo_status st_on_error);
/* ---- files (src/core/file.c) ------------------------------------------ */
/* Read a whole file (at most limit bytes) into a NUL-terminated string. */
eo_status eoi_read_file(eo_ctx *ctx, char **out, size_t *len, const char *path, size_t limit);
/* The same for binary data (still NUL-terminated, for convenience). */
eo_status eoi_read_file_bytes(eo_ctx *ctx, uint8_t **out, size_t *len, const char *path,
                              size_t limit);
/* An unlinked temporary file in dir (O_TMPFILE, else mkstemp and unlink):
 * its descriptor, or -1 with errno set (ENOMEM included). */
int eoi_tmp_anon(const char *dir);
/* Write n bytes at offset off (off < 0: at the file position), through
 * short writes and EINTR: 0, or the errno of the failure (ENOSPC when
 * nothing could be written). */
int eoi_write_fd(int fd, const void *p, size_t n, int64_t off);
/* Write data to path through a temporary name beside it, renamed into place;
 * nothing is left at path (or at the temporary name) on failure. */
eo_status eoi_write_file(eo_ctx *ctx, const char *path, const void *data, size_t len);
/* Every output is written to a temporary name beside its path and moved
 * into place only when complete. *out = "PATH.tmp-PID-N" + ext (a GDAL
 * driver may choose its format by the extension), unique in this process,
 * in path's folder so that the rename is atomic; release with eoi_free. */
eo_status eoi_tmp_beside(eo_ctx *ctx, char **out, const char *path, const char *ext);
/* A scratch name in GDAL's memory file system, unique in this process:
 * "/vsimem/eoproc/WHAT-N" + ext (cap >= 64 is enough for short words). Its
 * user removes it with VSIUnlink when done (it is never an output). */
void eoi_vsimem_name(char *buf, size_t cap, const char *what, const char *ext);
/* End such an output: when st is EO_OK, move tmp to path (a failure names
 * path); otherwise, or when that fails, remove tmp. Returns the outcome. */
eo_status eoi_tmp_commit(eo_ctx *ctx, const char *tmp, const char *path, eo_status st);
/* The same for n outputs of one call, every one or none: when st is EO_OK
 * move each tmp[k] to path[k] (a failure names that path, and those already
 * moved are removed again); otherwise remove every tmp[k] (NULL: none was
 * made). With the temporaries goes any "-journal" SQLite left beside them.
 * errno is that of the failed rename. Every output written under a
 * temporary name ends through this or eoi_tmp_commit(_new). */
eo_status eoi_tmp_commit_all(eo_ctx *ctx, const char *const *tmp, const char *const *path,
                             int32_t n, eo_status st);
/* eoi_tmp_commit that never replaces a file at path (link, then the
 * temporary name is removed): path existing gives EO_E_STATE "PATH already
 * exists", another failure EO_E_IO_WRITE; errno is that of link(2). */
eo_status eoi_tmp_commit_new(eo_ctx *ctx, const char *tmp, const char *path, eo_status st);
/* Remove n outputs already moved into place (NULL entries skipped) when a
 * later step of their call fails: the call leaves nothing behind. errno is
 * kept. */
void eoi_out_discard(const char *const *path, int32_t n);
/* ---- the Earth (src/core/earth.c) --------------------------------------- */
#define EOI_WGS84_A 6378137.0                  /* semi-major axis, metres */
#define EOI_WGS84_F (1 / 298.257223563)        /* flattening */
#define EOI_MERC_MAX_LAT 85.051128779806592378 /* atan(sinh(pi)), degrees: the grid's edge */
/* Half the width of the web-mercator grid, metres (pi * a). */
#define EOI_MERC_HALF (3.14159265358979323846 * EOI_WGS84_A)
/* Web mercator (EPSG:3857, the sphere of radius a) metres of a longitude
 * (clamped to +-180) and of a latitude (clamped to +-EOI_MERC_MAX_LAT). */
double eoi_merc_x(double lon);
double eoi_merc_y(double lat);
/* Longitude of tile column x and latitude of tile row y (their west and
 * north edges) at zoom z; x or y = 2^z gives the east or south edge. */
double eoi_merc_col_lon(int64_t x, int32_t z);
double eoi_merc_row_lat(int64_t y, int32_t z);
/* Fractional tile column and row of a point in web-mercator metres at
 * zoom z (row 0 at the north edge), not clamped to the grid. */
void eoi_merc_tile_f(double mx, double my, int32_t z, double *fx, double *fy);
/* The WGS 84 ellipsoid for PROJ's geodesic routines (geodesic.h), made
 * once: geodesic areas, lengths and pixel areas all measure on it. */
struct geod_geodesic;
const struct geod_geodesic *eoi_wgs84(void);
/* Geodesic area (m^2, signed: positive when counter-clockwise) of the ring
 * of n vertices lon[i], lat[i] (degrees; the closing vertex not repeated)
 * on WGS 84; *perimeter (m) when not NULL. */
double eoi_geod_ring(const double *lon, const double *lat, size_t n, double *perimeter);
/* mkdir -p */
eo_status eoi_mkdirs(eo_ctx *ctx, const char *dir);

/* ---- CRS (src/core/crs.c) ---------------------------------------------- */
/* Normalize any CRS definition to WKT2 via PROJ on ctx->pj; also reports
 * whether it is geographic. */
eo_status eoi_crs_to_wkt(eo_ctx *ctx, char **out_wkt, const char *def, bool *is_geographic);
/* The EPSG code that matches (confidence >= 70), or 0. */
int eoi_crs_epsg(eo_ctx *ctx, const char *wkt);
/* A transformation between two CRSs with traditional GIS axis order. */
eo_status eoi_crs_transformer(eo_ctx *ctx, PJ **out, const char *src, const char *dst);
/* Drop the context's cached transformations (eo_ctx_free does). */
void eoi_crs_cache_clear(eo_ctx *ctx);

#endif /* EOI_H */
