/* coverage.c - which pixels of a raster grid an AOI covers, and how much.
 *
 * The AOI's rings are taken into pixel space (column, row) through the
 * inverse geotransform, so rotated grids need nothing special: pixels are
 * unit squares there. Rings are oriented (shells one way, holes the other)
 * so that the winding number is 1 inside and 0 outside.
 *
 * - centre rule: per row, the winding number at each pixel centre, from the
 *   signed crossings of the edges with the row's centre line, accumulated
 *   left to right (a centre exactly on a left edge is outside, on a right
 *   edge inside, as GDAL's rasterizer decides);
 * - exact: the area of the polygon inside each cell, integrated edge by
 *   edge: a piece of edge within a row band, of signed height d spanning
 *   x in [xl, xr], adds to cell j the area between it and the cell's right
 *   side, d * G(j + 1) with G(s) = mean over the piece of clamp(s - x, 0, 1),
 *   which has a closed form. The per-cell differences G(k+1) - G(k) are
 *   accumulated and prefix-summed along the row, so that each edge only
 *   touches the cells it crosses;
 * - all touched: the pixels whose exact coverage is above zero. */
#include "raster_int.h"

#include "geom_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct seg {
    double xa, ya, xb, yb; /* pixel space */
} seg;

struct eoi_coverage {
    seg *s;
    size_t n, cap;
    double minx, miny, maxx, maxy;
};

/* World to pixel coordinates; exact division for north-up grids, and
 * values within 1e-9 of an integer snap to it (vertices on pixel corners
 * stay on them). */
static void to_pixel(const double gt[6], double X, double Y, double *col, double *row) {
    double c, r;
    if (gt[2] == 0 && gt[4] == 0) {
        c = (X - gt[0]) / gt[1];
        r = (Y - gt[3]) / gt[5];
    } else {
        double det = gt[1] * gt[5] - gt[2] * gt[4];
        c = (gt[5] * (X - gt[0]) - gt[2] * (Y - gt[3])) / det;
        r = (gt[1] * (Y - gt[3]) - gt[4] * (X - gt[0])) / det;
    }
    double rc = nearbyint(c), rr = nearbyint(r);
    *col = fabs(c - rc) < 1e-9 ? rc : c;
    *row = fabs(r - rr) < 1e-9 ? rr : r;
}

static eo_status add_ring(eo_ctx *ctx, eoi_coverage *c, const GEOSGeometry *ring, bool hole,
                          const double gt[6]) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n))
        return eoi_geos_fail(ctx, "AOI ring");
    if (n < 4)
        return EO_OK;
    if (!eoi_grow(ctx, (void **)&c->s, &c->cap, c->n + n, sizeof *c->s, 256))
        return eo_ctx_status(ctx);
    size_t first = c->n;
    double px = 0, py = 0, area2 = 0;
    for (unsigned int i = 0; i < n; i++) {
        double X, Y, x, y;
        GEOSCoordSeq_getXY_r(h, cs, i, &X, &Y);
        to_pixel(gt, X, Y, &x, &y);
        if (i > 0) {
            c->s[c->n++] = (seg){px, py, x, y};
            area2 += px * y - x * py;
        }
        c->minx = fmin(c->minx, x);
        c->maxx = fmax(c->maxx, x);
        c->miny = fmin(c->miny, y);
        c->maxy = fmax(c->maxy, y);
        px = x;
        py = y;
    }
    /* shells positive, holes negative */
    if ((area2 < 0) != hole)
        for (size_t i = first; i < c->n; i++) {
            seg t = c->s[i];
            c->s[i] = (seg){t.xb, t.yb, t.xa, t.ya};
        }
    return EO_OK;
}

void eoi_coverage_free(eoi_coverage *c) {
    if (!c)
        return;
    eoi_free(c->s);
    eoi_free(c);
}

