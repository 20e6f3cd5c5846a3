/* regularize.c - building outlines to right angles.
 *
 * Per ring: Douglas-Peucker at one pixel removes the staircase; the
 * dominant orientation is the length-weighted mean of the edge directions
 * modulo 90 degrees (averaged as 4 x angle on the unit circle); in that
 * frame each edge becomes horizontal, vertical, or (where allowed and the
 * edge is clearly diagonal) at 45 degrees; runs of edges of one kind merge
 * into one line at their length-weighted mean offset; short edges between
 * two lines of one kind are folded in; the corners are the intersections of
 * consecutive lines. A polygon whose regular form moves further than the
 * bounds (Hausdorff distance, relative area) or is invalid stays as it was. */
#include "geom_int.h"
#include "vector_int.h"

#include <math.h>
#include <string.h>

eo_status eo_regularize_opts_new(eo_ctx *ctx, eo_regularize_opts **out) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    eo_regularize_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!(*out = o))
        return EO_E_NOMEM;
    o->max_area_change = 0.15;
    o->allow_45 = true;
    return EO_OK;
}

void eo_regularize_opts_free(eo_regularize_opts *o) { eoi_free(o); }

eo_status eo_regularize_opts_set_max_distance(eo_ctx *ctx, eo_regularize_opts *o, double metres) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (!(metres > 0) || !isfinite(metres))
        return eoi_fail(ctx, EO_E_ARG, "regularize: max distance must be > 0, got %g", metres);
    o->max_distance_m = metres;
    return EO_OK;
}

eo_status eo_regularize_opts_set_max_area_change(eo_ctx *ctx, eo_regularize_opts *o,
                                                 double fraction) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (!(fraction > 0) || !isfinite(fraction))
        return eoi_fail(ctx, EO_E_ARG, "regularize: max area change must be > 0, got %g", fraction);
    o->max_area_change = fraction;
    return EO_OK;
}

eo_status eo_regularize_opts_set_allow_45(eo_ctx *ctx, eo_regularize_opts *o, int32_t allow) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    o->allow_45 = allow != 0;
    return EO_OK;
}

/* a line a*x + b*y = c in the rotated frame, of kind 0 H, 1 V, 2 D+, 3 D- */
typedef struct line {
    int kind;
    double c;      /* weighted sum of the original segments' offsets, then the mean */
    double w;      /* their total length */
    double len;    /* length of the simplified edges (for folding) */
    size_t i0, i1; /* original points supporting the line */
} line;

static const double KA[4] = {0, 1, -1, 1};
static const double KB[4] = {1, 0, 1, 1};

typedef struct reg_ctx {
    bool allow_45;
    double angle; /* dominant orientation (radians), per polygon */
} reg_ctx;

static double dominant_angle(const double *xy, size_t n) {
    double s = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        double dx = xy[2 * j] - xy[2 * i], dy = xy[2 * j + 1] - xy[2 * i + 1];
        double L = hypot(dx, dy), a = atan2(dy, dx);
        s += L * sin(4 * a);
        c += L * cos(4 * a);
    }
    return atan2(s, c) / 4;
}

/* Add the original segments of all[i0 .. i1] (cyclic, n points) to line l. */
static void support(line *l, const double *all, size_t n, size_t i0, size_t i1) {
    for (size_t i = i0; i != i1; i = (i + 1) % n) {
        size_t j = (i + 1) % n;
        double mx = 0.5 * (all[2 * i] + all[2 * j]), my = 0.5 * (all[2 * i + 1] + all[2 * j + 1]);
        double w = hypot(all[2 * j] - all[2 * i], all[2 * j + 1] - all[2 * i + 1]);
        l->c += w * (KA[l->kind] * mx + KB[l->kind] * my);
        l->w += w;
    }
}

/* Regular ring from the original points all (n, rotated frame, not closed)
 * and the Douglas-Peucker vertices kidx (k of them): out gets *m points
 * (capacity k); *m = 0 when it cannot be regularized. */
