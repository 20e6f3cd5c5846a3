/* geom.c - the AOI geometry object: polygonal GEOS geometry + CRS, options,
 * bounding box, counts, reprojection with densification, geodesic area. */
#include "geom_int.h"

#include <math.h>
#include <string.h>

/* Densification: edges are split into pieces no longer than 1/DENSIFY_DIV
 * of the bbox diagonal, adding at most max(DENSIFY_MIN_BUDGET, vertices)
 * vertices in all. */
#define DENSIFY_DIV 100.0
#define DENSIFY_MIN_BUDGET 20000

/* ------------------------------------------------------------------------ */
/* GEOS helpers                                                              */
/* ------------------------------------------------------------------------ */

eo_status eoi_geos_fail(eo_ctx *ctx, const char *what) {
    return eoi_fail(ctx, EO_E_GEOMETRY, "GEOS failed %s: %s", what,
                    ctx->geos_msg[0] ? ctx->geos_msg : "unknown error");
}

eo_status eoi_geos_list_push(eo_ctx *ctx, eoi_geos_list *l, GEOSGeometry *take) {
    if (!eoi_grow(ctx, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 8)) {
        GEOSGeom_destroy_r(ctx->geos, take);
        return eo_ctx_status(ctx);
    }
    l->v[l->n++] = take;
    return EO_OK;
}

void eoi_geos_list_clear(eo_ctx *ctx, eoi_geos_list *l) {
    for (size_t i = 0; i < l->n; i++)
        GEOSGeom_destroy_r(ctx->geos, l->v[i]);
    eoi_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

eo_status eoi_geos_collect_polygons(eo_ctx *ctx, eoi_geos_list *l, const GEOSGeometry *g) {
    int t = GEOSGeomTypeId_r(ctx->geos, g);
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(ctx->geos, g) == 1)
            return EO_OK;
        GEOSGeometry *c = GEOSGeom_clone_r(ctx->geos, g);
        if (!c)
            return eoi_geos_fail(ctx, "copying a polygon");
        return eoi_geos_list_push(ctx, l, c);
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(ctx->geos, g);
        for (int i = 0; i < n; i++) {
            eo_status st = eoi_geos_collect_polygons(ctx, l, GEOSGetGeometryN_r(ctx->geos, g, i));
            if (st != EO_OK)
                return st;
        }
    }
    return EO_OK; /* points and lines carry no area */
}

eo_status eoi_geos_list_to_polygonal(eo_ctx *ctx, GEOSGeometry **out, eoi_geos_list *l) {
    *out = NULL;
    GEOSGeometry *r;
    if (l->n == 1) {
        r = l->v[0];
        l->n = 0;
    } else {
        if (l->n > UINT32_MAX) {
            eoi_geos_list_clear(ctx, l);
            return eoi_fail(ctx, EO_E_AOI_TOO_LARGE, "too many polygons");
        }
        /* the collection takes the polygons, in any case */
        r = GEOSGeom_createCollection_r(ctx->geos, GEOS_MULTIPOLYGON, l->v, (unsigned)l->n);
        l->n = 0;
    }
    eoi_geos_list_clear(ctx, l);
    if (!r)
        return eoi_geos_fail(ctx, "making a MultiPolygon");
    *out = r;
    return EO_OK;
}

eo_status eoi_geos_polygonal_take(eo_ctx *ctx, GEOSGeometry **out, GEOSGeometry *take) {
    *out = NULL;
    int t = GEOSGeomTypeId_r(ctx->geos, take);
    if (t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON) {
        *out = take;
        return EO_OK;
    }
    eoi_geos_list l = {0};
    eo_status st = eoi_geos_collect_polygons(ctx, &l, take);
    GEOSGeom_destroy_r(ctx->geos, take);
    if (st != EO_OK) {
        eoi_geos_list_clear(ctx, &l);
        return st;
    }
    return eoi_geos_list_to_polygonal(ctx, out, &l);
}

