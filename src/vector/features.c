/* features.c - feature collections (eo_features): storage, order, access,
 * the transformation from the pixel grid to the output CRS, and geodesic
 * area and perimeter on WGS84 (PROJ's geod_* API, as src/core/geom.c), and
 * each feature's output properties (the writers share them). */
#include "geom_int.h"
#include "vector_int.h"

#include <geodesic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

eo_status eoi_features_new(eo_ctx *ctx, eo_features **out, const double gt[6], const char *wkt,
                           int32_t connectivity) {
    *out = NULL;
    eo_features *f = eoi_calloc(ctx, 1, sizeof *f);
    if (!f)
        return EO_E_NOMEM;
    f->geos = ctx->geos;
    memcpy(f->gt, gt, sizeof f->gt);
    f->connectivity = connectivity;
    if (!(f->wkt = eoi_strdup(ctx, wkt ? wkt : ""))) {
        eoi_free(f);
        return EO_E_NOMEM;
    }
    *out = f;
    return EO_OK;
}

void eo_features_free(eo_features *f) {
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        GEOSGeom_destroy_r(f->geos, f->v[i].g);
    eoi_free(f->v);
    eoi_free(f->wkt);
    for (int32_t i = 0; i < f->nclass_names; i++)
        eoi_free(f->class_names[i]);
    eoi_free(f->class_names);
    eoi_free(f);
}

eo_status eoi_features_set_class_names(eo_ctx *ctx, eo_features *f, const char *const *names,
                                       int32_t n) {
    char **v = n > 0 ? eoi_calloc(ctx, (size_t)n, sizeof *v) : NULL;
    if (n > 0 && !v)
        return EO_E_NOMEM;
    for (int32_t i = 0; i < n; i++)
        if (names[i] && !(v[i] = eoi_strdup(ctx, names[i]))) {
            for (int32_t k = 0; k < i; k++)
                eoi_free(v[k]);
            eoi_free(v);
            return EO_E_NOMEM;
        }
    for (int32_t i = 0; i < f->nclass_names; i++)
        eoi_free(f->class_names[i]);
    eoi_free(f->class_names);
    f->class_names = v;
    f->nclass_names = n;
    return EO_OK;
}

eo_status eoi_features_push(eo_ctx *ctx, eo_features *f, const eoi_feature *take) {
    if (!eoi_grow(ctx, (void **)&f->v, &f->cap, f->n + 1, sizeof *f->v, 64)) {
        GEOSGeom_destroy_r(f->geos, take->g);
        return eo_ctx_status(ctx);
    }
    f->v[f->n++] = *take;
    return EO_OK;
}

static int cmp_top(const void *a, const void *b) {
    int64_t x = ((const eoi_feature *)a)->top, y = ((const eoi_feature *)b)->top;
    return (x > y) - (x < y);
}

void eoi_features_sort(eo_features *f) {
    if (f->n > 1)
        qsort(f->v, f->n, sizeof *f->v, cmp_top);
}

int64_t eo_features_count(const eo_features *f) { return f ? (int64_t)f->n : 0; }

eo_status eo_features_get(eo_ctx *ctx, const eo_features *f, int64_t i, double *class_value,
                          int64_t *pixels, double *area_px) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, f && i >= 0 && (size_t)i < f->n);
    if (class_value)
        *class_value = f->v[i].cls;
    if (pixels)
        *pixels = f->v[i].pixels;
    if (area_px && !GEOSArea_r(f->geos, f->v[i].g, area_px))
        return eoi_fail(ctx, EO_E_INTERNAL, "feature %lld: area failed", (long long)i);
    return EO_OK;
}

/* ---- geometries in the output CRS ------------------------------------- */

