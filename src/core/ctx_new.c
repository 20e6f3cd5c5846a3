/* ctx_new.c - making and freeing a context (and a worker's): its GEOS
 * handle and PROJ context with their messages routed to it, GDAL set up
 * once, the default limits. Above ctx.c (messages, log, limits), crs.c
 * (the transform cache it frees) and gdal_glue.c. */
#include "eoi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void geos_message(const char *msg, void *user) {
    eo_ctx *ctx = user;
    snprintf(ctx->geos_msg, sizeof ctx->geos_msg, "%s", msg);
}

static void proj_message(void *user, int level, const char *msg) {
    (void)level;
    eoi_log(user, EO_LOG_DEBUG, "PROJ: %s", msg ? msg : "");
}

eo_status eo_ctx_new(eo_ctx **out) {
    if (!out)
        return EO_E_ARG;
    *out = NULL;
    eo_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return EO_E_NOMEM;
    for (int32_t i = 1; i < EOI_NLIMITS; i++)
        ctx->limits[i] = eo_ctx_get_limit(NULL, i); /* the defaults */
    ctx->log_min = EO_LOG_INFO;
    atomic_init(&ctx->cancelled, 0);
    ctx->geos = GEOS_init_r();
    ctx->pj = proj_context_create();
    if (!ctx->geos || !ctx->pj) {
        eo_ctx_free(ctx);
        return EO_E_NOMEM;
    }
    GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_message, ctx);
    GEOSContext_setNoticeMessageHandler_r(ctx->geos, geos_message, ctx);
    /* PROJ prints nothing once a log function is set; its messages go to the
     * context's log at debug level. */
    proj_log_func(ctx->pj, ctx, proj_message);
    proj_log_level(ctx->pj, PJ_LOG_ERROR);
    eoi_gdal_init();
    *out = ctx;
    return EO_OK;
}

void eo_ctx_free(eo_ctx *ctx) {
    if (!ctx)
        return;
    if (ctx->geos)
        GEOS_finish_r(ctx->geos);
    eoi_crs_cache_clear(ctx);
    if (ctx->pj)
        proj_context_destroy(ctx->pj);
    free(ctx);
}

eo_status eoi_ctx_worker_new(eo_ctx *parent, eo_ctx **out) {
    eo_status st = eo_ctx_new(out);
    if (st != EO_OK)
        return eoi_fail(parent, st, "cannot make a worker context");
    memcpy((*out)->limits, parent->limits, sizeof parent->limits);
    (*out)->threads = parent->threads;
    (*out)->tile_url_fn = parent->tile_url_fn;
    (*out)->tile_url_user = parent->tile_url_user;
    return EO_OK;
}
