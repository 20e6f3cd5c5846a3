/* test_vector.c - polygonize: exact areas (pixel counts, counted here
 * independently), validity (GEOS), coverage without gaps or overlaps (GEOS
 * unions), stripes and tiles merged across seams equal to one pass
 * (GEOS topological equality), coverage-preserving simplification, bad
 * input, allocation faults, and outputs that leave nothing behind. */
#define _GNU_SOURCE /* strdup, setenv */
#include "../../src/vector/vector_int.h"
#include "tap.h"

#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static uint32_t rng = 12345;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* A w x h uint8 raster: kind 0 random classes 0..k-1 (many pinches), kind 1
 * smooth blobs, kind 2 checkerboard. */
static eo_raster *make(eo_ctx *ctx, int64_t w, int64_t h, int kind, int k) {
    eo_raster *r = NULL;
    if (eo_raster_new(ctx, &r, w, h, 1, EO_DT_U8) != EO_OK)
        return NULL;
    uint8_t *p = eo_raster_data(r);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            uint8_t v;
            if (kind == 0)
                v = (uint8_t)(rnd() % (uint32_t)k);
            else if (kind == 1)
                v = (uint8_t)((int)(2.5 + sin(x * 0.31) + cos(y * 0.23 + x * 0.05) +
                                    0.4 * ((rnd() % 100) < 8)) %
                              k);
            else
                v = (uint8_t)((x + y) % 2);
            p[y * w + x] = v;
        }
    double gt[6] = {1000, 0.5, 0, 2000, 0, -0.5};
    eo_raster_set_geotransform(ctx, r, gt);
    eo_raster_set_crs(ctx, r, "EPSG:32633");
    return r;
}

/* Exact checks of one collection against the raster it came from. */
static void check_exact(eo_ctx *ctx, const eo_features *f, const eo_raster *r, const char *what) {
    GEOSContextHandle_t h = ctx->geos;
    int64_t w = eo_raster_width(r), hh = eo_raster_height(r);
    const uint8_t *p = eo_raster_data((eo_raster *)r);
    int64_t count[256] = {0}, got[256] = {0};
    for (int64_t i = 0; i < w * hh; i++)
        count[p[i]]++;
    double total = 0;
    int invalid = 0, badarea = 0;
    GEOSGeometry **gs = malloc(sizeof *gs * (f->n + 1));
    for (size_t i = 0; i < f->n; i++) {
        const eoi_feature *ft = &f->v[i];
        double a = 0;
        GEOSArea_r(h, ft->g, &a);
        invalid += GEOSisValid_r(h, ft->g) != 1;
        badarea += a != (double)ft->pixels;
        got[(int)ft->cls] += ft->pixels;
        total += a;
        gs[i] = GEOSGeom_clone_r(h, ft->g);
    }
    CHECKF(invalid == 0, "%s: %d invalid polygons", what, invalid);
    CHECKF(badarea == 0, "%s: %d polygons whose area is not their pixel count", what, badarea);
    CHECKF(total == (double)(w * hh), "%s: total area %.1f, raster %lld", what, total,
           (long long)(w * hh));
    int badcls = 0;
    for (int c = 0; c < 256; c++)
        badcls += count[c] != got[c];
    CHECKF(badcls == 0, "%s: %d classes with another pixel count", what, badcls);
    GEOSGeometry *coll =
        GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, gs, (unsigned)f->n);
    GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
    double ua = 0;
    GEOSArea_r(h, u, &ua);
    CHECKF(ua == (double)(w * hh), "%s: union %.1f (no overlap, no gap) != %lld", what, ua,
           (long long)(w * hh));
    GEOSGeom_destroy_r(h, u);
    GEOSGeom_destroy_r(h, coll);
    free(gs);
}

/* a and b hold the same features in the same order */
static void check_same(eo_ctx *ctx, const eo_features *a, const eo_features *b, const char *what) {
    CHECKF(a->n == b->n, "%s: %zu features vs %zu", what, a->n, b->n);
    if (a->n != b->n)
        return;
    int diff = 0;
    for (size_t i = 0; i < a->n; i++) {
        const eoi_feature *x = &a->v[i], *y = &b->v[i];
        if (x->cls != y->cls || x->pixels != y->pixels ||
            GEOSEquals_r(ctx->geos, x->g, y->g) != 1 ||
            GEOSGetNumCoordinates_r(ctx->geos, x->g) != GEOSGetNumCoordinates_r(ctx->geos, y->g))
            diff++;
    }
    CHECKF(diff == 0, "%s: %d features differ", what, diff);
}