eo_status eoi_ring_out(eo_ctx *ctx, eoi_ring_buf *b, const eoi_grid_tf *tf, const GEOSGeometry *r,
                       int orient, unsigned *n) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, r);
    *n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, n))
        return eoi_geos_fail(ctx, "reading a ring");
    if (*n > b->cap) {
        size_t cap = (size_t)*n * 2;
        double *x = eoi_malloc(ctx, cap * 2 * sizeof *x);
        if (!x)
            return EO_E_NOMEM;
        eoi_free(b->x);
        b->x = x;
        b->y = x + cap;
        b->cap = cap;
    }
    double *x = b->x, *y = b->y;
    if (*n && !GEOSCoordSeq_copyToArrays_r(h, cs, x, y, NULL, NULL))
        return eoi_geos_fail(ctx, "reading a ring");
    eo_status st = eoi_grid_tf_apply(ctx, tf, x, y, *n);
    if (st != EO_OK || !orient)
        return st;
    double a2 = 0;
    for (unsigned i = 0; i + 1 < *n; i++)
        a2 += x[i] * y[i + 1] - x[i + 1] * y[i];
    if ((orient > 0) != (a2 > 0))
        for (unsigned i = 0, j = *n - 1; i < j; i++, j--) {
            double t = x[i];
            x[i] = x[j], x[j] = t;
            t = y[i];
            y[i] = y[j], y[j] = t;
        }
    return EO_OK;
}

void eoi_ring_buf_free(eoi_ring_buf *b) {
    eoi_free(b->x);
    memset(b, 0, sizeof *b);
}

/* Ring through tf; with orient, counter-clockwise for shells and clockwise
 * for holes (RFC 7946). */
static eo_status map_ring(eo_ctx *ctx, GEOSGeometry **out, const eoi_grid_tf *tf,
                          const GEOSGeometry *ring, int orient) {
    GEOSContextHandle_t h = ctx->geos;
    eoi_ring_buf b = {NULL, NULL, 0};
    unsigned n = 0;
    eo_status st = eoi_ring_out(ctx, &b, tf, ring, orient, &n);
    if (st == EO_OK) {
        GEOSCoordSequence *o = GEOSCoordSeq_copyFromArrays_r(h, b.x, b.y, NULL, NULL, n);
        *out = o ? GEOSGeom_createLinearRing_r(h, o) : NULL;
        if (!*out)
            st = eoi_geos_fail(ctx, "building a ring");
    }
    eoi_ring_buf_free(&b);
    return st;
}

static eo_status map_polygon(eo_ctx *ctx, GEOSGeometry **out, const eoi_grid_tf *tf,
                             const GEOSGeometry *p, bool orient) {
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    int nh = GEOSGetNumInteriorRings_r(h, p);
    if (nh < 0)
        return eoi_geos_fail(ctx, "reading a polygon");
    GEOSGeometry **holes = eoi_calloc(ctx, (size_t)nh + 1, sizeof *holes);
    if (!holes)
        return EO_E_NOMEM;
    GEOSGeometry *shell = NULL;
    eo_status st = map_ring(ctx, &shell, tf, GEOSGetExteriorRing_r(h, p), orient ? 1 : 0);
    for (int i = 0; st == EO_OK && i < nh; i++)
        st = map_ring(ctx, &holes[i], tf, GEOSGetInteriorRingN_r(h, p, i), orient ? -1 : 0);
    if (st == EO_OK && !(*out = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh)))
        st = eoi_geos_fail(ctx, "building a polygon");
    if (st != EO_OK) {
        GEOSGeom_destroy_r(h, shell);
        for (int i = 0; i < nh; i++)
            GEOSGeom_destroy_r(h, holes[i]);
    }
    eoi_free(holes);
    return st;
}

eo_status eoi_geom_to_out(eo_ctx *ctx, GEOSGeometry **out, const eoi_grid_tf *tf,
                          const GEOSGeometry *g, bool orient) {
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    if (GEOSGeomTypeId_r(h, g) == GEOS_POLYGON)
        return map_polygon(ctx, out, tf, g, orient);
    int n = GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = eoi_calloc(ctx, (size_t)(n > 0 ? n : 1), sizeof *parts);
    if (!parts)
        return EO_E_NOMEM;
    eo_status st = EO_OK;
    int k = 0;
    for (; k < n && st == EO_OK; k++)
        st = map_polygon(ctx, &parts[k], tf, GEOSGetGeometryN_r(h, g, k), orient);
    if (st == EO_OK &&
        !(*out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n)))
        st = eoi_geos_fail(ctx, "building a multipolygon");
    if (st != EO_OK)
        for (int i = 0; i < n; i++)
            GEOSGeom_destroy_r(h, parts[i]);
    eoi_free(parts);
    return st;
}

