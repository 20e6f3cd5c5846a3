/* fuzz_mbtiles.c - fuzz target for MBTiles input: the bytes become a file
 * (SQLite opens real files: a unique name under /dev/shm, or /tmp), opened
 * with eo_dataset_open_tiles at zoom 1 over the whole world, and the 256x256
 * window at the centre (a quarter of each of the four tiles) is read. Any
 * bytes in: a clean status (source.Invalid for a file that is not MBTiles,
 * io.Read for a corrupt tile, limit, memory) out; never OK without an
 * object.
 *
 * Seeds (tests/fuzz/corpus/mbtiles): made by tests/fuzz/make_seeds.py with
 * Python's sqlite3: metadata and 1-4 tiles of 256x256 (PNG, JPEG, WebP),
 * and broken files (truncated, flipped bytes, a header alone, no tiles
 * table, tile_data not an image or not a blob, wrong column types). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CATS                                                                                       \
    (FUZZ_CAT(EO_E_IO) | FUZZ_CAT(EO_E_SOURCE) | FUZZ_CAT(EO_E_LIMIT) | FUZZ_CAT(EO_E_NOMEM) |     \
     FUZZ_CAT(EO_E_UNSUPPORTED))

static void read_window(eo_ctx *ctx, eo_dataset *ds) {
    FUZZ_CHECK(ctx, eo_dataset_width(ds) == 512 && eo_dataset_height(ds) == 512);
    eo_window win = {128, 128, 256, 256};
    eo_raster *r = NULL;
    eo_status st = eo_dataset_read(ctx, &r, ds, &win, NULL);
    FUZZ_CHECK(ctx, st == EO_OK ? r && eo_raster_width(r) == 256 && eo_raster_height(r) == 256
                                : !r && fuzz_expected(st, CATS));
    eo_raster_free(r);
    char *info = NULL;
    FUZZ_CHECK(ctx, eo_dataset_tiles_info(ctx, &info, ds) == EO_OK && info);
    eo_free(info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static long n;
    eo_ctx *ctx = fuzz_ctx();
    if (!ctx)
        return 0;
    char path[128];
    snprintf(path, sizeof path, "%s/fuzz_mbtiles-%ld-%ld.mbtiles", fuzz_scratch(), (long)getpid(),
             n++);
    if (fuzz_write_file(path, data, size) != 0)
        return 0;
    eo_tilesrc_opts *o = NULL;
    eo_bbox world = {-20037508.342789244, -20037508.342789244, 20037508.342789244,
                     20037508.342789244};
    FUZZ_CHECK(ctx, eo_tilesrc_opts_new(ctx, &o) == EO_OK &&
                        eo_tilesrc_opts_set_zoom(ctx, o, 1) == EO_OK &&
                        eo_tilesrc_opts_set_bbox(ctx, o, &world, "EPSG:3857") == EO_OK);
    eo_dataset *ds = NULL;
    eo_status st = eo_dataset_open_tiles(ctx, &ds, path, o);
    if (st != EO_OK)
        FUZZ_CHECK(ctx, !ds && fuzz_expected(st, CATS));
    else {
        FUZZ_CHECK(ctx, ds != NULL);
        read_window(ctx, ds);
    }
    eo_dataset_close(ds);
    eo_tilesrc_opts_free(o);
    unlink(path);
    return 0;
}