static void regular_ring(const double *all, size_t n, const size_t *kidx, size_t k, bool allow45,
                         line *L, double *out, size_t *m) {
    size_t nl = 0;
    *m = 0;
    for (size_t e = 0; e < k; e++) {
        size_t i = kidx[e], j = kidx[(e + 1) % k];
        double x0 = all[2 * i], y0 = all[2 * i + 1], x1 = all[2 * j], y1 = all[2 * j + 1];
        double len = hypot(x1 - x0, y1 - y0);
        if (len == 0)
            continue;
        double a = fmod(atan2(y1 - y0, x1 - x0) * 180 / M_PI + 360, 180); /* [0, 180) */
        int kind;
        if (allow45 && len >= 8 && fabs(a - 45) < 8)
            kind = 2;
        else if (allow45 && len >= 8 && fabs(a - 135) < 8)
            kind = 3;
        else
            kind = (a > 45 && a < 135) ? 1 : 0;
        if (!(nl && L[nl - 1].kind == kind))
            L[nl++] = (line){kind, 0, 0, 0, i, j};
        L[nl - 1].len += len;
        L[nl - 1].i1 = j;
    }
    if (nl > 1 && L[nl - 1].kind == L[0].kind) {
        L[0].len += L[nl - 1].len;
        L[0].i0 = L[nl - 1].i0;
        nl--;
    }
    /* fold short lines: between two lines of one kind (a step), or short
     * diagonals (a cut corner) */
    for (bool changed = true; changed && nl > 4;) {
        changed = false;
        size_t best = nl;
        double bl = 4.0;
        for (size_t q = 0; q < nl; q++) {
            size_t p = (q + nl - 1) % nl, r = (q + 1) % nl;
            if ((L[p].kind == L[r].kind || L[q].kind >= 2) && L[q].len < bl) {
                bl = L[q].len;
                best = q;
            }
        }
        if (best == nl)
            break;
        size_t p = (best + nl - 1) % nl, r = (best + 1) % nl;
        size_t w = 0;
        if (L[p].kind == L[r].kind) { /* p absorbs best and r */
            L[p].len += L[best].len + L[r].len;
            L[p].i1 = L[r].i1;
            for (size_t q = 0; q < nl; q++)
                if (q != best && q != r)
                    L[w++] = L[q];
        } else { /* drop the diagonal: its neighbours meet */
            L[p].i1 = L[best].i1;
            for (size_t q = 0; q < nl; q++)
                if (q != best)
                    L[w++] = L[q];
        }
        nl = w;
        changed = true;
    }
    if (nl < 3)
        return;
    for (size_t q = 0; q < nl; q++) {
        support(&L[q], all, n, L[q].i0, L[q].i1);
        if (L[q].w <= 0)
            return;
        L[q].c /= L[q].w;
    }
    for (size_t q = 0; q < nl; q++) {
        const line *a = &L[q], *b = &L[(q + 1) % nl];
        double a1 = KA[a->kind], b1 = KB[a->kind], a2 = KA[b->kind], b2 = KB[b->kind];
        double det = a1 * b2 - a2 * b1;
        if (fabs(det) < 1e-12)
            return;
        out[2 * q] = (a->c * b2 - b->c * b1) / det;
        out[2 * q + 1] = (a1 * b->c - a2 * a->c) / det;
    }
    *m = nl;
}

