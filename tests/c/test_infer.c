/* test_infer.c - the inference core against PyTorch: every fixture model
 * of tests/infer/fixtures (made by tests/infer/make_fixtures.py with
 * PyTorch, which also saved PyTorch's outputs) must give PyTorch's outputs
 * to 1e-4 on every SIMD path this CPU has, including the portable one.
 * Then bad input: truncated and corrupted files, an unsupported operator,
 * missing input shapes, wrong run arguments, allocation failures, and
 * concurrent runs of one model from several threads. */
#include "eoi.h"
#include "tap.h"

#include "../../src/infer/infer_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *read_bytes(const char *path, size_t *n) { return tap_read(path, n); }

static float *read_f32(const char *path, size_t *n) {
    float *p = (float *)(void *)read_bytes(path, n);
    *n /= sizeof(float);
    return p;
}

typedef struct tcase {
    char name[128], model[128], in[128], out[128];
    int64_t shape[4];
} tcase;

static int load_cases(tcase *cs, int cap) {
    FILE *f = fopen(tap_fixture("cases.txt"), "r");
    int n = 0;
    if (!f)
        return 0;
    while (n < cap &&
           fscanf(f, "%127s %127s %127s %127s %lld %lld %lld %lld", cs[n].name, cs[n].model,
                  cs[n].in, cs[n].out, (long long *)&cs[n].shape[0], (long long *)&cs[n].shape[1],
                  (long long *)&cs[n].shape[2], (long long *)&cs[n].shape[3]) == 8)
        n++;
    fclose(f);
    return n;
}

static double run_case(eo_ctx *ctx, const tcase *c) {
    eo_model_opts *o = NULL;
    eo_model *m = NULL;
    size_t nin = 0, nout = 0;
    float *in = read_f32(tap_fixture(c->in), &nin), *want = read_f32(tap_fixture(c->out), &nout);
    double err = INFINITY;
    CHECK_OK(ctx, eo_model_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_model_opts_set_input_shape(ctx, o, c->shape, 4));
    CHECK_OK(ctx, eo_model_load(ctx, &m, tap_fixture(c->model), o));
    if (m && in && want) {
        int64_t od[8];
        int32_t ond = 0;
        CHECK_OK(ctx, eo_model_output_shape(ctx, m, od, 8, &ond));
        size_t count = 1;
        for (int i = 0; i < ond; i++)
            count *= (size_t)od[i];
        CHECKF(count == nout, "%s: output has %zu values, PyTorch's %zu", c->name, count, nout);
        float *got = malloc(count * sizeof *got);
        CHECK_OK(ctx, eo_model_run(ctx, m, in, c->shape, 4, got, count));
        err = 0.0;
        for (size_t i = 0; i < count && i < nout; i++) {
            double d = fabs((double)got[i] - (double)want[i]);
            if (!(d <= err))
                err = d; /* NaN becomes the error */
        }
        free(got);
    }
    eo_model_free(m);
    eo_model_opts_free(o);
    free(in);
    free(want);
    return err;
}

static void test_against_pytorch(eo_ctx *ctx) {
    tcase cs[64];
    int n = load_cases(cs, 64);
    CHECKF(n >= 18, "cases.txt lists %d cases", n);
    const char *paths[] = {"avx512", "avx2", "portable"};
    for (int th = 1; th <= 2; th++) {
        eo_ctx_set_threads(ctx, th);
        for (int p = 0; p < 3; p++) {
            if (!eo_exp_force_kernels(paths[p]))
                continue;
            for (int i = 0; i < n; i++) {
                double err = run_case(ctx, &cs[i]);
                CHECKF(err <= 1e-4, "%s on %s, %d thread(s): max abs error %.3g", cs[i].name,
                       paths[p], th, err);
                printf("# %-8s %d %-30s max abs error %.2e\n", paths[p], th, cs[i].name, err);
            }
        }
    }
    eo_exp_force_kernels(NULL);
}

