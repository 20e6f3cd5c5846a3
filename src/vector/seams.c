/* seams.c - merging polygons cut apart by partition borders (stripes,
 * tiles, possibly polygonized on other machines).
 *
 * In a one-pass polygonization two features of the same class never share
 * an edge (they would be one region), nor, with 8-connectivity, a corner.
 * So after concatenating partitions, features of the same class that share
 * a boundary segment (or, for 8-connectivity, touch at all) belong to one
 * region: they are grouped with union-find and unioned with GEOS. Only
 * features touching their partition's border are candidates; all vertices
 * are on the pixel grid, so the unions are exact. */
#include "geom_int.h"
#include "vector_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct stitch_state {
    eo_ctx *ctx;
    eo_features *f;
    size_t *cand; /* candidate feature indices */
    size_t self;  /* the candidate being queried */
    int32_t *parent;
    eo_status st;
} stitch_state;

static void query_cb(void *item, void *user) {
    stitch_state *s = user;
    size_t j = (size_t)(uintptr_t)item;
    if (s->st != EO_OK || j <= s->self)
        return;
    const eoi_feature *a = &s->f->v[s->cand[s->self]], *b = &s->f->v[s->cand[j]];
    if (a->cls != b->cls)
        return;
    GEOSContextHandle_t h = s->ctx->geos;
    bool join;
    if (s->f->connectivity == 8) {
        char r = GEOSIntersects_r(h, a->g, b->g);
        if (r == 2) {
            s->st = eoi_geos_fail(s->ctx, "testing features across a seam");
            return;
        }
        join = r == 1;
    } else {
        char *m = GEOSRelate_r(h, a->g, b->g);
        if (!m) {
            s->st = eoi_geos_fail(s->ctx, "relating features across a seam");
            return;
        }
        join = m[4] == '1'; /* the boundaries share a segment */
        GEOSFree_r(h, m);
    }
    if (join)
        eoi_uf_union(s->parent, (int32_t)s->self, (int32_t)j);
}

/* A polygon of one of a region's parts, with the envelope of its shell. */
typedef struct part_poly {
    const GEOSGeometry *g;
    double e[4]; /* xmin, ymin, xmax, ymax */
} part_poly;

static void envelope_of(GEOSContextHandle_t h, const GEOSGeometry *g, double e[4]) {
    GEOSGeom_getXMin_r(h, g, &e[0]);
    GEOSGeom_getYMin_r(h, g, &e[1]);
    GEOSGeom_getXMax_r(h, g, &e[2]);
    GEOSGeom_getYMax_r(h, g, &e[3]);
}

static bool env_within(const double a[4], const double b[4]) {
    return a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];
}

/* The n polygons of g (a Polygon or a MultiPolygon). */
static int polygon_count(GEOSContextHandle_t h, const GEOSGeometry *g) {
    return GEOSGeomTypeId_r(h, g) == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g);
}

static const GEOSGeometry *polygon_n(GEOSContextHandle_t h, const GEOSGeometry *g, int k) {
    return GEOSGeomTypeId_r(h, g) == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, k);
}

/* The polygons of a region that may lie in polygon self's holes: those
 * whose envelope is within its own (found through an index of the region's
 * polygons, which an 8-connected region may have by the thousand). */
typedef struct inner_q {
    const part_poly *polys;
    size_t self;
    size_t *in, nin;
} inner_q;

static void inner_cb(void *item, void *user) {
    inner_q *q = user;
    size_t j = (size_t)(uintptr_t)item;
    if (j != q->self && env_within(q->polys[j].e, q->polys[q->self].e))
        q->in[q->nin++] = j;
}

static GEOSSTRtree *poly_tree(eo_ctx *ctx, const part_poly *polys, size_t n) {
    GEOSSTRtree *t = GEOSSTRtree_create_r(ctx->geos, 10);
    for (size_t j = 0; t && j < n; j++)
        GEOSSTRtree_insert_r(ctx->geos, t, polys[j].g, (void *)(uintptr_t)j);
    return t;
}

/* Candidates for the owner of a hole: the polygons of the union whose
 * envelope holds the hole's, in increasing order. */
typedef struct owner_q {
    const double (*env)[4];
    double e[4];
    int *cand, ncand;
} owner_q;

