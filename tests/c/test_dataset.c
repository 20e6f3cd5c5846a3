/* test_dataset.c - datasets: open, getters, info (against gdalinfo's JSON),
 * window reads (against GDAL's RasterIO and hand-computed values), the
 * overview pick, bad inputs, nothing written beside inputs, allocation
 * faults, threads. */
#define _GNU_SOURCE /* strdup, strcasecmp, M_PI */
#include "eoi.h"
#include "tap.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <gdal_utils.h>

static char l7[1024];

/* ---- helpers ----------------------------------------------------------- */

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dir joined by '/', in buf. */
static void snapshot(const char *dir, char *buf, size_t cap) {
    char *names[256];
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && n < 256 && (e = readdir(d)))
        names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(buf, names[i], cap - strlen(buf) - 2);
        strncat(buf, "/", cap - strlen(buf) - 1);
        free(names[i]);
    }
}

static bool copy_file(const char *from, const char *to, long max_bytes) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in && out;
    char buf[65536];
    long total = 0;
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (max_bytes >= 0 && total + (long)n > max_bytes)
            n = (size_t)(max_bytes - total);
        ok = fwrite(buf, 1, n, out) == n;
        total += (long)n;
        if (max_bytes >= 0 && total >= max_bytes)
            break;
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return ok;
}

static uint64_t fnv(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static bool one_line_naming(const eo_ctx *ctx, const char *path) {
    const char *m = eo_ctx_errmsg(ctx);
    return strstr(m, path) && !strchr(m, '\n');
}

/* GDAL reads band b's window (x, y, w, h) into a new buffer of type t. */
static void *gdal_read(const char *path, int b, int x, int y, int w, int h, GDALDataType t) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds)
        return NULL;
    void *buf = malloc((size_t)w * (size_t)h * (size_t)GDALGetDataTypeSizeBytes(t));
    if (GDALRasterIO(GDALGetRasterBand(ds, b), GF_Read, x, y, w, h, buf, w, h, t, 0, 0) !=
        CE_None) {
        free(buf);
        buf = NULL;
    }
    GDALClose(ds);
    return buf;
}

static json_object *get(json_object *o, const char *key) {
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static double num_at(json_object *arr, size_t i) {
    return json_object_get_double(json_object_array_get_idx(arr, i));
}

/* ---- open and getters -------------------------------------------------- */

static void test_open(eo_ctx *ctx) {
    eo_dataset *ds = NULL;
    CHECK_ST(ctx, eo_dataset_open(ctx, NULL, l7), EO_E_ARG);
    CHECK_ST(ctx, eo_dataset_open(ctx, &ds, NULL), EO_E_ARG);
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, l7));
    GDALDatasetH g = GDALOpen(l7, GA_ReadOnly);
    CHECK(eo_dataset_width(ds) == GDALGetRasterXSize(g) && eo_dataset_width(ds) == 349);
    CHECK(eo_dataset_height(ds) == GDALGetRasterYSize(g) && eo_dataset_height(ds) == 352);
    CHECK(eo_dataset_band_count(ds) == 6);
    for (int b = 1; b <= 6; b++)
        CHECK(eo_dataset_band_dtype(ds, b) == EO_DT_U8);
    CHECK(eo_dataset_band_dtype(ds, 0) == EO_DT_UNKNOWN);
    CHECK(eo_dataset_band_dtype(ds, 7) == EO_DT_UNKNOWN);
    double gt[6], ggt[6];
    GDALGetGeoTransform(g, ggt);
    CHECK(eo_dataset_get_geotransform(ds, gt) == 1 && memcmp(gt, ggt, sizeof gt) == 0);
    CHECK(eo_dataset_overview_count(ds) == GDALGetOverviewCount(GDALGetRasterBand(g, 1)));
    CHECK(eo_dataset_overview_count(ds) == 4);
    CHECK(eoi_crs_epsg(ctx, eo_dataset_crs_wkt(ds)) == 31985);
    GDALClose(g);
    eo_dataset_close(ds);

    /* NULL is accepted by the getters and close */
    eo_dataset_close(NULL);
    CHECK(eo_dataset_width(NULL) == 0 && eo_dataset_height(NULL) == 0);
    CHECK(eo_dataset_band_count(NULL) == 0 && eo_dataset_overview_count(NULL) == 0);
    CHECK(eo_dataset_band_dtype(NULL, 1) == EO_DT_UNKNOWN);
    CHECK(strcmp(eo_dataset_crs_wkt(NULL), "") == 0);
    CHECK(eo_dataset_get_geotransform(NULL, gt) == 0 && gt[1] == 1 && gt[5] == 1);
}

/* ---- info -------------------------------------------------------------- */

