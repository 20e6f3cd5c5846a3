/* test_tiles.c - web-mercator tile math against closed forms and known
 * values: the grid's extent, Bing's QuadKey example, resolution per zoom,
 * point to tile, XYZ/TMS, and the tiles that cover an AOI; the pyramid
 * writer (eo_tiles_write) against the one-tile path and the TMS formula. */
#include "eoi.h"
#include "tap.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN 20037508.342789244 /* pi * 6378137 */

static eo_geom *polygon(eo_ctx *ctx, double x0, double y0, double x1, double y1) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"Polygon\",\"coordinates\":[[[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g],"
             "[%.17g,%.17g],[%.17g,%.17g]]]}",
             x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
    eo_geom *g = NULL;
    eo_status st = eo_geom_from_geojson(ctx, &g, json, NULL);
    CHECKF(st == EO_OK, "%s", eo_ctx_errmsg(ctx));
    return g;
}

/* The pyramid writer: every tile it reports is a file, named by the TMS row
 * formula 2^z - 1 - y, holding the bytes eo_tile_read + eo_raster_encode
 * give for that tile; bad arguments are refused without writing. */
static void test_tiles_write(eo_ctx *ctx) {
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("L7_ETMs.tif")));
    if (!ds)
        return;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tap_tmp("pyramid_tms"));
    eo_pyramid_opts *po = NULL;
    CHECK_OK(ctx, eo_pyramid_opts_new(ctx, &po));
    CHECK_OK(ctx, eo_pyramid_opts_set_tms(ctx, po, 1));
    char *json = NULL;
    CHECK_OK(ctx, eo_tiles_write(ctx, &json, ds, dir, 11, 12, NULL, po));
    long written = -1, found = 0, same = 0;
    if (json) {
        const char *w = strstr(json, "\"tiles_written\":");
        written = w ? strtol(w + 16, NULL, 10) : -1;
        CHECK(strstr(json, "\"scheme\":\"tms\"") != NULL);
    }
    eo_free(json);
    /* every file of the folder: z/x/row.png */
    for (int32_t z = 11; z <= 12; z++)
        for (int32_t x = 0; x < (1 << z); x++) {
            char col[1200];
            snprintf(col, sizeof col, "%s/%d/%d", dir, (int)z, (int)x);
            DIR *d = opendir(col);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                int row, n = 0;
                if (sscanf(e->d_name, "%d.png%n", &row, &n) != 1 || e->d_name[n])
                    continue;
                char path[1500];
                snprintf(path, sizeof path, "%s/%s", col, e->d_name);
                size_t len = 0;
                unsigned char *bytes = tap_read(path, &len);
                found++;
                eo_raster *r = NULL;
                void *ref = NULL;
                size_t rlen = 0;
                int32_t y = (1 << z) - 1 - row; /* TMS row to XYZ */
                CHECK_OK(ctx, eo_tile_read(ctx, &r, ds, z, x, y, NULL));
                CHECK_OK(ctx, eo_raster_encode(ctx, &ref, &rlen, r, "png", 0));
                same += bytes && ref && rlen == len && memcmp(ref, bytes, len) == 0;
                eo_free(ref);
                eo_raster_free(r);
                free(bytes);
            }
            if (d)
                closedir(d);
        }
    CHECKF(written > 0 && found == written && same == found, "written %ld, found %ld, same %ld",
           written, found, same);

    snprintf(dir, sizeof dir, "%s", tap_tmp("pyramid_bad"));
    CHECK_ST(ctx, eo_tiles_write(ctx, &json, ds, dir, 12, 11, NULL, NULL), EO_E_ARG);
    CHECK(json == NULL);
    CHECK_ST(ctx, eo_tiles_write(ctx, &json, ds, dir, 0, 31, NULL, NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_pyramid_opts_set_format(ctx, po, "gif", 0), EO_E_ARG);
    CHECK_ST(ctx, eo_pyramid_opts_set_format(ctx, po, "jpeg", 101), EO_E_ARG);
    size_t len = 0;
    unsigned char *nothing = tap_read(dir, &len);
    CHECK(nothing == NULL); /* nothing was written */
    free(nothing);
    eo_pyramid_opts_free(po);
    eo_dataset_close(ds);
}

static int has_tile(const eo_tile *t, int64_t n, int32_t z, int32_t x, int32_t y) {
    for (int64_t i = 0; i < n; i++)
        if (t[i].z == z && t[i].x == x && t[i].y == y)
            return 1;
    return 0;
}