static void owner_cb(void *item, void *user) {
    owner_q *q = user;
    int k = (int)(uintptr_t)item;
    if (env_within(q->e, q->env[k]))
        q->cand[q->ncand++] = k;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* The polygon of u that holds the hole ring: of the candidates in q (found
 * for it), the first that contains a point inside the hole (prepared
 * lazily into prep). */
static eo_status hole_owner(eo_ctx *ctx, const GEOSGeometry *u, owner_q *q,
                            const GEOSPreparedGeometry **prep, const GEOSGeometry *ring,
                            int *owner) {
    GEOSContextHandle_t h = ctx->geos;
    *owner = q->ncand ? q->cand[0] : 0;
    if (q->ncand <= 1)
        return EO_OK;
    qsort(q->cand, (size_t)q->ncand, sizeof *q->cand, cmp_int);
    *owner = q->cand[0];
    GEOSGeometry *r = GEOSGeom_clone_r(h, ring);
    GEOSGeometry *area = r ? GEOSGeom_createPolygon_r(h, r, NULL, 0) : NULL;
    GEOSGeometry *pt = area ? GEOSPointOnSurface_r(h, area) : NULL;
    if (!area)
        GEOSGeom_destroy_r(h, r);
    GEOSGeom_destroy_r(h, area);
    if (!pt)
        return eoi_geos_fail(ctx, "placing a hole across a seam");
    eo_status st = EO_OK;
    for (int c = 0; c < q->ncand; c++) {
        int k = q->cand[c];
        if (!prep[k] && !(prep[k] = GEOSPrepare_r(h, polygon_n(h, u, k)))) {
            st = eoi_geos_fail(ctx, "placing a hole across a seam");
            break;
        }
        char in = GEOSPreparedContains_r(h, prep[k], pt);
        if (in == 2) {
            st = eoi_geos_fail(ctx, "placing a hole across a seam");
            break;
        }
        if (in == 1) {
            *owner = k;
            break;
        }
    }
    GEOSGeom_destroy_r(h, pt);
    return st;
}

/* Which polygon of u (nu of them) holds each of the n held holes, into
 * owner; then the holes in owner order (by, from first[k] to first[k + 1]). */
static eo_status place_holes(eo_ctx *ctx, const GEOSGeometry *u, int nu, GEOSGeometry *const *holes,
                             size_t n, int *owner, size_t *by, size_t *first) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
    double(*env)[4] = NULL;
    const GEOSPreparedGeometry **prep = NULL;
    int *cand = NULL;
    GEOSSTRtree *tree = NULL;
    memset(owner, 0, n * sizeof *owner);
    if (nu > 1 && n > 0) {
        if (!(env = eoi_calloc(ctx, (size_t)nu, sizeof *env)) ||
            !(prep = eoi_calloc(ctx, (size_t)nu, sizeof *prep)) ||
            !(cand = eoi_calloc(ctx, (size_t)nu, sizeof *cand))) {
            st = EO_E_NOMEM;
            goto done;
        }
        if (!(tree = GEOSSTRtree_create_r(h, 10))) {
            st = eoi_geos_fail(ctx, "indexing a merged region");
            goto done;
        }
        for (int k = 0; k < nu; k++) {
            envelope_of(h, polygon_n(h, u, k), env[k]);
            GEOSSTRtree_insert_r(h, tree, polygon_n(h, u, k), (void *)(uintptr_t)k);
        }
        for (size_t j = 0; j < n && st == EO_OK; j++) {
            owner_q q = {.env = (const double(*)[4])env, .cand = cand};
            envelope_of(h, holes[j], q.e);
            GEOSSTRtree_query_r(h, tree, holes[j], owner_cb, &q);
            st = hole_owner(ctx, u, &q, prep, holes[j], &owner[j]);
        }
    }
    /* bucket the holes by owner */
    memset(first, 0, ((size_t)nu + 1) * sizeof *first);
    for (size_t j = 0; j < n; j++)
        first[owner[j] + 1]++;
    for (int k = 0; k < nu; k++)
        first[k + 1] += first[k];
    for (size_t j = 0; j < n; j++)
        by[first[owner[j]]++] = j;
    for (int k = nu; k > 0; k--) /* first[k] is now the end of bucket k */
        first[k] = first[k - 1];
    first[0] = 0;
done:
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    for (int k = 0; prep && k < nu; k++)
        if (prep[k])
            GEOSPreparedGeom_destroy_r(h, prep[k]);
    eoi_free(prep);
    eoi_free(env);
    eoi_free(cand);
    return st;
}

