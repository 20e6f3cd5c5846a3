/* test_segment.c - sliding-window segmentation through the C API: tiles
 * against a whole-raster eo_model_run (softmax and argmax computed here),
 * the same pixels on any thread count, option checks, and allocation
 * failures that leave no output behind. */
#define _GNU_SOURCE /* mkdtemp */
#include "../../src/infer/infer_int.h"
#include "../../src/jobs/jobs_int.h"
#include "tap.h"

#include <dirent.h>
#include <gdal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define W 100
#define H 72
#define K 3

static char fcn[1024];
static char dir[1024]; /* a scratch folder of this run */

static const char *path_in(char *buf, const char *name) {
    snprintf(buf, 1200, "%s/%s", dir, name);
    return buf;
}

static float *read_all(const char *path, int bands, GDALDataType dt, size_t es) {
    GDALDatasetH h = GDALOpen(path, GA_ReadOnly);
    if (!h)
        return NULL;
    int w = GDALGetRasterXSize(h), hh = GDALGetRasterYSize(h);
    float *buf = malloc((size_t)w * (size_t)hh * (size_t)bands * es);
    if (GDALDatasetRasterIO(h, GF_Read, 0, 0, w, hh, buf, w, hh, dt, bands, NULL, 0, 0, 0) !=
        CE_None) {
        free(buf);
        buf = NULL;
    }
    GDALClose(h);
    return buf;
}

/* A 3-band float32 raster with smooth structure and noise. */
static void make_input(eo_ctx *ctx, const char *path, float *pix) {
    eo_raster *r = NULL;
    CHECK_OK(ctx, eo_raster_new(ctx, &r, W, H, 3, EO_DT_F32));
    float *d = eo_raster_data(r);
    unsigned s = 12345;
    for (int b = 0; b < 3; b++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                s = s * 1103515245u + 12345u;
                float noise = (float)((s >> 16) & 1023) / 1023.0f;
                d[(b * H + y) * W + x] = 0.5f * sinf(0.11f * (float)x * (float)(b + 1)) +
                                         0.3f * cosf(0.07f * (float)y) + 0.4f * noise;
            }
    memcpy(pix, d, sizeof(float) * 3 * W * H);
    double gt[6] = {300000, 10, 0, 5000000, 0, -10};
    CHECK_OK(ctx, eo_raster_set_geotransform(ctx, r, gt));
    CHECK_OK(ctx, eo_raster_set_crs(ctx, r, "EPSG:32633"));
    CHECK_OK(ctx, eo_raster_write(ctx, r, path, NULL));
    eo_raster_free(r);
}

static void softmax(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float m = p[i], s = 0;
        for (int c = 1; c < K; c++)
            m = fmaxf(m, p[c * n + i]);
        for (int c = 0; c < K; c++)
            s += (p[c * n + i] = expf(p[c * n + i] - m));
        for (int c = 0; c < K; c++)
            p[c * n + i] /= s;
    }
}

static eo_model *load(eo_ctx *ctx, int64_t n, int64_t h, int64_t w) {
    eo_model_opts *o = NULL;
    eo_model *m = NULL;
    int64_t shape[4] = {n, 3, h, w};
    CHECK_OK(ctx, eo_model_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_model_opts_set_input_shape(ctx, o, shape, 4));
    CHECK_OK(ctx, eo_model_load(ctx, &m, fcn, o));
    eo_model_opts_free(o);
    return m;
}

