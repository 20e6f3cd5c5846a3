/* cog_overview.c - one overview row from the level above (each level is
 * made from the previous one, as GDAL's COG driver does), with GDAL's
 * overview arithmetic: nearest takes source pixel floor(0.5 + i * ratio);
 * average weighs the source pixels a destination pixel covers by the
 * fraction covered (a 2 x 2 block of 8/16-bit integers is (a+b+c+d+2)/4),
 * skipping nodata; mode takes the most frequent valid value of the block;
 * bilinear, cubic and lanczos convolve with GDAL's kernels stretched by the
 * reduction factor (so that they low-pass filter), normalized by the sum of
 * the weights that count. */
#include "cog_int.h"

#include <math.h>
#include <string.h>

eoi_cog_span *eoi_cog_spans(eo_ctx *ctx, int64_t src, int64_t n) {
    eoi_cog_span *s = eoi_calloc(ctx, (size_t)n, sizeof *s);
    if (!s)
        return NULL;
    double r = (double)src / (double)n;
    for (int64_t i = 0; i < n; i++) {
        double f0 = (double)i * r, f1 = (double)(i + 1) * r;
        int64_t i0 = (int64_t)(f0 + 1e-8), i1 = (int64_t)ceil(f1 - 1e-8);
        if (i1 == i0)
            i1++;
        if (i1 > src)
            i1 = src;
        s[i].i0 = (int32_t)i0;
        s[i].i1 = (int32_t)i1;
        s[i].w0 = i1 == i0 + 1 ? 1.0 : 1.0 - (f0 - (double)i0);
        s[i].w1 = 1.0 - ((double)i1 - f1);
    }
    return s;
}

/* round half away from zero and clamp into an integer type */
static void store_rounded(void *out, eo_dtype dt, int64_t i, double v) {
    eoi_dtype_store(out, dt, (size_t)i, v);
}

/* the value GDAL puts instead of a computed value equal to nodata */
static double replacement(eo_dtype dt, double nd) {
    if (eoi_dtype_is_float(dt))
        return dt == EO_DT_F32 ? (double)nextafterf((float)nd, INFINITY) : nextafter(nd, INFINITY);
    double hi = dt == EO_DT_U8    ? 255
                : dt == EO_DT_I8  ? 127
                : dt == EO_DT_U16 ? 65535
                : dt == EO_DT_I16 ? 32767
                                  : 4294967295.0;
    return nd >= hi ? nd - 1 : nd + 1;
}

static void nearest_row(const eoi_cog_resampler *rs, int64_t j, const uint8_t *const *rows,
                        int32_t y0, void *out) {
    double rx = (double)rs->sw / (double)rs->dw, ry = (double)rs->sh / (double)rs->dh;
    int64_t sy = (int64_t)(0.5 + (double)j * ry);
    if (sy >= rs->sh)
        sy = rs->sh - 1;
    const uint8_t *row = rows[sy - y0];
    size_t es = eo_dtype_size(rs->dt);
    uint8_t *o = out;
    for (int64_t i = 0; i < rs->dw; i++) {
        int64_t sx = (int64_t)(0.5 + (double)i * rx);
        if (sx >= rs->sw)
            sx = rs->sw - 1;
        memcpy(o + (size_t)i * es, row + (size_t)sx * es, es);
    }
}

/* 2 x 2 blocks without nodata: GDAL's fast path */
static void average2_row(const eoi_cog_resampler *rs, const uint8_t *r0, const uint8_t *r1,
                         void *out) {
    int64_t n = rs->dw;
    int64_t x0 = rs->xs[0].i0;
    switch (rs->dt) {
    case EO_DT_U8: {
        const uint8_t *a = r0 + x0, *b = r1 + x0;
        uint8_t *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = (uint8_t)((a[2 * i] + a[2 * i + 1] + b[2 * i] + b[2 * i + 1] + 2) >> 2);
        break;
    }
    case EO_DT_U16: {
        const uint16_t *a = (const uint16_t *)r0 + x0, *b = (const uint16_t *)r1 + x0;
        uint16_t *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] =
                (uint16_t)(((uint32_t)a[2 * i] + a[2 * i + 1] + b[2 * i] + b[2 * i + 1] + 2) >> 2);
        break;
    }
    case EO_DT_F32: {
        const float *a = (const float *)r0 + x0, *b = (const float *)r1 + x0;
        float *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = 0.25f * (a[2 * i] + a[2 * i + 1] + b[2 * i] + b[2 * i + 1]);
        break;
    }
    default: {
        const double *a = (const double *)r0 + x0, *b = (const double *)r1 + x0;
        double *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = 0.25 * (a[2 * i] + a[2 * i + 1] + b[2 * i] + b[2 * i + 1]);
        break;
    }
    }
}

