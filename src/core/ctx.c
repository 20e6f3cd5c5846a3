/* ctx.c - the context: errors, log, progress, cancel, threads, limits
 * (making and freeing one: ctx_new.c). */
#include "eoi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int64_t default_limits[EOI_NLIMITS] = {
    0,
    (int64_t)1 << 31,  /* EO_LIMIT_MAX_PIXELS */
    (int64_t)8 << 30,  /* EO_LIMIT_MAX_BYTES */
    50000,             /* EO_LIMIT_AOI_VERTICES */
    (int64_t)64 << 20, /* EO_LIMIT_JSON_BYTES */
    (int64_t)64 << 20, /* EO_LIMIT_AOI_BYTES */
    10000,             /* EO_LIMIT_AOI_FEATURES */
};

eo_status eo_ctx_set_threads(eo_ctx *ctx, int32_t threads) {
    if (!ctx)
        return EO_E_ARG;
    if (threads < 0 || threads > 1024)
        return eoi_fail(ctx, EO_E_ARG, "thread count %d is out of range (0..1024, 0 = all CPUs)",
                        (int)threads);
    ctx->threads = threads;
    return EO_OK;
}

int32_t eoi_threads(const eo_ctx *ctx) {
    if (ctx && ctx->threads > 0)
        return ctx->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int32_t)n);
}

int32_t eo_ctx_get_threads(const eo_ctx *ctx) { return eoi_threads(ctx); }

void eo_ctx_set_log(eo_ctx *ctx, eo_log_fn fn, void *user, int32_t min_level) {
    if (!ctx)
        return;
    ctx->log_fn = fn;
    ctx->log_user = user;
    ctx->log_min = min_level;
}

void eo_ctx_set_progress(eo_ctx *ctx, eo_progress_fn fn, void *user) {
    if (!ctx)
        return;
    ctx->progress_fn = fn;
    ctx->progress_user = user;
}

void eo_ctx_cancel(eo_ctx *ctx) {
    if (ctx)
        atomic_store(&ctx->cancelled, 1);
}

void eo_ctx_reset_cancel(eo_ctx *ctx) {
    if (ctx)
        atomic_store(&ctx->cancelled, 0);
}

eo_status eo_ctx_status(const eo_ctx *ctx) { return ctx ? ctx->status : EO_E_ARG; }

const char *eo_ctx_errmsg(const eo_ctx *ctx) { return ctx ? ctx->msg : "no context"; }

void eo_ctx_clear_error(eo_ctx *ctx) {
    if (!ctx)
        return;
    ctx->status = EO_OK;
    ctx->msg[0] = '\0';
}

eo_status eo_ctx_set_limit(eo_ctx *ctx, int32_t which, int64_t value) {
    if (!ctx)
        return EO_E_ARG;
    if (which < 1 || which >= EOI_NLIMITS)
        return eoi_fail(ctx, EO_E_ARG, "unknown limit %d", (int)which);
    if (value <= 0)
        return eoi_fail(ctx, EO_E_ARG, "limit %d must be positive, got %lld", (int)which,
                        (long long)value);
    ctx->limits[which] = value;
    return EO_OK;
}

int64_t eo_ctx_get_limit(const eo_ctx *ctx, int32_t which) {
    if (which < 1 || which >= EOI_NLIMITS)
        return -1;
    return ctx ? ctx->limits[which] : default_limits[which];
}

int64_t eoi_limit(const eo_ctx *ctx, int which) { return eo_ctx_get_limit(ctx, which); }