eo_status eoi_coverage_new(eo_ctx *ctx, eoi_coverage **out, const eo_geom *aoi,
                           const double gt[6]) {
    *out = NULL;
    if (gt[1] * gt[5] - gt[2] * gt[4] == 0)
        return eoi_fail(ctx, EO_E_SOURCE, "the raster's geotransform is degenerate");
    eoi_coverage *c = eoi_calloc(ctx, 1, sizeof *c);
    if (!c)
        return EO_E_NOMEM;
    c->minx = c->miny = INFINITY;
    c->maxx = c->maxy = -INFINITY;
    GEOSContextHandle_t h = ctx->geos;
    const GEOSGeometry *g = eoi_geom_geos(aoi);
    int np = GEOSGeomTypeId_r(h, g) == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g);
    eo_status st = EO_OK;
    for (int i = 0; i < np && st == EO_OK; i++) {
        const GEOSGeometry *poly =
            np == 1 && GEOSGeomTypeId_r(h, g) == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, i);
        const GEOSGeometry *shell = poly ? GEOSGetExteriorRing_r(h, poly) : NULL;
        if (!shell) {
            st = eoi_geos_fail(ctx, "AOI polygon");
            break;
        }
        st = add_ring(ctx, c, shell, false, gt);
        int nh = GEOSGetNumInteriorRings_r(h, poly);
        for (int k = 0; k < nh && st == EO_OK; k++)
            st = add_ring(ctx, c, GEOSGetInteriorRingN_r(h, poly, k), true, gt);
    }
    if (st != EO_OK) {
        eoi_coverage_free(c);
        return st;
    }
    *out = c;
    return EO_OK;
}

bool eoi_coverage_window(const eoi_coverage *c, int64_t width, int64_t height, eo_window *out) {
    if (c->n == 0 || !(c->maxx > 0) || !(c->maxy > 0) || !(c->minx < (double)width) ||
        !(c->miny < (double)height))
        return false;
    double x0 = fmax(floor(c->minx), 0), y0 = fmax(floor(c->miny), 0);
    double x1 = fmin(ceil(c->maxx), (double)width), y1 = fmin(ceil(c->maxy), (double)height);
    if (x1 <= x0 || y1 <= y0)
        return false;
    *out = (eo_window){(int64_t)x0, (int64_t)y0, (int64_t)(x1 - x0), (int64_t)(y1 - y0)};
    return true;
}

/* R(z) = integral of clamp(w, 0, 1) for w from 0 to z. */
static inline double ramp_int(double z) { return z <= 0 ? 0 : z <= 1 ? 0.5 * z * z : z - 0.5; }

/* mean over x in [xl, xr] of clamp(s - x, 0, 1) */
static inline double mean_cover(double s, double xl, double xr) {
    double w = xr - xl;
    if (w < 1e-12) {
        double v = s - 0.5 * (xl + xr);
        return v <= 0 ? 0 : v >= 1 ? 1 : v;
    }
    return (ramp_int(s - xl) - ramp_int(s - xr)) / w;
}

static void exact_row(const eoi_coverage *c, double x0, double y0, int64_t w, double *a) {
    double y1 = y0 + 1;
    memset(a, 0, (size_t)(w + 2) * sizeof *a);
    for (size_t i = 0; i < c->n; i++) {
        const seg *s = &c->s[i];
        double lo = fmin(s->ya, s->yb), hi = fmax(s->ya, s->yb);
        if (hi <= y0 || lo >= y1 || s->ya == s->yb)
            continue;
        double ys = fmax(lo, y0), ye = fmin(hi, y1);
        double k = (s->xb - s->xa) / (s->yb - s->ya);
        double xs = s->xa + (ys - s->ya) * k - x0, xe = s->xa + (ye - s->ya) * k - x0;
        double d = (ye - ys) * (s->yb > s->ya ? 1.0 : -1.0);
        double xl = fmin(xs, xe), xr = fmax(xs, xe);
        /* every cell left of the window: their sum, G(0), goes to cell 0 */
        a[0] += d * mean_cover(0, xl, xr);
        double kf = fmax(floor(xl), 0), kl = fmin(floor(xr) + 1, (double)(w - 1));
        for (int64_t j = (int64_t)kf; j <= (int64_t)kl; j++)
            a[j] += d * (mean_cover((double)j + 1, xl, xr) - mean_cover((double)j, xl, xr));
    }
}