eo_status eo_features_wkt(eo_ctx *ctx, char **out, const eo_features *f, int64_t i) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, f && i >= 0 && (size_t)i < f->n);
    eoi_grid_tf tf;
    GEOSGeometry *g = NULL;
    eo_status st = eoi_grid_tf_init(ctx, &tf, f, true);
    if (st == EO_OK)
        st = eoi_geom_to_out(ctx, &g, &tf, f->v[i].g, false);
    eoi_grid_tf_free(&tf);
    if (st != EO_OK)
        return st;
    GEOSWKTWriter *w = GEOSWKTWriter_create_r(ctx->geos);
    char *s = w ? GEOSWKTWriter_write_r(ctx->geos, w, g) : NULL;
    GEOSWKTWriter_destroy_r(ctx->geos, w);
    GEOSGeom_destroy_r(ctx->geos, g);
    if (!s)
        return eoi_geos_fail(ctx, "writing WKT");
    *out = eoi_strdup(ctx, s);
    GEOSFree_r(ctx->geos, s);
    return *out ? EO_OK : EO_E_NOMEM;
}

/* ---- pixel grid -> output CRS ------------------------------------------ */

eo_status eoi_grid_tf_init(eo_ctx *ctx, eoi_grid_tf *tf, const eo_features *f, bool native) {
    memcpy(tf->gt, f->gt, sizeof tf->gt);
    tf->pj = NULL;
    tf->px_m = 0;
    if (native)
        return EO_OK;
    if (!f->wkt[0])
        return eoi_fail(ctx, EO_E_CRS,
                        "the source has no CRS: coordinates cannot be given in EPSG:4326 "
                        "(write them in the native grid instead)");
    eo_status st = eoi_features_pixel_metres(ctx, f, &tf->px_m);
    if (st != EO_OK)
        return st;
    return eoi_crs_transformer(ctx, &tf->pj, f->wkt, "EPSG:4326");
}

void eoi_grid_tf_free(eoi_grid_tf *tf) {
    proj_destroy(tf->pj);
    tf->pj = NULL;
}

eo_status eoi_grid_tf_apply(eo_ctx *ctx, const eoi_grid_tf *tf, double *x, double *y, size_t n) {
    const double *gt = tf->gt;
    for (size_t i = 0; i < n; i++) {
        double c = x[i], r = y[i];
        x[i] = gt[0] + c * gt[1] + r * gt[2];
        y[i] = gt[3] + c * gt[4] + r * gt[5];
    }
    if (!tf->pj || n == 0)
        return EO_OK;
    size_t done = proj_trans_generic(tf->pj, PJ_FWD, x, sizeof(double), n, y, sizeof(double), n,
                                     NULL, 0, 0, NULL, 0, 0);
    for (size_t i = 0; i < n; i++)
        if (done != n || !isfinite(x[i]) || !isfinite(y[i]))
            return eoi_fail(ctx, EO_E_CRS_TRANSFORM,
                            "a polygon vertex cannot be transformed to EPSG:4326");
    return EO_OK;
}

eo_status eoi_features_pixel_metres(eo_ctx *ctx, const eo_features *f, double *m) {
    const double *gt = f->gt;
    double sx = hypot(gt[1], gt[4]), sy = hypot(gt[2], gt[5]);
    *m = 0.5 * (sx + sy);
    if (!f->wkt[0])
        return EO_OK;
    char *wkt = NULL;
    bool geographic = false;
    eo_status st = eoi_crs_to_wkt(ctx, &wkt, f->wkt, &geographic);
    eoi_free(wkt);
    if (st != EO_OK)
        return st;
    if (geographic) {
        /* degrees: metres at the grid origin's latitude (close enough for a
         * tolerance); y is the latitude with the traditional axis order */
        double lat = gt[3] * M_PI / 180;
        *m = 0.5 * (sx * 111320.0 * fabs(cos(lat)) + sy * 110574.0);
    }
    return EO_OK;
}