static void test_exact(eo_ctx *ctx) {
    int sizes[][2] = {{1, 1}, {7, 3}, {40, 33}, {97, 61}};
    for (int kind = 0; kind < 3; kind++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int conn = 4; conn <= 8; conn += 4) {
                eo_raster *r = make(ctx, sizes[s][0], sizes[s][1], kind, kind == 0 ? 3 : 2);
                eo_polygonize_opts *o = NULL;
                eo_features *one = NULL;
                CHECK_OK(ctx, eo_polygonize_opts_new(ctx, &o));
                CHECK_OK(ctx, eo_polygonize_opts_set_connectivity(ctx, o, conn));
                CHECK_OK(ctx, eo_polygonize_raster(ctx, &one, r, o));
                char what[64];
                snprintf(what, sizeof what, "kind %d %dx%d conn %d", kind, sizes[s][0], sizes[s][1],
                         conn);
                if (one)
                    check_exact(ctx, one, r, what);
                /* stripes of several heights == one pass */
                int64_t rows[] = {1, 2, 5, 16};
                for (size_t k = 0; k < 4 && one; k++) {
                    eo_features *st = NULL;
                    CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, rows[k]));
                    CHECK_OK(ctx, eo_polygonize_raster(ctx, &st, r, o));
                    char w2[96];
                    snprintf(w2, sizeof w2, "%s stripes of %lld", what, (long long)rows[k]);
                    if (st)
                        check_same(ctx, one, st, w2);
                    eo_features_free(st);
                }
                /* 4 x 4 tiles polygonized apart, then merged == one pass */
                int64_t W = sizes[s][0], H = sizes[s][1];
                eo_features *tiles[16] = {0};
                int nt = 0;
                CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, 0));
                for (int ty = 0; ty < 4; ty++)
                    for (int tx = 0; tx < 4; tx++) {
                        eo_window win = {W * tx / 4, H * ty / 4, W * (tx + 1) / 4 - W * tx / 4,
                                         H * (ty + 1) / 4 - H * ty / 4};
                        if (win.width < 1 || win.height < 1)
                            continue;
                        CHECK_OK(ctx, eo_polygonize_opts_set_window(ctx, o, &win));
                        CHECK_OK(ctx, eo_polygonize_raster(ctx, &tiles[nt], r, o));
                        nt++;
                    }
                eo_features *merged = NULL;
                CHECK_OK(ctx, eo_features_merge_seams(ctx, &merged,
                                                      (const eo_features *const *)tiles, nt));
                char w3[96];
                snprintf(w3, sizeof w3, "%s %d tiles merged", what, nt);
                if (merged && one)
                    check_same(ctx, one, merged, w3);
                for (int k = 0; k < nt; k++)
                    eo_features_free(tiles[k]);
                eo_features_free(merged);
                eo_features_free(one);
                eo_polygonize_opts_free(o);
                eo_raster_free(r);
            }
}

/* Seams in a region whose polygons nest (8-connectivity): a frame of
 * class 1 crossing the seam, an island inside its hole joined to it by a
 * corner, the island with a hole of its own inside the first stripe, and a
 * second island mirrored below the seam (the merged region is several
 * polygons whose envelopes hold that hole). Stripes and tiles merged equal
 * one pass, and the island's hole stays the island's (not the frame's). */
static void test_nested_islands(eo_ctx *ctx) {
    const int64_t n = 13;
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_raster_new(ctx, &r, n, n, 1, EO_DT_U8));
    if (!r)
        return;
    uint8_t *p = eo_raster_data(r);
    memset(p, 0, (size_t)(n * n));
    for (int64_t i = 0; i < n; i++)
        p[i] = p[(n - 1) * n + i] = p[i * n] = p[i * n + n - 1] = 1; /* the frame */
    p[1 * n + 1] = 1; /* a corner step from the frame to the island */
    for (int64_t y = 2; y <= 6; y++)
        for (int64_t x = 2; x <= 6; x++)
            p[y * n + x] = y == 2 || y == 6 || x == 2 || x == 6; /* the island and its hole */
    p[11 * n + 11] = p[10 * n + 10] = 1; /* a second island, below the seam */
    double gt[6] = {1000, 0.5, 0, 2000, 0, -0.5};
    eo_raster_set_geotransform(ctx, r, gt);
    eo_raster_set_crs(ctx, r, "EPSG:32633");
    eo_polygonize_opts *o = NULL;
    eo_features *one = NULL, *st = NULL, *merged = NULL, *tiles[4] = {0};
    CHECK_OK(ctx, eo_polygonize_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_polygonize_opts_set_connectivity(ctx, o, 8));
    CHECK_OK(ctx, eo_polygonize_raster(ctx, &one, r, o));
    if (one)
        check_exact(ctx, one, r, "nested islands");
    CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, 8));
    CHECK_OK(ctx, eo_polygonize_raster(ctx, &st, r, o));
    if (st)
        check_exact(ctx, st, r, "nested islands, stripes of 8");
    if (one && st)
        check_same(ctx, one, st, "nested islands, stripes of 8");
    CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, 0));
    for (int k = 0; k < 4; k++) {
        eo_window win = {k % 2 ? 8 : 0, k / 2 ? 8 : 0, k % 2 ? 5 : 8, k / 2 ? 5 : 8};
        CHECK_OK(ctx, eo_polygonize_opts_set_window(ctx, o, &win));
        CHECK_OK(ctx, eo_polygonize_raster(ctx, &tiles[k], r, o));
    }
    CHECK_OK(ctx, eo_features_merge_seams(ctx, &merged, (const eo_features *const *)tiles, 4));
    if (merged)
        check_exact(ctx, merged, r, "nested islands, 4 tiles merged");
    if (one && merged)
        check_same(ctx, one, merged, "nested islands, 4 tiles merged");
    for (int k = 0; k < 4; k++)
        eo_features_free(tiles[k]);
    eo_features_free(merged);
    eo_features_free(st);
    eo_features_free(one);
    eo_polygonize_opts_free(o);
    eo_raster_free(r);
}

