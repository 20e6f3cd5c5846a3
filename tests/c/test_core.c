/* test_core.c - context, status ids, limits, checked arithmetic, allocation
 * faults, JSON helpers, cancel and progress. */
#include "eoi.h"
#include "tap.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int log_count;
static void on_log(void *user, int level, const char *msg) {
    (void)level;
    (void)msg;
    (*(int *)user)++;
}

static int stop_at_half(void *user, double f, const char *stage) {
    (void)user;
    (void)stage;
    return f >= 0.5;
}

static eo_status square_job(void *user, int64_t i, int32_t worker) {
    (void)worker;
    ((int64_t *)user)[i] = i * i;
    return EO_OK;
}

static eo_status fail_job(void *user, int64_t i, int32_t worker) {
    (void)user;
    (void)worker;
    return i == 37 ? EO_E_IO_READ : EO_OK;
}

int main(void) {
    /* versions */
    CHECK(eo_version() == EO_VERSION_NUMBER);
    CHECK(strcmp(eo_version_string(), EO_VERSION_STRING) == 0);
    CHECK(EO_AT_LEAST_VERSION(1, 0, 0));
    CHECK(!EO_AT_LEAST_VERSION(1, 0, 1) || EO_VERSION_NUMBER >= 10001);
    json_object *bi = json_tokener_parse(eo_build_info());
    CHECKF(bi != NULL, "build info is JSON: %s", eo_build_info());
    json_object *v;
    CHECK(bi && json_object_object_get_ex(bi, "gdal", &v));
    CHECK(bi && json_object_object_get_ex(bi, "simd", &v));
    json_object_put(bi);

    /* status ids: stable, distinct, detail falls back to category */
    CHECK(strcmp(eo_status_id(EO_E_GEOMETRY), "geometry.Invalid") == 0);
    CHECK(strcmp(eo_status_id(EO_E_NODATA_IN_AOI), "source.NoDataInAOI") == 0);
    CHECK(strcmp(eo_status_id(EO_E_IO_READ), "io.Read") == 0);
    CHECK(strcmp(eo_status_id(EO_E_IO_WRITE), "io.Write") == 0);
    CHECK(strcmp(eo_status_id(EO_E_ARG), "arg.Invalid") == 0);
    CHECK(strcmp(eo_status_id(EO_E_NOMEM), "memory.Exhausted") == 0);
    CHECK(strcmp(eo_status_id(EO_E_CANCELLED), "cancelled") == 0);
    CHECK(strcmp(eo_status_id(EO_E_AOI_TOO_LARGE), "aoi.TooLarge") == 0);
    CHECK(strcmp(eo_status_id(EO_E_IO | (99 << 8)), "io.Error") == 0);
    CHECK(strcmp(eo_status_id(12345), "unknown") == 0);
    CHECK(EO_STATUS_CATEGORY(EO_E_IO_READ) == EO_E_IO);

    eo_ctx *ctx = NULL;
    CHECK(eo_ctx_new(NULL) == EO_E_ARG);
    CHECK_OK(ctx, eo_ctx_new(&ctx));
    CHECK(ctx != NULL);
    CHECK(eo_ctx_status(ctx) == EO_OK && strcmp(eo_ctx_errmsg(ctx), "") == 0);

    /* threads */
    CHECK(eo_ctx_get_threads(ctx) >= 1);
    CHECK_OK(ctx, eo_ctx_set_threads(ctx, 3));
    CHECK(eo_ctx_get_threads(ctx) == 3);
    CHECK_ST(ctx, eo_ctx_set_threads(ctx, -1), EO_E_ARG);
    CHECK(eo_ctx_status(ctx) == EO_E_ARG && strstr(eo_ctx_errmsg(ctx), "-1"));
    eo_ctx_clear_error(ctx);
    CHECK(eo_ctx_status(ctx) == EO_OK);

    /* limits */
    CHECK(eo_ctx_get_limit(ctx, EO_LIMIT_AOI_VERTICES) == 50000);
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_VERTICES, 10));
    CHECK(eo_ctx_get_limit(ctx, EO_LIMIT_AOI_VERTICES) == 10);
    CHECK(eo_ctx_get_limit(ctx, EO_LIMIT_AOI_BYTES) == (int64_t)64 << 20);
    CHECK(eo_ctx_get_limit(ctx, EO_LIMIT_AOI_FEATURES) == 10000);
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_FEATURES, 3));
    CHECK(eo_ctx_get_limit(ctx, EO_LIMIT_AOI_FEATURES) == 3);
    CHECK_ST(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_BYTES, 0), EO_E_ARG);
    CHECK_ST(ctx, eo_ctx_set_limit(ctx, 99, 10), EO_E_ARG);
    CHECK_ST(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_MAX_BYTES, 0), EO_E_ARG);
    CHECK(eo_ctx_get_limit(ctx, 99) == -1);

    /* checked arithmetic and raster size limits */
    size_t n;
    CHECK(eoi_mul_size(&n, SIZE_MAX / 2 + 1, 2));
    CHECK(!eoi_mul_size3(&n, 1000, 1000, 3) && n == 3000000);
    CHECK_ST(ctx, eoi_check_raster_size(ctx, &n, 100000, 100000, 3, 1, "test"), EO_E_LIMIT);
    CHECK_ST(ctx, eoi_check_raster_size(ctx, &n, INT64_MAX, 2, 1, 1, "test"), EO_E_LIMIT);
    CHECK_ST(ctx, eoi_check_raster_size(ctx, &n, -5, 2, 1, 1, "test"), EO_E_ARG);
    CHECK_OK(ctx, eoi_check_raster_size(ctx, &n, 10, 20, 3, 4, "test"));
    CHECK(n == 2400);

    /* allocation: limit and fault injection */
    CHECK(eoi_malloc(ctx, (size_t)1 << 62) == NULL && eo_ctx_status(ctx) == EO_E_LIMIT);
    eo_exp_fail_alloc(1);
    CHECK(eoi_malloc(ctx, 16) == NULL && eo_ctx_status(ctx) == EO_E_NOMEM);
    eo_exp_fail_alloc(0);
    void *p = eoi_malloc(ctx, 16);
    CHECK(p != NULL);
    eoi_free(p);

    /* log sink and levels */
    eo_ctx_set_log(ctx, on_log, &log_count, EO_LOG_INFO);
    eoi_log(ctx, EO_LOG_DEBUG, "hidden %d", 1);
    eoi_log(ctx, EO_LOG_WARN, "shown %d", 2);
    CHECK(log_count == 1);
    eo_ctx_set_log(ctx, NULL, NULL, 0);

    /* JSON helpers: exact shortest numbers, strict parsing, depth limit */
    char *s = NULL;
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, eoi_json_double(28.5));
    json_object_array_add(arr, eoi_json_double(0.1));
    json_object_array_add(arr, eoi_json_double(349));
    json_object_array_add(arr, eoi_json_double(NAN));
    CHECK_OK(ctx, eoi_json_dump(ctx, &s, arr, false));
    CHECKF(s && strcmp(s, "[28.5,0.1,349,null]") == 0, "got %s", s ? s : "(null)");
    eo_free(s);
    json_object_put(arr);
    json_object *o = NULL;
    CHECK_ST(ctx, eoi_json_parse(ctx, &o, "{\"a\": NaN}", "params", EO_E_PARAM), EO_E_PARAM);
    CHECK_ST(ctx, eoi_json_parse(ctx, &o, "{\"a\": 1} x", "params", EO_E_PARAM), EO_E_PARAM);
    CHECK(strstr(eo_ctx_errmsg(ctx), "offset"));
    CHECK_ST(ctx, eoi_json_parse(ctx, &o, "{\"a\": [1,", "params", EO_E_PARAM), EO_E_PARAM);
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 199);
    deep[399] = 0;
    CHECK_ST(ctx, eoi_json_parse(ctx, &o, deep, "params", EO_E_PARAM), EO_E_PARAM);
    CHECK(strstr(eo_ctx_errmsg(ctx), "nesting"));
    CHECK_OK(ctx, eoi_json_parse(ctx, &o, " {\"a\": [1, 2.5]} \n", "params", EO_E_PARAM));
    json_object_put(o);
    /* top-level scalars are JSON too; empty text is not */
    CHECK_OK(ctx, eoi_json_parse(ctx, &o, "42", "params", EO_E_PARAM));
    CHECK(o && json_object_get_int(o) == 42);
    json_object_put(o);
    CHECK_OK(ctx, eoi_json_parse(ctx, &o, "null", "params", EO_E_PARAM));
    CHECK(o == NULL);
    CHECK_ST(ctx, eoi_json_parse(ctx, &o, "", "params", EO_E_PARAM), EO_E_PARAM);
    CHECK_ST(ctx, eoi_json_parse(ctx, &o, "   ", "params", EO_E_PARAM), EO_E_PARAM);
    CHECK_ST(ctx, eoi_json_parse(ctx, &o, "42 43", "params", EO_E_PARAM), EO_E_PARAM);

    /* progress and cancel */
    eo_ctx_set_progress(ctx, stop_at_half, NULL);
    CHECK_OK(ctx, eoi_progress(ctx, 0.25, "read"));
    CHECK_ST(ctx, eoi_progress(ctx, 0.5, "read"), EO_E_CANCELLED);
    eo_ctx_set_progress(ctx, NULL, NULL);
    eo_ctx_cancel(ctx);
    CHECK_ST(ctx, eoi_progress(ctx, 0.1, "read"), EO_E_CANCELLED);
    eo_ctx_reset_cancel(ctx);
    CHECK_OK(ctx, eoi_progress(ctx, 0.1, "read"));

    /* parallel for: every item exactly once; first failure returned */
    int64_t sq[1000];
    memset(sq, 0xff, sizeof sq);
    CHECK_OK(ctx, eoi_parallel_for(ctx, 1000, square_job, sq));
    int good = 1;
    for (int i = 0; i < 1000; i++)
        good &= sq[i] == (int64_t)i * i;
    CHECK(good);
    CHECK_ST(ctx, eoi_parallel_for(ctx, 1000, fail_job, NULL), EO_E_IO_READ);

    eo_ctx_free(ctx);
    eo_ctx_free(NULL);
    eo_free(NULL);
    return tap_done();
}
