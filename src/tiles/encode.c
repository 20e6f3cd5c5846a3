/* encode.c - rasters to PNG, JPEG or WebP bytes (for tile servers): PNG by
 * png.c, JPEG and WebP through GDAL's drivers writing an in-memory file. */
#include "tiles_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>

static eo_status encode(eo_ctx *ctx, void **out, size_t *size, const eo_raster *r,
                        const char *driver, int32_t bands, int32_t quality) {
    GDALDriverH mem = GDALGetDriverByName("MEM"), drv = GDALGetDriverByName(driver);
    if (!mem || !drv)
        return eoi_fail(ctx, EO_E_UNSUPPORTED, "this GDAL has no %s driver", driver);
    GDALDataType gdt = eoi_dtype_to_gdal(r->dtype);
    GDALDatasetH src = GDALCreate(mem, "", (int)r->width, (int)r->height, bands, gdt, NULL);
    if (!src)
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot make an in-memory raster: %s",
                        eoi_gdal_msg(ctx, "GDAL error"));
    size_t plane = (size_t)r->width * (size_t)r->height * eo_dtype_size(r->dtype);
    eo_status st = EO_OK;
    for (int32_t b = 0; b < bands && st == EO_OK; b++)
        if (GDALRasterIO(GDALGetRasterBand(src, b + 1), GF_Write, 0, 0, (int)r->width,
                         (int)r->height, (uint8_t *)r->data + (size_t)b * plane, (int)r->width,
                         (int)r->height, gdt, 0, 0) != CE_None)
            st = eoi_fail(ctx, EO_E_INTERNAL, "cannot fill an in-memory raster");
    if (st == EO_OK && (bands == 2 || bands == 4))
        GDALSetRasterColorInterpretation(GDALGetRasterBand(src, bands), GCI_AlphaBand);
    char name[96];
    char ext[16];
    snprintf(ext, sizeof ext, ".%s", driver);
    eoi_vsimem_name(name, sizeof name, "encode", ext);
    char **co = NULL, q[16];
    snprintf(q, sizeof q, "%d", quality > 0 ? (int)quality : 75);
    if (strcmp(driver, "JPEG") == 0 || strcmp(driver, "WEBP") == 0)
        co = CSLSetNameValue(co, "QUALITY", q);
    GDALDatasetH dst = st == EO_OK ? GDALCreateCopy(drv, name, src, FALSE, co, NULL, NULL) : NULL;
    CSLDestroy(co);
    if (st == EO_OK && !dst)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "cannot encode %s: %s", driver,
                      eoi_gdal_msg(ctx, "GDAL error"));
    if (dst) {
        ctx->gdal_err = 0; /* GDAL 3.6's GDALClose returns nothing: watch the handler */
        GDALClose(dst);
        if (ctx->gdal_err && st == EO_OK)
            st = eoi_fail(ctx, EO_E_IO_WRITE, "cannot encode %s: %s", driver,
                          eoi_gdal_msg(ctx, "GDAL error"));
    }
    GDALClose(src);
    vsi_l_offset len = 0;
    GByte *bytes = VSIGetMemFileBuffer(name, &len, TRUE);
    if (st == EO_OK && !bytes)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s encoder wrote nothing", driver);
    if (st == EO_OK) {
        if (!(*out = eoi_malloc(ctx, (size_t)len)))
            st = EO_E_NOMEM;
        else {
            memcpy(*out, bytes, (size_t)len);
            *size = (size_t)len;
        }
    }
    CPLFree(bytes);
    VSIUnlink(name);
    return st;
}

eo_status eo_raster_encode(eo_ctx *ctx, void **out, size_t *size, const eo_raster *r,
                           const char *format, int32_t quality) {
    return eoi_raster_encode(ctx, out, size, r, format, quality, 0);
}

eo_status eoi_raster_encode(eo_ctx *ctx, void **out, size_t *size, const eo_raster *r,
                            const char *format, int32_t quality, int32_t png_level) {
    EOI_CHECK_ARG(ctx, out && size);
    *out = NULL;
    *size = 0;
    EOI_CHECK_ARG(ctx, r && format);
    if (quality < 0 || quality > 100)
        return eoi_fail(ctx, EO_E_ARG, "quality %d is outside 1..100 (0: default)", (int)quality);
    const char *driver;
    int32_t nb = r->bands, bands;
    if (strcasecmp(format, "png") == 0) {
        driver = "PNG";
        if (r->dtype != EO_DT_U8 && r->dtype != EO_DT_U16)
            return eoi_fail(ctx, EO_E_ARG, "PNG holds 8- or 16-bit unsigned samples, not %s",
                            eo_dtype_name(r->dtype));
        if (nb > 4)
            return eoi_fail(ctx, EO_E_ARG,
                            "PNG holds 1 to 4 bands, the raster has %d: select "
                            "bands",
                            (int)nb);
        bands = nb;
    } else if (strcasecmp(format, "jpeg") == 0 || strcasecmp(format, "jpg") == 0) {
        driver = "JPEG";
        if (r->dtype != EO_DT_U8)
            return eoi_fail(ctx, EO_E_ARG, "JPEG holds 8-bit samples, not %s",
                            eo_dtype_name(r->dtype));
        if (nb > 4)
            return eoi_fail(ctx, EO_E_ARG, "JPEG holds 1 or 3 bands, the raster has %d", (int)nb);
        bands = nb == 2 ? 1 : nb == 4 ? 3 : nb; /* alpha dropped */
    } else if (strcasecmp(format, "webp") == 0) {
        driver = "WEBP";
        if (r->dtype != EO_DT_U8 || nb < 3 || nb > 4)
            return eoi_fail(ctx, EO_E_ARG,
                            "WebP holds 3 or 4 bands of uint8, the raster has %d "
                            "of %s",
                            (int)nb, eo_dtype_name(r->dtype));
        bands = nb;
    } else {
        return eoi_fail(ctx, EO_E_ARG, "unknown image format '%.40s' (png, jpeg or webp)", format);
    }
    if (r->width > INT32_MAX || r->height > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "raster too large to encode");
    if (strcmp(driver, "PNG") == 0)
        return eoi_png_encode(ctx, out, size, r, bands,
                              png_level > 0 ? png_level : EOI_PNG_LEVEL_DEFAULT);
    eoi_gdal_begin(ctx);
    eo_status st = encode(ctx, out, size, r, driver, bands, quality);
    eoi_gdal_end(ctx);
    return st;
}
