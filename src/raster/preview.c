/* preview.c - thumbnails: the whole raster read from its overviews at the
 * preview's size, each band contrast-stretched to 0..255 (from embedded
 * statistics, or the 2nd-98th percentiles of the preview's own pixels), and
 * an alpha band for nodata. */
#include "raster_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct eo_preview_opts {
    int32_t size;
    int32_t bands[3];
    int32_t band_count; /* 0 = default */
    double low_pct, high_pct;
    bool use_stats, stretch_8bit;
};

eo_status eo_preview_opts_new(eo_ctx *ctx, eo_preview_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    if (!(*out = eoi_calloc(ctx, 1, sizeof **out)))
        return EO_E_NOMEM;
    (*out)->size = 1024;
    (*out)->low_pct = 2;
    (*out)->high_pct = 98;
    (*out)->use_stats = true;
    return EO_OK;
}

void eo_preview_opts_free(eo_preview_opts *o) { eoi_free(o); }

eo_status eo_preview_opts_set_size(eo_ctx *ctx, eo_preview_opts *o, int32_t size) {
    EOI_CHECK_ARG(ctx, o);
    if (size < 1 || size > 16384)
        return eoi_fail(ctx, EO_E_ARG, "preview size %d is outside 1..16384", (int)size);
    o->size = size;
    return EO_OK;
}

eo_status eo_preview_opts_set_bands(eo_ctx *ctx, eo_preview_opts *o, const int32_t *bands,
                                    int32_t count) {
    EOI_CHECK_ARG(ctx, o && bands);
    if (count != 1 && count != 3)
        return eoi_fail(ctx, EO_E_ARG, "a preview shows 1 or 3 bands, got %d", (int)count);
    EOI_TRY_RET(eoi_bands_check(ctx, bands, count));
    memcpy(o->bands, bands, (size_t)count * sizeof *bands);
    o->band_count = count;
    return EO_OK;
}

