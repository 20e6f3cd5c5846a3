/* simplify.c - simplification of feature collections: Douglas-Peucker and
 * topology-preserving per feature (GEOS), coverage-preserving across
 * features (written here: GEOS 3.11 has none), pixel staircase removal, a
 * minimum area and hole filling.
 *
 * Coverage-preserving: the boundaries of all features are unioned into one
 * noded linework, merged into chains between nodes (where three or more
 * polygons meet, or the border of the coverage), and each chain is
 * simplified once with Douglas-Peucker keeping its end nodes; a chain whose
 * simplified form would cross another keeps its original form. The faces
 * of the simplified linework are then given back to the features they
 * overlap, so neighbours still share every edge: no gap, no overlap. */
#include "geom_int.h"
#include "vector_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-feature simplification ---------------------------------------- */

/* Replace ft's geometry with take; check (and repair) validity when asked:
 * Douglas-Peucker may break a polygon, the topology-preserving simplifier
 * does not. */
static eo_status replace_geom(eo_ctx *ctx, eoi_feature *ft, GEOSGeometry *take, bool check) {
    GEOSContextHandle_t h = ctx->geos;
    if (!take)
        return eoi_geos_fail(ctx, "simplifying a feature");
    char v = check ? GEOSisValid_r(h, take) : 1;
    if (v != 1) {
        GEOSGeometry *rep = NULL;
        eo_status st = eoi_geos_repair_take(ctx, &rep, take);
        if (st != EO_OK)
            return st;
        take = rep;
    }
    if (GEOSisEmpty_r(h, take) == 1) { /* collapsed: keep the original */
        GEOSGeom_destroy_r(h, take);
        return EO_OK;
    }
    GEOSGeom_destroy_r(h, ft->g);
    ft->g = take;
    return EO_OK;
}

size_t eoi_farthest(const double *xy, size_t n) {
    size_t far = 1;
    double dmax = -1;
    for (size_t i = 1; i + 1 < n; i++) {
        double d = hypot(xy[2 * i] - xy[0], xy[2 * i + 1] - xy[1]);
        if (d > dmax) {
            dmax = d;
            far = i;
        }
    }
    return far;
}

/* ---- Douglas-Peucker on a coordinate array (keeps both ends) ----------- */

static double seg_dist(const double *p, const double *a, const double *b) {
    double dx = b[0] - a[0], dy = b[1] - a[1];
    double L = dx * dx + dy * dy;
    double t = L > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / L : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = a[0] + t * dx - p[0], y = a[1] + t * dy - p[1];
    return sqrt(x * x + y * y);
}

/* Mark keep[i] for the points of xy[i0..i1] Douglas-Peucker keeps (ends
 * included). Iterative, with an explicit stack. */
eo_status eoi_dp_mark(eo_ctx *ctx, const double *xy, uint8_t *keep, size_t i0, size_t i1,
                      double tol) {
    size_t cap = 64, top = 0;
    size_t *stack = eoi_malloc(ctx, cap * 2 * sizeof *stack);
    if (!stack)
        return EO_E_NOMEM;
    keep[i0] = keep[i1] = 1;
    stack[top++] = i0;
    stack[top++] = i1;
    while (top) {
        size_t b = stack[--top], a = stack[--top];
        double dmax = -1;
        size_t imax = a;
        for (size_t i = a + 1; i < b; i++) {
            double d = seg_dist(xy + 2 * i, xy + 2 * a, xy + 2 * b);
            if (d > dmax) {
                dmax = d;
                imax = i;
            }
        }
        if (dmax > tol) {
            keep[imax] = 1;
            if (top + 4 > cap * 2) {
                size_t *s = eoi_realloc(ctx, stack, cap * 4 * sizeof *s);
                if (!s) {
                    eoi_free(stack);
                    return EO_E_NOMEM;
                }
                stack = s;
                cap *= 2;
            }
            stack[top++] = a;
            stack[top++] = imax;
            stack[top++] = imax;
            stack[top++] = b;
        }
    }
    eoi_free(stack);
    return EO_OK;
}