/* The part polygon p for the union, its holes cloned into kept or held:
 * a hole goes into held unless a polygon of the region (one of in[0, nin))
 * may lie inside it (with 8-connectivity a region's island can sit in its
 * own hole, touching it at a corner); the union needs those. */
static eo_status split_holes(eo_ctx *ctx, const part_poly *polys, size_t i, const size_t *in,
                             size_t nin, eoi_geos_list *held, GEOSGeometry **out) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSGeometry *p = polys[i].g;
    int nh = GEOSGetNumInteriorRings_r(h, p);
    GEOSGeometry **kept = eoi_calloc(ctx, nh > 0 ? (size_t)nh : 1, sizeof *kept);
    if (!kept)
        return EO_E_NOMEM;
    eo_status st = EO_OK;
    unsigned nk = 0;
    for (int k = 0; k < nh && st == EO_OK; k++) {
        const GEOSGeometry *ring = GEOSGetInteriorRingN_r(h, p, k);
        bool nest = false;
        if (nin) {
            double e[4];
            envelope_of(h, ring, e);
            for (size_t q = 0; q < nin && !nest; q++)
                nest = env_within(polys[in[q]].e, e);
        }
        GEOSGeometry *c = GEOSGeom_clone_r(h, ring);
        if (!c)
            st = eoi_geos_fail(ctx, "merging features across a seam");
        else if (nest)
            kept[nk++] = c;
        else
            st = eoi_geos_list_push(ctx, held, c);
    }
    GEOSGeometry *shell = st == EO_OK ? GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, p)) : NULL;
    *out = shell ? GEOSGeom_createPolygon_r(h, shell, kept, nk) : NULL;
    if (!*out) {
        GEOSGeom_destroy_r(h, shell);
        for (unsigned k = 0; k < nk; k++)
            GEOSGeom_destroy_r(h, kept[k]);
        if (st == EO_OK)
            st = eoi_geos_fail(ctx, "merging features across a seam");
    }
    eoi_free(kept);
    return st;
}

/* A hole read back from the spool, into the list user. */
static eo_status hold_ring(eo_ctx *ctx, GEOSGeometry **ring, void *user) {
    GEOSGeometry *r = *ring;
    *ring = NULL; /* the list has it, or freed it */
    return eoi_geos_list_push(ctx, user, r);
}

/* The union of the m parts of one region (taken), without collinear
 * vertices. A part's hole lies strictly inside its partition (the region's
 * pixels surround it there), so no other part reaches it: the parts are
 * unioned without their holes, which are cut out again after, and GEOS
 * nodes the rings at the seams, not every hole of a region that holds
 * thousands (the background of a building mask, whose holes grow with the
 * area). The holes the region holds on the spool (root's) stay there when
 * the union is one polygon: they are all its holes; else they are read back
 * and placed like the rest. */
