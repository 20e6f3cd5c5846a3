/* test_raster.c - dtypes, resampling names, in-memory rasters, the GeoTIFF
 * writer: round trips for every dtype checked with GDAL directly, failures
 * that leave nothing behind, allocation faults. */
#include "eoi.h"
#include "tap.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_srs_api.h>

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Number of entries of dir whose name contains part. */
static int count_matching(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

static int cancel_always(void *user, double f, const char *stage) {
    (void)user;
    (void)stage;
    return f > 0.0;
}

/* Fill band-sequential samples with values that exercise the type's range. */
static void fill(eo_raster *r) {
    eo_dtype dt = eo_raster_dtype(r);
    size_t n = eo_raster_nbytes(r) / eo_dtype_size(dt);
    void *p = eo_raster_data(r);
    for (size_t i = 0; i < n; i++) {
        long v = (long)(i * 7919 % 1000) - 500;
        switch (dt) {
        case EO_DT_U8:
            ((uint8_t *)p)[i] = (uint8_t)(i * 31);
            break;
        case EO_DT_I8:
            ((int8_t *)p)[i] = (int8_t)((long)(i * 31 % 256) - 128);
            break;
        case EO_DT_U16:
            ((uint16_t *)p)[i] = (uint16_t)(i * 2654435761u);
            break;
        case EO_DT_I16:
            ((int16_t *)p)[i] = (int16_t)(v * 60);
            break;
        case EO_DT_U32:
            ((uint32_t *)p)[i] = (uint32_t)(i * 2654435761u);
            break;
        case EO_DT_I32:
            ((int32_t *)p)[i] = (int32_t)(v * 4000000);
            break;
        case EO_DT_U64:
            ((uint64_t *)p)[i] = ((uint64_t)1 << 60) + i * 12345u;
            break;
        case EO_DT_I64:
            ((int64_t *)p)[i] = -((int64_t)1 << 58) + (int64_t)i * 99991;
            break;
        case EO_DT_F32:
            ((float *)p)[i] = (float)v * 0.37f;
            break;
        case EO_DT_F64:
            ((double *)p)[i] = (double)v * 1e-3 + 1e10;
            break;
        default:
            break;
        }
    }
}

static double nodata_for(eo_dtype dt) {
    switch (dt) {
    case EO_DT_U8:
        return 255;
    case EO_DT_I8:
        return -128;
    case EO_DT_U16:
        return 65535;
    case EO_DT_I16:
        return -32768;
    case EO_DT_U32:
        return 4294967295.0;
    case EO_DT_I32:
        return -2147483648.0;
    case EO_DT_U64:
        return 1e15;
    case EO_DT_I64:
        return -1e15;
    case EO_DT_F32:
        return -3.4e38;
    default:
        return -9999.25;
    }
}

/* Check a written file with GDAL alone: type, size, pixels, nodata, CRS,
 * geotransform. */
static void check_with_gdal(const char *path, const eo_raster *r, const double gt[6]) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    CHECKF(ds != NULL, "GDAL opens %s", path);
    if (!ds)
        return;
    eo_dtype dt = eo_raster_dtype(r);
    CHECK(GDALGetRasterXSize(ds) == eo_raster_width(r));
    CHECK(GDALGetRasterYSize(ds) == eo_raster_height(r));
    CHECK(GDALGetRasterCount(ds) == eo_raster_band_count(r));
    double g[6];
    CHECK(GDALGetGeoTransform(ds, g) == CE_None && memcmp(g, gt, sizeof g) == 0);
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
    const char *code = srs ? OSRGetAuthorityCode(srs, NULL) : NULL;
    CHECKF(code && strcmp(code, "32633") == 0, "%s: EPSG %s", path, code ? code : "none");
    GDALDataType want[] = {GDT_Unknown, GDT_Byte,   GDT_Byte,  GDT_UInt16,  GDT_Int16,  GDT_UInt32,
                           GDT_Int32,   GDT_UInt64, GDT_Int64, GDT_Float32, GDT_Float64};
    size_t esize = eo_dtype_size(dt);
    size_t plane = (size_t)eo_raster_width(r) * (size_t)eo_raster_height(r) * esize;
    unsigned char *buf = malloc(plane);
    for (int b = 1; b <= GDALGetRasterCount(ds); b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        CHECKF(GDALGetRasterDataType(band) == want[dt], "%s band %d type %s", path, b,
               GDALGetDataTypeName(GDALGetRasterDataType(band)));
        if (dt == EO_DT_I8) {
            const char *pt = GDALGetMetadataItem(band, "PIXELTYPE", "IMAGE_STRUCTURE");
            CHECK(pt && strcmp(pt, "SIGNEDBYTE") == 0);
        }
        CHECK(GDALRasterIO(band, GF_Read, 0, 0, (int)eo_raster_width(r), (int)eo_raster_height(r),
                           buf, (int)eo_raster_width(r), (int)eo_raster_height(r), want[dt], 0,
                           0) == CE_None);
        const unsigned char *mine =
            (const unsigned char *)eo_raster_data((eo_raster *)r) + (size_t)(b - 1) * plane;
        CHECKF(memcmp(buf, mine, plane) == 0, "%s band %d pixels equal", path, b);
        int has = 0;
        double nd;
        if (dt == EO_DT_I64)
            nd = (double)GDALGetRasterNoDataValueAsInt64(band, &has);
        else if (dt == EO_DT_U64)
            nd = (double)GDALGetRasterNoDataValueAsUInt64(band, &has);
        else
            nd = GDALGetRasterNoDataValue(band, &has);
        double want_nd = nodata_for(dt);
        if (dt == EO_DT_F32)
            want_nd = (float)want_nd;
        CHECKF(has && nd == want_nd, "%s nodata %.17g (want %.17g)", path, nd, want_nd);
    }
    free(buf);
    GDALClose(ds);
}

