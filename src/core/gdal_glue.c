/* gdal_glue.c - GDAL set-up and error capture. GDAL's default handler
 * prints to stderr; every entry point pushes ours (thread-local) instead. */
#include "eoi.h"

#include <stdio.h>
#include <string.h>
#include <threads.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>

static once_flag gdal_once = ONCE_FLAG_INIT;

static void gdal_register(void) { GDALAllRegister(); }

void eoi_gdal_init(void) { call_once(&gdal_once, gdal_register); }

static void CPL_STDCALL gdal_handler(CPLErr cls, CPLErrorNum num, const char *msg) {
    eo_ctx *ctx = CPLGetErrorHandlerUserData();
    if (!ctx)
        return;
    if (cls >= CE_Failure && ctx->gdal_err != EOI_CPLE_STICKY) {
        snprintf(ctx->gdal_msg, sizeof ctx->gdal_msg, "%s", msg ? msg : "");
        ctx->gdal_err = num ? (int)num : 1;
    }
    int level = cls == CE_Debug ? EO_LOG_DEBUG : cls == CE_Warning ? EO_LOG_WARN : EO_LOG_DEBUG;
    eoi_log(ctx, level, "GDAL: %s", msg ? msg : "");
}

void eoi_gdal_begin(eo_ctx *ctx) {
    eoi_gdal_init();
    ctx->gdal_msg[0] = '\0';
    ctx->gdal_err = 0;
    CPLPushErrorHandlerEx(gdal_handler, ctx);
    /* never write .aux.xml or other side files next to a user's input */
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO");
}

void eoi_gdal_end(eo_ctx *ctx) {
    (void)ctx;
    /* the error went to ctx: leave none on the host's thread, where GDAL's
     * own bindings (osgeo, rasterio) would raise it from their next call */
    CPLErrorReset();
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    CPLPopErrorHandler();
}

const char *eoi_gdal_msg(eo_ctx *ctx, const char *fallback) {
    return ctx->gdal_msg[0] ? ctx->gdal_msg : fallback;
}