/* A simplified copy of a chain (LineString); closed chains keep at least
 * three distinct points (split at the point farthest from the start). */
static eo_status simplify_chain(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *line,
                                double tol, const double *frame) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, line);
    unsigned n = 0;
    *out = NULL;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n))
        return eoi_geos_fail(ctx, "reading a chain");
    double *xy = eoi_malloc(ctx, 2 * sizeof(double) * (n ? n : 1));
    uint8_t *keep = eoi_calloc(ctx, n ? n : 1, 1);
    eo_status st = EO_OK;
    if (!xy || !keep) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (unsigned i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(h, cs, i, &xy[2 * i], &xy[2 * i + 1]);
    bool closed = n > 3 && xy[0] == xy[2 * (n - 1)] && xy[1] == xy[2 * (n - 1) + 1];
    /* anchors: the ends, the point farthest from the start of a closed
     * chain, and every point on the border of the polygonized window (the
     * coverage's frame stays exact) */
    keep[0] = keep[n - 1] = 1;
    if (closed && n > 3) {
        size_t far = eoi_farthest(xy, n);
        keep[far] = 1;
    }
    for (unsigned i = 0; frame && i < n; i++)
        if (xy[2 * i] == frame[0] || xy[2 * i] == frame[2] || xy[2 * i + 1] == frame[1] ||
            xy[2 * i + 1] == frame[3])
            keep[i] = 1;
    for (size_t a = 0, b = 1; b < n; b++)
        if (keep[b]) {
            if (b > a + 1)
                EOI_TRY(st, eoi_dp_mark(ctx, xy, keep, a, b, tol));
            a = b;
        }
    if (closed) {
        size_t kept = 0;
        for (unsigned i = 0; i < n; i++)
            kept += keep[i];
        if (kept < 4) { /* a triangle at least */
            size_t best = 0;
            double bd = -1;
            for (unsigned i = 1; i + 1 < n; i++) {
                if (keep[i])
                    continue;
                double d = hypot(xy[2 * i] - xy[0], xy[2 * i + 1] - xy[1]);
                if (d > bd) {
                    bd = d;
                    best = i;
                }
            }
            if (best)
                keep[best] = 1;
        }
    }
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        m += keep[i];
    GEOSCoordSequence *o = GEOSCoordSeq_create_r(h, m, 2);
    for (unsigned i = 0, k = 0; o && i < n; i++)
        if (keep[i])
            GEOSCoordSeq_setXY_r(h, o, k++, xy[2 * i], xy[2 * i + 1]);
    if (!o || !(*out = GEOSGeom_createLineString_r(h, o)))
        st = eoi_geos_fail(ctx, "building a chain");
done:
    eoi_free(xy);
    eoi_free(keep);
    return st;
}

/* ---- coverage-preserving ----------------------------------------------- */

typedef struct cov_hit {
    size_t *v;
    size_t n, cap;
    eo_ctx *ctx;
    bool oom;
} cov_hit;

static void collect_cb(void *item, void *user) {
    cov_hit *c = user;
    if (!eoi_grow(c->ctx, (void **)&c->v, &c->cap, c->n + 1, sizeof *c->v, 16)) {
        c->oom = true;
        return;
    }
    c->v[c->n++] = (size_t)(uintptr_t)item;
}

