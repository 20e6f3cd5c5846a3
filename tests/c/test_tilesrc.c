/* test_tilesrc.c - tile datasets: a pyramid written by the tiles operation
 * read back through eo_dataset_open_tiles equals eo_tile_read of the same
 * tiles (folder and host callback); the georeferencing equals the tile
 * bounds formula; missing, corrupt and wrong-size tiles; MBTiles that are
 * not; consumers with worker threads (the COG writer on 2 threads, read
 * back through GDAL); the tile cache decodes each tile once; allocation
 * failures at open. Run under ASan/LSan by scripts/test.sh. */
#include "eoi.h"
#include "tap.h"

#include <gdal.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ORIGIN 20037508.342789244 /* pi * 6378137 */
#define Z 14

static char pyr[1024];
static int32_t tx0, ty0; /* top-left tile of a 2 x 2 block inside the pyramid */

static void tile_path(char *buf, size_t cap, int32_t x, int32_t y) {
    snprintf(buf, cap, "%s/%d/%d/%d.png", pyr, Z, (int)x, (int)y);
}

/* Bounds of tile z/x/y from the formula, independent of eoproc. */
static eo_bbox merc_bounds(int32_t z, int32_t x, int32_t y) {
    double span = 2 * ORIGIN / ldexp(1.0, z);
    eo_bbox b = {-ORIGIN + x * span, ORIGIN - (y + 1) * span, -ORIGIN + (x + 1) * span,
                 ORIGIN - y * span};
    return b;
}

static eo_tilesrc_opts *opts_for(eo_ctx *ctx, int32_t x0, int32_t y0, int32_t x1, int32_t y1) {
    eo_tilesrc_opts *o = NULL;
    CHECK_OK(ctx, eo_tilesrc_opts_new(ctx, &o));
    eo_bbox a = merc_bounds(Z, x0, y0), b = merc_bounds(Z, x1, y1);
    eo_bbox box = {a.xmin, b.ymin, b.xmax, a.ymax};
    CHECK_OK(ctx, eo_tilesrc_opts_set_zoom(ctx, o, Z));
    CHECK_OK(ctx, eo_tilesrc_opts_set_bbox(ctx, o, &box, "EPSG:3857"));
    return o;
}

/* Pixels of the dataset's 2 x 2 tile block against eo_tile_read of the
 * four tiles rendered from the source raster. */
static void check_against_tile_read(eo_ctx *ctx, eo_dataset *ds, eo_dataset *l7) {
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL));
    if (!r)
        return;
    CHECK(eo_raster_width(r) == 512 && eo_raster_height(r) == 512);
    CHECK(eo_raster_band_count(r) == 4 && eo_raster_dtype(r) == EO_DT_U8);
    const uint8_t *p = eo_raster_data(r);
    long diff = 0;
    for (int32_t j = 0; j < 2; j++)
        for (int32_t i = 0; i < 2; i++) {
            eo_raster *t = NULL;
            CHECK_OK(ctx, eo_tile_read(ctx, &t, l7, Z, tx0 + i, ty0 + j, NULL));
            if (!t)
                continue;
            const uint8_t *q = eo_raster_data(t);
            for (int b = 0; b < 4; b++)
                for (int y = 0; y < 256; y++)
                    for (int x = 0; x < 256; x++)
                        diff += p[((size_t)b * 512 + (size_t)(j * 256 + y)) * 512 +
                                  (size_t)(i * 256 + x)] != q[((size_t)b * 256 + y) * 256 + x];
            eo_raster_free(t);
        }
    CHECKF(diff == 0, "%ld samples differ from eo_tile_read", diff);
    double gt[6];
    eo_raster_get_geotransform(r, gt);
    eo_bbox a = merc_bounds(Z, tx0, ty0);
    CHECKF(fabs(gt[0] - a.xmin) < 1e-6 && fabs(gt[3] - a.ymax) < 1e-6, "origin %.9f %.9f", gt[0],
           gt[3]);
    CHECK(fabs(gt[1] - 2 * ORIGIN / (256 * ldexp(1.0, Z))) < 1e-9 && gt[5] == -gt[1]);
    CHECK(gt[2] == 0 && gt[4] == 0);
    CHECK(eoi_crs_epsg(ctx, eo_raster_crs_wkt(r)) == 3857);
    eo_raster_free(r);
}