/* ---- geodesic measures ------------------------------------------------- */

static eo_status ring_measure(eo_ctx *ctx, const eoi_grid_tf *tf, const GEOSGeometry *ring,
                              double *area, double *perim) {
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(ctx->geos, cs, &n))
        return eoi_geos_fail(ctx, "reading a ring");
    *area = *perim = 0;
    if (n < 4)
        return EO_OK;
    double *x = eoi_malloc(ctx, 2 * sizeof(double) * n);
    if (!x)
        return EO_E_NOMEM;
    double *y = x + n;
    for (unsigned i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(ctx->geos, cs, i, &x[i], &y[i]);
    eo_status st = eoi_grid_tf_apply(ctx, tf, x, y, n);
    if (st == EO_OK) /* the closing vertex repeats the first one */
        *area = fabs(eoi_geod_ring(x, y, n - 1, perim));
    eoi_free(x);
    return st;
}

/* A measure in progress: small polygons use the linear map J from pixel
 * offsets to local east/north metres at the centre c of the envelope,
 * J = [u v], u and v the images of one-pixel steps along x and y (from
 * geodesics c -> c + s x, c -> c + s y); area in pixels until the end. */
typedef struct measure {
    const eoi_grid_tf *tf;
    bool local;
    double ux, uy, vx, vy;
    double area, perim; /* local: pixel units for the area */
} measure;

static double local_perim(GEOSContextHandle_t h, const measure *m, const GEOSGeometry *r) {
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, r);
    unsigned n = 0;
    GEOSCoordSeq_getSize_r(h, cs, &n);
    double P = 0, px = 0, py = 0;
    for (unsigned j = 0; j < n; j++) {
        double x, y;
        GEOSCoordSeq_getXY_r(h, cs, j, &x, &y);
        if (j) {
            double ex = x - px, ey = y - py;
            P += hypot(ex * m->ux + ey * m->vx, ex * m->uy + ey * m->vy);
        }
        px = x;
        py = y;
    }
    return P;
}

/* Add ring r (hole: its area counts against) to m. */
static eo_status measure_ring(eo_ctx *ctx, measure *m, const GEOSGeometry *r, bool hole) {
    GEOSContextHandle_t h = ctx->geos;
    if (m->local) {
        m->perim += local_perim(h, m, r);
        if (hole) { /* shoelace: the polygon's own area came from GEOS */
            const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, r);
            unsigned n = 0;
            GEOSCoordSeq_getSize_r(h, cs, &n);
            double a2 = 0, x0 = 0, y0 = 0, px = 0, py = 0;
            for (unsigned j = 0; j < n; j++) {
                double x, y;
                GEOSCoordSeq_getXY_r(h, cs, j, &x, &y);
                if (j == 0) {
                    x0 = x;
                    y0 = y;
                } else
                    a2 += (px - x0) * (y - y0) - (x - x0) * (py - y0);
                px = x;
                py = y;
            }
            m->area -= 0.5 * fabs(a2);
        }
        return EO_OK;
    }
    double a = 0, per = 0;
    EOI_TRY_RET(ring_measure(ctx, m->tf, r, &a, &per));
    m->area += hole ? -a : a;
    m->perim += per;
    return EO_OK;
}

