/*
 * eoproc/core.h - versions, status codes, the context, memory.
 *
 * Conventions (see README "C API"):
 *  - every call that can fail returns an eo_status; EO_OK is 0;
 *  - results go to out-parameters, which are set to NULL/0 on failure;
 *  - on failure the context holds the status and a message naming the input
 *    and the value (eo_ctx_errmsg);
 *  - a context, and every object made with it, is used by one thread at a
 *    time; only eo_ctx_cancel() may be called from another thread;
 *  - strings and buffers the library hands out are released with eo_free().
 */
#ifndef EOPROC_CORE_H
#define EOPROC_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define EO_API __declspec(dllimport)
#elif defined(__GNUC__)
#define EO_API __attribute__((visibility("default")))
#else
#define EO_API
#endif

#if defined(__GNUC__)
#define EO_DEPRECATED __attribute__((deprecated))
#else
#define EO_DEPRECATED
#endif

/** @since 1.0 */
#define EO_VERSION_MAJOR 1
#define EO_VERSION_MINOR 0
#define EO_VERSION_PATCH 0
#define EO_VERSION_NUMBER (EO_VERSION_MAJOR * 10000 + EO_VERSION_MINOR * 100 + EO_VERSION_PATCH)
#define EO_VERSION_STRING "1.0.0"
#define EO_AT_LEAST_VERSION(major, minor, patch)                                                   \
    (EO_VERSION_NUMBER >= 10000 * (major) + 100 * (minor) + (patch))

/** Version of the library actually loaded (compare with EO_VERSION_NUMBER). @since 1.0 */
EO_API int eo_version(void);
/** "1.0.0" @since 1.0 */
EO_API const char *eo_version_string(void);
/** JSON object: version, dependency versions (GDAL, GEOS, PROJ, ...), SIMD path.
 *  Static storage; do not free. @since 1.0 */
EO_API const char *eo_build_info(void);

/* ------------------------------------------------------------------------ */
/* Status codes. The category is the low byte, a detail may sit above it.    */
/* Numbers never change once released. eo_status_id() gives a stable dotted  */
/* id for servers to pass on to their clients.                               */
/* ------------------------------------------------------------------------ */
typedef int eo_status;

#define EO_OK 0
#define EO_E_ARG 1                                        /* arg.Invalid */
#define EO_E_NOMEM 2                                      /* memory.Exhausted */
#define EO_E_IO 3                                         /* io.Error */
#define EO_E_IO_READ (EO_E_IO | (1 << 8))                 /* io.Read */
#define EO_E_IO_WRITE (EO_E_IO | (2 << 8))                /* io.Write */
#define EO_E_IO_NOT_FOUND (EO_E_IO | (3 << 8))            /* io.NotFound */
#define EO_E_GEOMETRY 4                                   /* geometry.Invalid */
#define EO_E_SOURCE 5                                     /* source.Invalid */
#define EO_E_NODATA_IN_AOI (EO_E_SOURCE | (1 << 8))       /* source.NoDataInAOI */
#define EO_E_PIXEL_SIZE_TOO_HIGH (EO_E_SOURCE | (2 << 8)) /* source.PixelSizeTooHigh */
#define EO_E_SOURCE_MISMATCH (EO_E_SOURCE | (3 << 8))     /* source.Mismatch */
#define EO_E_LIMIT 6                                      /* limit.Exceeded */
#define EO_E_AOI_TOO_LARGE (EO_E_LIMIT | (1 << 8))        /* aoi.TooLarge */
#define EO_E_CRS 7                                        /* crs.Invalid */
#define EO_E_CRS_TRANSFORM (EO_E_CRS | (1 << 8))          /* crs.Transform */
#define EO_E_CRS_MISSING (EO_E_CRS | (2 << 8))            /* crs.Missing */
#define EO_E_MODEL 8                                      /* model.Invalid */
#define EO_E_MODEL_UNSUPPORTED_OP (EO_E_MODEL | (1 << 8)) /* model.UnsupportedOp */
#define EO_E_OP_UNKNOWN 9                                 /* op.Unknown */
#define EO_E_PARAM (EO_E_OP_UNKNOWN | (1 << 8))           /* param.Invalid */
#define EO_E_INDEX 10                                     /* index.Invalid */
#define EO_E_INDEX_BAND_MISSING (EO_E_INDEX | (1 << 8))   /* index.BandMissing */
#define EO_E_EXPR_SYNTAX (EO_E_INDEX | (2 << 8))          /* expr.Syntax */
#define EO_E_INDEX_BAND_AMBIGUOUS (EO_E_INDEX | (3 << 8)) /* index.BandAmbiguous */
#define EO_E_CANCELLED 11                                 /* cancelled */
#define EO_E_STATE 12                                     /* state.Invalid */
#define EO_E_UNSUPPORTED 13                               /* unsupported */
#define EO_E_INTERNAL 14                                  /* internal */

#define EO_STATUS_CATEGORY(st) ((st)&0xff)