static void average_row(const eoi_cog_resampler *rs, const eoi_cog_span *ys,
                        const uint8_t *const *rows, const uint8_t *const *mask, void *out) {
    bool is_float = eoi_dtype_is_float(rs->dt);
    bool fast = !rs->has_nodata && !mask && rs->fast2 && ys->i1 == ys->i0 + 2 &&
                (rs->dt == EO_DT_U8 || rs->dt == EO_DT_U16 || is_float);
    if (fast) {
        average2_row(rs, rows[0], rows[1], out);
        return;
    }
    for (int64_t i = 0; i < rs->dw; i++) {
        const eoi_cog_span *xs = &rs->xs[i];
        double total = 0, weight = 0;
        int64_t count = 0;
        for (int32_t y = ys->i0; y < ys->i1; y++) {
            double wy = y == ys->i0 ? ys->w0 : y + 1 == ys->i1 ? ys->w1 : 1.0;
            const uint8_t *row = rows[y - ys->i0];
            double tl = 0, wl = 0;
            for (int32_t x = xs->i0; x < xs->i1; x++) {
                double v = eoi_dtype_load(row, rs->dt, (size_t)x);
                if (rs->has_nodata && !eoi_cog_valid(v, is_float, true, rs->nodata))
                    continue;
                if (mask && eoi_dtype_load(mask[y - ys->i0], rs->dt, (size_t)x) == 0)
                    continue;
                double wx = x == xs->i0 ? xs->w0 : x + 1 == xs->i1 ? xs->w1 : 1.0;
                tl += v * wx;
                wl += wx;
                count++;
            }
            total += tl * wy;
            weight += wl * wy;
        }
        if (count == 0) {
            eoi_dtype_store(out, rs->dt, (size_t)i, rs->nodata);
            continue;
        }
        double v = total / weight;
        if (rs->dt == EO_DT_U8 || rs->dt == EO_DT_U16)
            v = floor(v + 0.5);
        else if (rs->dt == EO_DT_F32)
            v = (double)(float)v;
        else if (!is_float)
            v = round(v);
        if (rs->has_nodata && v == rs->nodata)
            v = replacement(rs->dt, rs->nodata);
        store_rounded(out, rs->dt, i, v);
    }
}

/* most frequent valid value of the block, as GDAL counts it: scanning the
 * block row by row, the leader changes when a value's count passes the
 * leader's (so of tied values, the first to reach the count wins) */
static void mode_row(const eoi_cog_resampler *rs, const eoi_cog_span *ys,
                     const uint8_t *const *rows, const uint8_t *const *mask, void *out) {
    bool is_float = eoi_dtype_is_float(rs->dt);
    if (rs->dt == EO_DT_U8)
        mask = NULL; /* GDAL's byte path looks at nodata only */
    double vals[64];
    int counts[64];
    for (int64_t i = 0; i < rs->dw; i++) {
        const eoi_cog_span *xs = &rs->xs[i];
        int nv = 0, lead = -1, lead_count = 0;
        for (int32_t y = ys->i0; y < ys->i1; y++)
            for (int32_t x = xs->i0; x < xs->i1; x++) {
                double v = eoi_dtype_load(rows[y - ys->i0], rs->dt, (size_t)x);
                if (!eoi_cog_valid(v, is_float, rs->has_nodata, rs->nodata))
                    continue;
                if (mask && eoi_dtype_load(mask[y - ys->i0], rs->dt, (size_t)x) == 0)
                    continue;
                int k = 0;
                while (k < nv && !(vals[k] == v || (isnan(vals[k]) && isnan(v))))
                    k++;
                if (k == nv) {
                    if (nv == 64)
                        continue;
                    vals[nv] = v;
                    counts[nv++] = 0;
                }
                if (++counts[k] > lead_count) {
                    lead = k;
                    lead_count = counts[k];
                }
            }
        store_rounded(out, rs->dt, i, lead >= 0 ? vals[lead] : rs->has_nodata ? rs->nodata : 0);
    }
}

/* ---- convolutions ---------------------------------------------------- */