static eo_status reg_ring(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *ring,
                          const reg_ctx *rc) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    *out = NULL;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n))
        return eoi_geos_fail(ctx, "reading a ring");
    if (n < 4)
        return EO_OK;
    double *xy = eoi_malloc(ctx, 4 * sizeof(double) * n);
    uint8_t *keep = eoi_calloc(ctx, n, 1);
    line *L = eoi_malloc(ctx, sizeof *L * n);
    size_t *kidx = eoi_malloc(ctx, sizeof *kidx * n);
    eo_status st = EO_OK;
    if (!xy || !keep || !L || !kidx) {
        st = EO_E_NOMEM;
        goto done;
    }
    double *rx = xy + 2 * n;
    for (unsigned i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(h, cs, i, &xy[2 * i], &xy[2 * i + 1]);
    /* Douglas-Peucker at one pixel, split at the farthest point */
    size_t far = eoi_farthest(xy, n);
    EOI_TRY(st, eoi_dp_mark(ctx, xy, keep, 0, far, 1.5));
    EOI_TRY(st, eoi_dp_mark(ctx, xy, keep, far, n - 1, 1.5));
    size_t k = 0, N = n - 1; /* original points without the closing one */
    double ca = cos(-rc->angle), sa = sin(-rc->angle);
    for (size_t i = 0; i < N; i++) {
        rx[2 * i] = ca * xy[2 * i] - sa * xy[2 * i + 1];
        rx[2 * i + 1] = sa * xy[2 * i] + ca * xy[2 * i + 1];
        if (keep[i])
            kidx[k++] = i;
    }
    size_t m = 0;
    if (k >= 3)
        regular_ring(rx, N, kidx, k, rc->allow_45, L, xy, &m);
    if (m < 3)
        goto done;
    GEOSCoordSequence *o = GEOSCoordSeq_create_r(h, (unsigned)m + 1, 2);
    double cb = cos(rc->angle), sb = sin(rc->angle);
    for (size_t i = 0; o && i <= m; i++) {
        double x = xy[2 * (i % m)], y = xy[2 * (i % m) + 1];
        GEOSCoordSeq_setXY_r(h, o, (unsigned)i, cb * x - sb * y, sb * x + cb * y);
    }
    if (!o || !(*out = GEOSGeom_createLinearRing_r(h, o)))
        st = eoi_geos_fail(ctx, "building a ring");
done:
    eoi_free(xy);
    eoi_free(keep);
    eoi_free(L);
    eoi_free(kidx);
    return st;
}