/* Start measuring polygonal g: its method, then its own rings. */
static eo_status measure_start(eo_ctx *ctx, measure *m, const eoi_grid_tf *tf,
                               const GEOSGeometry *g) {
    GEOSContextHandle_t h = ctx->geos;
    *m = (measure){.tf = tf};
    double x0, y0, x1, y1;
    if (GEOSGeom_getXMin_r(h, g, &x0) && GEOSGeom_getYMin_r(h, g, &y0) &&
        GEOSGeom_getXMax_r(h, g, &x1) && GEOSGeom_getYMax_r(h, g, &y1) && tf->px_m > 0 &&
        hypot(x1 - x0, y1 - y0) * tf->px_m < 2000) {
        double s = fmax(1.0, fmax(x1 - x0, y1 - y0));
        double cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1);
        double X[3] = {cx, cx + s, cx}, Y[3] = {cy, cy, cy + s};
        EOI_TRY_RET(eoi_grid_tf_apply(ctx, tf, X, Y, 3));
        const struct geod_geodesic *geod = eoi_wgs84();
        double d1, az1, d2, az2;
        geod_inverse(geod, Y[0], X[0], Y[1], X[1], &d1, &az1, NULL);
        geod_inverse(geod, Y[0], X[0], Y[2], X[2], &d2, &az2, NULL);
        m->local = true;
        m->ux = d1 / s * sin(az1 * M_PI / 180), m->uy = d1 / s * cos(az1 * M_PI / 180);
        m->vx = d2 / s * sin(az2 * M_PI / 180), m->vy = d2 / s * cos(az2 * M_PI / 180);
        if (!GEOSArea_r(h, g, &m->area))
            return eoi_geos_fail(ctx, "area");
    }
    int np = GEOSGetNumGeometries_r(h, g);
    for (int k = 0; k < np; k++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, k);
        int nh = GEOSGetNumInteriorRings_r(h, p);
        for (int i = -1; i < nh; i++) {
            const GEOSGeometry *r =
                i < 0 ? GEOSGetExteriorRing_r(h, p) : GEOSGetInteriorRingN_r(h, p, i);
            if (m->local) /* the area is GEOS's */
                m->perim += local_perim(h, m, r);
            else
                EOI_TRY_RET(measure_ring(ctx, m, r, i >= 0));
        }
    }
    return EO_OK;
}

static void measure_end(const measure *m, double *area_m2, double *perimeter_m) {
    *area_m2 = m->local ? m->area * fabs(m->ux * m->vy - m->uy * m->vx) : m->area;
    *perimeter_m = m->perim;
}

eo_status eoi_geodesic_measure(eo_ctx *ctx, const eoi_grid_tf *tf, const GEOSGeometry *g,
                               double *area_m2, double *perimeter_m) {
    measure m;
    EOI_TRY_RET(measure_start(ctx, &m, tf, g));
    measure_end(&m, area_m2, perimeter_m);
    return EO_OK;
}

static eo_status measure_held(eo_ctx *ctx, GEOSGeometry **ring, void *user) {
    return measure_ring(ctx, user, *ring, true);
}

/* ---- collinear vertices ------------------------------------------------ */

static bool collinear(double ax, double ay, double bx, double by, double cx, double cy) {
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) == 0;
}

/* Ring without repeated and exactly collinear vertices (a new ring). */
static GEOSGeometry *clean_ring(eo_ctx *ctx, const GEOSGeometry *ring, bool *oom) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4)
        return GEOSGeom_clone_r(h, ring);
    double *x = eoi_malloc(ctx, 2 * sizeof(double) * n);
    if (!x) {
        *oom = true;
        return NULL;
    }
    double *y = x + n;
    unsigned m = 0;
    for (unsigned i = 0; i + 1 < n; i++) { /* drop the closing vertex and repeats */
        double a, b;
        GEOSCoordSeq_getXY_r(h, cs, i, &a, &b);
        if (m && x[m - 1] == a && y[m - 1] == b)
            continue;
        x[m] = a;
        y[m++] = b;
    }
    while (m > 1 && x[m - 1] == x[0] && y[m - 1] == y[0])
        m--;
    /* drop collinear vertices with a stack, then across the closing point */
    unsigned k = 0;
    for (unsigned i = 0; i < m; i++) {
        x[k] = x[i];
        y[k++] = y[i];
        while (k >= 3 && collinear(x[k - 3], y[k - 3], x[k - 2], y[k - 2], x[k - 1], y[k - 1])) {
            x[k - 2] = x[k - 1];
            y[k - 2] = y[k - 1];
            k--;
        }
    }
    m = k;
    unsigned s0 = 0;
    for (bool changed = true; changed && m - s0 > 3;) {
        changed = false;
        if (collinear(x[m - 2], y[m - 2], x[m - 1], y[m - 1], x[s0], y[s0])) {
            m--;
            changed = true;
        } else if (collinear(x[m - 1], y[m - 1], x[s0], y[s0], x[s0 + 1], y[s0 + 1])) {
            s0++;
            changed = true;
        }
    }
    x += s0;
    y += s0;
    m -= s0;
    GEOSCoordSequence *o = GEOSCoordSeq_create_r(h, m + 1, 2);
    for (unsigned i = 0; o && i <= m; i++)
        GEOSCoordSeq_setXY_r(h, o, i, x[i % m], y[i % m]);
    eoi_free(x - s0);
    return o ? GEOSGeom_createLinearRing_r(h, o) : NULL;
}

