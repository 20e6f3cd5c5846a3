/* test_analytics.c - the expression language (syntax errors and their
 * positions, evaluation semantics against hand-computed float32 values,
 * nodata and division by zero), band mapping, AOI coverage against exact
 * areas, and allocation failures. */
#include "../../src/analytics/analytics_int.h"
#include "tap.h"

#include <gdal.h>
#include <math.h>
#include <string.h>

static void expect_syntax(eo_ctx *ctx, const char *text, const char *where) {
    eo_expr *e = (eo_expr *)1;
    eo_status st = eo_expr_parse(ctx, &e, text);
    CHECKF(st == EO_E_EXPR_SYNTAX, "'%s': %s", text, eo_status_id(st));
    CHECKF(e == NULL, "'%s': no expression on failure", text);
    if (where)
        CHECKF(strstr(eo_ctx_errmsg(ctx), where) != NULL, "'%s': message '%s' lacks '%s'", text,
               eo_ctx_errmsg(ctx), where);
}

static void test_syntax(eo_ctx *ctx) {
    expect_syntax(ctx, "(b1 + b2", "position 9");
    expect_syntax(ctx, "b1 +* 2", "position 5");
    expect_syntax(ctx, "foo(b1)", "unknown function at position 1");
    expect_syntax(ctx, "b0 + 1", "band numbers start at 1");
    expect_syntax(ctx, "", "empty");
    expect_syntax(ctx, "2 + 3", "uses no band");
    expect_syntax(ctx, "b1 b2", "position 4");
    expect_syntax(ctx, "where(b1, 2)", "where() takes 3 arguments, got 2");
    expect_syntax(ctx, "min(b1)", "two or more");
    expect_syntax(ctx, "1e400 * b1", "float32 range");
    expect_syntax(ctx, "b1 + 2x", "position 7");
    char deep[1200];
    memset(deep, '(', 600);
    strcpy(deep + 600, "b1");
    expect_syntax(ctx, deep, "nested too deeply");
    eo_expr *e = NULL;
    CHECK_OK(ctx, eo_expr_parse(ctx, &e, "  (N - R) / (N + R) "));
    CHECK(e && e->ninputs == 2 && e->depth == 3);
    eo_expr_free(e);
    CHECK_ST(ctx, eo_expr_from_index(ctx, &e, "NOPE"), EO_E_INDEX);
    CHECK(strstr(eo_ctx_errmsg(ctx), "NOPE") != NULL);
    CHECK_OK(ctx, eo_expr_from_index(ctx, &e, "ndvi"));
    CHECK(e && strcmp(eo_expr_text(e), "(N - R) / (N + R)") == 0);
    eo_expr_free(e);
}

/* Every catalog formula parses and names only known symbols. */
static void test_catalog(eo_ctx *ctx) {
    CHECKF(eoi_index_count() >= 40, "%zu indices", eoi_index_count());
    for (size_t i = 0; i < eoi_index_count(); i++) {
        eo_expr *e = NULL;
        const eoi_index_def *d = eoi_index_at(i);
        CHECK_OK(ctx, eo_expr_from_index(ctx, &e, d->name));
        for (int32_t k = 0; e && k < e->ninputs; k++)
            CHECKF(e->inputs[k].sym >= 0, "%s uses a band number", d->name);
        eo_expr_free(e);
    }
    char *json = NULL;
    CHECK_OK(ctx, eo_indices_list(ctx, &json));
    CHECK(json && strstr(json, "\"EVI\"") && strstr(json, "\"C1\":6"));
    eo_free(json);
}

/* A 4 x 1 two-band float32 raster in /vsimem with nodata -1. */
static const char *make_raster(void) {
    static const char *path = "/vsimem/test_analytics.tif";
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, 6, 1, 2, GDT_Float32, NULL);
    float b1[6] = {3, 0, -1, 2, 4, 9};
    float b2[6] = {1, 0, 5, -1, 4, -4};
    double gt[6] = {500000, 10, 0, 4000000, 0, -10};
    GDALSetGeoTransform(ds, gt);
    GDALRasterBandH h1 = GDALGetRasterBand(ds, 1), h2 = GDALGetRasterBand(ds, 2);
    GDALSetRasterNoDataValue(h1, -1);
    GDALSetRasterNoDataValue(h2, -1);
    GDALSetDescription(h1, "red");
    GDALSetDescription(h2, "nir");
    if (GDALRasterIO(h1, GF_Write, 0, 0, 6, 1, b1, 6, 1, GDT_Float32, 0, 0) != CE_None ||
        GDALRasterIO(h2, GF_Write, 0, 0, 6, 1, b2, 6, 1, GDT_Float32, 0, 0) != CE_None)
        return NULL;
    GDALClose(ds);
    return path;
}