eo_status eoi_geos_repair_take(eo_ctx *ctx, GEOSGeometry **out, GEOSGeometry *take) {
    *out = NULL;
    ctx->geos_msg[0] = '\0';
    /* the "structure" method reads overlapping shells as their union and
     * holes as holes, as a person drawing an AOI means them (the
     * "linework" method would cut overlaps out); collapsed parts go */
    GEOSMakeValidParams *mp = GEOSMakeValidParams_create_r(ctx->geos);
    GEOSGeometry *v = NULL;
    if (mp && GEOSMakeValidParams_setMethod_r(ctx->geos, mp, GEOS_MAKE_VALID_STRUCTURE) &&
        GEOSMakeValidParams_setKeepCollapsed_r(ctx->geos, mp, 0))
        v = GEOSMakeValidWithParams_r(ctx->geos, take, mp);
    if (mp)
        GEOSMakeValidParams_destroy_r(ctx->geos, mp);
    GEOSGeom_destroy_r(ctx->geos, take);
    if (!v)
        return eoi_geos_fail(ctx, "repairing the geometry");
    GEOSGeometry *p;
    eo_status st = eoi_geos_polygonal_take(ctx, &p, v);
    if (st != EO_OK)
        return st;
    /* keeping the polygons of a valid collection can leave parts that
     * touch along an edge: dissolve them */
    if (GEOSisValid_r(ctx->geos, p) != 1) {
        GEOSGeometry *u = GEOSUnaryUnion_r(ctx->geos, p);
        GEOSGeom_destroy_r(ctx->geos, p);
        if (!u)
            return eoi_geos_fail(ctx, "dissolving the repaired polygons");
        if ((st = eoi_geos_polygonal_take(ctx, &p, u)) != EO_OK)
            return st;
    }
    *out = p;
    return EO_OK;
}

/* ------------------------------------------------------------------------ */
/* eo_geom                                                                   */
/* ------------------------------------------------------------------------ */

eo_status eoi_geom_wrap(eo_ctx *ctx, eo_geom **out, GEOSGeometry *take, char *crs_wkt_take,
                        bool is_geographic) {
    *out = NULL;
    GEOSGeometry *p = NULL;
    eo_status st = eoi_geos_polygonal_take(ctx, &p, take);
    if (st == EO_OK && GEOSisValid_r(ctx->geos, p) != 1) {
        GEOSGeometry *tmp = p;
        p = NULL;
        st = eoi_geos_repair_take(ctx, &p, tmp);
    }
    if (st == EO_OK && GEOSisEmpty_r(ctx->geos, p) != 0)
        st = eoi_fail(ctx, EO_E_GEOMETRY, "the geometry has no area (no polygon is left)");
    eo_geom *g = NULL;
    if (st == EO_OK && !(g = eoi_calloc(ctx, 1, sizeof *g)))
        st = EO_E_NOMEM;
    if (st != EO_OK) {
        if (p)
            GEOSGeom_destroy_r(ctx->geos, p);
        eoi_free(crs_wkt_take);
        return st;
    }
    g->geos = ctx->geos;
    g->g = p;
    g->crs_wkt = crs_wkt_take;
    g->is_geographic = is_geographic;
    *out = g;
    return EO_OK;
}

eo_status eoi_geom_from_geos_take(eo_ctx *ctx, eo_geom **out, GEOSGeometry *take,
                                  const char *crs_def) {
    *out = NULL;
    char *wkt = NULL;
    bool geo = false;
    eo_status st = eoi_crs_to_wkt(ctx, &wkt, crs_def, &geo);
    if (st != EO_OK) {
        GEOSGeom_destroy_r(ctx->geos, take);
        return st;
    }
    return eoi_geom_wrap(ctx, out, take, wkt, geo);
}

const GEOSGeometry *eoi_geom_geos(const eo_geom *g) { return g ? g->g : NULL; }

bool eoi_geom_is_geographic(const eo_geom *g) { return g && g->is_geographic; }

eo_status eoi_geom_clone(eo_ctx *ctx, eo_geom **out, const eo_geom *g) {
    *out = NULL;
    char *wkt = eoi_strdup(ctx, g->crs_wkt);
    if (!wkt)
        return EO_E_NOMEM;
    GEOSGeometry *c = GEOSGeom_clone_r(ctx->geos, g->g);
    if (!c) {
        eoi_free(wkt);
        return eoi_geos_fail(ctx, "copying the geometry");
    }
    return eoi_geom_wrap(ctx, out, c, wkt, g->is_geographic);
}