/* lc.tif (real land cover): 4 stripes and 16 tiles merged == one pass */
static void test_lc_partitions(eo_ctx *ctx) {
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("lc.tif")));
    if (!ds)
        return;
    int64_t W = eo_dataset_width(ds), H = eo_dataset_height(ds);
    for (int conn = 4; conn <= 8; conn += 4) {
        eo_polygonize_opts *o = NULL;
        eo_features *one = NULL, *stripes = NULL, *merged = NULL;
        eo_features *parts[16] = {0};
        CHECK_OK(ctx, eo_polygonize_opts_new(ctx, &o));
        CHECK_OK(ctx, eo_polygonize_opts_set_connectivity(ctx, o, conn));
        CHECK_OK(ctx, eo_polygonize(ctx, &one, ds, o));
        CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, (H + 3) / 4));
        CHECK_OK(ctx, eo_polygonize(ctx, &stripes, ds, o));
        if (one && stripes)
            check_same(ctx, one, stripes, conn == 4 ? "lc 4 stripes, 4-conn" : "lc 4 stripes, 8");
        CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, 0));
        for (int t = 0; t < 16; t++) {
            int tx = t % 4, ty = t / 4;
            eo_window win = {W * tx / 4, H * ty / 4, W * (tx + 1) / 4 - W * tx / 4,
                             H * (ty + 1) / 4 - H * ty / 4};
            CHECK_OK(ctx, eo_polygonize_opts_set_window(ctx, o, &win));
            CHECK_OK(ctx, eo_polygonize(ctx, &parts[t], ds, o));
        }
        CHECK_OK(ctx, eo_features_merge_seams(ctx, &merged, (const eo_features *const *)parts, 16));
        if (one && merged)
            check_same(ctx, one, merged, conn == 4 ? "lc 16 tiles, 4-conn" : "lc 16 tiles, 8");
        for (int t = 0; t < 16; t++)
            eo_features_free(parts[t]);
        eo_features_free(one);
        eo_features_free(stripes);
        eo_features_free(merged);
        eo_polygonize_opts_free(o);
    }
    eo_dataset_close(ds);
}

/* Coverage-preserving simplification: still valid, no overlap (sum of
 * areas == area of the union), no gap (union == raster), shared edges. */
static void test_coverage(eo_ctx *ctx) {
    GEOSContextHandle_t h = ctx->geos;
    for (int kind = 0; kind < 2; kind++) {
        eo_raster *r = make(ctx, 90, 70, kind == 0 ? 1 : 0, kind == 0 ? 3 : 2);
        eo_features *f = NULL;
        CHECK_OK(ctx, eo_polygonize_raster(ctx, &f, r, NULL));
        if (!f) {
            eo_raster_free(r);
            continue;
        }
        int64_t before = 0;
        for (size_t i = 0; i < f->n; i++)
            before += GEOSGetNumCoordinates_r(h, f->v[i].g);
        CHECK_OK(ctx, eo_features_simplify(ctx, f, getenv("TOLX") ? atof(getenv("TOLX")) : 1.5,
                                           EO_SIMPLIFY_COVERAGE));
        int64_t after = 0;
        double sum = 0;
        int invalid = 0;
        GEOSGeometry **gs = malloc(sizeof *gs * (f->n + 1));
        for (size_t i = 0; i < f->n; i++) {
            double a = 0;
            after += GEOSGetNumCoordinates_r(h, f->v[i].g);
            invalid += GEOSisValid_r(h, f->v[i].g) != 1;
            GEOSArea_r(h, f->v[i].g, &a);
            sum += a;
            gs[i] = GEOSGeom_clone_r(h, f->v[i].g);
        }
        GEOSGeometry *c =
            GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, gs, (unsigned)f->n);
        GEOSGeometry *u = GEOSUnaryUnion_r(h, c);
        double ua = 0;
        GEOSArea_r(h, u, &ua);
        CHECKF(invalid == 0, "coverage %d: %d invalid", kind, invalid);
        CHECKF(after < before, "coverage %d: %lld vertices, before %lld", kind, (long long)after,
               (long long)before);
        CHECKF(fabs(sum - ua) < 1e-6 * ua, "coverage %d: overlap: sum %.6f union %.6f", kind, sum,
               ua);
        CHECKF(fabs(ua - 90.0 * 70.0) < 1e-6, "coverage %d: gap: union %.6f", kind, ua);
        CHECKF(GEOSGetNumInteriorRings_r(h, u) == 0, "coverage %d: union has holes", kind);
        GEOSGeom_destroy_r(h, u);
        GEOSGeom_destroy_r(h, c);
        free(gs);
        eo_features_free(f);
        eo_raster_free(r);
    }
}

