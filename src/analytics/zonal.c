/* zonal.c - zonal statistics: the values of a band or an expression over
 * an AOI, each pixel weighted by its inclusion (0/1 by the centre or
 * all-touched rule, its covered share with exact coverage). Windows of the
 * AOI's bounding box stream through the worker threads; each window gets
 * its own accumulator, merged at the end in the windows' order, so that the
 * result does not depend on the thread count or on which thread took which
 * window (a sum in another order differs in the last bits). Percentiles and the median follow
 * numpy's default (linear) method, generalized to weights; the histogram
 * follows numpy.histogram. */
#include "analytics_int.h"

#include "geom_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eoi_stats_init(eoi_stats *s, bool keep) {
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
    s->keep = keep;
}

void eoi_stats_clear(eoi_stats *s) {
    eoi_free(s->vw);
    s->vw = NULL;
    s->n = s->cap = 0;
}

static bool reserve(eoi_stats *s, size_t more) {
    if (s->n + more <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->n + more)
        cap *= 2;
    eoi_vw *nv = eoi_realloc(NULL, s->vw, cap * sizeof *nv);
    if (!nv)
        return false;
    s->vw = nv;
    s->cap = cap;
    return true;
}

void eoi_stats_add(eoi_stats *s, const float *v, const float *w, size_t n) {
    if (s->keep && !s->failed && !reserve(s, n))
        s->failed = 1;
    for (size_t i = 0; i < n; i++) {
        double wi = w[i];
        if (!(wi > 0))
            continue;
        s->pixels++;
        double x = v[i];
        if (isnan(x)) {
            s->wnodata += wi;
            continue;
        }
        s->wsum += wi;
        s->sum += wi * x;
        s->min = x < s->min ? x : s->min;
        s->max = x > s->max ? x : s->max;
        double d = x - s->mean;
        s->mean += d * wi / s->wsum;
        s->m2 += wi * d * (x - s->mean);
        if (s->keep && !s->failed)
            s->vw[s->n++] = (eoi_vw){v[i], w[i]};
    }
}

eo_status eoi_stats_merge(eo_ctx *ctx, eoi_stats *into, eoi_stats *from) {
    if (from->failed || into->failed)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory keeping the values for percentiles");
    double wa = into->wsum, wb = from->wsum;
    if (wb > 0) {
        double d = from->mean - into->mean, w = wa + wb;
        into->mean += d * wb / w;
        into->m2 += from->m2 + d * d * wa * wb / w;
    }
    into->wsum += from->wsum;
    into->wnodata += from->wnodata;
    into->pixels += from->pixels;
    into->sum += from->sum;
    into->min = fmin(into->min, from->min);
    into->max = fmax(into->max, from->max);
    if (into->keep && from->n) {
        if (!reserve(into, from->n))
            return eoi_fail(ctx, EO_E_NOMEM, "out of memory keeping the values for percentiles");
        memcpy(into->vw + into->n, from->vw, from->n * sizeof *from->vw);
        into->n += from->n;
    }
    return EO_OK;
}