static void centre_row(const eoi_coverage *c, double x0, double yc, int64_t w, double *a) {
    memset(a, 0, (size_t)(w + 2) * sizeof *a);
    for (size_t i = 0; i < c->n; i++) {
        const seg *s = &c->s[i];
        if ((s->ya <= yc) == (s->yb <= yc))
            continue;
        double x = s->xa + (yc - s->ya) * (s->xb - s->xa) / (s->yb - s->ya) - x0;
        /* first pixel whose centre j + 0.5 lies right of x */
        double j = floor(x - 0.5) + 1;
        if (j >= (double)w)
            continue;
        a[j < 0 ? 0 : (int64_t)j] += s->yb > s->ya ? 1.0 : -1.0;
    }
}

size_t eoi_coverage_segments(const eoi_coverage *c) { return c->n; }

static int crossing_cmp(const void *a, const void *b) {
    const eoi_crossing *x = a, *y = b;
    return x->j < y->j ? -1 : x->j > y->j;
}

bool eoi_coverage_centre_span(const eoi_coverage *c, int64_t x, int64_t width, int64_t y,
                              eoi_crossing *tmp, int64_t *first, int64_t *last) {
    double yc = (double)y + 0.5;
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) { /* the crossings centre_row adds up */
        const seg *s = &c->s[i];
        if ((s->ya <= yc) == (s->yb <= yc))
            continue;
        double xc = s->xa + (yc - s->ya) * (s->xb - s->xa) / (s->yb - s->ya) - (double)x;
        double j = floor(xc - 0.5) + 1;
        if (j >= (double)width)
            continue;
        tmp[k].j = j < 0 ? 0 : (int64_t)j;
        tmp[k++].d = s->yb > s->ya ? 1 : -1;
    }
    qsort(tmp, k, sizeof *tmp, crossing_cmp);
    int64_t acc = 0, lo = -1, hi = -1;
    for (size_t i = 0; i < k;) { /* pixels [j, next j) are in when the sum is not 0 */
        int64_t j = tmp[i].j;
        for (; i < k && tmp[i].j == j; i++)
            acc += tmp[i].d;
        if (acc != 0 && lo < 0)
            lo = j;
        if (acc != 0)
            hi = i < k ? tmp[i].j - 1 : width - 1;
    }
    if (lo < 0)
        return false;
    *first = lo;
    *last = hi;
    return true;
}

void eoi_coverage_compute(const eoi_coverage *c, const eo_window *win, int32_t mode, float *out,
                          double *a) {
    int64_t w = win->width;
    for (int64_t r = 0; r < win->height; r++) {
        double y = (double)(win->y + r);
        float *o = out + (size_t)r * (size_t)w;
        if (mode == EO_COVERAGE_CENTER) {
            centre_row(c, (double)win->x, y + 0.5, w, a);
            double acc = 0;
            for (int64_t j = 0; j < w; j++) {
                acc += a[j];
                o[j] = fabs(acc) > 0.5 ? 1.0f : 0.0f;
            }
            continue;
        }
        exact_row(c, (double)win->x, y, w, a);
        double acc = 0;
        for (int64_t j = 0; j < w; j++) {
            acc += a[j];
            double v = fabs(acc);
            v = v < 1e-9 ? 0 : v > 1 - 1e-9 ? 1 : v;
            o[j] = mode == EO_COVERAGE_EXACT ? (float)v : (v > 0 ? 1.0f : 0.0f);
        }
    }
}

eo_status eoi_aoi_coverage(eo_ctx *ctx, const eo_geom *aoi, const double gt[6], eo_window win,
                           int32_t mode, float *out) {
    eoi_coverage *c = NULL;
    eo_status st = eoi_coverage_new(ctx, &c, aoi, gt);
    if (st != EO_OK)
        return st;
    double *a = eoi_malloc(ctx, (size_t)(win.width + 2) * sizeof *a);
    if (!a)
        st = EO_E_NOMEM;
    else
        eoi_coverage_compute(c, &win, mode, out, a);
    eoi_free(a);
    eoi_coverage_free(c);
    return st;
}

static int shift_x(double *x, double *y, void *user) {
    (void)y;
    *x += *(const double *)user;
    return 1;
}

/* g (in a geographic raster's CRS) with its copies 360 degrees east and west
 * added where they fall on the raster's columns [x0, x1]. */