/* ---- a host callback serving the pyramid's files, with faults ------------ */

struct host {
    uint8_t *bytes[4]; /* the 2 x 2 block's files, read beforehand */
    size_t n[4];
    int calls;
    int32_t corrupt_x, corrupt_y; /* serve garbage for this tile */
    int32_t fail_x;               /* return an error for this column */
    const void *big;              /* a 512 px tile served for (big_x, *) */
    size_t big_n;
    int32_t big_x;
};

static int fetch(void *user, int32_t z, int32_t x, int32_t y, eo_tile_sink *sink) {
    struct host *h = user;
    __atomic_fetch_add(&h->calls, 1, __ATOMIC_RELAXED);
    if (z != Z)
        return 7;
    if (x == h->fail_x) {
        eo_tile_sink_set_error(sink, "server said 503");
        return 503;
    }
    if (x == h->big_x)
        return eo_tile_sink_set(sink, h->big, h->big_n) == EO_OK ? 0 : 1;
    if (x == h->corrupt_x && y == h->corrupt_y) {
        static const char junk[] = "\x89PNG\r\n\x1a\nthis is not a PNG stream at all";
        return eo_tile_sink_set(sink, junk, sizeof junk) == EO_OK ? 0 : 1;
    }
    if (x < tx0 || x > tx0 + 1 || y < ty0 || y > ty0 + 1)
        return 0; /* missing */
    int k = (y - ty0) * 2 + (x - tx0);
    return eo_tile_sink_set(sink, h->bytes[k], h->n[k]) == EO_OK ? 0 : 1;
}

/* An MBTiles file of the 2 x 2 block (TMS rows), and a copy cut short. */
static void check_mbtiles(eo_ctx *ctx, const struct host *h, eo_dataset *l7,
                          const eo_tilesrc_opts *o) {
    char path[1024], cut[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("tilesrc.mbtiles"));
    snprintf(cut, sizeof cut, "%s", tap_tmp("tilesrc_cut.mbtiles"));
    remove(path);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "CREATE TABLE metadata (name text, value text);"
                       "CREATE TABLE tiles (zoom_level integer, tile_column integer, "
                       "tile_row integer, tile_data blob);",
                       NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "INSERT INTO tiles VALUES (?, ?, ?, ?)", -1, &ins, NULL) ==
          SQLITE_OK);
    for (int k = 0; k < 4 && ins; k++) {
        sqlite3_bind_int(ins, 1, Z);
        sqlite3_bind_int(ins, 2, tx0 + (k & 1));
        sqlite3_bind_int(ins, 3, (1 << Z) - 1 - (ty0 + (k >> 1)));
        sqlite3_bind_blob(ins, 4, h->bytes[k], (int)h->n[k], SQLITE_STATIC);
        CHECK(sqlite3_step(ins) == SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);

    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open_tiles(ctx, &ds, path, o));
    if (ds)
        check_against_tile_read(ctx, ds, l7);
    eo_dataset_close(ds);
    ds = NULL;

    uint8_t *bytes = NULL;
    size_t n = 0;
    CHECK_OK(ctx, eoi_read_file_bytes(ctx, &bytes, &n, path, 1 << 26));
    CHECK_OK(ctx, eoi_write_file(ctx, cut, bytes, n / 3));
    eoi_free(bytes);
    CHECK_ST(ctx, eo_dataset_open_tiles(ctx, &ds, cut, o), EO_E_SOURCE);
    CHECKF(strstr(eo_ctx_errmsg(ctx), "truncated MBTiles file"), "%s", eo_ctx_errmsg(ctx));
    remove(cut);
    remove(path);
}

