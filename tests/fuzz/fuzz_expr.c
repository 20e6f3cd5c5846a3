/* fuzz_expr.c - fuzz target for the band-math parser and evaluator: any
 * bytes as an expression, evaluated (when it parses) over a small 3-band
 * raster with nodata, zeros and negative values. */
#include <eoproc.h>

#include <gdal.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static eo_dataset *raster(eo_ctx *ctx) {
    const char *path = "/vsimem/fuzz_expr.tif";
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, 7, 3, 3, GDT_Float32, NULL);
    if (!ds)
        return NULL;
    float v[21];
    for (int b = 1; b <= 3; b++) {
        for (int i = 0; i < 21; i++)
            v[i] = (float)((i * 7 + b * 3) % 11) - 4.0f;
        GDALRasterBandH h = GDALGetRasterBand(ds, b);
        GDALSetRasterNoDataValue(h, -4);
        if (GDALRasterIO(h, GF_Write, 0, 0, 7, 3, v, 7, 3, GDT_Float32, 0, 0) != CE_None)
            return NULL;
    }
    GDALClose(ds);
    eo_dataset *d = NULL;
    return eo_dataset_open(ctx, &d, path) == EO_OK ? d : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static eo_ctx *ctx;
    static eo_dataset *ds;
    if (!ctx && eo_ctx_new(&ctx) != EO_OK)
        return 0;
    if (!ds && !(ds = raster(ctx)))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    eo_expr *e = NULL;
    eo_raster *r = NULL;
    if (eo_expr_parse(ctx, &e, text) == EO_OK) {
        eo_status st = eo_expr_eval(ctx, &r, ds, e, NULL, NULL);
        if ((st == EO_OK) != (r != NULL))
            abort();
        if (r) { /* never inf or NaN: values or the nodata value */
            const float *v = eo_raster_data(r);
            for (int i = 0; i < 21; i++)
                if (!isfinite(v[i]))
                    abort();
        }
    } else if (e) {
        abort();
    }
    eo_raster_free(r);
    eo_expr_free(e);
    free(text);
    return 0;
}
