/* raster.c - rasters in memory (pixels + georeferencing), the GeoTIFF
 * writer options and eo_raster_write (GDAL GTiff driver, temporary name
 * then rename). */
#include "raster_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cpl_string.h>

static const double identity_gt[6] = {0, 1, 0, 0, 0, 1};

/* ---- eo_raster --------------------------------------------------------- */

eo_status eo_raster_new(eo_ctx *ctx, eo_raster **out, int64_t width, int64_t height, int32_t bands,
                        eo_dtype dtype) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    size_t esize = eo_dtype_size(dtype);
    if (!esize)
        return eoi_fail(ctx, EO_E_ARG, "raster: unknown data type %d", (int)dtype);
    size_t nbytes, total;
    eo_status st = eoi_check_raster_size(ctx, &nbytes, width, height, bands, esize, "raster");
    if (st != EO_OK)
        return st;
    if (eoi_add_size(&total, nbytes, EOI_RASTER_ALIGN - 1))
        return eoi_fail(ctx, EO_E_LIMIT, "raster: %zu bytes overflow", nbytes);
    eo_raster *r = eoi_calloc(ctx, 1, sizeof *r);
    if (!r)
        return EO_E_NOMEM;
    r->wkt = eoi_strdup(ctx, "");
    r->alloc = r->wkt ? eoi_malloc(ctx, total) : NULL;
    if (!r->alloc) {
        eo_raster_free(r);
        return eo_ctx_status(ctx) == EO_E_LIMIT ? EO_E_LIMIT : EO_E_NOMEM;
    }
    uintptr_t p = (uintptr_t)r->alloc;
    p = (p + EOI_RASTER_ALIGN - 1) & ~(uintptr_t)(EOI_RASTER_ALIGN - 1);
    r->data = (void *)p;
    memset(r->data, 0, nbytes);
    r->width = width;
    r->height = height;
    r->bands = bands;
    r->dtype = dtype;
    r->nbytes = nbytes;
    memcpy(r->gt, identity_gt, sizeof r->gt);
    *out = r;
    return EO_OK;
}

void eo_raster_free(eo_raster *r) {
    if (!r)
        return;
    eoi_free(r->alloc);
    eoi_free(r->wkt);
    eoi_free(r);
}

int64_t eo_raster_width(const eo_raster *r) { return r ? r->width : 0; }
int64_t eo_raster_height(const eo_raster *r) { return r ? r->height : 0; }
int32_t eo_raster_band_count(const eo_raster *r) { return r ? r->bands : 0; }
eo_dtype eo_raster_dtype(const eo_raster *r) { return r ? r->dtype : EO_DT_UNKNOWN; }
void *eo_raster_data(eo_raster *r) { return r ? r->data : NULL; }
size_t eo_raster_nbytes(const eo_raster *r) { return r ? r->nbytes : 0; }

eo_status eo_raster_copy_to(eo_ctx *ctx, const eo_raster *r, void *buf, size_t capacity) {
    EOI_CHECK_ARG(ctx, r);
    EOI_CHECK_ARG(ctx, buf || r->nbytes == 0);
    if (capacity < r->nbytes)
        return eoi_fail(ctx, EO_E_ARG,
                        "raster copy: buffer of %zu bytes is too small for %lld x %lld x %d %s "
                        "(%zu bytes)",
                        capacity, (long long)r->width, (long long)r->height, (int)r->bands,
                        eo_dtype_name(r->dtype), r->nbytes);
    memcpy(buf, r->data, r->nbytes);
    return EO_OK;
}

void eo_raster_get_geotransform(const eo_raster *r, double gt[6]) {
    if (!gt)
        return;
    memcpy(gt, r ? r->gt : identity_gt, 6 * sizeof(double));
}

int32_t eo_raster_has_geotransform(const eo_raster *r) { return r ? r->has_gt : 0; }

eo_status eo_raster_set_geotransform(eo_ctx *ctx, eo_raster *r, const double gt[6]) {
    EOI_CHECK_ARG(ctx, r);
    EOI_CHECK_ARG(ctx, gt);
    for (int i = 0; i < 6; i++)
        if (!isfinite(gt[i]))
            return eoi_fail(ctx, EO_E_ARG, "geotransform: coefficient %d is not finite", i);
    if (gt[1] * gt[5] - gt[2] * gt[4] == 0)
        return eoi_fail(ctx, EO_E_ARG,
                        "geotransform (%g, %g, %g, %g, %g, %g) is degenerate (zero determinant)",
                        gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]);
    memcpy(r->gt, gt, sizeof r->gt);
    r->has_gt = 1;
    return EO_OK;
}

const char *eo_raster_crs_wkt(const eo_raster *r) { return r && r->wkt ? r->wkt : ""; }