/* eo_polygonize_each's batches, gathered: every feature (cloned), the
 * number of calls, the first call's deepest row, batches out of order */
typedef struct gather {
    eo_features *all;
    int calls, unsorted;
    double first_ymax;
} gather;

static eo_status gather_cb(eo_ctx *ctx, eo_features *b, void *user) {
    gather *g = user;
    double ymax = 0;
    for (size_t i = 0; i < b->n; i++) {
        double y = 0;
        GEOSGeom_getYMax_r(ctx->geos, b->v[i].g, &y);
        ymax = y > ymax ? y : ymax;
        if (i && b->v[i].top < b->v[i - 1].top)
            g->unsorted++;
        eoi_feature ft = b->v[i];
        ft.g = GEOSGeom_clone_r(ctx->geos, b->v[i].g);
        EOI_TRY_RET(eoi_features_push(ctx, g->all, &ft));
    }
    if (g->calls++ == 0)
        g->first_ymax = ymax;
    return EO_OK;
}

static eo_status stop_cb(eo_ctx *ctx, eo_features *b, void *user) {
    (void)b;
    (void)user;
    return eoi_fail(ctx, EO_E_CANCELLED, "stopped by the consumer");
}

/* The stream: features handed over stripe by stripe equal one pass
 * (eo_polygonize; the same features with the same edge flags, stitched
 * across the seams they cross), each batch in raster order, the first one
 * before the raster's end; a consumer's failure stops it. */
static void test_each(eo_ctx *ctx) {
    for (int kind = 0; kind < 3; kind++)
        for (int conn = 4; conn <= 8; conn += 4) {
            eo_raster *r = make(ctx, 80, 50, kind, kind == 0 ? 3 : 2);
            const char *path = tap_tmp("each.tif");
            CHECK_OK(ctx, eo_raster_write(ctx, r, path, NULL));
            eo_dataset *ds = NULL;
            CHECK_OK(ctx, eo_dataset_open(ctx, &ds, path));
            eo_polygonize_opts *o = NULL;
            eo_features *one = NULL;
            CHECK_OK(ctx, eo_polygonize_opts_new(ctx, &o));
            CHECK_OK(ctx, eo_polygonize_opts_set_connectivity(ctx, o, conn));
            CHECK_OK(ctx, eo_polygonize(ctx, &one, ds, o));
            /* a checkerboard's regions are stitched across every seam (slow
             * in GEOS): fewer, taller stripes */
            int64_t rows[] = {1, 5, 16, 0}, rows2[] = {8, 0};
            size_t nrows = kind == 2 ? 2 : 4;
            for (size_t k = 0; k < nrows && one; k++) {
                gather g = {0};
                CHECK_OK(ctx, eoi_features_new(ctx, &g.all, one->gt, one->wkt, conn));
                int64_t nr = kind == 2 ? rows2[k] : rows[k];
                CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, nr));
                CHECK_OK(ctx, eo_polygonize_each(ctx, ds, o, gather_cb, &g));
                char what[96];
                snprintf(what, sizeof what, "each: kind %d conn %d stripes of %lld", kind, conn,
                         (long long)nr);
                CHECKF(g.unsorted == 0, "%s: %d batches out of raster order", what, g.unsorted);
                if (nr > 0 && kind != 2) /* a checkerboard's 8-region spans it all */
                    CHECKF(g.calls > 1 && g.first_ymax < 50, "%s: %d calls, first to row %.0f",
                           what, g.calls, g.first_ymax);
                eoi_features_sort(g.all);
                check_same(ctx, one, g.all, what);
                int edges = 0;
                for (size_t i = 0; i < one->n && one->n == g.all->n; i++)
                    edges += one->v[i].edge != g.all->v[i].edge;
                CHECKF(edges == 0, "%s: %d edge flags differ", what, edges);
                eo_features_free(g.all);
            }
            /* one thread: stripes traced and turned into features in turn */
            eo_features *t1 = NULL;
            CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, 5));
            eo_ctx_set_threads(ctx, 1);
            CHECK_OK(ctx, eo_polygonize(ctx, &t1, ds, o));
            eo_ctx_set_threads(ctx, 2);
            if (one && t1)
                check_same(ctx, one, t1, "one thread");
            eo_features_free(t1);
            CHECK_ST(ctx, eo_polygonize_each(ctx, ds, o, stop_cb, NULL), EO_E_CANCELLED);
            CHECK(strstr(eo_ctx_errmsg(ctx), "stopped by the consumer") != NULL);
            CHECK_ST(ctx, eo_polygonize_each(ctx, ds, o, NULL, NULL), EO_E_ARG);
            eo_features_free(one);
            eo_polygonize_opts_free(o);
            eo_dataset_close(ds);
            eo_raster_free(r);
            unlink(path);
        }
}

