/* test_encode.c - PNG / JPEG / WebP encoding of rasters, decoded by GDAL
 * (libpng, libjpeg, libwebp) as the independent reference: PNG must come
 * back bit for bit, for every band count, 8 and 16 bits, odd sizes. */
#include "eoi.h"
#include "tap.h"

#include <cpl_vsi.h>
#include <gdal.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

/* decode bytes with GDAL; returns the dataset (caller closes) */
static GDALDatasetH decode(const void *bytes, size_t n, const char *name) {
    VSILFILE *f = VSIFileFromMemBuffer(name, (GByte *)bytes, (vsi_l_offset)n, FALSE);
    if (!f)
        return NULL;
    VSIFCloseL(f);
    return GDALOpen(name, GA_ReadOnly);
}

static void check_png(eo_ctx *ctx, int64_t w, int64_t h, int32_t bands, eo_dtype dt, int smooth) {
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_raster_new(ctx, &r, w, h, bands, dt));
    size_t esz = eo_dtype_size(dt), n = (size_t)(w * h * bands);
    uint8_t *d = eo_raster_data(r);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = smooth ? (uint32_t)(i % (size_t)w) * 3 + (uint32_t)(i / (size_t)w) : next();
        if (esz == 1)
            d[i] = (uint8_t)v;
        else
            ((uint16_t *)(void *)d)[i] = (uint16_t)(v * 257);
    }
    void *png = NULL;
    size_t size = 0;
    CHECK_OK(ctx, eo_raster_encode(ctx, &png, &size, r, "png", 0));
    char name[64];
    snprintf(name, sizeof name, "/vsimem/test_%lld_%lld_%d_%d.png", (long long)w, (long long)h,
             (int)bands, (int)dt);
    GDALDatasetH ds = png ? decode(png, size, name) : NULL;
    CHECKF(ds != NULL, "GDAL decodes the PNG (%lldx%lld, %d bands, %s)", (long long)w, (long long)h,
           (int)bands, eo_dtype_name(dt));
    if (ds) {
        CHECK(GDALGetRasterXSize(ds) == w && GDALGetRasterYSize(ds) == h &&
              GDALGetRasterCount(ds) == bands);
        void *back = malloc(n * esz);
        CPLErr e = GDALDatasetRasterIO(ds, GF_Read, 0, 0, (int)w, (int)h, back, (int)w, (int)h,
                                       esz == 1 ? GDT_Byte : GDT_UInt16, bands, NULL, 0, 0, 0);
        CHECKF(e == CE_None && memcmp(back, d, n * esz) == 0,
               "PNG round trip exact (%lldx%lld, %d bands, %s)", (long long)w, (long long)h,
               (int)bands, eo_dtype_name(dt));
        free(back);
        if (bands == 2 || bands == 4)
            CHECK(GDALGetRasterColorInterpretation(GDALGetRasterBand(ds, bands)) == GCI_AlphaBand);
        GDALClose(ds);
    }
    VSIUnlink(name);
    eo_free(png);
    eo_raster_free(r);
}

int main(void) {
    eo_ctx *ctx = NULL;
    CHECK_OK(ctx, eo_ctx_new(&ctx));
    for (int32_t b = 1; b <= 4; b++) {
        check_png(ctx, 256, 256, b, EO_DT_U8, 0);
        check_png(ctx, 256, 256, b, EO_DT_U8, 1);
        check_png(ctx, 7, 3, b, EO_DT_U16, 0);
        check_png(ctx, 1, 1, b, EO_DT_U8, 0);
    }
    check_png(ctx, 513, 200, 3, EO_DT_U16, 1);

    /* JPEG and WebP: lossy, so the size, band count and closeness on a
     * smooth image are checked */
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_raster_new(ctx, &r, 64, 48, 4, EO_DT_U8));
    uint8_t *d = eo_raster_data(r);
    for (int i = 0; i < 64 * 48 * 4; i++)
        d[i] = (uint8_t)(i % 64 + (i / (64 * 48)) * 20);
    const char *fmts[] = {"jpeg", "webp"};
    for (int k = 0; k < 2; k++) {
        void *bytes = NULL;
        size_t size = 0;
        CHECK_OK(ctx, eo_raster_encode(ctx, &bytes, &size, r, fmts[k], 90));
        char name[64];
        snprintf(name, sizeof name, "/vsimem/test.%s", fmts[k]);
        GDALDatasetH ds = bytes ? decode(bytes, size, name) : NULL;
        CHECKF(ds != NULL, "GDAL decodes the %s", fmts[k]);
        if (ds) {
            CHECK(GDALGetRasterXSize(ds) == 64 && GDALGetRasterYSize(ds) == 48);
            CHECK(GDALGetRasterCount(ds) == (k == 0 ? 3 : 4));
            uint8_t back[64 * 48];
            CHECK(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, 64, 48, back, 64, 48,
                               GDT_Byte, 0, 0) == CE_None);
            int worst = 0;
            for (int i = 0; i < 64 * 48; i++) {
                int e = abs(back[i] - d[i]);
                worst = e > worst ? e : worst;
            }
            CHECKF(worst <= 16, "%s close to the source: max error %d", fmts[k], worst);
            GDALClose(ds);
        }
        VSIUnlink(name);
        eo_free(bytes);
    }
    /* bad input */
    void *bytes = (void *)1;
    size_t size = 1;
    CHECK_ST(ctx, eo_raster_encode(ctx, &bytes, &size, r, "gif", 0), EO_E_ARG);
    CHECK(bytes == NULL && size == 0);
    CHECK_ST(ctx, eo_raster_encode(ctx, &bytes, &size, r, "png", 101), EO_E_ARG);
    eo_raster_free(r);
    CHECK_OK(ctx, eo_raster_new(ctx, &r, 4, 4, 5, EO_DT_U8));
    CHECK_ST(ctx, eo_raster_encode(ctx, &bytes, &size, r, "png", 0), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "1 to 4 bands"));
    eo_raster_free(r);
    CHECK_OK(ctx, eo_raster_new(ctx, &r, 4, 4, 1, EO_DT_F32));
    CHECK_ST(ctx, eo_raster_encode(ctx, &bytes, &size, r, "png", 0), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_encode(ctx, &bytes, &size, r, "jpeg", 0), EO_E_ARG);
    eo_raster_free(r);
    /* allocation faults: clean failure, no leak */
    CHECK_OK(ctx, eo_raster_new(ctx, &r, 32, 32, 3, EO_DT_U8));
    eo_status st = EO_E_NOMEM;
    for (long nth = 1; st == EO_E_NOMEM && nth < 50; nth++) {
        eo_exp_fail_alloc(nth);
        bytes = NULL;
        st = eo_raster_encode(ctx, &bytes, &size, r, "png", 0);
        eo_exp_fail_alloc(0);
        CHECK(st == EO_OK || (st == EO_E_NOMEM && bytes == NULL));
        eo_free(bytes);
    }
    CHECK(st == EO_OK);
    eo_raster_free(r);
    eo_ctx_free(ctx);
    return tap_done();
}