/** Stable dotted id of a status ("geometry.Invalid"); "unknown" for an
 *  unknown code. Static storage. @since 1.0 */
EO_API const char *eo_status_id(eo_status st);
/** Short English description of a status. Static storage. @since 1.0 */
EO_API const char *eo_status_str(eo_status st);

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */
/** Release a string or buffer the library handed out. Accepts NULL. @since 1.0 */
EO_API void eo_free(void *p);

/* ------------------------------------------------------------------------ */
/* Context                                                                   */
/* ------------------------------------------------------------------------ */
typedef struct eo_ctx eo_ctx;

#define EO_LOG_DEBUG 10
#define EO_LOG_INFO 20
#define EO_LOG_WARN 30
#define EO_LOG_ERROR 40

/** Log sink: level is one of EO_LOG_*; msg is valid during the call only.
 *  Called from the thread that called into the library (worker messages
 *  are serialized and forwarded). */
typedef void (*eo_log_fn)(void *user, int level, const char *msg);

/** Progress sink: fraction in [0, 1] of the current call, stage a short
 *  label ("read", "write", ...). Return non-zero to stop the work: the call
 *  then fails with EO_E_CANCELLED. Called only from the calling thread. */
typedef int (*eo_progress_fn)(void *user, double fraction, const char *stage);

/** New context: GDAL drivers are registered once per process on first use.
 *  *out is NULL on failure (EO_E_NOMEM). @since 1.0 */
EO_API eo_status eo_ctx_new(eo_ctx **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_ctx_free(eo_ctx *ctx);

/** Worker threads for parallel work; 0 = one per online CPU (the default).
 *  @since 1.0 */
EO_API eo_status eo_ctx_set_threads(eo_ctx *ctx, int32_t threads);
/** The thread count that work will actually use (0 resolved). @since 1.0 */
EO_API int32_t eo_ctx_get_threads(const eo_ctx *ctx);

/** Install a log sink; messages below min_level are dropped. fn NULL
 *  removes it. @since 1.0 */
EO_API void eo_ctx_set_log(eo_ctx *ctx, eo_log_fn fn, void *user, int32_t min_level);
/** Install a progress sink; NULL removes it. @since 1.0 */
EO_API void eo_ctx_set_progress(eo_ctx *ctx, eo_progress_fn fn, void *user);

/** Ask running work on this context to stop at its next check (once per
 *  window or tile). Safe to call from any thread. The flag stays set, and
 *  every later call fails with EO_E_CANCELLED, until eo_ctx_reset_cancel().
 *  @since 1.0 */
EO_API void eo_ctx_cancel(eo_ctx *ctx);
/** @since 1.0 */
EO_API void eo_ctx_reset_cancel(eo_ctx *ctx);

/** Status of the last failed call on this context (EO_OK if none since the
 *  last eo_ctx_clear_error). @since 1.0 */
EO_API eo_status eo_ctx_status(const eo_ctx *ctx);
/** Message of the last failure: names the input and the problem. Never
 *  NULL; "" when there is none. Valid until the next call on ctx. @since 1.0 */
EO_API const char *eo_ctx_errmsg(const eo_ctx *ctx);
/** @since 1.0 */
EO_API void eo_ctx_clear_error(eo_ctx *ctx);

/* Limits guarding against absurd or hostile input. */
#define EO_LIMIT_MAX_PIXELS 1   /* pixels in one in-memory raster; default 2^31 */
#define EO_LIMIT_MAX_BYTES 2    /* bytes of one allocation; default 8 GiB */
#define EO_LIMIT_AOI_VERTICES 3 /* vertices in one AOI; default 50,000 */
#define EO_LIMIT_JSON_BYTES 4   /* bytes of JSON input; default 64 MiB */
/* bytes of one AOI's GeoJSON; default 64 MiB. A file is read in pieces and
 * refused (aoi.TooLarge) as soon as it passes the limit. @since 1.0 */
#define EO_LIMIT_AOI_BYTES 5
/* features in one AOI (a FeatureCollection's); default 10,000, counted on
 * the text as it is read, before any JSON tree. @since 1.0 */
#define EO_LIMIT_AOI_FEATURES 6

/** Set a limit (value > 0). @since 1.0 */
EO_API eo_status eo_ctx_set_limit(eo_ctx *ctx, int32_t which, int64_t value);
/** Current value of a limit, or -1 for an unknown one. @since 1.0 */
EO_API int64_t eo_ctx_get_limit(const eo_ctx *ctx, int32_t which);

/* ------------------------------------------------------------------------ */
/* Plain value types. These never grow.                                      */
/* ------------------------------------------------------------------------ */
/** A pixel window: column, row, width, height. */
typedef struct eo_window {
    int64_t x;
    int64_t y;
    int64_t width;
    int64_t height;
} eo_window;

/** An axis-aligned box in some CRS (x = easting / longitude). */
typedef struct eo_bbox {
    double xmin;
    double ymin;
    double xmax;
    double ymax;
} eo_bbox;

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_CORE_H */