static void test_tiles_vs_whole(eo_ctx *ctx, const char *in, const float *pix) {
    size_t n = (size_t)W * H;
    float *ref = malloc(sizeof(float) * K * n);
    eo_model *whole = load(ctx, 1, H, W);
    int64_t shape[4] = {1, 3, H, W};
    CHECK_OK(ctx, eo_model_run(ctx, whole, pix, shape, 4, ref, K * n));
    softmax(ref, n);
    eo_model_free(whole);

    eo_model *m = load(ctx, 1, 16, 16); /* re-planned for the tiles by eo_segment */
    eo_dataset *ds = NULL;
    eo_segment_opts *o = NULL;
    char *json = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, in));
    CHECK_OK(ctx, eo_segment_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_segment_opts_set_tile(ctx, o, 32));
    CHECK_OK(ctx, eo_segment_opts_set_overlap(ctx, o, 16));
    CHECK_OK(ctx, eo_segment_opts_set_batch(ctx, o, 3));
    float *got[3] = {NULL, NULL, NULL};
    eo_cog_opts *co = NULL; /* run 3: other COG options, the same pixels */
    CHECK_OK(ctx, eo_cog_opts_new(ctx, &co));
    CHECK_OK(ctx, eo_cog_opts_set_compress(ctx, co, "deflate"));
    CHECK_OK(ctx, eo_cog_opts_set_predictor(ctx, co, "float"));
    CHECK_OK(ctx, eo_cog_opts_set_blocksize(ctx, co, 256));
    CHECK_OK(ctx, eo_cog_opts_set_overviews(ctx, co, 0));
    for (int t = 0; t < 3; t++) {
        eo_ctx_set_threads(ctx, t ? 2 : 1);
        CHECK_OK(ctx, eo_segment_opts_set_cog_opts(ctx, o, t == 2 ? co : NULL));
        char out[1200];
        path_in(out, t == 2 ? "p3.tif" : t ? "p2.tif" : "p1.tif");
        CHECK_OK(ctx, eo_segment(ctx, &json, out, m, ds, NULL, o));
        CHECK(json && strstr(json, "\"tiles_run\":") != NULL);
        eo_free(json);
        json = NULL;
        got[t] = read_all(out, K, GDT_Float32, sizeof(float));
        CHECK(got[t] != NULL);
    }
    eo_ctx_set_threads(ctx, 2);
    if (got[0] && got[1] && got[2]) {
        double err = 0, err_edge = 0;
        for (int c = 0; c < K; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    size_t i = (size_t)c * n + (size_t)y * W + (size_t)x;
                    double e = fabs(got[0][i] - ref[i]);
                    if (y >= 8 && y < H - 8 && x >= 8 && x < W - 8)
                        err = fmax(err, e);
                    else
                        err_edge = fmax(err_edge, e);
                }
        CHECKF(err < 1e-4, "tiles vs whole run: max error %g away from the edge", err);
        CHECKF(err_edge < 0.25, "near the edge (mirrored vs zero padding): %g", err_edge);
        CHECK(memcmp(got[0], got[1], sizeof(float) * K * n) == 0); /* threads: same bytes */
        CHECK(memcmp(got[0], got[2], sizeof(float) * K * n) == 0); /* COG options: same bytes */
        char cpath[1200];
        unsigned char *cls =
            (unsigned char *)read_all(path_in(cpath, "p1_classes.tif"), 1, GDT_Byte, 1);
        int same = cls != NULL;
        for (size_t i = 0; cls && i < n; i++) {
            int a = 0;
            for (int c = 1; c < K; c++)
                if (got[0][c * n + i] > got[0][a * n + i])
                    a = c;
            same &= cls[i] == a;
        }
        CHECK(same);
        free(cls);
    }
    for (int t = 0; t < 3; t++)
        free(got[t]);
    free(ref);
    eo_cog_opts_free(co);
    eo_segment_opts_free(o);
    eo_dataset_close(ds);
    eo_model_free(m);
}

static void test_options(eo_ctx *ctx) {
    eo_segment_opts *o = NULL;
    CHECK_OK(ctx, eo_segment_opts_new(ctx, &o));
    CHECK_ST(ctx, eo_segment_opts_set_tile(ctx, o, 4), EO_E_ARG);
    CHECK_ST(ctx, eo_segment_opts_set_overlap(ctx, o, -1), EO_E_ARG);
    CHECK_ST(ctx, eo_segment_opts_set_batch(ctx, o, 0), EO_E_ARG);
    CHECK_ST(ctx, eo_segment_opts_set_scale(ctx, o, 0), EO_E_ARG);
    double bad_std[2] = {1, 0};
    CHECK_ST(ctx, eo_segment_opts_set_std(ctx, o, bad_std, 2), EO_E_ARG);
    double nan_mean[1] = {NAN};
    CHECK_ST(ctx, eo_segment_opts_set_mean(ctx, o, nan_mean, 1), EO_E_ARG);
    CHECK_ST(ctx, eo_segment_opts_set_threshold(ctx, o, 1.5), EO_E_ARG);
    CHECK_ST(ctx, eo_segment_opts_set_activation(ctx, o, "relu"), EO_E_ARG);
    int32_t zero = 0;
    CHECK_ST(ctx, eo_segment_opts_set_bands(ctx, o, &zero, 1), EO_E_ARG);
    CHECK_OK(ctx, eo_segment_opts_set_activation(ctx, o, "Softmax"));
    CHECK_OK(ctx, eo_segment_opts_set_classes_path(ctx, o, NULL));
    eo_segment_opts_free(o);
    eo_segment_opts_free(NULL);
}