static int cmp_vw(const void *a, const void *b) {
    float x = ((const eoi_vw *)a)->v, y = ((const eoi_vw *)b)->v;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Percentile q (0..100) of the sorted pairs. With unit weights this is
 * numpy's linear method (including its lerp); otherwise value i sits at
 * position (C_i - w_i) / (W - w_n) of [0, 1], C the cumulative weight,
 * which reduces to numpy's positions (i - 1) / (n - 1) for equal weights. */
static double percentile(const eoi_vw *vw, size_t n, const double *cum, bool unit, double q) {
    if (n == 1)
        return vw[0].v;
    double t = q / 100.0;
    if (unit) {
        double idx = t * (double)(n - 1);
        size_t lo = (size_t)floor(idx);
        if (lo >= n - 1)
            return vw[n - 1].v;
        double f = idx - (double)lo, a = vw[lo].v, b = vw[lo + 1].v, d = b - a;
        return f >= 0.5 ? b - d * (1 - f) : a + d * f;
    }
    double W = cum[n - 1], span = W - vw[n - 1].w;
    if (!(span > 0))
        return vw[n - 1].v;
    size_t lo = 0, hi = n - 1; /* largest i with P_i <= t */
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if ((cum[mid] - vw[mid].w) / span <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (lo >= n - 1)
        return vw[n - 1].v;
    double p0 = (cum[lo] - vw[lo].w) / span, p1 = (cum[lo + 1] - vw[lo + 1].w) / span;
    double f = p1 > p0 ? (t - p0) / (p1 - p0) : 0;
    return vw[lo].v + f * ((double)vw[lo + 1].v - vw[lo].v);
}

static json_object *histogram(const eoi_stats *s, const eo_analytics_opts *o) {
    int32_t bins = o->hist_bins;
    double first = o->hist_lo, last = o->hist_hi;
    if (first == last) {
        first = s->min;
        last = s->max;
    }
    if (first == last) { /* numpy widens a degenerate range */
        first -= 0.5;
        last += 0.5;
    }
    double *counts = calloc((size_t)bins, sizeof *counts),
           *edges = malloc(sizeof(double) * ((size_t)bins + 1));
    json_object *h = json_object_new_object();
    if (!counts || !edges) {
        free(counts);
        free(edges);
        json_object_put(h);
        return NULL;
    }
    double step = (last - first) / bins;
    for (int32_t i = 0; i <= bins; i++)
        edges[i] = (double)i * step + first;
    edges[bins] = last;
    double norm = bins / (last - first);
    for (size_t i = 0; i < s->n; i++) {
        double v = s->vw[i].v;
        if (v < first || v > last)
            continue;
        int64_t k = (int64_t)((v - first) * norm);
        if (k >= bins)
            k = bins - 1;
        if (k > 0 && v < edges[k])
            k--;
        else if (k < bins - 1 && v >= edges[k + 1])
            k++;
        counts[k] += s->vw[i].w;
    }
    json_object *je = json_object_new_array(), *jc = json_object_new_array();
    for (int32_t i = 0; i <= bins; i++)
        json_object_array_add(je, eoi_json_double(edges[i]));
    for (int32_t i = 0; i < bins; i++)
        json_object_array_add(jc, eoi_json_double(counts[i]));
    json_object_object_add(h, "edges", je);
    json_object_object_add(h, "counts", jc);
    free(counts);
    free(edges);
    return h;
}

static json_object *num_or_null(double v, bool ok) { return ok ? eoi_json_double(v) : NULL; }

eo_status eoi_stats_json(eo_ctx *ctx, json_object **out, eoi_stats *s, const eo_analytics_opts *o) {
    static const char *const modes[] = {"centre", "all_touched", "exact"};
    int32_t mode = o ? o->coverage : EO_COVERAGE_CENTER;
    bool any = s->wsum > 0;
    json_object *r = json_object_new_object();
    bool weighted = mode == EO_COVERAGE_EXACT;
    json_object_object_add(
        r, "count", weighted ? eoi_json_double(s->wsum) : json_object_new_int64((int64_t)s->wsum));
    json_object_object_add(r, "nodata_count",
                           weighted ? eoi_json_double(s->wnodata)
                                    : json_object_new_int64((int64_t)s->wnodata));
    json_object_object_add(r, "pixels", json_object_new_int64(s->pixels));
    json_object_object_add(r, "min", num_or_null(s->min, any));
    json_object_object_add(r, "max", num_or_null(s->max, any));
    json_object_object_add(r, "mean", num_or_null(s->sum / s->wsum, any));
    json_object_object_add(r, "std", num_or_null(sqrt(fmax(s->m2, 0) / s->wsum), any));
    json_object_object_add(r, "sum", eoi_json_double(s->sum));
    if (s->keep) {
        qsort(s->vw, s->n, sizeof *s->vw, cmp_vw);
        double *cum = eoi_malloc(ctx, (s->n ? s->n : 1) * sizeof *cum);
        if (!cum) {
            json_object_put(r);
            return EO_E_NOMEM;
        }
        bool unit = true;
        double c = 0;
        for (size_t i = 0; i < s->n; i++) {
            c += s->vw[i].w;
            cum[i] = c;
            unit = unit && s->vw[i].w == 1.0f;
        }
        json_object_object_add(
            r, "median", num_or_null(s->n ? percentile(s->vw, s->n, cum, unit, 50) : 0, s->n > 0));
        if (o && o->npercentiles) {
            json_object *p = json_object_new_object();
            for (int32_t i = 0; i < o->npercentiles; i++) {
                char key[32];
                snprintf(key, sizeof key, "%.15g", o->percentiles[i]);
                json_object_object_add(
                    p, key,
                    num_or_null(s->n ? percentile(s->vw, s->n, cum, unit, o->percentiles[i]) : 0,
                                s->n > 0));
            }
            json_object_object_add(r, "percentiles", p);
        }
        eoi_free(cum);
        if (o && o->hist_bins > 0 && any) {
            json_object *h = histogram(s, o);
            if (!h) {
                json_object_put(r);
                return eoi_fail(ctx, EO_E_NOMEM, "out of memory (histogram)");
            }
            json_object_object_add(r, "histogram", h);
        }
    }
    json_object_object_add(r, "coverage", json_object_new_string(modes[mode]));
    *out = r;
    return EO_OK;
}

/* ---- the run ------------------------------------------------------------- */

/* one window's accumulator, keyed by the window's place */
typedef struct zpart {
    int64_t y, x;
    eoi_stats s;
} zpart;

typedef struct zworker {
    zpart *parts;
    size_t nparts, capparts;
    float *scratch, *vals, *wts;
    double *row;
    size_t cap;
} zworker;

typedef struct zjob {
    const eoi_prog *prog;
    const eoi_coverage *cov;
    int32_t mode;
    zworker *w;
} zjob;

static eo_status zonal_cb(void *user, int32_t worker, const eo_window *win, float *const *planes,
                          eoi_werr *err) {
    zjob *j = user;
    zworker *z = &j->w[worker];
    size_t n = (size_t)win->width * (size_t)win->height;
    if (!z->scratch) {
        if (!(z->scratch = eoi_malloc(NULL, eoi_prog_scratch_floats(j->prog) * sizeof(float))))
            goto oom;
        eoi_prog_scratch_init(j->prog, z->scratch);
    }
    if (n > z->cap) {
        eoi_free(z->vals);
        eoi_free(z->wts);
        eoi_free(z->row);
        z->vals = eoi_malloc(NULL, n * sizeof(float));
        z->wts = eoi_malloc(NULL, n * sizeof(float));
        z->row = eoi_malloc(NULL, ((size_t)win->width + 2) * sizeof(double));
        z->cap = z->vals && z->wts && z->row ? n : 0;
        if (!z->cap)
            goto oom;
    }
    if (z->nparts == z->capparts) {
        size_t cap = z->capparts ? 2 * z->capparts : 16;
        zpart *np = eoi_realloc(NULL, z->parts, cap * sizeof *np);
        if (!np)
            goto oom;
        z->parts = np;
        z->capparts = cap;
    }
    zpart *part = &z->parts[z->nparts++];
    part->y = win->y;
    part->x = win->x;
    eoi_stats_init(&part->s, true);
    eoi_prog_eval(j->prog, (const float *const *)planes, n, z->vals, z->scratch);
    eoi_coverage_compute(j->cov, win, j->mode, z->wts, z->row);
    eoi_stats_add(&part->s, z->vals, z->wts, n);
    return EO_OK;
oom:
    return eoi_werr_set(err, EO_E_NOMEM, "out of memory (zonal statistics of %zu pixels)", n);
}

static int cmp_part(const void *a, const void *b) {
    const zpart *p = *(const zpart *const *)a, *q = *(const zpart *const *)b;
    if (p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return (p->x > q->x) - (p->x < q->x);
}

/* Merges every window's accumulator into total in the windows' order. */
static eo_status merge_parts(eo_ctx *ctx, eoi_stats *total, zworker *w, int32_t nw) {
    size_t n = 0;
    for (int32_t k = 0; k < nw; k++)
        n += w[k].nparts;
    if (!n)
        return EO_OK;
    zpart **all = eoi_malloc(ctx, n * sizeof *all);
    if (!all)
        return EO_E_NOMEM;
    n = 0;
    for (int32_t k = 0; k < nw; k++)
        for (size_t i = 0; i < w[k].nparts; i++)
            all[n++] = &w[k].parts[i];
    qsort(all, n, sizeof *all, cmp_part);
    eo_status st = EO_OK;
    for (size_t i = 0; i < n && st == EO_OK; i++) {
        st = eoi_stats_merge(ctx, total, &all[i]->s);
        eoi_stats_clear(&all[i]->s); /* its values are in total now */
    }
    eoi_free(all);
    return st;
}

eo_status eoi_zonal_run(eo_ctx *ctx, json_object **out, eo_dataset *ds, const eoi_prog *prog_in,
                        const eo_geom *aoi, const eo_analytics_opts *opts) {
    eoi_prog prog = *prog_in;
    prog.nodata = NAN; /* nodata stays NaN for the accumulators */
    eoi_coverage *cov = NULL;
    zjob j = {.prog = &prog, .mode = opts ? opts->coverage : EO_COVERAGE_CENTER};
    bool keep = true;
    eoi_stats total;
    eoi_stats_init(&total, keep);
    int32_t nw = 0;
    eo_window win;
    eo_status st = eoi_coverage_new(ctx, &cov, aoi, ds->gt);
    if (st != EO_OK)
        return st;
    j.cov = cov;
    if (eoi_coverage_window(cov, ds->width, ds->height, &win)) {
        nw = eoi_strips_workers(ctx, &win, 64);
        if (!(j.w = eoi_calloc(ctx, (size_t)nw, sizeof *j.w))) {
            st = EO_E_NOMEM;
            goto done;
        }
        eoi_source src = {.path = ds->path,
                          .nbands = prog.ninputs,
                          .bands = prog.bands,
                          .scale = prog.scale,
                          .offset = prog.offset};
        EOI_TRY(st, eoi_strips_run(ctx, &src, 1, &win, 64, zonal_cb, &j, "zonal"));
        EOI_TRY(st, merge_parts(ctx, &total, j.w, nw));
    }
    st = eoi_stats_json(ctx, out, &total, opts);
done:
    for (int32_t k = 0; j.w && k < nw; k++) {
        for (size_t i = 0; i < j.w[k].nparts; i++)
            eoi_stats_clear(&j.w[k].parts[i].s);
        eoi_free(j.w[k].parts);
        eoi_free(j.w[k].scratch);
        eoi_free(j.w[k].vals);
        eoi_free(j.w[k].wts);
        eoi_free(j.w[k].row);
    }
    eoi_free(j.w);
    eoi_stats_clear(&total);
    eoi_coverage_free(cov);
    return st;
}

eo_status eo_zonal_stats(eo_ctx *ctx, char **out_json, eo_dataset *ds, const eo_geom *aoi,
                         const eo_expr *e, const eo_analytics_opts *opts) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, ds && ds->h && aoi);
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    eo_geom *g = NULL;
    json_object *r = NULL;
    eoi_prog prog = {0};
    EOI_TRY(st, eoi_aoi_to_raster_crs(ctx, &g, aoi, ds));
    if (e)
        EOI_TRY(st, eoi_prog_bind(ctx, &prog, e, ds, opts));
    else
        EOI_TRY(st, eoi_prog_band(ctx, &prog, ds, opts ? opts->band : 1, opts));
    EOI_TRY(st, eoi_zonal_run(ctx, &r, ds, &prog, g, opts));
    st = eoi_json_dump(ctx, out_json, r, false);
done:
    json_object_put(r);
    eoi_prog_clear(&prog);
    eo_geom_free(g);
    return st;
}