/* Our footprint corners must be gdalinfo's wgs84Extent corners. */
static void compare_info(eo_ctx *ctx, const char *path) {
    eo_dataset *ds = NULL;
    char *s = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, path));
    CHECK_OK(ctx, eo_dataset_info(ctx, &s, ds));
    json_object *mine = s ? json_tokener_parse(s) : NULL;
    CHECKF(mine != NULL, "info of %s is JSON", path);

    GDALDatasetH g = GDALOpen(path, GA_ReadOnly);
    char *argv[] = {"-json", NULL};
    GDALInfoOptions *io = GDALInfoOptionsNew(argv, NULL);
    char *ref_s = GDALInfo(g, io);
    GDALInfoOptionsFree(io);
    json_object *ref = ref_s ? json_tokener_parse(ref_s) : NULL;
    CPLFree(ref_s);
    CHECK(ref != NULL);
    if (!mine || !ref)
        goto done;

    CHECK(strcmp(json_object_get_string(get(mine, "path")), path) == 0);
    CHECK(strcmp(json_object_get_string(get(mine, "driver")), "GTiff") == 0);
    CHECK(json_object_get_int(get(mine, "width")) == GDALGetRasterXSize(g));
    CHECK(json_object_get_int(get(mine, "height")) == GDALGetRasterYSize(g));
    CHECK(json_object_get_int(get(mine, "band_count")) == GDALGetRasterCount(g));
    json_object *gt = get(mine, "geotransform"), *rgt = get(ref, "geoTransform");
    for (size_t i = 0; i < 6; i++)
        CHECK(num_at(gt, i) == num_at(rgt, i));
    double g1 = num_at(rgt, 1), g2 = num_at(rgt, 2), g4 = num_at(rgt, 4), g5 = num_at(rgt, 5);
    json_object *ps = get(mine, "pixel_size");
    CHECK(fabs(num_at(ps, 0) - sqrt(g1 * g1 + g4 * g4)) < 1e-12);
    CHECK(fabs(num_at(ps, 1) - sqrt(g2 * g2 + g5 * g5)) < 1e-12);
    CHECK(json_object_get_boolean(get(mine, "rotated")) == (g2 != 0 || g4 != 0));

    /* bbox = extremes of gdalinfo's corner coordinates */
    json_object *cc = get(ref, "cornerCoordinates");
    const char *names[] = {"upperLeft", "lowerLeft", "lowerRight", "upperRight"};
    double bb[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    for (int i = 0; i < 4; i++) {
        json_object *c = get(cc, names[i]);
        bb[0] = fmin(bb[0], num_at(c, 0));
        bb[1] = fmin(bb[1], num_at(c, 1));
        bb[2] = fmax(bb[2], num_at(c, 0));
        bb[3] = fmax(bb[3], num_at(c, 1));
    }
    json_object *mbb = get(mine, "bbox");
    for (size_t i = 0; i < 4; i++)
        CHECKF(fabs(num_at(mbb, i) - bb[i]) < 1e-3, "%s bbox[%zu] %.10g vs %.10g", path, i,
               num_at(mbb, i), bb[i]);

    /* footprint: 4 corners x 21 points + the closing point; corners equal */
    json_object *fp = get(mine, "footprint");
    CHECK(fp && strcmp(json_object_get_string(get(fp, "type")), "Polygon") == 0);
    json_object *ring = json_object_array_get_idx(get(fp, "coordinates"), 0);
    json_object *rring = json_object_array_get_idx(get(get(ref, "wgs84Extent"), "coordinates"), 0);
    CHECKF(json_object_array_length(ring) == 85, "%s: %zu points", path,
           json_object_array_length(ring));
    for (size_t c = 0; c < 5 && json_object_array_length(ring) == 85; c++) {
        json_object *p = json_object_array_get_idx(ring, c * 21);
        json_object *q = json_object_array_get_idx(rring, c);
        for (size_t k = 0; k < 2; k++)
            CHECKF(fabs(num_at(p, k) - num_at(q, k)) <= 1e-7, "%s corner %zu: %.9f vs %.9f", path,
                   c, num_at(p, k), num_at(q, k));
    }
    /* bbox_4326 holds every footprint point */
    json_object *b4 = get(mine, "bbox_4326");
    for (size_t i = 0; b4 && i < json_object_array_length(ring); i++) {
        json_object *p = json_object_array_get_idx(ring, i);
        CHECK(num_at(p, 0) >= num_at(b4, 0) && num_at(p, 0) <= num_at(b4, 2));
        CHECK(num_at(p, 1) >= num_at(b4, 1) && num_at(p, 1) <= num_at(b4, 3));
    }

    /* bands: type, colour interpretation, overviews, block */
    json_object *bands = get(mine, "bands"), *rbands = get(ref, "bands");
    CHECK(json_object_array_length(bands) == json_object_array_length(rbands));
    for (size_t i = 0; i < json_object_array_length(bands); i++) {
        json_object *b = json_object_array_get_idx(bands, i);
        json_object *rb = json_object_array_get_idx(rbands, i);
        CHECK(json_object_get_int(get(b, "band")) == (int)i + 1);
        CHECK(strcasecmp(json_object_get_string(get(b, "color_interp")),
                         json_object_get_string(get(rb, "colorInterpretation"))) == 0);
        json_object *ov = get(b, "overviews"), *rov = get(rb, "overviews");
        size_t nov = rov ? json_object_array_length(rov) : 0;
        CHECK(json_object_array_length(ov) == nov);
        for (size_t k = 0; k < nov && k < json_object_array_length(ov); k++) {
            json_object *o = json_object_array_get_idx(ov, k);
            json_object *ro = get(json_object_array_get_idx(rov, k), "size");
            CHECK(json_object_get_int(get(o, "width")) ==
                  json_object_get_int(json_object_array_get_idx(ro, 0)));
            CHECK(json_object_get_int(get(o, "height")) ==
                  json_object_get_int(json_object_array_get_idx(ro, 1)));
        }
        json_object *blk = get(b, "block"), *rblk = get(rb, "block");
        CHECK(num_at(blk, 0) == num_at(rblk, 0) && num_at(blk, 1) == num_at(rblk, 1));
        json_object *nd = get(rb, "noDataValue");
        CHECK(nd ? get(b, "nodata") != NULL : get(b, "nodata") == NULL);
    }
    CHECK(json_object_get_int(get(mine, "overview_count")) ==
          GDALGetOverviewCount(GDALGetRasterBand(g, 1)));
done:
    if (g)
        GDALClose(g);
    json_object_put(mine);
    json_object_put(ref);
    eo_free(s);
    eo_dataset_close(ds);
}