static void test_names(void) {
    CHECK(eo_dtype_size(EO_DT_U8) == 1 && eo_dtype_size(EO_DT_I16) == 2);
    CHECK(eo_dtype_size(EO_DT_F32) == 4 && eo_dtype_size(EO_DT_I64) == 8);
    CHECK(eo_dtype_size(EO_DT_UNKNOWN) == 0 && eo_dtype_size(11) == 0 && eo_dtype_size(-1) == 0);
    const char *names[] = {"unknown", "uint8",  "int8",  "uint16",  "int16",  "uint32",
                           "int32",   "uint64", "int64", "float32", "float64"};
    for (eo_dtype dt = 0; dt <= EO_DT_F64; dt++) {
        CHECK(strcmp(eo_dtype_name(dt), names[dt]) == 0);
        if (dt)
            CHECK(eo_dtype_from_name(names[dt]) == dt);
    }
    CHECK(strcmp(eo_dtype_name(99), "unknown") == 0);
    CHECK(eo_dtype_from_name("Byte") == EO_DT_U8 && eo_dtype_from_name("U8") == EO_DT_U8);
    CHECK(eo_dtype_from_name("i8") == EO_DT_I8 && eo_dtype_from_name("u16") == EO_DT_U16);
    CHECK(eo_dtype_from_name("I16") == EO_DT_I16 && eo_dtype_from_name("u32") == EO_DT_U32);
    CHECK(eo_dtype_from_name("i32") == EO_DT_I32 && eo_dtype_from_name("u64") == EO_DT_U64);
    CHECK(eo_dtype_from_name("i64") == EO_DT_I64 && eo_dtype_from_name("F32") == EO_DT_F32);
    CHECK(eo_dtype_from_name("FLOAT64") == EO_DT_F64 && eo_dtype_from_name("f64") == EO_DT_F64);
    CHECK(eo_dtype_from_name("float16") == EO_DT_UNKNOWN && eo_dtype_from_name(NULL) == 0);
    CHECK(eo_dtype_from_name("") == EO_DT_UNKNOWN);

    const char *rs[] = {"nearest", "bilinear", "cubic", "average", "mode", "lanczos"};
    for (int32_t m = 0; m < 6; m++) {
        CHECK(strcmp(eo_resampling_name(m), rs[m]) == 0);
        CHECK(eo_resampling_from_name(rs[m]) == m);
    }
    CHECK(eo_resampling_name(6) == NULL && eo_resampling_name(-1) == NULL);
    CHECK(eo_resampling_from_name("Bilinear") == EO_RESAMPLE_BILINEAR);
    CHECK(eo_resampling_from_name("gauss") == -1 && eo_resampling_from_name(NULL) == -1);
}