/* Do chains a and b meet only at common end points? */
static int meet_at_ends(GEOSContextHandle_t h, const GEOSGeometry *a, const GEOSGeometry *b) {
    char in = GEOSIntersects_r(h, a, b);
    if (in != 1)
        return in == 0 ? 1 : -1;
    GEOSGeometry *x = GEOSIntersection_r(h, a, b);
    if (!x)
        return -1;
    int ok = 1;
    int t = GEOSGeomTypeId_r(h, x);
    if (t != GEOS_POINT && t != GEOS_MULTIPOINT)
        ok = 0;
    if (ok) {
        int n = GEOSGetNumGeometries_r(h, x);
        for (int i = 0; ok && i < n; i++) {
            const GEOSGeometry *p = GEOSGetGeometryN_r(h, x, i);
            /* must be an end point of both chains (a closed chain's node is its start) */
            double px, py;
            GEOSGeomGetX_r(h, p, &px);
            GEOSGeomGetY_r(h, p, &py);
            for (int s = 0; s < 2 && ok; s++) {
                const GEOSGeometry *c = s ? b : a;
                const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, c);
                unsigned m = 0;
                GEOSCoordSeq_getSize_r(h, cs, &m);
                double x0, y0, x1, y1;
                GEOSCoordSeq_getXY_r(h, cs, 0, &x0, &y0);
                GEOSCoordSeq_getXY_r(h, cs, m - 1, &x1, &y1);
                if (!((px == x0 && py == y0) || (px == x1 && py == y1)))
                    ok = 0;
            }
        }
    }
    GEOSGeom_destroy_r(h, x);
    return ok;
}

/* Put back the original form of chains whose simplified form crosses
 * itself or another chain, until none does. */
static eo_status resolve_conflicts(eo_ctx *ctx, GEOSSTRtree *tree, GEOSGeometry **orig,
                                   GEOSGeometry **simp, size_t nch, double tol, cov_hit *hitp) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
#define hit (*hitp)
    /* revert chains whose simplified form crosses another or itself */
    for (int pass = 0; pass < 8; pass++) {
        bool changed = false;
        for (size_t k = 0; k < nch; k++) {
            if (GEOSisSimple_r(h, simp[k]) != 1 && simp[k] != orig[k]) {
                GEOSGeom_destroy_r(h, simp[k]);
                if (!(simp[k] = GEOSGeom_clone_r(h, orig[k]))) {
                    st = eoi_geos_fail(ctx, "copying a chain");
                    return st;
                }
                changed = true;
            }
            hit.n = 0;
            GEOSGeometry *env = GEOSEnvelope_r(h, simp[k]);
            GEOSGeometry *big = env ? GEOSBuffer_r(h, env, tol + 1, 1) : NULL;
            GEOSGeom_destroy_r(h, env);
            if (!big) {
                st = eoi_geos_fail(ctx, "indexing a chain");
                return st;
            }
            GEOSSTRtree_query_r(h, tree, big, collect_cb, &hit);
            GEOSGeom_destroy_r(h, big);
            if (hit.oom) {
                st = EO_E_NOMEM;
                return st;
            }
            for (size_t q = 0; q < hit.n; q++) {
                size_t j = hit.v[q];
                if (j == k)
                    continue;
                int ok = meet_at_ends(h, simp[k], simp[j]);
                if (ok < 0) {
                    st = eoi_geos_fail(ctx, "intersecting chains");
                    return st;
                }
                if (!ok) {
                    GEOSGeometry *a = GEOSGeom_clone_r(h, orig[k]);
                    GEOSGeometry *b = GEOSGeom_clone_r(h, orig[j]);
                    GEOSGeom_destroy_r(h, simp[k]);
                    GEOSGeom_destroy_r(h, simp[j]);
                    simp[k] = a;
                    simp[j] = b;
                    if (!a || !b) {
                        st = eoi_geos_fail(ctx, "copying a chain");
                        return st;
                    }
                    changed = true;
                }
            }
        }
        if (!changed)
            break;
    }
#undef hit
    return st;
}

/* Do the interiors of two polygonal geometries intersect? */
static bool overlap(GEOSContextHandle_t h, const GEOSGeometry *a, const GEOSGeometry *b) {
    return GEOSOverlaps_r(h, a, b) == 1 || GEOSCovers_r(h, a, b) == 1 ||
           GEOSCoveredBy_r(h, a, b) == 1;
}

/* Parts and holes of a polygonal geometry, as one number: a simplified
 * feature must keep them (a hole must not slip out of its shell). */
