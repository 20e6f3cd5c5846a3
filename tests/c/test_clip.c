/* test_clip.c - eo_clip through the C API: the pixels of a clip of the
 * Landsat scene against the source read by GDAL and a point-in-polygon test
 * done here in exact arithmetic (a box with a box-shaped hole), the result
 * JSON, argument and input errors that leave nothing behind, allocation
 * faults, and cancellation from the progress callback. */
#include "eoi.h"
#include "tap.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* entries of the scratch folder whose name starts with prefix */
static int leftovers(const char *prefix) {
    DIR *d = opendir(tap_tmp(""));
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

/* The AOI, in pixel coordinates of L7_ETMs.tif (column, row): the shell
 * [X0, X1] x [Y0, Y1] with the hole [HX0, HX1] x [HY0, HY1]. No edge lies on
 * a pixel centre, so the centre rule has no ties. */
#define X0 20.3
#define X1 120.8
#define Y0 30.2
#define Y1 140.6
#define HX0 50.4
#define HX1 70.9
#define HY0 60.1
#define HY1 90.7

static eo_geom *make_aoi(eo_ctx *ctx, const double gt[6]) {
    char json[2048];
#define PX(c) (gt[0] + (c)*gt[1])
#define PY(r) (gt[3] + (r)*gt[5])
    snprintf(json, sizeof json,
             "{\"type\": \"Polygon\", \"coordinates\": ["
             "[[%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g]],"
             "[[%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g]]]}",
             PX(X0), PY(Y0), PX(X1), PY(Y0), PX(X1), PY(Y1), PX(X0), PY(Y1), PX(X0), PY(Y0),
             PX(HX0), PY(HY0), PX(HX0), PY(HY1), PX(HX1), PY(HY1), PX(HX1), PY(HY0), PX(HX0),
             PY(HY0));
    eo_geom_opts *o = NULL;
    eo_geom *g = NULL;
    eo_geom_opts_new(ctx, &o);
    eo_geom_opts_set_crs(ctx, o, "EPSG:31985");
    CHECK_OK(ctx, eo_geom_from_geojson(ctx, &g, json, o));
    eo_geom_opts_free(o);
    return g;
}

static bool inside(double c, double r) {
    bool in_shell = c > X0 && c < X1 && r > Y0 && r < Y1;
    bool in_hole = c > HX0 && c < HX1 && r > HY0 && r < HY1;
    return in_shell && !in_hole;
}

static void test_pixels(eo_ctx *ctx, eo_dataset *ds, eo_geom *aoi) {
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("clip_basic.tif"));
    char *json = NULL;
    CHECK_OK(ctx, eo_clip(ctx, &json, path, ds, aoi, NULL));
    if (!json)
        return;
    /* the window: the bounding box of the pixels whose centre is inside
     * (gdalwarp -crop_to_cutline's ceil(X0) .. floor(X1) loses the first
     * and last columns and rows here) */
    int64_t c0 = (int64_t)ceil(X0 - 0.5), r0 = (int64_t)ceil(Y0 - 0.5);
    int64_t w = (int64_t)floor(X1 - 0.5) - c0 + 1, h = (int64_t)floor(Y1 - 0.5) - r0 + 1;
    json_object *res = json_tokener_parse(json);
    json_object *v = NULL;
    CHECK(res && json_object_object_get_ex(res, "width", &v) && json_object_get_int64(v) == w);
    CHECK(res && json_object_object_get_ex(res, "height", &v) && json_object_get_int64(v) == h);
    int64_t expect_in = 0;
    for (int64_t r = r0; r < r0 + h; r++)
        for (int64_t c = c0; c < c0 + w; c++)
            expect_in += inside((double)c + 0.5, (double)r + 0.5);
    CHECK(res && json_object_object_get_ex(res, "pixels_inside", &v) &&
          json_object_get_int64(v) == expect_in);
    json_object_put(res);
    eo_free(json);

    GDALDatasetH src = GDALOpen(tap_data("L7_ETMs.tif"), GA_ReadOnly);
    GDALDatasetH out = GDALOpen(path, GA_ReadOnly);
    CHECK(src && out);
    if (!src || !out)
        return;
    CHECK(GDALGetRasterXSize(out) == w && GDALGetRasterYSize(out) == h);
    CHECK(GDALGetRasterCount(out) == 6);
    double gs[6], go[6];
    GDALGetGeoTransform(src, gs);
    GDALGetGeoTransform(out, go);
    CHECK(fabs(go[0] - (gs[0] + (double)c0 * gs[1])) < 1e-6 &&
          fabs(go[3] - (gs[3] + (double)r0 * gs[5])) < 1e-6 && go[1] == gs[1] && go[5] == gs[5]);
    uint8_t *a = malloc((size_t)(w * h)), *b = malloc((size_t)(w * h));
    int bad = 0;
    for (int band = 1; band <= 6 && a && b; band++) {
        CPLErr e1 = GDALRasterIO(GDALGetRasterBand(src, band), GF_Read, (int)c0, (int)r0, (int)w,
                                 (int)h, a, (int)w, (int)h, GDT_Byte, 0, 0);
        CPLErr e2 = GDALRasterIO(GDALGetRasterBand(out, band), GF_Read, 0, 0, (int)w, (int)h, b,
                                 (int)w, (int)h, GDT_Byte, 0, 0);
        CHECK(e1 == CE_None && e2 == CE_None);
        for (int64_t r = 0; r < h; r++)
            for (int64_t c = 0; c < w; c++) {
                bool in = inside((double)(c0 + c) + 0.5, (double)(r0 + r) + 0.5);
                uint8_t want = in ? a[r * w + c] : 0;
                bad += b[r * w + c] != want;
            }
    }
    CHECKF(bad == 0, "%d samples differ", bad);
    int has = 0;
    double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(out, 1), &has);
    CHECK(has && nd == 0);
    free(a);
    free(b);
    GDALClose(src);
    GDALClose(out);
    unlink(path);
}