/* The writer fed in batches writes what eo_features_write writes of the
 * whole (ids running on), refuses a batch of another grid, and leaves
 * nothing behind when dropped unfinished. */
static void test_writer(eo_ctx *ctx) {
    eo_raster *r = make(ctx, 40, 33, 0, 3);
    eo_features *f = NULL, *a = NULL, *b = NULL;
    CHECK_OK(ctx, eo_polygonize_raster(ctx, &f, r, NULL));
    CHECK_OK(ctx, eoi_features_new(ctx, &a, f->gt, f->wkt, 4));
    CHECK_OK(ctx, eoi_features_new(ctx, &b, f->gt, f->wkt, 4));
    for (size_t i = 0; i < f->n; i++) {
        eoi_feature ft = f->v[i];
        ft.g = GEOSGeom_clone_r(ctx->geos, f->v[i].g);
        CHECK_OK(ctx, eoi_features_push(ctx, i < f->n / 3 ? a : b, &ft));
    }
    const char *fmts[] = {"geojson", "gpkg", "fgb"};
    for (int k = 0; k < 3; k++) {
        eo_vector_write_opts *wo = NULL;
        CHECK_OK(ctx, eo_vector_write_opts_new(ctx, &wo));
        CHECK_OK(ctx, eo_vector_write_opts_set_format(ctx, wo, fmts[k]));
        char whole[256], parts[256];
        char wn[32], pn[32];
        snprintf(wn, sizeof wn, "whole.%s", fmts[k]);
        snprintf(pn, sizeof pn, "parts.%s", fmts[k]);
        snprintf(whole, sizeof whole, "%s", tap_tmp(wn));
        snprintf(parts, sizeof parts, "%s", tap_tmp(pn));
        unlink(whole);
        unlink(parts);
        CHECK_OK(ctx, eo_features_write(ctx, f, whole, wo));
        eo_features_writer *w = NULL;
        CHECK_OK(ctx, eo_features_writer_open(ctx, &w, parts, wo, a));
        CHECK_OK(ctx, eo_features_writer_put(ctx, w, a));
        CHECK(!exists(parts));
        CHECK_OK(ctx, eo_features_writer_put(ctx, w, b));
        CHECK_OK(ctx, eo_features_writer_finish(ctx, w));
        if (k == 0) { /* GeoJSON: the same bytes */
            FILE *x = fopen(whole, "rb"), *y = fopen(parts, "rb");
            int cx = 0, cy = 0, same = x && y;
            while (same && (cx = fgetc(x)) == (cy = fgetc(y)) && cx != EOF) {
            }
            same = same && cx == cy;
            CHECKF(same, "writer in two batches: %s differs from %s", parts, whole);
            if (x)
                fclose(x);
            if (y)
                fclose(y);
        } else { /* OGR: the same features by id */
            GDALDatasetH dx = GDALOpenEx(whole, GDAL_OF_VECTOR, NULL, NULL, NULL);
            GDALDatasetH dy = GDALOpenEx(parts, GDAL_OF_VECTOR, NULL, NULL, NULL);
            CHECK(dx && dy);
            if (dx && dy) {
                OGRLayerH lx = GDALDatasetGetLayer(dx, 0), ly = GDALDatasetGetLayer(dy, 0);
                CHECKF(OGR_L_GetFeatureCount(lx, 1) == (GIntBig)f->n &&
                           OGR_L_GetFeatureCount(ly, 1) == (GIntBig)f->n,
                       "%s: feature counts", fmts[k]);
                int diff = 0;
                OGRFeatureH fx, fy;
                OGR_L_ResetReading(lx);
                while ((fx = OGR_L_GetNextFeature(lx)) != NULL) {
                    GIntBig id = OGR_F_GetFieldAsInteger64(fx, 0);
                    OGR_L_SetAttributeFilter(ly, NULL);
                    char q[64];
                    snprintf(q, sizeof q, "id = %lld", (long long)id);
                    OGR_L_SetAttributeFilter(ly, q);
                    OGR_L_ResetReading(ly);
                    fy = OGR_L_GetNextFeature(ly);
                    if (!fy || !OGR_G_Equals(OGR_F_GetGeometryRef(fx), OGR_F_GetGeometryRef(fy)) ||
                        OGR_F_GetFieldAsDouble(fx, 3) != OGR_F_GetFieldAsDouble(fy, 3))
                        diff++;
                    if (fy)
                        OGR_F_Destroy(fy);
                    OGR_F_Destroy(fx);
                }
                CHECKF(diff == 0, "%s: %d features differ between one write and two batches",
                       fmts[k], diff);
            }
            if (dx)
                GDALClose(dx);
            if (dy)
                GDALClose(dy);
        }
        /* a batch on another grid; a writer dropped unfinished */
        eo_raster *r2 = make(ctx, 5, 5, 0, 2);
        double gt2[6] = {0, 1, 0, 0, 0, -1};
        eo_raster_set_geotransform(ctx, r2, gt2);
        eo_features *other = NULL;
        CHECK_OK(ctx, eo_polygonize_raster(ctx, &other, r2, NULL));
        unlink(parts);
        CHECK_OK(ctx, eo_features_writer_open(ctx, &w, parts, wo, a));
        CHECK_OK(ctx, eo_features_writer_put(ctx, w, a));
        CHECK_ST(ctx, eo_features_writer_put(ctx, w, other), EO_E_ARG);
        eo_features_writer_free(w);
        CHECK(!exists(parts));
        eo_features_free(other);
        eo_raster_free(r2);
        unlink(whole);
        unlink(parts);
        eo_vector_write_opts_free(wo);
    }
    eo_features_writer_free(NULL);
    eo_features_free(a);
    eo_features_free(b);
    eo_features_free(f);
    eo_raster_free(r);
}