static GEOSGeometry *clean_polygon(eo_ctx *ctx, const GEOSGeometry *p, bool *oom) {
    GEOSContextHandle_t h = ctx->geos;
    int nh = GEOSGetNumInteriorRings_r(h, p);
    if (nh < 0)
        return NULL;
    GEOSGeometry **holes = eoi_calloc(ctx, (size_t)nh + 1, sizeof *holes);
    if (!holes) {
        *oom = true;
        return NULL;
    }
    GEOSGeometry *shell = clean_ring(ctx, GEOSGetExteriorRing_r(h, p), oom);
    bool ok = shell != NULL;
    for (int i = 0; ok && i < nh; i++)
        ok = (holes[i] = clean_ring(ctx, GEOSGetInteriorRingN_r(h, p, i), oom)) != NULL;
    GEOSGeometry *out = ok ? GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh) : NULL;
    if (!ok) {
        GEOSGeom_destroy_r(h, shell);
        for (int i = 0; i < nh; i++)
            GEOSGeom_destroy_r(h, holes[i]);
    }
    eoi_free(holes);
    return out;
}

eo_status eoi_geos_drop_collinear(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *g) {
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    bool oom = false;
    if (GEOSGeomTypeId_r(h, g) == GEOS_POLYGON) {
        *out = clean_polygon(ctx, g, &oom);
        return *out ? EO_OK : oom ? EO_E_NOMEM : eoi_geos_fail(ctx, "rebuilding a polygon");
    }
    int n = GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = eoi_calloc(ctx, (size_t)(n > 0 ? n : 1), sizeof *parts);
    if (!parts)
        return EO_E_NOMEM;
    int k = 0;
    for (; k < n; k++)
        if (!(parts[k] = clean_polygon(ctx, GEOSGetGeometryN_r(h, g, k), &oom)))
            break;
    if (k == n)
        *out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
    else
        for (int i = 0; i < k; i++)
            GEOSGeom_destroy_r(h, parts[i]);
    eoi_free(parts);
    return *out ? EO_OK : oom ? EO_E_NOMEM : eoi_geos_fail(ctx, "rebuilding a multipolygon");
}

/* ---- properties, shared by the writers (write_geojson.c, write_ogr.c) ----- */

const char *eoi_class_name(const eo_features *f, double cls) {
    if (!f->class_names || !(cls >= 0) || cls >= f->nclass_names || cls != floor(cls))
        return NULL;
    return f->class_names[(int32_t)cls];
}

/* Properties of feature i; ll targets EPSG:4326 (ll->pj NULL: no CRS, no
 * geodesic measures). */