static void test_info(eo_ctx *ctx) {
    compare_info(ctx, l7);
    char geomatrix[1024];
    snprintf(geomatrix, sizeof geomatrix, "%s", tap_data("geomatrix.tif"));
    compare_info(ctx, geomatrix);

    /* specific values */
    eo_dataset *ds = NULL;
    char *s = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, l7));
    CHECK_OK(ctx, eo_dataset_info(ctx, &s, ds));
    json_object *o = s ? json_tokener_parse(s) : NULL;
    json_object *crs = get(o, "crs");
    CHECK(crs && json_object_get_int(get(crs, "epsg")) == 31985);
    CHECK(crs && strstr(json_object_get_string(get(crs, "name")), "UTM zone 25S"));
    CHECK(crs && !json_object_get_boolean(get(crs, "geographic")));
    CHECK(crs && strcmp(json_object_get_string(get(crs, "units")), "metre") == 0);
    CHECK(crs && strstr(json_object_get_string(get(crs, "wkt")), "PROJCRS"));
    CHECK(fabs(num_at(get(o, "pixel_size"), 0) - 28.5) < 1e-6);
    CHECK(json_object_get_double(get(o, "rotation_deg")) == 0);
    json_object *b1 = json_object_array_get_idx(get(o, "bands"), 0);
    CHECK(strcmp(json_object_get_string(get(b1, "dtype")), "uint8") == 0);
    CHECK(json_object_array_length(get(b1, "overviews")) == 4);
    CHECK(get(b1, "scale") == NULL && get(b1, "offset") == NULL);
    CHECK(json_object_get_type(get(o, "metadata")) == json_type_object);
    CHECK(json_object_get_int(get(o, "overview_count")) == 4);
    json_object_put(o);
    eo_free(s);
    s = NULL;
    CHECK_ST(ctx, eo_dataset_info(ctx, NULL, ds), EO_E_ARG);
    CHECK_ST(ctx, eo_dataset_info(ctx, &s, NULL), EO_E_ARG);
    eo_dataset_close(ds);

    /* geomatrix: rotated; rotation is the angle of the column axis */
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("geomatrix.tif")));
    CHECK_OK(ctx, eo_dataset_info(ctx, &s, ds));
    o = s ? json_tokener_parse(s) : NULL;
    CHECK(json_object_get_boolean(get(o, "rotated")));
    CHECK(fabs(json_object_get_double(get(o, "rotation_deg")) - atan2(-5.0, 1.5) * 180 / M_PI) <
          1e-9);
    CHECK(fabs(num_at(get(o, "pixel_size"), 0) - sqrt(1.5 * 1.5 + 25)) < 1e-12);
    CHECK(strcmp(json_object_get_string(get(get(o, "metadata"), "AREA_OR_POINT")), "Point") == 0);
    json_object_put(o);
    eo_free(s);
    eo_dataset_close(ds);

    /* na.tif: geographic, float, with a nodata value */
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("na.tif")));
    CHECK_OK(ctx, eo_dataset_info(ctx, &s, ds));
    o = s ? json_tokener_parse(s) : NULL;
    crs = get(o, "crs");
    CHECK(crs && json_object_get_int(get(crs, "epsg")) == 4326);
    CHECK(crs && json_object_get_boolean(get(crs, "geographic")));
    CHECK(crs && strcmp(json_object_get_string(get(crs, "units")), "degree") == 0);
    json_object *b4 = get(o, "bbox_4326");
    CHECK(b4 && num_at(b4, 0) == -180 && num_at(b4, 1) == 80 && num_at(b4, 2) == -170 &&
          num_at(b4, 3) == 90);
    b1 = json_object_array_get_idx(get(o, "bands"), 0);
    CHECK(strcmp(json_object_get_string(get(b1, "dtype")), "float32") == 0);
    json_object_put(o);
    eo_free(s);
    eo_dataset_close(ds);

    /* no CRS, no geotransform: crs, footprint and bbox are null; scale and
     * offset and a description appear when set */
    char plain[1024];
    snprintf(plain, sizeof plain, "%s", tap_tmp("plain.tif"));
    GDALDatasetH g = GDALCreate(GDALGetDriverByName("GTiff"), plain, 8, 4, 1, GDT_Int16, NULL);
    GDALSetRasterScale(GDALGetRasterBand(g, 1), 0.5);
    GDALSetRasterOffset(GDALGetRasterBand(g, 1), -3);
    GDALSetDescription(GDALGetRasterBand(g, 1), "elevation");
    GDALSetRasterNoDataValue(GDALGetRasterBand(g, 1), -1);
    GDALClose(g);
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, plain));
    double gt[6];
    CHECK(eo_dataset_get_geotransform(ds, gt) == 0 && gt[0] == 0 && gt[1] == 1 && gt[5] == 1);
    CHECK(strcmp(eo_dataset_crs_wkt(ds), "") == 0);
    CHECK_OK(ctx, eo_dataset_info(ctx, &s, ds));
    o = s ? json_tokener_parse(s) : NULL;
    CHECK(o && get(o, "crs") == NULL && get(o, "footprint") == NULL);
    CHECK(o && get(o, "bbox_4326") == NULL && get(o, "geotransform") == NULL);
    CHECK(o && json_object_object_get_ex(o, "footprint", NULL));
    b1 = json_object_array_get_idx(get(o, "bands"), 0);
    CHECK(json_object_get_double(get(b1, "scale")) == 0.5);
    CHECK(json_object_get_double(get(b1, "offset")) == -3);
    CHECK(json_object_get_double(get(b1, "nodata")) == -1);
    CHECK(strcmp(json_object_get_string(get(b1, "description")), "elevation") == 0);
    json_object_put(o);
    eo_free(s);
    /* a read of such a raster carries no georeferencing */
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL));
    CHECK(!eo_raster_has_geotransform(r) && strcmp(eo_raster_crs_wkt(r), "") == 0);
    double nd;
    int32_t has;
    eo_raster_get_nodata(r, &nd, &has);
    CHECK(has && nd == -1);
    eo_raster_free(r);
    eo_dataset_close(ds);
}