static void test_errors(eo_ctx *ctx) {
    eo_polygonize_opts *o = NULL;
    eo_features *f = NULL;
    CHECK_OK(ctx, eo_polygonize_opts_new(ctx, &o));
    CHECK_ST(ctx, eo_polygonize_opts_set_connectivity(ctx, o, 6), EO_E_ARG);
    CHECK_ST(ctx, eo_polygonize_opts_set_band(ctx, o, 0), EO_E_ARG);
    eo_window bad = {0, 0, 0, 5};
    CHECK_ST(ctx, eo_polygonize_opts_set_window(ctx, o, &bad), EO_E_ARG);
    eo_raster *r = make(ctx, 10, 10, 0, 2);
    eo_window out = {5, 5, 10, 10};
    CHECK_OK(ctx, eo_polygonize_opts_set_window(ctx, o, &out));
    CHECK_ST(ctx, eo_polygonize_raster(ctx, &f, r, o), EO_E_ARG);
    CHECK(f == NULL);
    CHECK_OK(ctx, eo_polygonize_opts_set_band(ctx, o, 2));
    CHECK_ST(ctx, eo_polygonize_raster(ctx, &f, r, o), EO_E_ARG);
    CHECK_ST(ctx, eo_polygonize_raster(ctx, &f, NULL, NULL), EO_E_ARG);
    CHECK_OK(ctx, eo_polygonize_raster(ctx, &f, r, NULL));
    CHECK_ST(ctx, eo_features_simplify(ctx, f, -1, EO_SIMPLIFY_DP), EO_E_ARG);
    CHECK_ST(ctx, eo_features_simplify(ctx, f, 1, 7), EO_E_ARG);
    /* an output folder that does not exist: io.Write, nothing left */
    const char *p = "/nonexistent-dir-eoproc/x.geojson";
    CHECK_ST(ctx, eo_features_write(ctx, f, p, NULL), EO_E_IO_WRITE);
    CHECK(!exists(p));
    /* a raster without a CRS cannot be written in EPSG:4326 */
    eo_raster *nocrs = NULL;
    eo_features *g = NULL;
    CHECK_OK(ctx, eo_raster_new(ctx, &nocrs, 4, 4, 1, EO_DT_U8));
    CHECK_OK(ctx, eo_polygonize_raster(ctx, &g, nocrs, NULL));
    const char *q = tap_tmp("nocrs.geojson");
    unlink(q);
    CHECK_ST(ctx, eo_features_write(ctx, g, q, NULL), EO_E_CRS);
    CHECK(!exists(q));
    eo_vector_write_opts *wo = NULL;
    CHECK_OK(ctx, eo_vector_write_opts_new(ctx, &wo));
    CHECK_ST(ctx, eo_vector_write_opts_set_format(ctx, wo, "shp"), EO_E_ARG);
    CHECK_ST(ctx, eo_vector_write_opts_set_precision(ctx, wo, 18), EO_E_ARG);
    CHECK_OK(ctx, eo_vector_write_opts_set_native_crs(ctx, wo, 1));
    CHECK_OK(ctx, eo_features_write(ctx, g, q, wo));
    CHECK(exists(q));
    unlink(q);
    /* merging parts of different grids */
    const eo_features *two[2] = {f, g};
    eo_features *m = NULL;
    CHECK_ST(ctx, eo_features_merge_seams(ctx, &m, two, 2), EO_E_SOURCE_MISMATCH);
    CHECK(m == NULL);
    eo_vector_write_opts_free(wo);
    eo_features_free(g);
    eo_raster_free(nocrs);
    eo_features_free(f);
    eo_raster_free(r);
    eo_polygonize_opts_free(o);
}