static eo_status union_region(eo_ctx *ctx, GEOSGeometry **parts, size_t m, GEOSGeometry **out,
                              eoi_spool *spool, eoi_feature *root) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
    eoi_geos_list in = {0}, held = {0}, res = {0};
    part_poly *polys = NULL;
    size_t npoly = 0, *inner = NULL;
    GEOSGeometry *u = NULL, *clean = NULL;
    int nu = 0, *owner = NULL;
    size_t *by = NULL, *first = NULL;
    GEOSSTRtree *tree = NULL;
    *out = NULL;
    for (size_t i = 0; i < m; i++)
        npoly += (size_t)polygon_count(h, parts[i]);
    if (!(polys = eoi_calloc(ctx, npoly ? npoly : 1, sizeof *polys)) ||
        !(inner = eoi_calloc(ctx, npoly ? npoly : 1, sizeof *inner))) {
        st = EO_E_NOMEM;
        goto done;
    }
    npoly = 0;
    for (size_t i = 0; i < m; i++)
        for (int k = 0; k < polygon_count(h, parts[i]); k++) {
            polys[npoly].g = polygon_n(h, parts[i], k);
            envelope_of(h, polys[npoly].g, polys[npoly].e);
            npoly++;
        }
    for (size_t i = 0; i < npoly && st == EO_OK; i++) {
        inner_q q = {polys, i, inner, 0};
        if (GEOSGetNumInteriorRings_r(h, polys[i].g) > 0 && npoly > 1) {
            if (!tree && !(tree = poly_tree(ctx, polys, npoly))) {
                st = eoi_geos_fail(ctx, "indexing the parts of a region");
                break;
            }
            GEOSSTRtree_query_r(h, tree, polys[i].g, inner_cb, &q);
        }
        GEOSGeometry *p = NULL;
        st = split_holes(ctx, polys, i, inner, q.nin, &held, &p);
        if (st == EO_OK)
            st = eoi_geos_list_push(ctx, &in, p);
    }
    if (st != EO_OK)
        goto done;
    GEOSGeometry *coll =
        GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, in.v, (unsigned)in.n);
    if (coll)
        in.n = 0; /* the collection has them */
    u = coll ? GEOSUnaryUnion_r(h, coll) : NULL;
    GEOSGeom_destroy_r(h, coll);
    if (!u) {
        st = eoi_geos_fail(ctx, "merging features across a seam");
        goto done;
    }
    EOI_TRY(st, eoi_geos_drop_collinear(ctx, &clean, u));
    /* each polygon of the union, with its own holes and the held ones in it */
    nu = polygon_count(h, clean);
    if (nu > 1 && root->held) {
        EOI_TRY(st, eoi_spool_each(ctx, spool, root, hold_ring, &held));
        root->held = root->held_end = 0;
    }
    if (!(owner = eoi_calloc(ctx, held.n ? held.n : 1, sizeof *owner)) ||
        !(by = eoi_calloc(ctx, held.n ? held.n : 1, sizeof *by)) ||
        !(first = eoi_calloc(ctx, (size_t)nu + 1, sizeof *first))) {
        st = EO_E_NOMEM;
        goto done;
    }
    EOI_TRY(st, place_holes(ctx, clean, nu, held.v, held.n, owner, by, first));
    for (int k = 0; k < nu && st == EO_OK; k++) {
        const GEOSGeometry *p = polygon_n(h, clean, k);
        int own = GEOSGetNumInteriorRings_r(h, p);
        size_t nh = (size_t)own + (first[k + 1] - first[k]);
        GEOSGeometry **rings = eoi_calloc(ctx, nh ? nh : 1, sizeof *rings);
        GEOSGeometry *shell = GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, p));
        size_t q = 0;
        bool ok = rings && shell;
        for (int j = 0; ok && j < own; j++)
            ok = (rings[q++] = GEOSGeom_clone_r(h, GEOSGetInteriorRingN_r(h, p, j))) != NULL;
        for (size_t b = first[k]; ok && b < first[k + 1]; b++) {
            rings[q++] = held.v[by[b]];
            held.v[by[b]] = NULL;
        }
        GEOSGeometry *poly = ok ? GEOSGeom_createPolygon_r(h, shell, rings, (unsigned)q) : NULL;
        if (!poly) {
            GEOSGeom_destroy_r(h, shell);
            for (size_t j = 0; rings && j < q; j++)
                GEOSGeom_destroy_r(h, rings[j]);
            st = rings ? eoi_geos_fail(ctx, "merging features across a seam") : EO_E_NOMEM;
        } else {
            st = eoi_geos_list_push(ctx, &res, poly);
        }
        eoi_free(rings);
    }
    if (st == EO_OK)
        st = eoi_geos_list_to_polygonal(ctx, out, &res);
done:
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    eoi_free(by);
    eoi_free(first);
    eoi_free(owner);
    eoi_free(polys);
    eoi_free(inner);
    eoi_geos_list_clear(ctx, &in);
    eoi_geos_list_clear(ctx, &held);
    eoi_geos_list_clear(ctx, &res);
    GEOSGeom_destroy_r(h, u);
    GEOSGeom_destroy_r(h, clean);
    for (size_t i = 0; i < m; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    return st;
}

/* Union the groups of candidates (cand: nc feature indices, increasing;
 * parent: their union-find, a root being its group's smallest index) into
 * their roots' features and drop the others. */