/* ---- reads ------------------------------------------------------------- */

static void test_read_windows(eo_ctx *ctx) {
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, l7));
    if (!ds)
        return;
    double g[6];
    eo_dataset_get_geotransform(ds, g);
    const eo_window wins[] = {{0, 0, 349, 352},
                              {10, 20, 100, 50},
                              {348, 351, 1, 1},
                              {0, 100, 349, 3},
                              {200, 0, 149, 352}};
    for (size_t k = 0; k < sizeof wins / sizeof wins[0]; k++) {
        const eo_window *w = &wins[k];
        eo_raster *r = NULL;
        CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, w, NULL));
        if (!r)
            continue;
        CHECK(eo_raster_width(r) == w->width && eo_raster_height(r) == w->height);
        CHECK(eo_raster_band_count(r) == 6 && eo_raster_dtype(r) == EO_DT_U8);
        size_t plane = (size_t)(w->width * w->height);
        for (int b = 1; b <= 6; b++) {
            uint8_t *ref =
                gdal_read(l7, b, (int)w->x, (int)w->y, (int)w->width, (int)w->height, GDT_Byte);
            CHECKF(ref && memcmp(ref, (uint8_t *)eo_raster_data(r) + (size_t)(b - 1) * plane,
                                 plane) == 0,
                   "window %zu band %d equals GDAL", k, b);
            free(ref);
        }
        /* georeferencing of the window, computed by hand */
        double gt[6];
        eo_raster_get_geotransform(r, gt);
        CHECK(eo_raster_has_geotransform(r));
        CHECK(gt[0] == g[0] + (double)w->x * g[1] && gt[3] == g[3] + (double)w->y * g[5]);
        CHECK(gt[1] == g[1] && gt[5] == g[5] && gt[2] == 0 && gt[4] == 0);
        CHECK(strcmp(eo_raster_crs_wkt(r), eo_dataset_crs_wkt(ds)) == 0);
        int32_t has;
        double nd;
        eo_raster_get_nodata(r, &nd, &has);
        CHECK(!has);
        eo_raster_free(r);
    }

    /* band subset in a given order, other output types */
    eo_read_opts *o = NULL;
    CHECK_OK(ctx, eo_read_opts_new(ctx, &o));
    const int32_t bands[] = {4, 1};
    CHECK_OK(ctx, eo_read_opts_set_bands(ctx, o, bands, 2));
    CHECK_OK(ctx, eo_read_opts_set_dtype(ctx, o, EO_DT_F32));
    eo_window w = {30, 40, 60, 70};
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    CHECK(r && eo_raster_band_count(r) == 2 && eo_raster_dtype(r) == EO_DT_F32);
    for (int i = 0; r && i < 2; i++) {
        float *ref = gdal_read(l7, bands[i], 30, 40, 60, 70, GDT_Float32);
        CHECK(ref && memcmp(ref, (float *)eo_raster_data(r) + i * 60 * 70, 60 * 70 * 4) == 0);
        free(ref);
    }
    eo_raster_free(r);
    /* int8: GDAL 3.6 has no Int8, values above 127 saturate */
    CHECK_OK(ctx, eo_read_opts_set_dtype(ctx, o, EO_DT_I8));
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    uint8_t *ref = gdal_read(l7, 4, 30, 40, 60, 70, GDT_Byte);
    int bad = 0, saturated = 0;
    for (int i = 0; r && ref && i < 60 * 70; i++) {
        int want = ref[i] > 127 ? 127 : ref[i];
        saturated += ref[i] > 127;
        bad += ((int8_t *)eo_raster_data(r))[i] != want;
    }
    CHECK(r && ref && bad == 0);
    free(ref);
    eo_raster_free(r);
    CHECK_OK(ctx, eo_read_opts_set_dtype(ctx, o, EO_DT_I64));
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    ref = gdal_read(l7, 1, 30, 40, 60, 70, GDT_Byte);
    bad = 0;
    for (int i = 0; r && ref && i < 60 * 70; i++)
        bad += ((int64_t *)eo_raster_data(r))[60 * 70 + i] != ref[i];
    CHECK(r && ref && bad == 0);
    free(ref);
    eo_raster_free(r);
    (void)saturated;
    /* back to all bands */
    CHECK_OK(ctx, eo_read_opts_set_bands(ctx, o, NULL, 0));
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    CHECK(r && eo_raster_band_count(r) == 6);
    eo_raster_free(r);

    /* argument errors */
    const eo_window outside[] = {{-1, 0, 10, 10},        {0, -1, 10, 10},     {340, 0, 10, 10},
                                 {0, 343, 10, 10},       {0, 0, 0, 10},       {0, 0, 10, -5},
                                 {INT64_MAX, 0, 10, 10}, {0, 0, INT64_MAX, 1}};
    for (size_t k = 0; k < sizeof outside / sizeof outside[0]; k++) {
        r = (eo_raster *)1;
        CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, &outside[k], NULL), EO_E_ARG);
        CHECK(r == NULL);
        CHECK(strstr(eo_ctx_errmsg(ctx), "349 x 352") && strstr(eo_ctx_errmsg(ctx), "window"));
    }
    const int32_t band0 = 0, band7 = 7;
    CHECK_ST(ctx, eo_read_opts_set_bands(ctx, o, &band0, 1), EO_E_ARG);
    CHECK_OK(ctx, eo_read_opts_set_bands(ctx, o, &band7, 1));
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, o), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "band 7"));
    CHECK_OK(ctx, eo_read_opts_set_bands(ctx, o, NULL, 0));
    CHECK_ST(ctx, eo_read_opts_set_bands(ctx, o, bands, -1), EO_E_ARG);
    CHECK_ST(ctx, eo_read_opts_set_bands(ctx, o, NULL, 2), EO_E_ARG);
    CHECK_ST(ctx, eo_read_opts_set_dtype(ctx, o, 42), EO_E_ARG);
    CHECK_ST(ctx, eo_read_opts_set_resampling(ctx, o, 9), EO_E_ARG);
    CHECK_ST(ctx, eo_read_opts_set_out_size(ctx, o, -1, 5), EO_E_ARG);
    CHECK_ST(ctx, eo_read_opts_set_out_size(ctx, o, 0, 5), EO_E_ARG);
    CHECK_OK(ctx, eo_read_opts_set_dtype(ctx, o, EO_DT_U8));
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 1000000, 1000000));
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, o), EO_E_LIMIT);
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, (int64_t)1 << 40, 1));
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, o), EO_E_LIMIT);
    CHECK(r == NULL);
    CHECK_ST(ctx, eo_dataset_read(ctx, NULL, ds, NULL, NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, NULL, NULL, NULL), EO_E_ARG);
    eo_read_opts_free(o);
    eo_read_opts_free(NULL);
    eo_dataset_close(ds);
}