static eo_status wrap_longitudes(eo_ctx *ctx, eo_geom *g, const eo_dataset *ds) {
    const double *gt = ds->gt;
    if (!g->is_geographic || !ds->has_gt || gt[2] != 0 || gt[1] == 0 || ds->width < 1)
        return EO_OK;
    double x0 = gt[0], x1 = gt[0] + gt[1] * (double)ds->width;
    if (x0 > x1) {
        double t = x0;
        x0 = x1;
        x1 = t;
    }
    GEOSContextHandle_t h = ctx->geos;
    double bx0 = 0, bx1 = 0, by0 = 0, by1 = 0;
    if (!GEOSGeom_getXMin_r(h, g->g, &bx0) || !GEOSGeom_getXMax_r(h, g->g, &bx1) ||
        !GEOSGeom_getYMin_r(h, g->g, &by0) || !GEOSGeom_getYMax_r(h, g->g, &by1))
        return eoi_geos_fail(ctx, "the AOI's extent");
    if (bx0 >= x0 && bx1 <= x1)
        return EO_OK; /* all of it on the raster's columns */
    GEOSGeometry *strip = GEOSGeom_createRectangle_r(h, x0, by0 - 1, x1, by1 + 1);
    GEOSGeometry *acc = NULL;
    eo_status st = strip ? EO_OK : eoi_geos_fail(ctx, "a rectangle");
    for (int k = -1; st == EO_OK && k <= 1; k += 2) {
        double s = 360.0 * k;
        GEOSGeometry *t = GEOSGeom_transformXY_r(h, g->g, shift_x, &s);
        GEOSGeometry *piece = t ? GEOSIntersection_r(h, t, strip) : NULL;
        if (t)
            GEOSGeom_destroy_r(h, t);
        if (!piece) {
            st = eoi_geos_fail(ctx, "moving the AOI by 360 degrees");
            break;
        }
        if (GEOSisEmpty_r(h, piece) == 1) {
            GEOSGeom_destroy_r(h, piece);
            continue;
        }
        GEOSGeometry *u = GEOSUnion_r(h, acc ? acc : g->g, piece);
        GEOSGeom_destroy_r(h, piece);
        if (acc)
            GEOSGeom_destroy_r(h, acc);
        if (!(acc = u))
            st = eoi_geos_fail(ctx, "the AOI's union with its wrapped part");
    }
    if (strip)
        GEOSGeom_destroy_r(h, strip);
    if (st == EO_OK && acc) {
        GEOSGeometry *poly = NULL;
        st = eoi_geos_polygonal_take(ctx, &poly, acc);
        acc = NULL;
        if (st == EO_OK) {
            GEOSGeom_destroy_r(h, g->g);
            g->g = poly;
        }
    }
    if (acc)
        GEOSGeom_destroy_r(h, acc);
    return st;
}

eo_status eoi_aoi_to_raster_crs(eo_ctx *ctx, eo_geom **out, const eo_geom *aoi,
                                const eo_dataset *ds) {
    /* every operation placing an AOI on a raster comes here: one message
     * (kind_note says when the file is not what its name claims) */
    if (!ds->has_gt)
        return eoi_fail(ctx, EO_E_SOURCE,
                        "%s%s: the raster has no geotransform: an AOI cannot be placed on it",
                        ds->path, ds->kind_note);
    const char *wkt = ds->wkt;
    /* a raster without CRS: the AOI's coordinates are taken as the
     * raster's when the user named the AOI's CRS, never silently as
     * degrees on a grid of unknown units */
    if ((!wkt || !*wkt) && aoi->crs_default)
        return eoi_fail(ctx, EO_E_CRS_MISSING,
                        "the raster has no CRS and the AOI names none, so its coordinates would "
                        "be read as longitude/latitude (EPSG:4326) on a grid of unknown units: "
                        "name the AOI's CRS (the crs parameter, --crs, or a crs member) to use "
                        "its coordinates as the raster's, or assign the raster a CRS "
                        "(gdal_edit.py -a_srs)");
    if (!wkt || !*wkt)
        return eoi_geom_clone(ctx, out, aoi);
    eo_status st = eo_geom_transform(ctx, out, aoi, wkt);
    if (st != EO_OK) { /* name the raster whose CRS the AOI could not reach */
        char msg[EOI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
        return eoi_fail(ctx, st, "%s: the AOI cannot be placed on it: %s", ds->path, msg);
    }
    st = wrap_longitudes(ctx, *out, ds);
    if (st != EO_OK) {
        eo_geom_free(*out);
        *out = NULL;
    }
    return st;
}