static eo_status feature_props(eo_ctx *ctx, const eo_features *f, size_t i, int64_t id0,
                               const eoi_grid_tf *ll, eoi_props *p) {
    const eoi_feature *ft = &f->v[i];
    p->id = id0 + (int64_t)i + 1;
    p->cls = ft->cls;
    p->pixels = ft->pixels;
    p->score = f->has_score && ft->pixels > 0 ? ft->psum / (double)ft->pixels : NAN;
    p->area_m2 = p->perimeter_m = NAN;
    if (!ll->pj)
        return EO_OK;
    measure m; /* with the holes held on disk, if any */
    EOI_TRY_RET(measure_start(ctx, &m, ll, ft->g));
    if (ft->held)
        EOI_TRY_RET(eoi_spool_each(ctx, f->spool, ft, measure_held, &m));
    measure_end(&m, &p->area_m2, &p->perimeter_m);
    return EO_OK;
}

#define PROPS_CHUNK 256

eo_status eoi_props_pass_init(eo_ctx *ctx, eoi_props_pass *p, const eo_features *f, size_t n) {
    *p = (eoi_props_pass){.ctx = ctx, .f = f};
    eo_status st = EO_OK;
    if (f->wkt[0])
        EOI_TRY_RET(eoi_grid_tf_init(ctx, &p->ll, f, false));
    int32_t nt = eoi_threads(ctx);
    nt = nt > 64 ? 64 : nt;
    if (nt < 2 || n < 4 * PROPS_CHUNK)
        return EO_OK; /* one by one */
    if (!(p->w = eoi_calloc(ctx, (size_t)nt, sizeof *p->w)) ||
        !(p->wl = eoi_calloc(ctx, (size_t)nt, sizeof *p->wl)) ||
        !(p->batch = eoi_malloc(ctx, EOI_PROPS_BATCH * sizeof *p->batch)))
        return EO_E_NOMEM;
    p->nt = nt;
    for (int32_t k = 0; k < nt && st == EO_OK; k++) {
        st = eoi_ctx_worker_new(ctx, &p->w[k]);
        if (st == EO_OK && f->wkt[0])
            st = eoi_ctx_take_first(ctx, eoi_grid_tf_init(p->w[k], &p->wl[k], f, false), p->w,
                                    k + 1);
    }
    return st;
}

static eo_status props_chunk(void *user, int64_t c, int32_t worker) {
    eoi_props_pass *p = user;
    size_t i0 = (size_t)c * PROPS_CHUNK, n = p->bn - i0 < PROPS_CHUNK ? p->bn - i0 : PROPS_CHUNK;
    for (size_t i = i0; i < i0 + n; i++)
        EOI_TRY_RET(
            feature_props(p->w[worker], p->f, p->b0 + i, p->id0, &p->wl[worker], &p->batch[i]));
    return EO_OK;
}

eo_status eoi_props_pass_get(eoi_props_pass *p, size_t i, eoi_props *out) {
    if (!p->nt || p->f->n < 4 * PROPS_CHUNK) /* a small batch: no threads */
        return feature_props(p->ctx, p->f, i, p->id0, &p->ll, out);
    if (i < p->b0 || i >= p->b0 + p->bn) {
        p->b0 = i;
        p->bn = p->f->n - i < EOI_PROPS_BATCH ? p->f->n - i : EOI_PROPS_BATCH;
        int64_t nc = (int64_t)((p->bn + PROPS_CHUNK - 1) / PROPS_CHUNK);
        eo_status st =
            eoi_ctx_take_first(p->ctx, eoi_parallel_for(p->ctx, nc, props_chunk, p), p->w, p->nt);
        if (st != EO_OK) {
            p->bn = 0;
            return st;
        }
    }
    *out = p->batch[i - p->b0];
    return EO_OK;
}

void eoi_props_pass_rebind(eoi_props_pass *p, const eo_features *f, int64_t id0) {
    p->f = f;
    p->id0 = id0;
    p->b0 = p->bn = 0;
}

void eoi_props_pass_free(eoi_props_pass *p) {
    for (int32_t k = 0; k < p->nt; k++) {
        if (p->wl)
            eoi_grid_tf_free(&p->wl[k]);
        if (p->w)
            eo_ctx_free(p->w[k]);
    }
    eoi_free(p->w);
    eoi_free(p->wl);
    eoi_free(p->batch);
    eoi_grid_tf_free(&p->ll);
    *p = (eoi_props_pass){0};
}