/* ---- overviews --------------------------------------------------------- */

static char logged[4096];
static void on_log(void *user, int level, const char *msg) {
    (void)user;
    if (level == EO_LOG_DEBUG && strstr(msg, "reading window"))
        snprintf(logged, sizeof logged, "%s", msg);
}

/* GDAL reads (fractional) window of overview level `level` of band 1 into a
 * ow x oh uint16 buffer with resampling alg. */
static uint16_t *gdal_read_ovr(const char *path, int level, double x, double y, double w, double h,
                               int ow, int oh, GDALRIOResampleAlg alg) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    GDALRasterBandH b = GDALGetOverview(GDALGetRasterBand(ds, 1), level);
    uint16_t *buf = malloc((size_t)ow * (size_t)oh * 2);
    GDALRasterIOExtraArg ex;
    INIT_RASTERIO_EXTRA_ARG(ex);
    ex.eResampleAlg = alg;
    ex.bFloatingPointWindowValidity = TRUE;
    ex.dfXOff = x;
    ex.dfYOff = y;
    ex.dfXSize = w;
    ex.dfYSize = h;
    int x0 = (int)floor(x), y0 = (int)floor(y);
    int x1 = (int)ceil(x + w), y1 = (int)ceil(y + h);
    if (GDALRasterIOEx(b, GF_Read, x0, y0, x1 - x0, y1 - y0, buf, ow, oh, GDT_UInt16, 0, 0, &ex) !=
        CE_None) {
        free(buf);
        buf = NULL;
    }
    GDALClose(ds);
    return buf;
}