static void test_raster_object(eo_ctx *ctx) {
    /* NULL is accepted everywhere a getter can't fail */
    CHECK(eo_raster_width(NULL) == 0 && eo_raster_height(NULL) == 0);
    CHECK(eo_raster_band_count(NULL) == 0 && eo_raster_dtype(NULL) == EO_DT_UNKNOWN);
    CHECK(eo_raster_data(NULL) == NULL && eo_raster_nbytes(NULL) == 0);
    CHECK(eo_raster_has_geotransform(NULL) == 0 && strcmp(eo_raster_crs_wkt(NULL), "") == 0);
    double gt[6];
    eo_raster_get_geotransform(NULL, gt);
    CHECK(gt[0] == 0 && gt[1] == 1 && gt[2] == 0 && gt[3] == 0 && gt[4] == 0 && gt[5] == 1);
    double nd = 5;
    int32_t has = 5;
    eo_raster_get_nodata(NULL, &nd, &has);
    CHECK(has == 0);
    eo_raster_free(NULL);
    eo_raster_clear_nodata(NULL);

    eo_raster *r = NULL;
    CHECK_ST(ctx, eo_raster_new(ctx, NULL, 2, 2, 1, EO_DT_U8), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_new(ctx, &r, 0, 2, 1, EO_DT_U8), EO_E_ARG);
    CHECK(r == NULL);
    CHECK_ST(ctx, eo_raster_new(ctx, &r, 2, 2, 0, EO_DT_U8), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_new(ctx, &r, 2, 2, 1, 42), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_new(ctx, &r, 1000000, 1000000, 1, EO_DT_U8), EO_E_LIMIT);
    CHECK_ST(ctx, eo_raster_new(ctx, &r, INT64_MAX, INT64_MAX, 1, EO_DT_F64), EO_E_LIMIT);
    CHECK(r == NULL);

    CHECK_OK(ctx, eo_raster_new(ctx, &r, 13, 7, 3, EO_DT_I16));
    CHECK(eo_raster_width(r) == 13 && eo_raster_height(r) == 7 && eo_raster_band_count(r) == 3);
    CHECK(eo_raster_dtype(r) == EO_DT_I16 && eo_raster_nbytes(r) == 13 * 7 * 3 * 2);
    CHECK(((uintptr_t)eo_raster_data(r) & 63) == 0);
    const unsigned char *d = eo_raster_data(r);
    size_t zeros = 0;
    for (size_t i = 0; i < eo_raster_nbytes(r); i++)
        zeros += d[i] == 0;
    CHECK(zeros == eo_raster_nbytes(r));
    CHECK(!eo_raster_has_geotransform(r));
    eo_raster_get_geotransform(r, gt);
    CHECK(gt[1] == 1 && gt[5] == 1 && gt[0] == 0);
    CHECK(strcmp(eo_raster_crs_wkt(r), "") == 0);

    /* copy_to checks the capacity */
    ((int16_t *)eo_raster_data(r))[5] = -1234;
    int16_t buf[13 * 7 * 3];
    CHECK_ST(ctx, eo_raster_copy_to(ctx, r, buf, sizeof buf - 1), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "546"));
    CHECK_ST(ctx, eo_raster_copy_to(ctx, NULL, buf, sizeof buf), EO_E_ARG);
    CHECK_OK(ctx, eo_raster_copy_to(ctx, r, buf, sizeof buf));
    CHECK(buf[5] == -1234 && buf[4] == 0);

    /* geotransform */
    const double g1[6] = {500000, 10, 0, 4600000, 0, -10};
    CHECK_OK(ctx, eo_raster_set_geotransform(ctx, r, g1));
    CHECK(eo_raster_has_geotransform(r));
    eo_raster_get_geotransform(r, gt);
    CHECK(memcmp(gt, g1, sizeof gt) == 0);
    const double bad[6] = {0, 1, 0, 0, 0, NAN};
    CHECK_ST(ctx, eo_raster_set_geotransform(ctx, r, bad), EO_E_ARG);
    const double flat[6] = {0, 1, 1, 0, 1, 1};
    CHECK_ST(ctx, eo_raster_set_geotransform(ctx, r, flat), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_set_geotransform(ctx, r, NULL), EO_E_ARG);

    /* CRS */
    CHECK_OK(ctx, eo_raster_set_crs(ctx, r, "EPSG:32633"));
    CHECK(strstr(eo_raster_crs_wkt(r), "UTM zone 33N") != NULL);
    CHECK_ST(ctx, eo_raster_set_crs(ctx, r, "EPSG:999999"), EO_E_CRS);
    CHECK(strstr(eo_raster_crs_wkt(r), "UTM zone 33N") != NULL); /* unchanged */
    CHECK_OK(ctx, eo_raster_set_crs(ctx, r, ""));
    CHECK(strcmp(eo_raster_crs_wkt(r), "") == 0);

    /* nodata must be a value of the type */
    CHECK_OK(ctx, eo_raster_set_nodata(ctx, r, -32768));
    eo_raster_get_nodata(r, &nd, &has);
    CHECK(has == 1 && nd == -32768);
    CHECK_ST(ctx, eo_raster_set_nodata(ctx, r, 40000), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_set_nodata(ctx, r, 1.5), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_set_nodata(ctx, r, NAN), EO_E_ARG);
    eo_raster_get_nodata(r, &nd, &has);
    CHECK(has == 1 && nd == -32768);
    eo_raster_clear_nodata(r);
    eo_raster_get_nodata(r, &nd, &has);
    CHECK(has == 0);
    eo_raster_free(r);

    CHECK_OK(ctx, eo_raster_new(ctx, &r, 3, 3, 1, EO_DT_F32));
    CHECK_OK(ctx, eo_raster_set_nodata(ctx, r, NAN));
    eo_raster_get_nodata(r, &nd, &has);
    CHECK(has == 1 && isnan(nd));
    CHECK_ST(ctx, eo_raster_set_nodata(ctx, r, 1e300), EO_E_ARG);
    eo_raster_free(r);
}