/* Fail every allocation in turn: a clean status, nothing leaked (ASan). */
static void test_faults(eo_ctx *ctx) {
    eo_raster *r = make(ctx, 23, 17, 0, 3);
    eo_polygonize_opts *o = NULL;
    CHECK_OK(ctx, eo_polygonize_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, 5));
    CHECK_OK(ctx, eo_polygonize_opts_set_connectivity(ctx, o, 8));
    int ok_at = 0;
    for (long n = 1; n < 2000 && !ok_at; n++) {
        eo_features *f = NULL;
        eo_exp_fail_alloc(n);
        eo_status st = eo_polygonize_raster(ctx, &f, r, o);
        eo_exp_fail_alloc(0);
        if (st == EO_OK) {
            ok_at = (int)n;
            eo_features_free(f);
        } else
            CHECKF(f == NULL && st == EO_E_NOMEM, "fault %ld: %s (%s)", n, eo_status_id(st),
                   eo_ctx_errmsg(ctx));
    }
    CHECK(ok_at > 1);
    /* the stream, written as it comes */
    const char *path = tap_tmp("faults.tif");
    double gt[6] = {1000, 0.5, 0, 2000, 0, -0.5};
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_raster_write(ctx, r, path, NULL));
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, path));
    ok_at = 0;
    for (long n = 1; n < 4000 && !ok_at; n++) {
        gather g = {0};
        eo_exp_fail_alloc(n);
        eo_status st = eoi_features_new(ctx, &g.all, gt, "", 8);
        if (st == EO_OK)
            st = eo_polygonize_each(ctx, ds, o, gather_cb, &g);
        eo_exp_fail_alloc(0);
        eo_features_free(g.all);
        if (st == EO_OK)
            ok_at = (int)n;
        else
            CHECKF(st == EO_E_NOMEM, "stream fault %ld: %s (%s)", n, eo_status_id(st),
                   eo_ctx_errmsg(ctx));
    }
    CHECKF(ok_at > 1, "stream faults: succeeded at allocation %d", ok_at);
    eo_dataset_close(ds);
    unlink(path);
    /* into a file, holes on disk (4-connected blobs with specks, open
     * across the seams): nothing at the path after a failure */
    eo_raster *rb = make(ctx, 40, 30, 1, 3);
    CHECK_OK(ctx, eo_raster_write(ctx, rb, path, NULL));
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, path));
    CHECK_OK(ctx, eo_polygonize_opts_set_connectivity(ctx, o, 4));
    char out[256];
    snprintf(out, sizeof out, "%s", tap_tmp("faults.geojson"));
    unlink(out);
    ok_at = 0;
    for (long n = 1; n < 4000 && !ok_at; n++) {
        eo_exp_fail_alloc(n);
        eo_status st = eo_polygonize_write(ctx, ds, o, out, NULL, NULL);
        eo_exp_fail_alloc(0);
        if (st == EO_OK)
            ok_at = (int)n;
        else
            CHECKF(st == EO_E_NOMEM && !exists(out), "write fault %ld: %s (%s)", n,
                   eo_status_id(st), eo_ctx_errmsg(ctx));
    }
    CHECKF(ok_at > 1, "write faults: succeeded at allocation %d", ok_at);
    eo_dataset_close(ds);
    eo_raster_free(rb);
    unlink(path);
    unlink(out);
    eo_polygonize_opts_free(o);
    eo_raster_free(r);
}

/* eo_polygonize_write: the count, the same bytes as a writer fed by
 * eo_polygonize_each (whose features keep their holes in memory: the
 * same features, the holes in another order) for
 * regions open across many seams with holes in them, a one-line error and
 * nothing at the path when the temporary file or the output fails. */
typedef struct fed {
    eo_features_writer *w;
    const char *path;
    eo_vector_write_opts *wo;
} fed;

static eo_status feed_cb(eo_ctx *ctx, eo_features *b, void *user) {
    fed *q = user;
    if (!q->w) {
        eo_status st = eo_features_writer_open(ctx, &q->w, q->path, q->wo, b);
        if (st != EO_OK)
            return st;
    }
    return eo_features_writer_put(ctx, q->w, b);
}

/* The features of two files, in order: the same ids, classes, pixel
 * counts, areas (to their 3 decimals) and geometries (each within the
 * other, GEOS's test through OGR: OGR_G_Equals wants the rings in order). */