static eo_status reg_polygon(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *p, void *user) {
    GEOSContextHandle_t h = ctx->geos;
    reg_ctx rc = *(const reg_ctx *)user;
    *out = NULL;
    /* the orientation of the outline, from its Douglas-Peucker form */
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(h, p);
    GEOSGeometry *dp = GEOSSimplify_r(h, shell, 1.5);
    const GEOSCoordSequence *cs = dp ? GEOSGeom_getCoordSeq_r(h, dp) : NULL;
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n)) {
        GEOSGeom_destroy_r(h, dp);
        return eoi_geos_fail(ctx, "simplifying an outline");
    }
    double *xy = eoi_malloc(ctx, 2 * sizeof(double) * (n ? n : 1));
    if (!xy) {
        GEOSGeom_destroy_r(h, dp);
        return EO_E_NOMEM;
    }
    for (unsigned i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(h, cs, i, &xy[2 * i], &xy[2 * i + 1]);
    rc.angle = n > 1 ? dominant_angle(xy, n - 1) : 0;
    eoi_free(xy);
    GEOSGeom_destroy_r(h, dp);
    /* the shell is regularized; holes stay as they are where they still lie
     * inside it (a building's holes are rare and small) */
    int nh = GEOSGetNumInteriorRings_r(h, p);
    GEOSGeometry **holes = eoi_calloc(ctx, (size_t)(nh > 0 ? nh : 0) + 1, sizeof *holes);
    GEOSGeometry *sh = NULL, *shell_poly = NULL;
    eo_status st = holes ? EO_OK : EO_E_NOMEM;
    /* refine the orientation: the candidate closest to the outline wins */
    double base = rc.angle, best_d = INFINITY;
    GEOSGeometry *shell_only = NULL;
    if (st == EO_OK) {
        GEOSGeometry *sc = GEOSGeom_clone_r(h, shell);
        shell_only = sc ? GEOSGeom_createPolygon_r(h, sc, NULL, 0) : NULL;
        if (!shell_only)
            st = eoi_geos_fail(ctx, "building a polygon");
    }
    for (int t = -4; st == EO_OK && t <= 4; t++) {
        rc.angle = base + t * 0.75 * M_PI / 180;
        GEOSGeometry *cand = NULL, *cp = NULL;
        st = reg_ring(ctx, &cand, shell, &rc);
        if (st != EO_OK || !cand)
            continue;
        if (!(cp = GEOSGeom_createPolygon_r(h, cand, NULL, 0))) {
            st = eoi_geos_fail(ctx, "building a polygon");
            break;
        }
        GEOSGeometry *x = GEOSisValid_r(h, cp) == 1 ? GEOSSymDifference_r(h, cp, shell_only) : NULL;
        double d = INFINITY;
        if (x)
            GEOSArea_r(h, x, &d);
        GEOSGeom_destroy_r(h, x);
        if (d < best_d) {
            best_d = d;
            GEOSGeom_destroy_r(h, sh);
            sh = GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, cp));
        }
        GEOSGeom_destroy_r(h, cp);
    }
    GEOSGeom_destroy_r(h, shell_only);
    if (st == EO_OK && !sh && !(sh = GEOSGeom_clone_r(h, shell)))
        st = eoi_geos_fail(ctx, "copying a ring");
    GEOSGeometry *shc = st == EO_OK ? GEOSGeom_clone_r(h, sh) : NULL;
    if (st == EO_OK && (!shc || !(shell_poly = GEOSGeom_createPolygon_r(h, shc, NULL, 0))))
        st = eoi_geos_fail(ctx, "building a polygon");
    int kept = 0;
    for (int i = 0; st == EO_OK && i < nh; i++) {
        const GEOSGeometry *r = GEOSGetInteriorRingN_r(h, p, i);
        GEOSGeometry *rc2 = GEOSGeom_clone_r(h, r);
        GEOSGeometry *hp = rc2 ? GEOSGeom_createPolygon_r(h, rc2, NULL, 0) : NULL;
        if (!hp) {
            st = eoi_geos_fail(ctx, "a hole");
            break;
        }
        if (GEOSRelatePattern_r(h, hp, shell_poly, "TFF*FF***") == 1 &&
            !(holes[kept++] = GEOSGeom_clone_r(h, r)))
            st = eoi_geos_fail(ctx, "copying a hole");
        GEOSGeom_destroy_r(h, hp);
    }
    GEOSGeom_destroy_r(h, shell_poly);
    nh = kept;
    if (st == EO_OK && !(*out = GEOSGeom_createPolygon_r(h, sh, holes, (unsigned)nh)))
        st = eoi_geos_fail(ctx, "building a polygon");
    if (st != EO_OK) {
        GEOSGeom_destroy_r(h, sh);
        for (int i = 0; holes && i < nh; i++)
            GEOSGeom_destroy_r(h, holes[i]);
    }
    eoi_free(holes);
    return st;
}

eo_status eo_features_regularize(eo_ctx *ctx, eo_features *f, const eo_regularize_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, f);
    eo_regularize_opts d = {.max_area_change = 0.15, .allow_45 = true};
    const eo_regularize_opts *o = opts ? opts : &d;
    double px = 1;
    eo_status st = eoi_features_pixel_metres(ctx, f, &px);
    if (st != EO_OK)
        return st;
    double maxd = o->max_distance_m > 0 && px > 0 ? o->max_distance_m / px : 3.0;
    reg_ctx rc = {.allow_45 = o->allow_45};
    GEOSContextHandle_t h = ctx->geos;
    for (size_t i = 0; i < f->n; i++) {
        GEOSGeometry *g = NULL;
        EOI_TRY(st, eoi_map_polygons(ctx, &g, f->v[i].g, reg_polygon, &rc));
        double a0 = 0, a1 = 0, hd = INFINITY;
        bool ok = GEOSisValid_r(h, g) == 1 && GEOSArea_r(h, f->v[i].g, &a0) &&
                  GEOSArea_r(h, g, &a1) && GEOSHausdorffDistance_r(h, f->v[i].g, g, &hd);
        if (ok && hd <= maxd && fabs(a1 - a0) <= o->max_area_change * a0) {
            GEOSGeom_destroy_r(h, f->v[i].g);
            f->v[i].g = g;
        } else
            GEOSGeom_destroy_r(h, g);
        if ((i & 1023) == 1023)
            EOI_TRY(st, eoi_progress(ctx, (double)i / (double)f->n, "regularize"));
    }
done:
    return st;
}