static void test_errors(eo_ctx *ctx, eo_dataset *ds, eo_geom *aoi) {
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("clip_err.tif"));
    eo_clip_opts *o = NULL;
    CHECK_OK(ctx, eo_clip_opts_new(ctx, &o));
    char *json = (char *)"x";
    CHECK_ST(ctx, eo_clip(ctx, &json, NULL, ds, aoi, o), EO_E_ARG);
    CHECK(json == NULL);
    CHECK_ST(ctx, eo_clip(ctx, NULL, path, NULL, aoi, o), EO_E_ARG);
    CHECK_ST(ctx, eo_clip(ctx, NULL, path, ds, NULL, o), EO_E_ARG);
    int32_t bands[2] = {1, 7};
    CHECK_OK(ctx, eo_clip_opts_set_bands(ctx, o, bands, 2));
    CHECK_ST(ctx, eo_clip(ctx, NULL, path, ds, aoi, o), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "band 7") != NULL);
    CHECK_OK(ctx, eo_clip_opts_set_bands(ctx, o, NULL, 0));
    CHECK_OK(ctx, eo_clip_opts_set_nodata(ctx, o, 300)); /* not a uint8 */
    CHECK_ST(ctx, eo_clip(ctx, NULL, path, ds, aoi, o), EO_E_ARG);
    CHECK_OK(ctx, eo_clip_opts_set_nodata(ctx, o, 255));
    CHECK_ST(ctx, eo_clip(ctx, NULL, tap_tmp("no/such/dir/x.tif"), ds, aoi, o), EO_E_IO_WRITE);
    CHECK(!exists(path));
    /* an AOI far away */
    eo_geom *far = NULL;
    CHECK_OK(ctx, eo_geom_from_geojson(ctx, &far,
                                       "{\"type\": \"Polygon\", \"coordinates\": [[[10, 10], "
                                       "[11, 10], [11, 11], [10, 10]]]}",
                                       NULL));
    CHECK_ST(ctx, eo_clip(ctx, NULL, path, ds, far, o), EO_E_NODATA_IN_AOI);
    CHECK(!exists(path));
    eo_geom_free(far);
    CHECK_ST(ctx, eo_clip_opts_set_bands(ctx, o, NULL, 3), EO_E_ARG);
    /* band numbers start at 1: refused by the setter, as the other band setters do */
    int32_t zero[2] = {1, 0}, neg[1] = {-3};
    CHECK_ST(ctx, eo_clip_opts_set_bands(ctx, o, zero, 2), EO_E_ARG);
    CHECK(strcmp(eo_ctx_errmsg(ctx), "band 0: bands are numbered from 1") == 0);
    CHECK(strcmp(eo_status_id(EO_E_ARG), "arg.Invalid") == 0);
    CHECK_ST(ctx, eo_clip_opts_set_bands(ctx, o, neg, 1), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "band -3") != NULL);
    eo_clip_opts_free(o);
    eo_clip_opts_free(NULL);
    CHECK(leftovers("clip_err") == 0);
}