static void test_write_opts(eo_ctx *ctx) {
    eo_write_opts *o = NULL;
    CHECK_ST(ctx, eo_write_opts_new(ctx, NULL), EO_E_ARG);
    CHECK_OK(ctx, eo_write_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_write_opts_set_compress(ctx, o, "DEFLATE"));
    CHECK_OK(ctx, eo_write_opts_set_compress(ctx, o, "zstd"));
    CHECK_OK(ctx, eo_write_opts_set_compress(ctx, o, "lzw"));
    CHECK_OK(ctx, eo_write_opts_set_compress(ctx, o, "none"));
    CHECK_ST(ctx, eo_write_opts_set_compress(ctx, o, "jpeg2000"), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "jpeg2000"));
    CHECK_ST(ctx, eo_write_opts_set_compress(ctx, o, NULL), EO_E_ARG);
    CHECK_OK(ctx, eo_write_opts_set_tiled(ctx, o, 256));
    CHECK_OK(ctx, eo_write_opts_set_tiled(ctx, o, 0));
    CHECK_ST(ctx, eo_write_opts_set_tiled(ctx, o, 100), EO_E_ARG);
    CHECK_ST(ctx, eo_write_opts_set_tiled(ctx, o, 8192), EO_E_ARG);
    CHECK_ST(ctx, eo_write_opts_set_tiled(ctx, o, -16), EO_E_ARG);
    CHECK_ST(ctx, eo_write_opts_set_tiled(ctx, NULL, 16), EO_E_ARG);
    eo_write_opts_free(o);
    eo_write_opts_free(NULL);
}

/* Write every dtype with nodata, CRS and geotransform; GDAL must read back
 * exactly the same; eoproc must too. */
