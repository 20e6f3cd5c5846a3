/* fuzz_tiledec.c - fuzz target for tile decoding (PNG, JPEG, WebP through
 * libpng, libjpeg and libwebp in src/tiles/tile_decode.c), reached through
 * the public API: a tile dataset over a host callback that returns the
 * bytes as its one tile (zoom 0), then a read of its 256x256 pixels, with
 * corrupt tiles as errors and then as missing, into 1 to 4 bands (by the
 * input's length). Any bytes in: a clean status (io.Read for a corrupt tile
 * or one of the wrong size, source, limit, memory) out; never OK without a
 * raster of the window's size.
 *
 * Seeds (tests/fuzz/corpus/tiledec): made by tests/fuzz/make_seeds.py with
 * GDAL's PNG, JPEG and WebP drivers: 256x256 tiles in gray, gray+alpha,
 * RGB, RGBA, palette and 16-bit PNG, JPEG (gray, RGB, progressive), WebP
 * (lossy, lossless), and broken ones (truncated, a bad CRC, a 16x16 tile,
 * a header claiming 100000x100000 pixels, empty).
 *
 * A PNG goes through eoproc's own decoder (src/tiles/png_decode.c, the
 * default) and, differentially, through libpng alone
 * (eo_exp_png_decoder("libpng")) into RGBA: whatever libpng reads, the own
 * decoder reads too, to the same pixels (it hands libpng what it does not
 * handle; it may read a few damaged streams libpng refuses). */
#include "fuzz_common.h"

#include <eoproc/experimental.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CATS                                                                                       \
    (FUZZ_CAT(EO_E_IO) | FUZZ_CAT(EO_E_SOURCE) | FUZZ_CAT(EO_E_LIMIT) | FUZZ_CAT(EO_E_NOMEM) |     \
     FUZZ_CAT(EO_E_UNSUPPORTED))

struct bytes {
    const uint8_t *p;
    size_t n;
};

static int fetch(void *user, int32_t z, int32_t x, int32_t y, eo_tile_sink *sink) {
    const struct bytes *b = user;
    (void)z;
    (void)x;
    (void)y;
    if (b->n == 0)
        return 0; /* missing */
    return eo_tile_sink_set(sink, b->p, b->n) == EO_OK ? 0 : 1;
}

/* Read the one tile through a dataset opened for this read (so that no
 * decoded tile is cached from an earlier read); *keep (when not NULL) gets
 * the raster, or NULL when the read failed. */
static void one(eo_ctx *ctx, const struct bytes *b, int32_t bands, int32_t corrupt_as_missing,
                eo_raster **keep) {
    eo_tilesrc_opts *o = NULL;
    eo_bbox world = {-20037508.342789244, -20037508.342789244, 20037508.342789244,
                     20037508.342789244};
    FUZZ_CHECK(ctx,
               eo_tilesrc_opts_new(ctx, &o) == EO_OK &&
                   eo_tilesrc_opts_set_zoom(ctx, o, 0) == EO_OK &&
                   eo_tilesrc_opts_set_bbox(ctx, o, &world, "EPSG:3857") == EO_OK &&
                   eo_tilesrc_opts_set_bands(ctx, o, bands) == EO_OK &&
                   eo_tilesrc_opts_set_corrupt_as_missing(ctx, o, corrupt_as_missing) == EO_OK);
    eo_dataset *ds = NULL;
    FUZZ_CHECK(ctx, eo_dataset_open_tiles_callback(ctx, &ds, fetch, (void *)b, o) == EO_OK && ds);
    FUZZ_CHECK(ctx, eo_dataset_width(ds) == 256 && eo_dataset_height(ds) == 256);
    eo_window win = {0, 0, 256, 256};
    eo_raster *r = NULL;
    eo_status st = eo_dataset_read(ctx, &r, ds, &win, NULL);
    /* a tile of the wrong size fails the read even with corrupt_as_missing */
    FUZZ_CHECK(ctx, st == EO_OK ? r && eo_raster_width(r) == 256 && eo_raster_height(r) == 256 &&
                                      eo_raster_band_count(r) == bands
                                : !r && fuzz_expected(st, CATS));
    if (keep)
        *keep = r;
    else
        eo_raster_free(r);
    char *info = NULL;
    FUZZ_CHECK(ctx, eo_dataset_tiles_info(ctx, &info, ds) == EO_OK && info);
    eo_free(info);
    eo_dataset_close(ds);
    eo_tilesrc_opts_free(o);
}

static void differential(eo_ctx *ctx, const struct bytes *b) {
    FUZZ_CHECK(ctx, eo_exp_png_decoder("libpng") == 1);
    eo_raster *ref = NULL, *own = NULL;
    one(ctx, b, 4, 0, &ref);
    FUZZ_CHECK(ctx, eo_exp_png_decoder("eoproc") == 1);
    one(ctx, b, 4, 0, &own);
    if (ref) /* what libpng reads, the own decoder reads the same */
        FUZZ_CHECK(
            ctx, own && eo_raster_nbytes(own) == eo_raster_nbytes(ref) &&
                     memcmp(eo_raster_data(own), eo_raster_data(ref), eo_raster_nbytes(ref)) == 0);
    eo_raster_free(ref);
    eo_raster_free(own);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    eo_ctx *ctx = fuzz_ctx();
    if (!ctx)
        return 0;
    struct bytes b = {data, size};
    int32_t bands = (int32_t)(size % 4) + 1;
    one(ctx, &b, bands, 0, NULL);
    one(ctx, &b, bands, 1, NULL);
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        differential(ctx, &b);
    return 0;
}