int32_t eoi_cog_kernel_radius(int32_t method) {
    return method == EO_RESAMPLE_BILINEAR  ? 1
           : method == EO_RESAMPLE_CUBIC   ? 2
           : method == EO_RESAMPLE_LANCZOS ? 3
                                           : 0;
}

/* the kernels GDAL names bilinear (triangle), cubic (Keys, a = -0.5) and
 * lanczos (3 lobes) */
static double kernel(int32_t method, double x) {
    double a = fabs(x);
    if (method == EO_RESAMPLE_BILINEAR)
        return a < 1 ? 1 - a : 0;
    if (method == EO_RESAMPLE_CUBIC) {
        if (a <= 1)
            return (1.5 * a - 2.5) * a * a + 1;
        return a < 2 ? ((-0.5 * a + 2.5) * a - 4) * a + 2 : 0;
    }
    if (a == 0)
        return 1;
    if (a >= 3)
        return 0;
    double px = 3.14159265358979323846 * x;
    return 3 * sin(px) * sin(px / 3) / (px * px);
}

eoi_cog_span *eoi_cog_conv_spans(eo_ctx *ctx, int64_t src, int64_t n, int32_t method,
                                 double **weights) {
    *weights = NULL;
    eoi_cog_span *s = eoi_calloc(ctx, (size_t)n, sizeof *s);
    double *wt = eoi_calloc(ctx, (size_t)n * EOI_COG_MAX_TAPS, sizeof *wt);
    if (!s || !wt) {
        eoi_free(s);
        eoi_free(wt);
        return NULL;
    }
    /* the kernel is stretched by the reduction so that it averages the
     * pixels it skips: scale = n / src, radius = r / scale */
    double ratio = (double)src / (double)n, scale = ratio > 1 ? 1 / ratio : 1;
    double radius = eoi_cog_kernel_radius(method) / scale;
    for (int64_t i = 0; i < n; i++) {
        double c = ((double)i + 0.5) * ratio;
        int64_t i0 = (int64_t)floor(c - radius + 0.5), i1 = (int64_t)(c + radius + 0.5);
        if (i0 < 0)
            i0 = 0;
        if (i1 > src)
            i1 = src;
        if (i1 - i0 > EOI_COG_MAX_TAPS) { /* never for halving levels: keep the centre */
            int64_t mid = (int64_t)c;
            i0 = mid - EOI_COG_MAX_TAPS / 2 > 0 ? mid - EOI_COG_MAX_TAPS / 2 : 0;
            i1 = i0 + EOI_COG_MAX_TAPS < src ? i0 + EOI_COG_MAX_TAPS : src;
        }
        s[i].i0 = (int32_t)i0;
        s[i].i1 = (int32_t)i1;
        s[i].w0 = s[i].w1 = 1;
        for (int64_t k = i0; k < i1; k++)
            wt[i * EOI_COG_MAX_TAPS + (k - i0)] = kernel(method, scale * ((double)k - c + 0.5));
    }
    *weights = wt;
    return s;
}

/* the value of a convolution as the destination type holds it */
static void conv_store(const eoi_cog_resampler *rs, void *out, int64_t i, double v) {
    if (rs->dt == EO_DT_F32)
        v = (double)(float)v;
    if (rs->has_nodata && v == rs->nodata)
        v = replacement(rs->dt, rs->nodata);
    store_rounded(out, rs->dt, i, v);
}

/* Without nodata nor mask every weight counts: filter the rows vertically
 * into one line of doubles, then that line horizontally, with the weights
 * normalized to sum 1 (separable: the same value as GDAL's horizontal
 * first pass, up to rounding). */
static bool conv_row_dense(const eoi_cog_resampler *rs, const eoi_cog_span *ys, int64_t j,
                           const uint8_t *const *rows, void *out) {
    int64_t x0 = rs->xs[0].i0, x1 = rs->xs[rs->dw - 1].i1;
    double *line = eoi_malloc(NULL, (size_t)(x1 - x0) * sizeof *line);
    if (!line)
        return false;
    const double *wy = rs->yw + j * EOI_COG_MAX_TAPS;
    int32_t ny = ys->i1 - ys->i0;
    double sy = 0;
    for (int32_t k = 0; k < ny; k++)
        sy += wy[k];
    double iy = sy != 0 ? 1 / sy : 0;
    for (int64_t x = x0; x < x1; x++)
        line[x - x0] = 0;
    for (int32_t k = 0; k < ny; k++) {
        double wk = wy[k] * iy;
        if (wk == 0)
            continue;
        for (int64_t x = x0; x < x1; x++)
            line[x - x0] += wk * eoi_dtype_load(rows[k], rs->dt, (size_t)x);
    }
    for (int64_t i = 0; i < rs->dw; i++) {
        const eoi_cog_span *xs = &rs->xs[i];
        const double *wx = rs->xw + i * EOI_COG_MAX_TAPS;
        double v = 0, sx = 0;
        for (int32_t x = xs->i0; x < xs->i1; x++) {
            v += wx[x - xs->i0] * line[x - x0];
            sx += wx[x - xs->i0];
        }
        conv_store(rs, out, i, sx != 0 ? v / sx : v);
    }
    eoi_free(line);
    return true;
}