static eo_status union_groups(eo_ctx *ctx, eo_features *f, const size_t *cand, size_t nc,
                              int32_t *parent) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
    int32_t *members = NULL;
    size_t *gstart = NULL;
    bool *drop = NULL;
    if (!(members = eoi_malloc(ctx, (nc ? nc : 1) * sizeof *members)) ||
        !(gstart = eoi_calloc(ctx, nc + 1, sizeof *gstart)) ||
        !(drop = eoi_calloc(ctx, f->n ? f->n : 1, 1))) {
        st = EO_E_NOMEM;
        goto done;
    }
    /* members of each group in increasing order, bucketed by root (a root is
     * its group's smallest index): one pass, not one scan per group */
    for (size_t k = 0; k < nc; k++) {
        int32_t r = parent[k] = eoi_uf_find(parent, (int32_t)k); /* flat: parent[k] is the root */
        gstart[r + 1]++;
        if ((size_t)r != k)
            drop[cand[k]] = true;
    }
    for (size_t k = 0; k < nc; k++)
        gstart[k + 1] += gstart[k];
    for (size_t k = 0; k < nc; k++)
        members[gstart[parent[k]]++] = (int32_t)k;
    /* gstart[r] is now the end of group r, and the previous end its start */
    for (size_t k = 0; k < nc; k++) {
        size_t end = gstart[k], begin = k > 0 ? gstart[k - 1] : 0;
        size_t m = end - begin;
        if (m < 2)
            continue;
        eoi_feature *root = &f->v[cand[k]];
        GEOSGeometry **parts = eoi_calloc(ctx, m, sizeof *parts);
        if (!parts) {
            st = EO_E_NOMEM;
            goto done;
        }
        size_t q = 0;
        for (size_t jm = begin; jm < end; jm++) {
            size_t j = (size_t)members[jm];
            eoi_feature *o = &f->v[cand[j]];
            parts[q++] = o->g;
            o->g = NULL;
            if (j != k) {
                if (f->spool)
                    eoi_spool_join(f->spool, root, o);
                root->pixels += o->pixels;
                root->psum += o->psum;
                if (o->top < root->top) {
                    root->top = o->top;
                    root->part = o->part;
                }
            }
        }
        st = union_region(ctx, parts, m, &root->g, f->spool, root);
        eoi_free(parts);
        if (st != EO_OK)
            goto done;
    }
    size_t w = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (drop[i]) {
            GEOSGeom_destroy_r(h, f->v[i].g);
            continue;
        }
        f->v[w++] = f->v[i];
    }
    f->n = w;
done:
    if (st != EO_OK) { /* geometries moved into a failed union are gone: drop them */
        size_t w2 = 0;
        for (size_t i = 0; i < f->n; i++)
            if (f->v[i].g)
                f->v[w2++] = f->v[i];
            else if (drop)
                drop[i] = false;
        f->n = w2;
    }
    eoi_free(members);
    eoi_free(gstart);
    eoi_free(drop);
    return st;
}

eo_status eoi_features_stitch(eo_ctx *ctx, eo_features *f) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
    size_t nc = 0;
    size_t *cand = NULL;
    int32_t *parent = NULL;
    GEOSSTRtree *tree = NULL;
    GEOSGeometry **env = NULL;
    for (size_t i = 0; i < f->n; i++)
        nc += f->v[i].edge;
    if (nc < 2)
        return EO_OK;
    if (nc > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "merge seams: too many features on seams");
    if (!(cand = eoi_malloc(ctx, nc * sizeof *cand)) ||
        !(parent = eoi_malloc(ctx, nc * sizeof *parent)) ||
        !(env = eoi_calloc(ctx, nc, sizeof *env))) {
        st = EO_E_NOMEM;
        goto done;
    }
    nc = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].edge)
            cand[nc++] = i;
    if (!(tree = GEOSSTRtree_create_r(h, 10))) {
        st = eoi_geos_fail(ctx, "creating an index");
        goto done;
    }
    for (size_t k = 0; k < nc; k++) {
        parent[k] = (int32_t)k;
        if (!(env[k] = GEOSEnvelope_r(h, f->v[cand[k]].g))) {
            st = eoi_geos_fail(ctx, "computing an envelope");
            goto done;
        }
        GEOSSTRtree_insert_r(h, tree, env[k], (void *)(uintptr_t)k);
    }
    stitch_state s = {.ctx = ctx, .f = f, .cand = cand, .parent = parent, .st = EO_OK};
    for (size_t k = 0; k < nc && s.st == EO_OK; k++) {
        s.self = k;
        GEOSSTRtree_query_r(h, tree, env[k], query_cb, &s);
    }
    EOI_TRY(st, s.st);
    st = union_groups(ctx, f, cand, nc, parent);