int main(void) {
    eo_ctx *ctx = NULL;
    CHECK_OK(ctx, eo_ctx_new(&ctx));

    /* zoom 0: the whole grid */
    eo_bbox m, ll;
    CHECK_OK(ctx, eo_tile_bounds(ctx, 0, 0, 0, &m, &ll));
    CHECK(fabs(m.xmin + ORIGIN) < 1e-6 && fabs(m.xmax - ORIGIN) < 1e-6);
    CHECK(fabs(m.ymin + ORIGIN) < 1e-6 && fabs(m.ymax - ORIGIN) < 1e-6);
    CHECK(ll.xmin == -180 && ll.xmax == 180);
    CHECK(fabs(ll.ymax - 85.0511287798066) < 1e-12 && fabs(ll.ymin + 85.0511287798066) < 1e-12);

    /* every tile of zoom 3 tiles the grid: neighbours share edges exactly */
    for (int32_t y = 0; y < 8; y++)
        for (int32_t x = 0; x < 7; x++) {
            eo_bbox a, b;
            eo_tile_bounds(ctx, 3, x, y, &a, NULL);
            eo_tile_bounds(ctx, 3, x + 1, y, &b, NULL);
            CHECK(a.xmax == b.xmin && a.ymin == b.ymin);
            CHECK(fabs((a.xmax - a.xmin) - 2 * ORIGIN / 8) < 1e-6);
        }
    /* the equator and the prime meridian are tile edges from zoom 1 on */
    CHECK_OK(ctx, eo_tile_bounds(ctx, 5, 16, 16, &m, &ll));
    CHECK(ll.xmin == 0 && ll.ymax == 0 && m.xmin == 0 && m.ymax == 0);
    CHECK_ST(ctx, eo_tile_bounds(ctx, 3, 8, 0, NULL, NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_tile_bounds(ctx, 31, 0, 0, NULL, NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_tile_bounds(ctx, 2, 0, -1, NULL, NULL), EO_E_ARG);

    /* QuadKeys: Bing Maps' documented example, tile (3, 5) at level 3 = "213" */
    char qk[32];
    CHECK_OK(ctx, eo_tile_quadkey(ctx, qk, sizeof qk, 3, 3, 5));
    CHECK(strcmp(qk, "213") == 0);
    CHECK_OK(ctx, eo_tile_quadkey(ctx, qk, sizeof qk, 0, 0, 0));
    CHECK(strcmp(qk, "") == 0);
    CHECK_ST(ctx, eo_tile_quadkey(ctx, qk, 3, 3, 3, 5), EO_E_ARG);
    int32_t z, x, y;
    CHECK_OK(ctx, eo_tile_from_quadkey(ctx, &z, &x, &y, "213"));
    CHECK(z == 3 && x == 3 && y == 5);
    CHECK_ST(ctx, eo_tile_from_quadkey(ctx, &z, &x, &y, "2147"), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "digit 3"));
    CHECK_ST(ctx, eo_tile_from_quadkey(ctx, &z, &x, &y, "0123012301230123012301230123012"),
             EO_E_ARG);
    /* round trip at every zoom, at the grid's corners */
    int rt = 1;
    for (int32_t zz = 1; zz <= 30; zz++) {
        int32_t last = (int32_t)(((int64_t)1 << zz) - 1);
        int32_t xs[] = {0, last, last / 3}, ys[] = {last, 0, last / 7};
        for (int i = 0; i < 3; i++) {
            eo_tile_quadkey(ctx, qk, sizeof qk, zz, xs[i], ys[i]);
            eo_tile_from_quadkey(ctx, &z, &x, &y, qk);
            rt &= z == zz && x == xs[i] && y == ys[i] && (int)strlen(qk) == zz;
        }
    }
    CHECK(rt);

    /* XYZ <-> TMS */
    CHECK(eo_tile_flip_y(0, 0) == 0);
    CHECK(eo_tile_flip_y(3, 0) == 7 && eo_tile_flip_y(3, 7) == 0 && eo_tile_flip_y(3, 2) == 5);
    CHECK(eo_tile_flip_y(30, 0) == (1 << 30) - 1);

    /* resolution: 2 pi R / 256 at zoom 0 on the equator, halving per zoom */
    CHECK(fabs(eo_tile_resolution(0, 0, 256) - 156543.03392804097) < 1e-8);
    CHECK(fabs(eo_tile_resolution(18, 0, 256) - 156543.03392804097 / 262144) < 1e-12);
    CHECK(fabs(eo_tile_resolution(10, 60, 256) - 156543.03392804097 / 1024 * 0.5) < 1e-9);
    CHECK(fabs(eo_tile_resolution(10, 0, 512) * 2 - eo_tile_resolution(10, 0, 256)) < 1e-12);
    CHECK(eo_tile_resolution(-1, 0, 256) == 0 && eo_tile_resolution(3, 91, 256) == 0);
    int zoom_ok = 1;
    for (int32_t zz = 0; zz <= 30; zz++) {
        double r = eo_tile_resolution(zz, 40, 256);
        eo_tile_zoom_for_resolution(ctx, &z, r, 40, 256);
        zoom_ok &= z == zz;
        eo_tile_zoom_for_resolution(ctx, &z, r * 1.3, 40, 256); /* coarser: same zoom */
        zoom_ok &= z == zz;
        eo_tile_zoom_for_resolution(ctx, &z, r * 0.9, 40, 256); /* finer: the next one */
        zoom_ok &= z == (zz < 30 ? zz + 1 : 30);
    }
    CHECK(zoom_ok);
    /* Landsat's 30 m at the equator: zoom 13 (19.1 m) is the first at least as fine */
    CHECK_OK(ctx, eo_tile_zoom_for_resolution(ctx, &z, 30, 0, 256));
    CHECK(z == 13);
    CHECK_ST(ctx, eo_tile_zoom_for_resolution(ctx, &z, 0, 0, 256), EO_E_ARG);
    CHECK_ST(ctx, eo_tile_zoom_for_resolution(ctx, &z, NAN, 0, 256), EO_E_ARG);

    /* point to tile: a point inside each tile's lon/lat bounds maps back to it */
    int at_ok = 1;
    for (int32_t zz = 0; zz <= 20; zz += 4) {
        int32_t n = 1 << zz;
        int32_t xs[] = {0, n / 2, n - 1, n / 3}, ys[] = {n - 1, n / 2, 0, n / 5};
        for (int i = 0; i < 4; i++) {
            eo_tile_bounds(ctx, zz, xs[i], ys[i], NULL, &ll);
            eo_tile_at(ctx, (ll.xmin + ll.xmax) / 2, (ll.ymin + ll.ymax) / 2, zz, &x, &y);
            at_ok &= x == xs[i] && y == ys[i];
        }
    }
    CHECK(at_ok);
    CHECK_OK(ctx, eo_tile_at(ctx, 180, 90, 4, &x, &y)); /* the grid's corner: last column, row 0 */
    CHECK(x == 15 && y == 0);
    CHECK_OK(ctx, eo_tile_at(ctx, -180, -90, 4, &x, &y));
    CHECK(x == 0 && y == 15);
    CHECK_ST(ctx, eo_tile_at(ctx, 181, 0, 4, &x, &y), EO_E_ARG);
    CHECK_ST(ctx, eo_tile_at(ctx, 0, NAN, 4, &x, &y), EO_E_ARG);

    /* cover: an AOI equal to one tile covers that tile only (neighbours
     * merely touch it), and its 4 children one zoom deeper */
    eo_tile_bounds(ctx, 12, 1525, 2110, NULL, &ll);
    eo_geom *aoi = polygon(ctx, ll.xmin, ll.ymin, ll.xmax, ll.ymax);
    eo_tile *t = NULL;
    int64_t n = 0;
    CHECK_OK(ctx, eo_tiles_cover(ctx, &t, &n, aoi, 12));
    CHECKF(n == 1 && has_tile(t, n, 12, 1525, 2110), "n = %lld", (long long)n);
    eo_free(t);
    CHECK_OK(ctx, eo_tiles_cover(ctx, &t, &n, aoi, 13));
    CHECK(n == 4 && has_tile(t, n, 13, 3050, 4220) && has_tile(t, n, 13, 3051, 4221));
    /* row-major order */
    CHECK(n == 4 && t[0].y <= t[1].y && t[1].y <= t[2].y && t[2].x > t[1].x - 2);
    eo_free(t);
    CHECK_OK(ctx, eo_tiles_cover(ctx, &t, &n, aoi, 0));
    CHECK(n == 1 && t[0].z == 0);
    eo_free(t);
    eo_geom_free(aoi);
    /* the whole world, and an AOI beyond the grid's latitudes */
    aoi = polygon(ctx, -180, -90, 180, 90);
    CHECK_OK(ctx, eo_tiles_cover(ctx, &t, &n, aoi, 3));
    CHECK(n == 64);
    eo_free(t);
    CHECK_ST(ctx, eo_tiles_cover(ctx, &t, &n, aoi, 14), EO_E_AOI_TOO_LARGE);
    CHECK(t == NULL && n == 0);
    eo_geom_free(aoi);
    aoi = polygon(ctx, 10, 86, 20, 89);
    CHECK_OK(ctx, eo_tiles_cover(ctx, &t, &n, aoi, 5));
    CHECK(n == 0);
    eo_free(t);
    eo_geom_free(aoi);
    /* an AOI in UTM: reprojected first (a 1 km square at the equator) */
    eo_geom_opts *o = NULL;
    eo_geom_opts_new(ctx, &o);
    eo_geom_opts_set_crs(ctx, o, "EPSG:32631");
    CHECK_OK(ctx, eo_geom_from_geojson(ctx, &aoi,
                                       "{\"type\":\"Polygon\",\"coordinates\":[[[500100,100],"
                                       "[501100,100],[501100,1100],[500100,1100],[500100,100]]]}",
                                       o));
    CHECK_OK(ctx, eo_tiles_cover(ctx, &t, &n, aoi, 10)); /* 3 degrees east, just north */
    CHECK(n == 1 && t[0].x == 520 && t[0].y == 511);
    eo_free(t);
    eo_geom_free(aoi);
    eo_geom_opts_free(o);

    test_tiles_write(ctx);
    eo_ctx_free(ctx);
    return tap_done();
}