void eo_geom_free(eo_geom *g) {
    if (!g)
        return;
    if (g->g)
        GEOSGeom_destroy_r(g->geos, g->g);
    eoi_free(g->crs_wkt);
    eoi_free(g);
}

const char *eo_geom_crs_wkt(const eo_geom *g) { return g ? g->crs_wkt : NULL; }

int64_t eo_geom_polygon_count(const eo_geom *g) {
    if (!g)
        return 0;
    int n = GEOSGetNumGeometries_r(g->geos, g->g);
    return n < 0 ? 0 : n;
}

int64_t eo_geom_vertex_count(const eo_geom *g) {
    if (!g)
        return 0;
    int n = GEOSGetNumCoordinates_r(g->geos, g->g);
    return n < 0 ? 0 : n;
}

eo_status eo_geom_bbox(eo_ctx *ctx, const eo_geom *g, eo_bbox *out) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    memset(out, 0, sizeof *out);
    EOI_CHECK_ARG(ctx, g);
    double b[4];
    if (!GEOSGeom_getXMin_r(ctx->geos, g->g, &b[0]) ||
        !GEOSGeom_getYMin_r(ctx->geos, g->g, &b[1]) ||
        !GEOSGeom_getXMax_r(ctx->geos, g->g, &b[2]) || !GEOSGeom_getYMax_r(ctx->geos, g->g, &b[3]))
        return eoi_geos_fail(ctx, "computing the bounding box");
    out->xmin = b[0];
    out->ymin = b[1];
    out->xmax = b[2];
    out->ymax = b[3];
    return EO_OK;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

eo_status eo_geom_opts_new(eo_ctx *ctx, eo_geom_opts **out) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = eoi_calloc(ctx, 1, sizeof **out);
    if (!*out)
        return EO_E_NOMEM;
    (*out)->allow_z = true; /* RFC 7946 3.1.1: an altitude is allowed; dropped */
    return EO_OK;
}

void eo_geom_opts_free(eo_geom_opts *o) {
    if (!o)
        return;
    eoi_free(o->crs_def);
    eoi_free(o->crs_wkt);
    eoi_free(o);
}

eo_status eo_geom_opts_set_crs(eo_ctx *ctx, eo_geom_opts *o, const char *crs) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    EOI_CHECK_ARG(ctx, crs && *crs);
    char *wkt = NULL, *def = NULL;
    bool geo = false;
    eo_status st = eoi_crs_to_wkt(ctx, &wkt, crs, &geo);
    if (st != EO_OK)
        return st;
    if (!(def = eoi_strdup(ctx, crs))) {
        eoi_free(wkt);
        return EO_E_NOMEM;
    }
    eoi_free(o->crs_def);
    eoi_free(o->crs_wkt);
    o->crs_def = def;
    o->crs_wkt = wkt;
    o->crs_geographic = geo;
    return EO_OK;
}

eo_status eo_geom_opts_set_repair(eo_ctx *ctx, eo_geom_opts *o, int32_t repair) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    o->repair = repair != 0;
    return EO_OK;
}

eo_status eo_geom_opts_set_allow_z(eo_ctx *ctx, eo_geom_opts *o, int32_t allow) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    o->allow_z = allow != 0;
    return EO_OK;
}

/* One of the per-AOI limits: *slot = max (> 0). */
static eo_status set_limit(eo_ctx *ctx, eo_geom_opts *o, int64_t *slot, const char *what,
                           int64_t max) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (max <= 0)
        return eoi_fail(ctx, EO_E_ARG, "%s must be positive, got %lld", what, (long long)max);
    *slot = max;
    return EO_OK;
}

eo_status eo_geom_opts_set_max_vertices(eo_ctx *ctx, eo_geom_opts *o, int64_t max) {
    return set_limit(ctx, o, o ? &o->max_vertices : NULL, "max_vertices", max);
}

eo_status eo_geom_opts_set_max_features(eo_ctx *ctx, eo_geom_opts *o, int64_t max) {
    return set_limit(ctx, o, o ? &o->max_features : NULL, "max_features", max);
}

