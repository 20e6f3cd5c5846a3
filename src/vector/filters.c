/* filters.c - per-feature clean-ups: pixel staircase removal, a minimum
 * area, filling small holes. Areas are geodesic (m2) when the collection
 * has a CRS, else planar in the geotransform's units. */
#include "geom_int.h"
#include "vector_int.h"

#include <math.h>
#include <string.h>

/* ---- staircases -------------------------------------------------------- */

static double turn(const double *a, const double *b, const double *c) {
    return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
}

/* A ring without the vertices of one-pixel steps: both ends of an edge of
 * at most one pixel whose ends turn in opposite directions. NULL with *same
 * when nothing changes or too little would remain. */
static eo_status destair_ring(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *ring) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    *out = NULL;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n))
        return eoi_geos_fail(ctx, "reading a ring");
    if (n < 5)
        return EO_OK;
    n--; /* without the closing vertex */
    double *xy = eoi_malloc(ctx, 2 * sizeof(double) * n);
    uint8_t *drop = eoi_calloc(ctx, n, 1);
    eo_status st = EO_OK;
    if (!xy || !drop) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (unsigned i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(h, cs, i, &xy[2 * i], &xy[2 * i + 1]);
    for (unsigned i = 0; i < n; i++) {
        unsigned p = (i + n - 1) % n, j = (i + 1) % n, q = (i + 2) % n;
        double len = hypot(xy[2 * j] - xy[2 * i], xy[2 * j + 1] - xy[2 * i + 1]);
        if (len > 1.0 + 1e-9)
            continue;
        double t0 = turn(xy + 2 * p, xy + 2 * i, xy + 2 * j);
        double t1 = turn(xy + 2 * i, xy + 2 * j, xy + 2 * q);
        if ((t0 > 0 && t1 < 0) || (t0 < 0 && t1 > 0))
            drop[i] = drop[j] = 1;
    }
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        m += !drop[i];
    if (m == n || m < 3)
        goto done;
    GEOSCoordSequence *o = GEOSCoordSeq_create_r(h, m + 1, 2);
    unsigned k = 0, first = 0;
    for (unsigned i = 0; o && i < n; i++)
        if (!drop[i]) {
            if (k == 0)
                first = i;
            GEOSCoordSeq_setXY_r(h, o, k++, xy[2 * i], xy[2 * i + 1]);
        }
    if (o)
        GEOSCoordSeq_setXY_r(h, o, k, xy[2 * first], xy[2 * first + 1]);
    if (!o || !(*out = GEOSGeom_createLinearRing_r(h, o)))
        st = eoi_geos_fail(ctx, "building a ring");
done:
    eoi_free(xy);
    eoi_free(drop);
    return st;
}

static eo_status destair_polygon(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *p,
                                 void *user) {
    GEOSContextHandle_t h = ctx->geos;
    int nh = GEOSGetNumInteriorRings_r(h, p);
    GEOSGeometry **holes = eoi_calloc(ctx, (size_t)(nh > 0 ? nh : 0) + 1, sizeof *holes);
    GEOSGeometry *shell = NULL;
    eo_status st = holes ? EO_OK : EO_E_NOMEM;
    *out = NULL;
    for (int i = -1; st == EO_OK && i < nh; i++) {
        const GEOSGeometry *r =
            i < 0 ? GEOSGetExteriorRing_r(h, p) : GEOSGetInteriorRingN_r(h, p, i);
        GEOSGeometry *nr = NULL;
        st = destair_ring(ctx, &nr, r);
        if (st == EO_OK && !nr && !(nr = GEOSGeom_clone_r(h, r)))
            st = eoi_geos_fail(ctx, "copying a ring");
        if (i < 0)
            shell = nr;
        else
            holes[i] = nr;
    }
    if (st == EO_OK && !(*out = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh)))
        st = eoi_geos_fail(ctx, "building a polygon");
    if (st != EO_OK) {
        GEOSGeom_destroy_r(h, shell);
        for (int i = 0; holes && i < nh; i++)
            GEOSGeom_destroy_r(h, holes[i]);
    }
    eoi_free(holes);
    return st;
}

eo_status eoi_map_polygons(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *g, eoi_poly_fn fn,
                           void *user) {
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    if (GEOSGeomTypeId_r(h, g) == GEOS_POLYGON)
        return fn(ctx, out, g, user);
    int n = GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = eoi_calloc(ctx, (size_t)(n > 0 ? n : 0) + 1, sizeof *parts);
    if (!parts)
        return EO_E_NOMEM;
    eo_status st = EO_OK;
    for (int k = 0; k < n && st == EO_OK; k++)
        st = fn(ctx, &parts[k], GEOSGetGeometryN_r(h, g, k), user);
    if (st == EO_OK &&
        !(*out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n)))
        st = eoi_geos_fail(ctx, "building a multipolygon");
    if (st != EO_OK)
        for (int k = 0; k < n; k++)
            GEOSGeom_destroy_r(h, parts[k]);
    eoi_free(parts);
    return st;
}

eo_status eo_features_remove_staircase(eo_ctx *ctx, eo_features *f) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, f);
    for (size_t i = 0; i < f->n; i++) {
        GEOSGeometry *g = NULL;
        eo_status st = eoi_map_polygons(ctx, &g, f->v[i].g, destair_polygon, NULL);
        if (st != EO_OK)
            return st;
        if (GEOSisValid_r(ctx->geos, g) == 1) {
            GEOSGeom_destroy_r(ctx->geos, f->v[i].g);
            f->v[i].g = g;
        } else
            GEOSGeom_destroy_r(ctx->geos, g); /* keep the steps rather than break it */
    }
    return EO_OK;
}

/* ---- areas ------------------------------------------------------------- */