/* Files in the scratch folder whose names start with prefix. */
static int count_files(const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void test_alloc_failures(eo_ctx *ctx, const char *in) {
    eo_model *m = load(ctx, 1, 32, 32);
    eo_dataset *ds = NULL;
    eo_segment_opts *o = NULL;
    CHECK_OK(ctx, eo_dataset_open(ctx, &ds, in));
    CHECK_OK(ctx, eo_segment_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_segment_opts_set_tile(ctx, o, 32));
    CHECK_OK(ctx, eo_segment_opts_set_overlap(ctx, o, 8));
    CHECK_OK(ctx, eo_segment_opts_set_batch(ctx, o, 1));
    char out[1200], cout[1200];
    path_in(out, "segfault_p.tif");
    path_in(cout, "segfault_p_classes.tif");
    int ok_runs = 0, failed = 0, left = 0;
    for (long n = 1; n < 2000 && !ok_runs; n++) {
        unlink(out);
        unlink(cout);
        eo_exp_fail_alloc(n);
        eo_status st = eo_segment(ctx, NULL, out, m, ds, NULL, o);
        eo_exp_fail_alloc(0);
        if (st == EO_OK) {
            ok_runs++;
            continue;
        }
        failed++;
        left += count_files("segfault_p") != 0;
    }
    CHECK(ok_runs == 1);
    CHECKF(failed > 20, "%d failing runs", failed);
    CHECKF(left == 0, "%d failed runs left files behind", left);
    CHECK(count_files("segfault_p") == 2);
    unlink(out);
    unlink(cout);
    eo_segment_opts_free(o);
    eo_dataset_close(ds);
    eo_model_free(m);
}

/* The seam-tile cache: least recently used entries go first, but never
 * one got since the last unpin (a strip blends it later). */
static void test_tile_cache_pins(eo_ctx *ctx) {
    eoi_tile_cache *c = NULL;
    CHECK_OK(ctx, eoi_tile_cache_new(ctx, &c, 2));
    float p[4];
    uint8_t nod[4] = {0};
    const float *got = NULL;
    const uint8_t *gnod = NULL;
    eoi_tile_key key[3];
    for (int i = 0; i < 3; i++)
        key[i] = (eoi_tile_key){0, i, 1, 2, 2, 2, 2};
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 4; j++)
            p[j] = (float)(10 * i + j);
        eoi_tile_cache_put(ctx, c, &key[i], p, nod);
    }
    CHECK(eoi_tile_cache_get(c, &key[0], &got, &gnod) && got[3] == 3.0f);
    CHECK(eoi_tile_cache_get(c, &key[1], &got, &gnod) && got[3] == 13.0f);
    /* both pinned: a third tile is not kept, the two stay as they were */
    for (int j = 0; j < 4; j++)
        p[j] = 20.0f + (float)j;
    eoi_tile_cache_put(ctx, c, &key[2], p, nod);
    CHECK(!eoi_tile_cache_get(c, &key[2], &got, &gnod));
    CHECK(eoi_tile_cache_get(c, &key[0], &got, &gnod) && got[0] == 0.0f && got[3] == 3.0f);
    CHECK(eoi_tile_cache_get(c, &key[1], &got, &gnod) && got[0] == 10.0f && got[3] == 13.0f);
    /* unpinned: the least recently used one (key 0) makes room */
    eoi_tile_cache_unpin(c);
    eoi_tile_cache_put(ctx, c, &key[2], p, nod);
    CHECK(eoi_tile_cache_get(c, &key[2], &got, &gnod) && got[3] == 23.0f);
    CHECK(!eoi_tile_cache_get(c, &key[0], &got, &gnod));
    CHECK(eoi_tile_cache_get(c, &key[1], &got, &gnod) && got[3] == 13.0f);
    eoi_tile_cache_free(c);
}

int main(void) {
    snprintf(fcn, sizeof fcn, "%s", tap_fixture("segment_fcn.onnx"));
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    eo_ctx_set_threads(ctx, 2);
    snprintf(dir, sizeof dir, "%s", tap_tmp("eoproc-segment-XXXXXX"));
    if (!mkdtemp(dir))
        return 1;
    static float pix[3 * W * H];
    char in[1200], buf[1200];
    path_in(in, "in.tif");
    make_input(ctx, in, pix);
    test_tiles_vs_whole(ctx, in, pix);
    test_options(ctx);
    test_alloc_failures(ctx, in);
    test_tile_cache_pins(ctx);
    const char *names[] = {"in.tif",         "p1.tif", "p1_classes.tif", "p2.tif",
                           "p2_classes.tif", "p3.tif", "p3_classes.tif"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(path_in(buf, names[i]));
    CHECKF(rmdir(dir) == 0, "scratch folder %s: not empty", dir);
    eo_ctx_free(ctx);
    return tap_done();
}