done:
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    for (size_t k = 0; env && k < nc; k++)
        GEOSGeom_destroy_r(h, env[k]);
    eoi_free(env);
    eoi_free(cand);
    eoi_free(parent);
    return st;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Index of feature i in the sorted cand[0, nc). */
static int32_t cand_index(const size_t *cand, size_t nc, size_t i) {
    size_t lo = 0, hi = nc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cand[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)lo;
}

eo_status eoi_features_stitch_pairs(eo_ctx *ctx, eo_features *f, const size_t *pairs,
                                    size_t npairs) {
    eo_status st = EO_OK;
    size_t nc = 0;
    size_t *cand = NULL;
    int32_t *parent = NULL;
    if (npairs == 0)
        return EO_OK;
    if (2 * npairs > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "merge seams: too many features on seams");
    if (!(cand = eoi_malloc(ctx, 2 * npairs * sizeof *cand)) ||
        !(parent = eoi_malloc(ctx, 2 * npairs * sizeof *parent))) {
        st = EO_E_NOMEM;
        goto done;
    }
    memcpy(cand, pairs, 2 * npairs * sizeof *cand);
    qsort(cand, 2 * npairs, sizeof *cand, cmp_size);
    for (size_t k = 0; k < 2 * npairs; k++) /* unique */
        if (nc == 0 || cand[nc - 1] != cand[k])
            cand[nc++] = cand[k];
    for (size_t k = 0; k < nc; k++)
        parent[k] = (int32_t)k;
    for (size_t k = 0; k < npairs; k++)
        eoi_uf_union(parent, cand_index(cand, nc, pairs[2 * k]),
                     cand_index(cand, nc, pairs[2 * k + 1]));
    st = union_groups(ctx, f, cand, nc, parent);
done:
    eoi_free(cand);
    eoi_free(parent);
    return st;
}

eo_status eo_features_merge_seams(eo_ctx *ctx, eo_features **out, const eo_features *const *parts,
                                  int32_t count) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, parts && count >= 1);
    for (int32_t i = 0; i < count; i++)
        if (!parts[i])
            return eoi_fail(ctx, EO_E_ARG, "merge seams: part %d is NULL", (int)i);
    const eo_features *p0 = parts[0];
    for (int32_t i = 1; i < count; i++) {
        const eo_features *p = parts[i];
        if (memcmp(p->gt, p0->gt, sizeof p->gt) != 0 || strcmp(p->wkt, p0->wkt) != 0)
            return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                            "merge seams: part %d has another grid or CRS than part 0", (int)i);
        if (p->connectivity != p0->connectivity)
            return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                            "merge seams: part %d has connectivity %d, part 0 %d", (int)i,
                            (int)p->connectivity, (int)p0->connectivity);
    }
    eo_features *f = NULL;
    eo_status st = eoi_features_new(ctx, &f, p0->gt, p0->wkt, p0->connectivity);
    if (st != EO_OK)
        return st;
    eo_window w = p0->win;
    for (int32_t i = 0; i < count && st == EO_OK; i++) {
        const eo_features *p = parts[i];
        f->has_score = f->has_score || p->has_score;
        int64_t x1 = w.x + w.width, y1 = w.y + w.height;
        if (p->win.x < w.x)
            w.x = p->win.x;
        if (p->win.y < w.y)
            w.y = p->win.y;
        if (p->win.x + p->win.width > x1)
            x1 = p->win.x + p->win.width;
        if (p->win.y + p->win.height > y1)
            y1 = p->win.y + p->win.height;
        w.width = x1 - w.x;
        w.height = y1 - w.y;
        for (size_t k = 0; k < p->n && st == EO_OK; k++) {
            eoi_feature ft = p->v[k];
            if (!(ft.g = GEOSGeom_clone_r(ctx->geos, p->v[k].g)))
                st = eoi_geos_fail(ctx, "copying a feature");
            else
                st = eoi_features_push(ctx, f, &ft);
        }
    }
    f->win = w;
    if (st == EO_OK)
        st = eoi_features_stitch(ctx, f);
    if (st != EO_OK) {
        eo_features_free(f);
        return st;
    }
    eoi_features_sort(f);
    *out = f;
    return EO_OK;
}