typedef struct measurer {
    eoi_grid_tf ll;
    double px_area; /* planar area of a pixel, when there is no CRS */
} measurer;

static eo_status measurer_init(eo_ctx *ctx, measurer *m, const eo_features *f) {
    memset(m, 0, sizeof *m);
    m->px_area = fabs(f->gt[1] * f->gt[5] - f->gt[2] * f->gt[4]);
    if (f->wkt[0])
        return eoi_grid_tf_init(ctx, &m->ll, f, false);
    return EO_OK;
}

static eo_status measure(eo_ctx *ctx, const measurer *m, const GEOSGeometry *g, double *a) {
    if (m->ll.pj) {
        double per;
        return eoi_geodesic_measure(ctx, &m->ll, g, a, &per);
    }
    if (!GEOSArea_r(ctx->geos, g, a))
        return eoi_geos_fail(ctx, "area");
    *a *= m->px_area;
    return EO_OK;
}

eo_status eo_features_filter_min_area(eo_ctx *ctx, eo_features *f, double min_area_m2) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, f);
    if (!(min_area_m2 >= 0) || !isfinite(min_area_m2))
        return eoi_fail(ctx, EO_E_ARG, "min area must be a number >= 0, got %g", min_area_m2);
    measurer m;
    eo_status st = measurer_init(ctx, &m, f);
    size_t w = 0;
    for (size_t i = 0; i < f->n; i++) {
        double a = 0;
        if (st == EO_OK)
            st = measure(ctx, &m, f->v[i].g, &a);
        if (st == EO_OK && a < min_area_m2) {
            GEOSGeom_destroy_r(ctx->geos, f->v[i].g);
            continue;
        }
        f->v[w++] = f->v[i];
    }
    f->n = w;
    eoi_grid_tf_free(&m.ll);
    return st;
}

static eo_status fill_polygon(eo_ctx *ctx, const measurer *m, double max_hole, GEOSGeometry **out,
                              const GEOSGeometry *p) {
    GEOSContextHandle_t h = ctx->geos;
    int nh = GEOSGetNumInteriorRings_r(h, p);
    GEOSGeometry **holes = eoi_calloc(ctx, (size_t)(nh > 0 ? nh : 0) + 1, sizeof *holes);
    GEOSGeometry *shell = GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, p));
    eo_status st = holes && shell ? EO_OK : eoi_fail(ctx, EO_E_NOMEM, "out of memory (holes)");
    int k = 0;
    for (int i = 0; st == EO_OK && i < nh; i++) {
        GEOSGeometry *r = GEOSGeom_clone_r(h, GEOSGetInteriorRingN_r(h, p, i));
        GEOSGeometry *hp = r ? GEOSGeom_createPolygon_r(h, r, NULL, 0) : NULL;
        double a = 0;
        st = hp ? measure(ctx, m, hp, &a) : eoi_geos_fail(ctx, "a hole");
        GEOSGeom_destroy_r(h, hp);
        if (st == EO_OK && a >= max_hole &&
            !(holes[k++] = GEOSGeom_clone_r(h, GEOSGetInteriorRingN_r(h, p, i))))
            st = eoi_geos_fail(ctx, "copying a hole");
    }
    *out = NULL;
    if (st == EO_OK && !(*out = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)k)))
        st = eoi_geos_fail(ctx, "building a polygon");
    if (st != EO_OK) {
        GEOSGeom_destroy_r(h, shell);
        for (int i = 0; i < k; i++)
            GEOSGeom_destroy_r(h, holes[i]);
    }
    eoi_free(holes);
    return st;
}

eo_status eo_features_fill_holes(eo_ctx *ctx, eo_features *f, double max_hole_m2) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, f);
    if (!(max_hole_m2 >= 0) || !isfinite(max_hole_m2))
        return eoi_fail(ctx, EO_E_ARG, "hole area must be a number >= 0, got %g", max_hole_m2);
    measurer m;
    eo_status st = measurer_init(ctx, &m, f);
    GEOSContextHandle_t h = ctx->geos;
    for (size_t i = 0; i < f->n && st == EO_OK; i++) {
        const GEOSGeometry *g = f->v[i].g;
        int n = GEOSGetNumGeometries_r(h, g);
        GEOSGeometry **parts = eoi_calloc(ctx, (size_t)n + 1, sizeof *parts);
        if (!parts) {
            st = EO_E_NOMEM;
            break;
        }
        for (int k = 0; k < n && st == EO_OK; k++)
            st = fill_polygon(ctx, &m, max_hole_m2, &parts[k], GEOSGetGeometryN_r(h, g, k));
        GEOSGeometry *ng = NULL;
        if (st == EO_OK)
            ng = GEOSGeomTypeId_r(h, g) == GEOS_POLYGON
                     ? parts[0]
                     : GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
        if (st == EO_OK && !ng)
            st = eoi_geos_fail(ctx, "building a multipolygon");
        if (st != EO_OK)
            for (int k = 0; k < n; k++)
                GEOSGeom_destroy_r(h, parts[k]);
        eoi_free(parts);
        if (st == EO_OK) {
            /* a filled hole may now hold a touching part of an 8-connected
             * region: union keeps the MultiPolygon valid */
            if (GEOSisValid_r(h, ng) != 1) {
                GEOSGeometry *u = GEOSUnaryUnion_r(h, ng);
                GEOSGeom_destroy_r(h, ng);
                ng = u;
                if (!ng) {
                    st = eoi_geos_fail(ctx, "filling holes");
                    break;
                }
            }
            GEOSGeom_destroy_r(h, f->v[i].g);
            f->v[i].g = ng;
        }
    }
    eoi_grid_tf_free(&m.ll);
    return st;
}
