/* cog_opts.c - the COG writer's options (eo_cog_opts_*). */
#include "cog_int.h"

#include <string.h>
#include <strings.h>

/* ---- options ----------------------------------------------------------- */

eo_status eo_cog_opts_new(eo_ctx *ctx, eo_cog_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    eo_cog_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    o->compress = EOI_COG_ZSTD;
    o->predictor = EOI_PRED_NONE;
    o->blocksize = 512;
    o->overviews = -1;
    o->resampling = -1;
    o->stats = 1;
    *out = o;
    return EO_OK;
}

void eo_cog_opts_free(eo_cog_opts *o) { eoi_free(o); }

eo_status eoi_cog_opts_assign(eo_ctx *ctx, eo_cog_opts **slot, const eo_cog_opts *src) {
    if (!src) {
        eo_cog_opts_free(*slot);
        *slot = NULL;
        return EO_OK;
    }
    if (!*slot) {
        eo_status st = eo_cog_opts_new(ctx, slot);
        if (st != EO_OK)
            return st;
    }
    **slot = *src;
    return EO_OK;
}

eo_status eo_cog_opts_set_compress(eo_ctx *ctx, eo_cog_opts *o, const char *method) {
    EOI_CHECK_ARG(ctx, o);
    static const struct {
        const char *name;
        int32_t code;
    } m[] = {{"zstd", EOI_COG_ZSTD},
             {"deflate", EOI_COG_DEFLATE},
             {"lzw", EOI_COG_LZW},
             {"none", EOI_COG_NONE}};
    for (size_t i = 0; method && i < sizeof m / sizeof m[0]; i++)
        if (strcasecmp(method, m[i].name) == 0) {
            o->compress = m[i].code;
            return EO_OK;
        }
    return eoi_fail(ctx, EO_E_ARG,
                    "unknown compression '%.100s' (expected zstd, deflate, lzw or none)",
                    method ? method : "(null)");
}

eo_status eo_cog_opts_set_level(eo_ctx *ctx, eo_cog_opts *o, int32_t level) {
    EOI_CHECK_ARG(ctx, o);
    if (level < 0 || level > 22)
        return eoi_fail(ctx, EO_E_ARG, "compression level %d is out of range (0..22)", (int)level);
    o->level = level;
    return EO_OK;
}

eo_status eo_cog_opts_set_predictor(eo_ctx *ctx, eo_cog_opts *o, const char *predictor) {
    EOI_CHECK_ARG(ctx, o);
    if (predictor && (strcasecmp(predictor, "none") == 0 || strcmp(predictor, "1") == 0))
        o->predictor = EOI_PRED_NONE;
    else if (predictor && (strcasecmp(predictor, "horizontal") == 0 || strcmp(predictor, "2") == 0))
        o->predictor = EOI_PRED_HORIZONTAL;
    else if (predictor && (strcasecmp(predictor, "float") == 0 || strcmp(predictor, "3") == 0))
        o->predictor = EOI_PRED_FLOAT;
    else
        return eoi_fail(ctx, EO_E_ARG,
                        "unknown predictor '%.100s' (expected none, horizontal or float)",
                        predictor ? predictor : "(null)");
    return EO_OK;
}

eo_status eo_cog_opts_set_blocksize(eo_ctx *ctx, eo_cog_opts *o, int32_t blocksize) {
    EOI_CHECK_ARG(ctx, o);
    if (blocksize != 256 && blocksize != 512)
        return eoi_fail(ctx, EO_E_ARG, "block size %d is not supported (256 or 512)",
                        (int)blocksize);
    o->blocksize = blocksize;
    return EO_OK;
}

eo_status eo_cog_opts_set_overviews(eo_ctx *ctx, eo_cog_opts *o, int32_t levels) {
    EOI_CHECK_ARG(ctx, o);
    if (levels < -1 || levels > 30)
        return eoi_fail(ctx, EO_E_ARG, "overview levels %d out of range (-1 = auto, 0 = none, N)",
                        (int)levels);
    o->overviews = levels;
    return EO_OK;
}

eo_status eo_cog_opts_set_resampling(eo_ctx *ctx, eo_cog_opts *o, int32_t method) {
    EOI_CHECK_ARG(ctx, o);
    if (method == -1 || eo_resampling_name(method)) {
        o->resampling = method;
        return EO_OK;
    }
    return eoi_fail(ctx, EO_E_ARG, "unknown resampling method %d", (int)method);
}

eo_status eo_cog_opts_set_nodata(eo_ctx *ctx, eo_cog_opts *o, double nodata) {
    EOI_CHECK_ARG(ctx, o);
    o->nodata = nodata;
    o->has_nodata = 1;
    return EO_OK;
}

eo_status eo_cog_opts_set_bigtiff(eo_ctx *ctx, eo_cog_opts *o, const char *mode) {
    EOI_CHECK_ARG(ctx, o);
    if (mode && strcasecmp(mode, "auto") == 0)
        o->bigtiff = EOI_BIGTIFF_AUTO;
    else if (mode && (strcasecmp(mode, "yes") == 0 || strcasecmp(mode, "true") == 0))
        o->bigtiff = EOI_BIGTIFF_YES;
    else if (mode && (strcasecmp(mode, "no") == 0 || strcasecmp(mode, "false") == 0))
        o->bigtiff = EOI_BIGTIFF_NO;
    else
        return eoi_fail(ctx, EO_E_ARG, "bigtiff must be yes, no or auto, not '%.100s'",
                        mode ? mode : "(null)");
    return EO_OK;
}

eo_status eo_cog_opts_set_threads(eo_ctx *ctx, eo_cog_opts *o, int32_t threads) {
    EOI_CHECK_ARG(ctx, o);
    if (threads < 0 || threads > 1024)
        return eoi_fail(ctx, EO_E_ARG, "threads %d out of range (0..1024)", (int)threads);
    o->threads = threads;
    return EO_OK;
}

eo_status eo_cog_opts_set_stats(eo_ctx *ctx, eo_cog_opts *o, int32_t enable) {
    EOI_CHECK_ARG(ctx, o);
    o->stats = enable != 0;
    return EO_OK;
}