eo_status eo_geom_opts_set_max_bytes(eo_ctx *ctx, eo_geom_opts *o, int64_t max) {
    return set_limit(ctx, o, o ? &o->max_bytes : NULL, "max_aoi_bytes", max);
}

/* ------------------------------------------------------------------------ */
/* Reprojection                                                              */
/* ------------------------------------------------------------------------ */

/* Calls fn on every ring of every polygon of g (in order: exterior, holes);
 * ring is 0 for an exterior ring and k for hole k. */
typedef eo_status (*ring_fn)(eo_ctx *ctx, void *user, const GEOSCoordSequence *cs, unsigned n,
                             int ring);

static eo_status for_each_ring(eo_ctx *ctx, const GEOSGeometry *g, ring_fn fn, void *user) {
    int np = GEOSGetNumGeometries_r(ctx->geos, g);
    for (int i = 0; i < np; i++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(ctx->geos, g, i);
        int nh = GEOSGetNumInteriorRings_r(ctx->geos, poly);
        if (nh < 0)
            return eoi_geos_fail(ctx, "reading a polygon");
        for (int r = 0; r <= nh; r++) {
            const GEOSGeometry *ring = r == 0 ? GEOSGetExteriorRing_r(ctx->geos, poly)
                                              : GEOSGetInteriorRingN_r(ctx->geos, poly, r - 1);
            const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(ctx->geos, ring) : NULL;
            unsigned n = 0;
            if (!cs || !GEOSCoordSeq_getSize_r(ctx->geos, cs, &n))
                return eoi_geos_fail(ctx, "reading a ring");
            eo_status st = fn(ctx, user, cs, n, r);
            if (st != EO_OK)
                return st;
        }
    }
    return EO_OK;
}

typedef struct densify_stats {
    double seg;    /* longest piece allowed */
    double pieces; /* pieces the edges are split into, in all */
    double edges;
    double length; /* sum of edge lengths */
} densify_stats;

static double pieces_for(double len, double seg) {
    if (!(len > seg) || !(seg > 0))
        return 1;
    double k = ceil(len / seg);
    return k < 1 ? 1 : k;
}

static eo_status count_ring(eo_ctx *ctx, void *user, const GEOSCoordSequence *cs, unsigned n,
                            int ring) {
    densify_stats *s = user;
    double x0 = 0, y0 = 0, x1, y1;
    for (unsigned i = 0; i < n; i++) {
        if (!GEOSCoordSeq_getXY_r(ctx->geos, cs, i, &x1, &y1))
            return eoi_geos_fail(ctx, "reading a coordinate");
        if (i > 0) {
            double len = hypot(x1 - x0, y1 - y0);
            s->pieces += pieces_for(len, s->seg);
            s->edges += 1;
            s->length += len;
        }
        x0 = x1;
        y0 = y1;
    }
    return EO_OK;
}

typedef struct reproject_state {
    PJ *pj;
    double seg;
    eoi_geos_list rings; /* rings of the current polygon */
} reproject_state;