eo_status eoi_vfail(eo_ctx *ctx, eo_status st, const char *fmt, va_list ap) {
    if (!ctx)
        return st;
    ctx->status = st;
    vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    /* one line: a message never carries a newline */
    for (char *p = ctx->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (ctx->log_fn && EO_LOG_DEBUG >= ctx->log_min)
        ctx->log_fn(ctx->log_user, EO_LOG_DEBUG, ctx->msg);
    return st;
}

eo_status eoi_fail(eo_ctx *ctx, eo_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    eoi_vfail(ctx, st, fmt, ap);
    va_end(ap);
    return st;
}

void eoi_log(eo_ctx *ctx, int level, const char *fmt, ...) {
    if (!ctx || !ctx->log_fn || level < ctx->log_min)
        return;
    char buf[EOI_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, buf);
}

eo_status eoi_check_cancel(eo_ctx *ctx) {
    if (ctx && atomic_load(&ctx->cancelled))
        return eoi_fail(ctx, EO_E_CANCELLED, "cancelled");
    return EO_OK;
}

eo_status eoi_progress(eo_ctx *ctx, double fraction, const char *stage) {
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    if (ctx && ctx->progress_fn) {
        if (fraction < 0)
            fraction = 0;
        if (fraction > 1)
            fraction = 1;
        if (ctx->progress_fn(ctx->progress_user, fraction, stage ? stage : ""))
            return eoi_fail(ctx, EO_E_CANCELLED, "cancelled by the progress callback during %s",
                            stage ? stage : "work");
    }
    return EO_OK;
}

eo_status eoi_check_raster_size(eo_ctx *ctx, size_t *nbytes, int64_t w, int64_t h, int64_t bands,
                                size_t esize, const char *what) {
    *nbytes = 0;
    if (w <= 0 || h <= 0 || bands <= 0)
        return eoi_fail(ctx, EO_E_ARG, "%s: size %lld x %lld x %lld must be positive", what,
                        (long long)w, (long long)h, (long long)bands);
    int64_t px;
    size_t n;
    if (eoi_mul_i64(&px, w, h) || px > eoi_limit(ctx, EO_LIMIT_MAX_PIXELS))
        return eoi_fail(ctx, EO_E_LIMIT,
                        "%s: %lld x %lld pixels exceed the limit of %lld pixels in memory", what,
                        (long long)w, (long long)h, (long long)eoi_limit(ctx, EO_LIMIT_MAX_PIXELS));
    if (eoi_mul_size3(&n, (size_t)px, (size_t)bands, esize) ||
        n > (size_t)eoi_limit(ctx, EO_LIMIT_MAX_BYTES))
        return eoi_fail(
            ctx, EO_E_LIMIT,
            "%s: %lld x %lld x %lld samples of %zu bytes exceed the limit of %lld bytes", what,
            (long long)w, (long long)h, (long long)bands, esize,
            (long long)eoi_limit(ctx, EO_LIMIT_MAX_BYTES));
    *nbytes = n;
    return EO_OK;
}

eo_status eoi_ctx_take_error(eo_ctx *parent, const eo_ctx *worker) {
    if (!worker || worker->status == EO_OK)
        return parent->status;
    return eoi_fail(parent, worker->status, "%s", worker->msg);
}

eo_status eoi_ctx_take_first(eo_ctx *parent, eo_status st, eo_ctx *const *workers, int32_t n) {
    if (st == EO_OK || st == EO_E_CANCELLED)
        return st;
    for (int32_t w = 0; w < n; w++)
        if (workers[w] && workers[w]->status != EO_OK)
            return eoi_ctx_take_error(parent, workers[w]);
    return st;
}

eo_status eoi_werr_set(eoi_werr *w, eo_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    w->st = st;
    return st;
}

const eoi_werr *eoi_werr_first(const eoi_werr *w, int32_t n) {
    for (int32_t k = 0; w && k < n; k++)
        if (w[k].msg[0])
            return &w[k];
    return NULL;
}

eo_status eoi_werr_take(eo_ctx *ctx, eo_status st, const eoi_werr *w, int32_t n,
                        const char *fallback) {
    if (st == EO_OK || st == EO_E_CANCELLED)
        return st;
    const eoi_werr *e = eoi_werr_first(w, n);
    return eoi_fail(ctx, st, "%s", e ? e->msg : fallback);
}