static int64_t shape_of(GEOSContextHandle_t h, const GEOSGeometry *g) {
    int n = GEOSGetNumGeometries_r(h, g);
    int64_t holes = 0;
    for (int k = 0; k < n; k++)
        holes += GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, g, k));
    return (int64_t)n << 32 | holes;
}

/* The polygon(s) a feature's own chains enclose: the faces of the chains
 * at an even depth of nesting (the others fill its holes). NULL when no
 * face is left. */
static eo_status feature_faces(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry **chains,
                               size_t m) {
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    GEOSGeometry *faces = GEOSPolygonize_r(h, chains, (unsigned)m);
    if (!faces)
        return eoi_geos_fail(ctx, "building faces");
    int nf = GEOSGetNumGeometries_r(h, faces);
    eo_status st = EO_OK;
    eoi_geos_list keep = {0};
    GEOSGeometry **shells = eoi_calloc(ctx, (size_t)nf + 1, sizeof *shells);
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    cov_hit hit = {.ctx = ctx};
    if (!shells || !tree) {
        st = eoi_fail(ctx, EO_E_NOMEM, "out of memory (faces)");
        goto done;
    }
    for (int k = 0; k < nf; k++) {
        const GEOSGeometry *fk = GEOSGetGeometryN_r(h, faces, k);
        GEOSGeometry *r = GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, fk));
        if (!r || !(shells[k] = GEOSGeom_createPolygon_r(h, r, NULL, 0))) {
            st = eoi_geos_fail(ctx, "a face's shell");
            goto done;
        }
        GEOSSTRtree_insert_r(h, tree, shells[k], (void *)(uintptr_t)k);
    }
    for (int k = 0; k < nf && st == EO_OK; k++) {
        const GEOSGeometry *fk = GEOSGetGeometryN_r(h, faces, k);
        GEOSGeometry *pt = GEOSPointOnSurface_r(h, fk);
        if (!pt) {
            st = eoi_geos_fail(ctx, "a point in a face");
            break;
        }
        hit.n = 0;
        GEOSSTRtree_query_r(h, tree, pt, collect_cb, &hit);
        int depth = 0;
        for (size_t q = 0; q < hit.n; q++)
            if ((int)hit.v[q] != k && GEOSContains_r(h, shells[hit.v[q]], pt) == 1)
                depth++;
        GEOSGeom_destroy_r(h, pt);
        if (hit.oom)
            st = EO_E_NOMEM;
        else if (depth % 2 == 0) {
            GEOSGeometry *c = GEOSGeom_clone_r(h, fk);
            st = c ? eoi_geos_list_push(ctx, &keep, c) : eoi_geos_fail(ctx, "copying a face");
        }
    }
    if (st == EO_OK && keep.n > 0)
        st = eoi_geos_list_to_polygonal(ctx, out, &keep);
done:
    eoi_geos_list_clear(ctx, &keep);
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    for (int k = 0; shells && k < nf; k++)
        GEOSGeom_destroy_r(h, shells[k]);
    eoi_free(shells);
    eoi_free(hit.v);
    GEOSGeom_destroy_r(h, faces);
    return st;
}