/* Densify one ring, transform it, and append the new ring to st->rings. */
static eo_status reproject_ring(eo_ctx *ctx, void *user, const GEOSCoordSequence *cs, unsigned n,
                                int ring_index) {
    reproject_state *s = user;
    /* count the output vertices */
    size_t m = n ? 1 : 0;
    double x0 = 0, y0 = 0, x1, y1;
    for (unsigned i = 0; i < n; i++) {
        if (!GEOSCoordSeq_getXY_r(ctx->geos, cs, i, &x1, &y1))
            return eoi_geos_fail(ctx, "reading a coordinate");
        if (i > 0)
            m += (size_t)pieces_for(hypot(x1 - x0, y1 - y0), s->seg);
        x0 = x1;
        y0 = y1;
    }
    size_t bytes;
    if (m > UINT32_MAX || eoi_mul_size(&bytes, m, 2 * sizeof(double)))
        return eoi_fail(ctx, EO_E_AOI_TOO_LARGE, "densified ring has too many vertices");
    double *xy = eoi_malloc(ctx, bytes);
    if (!xy)
        return EO_E_NOMEM;
    size_t k = 0;
    for (unsigned i = 0; i < n; i++) {
        GEOSCoordSeq_getXY_r(ctx->geos, cs, i, &x1, &y1);
        if (i > 0) {
            double p = pieces_for(hypot(x1 - x0, y1 - y0), s->seg);
            for (double j = 1; j < p; j++) {
                xy[2 * k] = x0 + (x1 - x0) * (j / p);
                xy[2 * k + 1] = y0 + (y1 - y0) * (j / p);
                k++;
            }
        }
        xy[2 * k] = x1;
        xy[2 * k + 1] = y1;
        k++;
        x0 = x1;
        y0 = y1;
    }
    proj_errno_reset(s->pj);
    proj_trans_generic(s->pj, PJ_FWD, xy, 2 * sizeof(double), k, xy + 1, 2 * sizeof(double), k,
                       NULL, 0, 0, NULL, 0, 0);
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) {
            int e = proj_errno(s->pj);
            eo_status st = eoi_fail(ctx, EO_E_CRS_TRANSFORM,
                                    "cannot transform the AOI: a vertex has no image in the "
                                    "target CRS (%s)",
                                    e ? proj_context_errno_string(ctx->pj, e) : "not finite");
            eoi_free(xy);
            return st;
        }
    }
    /* keep the ring exactly closed */
    if (k >= 2) {
        xy[2 * (k - 1)] = xy[0];
        xy[2 * (k - 1) + 1] = xy[1];
    }
    GEOSCoordSequence *ncs = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, (unsigned)k, 0, 0);
    eoi_free(xy);
    if (!ncs)
        return eoi_geos_fail(ctx, "making a ring");
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(ctx->geos, ncs);
    if (!ring)
        return eoi_geos_fail(ctx, "making a ring");
    return eoi_geos_list_push(ctx, &s->rings, ring);
}

static eo_status reproject(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *g, PJ *pj,
                           double seg) {
    *out = NULL;
    eo_status st = EO_OK;
    eoi_geos_list polys = {0};
    reproject_state s = {.pj = pj, .seg = seg};
    int np = GEOSGetNumGeometries_r(ctx->geos, g);
    for (int i = 0; i < np && st == EO_OK; i++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(ctx->geos, g, i);
        /* a one-polygon view: for_each_ring on a Polygon visits its rings */
        EOI_TRY(st, for_each_ring(ctx, poly, reproject_ring, &s));
        if (s.rings.n == 0)
            continue;
        GEOSGeometry *shell = s.rings.v[0];
        /* the polygon takes the rings in any case */
        GEOSGeometry *p =
            GEOSGeom_createPolygon_r(ctx->geos, shell, s.rings.v + 1, (unsigned)(s.rings.n - 1));
        s.rings.n = 0;
        if (!p) {
            st = eoi_geos_fail(ctx, "making a polygon");
            goto done;
        }
        EOI_TRY(st, eoi_geos_list_push(ctx, &polys, p));
        if ((i & 63) == 63)
            EOI_TRY(st, eoi_check_cancel(ctx));
    }
    EOI_TRY(st, eoi_geos_list_to_polygonal(ctx, out, &polys));
done:
    eoi_geos_list_clear(ctx, &s.rings);
    eoi_geos_list_clear(ctx, &polys);
    return st;
}

/* Whether two CRS definitions are the same for us (axis order of
 * geographic CRSs aside: coordinates are always lon/lat). */
static bool same_crs(eo_ctx *ctx, const char *a, const char *b) {
    PJ *pa = proj_create(ctx->pj, a);
    PJ *pb = pa ? proj_create(ctx->pj, b) : NULL;
    bool same = pa && pb &&
                proj_is_equivalent_to_with_ctx(ctx->pj, pa, pb,
                                               PJ_COMP_EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS);
    proj_destroy(pa);
    proj_destroy(pb);
    return same;
}

