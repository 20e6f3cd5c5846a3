/* test_cog.c - the COG writer through the C API: a raster written and read
 * back through GDAL (pixels, georeferencing, nodata, statistics against
 * sums computed here), option errors, allocation faults that must fail
 * cleanly and leave nothing behind, byte-identical output across thread
 * counts, and a dataset source. */
#include "eoi.h"
#include "tap.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* entries of the folder of path whose name starts with the file's name */
static int leftovers(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

static eo_raster *make_raster(eo_ctx *ctx, int64_t w, int64_t h, int32_t bands) {
    eo_raster *r = NULL;
    if (eo_raster_new(ctx, &r, w, h, bands, EO_DT_U16) != EO_OK)
        return NULL;
    uint16_t *p = eo_raster_data(r);
    for (size_t i = 0; i < (size_t)(w * h * bands); i++)
        p[i] = (uint16_t)((i * 2654435761u) >> 20);
    p[5] = 9999; /* nodata */
    double gt[6] = {300000, 30, 0, 5000000, 0, -30};
    eo_raster_set_geotransform(ctx, r, gt);
    eo_raster_set_crs(ctx, r, "EPSG:32631");
    eo_raster_set_nodata(ctx, r, 9999);
    return r;
}

static void test_round_trip(eo_ctx *ctx) {
    eo_raster *r = make_raster(ctx, 700, 600, 2);
    CHECK(r != NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("cog_rt.tif"));
    unlink(path);
    CHECK_OK(ctx, eo_cog_write_raster(ctx, path, r, NULL));
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    CHECK(ds != NULL);
    if (!ds) {
        eo_raster_free(r);
        return;
    }
    CHECK(GDALGetRasterXSize(ds) == 700 && GDALGetRasterYSize(ds) == 600);
    double gt[6];
    CHECK(GDALGetGeoTransform(ds, gt) == CE_None && gt[0] == 300000 && gt[5] == -30);
    const char *wkt = GDALGetProjectionRef(ds);
    CHECK(wkt && strstr(wkt, "32631"));
    uint16_t *px = malloc(700 * 600 * 2);
    const uint16_t *src = eo_raster_data(r);
    for (int b = 1; b <= 2; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b);
        int has = 0;
        CHECK(GDALGetRasterNoDataValue(band, &has) == 9999 && has);
        CHECK(GDALRasterIO(band, GF_Read, 0, 0, 700, 600, px, 700, 600, GDT_UInt16, 0, 0) ==
              CE_None);
        CHECKF(memcmp(px, src + (size_t)(b - 1) * 700 * 600, 700 * 600 * 2) == 0, "band %d", b);
        /* statistics against sums made here (nodata excluded) */
        double n = 0, sum = 0, mn = 1e9, mx = -1e9;
        for (size_t i = 0; i < 700 * 600; i++) {
            double v = src[(size_t)(b - 1) * 700 * 600 + i];
            if (v == 9999)
                continue;
            n++;
            sum += v;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        double ss = 0;
        for (size_t i = 0; i < 700 * 600; i++) {
            double v = src[(size_t)(b - 1) * 700 * 600 + i];
            if (v != 9999)
                ss += (v - sum / n) * (v - sum / n);
        }
        const char *smin = GDALGetMetadataItem(band, "STATISTICS_MINIMUM", NULL);
        const char *smax = GDALGetMetadataItem(band, "STATISTICS_MAXIMUM", NULL);
        const char *smean = GDALGetMetadataItem(band, "STATISTICS_MEAN", NULL);
        const char *ssd = GDALGetMetadataItem(band, "STATISTICS_STDDEV", NULL);
        CHECK(smin && atof(smin) == mn);
        CHECK(smax && atof(smax) == mx);
        CHECK(smean && fabs(atof(smean) - sum / n) <= 1e-9 * sum / n);
        CHECK(ssd && fabs(atof(ssd) - sqrt(ss / n)) <= 1e-9 * sqrt(ss / n));
        CHECK(GDALGetOverviewCount(band) == 1);
    }
    free(px);
    GDALClose(ds);
    unlink(path);
    eo_raster_free(r);
}

static void test_options(eo_ctx *ctx) {
    eo_cog_opts *o = NULL;
    CHECK_OK(ctx, eo_cog_opts_new(ctx, &o));
    CHECK_ST(ctx, eo_cog_opts_set_compress(ctx, o, "jpeg"), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "jpeg") != NULL);
    CHECK_ST(ctx, eo_cog_opts_set_compress(ctx, o, NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_opts_set_blocksize(ctx, o, 300), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_opts_set_level(ctx, o, 99), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_opts_set_predictor(ctx, o, "diagonal"), EO_E_ARG);
    CHECK_OK(ctx, eo_cog_opts_set_resampling(ctx, o, EO_RESAMPLE_CUBIC));
    CHECK_OK(ctx, eo_cog_opts_set_resampling(ctx, o, EO_RESAMPLE_LANCZOS));
    CHECK_ST(ctx, eo_cog_opts_set_resampling(ctx, o, 77), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_opts_set_bigtiff(ctx, o, "maybe"), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_opts_set_overviews(ctx, o, -5), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_opts_set_threads(ctx, o, -1), EO_E_ARG);
    CHECK_OK(ctx, eo_cog_opts_set_compress(ctx, o, "DEFLATE"));
    CHECK_OK(ctx, eo_cog_opts_set_predictor(ctx, o, "float"));
    eo_raster *r = make_raster(ctx, 10, 10, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("cog_opt.tif"));
    unlink(path);
    CHECK_ST(ctx, eo_cog_write_raster(ctx, path, r, o), EO_E_ARG); /* float predictor, ints */
    CHECK(!exists(path));
    CHECK_OK(ctx, eo_cog_opts_set_predictor(ctx, o, "horizontal"));
    CHECK_OK(ctx, eo_cog_opts_set_nodata(ctx, o, -1));
    CHECK_ST(ctx, eo_cog_write_raster(ctx, path, r, o), EO_E_ARG); /* -1 is no uint16 */
    CHECK(!exists(path));
    CHECK_ST(ctx, eo_cog_write_raster(ctx, NULL, r, o), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_write_raster(ctx, path, NULL, o), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_write(ctx, path, NULL, o), EO_E_ARG);
    CHECK_ST(ctx, eo_cog_write_raster(ctx, tap_tmp("no/such/dir/x.tif"), r, NULL), EO_E_IO_WRITE);
    eo_cog_opts_free(o);
    eo_cog_opts_free(NULL);
    eo_raster_free(r);
}

static void test_alloc_faults(eo_ctx *ctx) {
    eo_raster *r = make_raster(ctx, 600, 300, 3);
    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("cog_fault.tif"));
    snprintf(dir, sizeof dir, "%s", tap_tmp(""));
    unlink(path);
    int failures = 0, ok_at = 0;
    for (long n = 1; n < 400 && !ok_at; n++) {
        eo_exp_fail_alloc(n);
        eo_status st = eo_cog_write_raster(ctx, path, r, NULL);
        eo_exp_fail_alloc(0);
        if (st == EO_OK) {
            ok_at = (int)n;
            break;
        }
        failures++;
        CHECKF(st == EO_E_NOMEM || st == EO_E_INTERNAL || st == EO_E_LIMIT, "n=%ld: %s", n,
               eo_status_id(st));
        CHECKF(!exists(path), "n=%ld left %s", n, path);
        CHECKF(leftovers(dir, "cog_fault.tif") == 0, "n=%ld left a temporary", n);
    }
    CHECKF(failures > 10 && ok_at > 0, "failures %d, success at %d", failures, ok_at);
    unlink(path);
    eo_raster_free(r);
}