static void expect_values(eo_ctx *ctx, eo_dataset *ds, const char *text, const float *want,
                          const eo_analytics_opts *o) {
    eo_expr *e = NULL;
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_expr_parse(ctx, &e, text));
    if (!e)
        return;
    CHECK_OK(ctx, eo_expr_eval(ctx, &r, ds, e, NULL, o));
    if (r) {
        const float *v = eo_raster_data(r);
        for (int i = 0; i < 6; i++)
            CHECKF(v[i] == want[i] || (isnan(v[i]) && isnan(want[i])),
                   "'%s' pixel %d: %.9g, want %.9g", text, i, v[i], want[i]);
    }
    eo_raster_free(r);
    eo_expr_free(e);
}

static void test_eval(eo_ctx *ctx) {
    const char *path = make_raster();
    CHECK(path != NULL);
    eo_dataset *ds = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, path));
    if (!ds)
        return;
    const float X = -9999; /* the default output nodata */
    /* b1 = {3, 0, nd, 2, 4, 9}, b2 = {1, 0, 5, nd, 4, -4} */
    float ndvi[6] = {(1.0f - 3.0f) / (1.0f + 3.0f), X, X, X, 0, (-4.0f - 9.0f) / (-4.0f + 9.0f)};
    expect_values(ctx, ds, "(N - R) / (N + R)", ndvi, NULL);         /* from descriptions */
    expect_values(ctx, ds, "(nir - red) / (nir + red)", ndvi, NULL); /* long names */
    float div[6] = {3, X, X, X, 1, 9.0f / -4.0f};
    expect_values(ctx, ds, "b1 / b2", div, NULL);
    float sq[6] = {sqrtf(3), 0, X, sqrtf(2), 2, 3};
    expect_values(ctx, ds, "sqrt(b1)", sq, NULL);
    float neg[6] = {X, -0.0f, X, X, X, 2};
    expect_values(ctx, ds, "sqrt(-b2)", neg, NULL);
    float wh[6] = {3, 0, X, X, 0, 9};
    expect_values(ctx, ds, "where(b1 > b2, b1, 0)", wh, NULL);
    float mm[6] = {1, 0, X, X, 4, -4};
    expect_values(ctx, ds, "min(b1, b2, 100)", mm, NULL);
    float cl[6] = {2, 0.5f, X, 2, 2, 2};
    expect_values(ctx, ds, "clamp(b1, 0.5, 2)", cl, NULL);
    float pw[6] = {-9 + 512, 512, X, -4 + 512, -16 + 512, -81 + 512};
    expect_values(ctx, ds, "-b1^2 + 2^3^2", pw, NULL);
    float lg[6] = {1, 0, X, X, 0, 1};
    expect_values(ctx, ds, "b1 > 2 and not (b2 == 4) or b1 == 9", lg, NULL);
    float ab[6] = {1, 0, 5, X, 4, 4};
    expect_values(ctx, ds, "abs(b2)", ab, NULL);
    /* constants and scale */
    eo_analytics_opts *o = NULL;
    CHECK_OK(ctx, eo_analytics_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_analytics_opts_set_constant(ctx, o, "k", 2));
    CHECK_OK(ctx, eo_analytics_opts_set_nodata(ctx, o, 7));
    float kk[6] = {6, 0, 7, 4, 8, 18};
    expect_values(ctx, ds, "k * b1", kk, o);
    CHECK_OK(ctx, eo_analytics_opts_set_scale(ctx, o, 0.5, 1));
    float sc[6] = {2 * 2.5f, 2 * 1.0f, 7, 2 * 2.0f, 2 * 3.0f, 2 * 5.5f};
    expect_values(ctx, ds, "k * b1", sc, o);
    eo_analytics_opts_free(o);
    /* unknown constant, missing band, explicit mapping */
    eo_expr *e = NULL;
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_expr_parse(ctx, &e, "b1 * foo"));
    CHECK_ST(ctx, eo_expr_eval(ctx, &r, ds, e, NULL, NULL), EO_E_EXPR_SYNTAX);
    CHECK(strstr(eo_ctx_errmsg(ctx), "foo") != NULL && r == NULL);
    eo_expr_free(e);
    CHECK_OK(ctx, eo_expr_from_index(ctx, &e, "NBR"));
    CHECK_ST(ctx, eo_expr_eval(ctx, &r, ds, e, NULL, NULL), EO_E_INDEX_BAND_MISSING);
    CHECKF(strstr(eo_ctx_errmsg(ctx), "band S2") != NULL, "%s", eo_ctx_errmsg(ctx));
    CHECK_OK(ctx, eo_analytics_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_analytics_opts_set_bands(ctx, o, "S2=1, N = 2"));
    CHECK_OK(ctx, eo_expr_eval(ctx, &r, ds, e, NULL, o));
    eo_raster_free(r);
    r = NULL;
    CHECK_OK(ctx, eo_analytics_opts_set_bands(ctx, o, "S2=3,N=2"));
    CHECK_ST(ctx, eo_expr_eval(ctx, &r, ds, e, NULL, o), EO_E_INDEX_BAND_MISSING);
    CHECK_ST(ctx, eo_analytics_opts_set_bands(ctx, o, "Q=3"), EO_E_ARG);
    CHECK_ST(ctx, eo_analytics_opts_set_bands(ctx, o, "N=x"), EO_E_ARG);
    CHECK_ST(ctx, eo_analytics_opts_set_sensor(ctx, o, "spot"), EO_E_ARG);
    CHECK_OK(ctx, eo_analytics_opts_set_sensor(ctx, o, "landsat7"));
    CHECK_OK(ctx, eo_analytics_opts_set_bands(ctx, o, NULL));
    CHECK_ST(ctx, eo_expr_eval(ctx, &r, ds, e, NULL, o), EO_E_INDEX_BAND_MISSING);
    CHECK(strstr(eo_ctx_errmsg(ctx), "layouts of") != NULL);
    eo_analytics_opts_free(o);
    eo_expr_free(e);

    /* allocation failures: a clean status, never a crash or a leak */
    int ok_runs = 0;
    for (long n = 1; n < 400; n++) {
        eo_exp_fail_alloc(n);
        e = NULL;
        r = NULL;
        eo_status st = eo_expr_parse(ctx, &e, "where(b1 > 1, (b2 - b1) / (b2 + b1), -b1)");
        if (st == EO_OK)
            st = eo_expr_eval(ctx, &r, ds, e, NULL, NULL);
        eo_exp_fail_alloc(0);
        CHECKF(st == EO_OK || st == EO_E_NOMEM, "fault %ld: %s", n, eo_status_id(st));
        if (st == EO_OK)
            ok_runs++;
        eo_raster_free(r);
        eo_expr_free(e);
    }
    CHECK(ok_runs > 0);
    eo_dataset_close(ds);
    VSIUnlink(path);
}

