/* fuzz_tiff.c - fuzz target for raster input and COG output: the bytes
 * become a file in GDAL's /vsimem/, opened with eo_dataset_open, a window
 * of at most 256x256 of the first three bands is read and written as a COG
 * (to /dev/shm: the COG writer writes real files), and a small raster is
 * also read reduced, through its overviews. Any bytes in: a clean status
 * of an expected category out (io, source, crs, limit, memory,
 * unsupported), never OK without an object, never a partial COG. The
 * context's limits cap what a header claiming 100000x100000 pixels can make
 * the library allocate.
 *
 * Seeds (tests/fuzz/corpus/tiff): made by tests/fuzz/make_seeds.py with
 * GDAL's Python bindings: tiny GeoTIFFs (uint8, int16, uint16, float32,
 * float64; tiled, striped; deflate, zstd, lzw; with overviews; a COG) and
 * broken ones (truncated, flipped bytes, a 100000x100000 header). */
#include "fuzz_common.h"

#include <cpl_vsi.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CATS                                                                                       \
    (FUZZ_CAT(EO_E_IO) | FUZZ_CAT(EO_E_SOURCE) | FUZZ_CAT(EO_E_LIMIT) | FUZZ_CAT(EO_E_NOMEM) |     \
     FUZZ_CAT(EO_E_UNSUPPORTED) | FUZZ_CAT(EO_E_CRS))

static void read_and_write(eo_ctx *ctx, eo_dataset *ds, const char *out) {
    int64_t w = eo_dataset_width(ds), h = eo_dataset_height(ds);
    int32_t nb = eo_dataset_band_count(ds);
    FUZZ_CHECK(ctx, w > 0 && h > 0 && nb > 0);
    eo_window win = {0, 0, w < 256 ? w : 256, h < 256 ? h : 256};
    int32_t bands[3] = {1, 2, 3};
    eo_read_opts *ro = NULL;
    FUZZ_CHECK(ctx, eo_read_opts_new(ctx, &ro) == EO_OK &&
                        eo_read_opts_set_bands(ctx, ro, bands, nb < 3 ? nb : 3) == EO_OK);
    eo_raster *r = NULL;
    eo_status st = eo_dataset_read(ctx, &r, ds, &win, ro);
    if (st != EO_OK) {
        FUZZ_CHECK(ctx, !r && fuzz_expected(st, CATS));
    } else {
        FUZZ_CHECK(ctx, r && eo_raster_width(r) == win.width && eo_raster_height(r) == win.height);
        eo_cog_opts *co = NULL;
        FUZZ_CHECK(ctx, eo_cog_opts_new(ctx, &co) == EO_OK &&
                            eo_cog_opts_set_overviews(ctx, co, 1) == EO_OK);
        st = eo_cog_write_raster(ctx, out, r, co);
        FUZZ_CHECK(ctx, st == EO_OK || (fuzz_expected(st, CATS) && access(out, F_OK) != 0));
        unlink(out);
        eo_cog_opts_free(co);
    }
    eo_raster_free(r);
    /* a reduced read of a small raster goes through its overviews */
    if (w * h <= ((int64_t)1 << 20)) {
        eo_raster *small = NULL;
        eo_read_opts_set_out_size(ctx, ro, w > 16 ? w / 4 : w, h > 16 ? h / 4 : h);
        st = eo_dataset_read(ctx, &small, ds, NULL, ro);
        FUZZ_CHECK(ctx, st == EO_OK ? small != NULL : !small && fuzz_expected(st, CATS));
        eo_raster_free(small);
    }
    eo_read_opts_free(ro);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static long n;
    eo_ctx *ctx = fuzz_ctx();
    if (!ctx)
        return 0;
    char in[96], out[96];
    snprintf(in, sizeof in, "/vsimem/fuzz_tiff/%ld-%ld.tif", (long)getpid(), n);
    snprintf(out, sizeof out, "%s/fuzz_tiff-%ld-%ld.tif", fuzz_scratch(), (long)getpid(), n++);
    VSILFILE *f = VSIFileFromMemBuffer(in, (GByte *)data, (vsi_l_offset)size, FALSE);
    if (!f)
        return 0;
    VSIFCloseL(f);
    eo_dataset *ds = NULL;
    eo_status st = eo_dataset_open(ctx, &ds, in);
    if (st != EO_OK)
        FUZZ_CHECK(ctx, !ds && fuzz_expected(st, CATS));
    else {
        FUZZ_CHECK(ctx, ds != NULL);
        read_and_write(ctx, ds, out);
    }
    eo_dataset_close(ds);
    VSIUnlink(in);
    return 0;
}