static void test_overviews(eo_ctx *ctx) {
    /* a 1000 x 800 uint16 GeoTIFF with AVERAGE overviews 2, 4, 8 */
    char path[1024];
    snprintf(path, sizeof path, "%s", tap_tmp("ovr.tif"));
    remove(path);
    const int W = 1000, H = 800;
    GDALDatasetH g = GDALCreate(GDALGetDriverByName("GTiff"), path, W, H, 1, GDT_UInt16, NULL);
    uint16_t *full = malloc((size_t)W * H * 2);
    uint32_t seed = 12345;
    for (int i = 0; i < W * H; i++) {
        seed = seed * 1664525u + 1013904223u;
        full[i] = (uint16_t)(seed >> 16);
    }
    double gt[6] = {300000, 10, 0, 9000000, 0, -10};
    GDALSetGeoTransform(g, gt);
    GDALSetProjection(g, "EPSG:31985");
    CHECK(GDALRasterIO(GDALGetRasterBand(g, 1), GF_Write, 0, 0, W, H, full, W, H, GDT_UInt16, 0,
                       0) == CE_None);
    int levels[] = {2, 4, 8};
    CHECK(GDALBuildOverviews(g, "AVERAGE", 3, levels, 0, NULL, NULL, NULL) == CE_None);
    GDALClose(g);

    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, path));
    CHECK(eo_dataset_overview_count(ds) == 3);
    eo_read_opts *o = NULL;
    CHECK_OK(ctx, eo_read_opts_new(ctx, &o));
    eo_ctx_set_log(ctx, on_log, NULL, EO_LOG_DEBUG);
    eo_raster *r = NULL;

    /* whole raster at 500 x 400: exactly overview 0 */
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 500, 400));
    logged[0] = '\0';
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, o));
    CHECKF(strstr(logged, "overview 0 (500x400)"), "log: %s", logged);
    uint16_t *ref = gdal_read_ovr(path, 0, 0, 0, 500, 400, 500, 400, GRIORA_NearestNeighbour);
    CHECK(r && ref && memcmp(eo_raster_data(r), ref, 500 * 400 * 2) == 0);
    double rgt[6];
    eo_raster_get_geotransform(r, rgt);
    CHECK(rgt[0] == 300000 && rgt[1] == 20 && rgt[3] == 9000000 && rgt[5] == -20);
    free(ref);
    eo_raster_free(r);

    /* window 100,80 400x320 at 100x80 (factor 4): overview 1, window 25,20 100x80 there */
    eo_window w = {100, 80, 400, 320};
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 100, 80));
    logged[0] = '\0';
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    CHECKF(strstr(logged, "overview 1 (250x200)"), "log: %s", logged);
    GDALDatasetH gd = GDALOpen(path, GA_ReadOnly);
    uint16_t *ov1 = malloc(100 * 80 * 2);
    CHECK(GDALRasterIO(GDALGetOverview(GDALGetRasterBand(gd, 1), 1), GF_Read, 25, 20, 100, 80, ov1,
                       100, 80, GDT_UInt16, 0, 0) == CE_None);
    GDALClose(gd);
    CHECK(r && memcmp(eo_raster_data(r), ov1, 100 * 80 * 2) == 0);
    free(ov1);
    eo_raster_get_geotransform(r, rgt);
    CHECK(rgt[0] == 300000 + 100 * 10 && rgt[3] == 9000000 - 80 * 10);
    CHECK(rgt[1] == 40 && rgt[5] == -40 && rgt[2] == 0 && rgt[4] == 0);
    eo_raster_free(r);

    /* factor 3.33 with bilinear: overview 0 (factor 2), resampled by GDAL there */
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 300, 240));
    CHECK_OK(ctx, eo_read_opts_set_resampling(ctx, o, EO_RESAMPLE_BILINEAR));
    logged[0] = '\0';
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, o));
    CHECKF(strstr(logged, "overview 0 (500x400)"), "log: %s", logged);
    ref = gdal_read_ovr(path, 0, 0, 0, 500, 400, 300, 240, GRIORA_Bilinear);
    CHECK(r && ref && memcmp(eo_raster_data(r), ref, 300 * 240 * 2) == 0);
    free(ref);
    eo_raster_free(r);

    /* a window with a fractional position on the overview grid, average */
    w = (eo_window){101, 33, 501, 299};
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 61, 37)); /* factor 8.2 -> overview 2 */
    CHECK_OK(ctx, eo_read_opts_set_resampling(ctx, o, EO_RESAMPLE_AVERAGE));
    logged[0] = '\0';
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    CHECKF(strstr(logged, "overview 2 (125x100)"), "log: %s", logged);
    ref = gdal_read_ovr(path, 2, 101 / 8.0, 33 / 8.0, 501 / 8.0, 299 / 8.0, 61, 37, GRIORA_Average);
    CHECK(r && ref && memcmp(eo_raster_data(r), ref, 61 * 37 * 2) == 0);
    free(ref);
    eo_raster_get_geotransform(r, rgt);
    CHECK(rgt[0] == 300000 + 1010 && fabs(rgt[1] - 10 * 501 / 61.0) < 1e-9);
    CHECK(rgt[3] == 9000000 - 330 && fabs(rgt[5] + 10 * 299 / 37.0) < 1e-9);
    eo_raster_free(r);

    /* factor 1.79: no overview is fine enough; the result is the nearest
     * full-resolution pixel, never a pixel of overview 0 (which GDAL alone
     * would use) */
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 560, 448));
    CHECK_OK(ctx, eo_read_opts_set_resampling(ctx, o, EO_RESAMPLE_NEAREST));
    logged[0] = '\0';
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, o));
    CHECKF(strstr(logged, "full resolution"), "log: %s", logged);
    int bad = 0;
    for (int y = 0; r && y < 448; y++)
        for (int x = 0; x < 560; x++) {
            int sx = (int)((x + 0.5) * W / 560.0), sy = (int)((y + 0.5) * H / 448.0);
            bad += ((uint16_t *)eo_raster_data(r))[y * 560 + x] != full[sy * W + sx];
        }
    CHECKF(r && bad == 0, "%d pixels differ from nearest full resolution", bad);
    eo_raster_free(r);

    /* upsampling reads full resolution */
    w = (eo_window){10, 10, 5, 5};
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 10, 10));
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    for (int y = 0; r && y < 10; y++)
        for (int x = 0; x < 10; x++)
            bad +=
                ((uint16_t *)eo_raster_data(r))[y * 10 + x] != full[(10 + y / 2) * W + 10 + x / 2];
    CHECK(r && bad == 0);
    eo_raster_free(r);

    eo_ctx_set_log(ctx, NULL, NULL, 0);
    eo_read_opts_free(o);
    eo_dataset_close(ds);
    free(full);

    /* rotated geotransform of a reduced window, by hand */
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("geomatrix.tif")));
    CHECK_OK(ctx, eo_read_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 5, 4));
    w = (eo_window){2, 3, 10, 12};
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, &w, o));
    double e[6] = {1841001.75 + 2 * 1.5 + 3 * -5.0,  1.5 * 2,  -5.0 * 3,
                   1144003.25 + 2 * -5.0 + 3 * -1.5, -5.0 * 2, -1.5 * 3};
    eo_raster_get_geotransform(r, rgt);
    CHECK(r && memcmp(rgt, e, sizeof e) == 0);
    eo_raster_free(r);
    eo_read_opts_free(o);
    eo_dataset_close(ds);
}