static void test_round_trip(eo_ctx *ctx) {
    const double g[6] = {400000.5, 2.5, 0, 5000000.25, 0, -2.5};
    eo_write_opts *o = NULL;
    CHECK_OK(ctx, eo_write_opts_new(ctx, &o));
    for (eo_dtype dt = EO_DT_U8; dt <= EO_DT_F64; dt++) {
        for (int variant = 0; variant < 2; variant++) {
            eo_raster *r = NULL;
            CHECK_OK(ctx, eo_raster_new(ctx, &r, 37, 23, 2, dt));
            if (!r)
                continue;
            fill(r);
            CHECK_OK(ctx, eo_raster_set_geotransform(ctx, r, g));
            CHECK_OK(ctx, eo_raster_set_crs(ctx, r, "EPSG:32633"));
            CHECK_OK(ctx, eo_raster_set_nodata(ctx, r, nodata_for(dt)));
            char name[64];
            snprintf(name, sizeof name, "rt_%s_%d.tif", eo_dtype_name(dt), variant);
            const char *path = tap_tmp(name);
            char pathbuf[1024];
            snprintf(pathbuf, sizeof pathbuf, "%s", path);
            remove(pathbuf);
            /* variant 1: tiled 16 x 16, deflate */
            CHECK_OK(ctx, eo_write_opts_set_compress(ctx, o, variant ? "deflate" : "none"));
            CHECK_OK(ctx, eo_write_opts_set_tiled(ctx, o, variant ? 16 : 0));
            CHECK_OK(ctx, eo_raster_write(ctx, r, pathbuf, variant ? o : NULL));
            check_with_gdal(pathbuf, r, g);

            if (variant) {
                GDALDatasetH h = GDALOpen(pathbuf, GA_ReadOnly);
                int bx = 0, by = 0;
                GDALGetBlockSize(GDALGetRasterBand(h, 1), &bx, &by);
                CHECK(bx == 16 && by == 16);
                const char *c = GDALGetMetadataItem(h, "COMPRESSION", "IMAGE_STRUCTURE");
                CHECK(c && strcmp(c, "DEFLATE") == 0);
                GDALClose(h);
            }

            eo_dataset *ds = NULL;
            CHECK_OK(ctx, eo_dataset_open(ctx, &ds, pathbuf));
            CHECK(eo_dataset_band_dtype(ds, 1) == dt && eo_dataset_band_dtype(ds, 2) == dt);
            eo_raster *back = NULL;
            CHECK_OK(ctx, eo_dataset_read(ctx, &back, ds, NULL, NULL));
            CHECKF(back && eo_raster_dtype(back) == dt &&
                       eo_raster_nbytes(back) == eo_raster_nbytes(r) &&
                       memcmp(eo_raster_data(back), eo_raster_data(r), eo_raster_nbytes(r)) == 0,
                   "%s read back equal", name);
            double nd;
            int32_t has;
            eo_raster_get_nodata(back, &nd, &has);
            double want_nd = dt == EO_DT_F32 ? (float)nodata_for(dt) : nodata_for(dt);
            CHECKF(has && nd == want_nd, "%s nodata %.17g", name, nd);
            double gb[6];
            eo_raster_get_geotransform(back, gb);
            CHECK(eo_raster_has_geotransform(back) && memcmp(gb, g, sizeof gb) == 0);
            CHECK(eoi_crs_epsg(ctx, eo_raster_crs_wkt(back)) == 32633);
            eo_raster_free(back);
            eo_dataset_close(ds);
            eo_raster_free(r);
        }
    }
    eo_write_opts_free(o);
    CHECK(count_matching(tap_tmp(""), ".tmp-") == 0);
    CHECK(count_matching(tap_tmp(""), ".aux.xml") == 0);
}