eo_status eoi_raster_set_wkt(eo_ctx *ctx, eo_raster *r, const char *wkt) {
    char *w = eoi_strdup(ctx, wkt ? wkt : "");
    if (!w)
        return EO_E_NOMEM;
    eoi_free(r->wkt);
    r->wkt = w;
    return EO_OK;
}

eo_status eo_raster_set_crs(eo_ctx *ctx, eo_raster *r, const char *crs) {
    EOI_CHECK_ARG(ctx, r);
    if (!crs || !*crs)
        return eoi_raster_set_wkt(ctx, r, "");
    char *wkt = NULL;
    eo_status st = eoi_crs_to_wkt(ctx, &wkt, crs, NULL);
    if (st != EO_OK)
        return st;
    eoi_free(r->wkt);
    r->wkt = wkt;
    return EO_OK;
}

void eo_raster_get_nodata(const eo_raster *r, double *value, int32_t *has_nodata) {
    if (value)
        *value = r && r->has_nodata ? r->nodata : 0;
    if (has_nodata)
        *has_nodata = r ? r->has_nodata : 0;
}

/* Whether v is a value of type dt (integral and in range for integers). */
static bool representable(eo_dtype dt, double v) {
    if (eoi_dtype_is_float(dt))
        return dt == EO_DT_F64 || !isfinite(v) || fabs(v) <= 3.4028234663852886e38;
    if (!isfinite(v) || v != floor(v))
        return false;
    switch (dt) {
    case EO_DT_U8:
        return v >= 0 && v <= UINT8_MAX;
    case EO_DT_I8:
        return v >= INT8_MIN && v <= INT8_MAX;
    case EO_DT_U16:
        return v >= 0 && v <= UINT16_MAX;
    case EO_DT_I16:
        return v >= INT16_MIN && v <= INT16_MAX;
    case EO_DT_U32:
        return v >= 0 && v <= UINT32_MAX;
    case EO_DT_I32:
        return v >= INT32_MIN && v <= INT32_MAX;
    case EO_DT_U64:
        return v >= 0 && v < 18446744073709551616.0;
    case EO_DT_I64:
        return v >= -9223372036854775808.0 && v < 9223372036854775808.0;
    default:
        return false;
    }
}

eo_status eo_raster_set_nodata(eo_ctx *ctx, eo_raster *r, double value) {
    EOI_CHECK_ARG(ctx, r);
    if (!representable(r->dtype, value))
        return eoi_fail(ctx, EO_E_ARG, "nodata value %.17g is not a %s value", value,
                        eo_dtype_name(r->dtype));
    r->nodata = value;
    r->has_nodata = 1;
    return EO_OK;
}

void eo_raster_clear_nodata(eo_raster *r) {
    if (!r)
        return;
    r->has_nodata = 0;
    r->nodata = 0;
}

/* ---- write options ----------------------------------------------------- */

eo_status eo_write_opts_new(eo_ctx *ctx, eo_write_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    eo_write_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    snprintf(o->compress, sizeof o->compress, "NONE");
    *out = o;
    return EO_OK;
}

void eo_write_opts_free(eo_write_opts *o) { eoi_free(o); }

eo_status eo_write_opts_set_compress(eo_ctx *ctx, eo_write_opts *o, const char *method) {
    EOI_CHECK_ARG(ctx, o);
    static const char *const names[] = {"none", "deflate", "lzw", "zstd"};
    for (size_t i = 0; method && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(method, names[i]) == 0) {
            size_t k = 0;
            for (; names[i][k]; k++)
                o->compress[k] = (char)(names[i][k] - 'a' + 'A');
            o->compress[k] = '\0';
            return EO_OK;
        }
    }
    return eoi_fail(ctx, EO_E_ARG,
                    "unknown compression '%.100s' (expected none, deflate, lzw or zstd)",
                    method ? method : "(null)");
}

eo_status eo_write_opts_set_tiled(eo_ctx *ctx, eo_write_opts *o, int32_t blocksize) {
    EOI_CHECK_ARG(ctx, o);
    if (blocksize != 0 && (blocksize < 16 || blocksize > 4096 || blocksize % 16 != 0))
        return eoi_fail(ctx, EO_E_ARG,
                        "tile size %d is invalid (16..4096, a multiple of 16, or 0 for strips)",
                        (int)blocksize);
    o->blocksize = blocksize;
    return EO_OK;
}

/* ---- eo_raster_write --------------------------------------------------- */

/* Set the nodata value of a band of the file being written. */
static CPLErr set_band_nodata(GDALRasterBandH band, const eo_raster *r) {
    return eoi_band_set_nodata(band, r->dtype, r->nodata, r->nodata_bits);
}

/* Write the pixels of r to an open GDAL dataset in chunks of rows, all bands
 * at once (efficient for pixel- and band-interleaved files alike). */