eo_status eo_preview_opts_set_stretch(eo_ctx *ctx, eo_preview_opts *o, double low_pct,
                                      double high_pct, int32_t use_stats, int32_t stretch_8bit) {
    EOI_CHECK_ARG(ctx, o);
    if (!(low_pct >= 0 && low_pct < high_pct && high_pct <= 100))
        return eoi_fail(ctx, EO_E_ARG, "percentiles %g and %g: need 0 <= low < high <= 100",
                        low_pct, high_pct);
    o->low_pct = low_pct;
    o->high_pct = high_pct;
    o->use_stats = use_stats != 0;
    o->stretch_8bit = stretch_8bit != 0;
    return EO_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile of the n sorted values: v[floor(p / 100 * (n - 1))]
 * (numpy's method "lower"). */
static double percentile(const double *sorted, size_t n, double p) {
    return sorted[(size_t)floor(p / 100.0 * (double)(n - 1))];
}

/* Low and high of band b: embedded statistics, else percentiles of the
 * valid pixels of v (n values, valid[i] != 0). */
static eo_status stretch_range(eo_ctx *ctx, double *lo, double *hi, eo_dataset *ds, int32_t band,
                               const eo_preview_opts *o, const double *v, const uint8_t *valid,
                               size_t n) {
    double mn, mx, mean, sd;
    GDALRasterBandH gb = GDALGetRasterBand(ds->h, band);
    if (o->use_stats && GDALGetRasterStatistics(gb, TRUE, FALSE, &mn, &mx, &mean, &sd) == CE_None &&
        mx > mn) {
        *lo = mn;
        *hi = mx;
        return EO_OK;
    }
    size_t k = 0;
    double *tmp = eoi_malloc(ctx, (n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return EO_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (valid[i])
            tmp[k++] = v[i];
    if (k == 0) {
        *lo = 0;
        *hi = 1;
    } else {
        qsort(tmp, k, sizeof *tmp, cmp_double);
        *lo = percentile(tmp, k, o->low_pct);
        *hi = percentile(tmp, k, o->high_pct);
    }
    eoi_free(tmp);
    return EO_OK;
}

static eo_status preview(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, const eo_preview_opts *o) {
    int32_t bands[3], nb;
    if (o->band_count) {
        nb = o->band_count;
        memcpy(bands, o->bands, sizeof bands);
    } else {
        nb = ds->band_count >= 3 ? 3 : 1;
        for (int32_t i = 0; i < nb; i++)
            bands[i] = i + 1;
    }
    double scale = (double)o->size / (double)(ds->width > ds->height ? ds->width : ds->height);
    if (scale > 1)
        scale = 1;
    int64_t ow = (int64_t)floor((double)ds->width * scale + 0.5);
    int64_t oh = (int64_t)floor((double)ds->height * scale + 0.5);
    ow = ow < 1 ? 1 : ow;
    oh = oh < 1 ? 1 : oh;
    eo_read_opts *ro = NULL;
    eo_raster *src = NULL, *r = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_read_opts_new(ctx, &ro));
    EOI_TRY(st, eo_read_opts_set_bands(ctx, ro, bands, nb));
    EOI_TRY(st, eo_read_opts_set_dtype(ctx, ro, EO_DT_F64));
    EOI_TRY(st, eo_read_opts_set_out_size(ctx, ro, ow, oh));
    EOI_TRY(st, eo_read_opts_set_resampling(ctx, ro, EO_RESAMPLE_AVERAGE));
    EOI_TRY(st, eo_dataset_read(ctx, &src, ds, NULL, ro));
    EOI_TRY(st, eo_raster_new(ctx, &r, ow, oh, nb + 1, EO_DT_U8));
    size_t n = (size_t)ow * (size_t)oh;
    const double *v = src->data;
    uint8_t *px = r->data, *alpha = px + (size_t)nb * n;
    /* valid: every band finite and off nodata */
    for (size_t i = 0; i < n; i++) {
        bool ok = true;
        for (int32_t b = 0; b < nb; b++) {
            double x = v[(size_t)b * n + i];
            ok &= isfinite(x) && !(src->has_nodata && x == src->nodata);
        }
        alpha[i] = ok ? 255 : 0;
    }
    bool eight = true;
    for (int32_t b = 0; b < nb; b++)
        eight &= ds->dtypes[bands[b] - 1] == EO_DT_U8;
    for (int32_t b = 0; b < nb; b++) {
        const double *vb = v + (size_t)b * n;
        double lo = 0, hi = 255;
        eoi_gdal_begin(ctx);
        if (!eight || o->stretch_8bit)
            st = stretch_range(ctx, &lo, &hi, ds, bands[b], o, vb, alpha, n);
        eoi_gdal_end(ctx);
        if (st != EO_OK)
            goto done;
        double k = hi > lo ? 255.0 / (hi - lo) : 0;
        for (size_t i = 0; i < n; i++) {
            double y = alpha[i] ? floor((vb[i] - lo) * k + 0.5) : 0;
            px[(size_t)b * n + i] = (uint8_t)(y < 0 ? 0 : y > 255 ? 255 : y);
        }
    }
    memcpy(r->gt, src->gt, sizeof r->gt);
    r->has_gt = src->has_gt;
    EOI_TRY(st, eoi_raster_set_wkt(ctx, r, src->wkt));
    *out = r;
    r = NULL;
done:
    eo_raster_free(r);
    eo_raster_free(src);
    eo_read_opts_free(ro);
    return st;
}

eo_status eo_preview(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, const eo_preview_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, ds);
    eo_preview_opts dflt = {.size = 1024, .low_pct = 2, .high_pct = 98, .use_stats = true};
    const eo_preview_opts *o = opts ? opts : &dflt;
    for (int32_t i = 0; i < o->band_count; i++)
        if (o->bands[i] > ds->band_count)
            return eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist (%d bands)", ds->path,
                            (int)o->bands[i], (int)ds->band_count);
    return preview(ctx, out, ds, o);
}