eo_status eo_geom_transform(eo_ctx *ctx, eo_geom **out, const eo_geom *g, const char *dst_crs) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, g);
    EOI_CHECK_ARG(ctx, dst_crs && *dst_crs);
    eo_status st = EO_OK;
    char *dst_wkt = NULL;
    bool dst_geo = false;
    PJ *pj = NULL;
    GEOSGeometry *res = NULL;
    EOI_TRY(st, eoi_crs_to_wkt(ctx, &dst_wkt, dst_crs, &dst_geo));
    if (same_crs(ctx, g->crs_wkt, dst_wkt)) {
        if (!(res = GEOSGeom_clone_r(ctx->geos, g->g))) {
            st = eoi_geos_fail(ctx, "copying the geometry");
            goto done;
        }
    } else {
        EOI_TRY(st, eoi_crs_transformer(ctx, &pj, g->crs_wkt, dst_wkt));
        /* longest piece: 1/100 of the bbox diagonal, relaxed to keep the
         * number of added vertices within budget */
        double b[4] = {0, 0, 0, 0};
        GEOSGeom_getXMin_r(ctx->geos, g->g, &b[0]);
        GEOSGeom_getYMin_r(ctx->geos, g->g, &b[1]);
        GEOSGeom_getXMax_r(ctx->geos, g->g, &b[2]);
        GEOSGeom_getYMax_r(ctx->geos, g->g, &b[3]);
        densify_stats ds = {.seg = hypot(b[2] - b[0], b[3] - b[1]) / DENSIFY_DIV};
        EOI_TRY(st, for_each_ring(ctx, g->g, count_ring, &ds));
        double budget = (double)eo_geom_vertex_count(g);
        if (budget < DENSIFY_MIN_BUDGET)
            budget = DENSIFY_MIN_BUDGET;
        for (int iter = 0; iter < 32 && ds.pieces - ds.edges > budget; iter++) {
            /* pieces - edges <= length / seg: aim below the budget */
            ds.seg = fmax(ds.seg * 1.25, ds.length / budget);
            ds.pieces = ds.edges = ds.length = 0;
            EOI_TRY(st, for_each_ring(ctx, g->g, count_ring, &ds));
        }
        EOI_TRY(st, reproject(ctx, &res, g->g, pj, ds.seg));
    }
    /* eoi_geom_wrap repairs an image that folded onto itself and keeps
     * the polygons */
    st = eoi_geom_wrap(ctx, out, res, dst_wkt, dst_geo);
    res = NULL;
    dst_wkt = NULL;
done:
    if (res)
        GEOSGeom_destroy_r(ctx->geos, res);
    proj_destroy(pj);
    eoi_free(dst_wkt);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Geodesic area                                                             */
/* ------------------------------------------------------------------------ */

typedef struct area_state {
    double m2; /* running total */
} area_state;

static eo_status area_ring(eo_ctx *ctx, void *user, const GEOSCoordSequence *cs, unsigned n,
                           int ring) {
    area_state *s = user;
    if (n < 1)
        return EO_OK;
    n--; /* the closing vertex repeats the first one */
    double *lon = eoi_malloc(ctx, 2 * sizeof(double) * (n ? n : 1));
    if (!lon)
        return EO_E_NOMEM;
    double *lat = lon + n;
    for (unsigned i = 0; i < n; i++)
        if (!GEOSCoordSeq_getXY_r(ctx->geos, cs, i, &lon[i], &lat[i])) {
            eoi_free(lon);
            return eoi_geos_fail(ctx, "reading a coordinate");
        }
    double a = eoi_geod_ring(lon, lat, n, NULL);
    eoi_free(lon);
    s->m2 += ring > 0 ? -fabs(a) : fabs(a);
    return EO_OK;
}

static eo_status area_of(eo_ctx *ctx, const GEOSGeometry *g, double *m2) {
    area_state s = {0};
    eo_status st = for_each_ring(ctx, g, area_ring, &s);
    *m2 = s.m2;
    return st;
}

eo_status eo_geom_area_km2(eo_ctx *ctx, const eo_geom *g, double *km2) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, km2);
    *km2 = 0;
    EOI_CHECK_ARG(ctx, g);
    eo_status st = EO_OK;
    eo_geom *ll = NULL;
    const eo_geom *src = g;
    if (!(g->is_geographic && same_crs(ctx, g->crs_wkt, EOI_GEOM_DEFAULT_CRS))) {
        EOI_TRY(st, eo_geom_transform(ctx, &ll, g, EOI_GEOM_DEFAULT_CRS));
        src = ll;
    }
    double m2 = 0;
    EOI_TRY(st, area_of(ctx, src->g, &m2));
    *km2 = m2 / 1e6;
done:
    eo_geom_free(ll);
    return st;
}