/* ---- bad inputs -------------------------------------------------------- */

static void test_bad_inputs(eo_ctx *ctx) {
    char dir[512], p[1024], before[8192], after[8192];
    snprintf(dir, sizeof dir, "%s", tap_tmp("bad"));
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/zero.tif", dir);
    fclose(fopen(p, "wb"));
    snprintf(p, sizeof p, "%s/page.tif", dir);
    FILE *f = fopen(p, "wb");
    fputs("<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/truncated.tif", dir);
    CHECK(copy_file(l7, p, 200000));
    snprintf(p, sizeof p, "%s/copy.tif", dir);
    CHECK(copy_file(l7, p, -1));
    snprintf(p, sizeof p, "%s/folder.tif", dir);
    mkdir(p, 0755);
    snapshot(dir, before, sizeof before);

    struct {
        const char *name;
        eo_status want;
    } cases[] = {{"zero.tif", EO_E_SOURCE},
                 {"page.tif", EO_E_SOURCE},
                 {"missing.tif", EO_E_IO_NOT_FOUND},
                 {"folder.tif", EO_E_IO_READ},
                 {"missing-dir/x.tif", EO_E_IO_NOT_FOUND}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, cases[i].name);
        eo_dataset *ds = (eo_dataset *)1;
        CHECK_ST(ctx, eo_dataset_open(ctx, &ds, p), cases[i].want);
        CHECK(ds == NULL);
        CHECKF(one_line_naming(ctx, p), "message names %s: %s", p, eo_ctx_errmsg(ctx));
    }
    snprintf(p, sizeof p, "%s/missing.tif", dir);
    eo_dataset *ds = NULL;
    eo_dataset_open(ctx, &ds, p);
    CHECK(strstr(eo_ctx_errmsg(ctx), "no such file"));

    /* truncated anywhere past the header (here 25% into the pixels, and one
     * byte short of the whole file): open fails with io.Read naming the
     * file and saying it is truncated, before any pixel is read */
    snprintf(p, sizeof p, "%s/truncated.tif", dir);
    CHECK_ST(ctx, eo_dataset_open(ctx, &ds, p), EO_E_IO_READ);
    CHECK(ds == NULL);
    CHECKF(one_line_naming(ctx, p) && strstr(eo_ctx_errmsg(ctx), "truncated"),
           "message names %s and the problem: %s", p, eo_ctx_errmsg(ctx));
    struct stat sb;
    CHECK(stat(l7, &sb) == 0);
    snprintf(p, sizeof p, "%s/short1.tif", dir);
    CHECK(copy_file(l7, p, (long)sb.st_size - 1));
    CHECK_ST(ctx, eo_dataset_open(ctx, &ds, p), EO_E_IO_READ);
    CHECK(ds == NULL && strstr(eo_ctx_errmsg(ctx), "truncated"));
    snapshot(dir, before, sizeof before);

    /* a good copy: open, info, reads at several resolutions; nothing new */
    snprintf(p, sizeof p, "%s/copy.tif", dir);
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, p));
    char *s = NULL;
    CHECK_OK(ctx, eo_dataset_info(ctx, &s, ds));
    eo_free(s);
    eo_read_opts *o = NULL;
    CHECK_OK(ctx, eo_read_opts_new(ctx, &o));
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, o));
    eo_raster_free(r);
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 100, 100));
    CHECK_OK(ctx, eo_read_opts_set_resampling(ctx, o, EO_RESAMPLE_CUBIC));
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, o));
    eo_raster_free(r);
    CHECK_OK(ctx, eo_read_opts_set_out_size(ctx, o, 300, 300));
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, o));
    eo_raster_free(r);
    eo_read_opts_free(o);
    eo_dataset_close(ds);

    snapshot(dir, after, sizeof after);
    CHECKF(strcmp(before, after) == 0, "folder unchanged: %s -> %s", before, after);
}

/* ---- progress and cancel ----------------------------------------------- */

static int progress_calls;
static double progress_last;
static int count_progress(void *user, double f, const char *stage) {
    (void)user;
    progress_calls++;
    progress_last = f;
    return strcmp(stage, "read") != 0;
}
static int stop_after_first(void *user, double f, const char *stage) {
    (void)user;
    (void)stage;
    return f > 0.2;
}

