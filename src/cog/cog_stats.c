/* cog_stats.c - per-band statistics (count, min, max, mean, standard
 * deviation, valid percentage), accumulated tile by tile with a two-pass
 * mean / squared deviation per tile and merged in tile order, so the
 * result does not depend on the thread count; the GDAL metadata XML. */
#include "cog_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool eoi_cog_valid(double v, bool is_float, bool has_nodata, double nodata) {
    if (is_float && isnan(v))
        return false;
    if (!has_nodata)
        return true;
    return v != nodata;
}

void eoi_cog_stat_merge(eoi_cog_stat *a, const eoi_cog_stat *b) {
    a->total += b->total;
    if (b->n == 0)
        return;
    if (a->n == 0) {
        double total = a->total;
        *a = *b;
        a->total = total;
        return;
    }
    double n = a->n + b->n, d = b->mean - a->mean;
    a->mean += d * b->n / n;
    a->m2 += b->m2 + d * d * a->n * b->n / n;
    a->n = n;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
}

#define STAT_LOOP(T)                                                                               \
    do {                                                                                           \
        const T *p = data;                                                                         \
        for (int64_t y = 0; y < h; y++) {                                                          \
            const T *row = p + (size_t)y * (size_t)stride;                                         \
            for (int64_t x = 0; x < w; x++) {                                                      \
                double v = (double)row[x];                                                         \
                if (check && !eoi_cog_valid(v, is_float, has_nodata, nodata))                      \
                    continue;                                                                      \
                n++;                                                                               \
                sum += v;                                                                          \
                if (v < mn)                                                                        \
                    mn = v;                                                                        \
                if (v > mx)                                                                        \
                    mx = v;                                                                        \
            }                                                                                      \
        }                                                                                          \
        if (n == 0)                                                                                \
            break;                                                                                 \
        mean = sum / n;                                                                            \
        for (int64_t y = 0; y < h; y++) {                                                          \
            const T *row = p + (size_t)y * (size_t)stride;                                         \
            for (int64_t x = 0; x < w; x++) {                                                      \
                double v = (double)row[x];                                                         \
                if (check && !eoi_cog_valid(v, is_float, has_nodata, nodata))                      \
                    continue;                                                                      \
                m2 += (v - mean) * (v - mean);                                                     \
            }                                                                                      \
        }                                                                                          \
    } while (0)