static void test_bad_files(eo_ctx *ctx) {
    size_t n = 0;
    uint8_t *data = read_bytes(tap_fixture("classifier_op17.onnx"), &n);
    CHECK(data && n > 1000);
    if (!data)
        return;
    eo_model *m = NULL;
    /* every truncation fails cleanly with model.Invalid */
    int bad = 0;
    for (size_t len = 0; len < n; len += 1 + len / 8) {
        eo_status st = eo_model_load_memory(ctx, &m, data, len, NULL);
        if (st != EO_E_MODEL || m)
            bad++;
        eo_model_free(m);
        m = NULL;
    }
    CHECKF(bad == 0, "%d truncations did not fail with model.Invalid", bad);
    CHECK_ST(ctx, eo_model_load_memory(ctx, &m, "\x0a\xff\xff\xff\xff\x0f", 6, NULL), EO_E_MODEL);
    CHECK(strstr(eo_ctx_errmsg(ctx), "corrupt or truncated") != NULL);
    /* corrupted bytes: a clean status or a model that runs, never a crash */
    srand(7);
    uint8_t *copy = malloc(n);
    float in[3 * 32 * 32] = {0}, out[64];
    int64_t shape[4] = {1, 3, 32, 32};
    for (int it = 0; it < 60; it++) {
        memcpy(copy, data, n);
        for (int k = 0; k < 1 + it % 5; k++)
            copy[(size_t)rand() % n] = (uint8_t)rand();
        eo_status st = eo_model_load_memory(ctx, &m, copy, n, NULL);
        if (st == EO_OK) {
            eo_status rs = eo_model_run(ctx, m, in, shape, 4, out, 64);
            CHECKF(rs == EO_OK || rs == EO_E_ARG, "run of a corrupted model: %s",
                   eo_ctx_errmsg(ctx));
        } else {
            int cat = EO_STATUS_CATEGORY(st);
            CHECKF(cat == EO_E_MODEL || cat == EO_E_UNSUPPORTED || cat == EO_E_ARG ||
                       cat == EO_E_LIMIT,
                   "corrupted model: %s [%s]", eo_ctx_errmsg(ctx), eo_status_id(st));
        }
        eo_model_free(m);
        m = NULL;
    }
    free(copy);
    free(data);
    CHECK_ST(ctx, eo_model_load(ctx, &m, tap_fixture("missing.onnx"), NULL), EO_E_IO_NOT_FOUND);
    CHECK(m == NULL);
}

static void test_unsupported(eo_ctx *ctx) {
    eo_model *m = NULL;
    CHECK_ST(ctx, eo_model_load(ctx, &m, tap_fixture("unsupported_det.onnx"), NULL),
             EO_E_MODEL_UNSUPPORTED_OP);
    CHECKF(strstr(eo_ctx_errmsg(ctx), "Det") && strstr(eo_ctx_errmsg(ctx), "my_det"),
           "message names op and node: %s", eo_ctx_errmsg(ctx));
    CHECK(strcmp(eo_status_id(eo_ctx_status(ctx)), "model.UnsupportedOp") == 0);
    /* a dynamic input needs a shape */
    CHECK_ST(ctx, eo_model_load(ctx, &m, tap_fixture("deeplabv3_op17.onnx"), NULL), EO_E_ARG);
    CHECK(strstr(eo_ctx_errmsg(ctx), "dynamic") != NULL);
    /* a fixed input must agree */
    eo_model_opts *o = NULL;
    int64_t wrong[4] = {1, 3, 32, 32}, ok[4] = {1, 3, 64, 64}, od[8];
    int32_t nd = 0;
    CHECK_OK(ctx, eo_model_opts_new(ctx, &o));
    CHECK_ST(ctx, eo_model_opts_set_input_shape(ctx, o, wrong, 0), EO_E_ARG);
    CHECK_OK(ctx, eo_model_opts_set_input_shape(ctx, o, wrong, 4));
    CHECK_ST(ctx, eo_model_load(ctx, &m, tap_fixture("unet_plain_op17.onnx"), o), EO_E_ARG);
    CHECK_OK(ctx, eo_model_load(ctx, &m, tap_fixture("unet_plain_op17.onnx"), NULL));
    CHECK_OK(ctx, eo_model_input_shape(ctx, m, od, 8, &nd));
    CHECK(nd == 4 && od[2] == 64);
    CHECK_ST(ctx, eo_model_input_shape(ctx, m, od, 2, &nd), EO_E_ARG);
    float *in = calloc(3 * 64 * 64, sizeof *in), *out = calloc(2 * 64 * 64, sizeof *out);
    CHECK_ST(ctx, eo_model_run(ctx, m, in, wrong, 4, out, 2 * 64 * 64), EO_E_ARG);
    CHECK_ST(ctx, eo_model_run(ctx, m, in, ok, 4, out, 100), EO_E_ARG);
    CHECK_ST(ctx, eo_model_run(ctx, m, NULL, ok, 4, out, 2 * 64 * 64), EO_E_ARG);
    char *info = NULL;
    CHECK_OK(ctx, eo_model_info(ctx, &info, m));
    CHECK(info && strstr(info, "\"flops\""));
    eo_free(info);
    /* cancellation */
    eo_ctx_cancel(ctx);
    CHECK_ST(ctx, eo_model_run(ctx, m, in, ok, 4, out, 2 * 64 * 64), EO_E_CANCELLED);
    eo_ctx_reset_cancel(ctx);
    free(in);
    free(out);
    eo_model_free(m);
    eo_model_opts_free(o);
}

