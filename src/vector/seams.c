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
                root->pixels += o->pixels;
                root->psum += o->psum;
                if (o->top < root->top) {
                    root->top = o->top;
                    root->part = o->part;
                }
            }
        }
        GEOSGeometry *coll =
            GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)m);
        eoi_free(parts);
        GEOSGeometry *u = coll ? GEOSUnaryUnion_r(h, coll) : NULL;
        GEOSGeom_destroy_r(h, coll);
        GEOSGeometry *clean = NULL;
        if (u)
            st = eoi_geos_drop_collinear(ctx, &clean, u);
        else
            st = eoi_geos_fail(ctx, "merging features across a seam");
        GEOSGeom_destroy_r(h, u);
        if (st != EO_OK)
            goto done;
        if (GEOSGeomTypeId_r(h, clean) == GEOS_MULTIPOLYGON &&
            GEOSGetNumGeometries_r(h, clean) == 1) {
            GEOSGeometry *one = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, clean, 0));
            GEOSGeom_destroy_r(h, clean);
            clean = one;
        }
        root->g = clean;
        if (!clean) {
            st = eoi_geos_fail(ctx, "merging features across a seam");
            goto done;
        }
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