void eoi_cog_stat_block(eoi_cog_stat *s, const void *data, int64_t stride, int64_t w, int64_t h,
                        eo_dtype dt, bool has_nodata, double nodata) {
    bool is_float = eoi_dtype_is_float(dt);
    bool check = is_float || has_nodata;
    double n = 0, sum = 0, mean = 0, m2 = 0, mn = INFINITY, mx = -INFINITY;
    if (dt == EO_DT_U8 || dt == EO_DT_I8) {
        /* bytes: a histogram, then exact sums over its 256 bins */
        uint32_t hist[256] = {0};
        for (int64_t y = 0; y < h; y++) {
            const uint8_t *row = (const uint8_t *)data + (size_t)y * (size_t)stride;
            for (int64_t x = 0; x < w; x++)
                hist[row[x]]++;
        }
        for (int k = 0; k < 256; k++) {
            double v = dt == EO_DT_I8 ? (double)(int8_t)k : (double)k;
            if (!hist[k] || (has_nodata && v == nodata))
                continue;
            n += hist[k];
            sum += v * hist[k];
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        if (n > 0) {
            mean = sum / n;
            for (int k = 0; k < 256; k++) {
                double v = dt == EO_DT_I8 ? (double)(int8_t)k : (double)k;
                if (hist[k] && !(has_nodata && v == nodata))
                    m2 += (v - mean) * (v - mean) * hist[k];
            }
        }
        eoi_cog_stat b = {n, (double)w * (double)h, mean, m2, mn, mx};
        eoi_cog_stat_merge(s, &b);
        return;
    }
    switch (dt) {
    case EO_DT_U16:
        STAT_LOOP(uint16_t);
        break;
    case EO_DT_I16:
        STAT_LOOP(int16_t);
        break;
    case EO_DT_U32:
        STAT_LOOP(uint32_t);
        break;
    case EO_DT_I32:
        STAT_LOOP(int32_t);
        break;
    case EO_DT_U64:
        STAT_LOOP(uint64_t);
        break;
    case EO_DT_I64:
        STAT_LOOP(int64_t);
        break;
    case EO_DT_F32:
        STAT_LOOP(float);
        break;
    default:
        STAT_LOOP(double);
        break;
    }
    eoi_cog_stat b = {n, (double)w * (double)h, mean, m2, mn, mx};
    eoi_cog_stat_merge(s, &b);
}

/* append to a growing string; false on allocation failure */
struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_add(struct sbuf *s, const char *text, size_t n) {
    if (s->failed)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->len + n + 1) * 2;
        char *q = eoi_realloc(NULL, s->p, cap);
        if (!q) {
            s->failed = true;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb_str(struct sbuf *s, const char *text) { sb_add(s, text, strlen(text)); }

static void sb_escaped(struct sbuf *s, const char *text) {
    for (const char *c = text; *c; c++) {
        switch (*c) {
        /* GDAL escapes the value, then the XML writer escapes it again */
        case '&':
            sb_str(s, "&amp;amp;");
            break;
        case '<':
            sb_str(s, "&amp;lt;");
            break;
        case '>':
            sb_str(s, "&amp;gt;");
            break;
        case '"':
            sb_str(s, "&amp;quot;");
            break;
        default:
            sb_add(s, c, 1);
        }
    }
}

static void sb_item(struct sbuf *s, const char *name, int band, const char *role,
                    const char *value) {
    char head[128];
    snprintf(head, sizeof head, "  <Item name=\"%s\" sample=\"%d\"%s%s%s>", name, band,
             role ? " role=\"" : "", role ? role : "", role ? "\"" : "");
    sb_str(s, head);
    sb_escaped(s, value);
    sb_str(s, "</Item>\n");
}

eo_status eoi_cog_metadata_xml(eo_ctx *ctx, char **out, int32_t bands, const eoi_cog_stat *stats,
                               char *const *descriptions, const char *const *items) {
    *out = NULL;
    struct sbuf s = {0};
    bool any = false;
    sb_str(&s, "<GDALMetadata>\n");
    for (int32_t b = 0; b < bands; b++) {
        if (stats && stats[b].n > 0) {
            const eoi_cog_stat *st = &stats[b];
            char v[64];
            double sd = sqrt(st->m2 / st->n);
            snprintf(v, sizeof v, "%.17g", st->max);
            sb_item(&s, "STATISTICS_MAXIMUM", b, NULL, v);
            snprintf(v, sizeof v, "%.17g", st->mean);
            sb_item(&s, "STATISTICS_MEAN", b, NULL, v);
            snprintf(v, sizeof v, "%.17g", st->min);
            sb_item(&s, "STATISTICS_MINIMUM", b, NULL, v);
            snprintf(v, sizeof v, "%.17g", sd);
            sb_item(&s, "STATISTICS_STDDEV", b, NULL, v);
            snprintf(v, sizeof v, "%.17g", 100.0 * st->n / st->total);
            sb_item(&s, "STATISTICS_VALID_PERCENT", b, NULL, v);
            any = true;
        }
        if (descriptions && descriptions[b] && descriptions[b][0]) {
            sb_item(&s, "DESCRIPTION", b, "description", descriptions[b]);
            any = true;
        }
        for (size_t i = 0; b == 0 && items && items[i]; i++) {
            const char *eq = strchr(items[i], '=');
            char name[128];
            if (!eq || eq == items[i] || (size_t)(eq - items[i]) >= sizeof name)
                continue;
            snprintf(name, sizeof name, "%.*s", (int)(eq - items[i]), items[i]);
            sb_item(&s, name, b, NULL, eq + 1);
            any = true;
        }
    }
    sb_str(&s, "</GDALMetadata>");
    if (s.failed) {
        eoi_free(s.p);
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory building the GDAL metadata");
    }
    if (!any) {
        eoi_free(s.p);
        return EO_OK;
    }
    *out = s.p;
    return EO_OK;
}