static bool same_features(const char *a, const char *b) {
    GDALDatasetH da = GDALOpenEx(a, GDAL_OF_VECTOR, NULL, NULL, NULL);
    GDALDatasetH db = GDALOpenEx(b, GDAL_OF_VECTOR, NULL, NULL, NULL);
    bool same = da && db;
    OGRLayerH la = same ? GDALDatasetGetLayer(da, 0) : NULL;
    OGRLayerH lb = same ? GDALDatasetGetLayer(db, 0) : NULL;
    while (same) {
        OGRFeatureH fa = OGR_L_GetNextFeature(la), fb = OGR_L_GetNextFeature(lb);
        if (!fa || !fb) {
            same = !fa && !fb;
            OGR_F_Destroy(fa);
            OGR_F_Destroy(fb);
            break;
        }
        double xa = OGR_F_GetFieldAsDouble(fa, 3), xb = OGR_F_GetFieldAsDouble(fb, 3);
        same = OGR_F_GetFieldAsInteger64(fa, 0) == OGR_F_GetFieldAsInteger64(fb, 0) &&
               OGR_F_GetFieldAsDouble(fa, 1) == OGR_F_GetFieldAsDouble(fb, 1) &&
               OGR_F_GetFieldAsInteger64(fa, 2) == OGR_F_GetFieldAsInteger64(fb, 2) &&
               fabs(xa - xb) <= 2e-3 && /* printed to 3 decimals */
               OGR_G_Within(OGR_F_GetGeometryRef(fa), OGR_F_GetGeometryRef(fb)) &&
               OGR_G_Within(OGR_F_GetGeometryRef(fb), OGR_F_GetGeometryRef(fa));
        OGR_F_Destroy(fa);
        OGR_F_Destroy(fb);
    }
    if (da)
        GDALClose(da);
    if (db)
        GDALClose(db);
    return same;
}

static void test_write_file(eo_ctx *ctx) {
    for (int conn = 4; conn <= 8; conn += 4) {
        eo_raster *r = make(ctx, 90, 120, 1, 3);
        const char *src = tap_tmp("wf.tif");
        CHECK_OK(ctx, eo_raster_write(ctx, r, src, NULL));
        eo_dataset *ds = NULL;
        CHECK_OK(ctx, eo_dataset_open(ctx, &ds, src));
        eo_polygonize_opts *o = NULL;
        eo_vector_write_opts *wo = NULL;
        CHECK_OK(ctx, eo_polygonize_opts_new(ctx, &o));
        CHECK_OK(ctx, eo_polygonize_opts_set_connectivity(ctx, o, conn));
        CHECK_OK(ctx, eo_polygonize_opts_set_stripe_rows(ctx, o, 6));
        CHECK_OK(ctx, eo_vector_write_opts_new(ctx, &wo));
        char a[256], b[256];
        snprintf(a, sizeof a, "%s", tap_tmp("wf_spooled.geojson"));
        snprintf(b, sizeof b, "%s", tap_tmp("wf_fed.geojson"));
        unlink(a);
        unlink(b);
        int64_t count = -1;
        CHECK_OK(ctx, eo_polygonize_write(ctx, ds, o, a, wo, &count));
        fed q = {.path = b, .wo = wo};
        CHECK_OK(ctx, eo_polygonize_each(ctx, ds, o, feed_cb, &q));
        CHECK_OK(ctx, eo_features_writer_finish(ctx, q.w));
        CHECKF(same_features(a, b), "connectivity %d: %s differs from %s", conn, a, b);
        GDALDatasetH d = GDALOpenEx(a, GDAL_OF_VECTOR, NULL, NULL, NULL);
        CHECK(d != NULL);
        if (d) {
            GIntBig n = OGR_L_GetFeatureCount(GDALDatasetGetLayer(d, 0), 1);
            CHECKF(n == count && n > 20, "count %lld, the file holds %lld", (long long)count,
                   (long long)n);
            GDALClose(d);
        }
        /* failures: nothing at the path */
        CHECK_ST(ctx, eo_polygonize_write(ctx, ds, o, NULL, wo, NULL), EO_E_ARG);
        unlink(a);
        CHECK_ST(ctx, eo_polygonize_write(ctx, ds, o, "/nonexistent/dir/x.geojson", wo, &count),
                 EO_E_IO_WRITE);
        CHECK(count == 0);
        char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
        setenv("TMPDIR", "/nonexistent/tmp", 1);
        CHECK_ST(ctx, eo_polygonize_write(ctx, ds, o, a, wo, NULL), EO_E_IO_WRITE);
        CHECKF(strstr(eo_ctx_errmsg(ctx), "/nonexistent/tmp") != NULL, "message: %s",
               eo_ctx_errmsg(ctx));
        CHECK(!exists(a));
        if (old)
            setenv("TMPDIR", old, 1);
        else
            unsetenv("TMPDIR");
        free(old);
        eo_vector_write_opts_free(wo);
        eo_polygonize_opts_free(o);
        eo_dataset_close(ds);
        eo_raster_free(r);
    }
}

int main(void) {
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    eo_ctx_set_threads(ctx, 2);
    test_exact(ctx);
    test_nested_islands(ctx);
    test_each(ctx);
    test_writer(ctx);
    test_write_file(ctx);
    test_lc_partitions(ctx);
    test_coverage(ctx);
    test_errors(ctx);
    test_faults(ctx);
    eo_ctx_free(ctx);
    return tap_done();
}