static void test_threads_and_dataset(eo_ctx *ctx) {
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("L7_ETMs.tif")));
    if (!ds)
        return;
    eo_cog_opts *o = NULL;
    eo_cog_opts_new(ctx, &o);
    eo_cog_opts_set_blocksize(ctx, o, 256);
    char *blobs[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        const char *path = tap_tmp("cog_threads.tif");
        eo_cog_opts_set_threads(ctx, o, i == 0 ? 1 : i == 1 ? 2 : 7);
        CHECK_OK(ctx, eo_cog_write(ctx, path, ds, o));
        blobs[i] = slurp(path, &lens[i]);
        unlink(path);
    }
    CHECK(blobs[0] && blobs[1] && blobs[2]);
    CHECK(lens[0] == lens[1] && lens[1] == lens[2] && lens[0] > 1000);
    CHECK(blobs[0] && blobs[1] && blobs[2] && memcmp(blobs[0], blobs[1], lens[0]) == 0 &&
          memcmp(blobs[0], blobs[2], lens[0]) == 0);
    for (int i = 0; i < 3; i++)
        free(blobs[i]);
    eo_cog_opts_free(o);
    eo_dataset_close(ds);
}

int main(void) {
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    test_round_trip(ctx);
    test_options(ctx);
    test_alloc_faults(ctx);
    test_threads_and_dataset(ctx);
    eo_ctx_free(ctx);
    return tap_done();
}