static void test_alloc_failures(eo_ctx *ctx) {
    size_t n = 0;
    uint8_t *data = read_bytes(tap_fixture("classifier_op17.onnx"), &n);
    int fails = 0, unclean = 0;
    for (long k = 1; k < 100000; k += 1 + k / 16) {
        eo_model *m = NULL;
        eo_exp_fail_alloc(k);
        eo_status st = eo_model_load_memory(ctx, &m, data, n, NULL);
        eo_exp_fail_alloc(0);
        eo_model_free(m);
        if (st == EO_OK)
            break;
        fails++;
        if (st != EO_E_NOMEM || m) {
            if (unclean++ == 0)
                printf("# alloc %ld: %s [%s]\n", k, eo_ctx_errmsg(ctx), eo_status_id(st));
        }
    }
    CHECKF(fails > 10 && unclean == 0, "%d failed loads, %d without memory.Exhausted", fails,
           unclean);
    free(data);
}

typedef struct thr {
    eo_model *m;
    const float *in;
    float *out;
    size_t n;
    eo_status st;
} thr;

static void *run_thread(void *arg) {
    thr *t = arg;
    eo_ctx *c = NULL;
    if (eo_ctx_new(&c) != EO_OK) {
        t->st = EO_E_NOMEM;
        return NULL;
    }
    int64_t shape[4] = {1, 3, 64, 64};
    for (int i = 0; i < 3 && t->st == EO_OK; i++)
        t->st = eo_model_run(c, t->m, t->in, shape, 4, t->out, t->n);
    eo_ctx_free(c);
    return NULL;
}