static eo_status write_pixels(eo_ctx *ctx, GDALDatasetH ds, const eo_raster *r, const char *path) {
    size_t esize = eo_dtype_size(r->dtype);
    GDALDataType gdt = eoi_dtype_to_gdal(r->dtype);
    size_t row_bytes = (size_t)r->width * esize * (size_t)r->bands;
    int64_t rows = (int64_t)((16u << 20) / (row_bytes ? row_bytes : 1));
    if (rows < 1)
        rows = 1;
    GSpacing line = (GSpacing)((size_t)r->width * esize);
    GSpacing plane = line * (GSpacing)r->height;
    for (int64_t y = 0; y < r->height; y += rows) {
        eo_status st = eoi_progress(ctx, (double)y / (double)r->height, "write");
        if (st != EO_OK)
            return st;
        int64_t n = r->height - y < rows ? r->height - y : rows;
        GDALRasterIOExtraArg extra;
        INIT_RASTERIO_EXTRA_ARG(extra);
        unsigned char *p = (unsigned char *)r->data + (size_t)y * (size_t)line;
        CPLErr e = GDALDatasetRasterIOEx(ds, GF_Write, 0, (int)y, (int)r->width, (int)n, p,
                                         (int)r->width, (int)n, gdt, r->bands, NULL,
                                         (GSpacing)esize, line, plane, &extra);
        if (e != CE_None)
            return eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot write rows %lld..%lld: %s", path,
                            (long long)y, (long long)(y + n - 1), eoi_gdal_msg(ctx, "write error"));
    }
    return eoi_progress(ctx, 1.0, "write");
}

static eo_status write_tmp(eo_ctx *ctx, const eo_raster *r, const char *tmp, const char *path,
                           const eo_write_opts *opts) {
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv)
        return eoi_fail(ctx, EO_E_UNSUPPORTED, "%s: the GDAL GTiff driver is not available", path);
    char compress[32], bx[32], by[32];
    const char *copts[12];
    int k = 0;
    snprintf(compress, sizeof compress, "COMPRESS=%s", opts ? opts->compress : "NONE");
    copts[k++] = compress;
    copts[k++] = "BIGTIFF=IF_SAFER";
    if (opts && opts->blocksize > 0) {
        snprintf(bx, sizeof bx, "BLOCKXSIZE=%d", (int)opts->blocksize);
        snprintf(by, sizeof by, "BLOCKYSIZE=%d", (int)opts->blocksize);
        copts[k++] = "TILED=YES";
        copts[k++] = bx;
        copts[k++] = by;
    }
    if (r->dtype == EO_DT_I8)
        copts[k++] = "PIXELTYPE=SIGNEDBYTE";
    copts[k] = NULL;

    GDALDatasetH ds = GDALCreate(drv, tmp, (int)r->width, (int)r->height, r->bands,
                                 eoi_dtype_to_gdal(r->dtype), (char **)copts);
    if (!ds)
        return eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create the file: %s", path,
                        eoi_gdal_msg(ctx, "GDAL could not create it"));
    eo_status st = EO_OK;
    if (r->has_gt && GDALSetGeoTransform(ds, (double *)r->gt) != CE_None)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot set the geotransform: %s", path,
                      eoi_gdal_msg(ctx, "GDAL error"));
    if (st == EO_OK && r->wkt && r->wkt[0] && GDALSetProjection(ds, r->wkt) != CE_None)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot set the CRS: %s", path,
                      eoi_gdal_msg(ctx, "GDAL error"));
    for (int32_t b = 1; st == EO_OK && r->has_nodata && b <= r->bands; b++)
        if (set_band_nodata(GDALGetRasterBand(ds, b), r) != CE_None)
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot set nodata %.17g on band %d: %s", path,
                          r->nodata, (int)b, eoi_gdal_msg(ctx, "GDAL error"));
    if (st == EO_OK)
        st = write_pixels(ctx, ds, r, path);
    /* closing flushes the last blocks: a failure there counts too */
    ctx->gdal_err = 0;
    ctx->gdal_msg[0] = '\0';
    GDALClose(ds);
    if (st == EO_OK && ctx->gdal_err)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot finish the file: %s", path,
                      eoi_gdal_msg(ctx, "GDAL error"));
    return st;
}

eo_status eo_raster_write(eo_ctx *ctx, const eo_raster *r, const char *path,
                          const eo_write_opts *opts) {
    EOI_CHECK_ARG(ctx, r && r->data);
    EOI_CHECK_ARG(ctx, path && *path);
    if (r->width > INT32_MAX || r->height > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "%s: %lld x %lld pixels are too many for a GeoTIFF", path,
                        (long long)r->width, (long long)r->height);
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    char *tmp = NULL;
    if ((st = eoi_tmp_beside(ctx, &tmp, path, "")) != EO_OK)
        return st;
    eoi_gdal_begin(ctx);
    st = write_tmp(ctx, r, tmp, path, opts);
    eoi_gdal_end(ctx);
    st = eoi_tmp_commit(ctx, tmp, path, st);
    eoi_free(tmp);
    return st;
}