static void test_progress(eo_ctx *ctx) {
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, l7));
    eo_raster *r = NULL;
    eo_ctx_set_progress(ctx, count_progress, NULL);
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL));
    CHECK(progress_calls >= 6 && progress_last == 1.0);
    eo_raster_free(r);
    eo_ctx_set_progress(ctx, stop_after_first, NULL);
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL), EO_E_CANCELLED);
    CHECK(r == NULL);
    eo_ctx_set_progress(ctx, NULL, NULL);
    eo_ctx_cancel(ctx);
    CHECK_ST(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL), EO_E_CANCELLED);
    eo_ctx_reset_cancel(ctx);
    CHECK_OK(ctx, eo_dataset_read(ctx, &r, ds, NULL, NULL));
    eo_raster_free(r);
    eo_dataset_close(ds);
}

/* ---- allocation faults ------------------------------------------------- */

static void test_alloc_faults(eo_ctx *ctx) {
    char out[1024];
    snprintf(out, sizeof out, "%s", tap_tmp("faults_read.tif"));
    remove(out);
    bool done = false;
    int failures = 0;
    for (long n = 1; n < 500 && !done; n++) {
        eo_dataset *ds = NULL;
        eo_read_opts *o = NULL;
        eo_raster *r = NULL;
        const int32_t bands[] = {3, 2};
        eo_window w = {7, 9, 200, 180};
        eo_exp_fail_alloc(n);
        eo_status st = eo_dataset_open(ctx, &ds, l7);
        if (st == EO_OK)
            st = eo_read_opts_new(ctx, &o);
        if (st == EO_OK)
            st = eo_read_opts_set_bands(ctx, o, bands, 2);
        if (st == EO_OK)
            st = eo_read_opts_set_out_size(ctx, o, 100, 90);
        if (st == EO_OK)
            st = eo_read_opts_set_dtype(ctx, o, EO_DT_I8);
        if (st == EO_OK)
            st = eo_dataset_read(ctx, &r, ds, &w, o);
        if (st == EO_OK)
            st = eo_raster_write(ctx, r, out, NULL);
        eo_exp_fail_alloc(0);
        if (st == EO_OK) {
            done = true;
        } else {
            failures++;
            CHECKF(st == EO_E_NOMEM, "n=%ld: %s (%s)", n, eo_status_id(st), eo_ctx_errmsg(ctx));
            CHECKF(r == NULL || st != EO_OK, "n=%ld", n);
            CHECK(!exists(out));
        }
        eo_raster_free(r);
        eo_read_opts_free(o);
        eo_dataset_close(ds);
    }
    CHECK(done && failures >= 8);
    CHECK(exists(out));
    remove(out);
}

/* ---- threads ----------------------------------------------------------- */

struct thread_job {
    uint64_t sums[3];
    eo_status st;
};

static eo_status read_sums(eo_ctx *ctx, uint64_t sums[3]) {
    eo_dataset *ds = NULL;
    eo_read_opts *o = NULL;
    eo_raster *r = NULL;
    eo_status st;
    EOI_TRY(st, eo_dataset_open(ctx, &ds, l7));
    EOI_TRY(st, eo_dataset_read(ctx, &r, ds, NULL, NULL));
    sums[0] = fnv(eo_raster_data(r), eo_raster_nbytes(r));
    eo_raster_free(r);
    r = NULL;
    eo_window w = {50, 60, 120, 80};
    EOI_TRY(st, eo_dataset_read(ctx, &r, ds, &w, NULL));
    sums[1] = fnv(eo_raster_data(r), eo_raster_nbytes(r));
    eo_raster_free(r);
    r = NULL;
    EOI_TRY(st, eo_read_opts_new(ctx, &o));
    EOI_TRY(st, eo_read_opts_set_out_size(ctx, o, 100, 100));
    EOI_TRY(st, eo_read_opts_set_resampling(ctx, o, EO_RESAMPLE_BILINEAR));
    EOI_TRY(st, eo_dataset_read(ctx, &r, ds, NULL, o));
    sums[2] = fnv(eo_raster_data(r), eo_raster_nbytes(r));
done:
    eo_raster_free(r);
    eo_read_opts_free(o);
    eo_dataset_close(ds);
    return st;
}

static void *thread_main(void *arg) {
    struct thread_job *job = arg;
    eo_ctx *ctx = NULL;
    job->st = eo_ctx_new(&ctx);
    for (int rep = 0; rep < 5 && job->st == EO_OK; rep++)
        job->st = read_sums(ctx, job->sums);
    eo_ctx_free(ctx);
    return NULL;
}

static void test_threads(eo_ctx *ctx) {
    uint64_t want[3] = {0};
    CHECK_OK(ctx, read_sums(ctx, want));
    struct thread_job jobs[4];
    pthread_t th[4];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECKF(jobs[i].st == EO_OK, "thread %d: %s", i, eo_status_id(jobs[i].st));
        CHECK(memcmp(jobs[i].sums, want, sizeof want) == 0);
    }
}

int main(void) {
    snprintf(l7, sizeof l7, "%s", tap_data("L7_ETMs.tif"));
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    test_open(ctx);
    test_info(ctx);
    test_read_windows(ctx);
    test_overviews(ctx);
    test_bad_inputs(ctx);
    test_progress(ctx);
    test_alloc_faults(ctx);
    test_threads(ctx);
    eo_ctx_free(ctx);
    return tap_done();
}