static void test_threads(eo_ctx *ctx) {
    size_t nin = 0, nout = 0;
    float *in = read_f32(tap_fixture("resunet18_op13_l7.in.f32"), &nin);
    float *want = read_f32(tap_fixture("resunet18_op13_l7.out.f32"), &nout);
    eo_model *m = NULL;
    CHECK_OK(ctx, eo_model_load(ctx, &m, tap_fixture("resunet18_op13.onnx"), NULL));
    thr t[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        t[i] = (thr){m, in, malloc(nout * sizeof(float)), nout, EO_OK};
        pthread_create(&th[i], NULL, run_thread, &t[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        double err = 0;
        for (size_t j = 0; j < nout; j++)
            err = fmax(err, fabs((double)t[i].out[j] - want[j]));
        CHECKF(t[i].st == EO_OK && err <= 1e-4, "thread %d: %s, error %.3g", i,
               eo_status_id(t[i].st), err);
        free(t[i].out);
    }
    eo_model_free(m);
    free(in);
    free(want);
}

/* Activations keep NaN (as PyTorch's relu, leaky_relu, clamp, hardsigmoid
 * and hardswish do) on every SIMD path, in the vector body and the tail,
 * and infinities are clipped like any value. */
static void test_nan(void) {
    const char *paths[] = {"avx512", "avx2", "portable"};
    const eoi_act acts[] = {{EOI_ACT_RELU, 0, 0},        {EOI_ACT_LEAKY, 0.1f, 0},
                            {EOI_ACT_CLIP, -1.0f, 1.0f}, {EOI_ACT_HSIGMOID, 0.2f, 0.5f},
                            {EOI_ACT_HSWISH, 0, 0},      {EOI_ACT_SIGMOID, 0, 0},
                            {EOI_ACT_TANH, 0, 0}};
    for (int p = 0; p < 3; p++) {
        if (!eo_exp_force_kernels(paths[p]))
            continue;
        const eoi_kernels *k = eoi_kernels_get();
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
            float x[37];
            for (int i = 0; i < 37; i++)
                x[i] = i % 3 == 0 ? NAN : (i % 3 == 1 ? -INFINITY : 2.0f);
            k->act(x, 37, 0.0f, &acts[a]);
            int nan_ok = 1, fin_ok = 1;
            for (int i = 0; i < 37; i++) {
                if (i % 3 == 0)
                    nan_ok &= isnan(x[i]);
                else if (acts[a].kind == EOI_ACT_CLIP)
                    fin_ok &= x[i] == (i % 3 == 1 ? -1.0f : 1.0f);
            }
            CHECKF(nan_ok && fin_ok, "%s: activation %d: NaN %s, clip %s", paths[p],
                   (int)acts[a].kind, nan_ok ? "kept" : "lost", fin_ok ? "ok" : "wrong");
        }
        float a[37], b[37], o[37];
        for (int i = 0; i < 37; i++) {
            a[i] = i % 2 ? NAN : -2.0f;
            b[i] = 0.25f;
        }
        k->binop(o, a, b, 37, EOI_BIN_PRELU);
        int ok = 1;
        for (int i = 0; i < 37; i++)
            ok &= i % 2 ? isnan(o[i]) : o[i] == -0.5f;
        CHECKF(ok, "%s: PRelu loses NaN or scales wrongly", paths[p]);
        /* the vector exp of softmax against libm's in double, tails included */
        float xs[203], es[203];
        double worst = 0.0, sum = 0.0;
        for (int i = 0; i < 203; i++)
            xs[i] = -90.0f + (float)i * 0.8713f;
        float got = k->vexp(es, xs, 203, 0.5f);
        for (int i = 0; i < 203; i++) {
            double want = exp((double)xs[i] - 0.5);
            sum += es[i];
            if (want > 1e-37 && want < 1e38) { /* the clamped ends aside */
                double rel = fabs(es[i] - want) / want;
                worst = rel > worst ? rel : worst;
            }
        }
        CHECKF(worst < 1e-6 && fabs(got - sum) <= 1e-6 * sum, "%s: vexp error %.3g, sum %g/%g",
               paths[p], worst, (double)got, sum);
        xs[5] = NAN;
        k->vexp(es, xs, 37, 0.0f);
        CHECKF(isnan(es[5]), "%s: vexp loses NaN", paths[p]);
    }
    eo_exp_force_kernels(NULL);
}

/* A model newer than the loader knows (IR 9 of ONNX 1.14, opset 19): a copy
 * of a fixture with the ir_version or the default domain's opset import
 * patched is refused with model.Unsupported naming the version and the
 * supported range, never run with semantics it may not have. */
static void test_newer_versions(eo_ctx *ctx) {
    FILE *f = fopen(tap_fixture("unet_plain_op17.onnx"), "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    static unsigned char b[1 << 20];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    /* ModelProto field 1 (ir_version, varint 8) first; the opset import
     * (field 8: domain absent, version 17) as 42 02 10 11 */
    size_t op_at = 0;
    for (size_t i = 0; i + 4 <= n && !op_at; i++)
        if (b[i] == 0x42 && b[i + 1] == 0x02 && b[i + 2] == 0x10 && b[i + 3] == 0x11)
            op_at = i + 3;
    CHECK(n > 2 && n < sizeof b && b[0] == 0x08 && b[1] == 8 && op_at);
    struct {
        size_t at;
        unsigned char v;
        const char *want;
    } cases[] = {{1, 9, "IR version 9"}, {op_at, 19, "opset 19"}};
    for (int c = 0; c < 2; c++) {
        unsigned char old = b[cases[c].at];
        b[cases[c].at] = cases[c].v;
        const char *path = tap_tmp(c ? "opset19.onnx" : "ir9.onnx");
        FILE *o = fopen(path, "wb");
        CHECK(o && fwrite(b, 1, n, o) == n);
        if (o)
            fclose(o);
        b[cases[c].at] = old;
        eo_model *m = NULL;
        CHECK_ST(ctx, eo_model_load(ctx, &m, path, NULL), EO_E_MODEL_UNSUPPORTED);
        const char *msg = eo_ctx_errmsg(ctx);
        CHECKF(strstr(msg, cases[c].want) && strstr(msg, "IR 3 to 8") &&
                   strstr(msg, "opset 6 to 18"),
               "message names the version and the range: %s", msg);
        CHECK(strcmp(eo_status_id(eo_ctx_status(ctx)), "model.Unsupported") == 0);
        eo_model_free(m);
    }
}

/* MaxPool keeps NaN as PyTorch's max_pool2d does (a window holding a NaN
 * gives NaN, wherever the NaN is: first or later row, first or later
 * column, vector body or tail) on every SIMD path; the reference is the
 * window's max computed here, NaN when any sample is. */
static void test_maxpool_nan(eo_ctx *ctx) {
    const char *paths[] = {"avx512", "avx2", "portable"};
    enum { H = 6, W = 37, OH = 6, OW = 37 };
    float x[H * W], out[OH * OW], scratch[W];
    for (int i = 0; i < H * W; i++)
        x[i] = (float)((i * 7919) % 113) - 50.0f;
    const int nans[] = {0, 20, 36, 1 * W + 8, 2 * W + 35, 4 * W + 17, 5 * W + 31};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++)
        x[nans[i]] = NAN;
    eoi_value vals[2] = {{.name = "x", .dtype = EOI_F32, .ndim = 4, .dims = {1, 1, H, W}},
                         {.name = "y", .dtype = EOI_F32, .ndim = 4, .dims = {1, 1, OH, OW}}};
    vals[0].n = H * W;
    vals[1].n = OH * OW;
    int32_t in_id = 0, out_id = 1;
    eoi_node n = {.op = EOI_OP_MAXPOOL,
                  .name = "pool",
                  .type = "MaxPool",
                  .nin = 1,
                  .nout = 1,
                  .in = &in_id,
                  .out = &out_id,
                  .k = {3, 3},
                  .s = {1, 1},
                  .d = {1, 1},
                  .pads = {1, 1, 1, 1}};
    eoi_graph g = {.nvalues = 2, .nnodes = 1, .values = vals, .nodes = &n, .input = 0, .output = 1};
    void *buf[2] = {x, out};
    eoi_exec ex = {&g, buf, scratch, 1, NULL, 0};
    for (int p = 0; p < 3; p++) {
        if (!eo_exp_force_kernels(paths[p]))
            continue;
        CHECK_OK(ctx, eoi_run_pool(ctx, &ex, &n));
        int bad = -1;
        for (int oy = 0; oy < OH && bad < 0; oy++)
            for (int ox = 0; ox < OW && bad < 0; ox++) {
                double want = -INFINITY;
                for (int y = oy - 1; y <= oy + 1; y++)
                    for (int xx = ox - 1; xx <= ox + 1; xx++) {
                        if (y < 0 || y >= H || xx < 0 || xx >= W)
                            continue;
                        double v = x[y * W + xx];
                        want = isnan(v) || isnan(want) ? NAN : v > want ? v : want;
                    }
                double got = out[oy * OW + ox];
                if (!(got == want || (isnan(got) && isnan(want))))
                    bad = oy * OW + ox;
            }
        CHECKF(bad < 0, "%s: MaxPool output %d is %g, want the window's max (NaN if any)", paths[p],
               bad, bad < 0 ? 0.0 : (double)out[bad]);
    }
    eo_exp_force_kernels(NULL);
}

/* Named tensors: a two-input model of ONNX's test data (x[3][4][5] +
 * y[5]) against the sum computed here; the errors for a mistyped,
 * missing or unknown input and for bad tensors. */
static void test_named(eo_ctx *ctx) {
    eo_model *m = NULL;
    CHECK_OK(ctx, eo_model_load(ctx, &m,
                                "/usr/share/libonnx-testdata/data/node/test_add_bcast/model.onnx",
                                NULL));
    if (!m)
        return;
    CHECK(eo_model_input_count(m) == 2 && eo_model_output_count(m) == 1);
    const char *name = NULL;
    eo_dtype dt = 0;
    int64_t dims[8];
    int32_t nd = 0;
    CHECK_OK(ctx, eo_model_input_info(ctx, m, 1, &name, &dt, dims, 8, &nd));
    CHECK(name && strcmp(name, "y") == 0 && dt == EO_DT_F32 && nd == 1 && dims[0] == 5);
    CHECK_ST(ctx, eo_model_input_info(ctx, m, 2, &name, &dt, dims, 8, &nd), EO_E_ARG);
    CHECK_ST(ctx, eo_model_output_info(ctx, m, 0, &name, &dt, dims, 2, &nd), EO_E_ARG);
    float x[60], y[5];
    for (int i = 0; i < 60; i++)
        x[i] = (float)i * 0.25f - 3.0f;
    for (int i = 0; i < 5; i++)
        y[i] = (float)(i * i) - 1.5f;
    eo_tensors *in = NULL, *out = NULL;
    CHECK_OK(ctx, eo_tensors_new(ctx, &in));
    int64_t xd[3] = {3, 4, 5}, yd[1] = {5}, neg[1] = {-1};
    CHECK_OK(ctx, eo_tensors_set(ctx, in, "x", EO_DT_F32, xd, 3, x));
    CHECK_ST(ctx, eo_model_run_named(ctx, m, in, &out), EO_E_ARG); /* y missing */
    CHECK(out == NULL && strstr(eo_ctx_errmsg(ctx), "'y'"));
    CHECK_OK(ctx, eo_tensors_set(ctx, in, "y", EO_DT_I64, yd, 1, (int64_t[5]){0}));
    CHECK_ST(ctx, eo_model_run_named(ctx, m, in, &out), EO_E_ARG); /* y is float */
    CHECK(strstr(eo_ctx_errmsg(ctx), "'y' is float"));
    CHECK_OK(ctx, eo_tensors_set(ctx, in, "y", EO_DT_F32, yd, 1, y)); /* replaces */
    CHECK(eo_tensors_count(in) == 2 && eo_tensors_find(in, "y") == 1);
    CHECK_ST(ctx, eo_tensors_set(ctx, in, "z", EO_DT_F32, neg, 1, y), EO_E_ARG);
    CHECK_ST(ctx, eo_tensors_set(ctx, in, "z", EO_DT_U8, yd, 1, y), EO_E_ARG);
    CHECK_ST(ctx, eo_tensors_set(ctx, in, "z", EO_DT_F32, yd, 1, NULL), EO_E_ARG);
    CHECK_OK(ctx, eo_model_run_named(ctx, m, in, &out));
    const void *data = NULL;
    CHECK(eo_tensors_count(out) == 1);
    CHECK_OK(ctx, eo_tensors_get(ctx, out, 0, &name, &dt, dims, 8, &nd, &data));
    int ok = name && strcmp(name, "sum") == 0 && dt == EO_DT_F32 && nd == 3 && dims[2] == 5;
    for (int i = 0; ok && i < 60; i++)
        ok = ((const float *)data)[i] == x[i] + y[i % 5];
    CHECKF(ok, "x + y differs");
    eo_tensors_free(out);
    out = NULL;
    CHECK_OK(ctx, eo_tensors_set(ctx, in, "z", EO_DT_F32, yd, 1, y));
    CHECK_ST(ctx, eo_model_run_named(ctx, m, in, &out), EO_E_ARG); /* no input z */
    CHECK(strstr(eo_ctx_errmsg(ctx), "'z'"));
    float buf[60];
    CHECK_ST(ctx, eo_model_run(ctx, m, x, xd, 3, buf, 60), EO_E_ARG); /* two inputs */
    eo_tensors_free(in);
    eo_model_free(m);
    /* a shape given as an input: one plan per value, 16 kept, the others
     * made for their run and freed (ASan checks they are) */
    m = NULL;
    CHECK_OK(ctx,
             eo_model_load(
                 ctx, &m,
                 "/usr/share/libonnx-testdata/data/node/test_reshape_reordered_all_dims/model.onnx",
                 NULL));
    int ok_all = m != NULL, runs = 0;
    for (int64_t a = 1; m && a <= 4; a++)
        for (int64_t b2 = 1; b2 <= 24; b2++) {
            if (24 % (a * b2))
                continue;
            int64_t shp[3] = {a, b2, 24 / (a * b2)}, dd[3] = {2, 3, 4}, sd[1] = {3};
            float d24[24];
            for (int i = 0; i < 24; i++)
                d24[i] = (float)(i * 3 + runs);
            eo_tensors *ti = NULL, *to = NULL;
            eo_tensors_new(ctx, &ti);
            eo_tensors_set(ctx, ti, "data", EO_DT_F32, dd, 3, d24);
            eo_tensors_set(ctx, ti, "shape", EO_DT_I64, sd, 1, shp);
            eo_status rs = eo_model_run_named(ctx, m, ti, &to);
            const void *od = NULL;
            int64_t dims3[8];
            int32_t nd3 = 0;
            if (rs == EO_OK)
                rs = eo_tensors_get(ctx, to, 0, NULL, NULL, dims3, 8, &nd3, &od);
            int same = rs == EO_OK && nd3 == 3 && dims3[0] == shp[0] && dims3[1] == shp[1] &&
                       dims3[2] == shp[2] && memcmp(od, d24, sizeof d24) == 0;
            CHECKF(same, "reshape to %lldx%lldx%lld: %s", (long long)shp[0], (long long)shp[1],
                   (long long)shp[2], eo_ctx_errmsg(ctx));
            ok_all &= same;
            runs++;
            eo_tensors_free(ti);
            eo_tensors_free(to);
        }
    CHECKF(ok_all && runs > 16, "%d shapes", runs);
    eo_model_free(m);
    /* an opset below the range (ONNX's Softplus test at opset 1) */
    m = NULL;
    CHECK_ST(ctx,
             eo_model_load(ctx, &m,
                           "/usr/share/libonnx-testdata/data/node/test_softplus/model.onnx", NULL),
             EO_E_MODEL_UNSUPPORTED);
    CHECKF(m == NULL && strstr(eo_ctx_errmsg(ctx), "opset 1") &&
               strcmp(eo_status_id(EO_E_MODEL_UNSUPPORTED), "model.Unsupported") == 0,
           "%s", eo_ctx_errmsg(ctx));
}

/* x rounded to bfloat16 (8 significant bits, to nearest, ties to even),
 * in double arithmetic: the reference of the BF16 kernel's products. */
static double round_bf16(float x) {
    if (x == 0.0f)
        return 0.0;
    int e;
    double m = frexp((double)x, &e); /* 0.5 <= |m| < 1: 8 bits of it kept */
    return ldexp(nearbyint(ldexp(m, 8)), e - 8);
}

/* The BF16 GEMM micro-kernel (both the one converting b on the fly and the
 * one on pre-paired b) against sums in double of bfloat16-rounded
 * products: an odd k, a split in two accumulated blocks, the activation. */
static void test_bf16_kernel(void) {
    eoi_gemm_fn plain = eoi_bf16_gemm(), packed = eoi_bf16_gemm_packed();
    if (!plain) {
        printf("# skip bf16 kernel: this CPU has no AVX512_BF16\n");
        return;
    }
    enum { K = 37, NR = 48, LDB = 56, MRP = EOI_GEMM_MRP };
    static float a[K * MRP], b[K * LDB], c1[MRP * NR], c2[MRP * NR], bp[(K + 1) / 2 * NR];
    float bias[MRP];
    double want[MRP * NR], scale[MRP * NR];
    uint32_t seed = 12345;
    for (int i = 0; i < K * MRP; i++)
        a[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8) / (float)(1 << 24) - 0.5f;
    for (int i = 0; i < K * LDB; i++)
        b[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8) / (float)(1 << 23) - 1.0f;
    for (int r = 0; r < MRP; r++)
        bias[r] = 0.25f * (float)r - 1.0f;
    for (int r = 0; r < MRP; r++)
        for (int j = 0; j < NR; j++) {
            double sum = bias[r], abs = fabs(bias[r]);
            for (int k = 0; k < K; k++) {
                double t = round_bf16(a[k * MRP + r]) * round_bf16(b[k * LDB + j]);
                sum += t;
                abs += fabs(t);
            }
            want[r * NR + j] = sum > 0 ? sum : 0; /* relu */
            scale[r * NR + j] = abs;
        }
    eoi_act relu = {.kind = EOI_ACT_RELU};
    /* the weights as conv.c packs them: two blocks of k, each packed apart */
    static float a1[20 * MRP], a2[17 * MRP];
    memcpy(a1, a, sizeof a1);
    memcpy(a2, a + 20 * MRP, sizeof a2);
    eoi_bf16_pack_panel(a1, 20);
    eoi_bf16_pack_panel(a2, 17);
    plain(20, a1, b, LDB, c1, NR, bias, 0, &relu);
    plain(17, a2, b + 20 * LDB, LDB, c1, NR, bias, EOI_GEMM_ACC | EOI_GEMM_ACT, &relu);
    eoi_bf16_pack_b(bp, b, LDB, 20);
    packed(20, a1, bp, NR, c2, NR, bias, 0, &relu);
    eoi_bf16_pack_b(bp, b + 20 * LDB, LDB, 17);
    packed(17, a2, bp, NR, c2, NR, bias, EOI_GEMM_ACC | EOI_GEMM_ACT, &relu);
    double worst1 = 0, worst2 = 0, fp32_gap = 0;
    for (int i = 0; i < MRP * NR; i++) {
        worst1 = fmax(worst1, fabs(c1[i] - want[i]) / scale[i]);
        worst2 = fmax(worst2, fabs(c2[i] - want[i]) / scale[i]);
        double exact = bias[i / NR];
        for (int k = 0; k < K; k++)
            exact += (double)a[k * MRP + i / NR] * b[k * LDB + i % NR];
        fp32_gap = fmax(fp32_gap, fabs((exact > 0 ? exact : 0) - want[i]) / scale[i]);
    }
    CHECKF(worst1 < 1e-6 && worst2 < 1e-6, "bf16 kernel vs reference: %g, %g", worst1, worst2);
    /* and the reference really is bfloat16, not float, arithmetic */
    CHECKF(fp32_gap > 1e-4, "bf16 rounding visible: %g", fp32_gap);
}

int main(void) {
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    eo_ctx_set_threads(ctx, 2);
    test_against_pytorch(ctx);
    test_bad_files(ctx);
    test_unsupported(ctx);
    test_newer_versions(ctx);
    test_alloc_failures(ctx);
    test_threads(ctx);
    test_nan();
    test_maxpool_nan(ctx);
    test_named(ctx);
    test_bf16_kernel();
    eo_ctx_free(ctx);
    return tap_done();
}