static void test_alloc_faults(eo_ctx *ctx, eo_dataset *ds, eo_geom *aoi) {
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("clip_fault.tif"));
    eo_clip_opts *o = NULL;
    CHECK_OK(ctx, eo_clip_opts_new(ctx, &o));
    eo_clip_opts_set_coverage(ctx, o, 1);
    eo_clip_opts_set_alpha(ctx, o, 1);
    unlink(path);
    int failures = 0, ok_at = 0;
    for (long n = 1; n < 600 && !ok_at; n++) {
        char *json = NULL;
        eo_exp_fail_alloc(n);
        eo_status st = eo_clip(ctx, &json, path, ds, aoi, o);
        eo_exp_fail_alloc(0);
        eo_free(json);
        if (st == EO_OK) {
            ok_at = (int)n;
            break;
        }
        failures++;
        CHECKF(st == EO_E_NOMEM || st == EO_E_INTERNAL, "n=%ld: %s %s", n, eo_status_id(st),
               eo_ctx_errmsg(ctx));
        CHECKF(!exists(path), "n=%ld left %s", n, path);
        CHECKF(leftovers("clip_fault.tif") == 0, "n=%ld left a temporary", n);
    }
    CHECKF(failures > 10 && ok_at > 0, "failures %d, success at %d", failures, ok_at);
    unlink(path);
    eo_clip_opts_free(o);
}

static int stop_at_half(void *user, double fraction, const char *stage) {
    (void)stage;
    *(int *)user += 1;
    return fraction >= 0.5;
}

static void test_cancel(eo_ctx *ctx, eo_geom *aoi) {
    /* a source taller than one row of tiles, so that there is a middle */
    char src[1024];
    snprintf(src, sizeof src, "%s", tap_tmp("clip_tall.tif"));
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH h = GDALCreate(drv, src, 400, 2000, 1, GDT_Byte, NULL);
    GDALDatasetH l7 = GDALOpen(tap_data("L7_ETMs.tif"), GA_ReadOnly);
    double gt[6];
    GDALGetGeoTransform(l7, gt);
    GDALSetGeoTransform(h, gt);
    GDALSetProjection(h, GDALGetProjectionRef(l7));
    GDALClose(l7);
    GDALClose(h);
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, src));
    eo_clip_opts *o = NULL;
    eo_clip_opts_new(ctx, &o);
    eo_clip_opts_set_crop(ctx, o, 0);
    int calls = 0;
    eo_ctx_set_progress(ctx, stop_at_half, &calls);
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("clip_cancel.tif"));
    CHECK_ST(ctx, eo_clip(ctx, NULL, path, ds, aoi, o), EO_E_CANCELLED);
    CHECK(calls >= 2);
    CHECK(!exists(path));
    CHECK(leftovers("clip_cancel") == 0);
    eo_ctx_set_progress(ctx, NULL, NULL);
    eo_ctx_reset_cancel(ctx);
    CHECK_OK(ctx, eo_clip(ctx, NULL, path, ds, aoi, o));
    CHECK(exists(path));
    unlink(path);
    unlink(src);
    eo_clip_opts_free(o);
    eo_dataset_close(ds);
}

int main(void) {
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("L7_ETMs.tif")));
    double gt[6];
    eo_geom *aoi = NULL;
    if (ds && eo_dataset_get_geotransform(ds, gt) && (aoi = make_aoi(ctx, gt))) {
        test_pixels(ctx, ds, aoi);
        test_errors(ctx, ds, aoi);
        test_alloc_faults(ctx, ds, aoi);
        test_cancel(ctx, aoi);
    }
    eo_geom_free(aoi);
    eo_dataset_close(ds);
    eo_ctx_free(ctx);
    return tap_done();
}