static eo_status coverage_simplify(eo_ctx *ctx, eo_features *f, double tol) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
    GEOSGeometry **bnd = NULL, *all = NULL, *noded = NULL, *merged = NULL;
    GEOSGeometry **orig = NULL, **simp = NULL, **fenv = NULL;
    GEOSSTRtree *tree = NULL, *ftree = NULL;
    size_t *owner = NULL, *nown = NULL;
    GEOSGeometry **newg = NULL;
    cov_hit hit = {.ctx = ctx};
    size_t nch = 0;
    if (f->n == 0)
        return EO_OK;
    const double frame[4] = {(double)f->win.x, (double)f->win.y, (double)(f->win.x + f->win.width),
                             (double)(f->win.y + f->win.height)};
    if (!(bnd = eoi_calloc(ctx, f->n, sizeof *bnd))) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < f->n; i++)
        if (!(bnd[i] = GEOSBoundary_r(h, f->v[i].g))) {
            st = eoi_geos_fail(ctx, "taking a boundary");
            goto done;
        }
    all = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, bnd, (unsigned)f->n);
    eoi_free(bnd);
    bnd = NULL;
    if (!all || !(noded = GEOSUnaryUnion_r(h, all)) || !(merged = GEOSLineMerge_r(h, noded))) {
        st = eoi_geos_fail(ctx, "noding the coverage's edges");
        goto done;
    }
    nch = (size_t)GEOSGetNumGeometries_r(h, merged);
    if (!(orig = eoi_calloc(ctx, nch + 1, sizeof *orig)) ||
        !(simp = eoi_calloc(ctx, nch + 1, sizeof *simp))) {
        st = EO_E_NOMEM;
        goto done;
    }
    tree = GEOSSTRtree_create_r(h, 10);
    for (size_t k = 0; k < nch; k++) {
        orig[k] = (GEOSGeometry *)GEOSGetGeometryN_r(h, merged, (int)k);
        EOI_TRY(st, simplify_chain(ctx, &simp[k], orig[k], tol, frame));
        GEOSSTRtree_insert_r(h, tree, orig[k], (void *)(uintptr_t)k);
    }
    /* which features each chain bounds: those touching the midpoint of its
     * first original segment (exact: vertices are on the pixel grid) */
    ftree = GEOSSTRtree_create_r(h, 10);
    if (!ftree || !(fenv = eoi_calloc(ctx, f->n, sizeof *fenv)) ||
        !(owner = eoi_malloc(ctx, 2 * sizeof *owner * (nch + 1))) ||
        !(nown = eoi_calloc(ctx, f->n + 1, sizeof *nown))) {
        st = eoi_fail(ctx, EO_E_NOMEM, "out of memory (coverage)");
        goto done;
    }
    for (size_t i = 0; i < f->n; i++) {
        fenv[i] = GEOSEnvelope_r(h, f->v[i].g);
        GEOSSTRtree_insert_r(h, ftree, fenv[i], (void *)(uintptr_t)i);
    }
    for (size_t k = 0; k < nch; k++) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, orig[k]);
        double x0, y0, x1, y1;
        GEOSCoordSeq_getXY_r(h, cs, 0, &x0, &y0);
        GEOSCoordSeq_getXY_r(h, cs, 1, &x1, &y1);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, 0.5 * (x0 + x1), 0.5 * (y0 + y1));
        if (!pt) {
            st = eoi_geos_fail(ctx, "a point");
            goto done;
        }
        hit.n = 0;
        GEOSSTRtree_query_r(h, ftree, pt, collect_cb, &hit);
        owner[2 * k] = owner[2 * k + 1] = SIZE_MAX;
        int no = 0;
        for (size_t q = 0; q < hit.n && no < 2; q++)
            if (GEOSIntersects_r(h, f->v[hit.v[q]].g, pt) == 1) {
                owner[2 * k + no++] = hit.v[q];
                nown[hit.v[q]]++;
            }
        GEOSGeom_destroy_r(h, pt);
        if (hit.oom) {
            st = EO_E_NOMEM;
            goto done;
        }
    }
    /* chains of each feature (CSR) */
    size_t *start = eoi_calloc(ctx, f->n + 1, sizeof *start);
    size_t *list = eoi_malloc(ctx, sizeof *list * (2 * nch + 1));
    if (!start || !list) {
        eoi_free(start);
        eoi_free(list);
        st = EO_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < f->n; i++)
        start[i + 1] = start[i] + nown[i];
    memset(nown, 0, sizeof *nown * f->n);
    for (size_t k = 0; k < nch; k++)
        for (int s2 = 0; s2 < 2; s2++) {
            size_t i = owner[2 * k + s2];
            if (i != SIZE_MAX)
                list[start[i] + nown[i]++] = k;
        }
    newg = eoi_calloc(ctx, f->n + 1, sizeof *newg);
    if (!newg) {
        eoi_free(start);
        eoi_free(list);
        st = EO_E_NOMEM;
        goto done;
    }
    /* faces per feature; a feature that loses its face or its validity gets
     * its chains back in their original form, and its neighbours are redone */
    for (int round = 0; round < 6 && st == EO_OK; round++) {
        st = resolve_conflicts(ctx, tree, orig, simp, nch, tol, &hit);
        size_t bad = 0;
        for (size_t i = 0; i < f->n && st == EO_OK; i++) {
            size_t m = start[i + 1] - start[i];
            const GEOSGeometry **mine = eoi_malloc(ctx, sizeof *mine * (m + 1));
            if (!mine) {
                st = EO_E_NOMEM;
                break;
            }
            for (size_t q = 0; q < m; q++)
                mine[q] = simp[list[start[i] + q]];
            GEOSGeom_destroy_r(h, newg[i]);
            newg[i] = NULL;
            st = feature_faces(ctx, &newg[i], mine, m);
            eoi_free(mine);
            if (st == EO_OK && m > 0 &&
                (!newg[i] || GEOSisValid_r(h, newg[i]) != 1 ||
                 shape_of(h, newg[i]) != shape_of(h, f->v[i].g))) {
                bad++;
                for (size_t q = 0; q < m && st == EO_OK; q++) {
                    size_t k = list[start[i] + q];
                    GEOSGeometry *c = GEOSGeom_clone_r(h, orig[k]);
                    if (!c)
                        st = eoi_geos_fail(ctx, "copying a chain");
                    GEOSGeom_destroy_r(h, simp[k]);
                    simp[k] = c;
                }
            }
        }
        /* neighbours (the two owners of a chain) must not overlap */
        for (size_t k = 0; st == EO_OK && bad == 0 && k < nch; k++) {
            size_t i = owner[2 * k], j = owner[2 * k + 1];
            if (i == SIZE_MAX || j == SIZE_MAX || !newg[i] || !newg[j])
                continue;
            if (overlap(h, newg[i], newg[j])) {
                bad++;
                for (int side = 0; side < 2 && st == EO_OK; side++) {
                    size_t o = side ? j : i;
                    for (size_t q = start[o]; q < start[o + 1] && st == EO_OK; q++) {
                        size_t c = list[q];
                        GEOSGeometry *g = GEOSGeom_clone_r(h, orig[c]);
                        if (!g)
                            st = eoi_geos_fail(ctx, "copying a chain");
                        GEOSGeom_destroy_r(h, simp[c]);
                        simp[c] = g;
                    }
                }
            }
        }
        if (st == EO_OK && bad == 0) {
            for (size_t i = 0; i < f->n; i++)
                if (newg[i]) {
                    GEOSGeom_destroy_r(h, f->v[i].g);
                    f->v[i].g = newg[i];
                    newg[i] = NULL;
                }
            break;
        }
    }
    for (size_t i = 0; i < f->n; i++)
        GEOSGeom_destroy_r(h, newg[i]);
    eoi_free(newg);
    eoi_free(start);
    eoi_free(list);