static void find_block(void) {
    /* the first 2 x 2 block of tiles that all exist, scanning the grid */
    char p[1200];
    struct stat sb;
    int32_t n = 1 << Z;
    for (int32_t x = 0; x < n - 1; x++) {
        snprintf(p, sizeof p, "%s/%d/%d", pyr, Z, (int)x);
        if (stat(p, &sb) != 0)
            continue;
        for (int32_t y = 0; y < n - 1; y++) {
            int ok = 1;
            for (int k = 0; k < 4 && ok; k++) {
                tile_path(p, sizeof p, x + (k & 1), y + (k >> 1));
                ok = stat(p, &sb) == 0;
            }
            if (ok) {
                tx0 = x + 1 <= n - 2 ? x : x; /* keep the first found */
                ty0 = y;
                return;
            }
        }
    }
}

int main(void) {
    eo_ctx *ctx = NULL;
    CHECK_OK(ctx, eo_ctx_new(&ctx));
    eo_ctx_set_threads(ctx, 2);
    char src[1024]; /* tap_data / tap_tmp reuse their buffers */
    snprintf(src, sizeof src, "%s", tap_data("L7_ETMs.tif"));
    snprintf(pyr, sizeof pyr, "%s", tap_tmp("tilesrc_pyr"));

    /* the pyramid, written by the tiles operation */
    char params[2600], *res = NULL;
    snprintf(params, sizeof params, "{\"src\": \"%s\", \"zoom\": \"%d\", \"out\": \"%s\"}", src, Z,
             pyr);
    CHECK_OK(ctx, eo_op_run(ctx, "tiles", params, &res));
    eo_free(res);
    find_block();
    CHECKF(tx0 > 0 && ty0 > 0, "a 2 x 2 block of tiles in %s", pyr);
    eo_dataset *l7 = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &l7, src));

    /* folder */
    eo_tilesrc_opts *o = opts_for(ctx, tx0, ty0, tx0 + 1, ty0 + 1);
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open_tiles(ctx, &ds, pyr, o));
    if (ds) {
        CHECK(eo_dataset_width(ds) == 512 && eo_dataset_height(ds) == 512);
        CHECK(eo_dataset_band_count(ds) == 4);
        check_against_tile_read(ctx, ds, l7);
        CHECK(eo_dataset_tiles_missing(ds) == 0);
        char *json = NULL;
        CHECK_OK(ctx, eo_dataset_tiles_info(ctx, &json, ds));
        CHECKF(json && strstr(json, "\"decoded\":4,"), "decoded once each: %s", json);
        eo_free(json);
        CHECK(strncmp(eo_dataset_gdal_path(ds), "/vsimem/", 8) == 0);

        /* a consumer with worker threads: the COG writer on 2 threads, read
         * back with GDAL */
        const char *cog = tap_tmp("tilesrc_cog.tif");
        eo_cog_opts *co = NULL;
        CHECK_OK(ctx, eo_cog_opts_new(ctx, &co));
        CHECK_OK(ctx, eo_cog_opts_set_threads(ctx, co, 2));
        CHECK_OK(ctx, eo_cog_opts_set_blocksize(ctx, co, 256));
        CHECK_OK(ctx, eo_cog_write(ctx, cog, ds, co));
        eo_cog_opts_free(co);
        eo_raster *a = NULL;
        CHECK_OK(ctx, eo_dataset_read(ctx, &a, ds, NULL, NULL));
        GDALDatasetH h = GDALOpen(cog, GA_ReadOnly);
        CHECK(h != NULL);
        if (h && a) {
            uint8_t *buf = malloc(512 * 512 * 4);
            CHECK(GDALDatasetRasterIO(h, GF_Read, 0, 0, 512, 512, buf, 512, 512, GDT_Byte, 4, NULL,
                                      0, 0, 0) == CE_None);
            CHECK(memcmp(buf, eo_raster_data(a), 512 * 512 * 4) == 0);
            free(buf);
        }
        if (h)
            GDALClose(h);
        eo_raster_free(a);
        remove(cog);
    }
    eo_dataset_close(ds);
    ds = NULL;

    /* a bigger extent than the pyramid: missing tiles are alpha 0, counted once */
    eo_tilesrc_opts_free(o);
    o = opts_for(ctx, tx0 - 40, ty0 - 40, tx0 - 39, ty0 - 39);
    CHECK_OK(ctx, eo_dataset_open_tiles(ctx, &ds, pyr, o));
    for (int k = 0; k < 2 && ds; k++) {
        eo_raster *r = NULL;
        CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL));
        const uint8_t *p = r ? eo_raster_data(r) : NULL;
        size_t nonzero = 0;
        for (size_t i = 0; p && i < eo_raster_nbytes(r); i++)
            nonzero += p[i] != 0;
        CHECK(p && nonzero == 0);
        eo_raster_free(r);
        CHECKF(eo_dataset_tiles_missing(ds) == 4, "missing %lld",
               (long long)eo_dataset_tiles_missing(ds));
    }
    eo_dataset_close(ds);
    ds = NULL;

    /* host callback: the same pixels as the folder */
    eo_tilesrc_opts_free(o);
    o = opts_for(ctx, tx0, ty0, tx0 + 1, ty0 + 1);
    struct host host = {{NULL}, {0}, 0, -1, -1, -1, NULL, 0, -1};
    for (int k = 0; k < 4; k++) {
        char path[1200];
        tile_path(path, sizeof path, tx0 + (k & 1), ty0 + (k >> 1));
        CHECK_OK(ctx, eoi_read_file_bytes(ctx, &host.bytes[k], &host.n[k], path, 1 << 24));
    }
    CHECK_OK(ctx, eo_dataset_open_tiles_callback(ctx, &ds, fetch, &host, o));
    if (ds)
        check_against_tile_read(ctx, ds, l7);
    CHECKF(host.calls == 4, "callback called %d times for 4 tiles", host.calls);
    eo_dataset_close(ds);
    ds = NULL;

    check_mbtiles(ctx, &host, l7, o);

    /* a corrupt tile: an error naming z/x/y; or missing when asked */
    host.corrupt_x = tx0 + 1;
    host.corrupt_y = ty0;
    char want[64];
    snprintf(want, sizeof want, "tile %d/%d/%d of the host tile callback", Z, (int)tx0 + 1,
             (int)ty0);
    CHECK_OK(ctx, eo_dataset_open_tiles_callback(ctx, &ds, fetch, &host, o));
    eo_raster *r = NULL;
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL), EO_E_IO_READ);
    CHECKF(strstr(eo_ctx_errmsg(ctx), want) && strstr(eo_ctx_errmsg(ctx), "corrupt PNG"), "%s",
           eo_ctx_errmsg(ctx));
    eo_dataset_close(ds);
    ds = NULL;
    CHECK_OK(ctx, eo_tilesrc_opts_set_corrupt_as_missing(ctx, o, 1));
    CHECK_OK(ctx, eo_dataset_open_tiles_callback(ctx, &ds, fetch, &host, o));
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL));
    if (r) { /* the corrupt tile's quadrant is empty, the others are not */
        const uint8_t *p = eo_raster_data(r);
        long quad[2][2] = {{0, 0}, {0, 0}};
        for (size_t i = 0; i < (size_t)512 * 512 * 4; i++)
            quad[(i / 512 % 512) / 256][(i % 512) / 256] += p[i];
        CHECKF(quad[0][1] == 0 && quad[0][0] > 0 && quad[1][0] > 0 && quad[1][1] > 0,
               "%ld %ld %ld %ld", quad[0][0], quad[0][1], quad[1][0], quad[1][1]);
    }
    eo_raster_free(r);
    r = NULL;
    char *json = NULL;
    CHECK_OK(ctx, eo_dataset_tiles_info(ctx, &json, ds));
    CHECKF(json && strstr(json, "\"corrupt\":1,") && strstr(json, "\"missing\":0,"), "%s", json);
    eo_free(json);
    eo_dataset_close(ds);
    ds = NULL;
    CHECK_OK(ctx, eo_tilesrc_opts_set_corrupt_as_missing(ctx, o, 0));
    host.corrupt_x = -1;

    /* the host fails: its message and the tile */
    host.fail_x = tx0;
    CHECK_OK(ctx, eo_dataset_open_tiles_callback(ctx, &ds, fetch, &host, o));
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL), EO_E_IO_READ);
    CHECKF(strstr(eo_ctx_errmsg(ctx), "server said 503"), "%s", eo_ctx_errmsg(ctx));
    eo_dataset_close(ds);
    ds = NULL;
    host.fail_x = -1;

    /* a tile of the wrong size: an error naming both sizes */
    eo_raster *big = NULL;
    void *png = NULL;
    size_t png_n = 0;
    CHECK_OK(ctx, eo_raster_new(ctx, &big, 512, 512, 3, EO_DT_U8));
    CHECK_OK(ctx, eo_raster_encode(ctx, &png, &png_n, big, "png", 0));
    host.big = png;
    host.big_n = png_n;
    host.big_x = tx0 + 1;
    CHECK_OK(ctx, eo_dataset_open_tiles_callback(ctx, &ds, fetch, &host, o));
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL), EO_E_IO_READ);
    CHECKF(strstr(eo_ctx_errmsg(ctx), "512 x 512") && strstr(eo_ctx_errmsg(ctx), "256 x 256"), "%s",
           eo_ctx_errmsg(ctx));
    eo_dataset_close(ds);
    ds = NULL;
    eo_free(png);
    eo_raster_free(big);

    /* not an MBTiles file; a missing path; no zoom folder; no extent */
    CHECK_ST(ctx, eo_dataset_open_tiles(ctx, &ds, src, o), EO_E_SOURCE);
    CHECKF(strstr(eo_ctx_errmsg(ctx), "not an MBTiles file"), "%s", eo_ctx_errmsg(ctx));
    CHECK_ST(ctx, eo_dataset_open_tiles(ctx, &ds, tap_tmp("no-such-pyramid"), o),
             EO_E_IO_NOT_FOUND);
    CHECK_OK(ctx, eo_tilesrc_opts_set_zoom(ctx, o, Z + 3));
    CHECK_ST(ctx, eo_dataset_open_tiles(ctx, &ds, pyr, o), EO_E_SOURCE);
    eo_tilesrc_opts *empty = NULL;
    CHECK_OK(ctx, eo_tilesrc_opts_new(ctx, &empty));
    CHECK_ST(ctx, eo_dataset_open_tiles(ctx, &ds, pyr, empty), EO_E_ARG);
    eo_bbox bad = {10, 0, 5, 1};
    CHECK_ST(ctx, eo_tilesrc_opts_set_bbox(ctx, empty, &bad, NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_tilesrc_opts_set_bbox(ctx, empty, &bad, "EPSG:32633"), EO_E_ARG);
    eo_bbox whole = {-180, -85.06, 180, 85.06};
    CHECK_OK(ctx, eo_tilesrc_opts_set_bbox(ctx, empty, &whole, NULL));
    CHECK_OK(ctx, eo_tilesrc_opts_set_zoom(ctx, empty, 30));
    CHECK_ST(ctx, eo_dataset_open_tiles_callback(ctx, &ds, fetch, &host, empty), EO_E_LIMIT);
    eo_tilesrc_opts_free(empty);
    CHECK(ds == NULL);

    /* allocation failures while opening: a clean status, no leak */
    CHECK_OK(ctx, eo_tilesrc_opts_set_zoom(ctx, o, Z));
    int failures = 0;
    for (long n = 1; n < 400; n++) {
        eo_exp_fail_alloc(n);
        eo_status st = eo_dataset_open_tiles(ctx, &ds, pyr, o);
        eo_exp_fail_alloc(0);
        if (st == EO_OK) {
            eo_dataset_close(ds);
            ds = NULL;
            break;
        }
        failures++;
        CHECKF(st == EO_E_NOMEM && ds == NULL, "allocation %ld: %s", n, eo_ctx_errmsg(ctx));
    }
    CHECK(failures > 3);

    for (int k = 0; k < 4; k++)
        eoi_free(host.bytes[k]);
    eo_tilesrc_opts_free(o);
    eo_dataset_close(l7);
    eo_ctx_free(ctx);
    return tap_done();
}