/* With nodata or a mask, as GDAL does it: each row is filtered
 * horizontally over its valid pixels (weights renormalized over them; a
 * row with none is invalid), then the rows vertically over the valid ones. */
static bool conv_row_masked(const eoi_cog_resampler *rs, const eoi_cog_span *ys, int64_t j,
                            const uint8_t *const *rows, const uint8_t *const *mask, void *out) {
    bool is_float = eoi_dtype_is_float(rs->dt);
    int32_t ny = ys->i1 - ys->i0;
    const double *wy = rs->yw + j * EOI_COG_MAX_TAPS;
    for (int64_t i = 0; i < rs->dw; i++) {
        const eoi_cog_span *xs = &rs->xs[i];
        const double *wx = rs->xw + i * EOI_COG_MAX_TAPS;
        double v = 0, sw = 0;
        for (int32_t k = 0; k < ny; k++) {
            double h = 0, sh = 0;
            for (int32_t x = xs->i0; x < xs->i1; x++) {
                double s = eoi_dtype_load(rows[k], rs->dt, (size_t)x);
                if (rs->has_nodata && !eoi_cog_valid(s, is_float, true, rs->nodata))
                    continue;
                if (is_float && isnan(s))
                    continue;
                if (mask && eoi_dtype_load(mask[k], rs->dt, (size_t)x) == 0)
                    continue;
                h += wx[x - xs->i0] * s;
                sh += wx[x - xs->i0];
            }
            if (sh > 0) {
                v += wy[k] * (h / sh);
                sw += wy[k];
            }
        }
        if (sw > 0)
            conv_store(rs, out, i, v / sw);
        else
            eoi_dtype_store(out, rs->dt, (size_t)i, rs->has_nodata ? rs->nodata : 0);
    }
    return true;
}

bool eoi_cog_resample_row(const eoi_cog_resampler *rs, const eoi_cog_span *ys, int64_t j,
                          const uint8_t *const *rows, const uint8_t *const *mask, void *out) {
    if (rs->method == EO_RESAMPLE_NEAREST)
        nearest_row(rs, j, rows, ys->i0, out);
    else if (rs->method == EO_RESAMPLE_MODE)
        mode_row(rs, ys, rows, mask, out);
    else if (rs->method == EO_RESAMPLE_AVERAGE)
        average_row(rs, ys, rows, mask, out);
    else if (rs->has_nodata || mask)
        return conv_row_masked(rs, ys, j, rows, mask, out);
    else
        return conv_row_dense(rs, ys, j, rows, out);
    return true;
}

void eoi_cog_mask_row(const eoi_cog_resampler *rs, const eoi_cog_span *ys, int64_t j,
                      const uint8_t *const *rows, void *out) {
    if (rs->method == EO_RESAMPLE_NEAREST) {
        nearest_row(rs, j, rows, ys->i0, out);
        return;
    }
    const double *wy = rs->yw ? rs->yw + j * EOI_COG_MAX_TAPS : NULL;
    for (int64_t i = 0; i < rs->dw; i++) {
        const eoi_cog_span *xs = &rs->xs[i];
        const double *wx = rs->xw ? rs->xw + i * EOI_COG_MAX_TAPS : NULL;
        bool any = false;
        for (int32_t y = ys->i0; y < ys->i1 && !any; y++) {
            if (wy && wy[y - ys->i0] <= 0)
                continue;
            for (int32_t x = xs->i0; x < xs->i1 && !any; x++)
                any = (!wx || wx[x - xs->i0] > 0) &&
                      eoi_dtype_load(rows[y - ys->i0], rs->dt, (size_t)x) != 0;
        }
        eoi_dtype_store(out, rs->dt, (size_t)i, any ? 255 : 0);
    }
}