done:
    eoi_free(owner);
    eoi_free(nown);
    if (ftree)
        GEOSSTRtree_destroy_r(h, ftree);
    for (size_t i = 0; fenv && i < f->n; i++)
        GEOSGeom_destroy_r(h, fenv[i]);
    eoi_free(fenv);
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    for (size_t k = 0; simp && k < nch; k++)
        GEOSGeom_destroy_r(h, simp[k]);
    eoi_free(simp);
    eoi_free(orig);
    eoi_free(hit.v);
    GEOSGeom_destroy_r(h, merged);
    GEOSGeom_destroy_r(h, noded);
    GEOSGeom_destroy_r(h, all);
    if (bnd)
        for (size_t i = 0; i < f->n; i++)
            GEOSGeom_destroy_r(h, bnd[i]);
    eoi_free(bnd);
    return st;
}

/* One feature simplified in place (DP or topology-preserving), on ctx's
 * GEOS handle. */
static eo_status simplify_one(eo_ctx *ctx, eoi_feature *ft, double tol, int32_t method) {
    GEOSGeometry *g = method == EO_SIMPLIFY_DP
                          ? GEOSSimplify_r(ctx->geos, ft->g, tol)
                          : GEOSTopologyPreserveSimplify_r(ctx->geos, ft->g, tol);
    return replace_geom(ctx, ft, g, method == EO_SIMPLIFY_DP);
}