static eo_geom *geom(eo_ctx *ctx, const char *json) {
    eo_geom_opts *o = NULL;
    eo_geom *g = NULL;
    CHECK_OK(ctx, eo_geom_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_geom_opts_set_crs(ctx, o, "EPSG:32633"));
    CHECK_OK(ctx, eo_geom_from_geojson(ctx, &g, json, o));
    eo_geom_opts_free(o);
    return g;
}

static double sum(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static void test_coverage(eo_ctx *ctx) {
    double gt[6] = {1000, 2, 0, 2000, 0, -2};
    eo_window win = {0, 0, 40, 30};
    float c[1200], x[1200], t[1200];
    /* a square on pixel corners: columns 3..9, rows 4..11 */
    eo_geom *sq = geom(ctx, "{\"type\":\"Polygon\",\"coordinates\":[[[1006,1992],[1020,1992],"
                            "[1020,1976],[1006,1976],[1006,1992]]]}");
    CHECK_OK(ctx, eoi_aoi_coverage(ctx, sq, gt, win, EO_COVERAGE_CENTER, c));
    CHECK_OK(ctx, eoi_aoi_coverage(ctx, sq, gt, win, EO_COVERAGE_EXACT, x));
    CHECK_OK(ctx, eoi_aoi_coverage(ctx, sq, gt, win, EO_COVERAGE_ALL_TOUCHED, t));
    int bad = 0;
    for (int r = 0; r < 30; r++)
        for (int k = 0; k < 40; k++) {
            float want = k >= 3 && k < 10 && r >= 4 && r < 12 ? 1.0f : 0.0f;
            int i = r * 40 + k;
            bad += c[i] != want || x[i] != want || t[i] != want;
        }
    CHECKF(bad == 0, "%d pixels differ from the square", bad);
    eo_geom_free(sq);

    /* a triangle with a hole, general position: area in pixels is exact */
    eo_geom *tri = geom(ctx, "{\"type\":\"Polygon\",\"coordinates\":[[[1001.3,1998.1],"
                             "[1071.7,1990.3],[1030.1,1941.9],[1001.3,1998.1]],"
                             "[[1020.5,1985.5],[1030.5,1985.5],[1025.2,1975.1],[1020.5,1985.5]]]}");
    CHECK_OK(ctx, eoi_aoi_coverage(ctx, tri, gt, win, EO_COVERAGE_EXACT, x));
    CHECK_OK(ctx, eoi_aoi_coverage(ctx, tri, gt, win, EO_COVERAGE_CENTER, c));
    CHECK_OK(ctx, eoi_aoi_coverage(ctx, tri, gt, win, EO_COVERAGE_ALL_TOUCHED, t));
    double shell =
        0.5 * fabs((1071.7 - 1001.3) * (1941.9 - 1998.1) - (1030.1 - 1001.3) * (1990.3 - 1998.1));
    double hole =
        0.5 * fabs((1030.5 - 1020.5) * (1975.1 - 1985.5) - (1025.2 - 1020.5) * (1985.5 - 1985.5));
    double want = (shell - hole) / 4.0;
    CHECKF(fabs(sum(x, 1200) - want) < 1e-6 * want, "exact %.9f, area %.9f", sum(x, 1200), want);
    bad = 0;
    for (int i = 0; i < 1200; i++)
        bad += x[i] < 0 || x[i] > 1 || (c[i] > 0 && !(t[i] > 0)) || (t[i] > 0) != (x[i] > 0);
    CHECKF(bad == 0, "%d inconsistent pixels", bad);
    CHECKF(fabs(sum(c, 1200) - want) < 0.1 * want, "centre count %.1f vs area %.1f", sum(c, 1200),
           want);
    /* a rotated grid: the area in pixels is the area over |det| */
    double rgt[6] = {990, 1.6, 1.2, 2010, 1.2, -1.6};
    eo_window rw = {-10, -10, 60, 60};
    float big[3600];
    CHECK_OK(ctx, eoi_aoi_coverage(ctx, tri, rgt, rw, EO_COVERAGE_EXACT, big));
    double rwant = (shell - hole) / fabs(1.6 * -1.6 - 1.2 * 1.2);
    CHECKF(fabs(sum(big, 3600) - rwant) < 1e-6 * rwant, "rotated %.9f vs %.9f", sum(big, 3600),
           rwant);
    eo_geom_free(tri);
}

/* The bands an expression binds to: Landsat 7's layout puts red in band 3
 * and near infrared in band 4 (USGS band designations). */
static void test_bands(eo_ctx *ctx) {
    eo_dataset *ds = NULL;
    eo_expr *ndvi = NULL, *calc = NULL, *far = NULL;
    eo_analytics_opts *o = NULL;
    char *json = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, tap_data("L7_ETMs.tif")));
    CHECK_OK(ctx, eo_analytics_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_analytics_opts_set_sensor(ctx, o, "landsat7"));
    CHECK_OK(ctx, eo_expr_from_index(ctx, &ndvi, "ndvi"));
    CHECK(eo_expr_index_name(ndvi) && strcmp(eo_expr_index_name(ndvi), "NDVI") == 0);
    CHECK_OK(ctx, eo_expr_bands(ctx, &json, ndvi, ds, o));
    CHECKF(json && strstr(json, "\"N\":4") && strstr(json, "\"R\":3"), "%s", json);
    eo_free(json);
    CHECK_OK(ctx, eo_expr_parse(ctx, &calc, "b1 + b6"));
    CHECK(eo_expr_index_name(calc) == NULL);
    CHECK_OK(ctx, eo_expr_bands(ctx, &json, calc, ds, NULL));
    CHECKF(json && strstr(json, "\"b1\":1") && strstr(json, "\"b6\":6"), "%s", json);
    eo_free(json);
    json = NULL;
    CHECK_OK(ctx, eo_expr_parse(ctx, &far, "b7"));
    CHECK(eo_expr_bands(ctx, &json, far, ds, NULL) != EO_OK && json == NULL);
    eo_expr_free(ndvi);
    eo_expr_free(calc);
    eo_expr_free(far);
    eo_analytics_opts_free(o);
    eo_dataset_close(ds);
}

int main(void) {
    eo_ctx *ctx = NULL;
    CHECK_OK(ctx, eo_ctx_new(&ctx));
    eo_ctx_set_threads(ctx, 2);
    test_syntax(ctx);
    test_catalog(ctx);
    test_eval(ctx);
    test_coverage(ctx);
    test_bands(ctx);
    eo_ctx_free(ctx);
    return tap_done();
}