static void test_write_failures(eo_ctx *ctx) {
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_raster_new(ctx, &r, 64, 64, 3, EO_DT_U8));
    fill(r);

    CHECK_ST(ctx, eo_raster_write(ctx, NULL, tap_tmp("x.tif"), NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_write(ctx, r, NULL, NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_raster_write(ctx, r, "", NULL), EO_E_ARG);

    /* a folder that does not exist */
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("no-such-dir/out.tif"));
    CHECK_ST(ctx, eo_raster_write(ctx, r, path, NULL), EO_E_IO_WRITE);
    CHECK(strstr(eo_ctx_errmsg(ctx), path) != NULL);
    CHECK(!exists(path));

    /* a folder nobody may write in, not even root: /proc */
    CHECK_ST(ctx, eo_raster_write(ctx, r, "/proc/eoproc-test-out.tif", NULL), EO_E_IO_WRITE);
    CHECK(strstr(eo_ctx_errmsg(ctx), "/proc/eoproc-test-out.tif") != NULL);
    CHECK(!exists("/proc/eoproc-test-out.tif"));
    CHECK(count_matching("/proc", "eoproc-test-out") == 0);

    /* a read-only folder (meaningless as root, who may write anyway) */
    char ro[900];
    snprintf(ro, sizeof ro, "%s", tap_tmp("readonly-dir"));
    mkdir(ro, 0755);
    if (geteuid() != 0 && chmod(ro, 0555) == 0) {
        snprintf(path, sizeof path, "%s/out.tif", ro);
        CHECK_ST(ctx, eo_raster_write(ctx, r, path, NULL), EO_E_IO_WRITE);
        CHECK(!exists(path));
        CHECK(count_matching(ro, "out.tif") == 0);
        chmod(ro, 0755);
    }

    /* cancelled half way: neither the file nor its temporary is left */
    snprintf(path, sizeof path, "%s", tap_tmp("cancelled.tif"));
    remove(path);
    eo_ctx_set_progress(ctx, cancel_always, NULL);
    CHECK_ST(ctx, eo_raster_write(ctx, r, path, NULL), EO_E_CANCELLED);
    eo_ctx_set_progress(ctx, NULL, NULL);
    CHECK(!exists(path));
    CHECK(count_matching(tap_tmp(""), "cancelled.tif") == 0);

    /* the cancel flag stops a write before it starts */
    eo_ctx_cancel(ctx);
    CHECK_ST(ctx, eo_raster_write(ctx, r, path, NULL), EO_E_CANCELLED);
    eo_ctx_reset_cancel(ctx);
    CHECK(!exists(path));

    /* an existing file is replaced atomically */
    CHECK_OK(ctx, eo_raster_write(ctx, r, path, NULL));
    ((uint8_t *)eo_raster_data(r))[0] ^= 0xff;
    CHECK_OK(ctx, eo_raster_write(ctx, r, path, NULL));
    GDALDatasetH h = GDALOpen(path, GA_ReadOnly);
    uint8_t px = 0;
    CHECK(h && GDALRasterIO(GDALGetRasterBand(h, 1), GF_Read, 0, 0, 1, 1, &px, 1, 1, GDT_Byte, 0,
                            0) == CE_None);
    CHECK(px == ((uint8_t *)eo_raster_data(r))[0]);
    if (h)
        GDALClose(h);
    CHECK(count_matching(tap_tmp(""), ".tmp-") == 0);

    /* a raster without georeferencing writes none */
    CHECK(!eo_raster_has_geotransform(r));
    h = GDALOpen(path, GA_ReadOnly);
    double gt[6];
    CHECK(h && GDALGetGeoTransform(h, gt) != CE_None && GDALGetSpatialRef(h) == NULL);
    if (h)
        GDALClose(h);
    remove(path);
    eo_raster_free(r);
}

/* Fail the nth allocation for n = 1, 2, ... : clean EO_E_NOMEM and no
 * output until the write goes through. */
static void test_alloc_faults(eo_ctx *ctx) {
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("faults.tif"));
    remove(path);
    int failures = 0;
    bool done = false;
    for (long n = 1; n < 200 && !done; n++) {
        eo_raster *r = NULL;
        eo_exp_fail_alloc(n);
        eo_status st = eo_raster_new(ctx, &r, 40, 30, 2, EO_DT_F32);
        if (st == EO_OK)
            st = eo_raster_set_crs(ctx, r, "EPSG:4326");
        if (st == EO_OK)
            st = eo_raster_write(ctx, r, path, NULL);
        eo_exp_fail_alloc(0);
        if (st == EO_OK) {
            done = true;
        } else {
            failures++;
            CHECKF(st == EO_E_NOMEM, "n=%ld: %s (%s)", n, eo_status_id(st), eo_ctx_errmsg(ctx));
            CHECKF(!exists(path), "n=%ld: nothing written", n);
        }
        eo_raster_free(r);
    }
    CHECK(done && failures >= 3);
    CHECK(exists(path));
    CHECK(count_matching(tap_tmp(""), ".tmp-") == 0);
    remove(path);
}

int main(void) {
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    test_names();
    test_raster_object(ctx);
    test_write_opts(ctx);
    test_round_trip(ctx);
    test_write_failures(ctx);
    test_alloc_faults(ctx);
    eo_ctx_free(ctx);
    return tap_done();
}