/* Features are simplified one by one, each on its own: chunks of them go
 * to the threads, each with a context (and GEOS handle) of its own. */
#define SIMP_CHUNK 256

typedef struct simp_job {
    eo_features *f;
    eo_ctx **w;
    double tol;
    int32_t method;
} simp_job;

static eo_status simp_chunk(void *user, int64_t c, int32_t worker) {
    const simp_job *j = user;
    size_t i0 = (size_t)c * SIMP_CHUNK, i1 = i0 + SIMP_CHUNK < j->f->n ? i0 + SIMP_CHUNK : j->f->n;
    for (size_t i = i0; i < i1; i++)
        EOI_TRY_RET(simplify_one(j->w[worker], &j->f->v[i], j->tol, j->method));
    return EO_OK;
}

static eo_status simplify_parallel(eo_ctx *ctx, eo_features *f, double tol, int32_t method,
                                   int32_t nt) {
    simp_job j = {f, eoi_calloc(ctx, (size_t)nt, sizeof(eo_ctx *)), tol, method};
    if (!j.w)
        return EO_E_NOMEM;
    eo_status st = EO_OK;
    for (int32_t w = 0; w < nt && st == EO_OK; w++)
        st = eoi_ctx_worker_new(ctx, &j.w[w]);
    if (st == EO_OK)
        st = eoi_ctx_take_first(
            ctx,
            eoi_parallel_for(ctx, (int64_t)((f->n + SIMP_CHUNK - 1) / SIMP_CHUNK), simp_chunk, &j),
            j.w, nt);
    for (int32_t w = 0; w < nt; w++)
        eo_ctx_free(j.w[w]);
    eoi_free(j.w);
    if (st == EO_OK)
        st = eoi_progress(ctx, 1.0, "simplify");
    return st;
}

eo_status eo_features_simplify(eo_ctx *ctx, eo_features *f, double tolerance_m, int32_t method) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, f);
    if (!(tolerance_m >= 0) || !isfinite(tolerance_m))
        return eoi_fail(ctx, EO_E_ARG, "simplify: tolerance must be a number >= 0, got %g",
                        tolerance_m);
    if (method < EO_SIMPLIFY_DP || method > EO_SIMPLIFY_COVERAGE)
        return eoi_fail(ctx, EO_E_ARG, "simplify: unknown method %d", (int)method);
    double px = 1;
    eo_status st = eoi_features_pixel_metres(ctx, f, &px);
    if (st != EO_OK)
        return st;
    double tol = px > 0 ? tolerance_m / px : tolerance_m;
    if (tol == 0)
        return EO_OK;
    if (method == EO_SIMPLIFY_COVERAGE)
        return coverage_simplify(ctx, f, tol);
    int32_t nt = eoi_threads(ctx);
    if (nt > 1 && f->n >= 2 * SIMP_CHUNK)
        return simplify_parallel(ctx, f, tol, method, nt > 64 ? 64 : nt);
    for (size_t i = 0; i < f->n && st == EO_OK; i++) {
        st = simplify_one(ctx, &f->v[i], tol, method);
        if (st == EO_OK && (i & 1023) == 1023)
            st = eoi_progress(ctx, (double)i / (double)f->n, "simplify");
    }
    return st;
}
