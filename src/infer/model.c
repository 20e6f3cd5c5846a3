/* model.c - the public model API: load (parse + graph build for a fixed
 * input shape), shape queries, and runs. A model is immutable once built;
 * runs take a work state (activation arena, scratch, buffer table) from a
 * mutex-guarded pool, so many threads can run one model at once. */
#include "infer_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct eo_model_opts {
    int32_t ndim;
    int64_t dims[EOI_MAXDIM];
    int32_t precision; /* EOI_PREC_* */
};

typedef struct runstate {
    struct runstate *next;
    char *arena;
    float *scratch;
    void **buf;
    float *work; /* work_threads * g.work_floats floats (+ alignment) */
    int32_t work_threads;
} runstate;

/* Plans kept per model for other input shapes or values; past that, a plan
 * is made for each run. */
#define EOI_MAX_PLANS 16

struct eo_model {
    eoi_onnx onnx;
    eoi_graph g;
    int32_t planned; /* g is built (else plans are made by eo_model_run_named) */
    pthread_mutex_t mu;
    runstate *pool;
    const eoi_onnx *src; /* the parsed ONNX: &onnx, or a parent's (eoi_model_replan) */
    eo_model_card *card; /* or NULL; a re-planned model borrows its parent's */
    bool own_card;
    int32_t ngin; /* graph inputs (indices into src->inputs) */
    int32_t *gin;
    /* plans for other input shapes or bound input values (eo_model_run_named):
     * children borrowing src, each with the bindings it was made for */
    struct eo_model *plans, *next;
    int32_t nplans;
    int32_t temporary; /* a plan made for one run (the list is full): freed after it */
    eoi_bind *key;     /* ngin bindings (children), data copies owned */
    char name[96];     /* the file's name (no folder) for messages, or "" */
};

struct eo_tensor1 {
    char *name;
    eo_dtype dtype;
    int32_t ndim;
    int64_t dims[EOI_MAXDIM];
    int64_t n;
    void *data;
};

struct eo_tensors {
    int32_t n, cap;
    struct eo_tensor1 *t;
};

eo_status eo_model_opts_new(eo_ctx *ctx, eo_model_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = eoi_calloc(ctx, 1, sizeof **out);
    return *out ? EO_OK : EO_E_NOMEM;
}

void eo_model_opts_free(eo_model_opts *opts) { eoi_free(opts); }

eo_status eo_model_opts_set_input_shape(eo_ctx *ctx, eo_model_opts *opts, const int64_t *dims,
                                        int32_t ndim) {
    EOI_CHECK_ARG(ctx, opts && dims);
    if (ndim < 1 || ndim > EOI_MAXDIM)
        return eoi_fail(ctx, EO_E_ARG, "input shape: %d dimensions (1 to %d)", (int)ndim,
                        EOI_MAXDIM);
    for (int32_t i = 0; i < ndim; i++)
        if (dims[i] < 1 || dims[i] > (int64_t)1 << 31)
            return eoi_fail(ctx, EO_E_ARG, "input shape: size %lld on axis %d", (long long)dims[i],
                            (int)i);
    opts->ndim = ndim;
    memcpy(opts->dims, dims, (size_t)ndim * sizeof *dims);
    return EO_OK;
}

eo_status eo_model_opts_set_precision(eo_ctx *ctx, eo_model_opts *opts, const char *precision) {
    EOI_CHECK_ARG(ctx, opts && precision);
    if (strcmp(precision, "fp32") == 0)
        opts->precision = EOI_PREC_FP32;
    else if (strcmp(precision, "bf16") == 0)
        opts->precision = EOI_PREC_BF16;
    else
        return eoi_fail(ctx, EO_E_ARG, "precision '%s' (fp32 or bf16)", precision);
    return EO_OK;
}

/* Whether a model asked to run in BF16 does: only where the CPU has
 * AVX512_BF16 and EOPROC_SIMD leaves AVX-512 on; else FP32 with a warning.
 * EOI_BF16_AMX where the CPU (and the OS) also offer AMX-BF16 tiles, unless
 * EOPROC_AMX=off asks for the AVX512_BF16 kernels alone. */
static int32_t bf16_on(eo_ctx *ctx, int32_t precision) {
    if (precision != EOI_PREC_BF16)
        return 0;
    const char *path = eoi_simd_path(), *amx = getenv("EOPROC_AMX");
    if (eoi_bf16_gemm() && strcmp(path, "avx512") == 0) {
        if (amx && strcmp(amx, "off") == 0)
            return EOI_BF16_DOT;
        if (eoi_amx_gemm_packed())
            return EOI_BF16_AMX;
        return EOI_BF16_DOT;
    }
    eoi_log(ctx, EO_LOG_WARN, "precision bf16: %s; running in FP32",
            eoi_bf16_gemm() ? "EOPROC_SIMD turns AVX-512 off" : "this CPU has no AVX512_BF16");
    return 0;
}

static void free_state(runstate *r) {
    if (!r)
        return;
    eoi_free(r->arena);
    eoi_free(r->scratch);
    eoi_free(r->work);
    eoi_free(r->buf);
    eoi_free(r);
}

static void free_key(eoi_bind *key, int32_t n) {
    for (int32_t i = 0; key && i < n; i++)
        eoi_free((void *)key[i].data);
    eoi_free(key);
}

void eo_model_free(eo_model *m) {
    if (!m)
        return;
    while (m->plans) {
        eo_model *c = m->plans;
        m->plans = c->next;
        eo_model_free(c);
    }
    free_key(m->key, m->ngin);
    eoi_free(m->gin);
    while (m->pool) {
        runstate *r = m->pool;
        m->pool = r->next;
        free_state(r);
    }
    pthread_mutex_destroy(&m->mu);
    eoi_graph_free(&m->g);
    if (m->src == &m->onnx)
        eoi_onnx_free(&m->onnx);
    if (m->own_card)
        eo_model_card_free(m->card);
    eoi_free(m);
}

/* A zeroed model with its pool mutex (NULL: failure recorded on ctx). */
static eo_model *model_alloc(eo_ctx *ctx) {
    eo_model *m = eoi_calloc(ctx, 1, sizeof *m);
    if (m && pthread_mutex_init(&m->mu, NULL) != 0) {
        eoi_free(m);
        eoi_fail(ctx, EO_E_INTERNAL, "cannot create a mutex");
        return NULL;
    }
    return m;
}

/* The graph inputs of m->src into m->gin. */
static eo_status find_inputs(eo_ctx *ctx, eo_model *m) {
    m->ngin = eoi_onnx_graph_inputs(m->src, NULL, 0);
    if (!(m->gin = eoi_calloc(ctx, (size_t)m->ngin + 1, sizeof *m->gin)))
        return EO_E_NOMEM;
    eoi_onnx_graph_inputs(m->src, m->gin, m->ngin);
    return EO_OK;
}

/* Build m->g for binds (NULL: declared shapes). When the graph needs input
 * values to be planned and allow_defer is set, the model is left unplanned
 * (planned at run time) and the build's complaint dropped. */
static eo_status plan_model(eo_ctx *ctx, eo_model *m, const eoi_bind *binds, int allow_defer) {
    uint8_t *want = eoi_calloc(ctx, (size_t)m->ngin + 1, 1);
    if (!want)
        return EO_E_NOMEM;
    eo_status st = eoi_graph_build(ctx, &m->g, m->src, binds, want);
    int wanted = 0;
    for (int32_t i = 0; i < m->ngin; i++)
        wanted |= want[i] && !(binds && binds[i].ndim >= 0 && binds[i].data);
    eoi_free(want);
    if (st == EO_OK && wanted) { /* planned, but an integer input is not bound */
        eoi_graph_free(&m->g);
        st = EO_E_MODEL_UNSUPPORTED_OP;
    }
    if (st != EO_OK && wanted && allow_defer) {
        eoi_log(ctx, EO_LOG_DEBUG, "infer: planned at run time (%s)", eo_ctx_errmsg(ctx));
        eo_ctx_clear_error(ctx);
        return EO_OK;
    }
    if (st == EO_OK)
        m->planned = 1;
    return st;
}

const eoi_vinfo *eoi_onnx_image_input(const eoi_onnx *o) {
    for (int32_t i = 0; i < o->ninputs; i++) {
        const eoi_vinfo *v = &o->inputs[i];
        bool init = false;
        for (int32_t j = 0; j < o->ninit && !init; j++)
            init = strcmp(o->inits[j].name, v->name) == 0;
        if (!init)
            return v;
    }
    return NULL;
}

/* The input shape a card fixes for a model whose declared input has
 * dynamic axes: batch (card's or 1), channels (the card's band count),
 * height and width (the card's tile). With fill, axes the card leaves open
 * get 1 channel / 256 pixels (for checking a card, never for running).
 * false when nothing is to be done or the card cannot fix every axis. */
static bool card_dims(eo_ctx *ctx, const eoi_onnx *o, const eo_model_card *c, bool fill,
                      int64_t dims[4]) {
    const eoi_vinfo *v = eoi_onnx_image_input(o);
    if (!c || !v || v->ndim != 4)
        return false;
    bool dynamic = false;
    for (int32_t d = 0; d < 4; d++)
        dynamic = dynamic || v->dims[d] <= 0;
    if (!dynamic)
        return false;
    double batch, bands, tile;
    eo_model_card_get_number(ctx, c, "input.batch", &batch);
    eo_model_card_get_number(ctx, c, "input.band_count", &bands);
    eo_model_card_get_number(ctx, c, "input.tile", &tile);
    double want[4] = {isnan(batch) ? 1.0 : batch, bands, tile, tile};
    double dflt[4] = {1.0, 1.0, 256.0, 256.0};
    for (int32_t d = 0; d < 4; d++) {
        if (v->dims[d] > 0)
            dims[d] = v->dims[d];
        else if (!isnan(want[d]))
            dims[d] = (int64_t)want[d];
        else if (fill)
            dims[d] = (int64_t)dflt[d];
        else
            return false;
    }
    return true;
}

/* Parse, find the card (sidecar of path, else embedded), plan the graph
 * for dims (NULL: the caller gave none: the file's, completed by the card)
 * and check the card against the model. check_only: complete open axes
 * with placeholders (the model is never run). */
static eo_status load_model(eo_ctx *ctx, eo_model **out, const void *data, size_t size,
                            const char *path, const int64_t *dims, int32_t ndim, bool check_only,
                            int32_t precision) {
    eo_status st;
    eoi_bind *binds = NULL;
    eo_model *m = model_alloc(ctx);
    if (!m)
        return eo_ctx_status(ctx);
    if ((st = eoi_onnx_parse(ctx, &m->onnx, data, size)) != EO_OK)
        goto fail;
    m->src = &m->onnx;
    if ((st = eoi_card_find(ctx, &m->card, path, m->onnx.card)) != EO_OK)
        goto fail;
    m->own_card = true;
    const char *cprec = NULL; /* unset: the card's (networks validated in BF16) */
    if (!precision && m->card &&
        eo_model_card_get_string(ctx, m->card, "input.precision", 0, &cprec) == EO_OK && cprec)
        precision = strcmp(cprec, "bf16") == 0 ? EOI_PREC_BF16 : EOI_PREC_FP32;
    m->onnx.bf16 = check_only ? 0 : bf16_on(ctx, precision);
    if (check_only && !m->card) { /* nothing to check: no graph */
        *out = m;
        return EO_OK;
    }
    if ((st = eoi_card_check_input(ctx, m->card, eoi_onnx_image_input(&m->onnx))) != EO_OK)
        goto fail;
    if (m->onnx.ir_version < 3 || m->onnx.ir_version > 8 || m->onnx.opset < 6 ||
        m->onnx.opset > 18) {
        st = eoi_fail(ctx, EO_E_MODEL_UNSUPPORTED,
                      "ONNX IR version %lld, opset %lld (eoproc runs IR 3 to 8, opset 6 to 18)",
                      (long long)m->onnx.ir_version, (long long)m->onnx.opset);
        goto fail;
    }
    if ((st = eoi_graph_check_ops(ctx, &m->onnx)) != EO_OK || (st = find_inputs(ctx, m)) != EO_OK)
        goto fail;
    int64_t cdims[4];
    if (!dims && card_dims(ctx, &m->onnx, m->card, check_only, cdims)) {
        dims = cdims;
        ndim = 4;
    }
    if (dims && ndim) { /* the shape is for the first float input */
        if (!(binds = eoi_calloc(ctx, (size_t)m->ngin + 1, sizeof *binds))) {
            st = EO_E_NOMEM;
            goto fail;
        }
        int done = 0;
        for (int32_t i = 0; i < m->ngin; i++) {
            binds[i].ndim = -1;
            if (!done && eoi_elem_internal(m->onnx.inputs[m->gin[i]].elem) == EOI_F32) {
                binds[i].ndim = ndim;
                memcpy(binds[i].dims, dims, (size_t)ndim * sizeof *dims);
                done = 1;
            }
        }
    }
    if ((st = plan_model(ctx, m, binds, 1)) != EO_OK)
        goto fail;
    eoi_free(binds);
    binds = NULL;
    if (m->planned) {
        const eoi_value *ov = &m->g.values[m->g.output];
        if (ov->ndim == 4 && (st = eoi_card_check_output(ctx, m->card, ov->dims[1])) != EO_OK) {
            eoi_graph_free(&m->g);
            goto fail;
        }
    }
    *out = m;
    return EO_OK;
fail:
    eoi_free(binds);
    eoi_free(m->gin);
    pthread_mutex_destroy(&m->mu);
    eoi_onnx_free(&m->onnx);
    eo_model_card_free(m->card);
    eoi_free(m);
    return st;
}

eo_status eo_model_load_memory(eo_ctx *ctx, eo_model **out, const void *data, size_t size,
                               const eo_model_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, data || size == 0);
    return load_model(ctx, out, data, size, NULL, opts && opts->ndim ? opts->dims : NULL,
                      opts ? opts->ndim : 0, false, opts ? opts->precision : 0);
}

/* Load the model file at path (the message names it on failure). */
static eo_status load_path(eo_ctx *ctx, eo_model **out, const char *path, const int64_t *dims,
                           int32_t ndim, bool check_only, int32_t precision) {
    uint8_t *data = NULL;
    size_t len = 0;
    eo_status st = eoi_read_file_bytes(ctx, &data, &len, path, SIZE_MAX - 1);
    if (st != EO_OK)
        return st;
    st = load_model(ctx, out, data, len, path, dims, ndim, check_only, precision);
    eoi_free(data);
    if (st == EO_OK && *out) {
        const char *slash = strrchr(path, '/');
        snprintf((*out)->name, sizeof(*out)->name, "%s", slash ? slash + 1 : path);
    }
    if (st != EO_OK && strncmp(eo_ctx_errmsg(ctx), path, strlen(path)) != 0) {
        /* name the file in the message */
        char msg[EOI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
        eoi_fail(ctx, st, "%s: %s", path, msg);
    }
    return st;
}

eo_status eoi_model_load_path(eo_ctx *ctx, eo_model **out, const char *path, const int64_t *dims,
                              int32_t ndim, int32_t precision) {
    *out = NULL;
    return load_path(ctx, out, path, dims, ndim, false, precision);
}

eo_status eo_model_load(eo_ctx *ctx, eo_model **out, const char *path, const eo_model_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path);
    return load_path(ctx, out, path, opts && opts->ndim ? opts->dims : NULL, opts ? opts->ndim : 0,
                     false, opts ? opts->precision : 0);
}

const eo_model_card *eo_model_get_card(const eo_model *m) { return m ? m->card : NULL; }

eo_status eo_model_card_load(eo_ctx *ctx, eo_model_card **out, const char *path) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path);
    eo_model *m = NULL;
    EOI_TRY_RET(load_path(ctx, &m, path, NULL, 0, true, 0));
    *out = m->card;
    m->own_card = false;
    eo_model_free(m);
    return EO_OK;
}

eo_status eo_model_card_check(eo_ctx *ctx, const eo_model_card *card, const eo_model *m) {
    EOI_CHECK_ARG(ctx, card && m);
    EOI_TRY_RET(eoi_card_check_input(ctx, card, eoi_onnx_image_input(m->src)));
    const eoi_value *ov = &m->g.values[m->g.output];
    return ov->ndim == 4 ? eoi_card_check_output(ctx, card, ov->dims[1]) : EO_OK;
}

eo_status eo_model_card_write(eo_ctx *ctx, const char *path, const eo_model_card *card) {
    EOI_CHECK_ARG(ctx, path);
    uint8_t *data = NULL, *outb = NULL;
    size_t len = 0, outlen = 0;
    char *json = NULL;
    eo_model *m = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_read_file_bytes(ctx, &data, &len, path, SIZE_MAX - 1));
    if (card) {
        /* the model with this card embedded, checked as a load would */
        EOI_TRY(st, eo_model_card_to_json(ctx, &json, card));
        EOI_TRY(st, eoi_onnx_set_metadata(ctx, &outb, &outlen, data, len, EOI_CARD_KEY, json));
    } else {
        EOI_TRY(st, eoi_onnx_set_metadata(ctx, &outb, &outlen, data, len, EOI_CARD_KEY, NULL));
    }
    if (card)
        EOI_TRY(st, load_model(ctx, &m, outb, outlen, NULL, NULL, 0, true, 0));
    EOI_TRY(st, eoi_write_file(ctx, path, outb, outlen));
    char side[4200];
    struct stat sb;
    if (eoi_card_sidecar_path(ctx, side, sizeof side, path) == EO_OK && stat(side, &sb) == 0)
        eoi_log(ctx, EO_LOG_WARN,
                "%s: the sidecar %s exists and wins over the card written into the model", path,
                side);
done:
    if (st != EO_OK && strncmp(eo_ctx_errmsg(ctx), path, strlen(path)) != 0) {
        char msg[EOI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
        eoi_fail(ctx, st, "%s: %s", path, msg);
    }
    eo_model_free(m);
    eo_free(json);
    eoi_free(outb);
    eoi_free(data);
    return st;
}

static eo_status shape_of(eo_ctx *ctx, const eoi_value *v, int64_t *dims, int32_t cap,
                          int32_t *ndim) {
    EOI_CHECK_ARG(ctx, ndim);
    *ndim = 0;
    EOI_CHECK_ARG(ctx, dims || cap == 0);
    if (cap < v->ndim)
        return eoi_fail(ctx, EO_E_ARG, "shape has %d dimensions; capacity is %d", (int)v->ndim,
                        (int)cap);
    memcpy(dims, v->dims, (size_t)v->ndim * sizeof *dims);
    *ndim = v->ndim;
    return EO_OK;
}

eo_status eo_model_input_shape(eo_ctx *ctx, const eo_model *m, int64_t *dims, int32_t capacity,
                               int32_t *ndim) {
    EOI_CHECK_ARG(ctx, m);
    if (!m->planned || m->g.input < 0)
        return eoi_fail(ctx, EO_E_ARG,
                        "the model is planned when it runs (its input values "
                        "decide shapes): see eo_model_input_info");
    return shape_of(ctx, &m->g.values[m->g.input], dims, capacity, ndim);
}

eo_status eo_model_output_shape(eo_ctx *ctx, const eo_model *m, int64_t *dims, int32_t capacity,
                                int32_t *ndim) {
    EOI_CHECK_ARG(ctx, m);
    if (!m->planned)
        return eoi_fail(ctx, EO_E_ARG,
                        "the model is planned when it runs (its input values "
                        "decide shapes): see eo_model_output_info");
    return shape_of(ctx, &m->g.values[m->g.output], dims, capacity, ndim);
}

static json_object *dims_json(const eoi_value *v) {
    json_object *a = json_object_new_array();
    for (int32_t i = 0; a && i < v->ndim; i++)
        json_object_array_add(a, json_object_new_int64(v->dims[i]));
    return a;
}

eo_status eo_model_info(eo_ctx *ctx, char **out, const eo_model *m) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, m);
    json_object *o = json_object_new_object();
    if (!o)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    if (m->planned && m->g.input >= 0)
        json_object_object_add(o, "input", dims_json(&m->g.values[m->g.input]));
    if (m->planned)
        json_object_object_add(o, "output", dims_json(&m->g.values[m->g.output]));
    json_object_object_add(o, "planned_at_load", json_object_new_boolean(m->planned));
    /* every input and output: name, type, shape (planned, or declared with
     * -1 on dynamic axes) */
    for (int io = 0; io < 2; io++) {
        json_object *arr = json_object_new_array();
        int32_t cnt = io ? m->src->noutputs : m->ngin;
        for (int32_t i = 0; arr && i < cnt; i++) {
            const char *name = NULL;
            eo_dtype dt = 0;
            int64_t dims[EOI_MAXDIM];
            int32_t nd = 0;
            eo_status st = io ? eo_model_output_info(ctx, m, i, &name, &dt, dims, EOI_MAXDIM, &nd)
                              : eo_model_input_info(ctx, m, i, &name, &dt, dims, EOI_MAXDIM, &nd);
            json_object *t = json_object_new_object(), *sh = json_object_new_array();
            if (st != EO_OK || !t || !sh) {
                json_object_put(t);
                json_object_put(sh);
                continue;
            }
            for (int32_t d = 0; d < nd; d++)
                json_object_array_add(sh, json_object_new_int64(dims[d]));
            json_object_object_add(t, "name", json_object_new_string(name));
            json_object_object_add(t, "dtype",
                                   json_object_new_string(dt == EO_DT_I64 ? "int64" : "float32"));
            json_object_object_add(t, "shape", nd >= 0 ? sh : (json_object_put(sh), NULL));
            json_object_array_add(arr, t);
        }
        json_object_object_add(o, io ? "outputs" : "inputs", arr);
    }
    json_object_object_add(o, "opset", json_object_new_int64(m->onnx.opset));
    json_object_object_add(o, "onnx_nodes", json_object_new_int(m->onnx.nnodes));
    json_object_object_add(o, "nodes", json_object_new_int(m->planned ? m->g.nnodes : 0));
    json_object_object_add(o, "flops", eoi_json_double(m->g.flops));
    json_object_object_add(o, "work_bytes",
                           json_object_new_int64((int64_t)(m->g.arena_bytes + m->g.scratch_bytes)));
    json_object_object_add(o, "simd", json_object_new_string(eoi_kernels_get()->name));
    json_object_object_add(o, "precision", json_object_new_string(m->onnx.bf16 ? "bf16" : "fp32"));
    if (m->onnx.bf16)
        json_object_object_add(
            o, "bf16_kernel",
            json_object_new_string(m->onnx.bf16 == EOI_BF16_AMX ? "amx" : "avx512_bf16"));
    eo_status st = eoi_json_dump(ctx, out, o, false);
    json_object_put(o);
    return st;
}

static runstate *take_state(eo_ctx *ctx, eo_model *m) {
    pthread_mutex_lock(&m->mu);
    runstate *r = m->pool;
    if (r)
        m->pool = r->next;
    pthread_mutex_unlock(&m->mu);
    if (r)
        return r;
    const eoi_graph *g = &m->g;
    if (!(r = eoi_calloc(ctx, 1, sizeof *r)) ||
        !(r->arena = eoi_malloc(ctx, g->arena_bytes + 64)) ||
        !(r->scratch = eoi_malloc(ctx, g->scratch_bytes + 64)) ||
        !(r->buf = eoi_calloc(ctx, (size_t)g->nvalues, sizeof *r->buf))) {
        free_state(r);
        return NULL;
    }
    return r;
}

static void give_state(eo_model *m, runstate *r) {
    pthread_mutex_lock(&m->mu);
    r->next = m->pool;
    m->pool = r;
    pthread_mutex_unlock(&m->mu);
}

/* Run plan m: ins[i] is the data of graph input i (unused for those the
 * plan holds as constants), out0 receives output 0, and outs, if not NULL,
 * is the set whose tensors 1.. receive the other outputs. */
static eo_status exec_plan(eo_ctx *ctx, eo_model *m, const void *const *ins, void *out0,
                           eo_tensors *outs) {
    const eoi_graph *g = &m->g;
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    runstate *r = take_state(ctx, m);
    if (!r)
        return eo_ctx_status(ctx) ? eo_ctx_status(ctx) : EO_E_NOMEM;
    char *base = (char *)(((uintptr_t)r->arena + 63) & ~(uintptr_t)63);
    for (int32_t i = 0; i < g->nvalues; i++) {
        const eoi_value *v = &g->values[i];
        r->buf[i] = v->cdata ? v->cdata : base + v->offset;
    }
    for (int32_t i = 0; i < g->ninputs; i++)
        if (!g->values[g->inputs[i]].cdata)
            r->buf[g->inputs[i]] = (void *)ins[i];
    const eoi_value *ov = &g->values[g->output];
    if (!ov->cdata && !ov->in_index)
        r->buf[g->output] = out0;
    int32_t nt = eoi_threads(ctx) < 1 ? 1 : eoi_threads(ctx) > 64 ? 64 : eoi_threads(ctx);
    if (g->work_floats && r->work_threads < nt) { /* grown for a context with more threads */
        eoi_free(r->work);
        r->work_threads = 0;
        if (!(r->work = eoi_malloc(ctx, ((size_t)nt * g->work_floats + 16) * sizeof(float)))) {
            give_state(m, r);
            return EO_E_NOMEM;
        }
        r->work_threads = nt;
    }
    eoi_exec ex = {g,
                   r->buf,
                   (float *)(((uintptr_t)r->scratch + 63) & ~(uintptr_t)63),
                   eoi_threads(ctx),
                   r->work ? (float *)(((uintptr_t)r->work + 63) & ~(uintptr_t)63) : NULL,
                   (size_t)r->work_threads * g->work_floats};
    /* per-node timings go to the debug log (eoproc -vv, or a log sink) */
    int timing = ctx->log_fn && ctx->log_min <= EO_LOG_DEBUG;
    for (int32_t i = 0; i < g->nnodes && st == EO_OK; i++) {
        const eoi_node *n = &g->nodes[i];
        double t0 = timing ? 1e3 * eoi_now_s() : 0.0;
        if ((st = eoi_node_run(ctx, &ex, n)) != EO_OK)
            break;
        if (timing)
            eoi_log(ctx, EO_LOG_DEBUG, "infer: node %d '%s' (%s%s): %.3f ms", (int)i, n->name,
                    n->type, n->act.kind && n->op != EOI_OP_ACT ? " + activation" : "",
                    1e3 * eoi_now_s() - t0);
        st = eoi_progress(ctx, (double)(i + 1) / (double)g->nnodes, "infer");
    }
    for (int32_t k = 0; st == EO_OK && k < g->noutputs; k++) {
        const eoi_value *v = &g->values[g->outputs[k]];
        void *dst = k == 0 ? out0 : outs ? outs->t[k].data : NULL;
        const void *src = r->buf[g->outputs[k]];
        if (dst && src != dst && v->n > 0)
            memcpy(dst, src, (size_t)v->n * (v->dtype == EOI_I64 ? 8 : 4));
    }
    give_state(m, r);
    return st;
}

static eo_status run_via_named(eo_ctx *ctx, const eo_model *m, const float *in,
                               const int64_t *shape, int32_t ndim, float *out, size_t capacity);

eo_status eo_model_run(eo_ctx *ctx, const eo_model *cm, const float *in, const int64_t *shape,
                       int32_t ndim, float *out, size_t capacity) {
    EOI_CHECK_ARG(ctx, cm && in && shape && out);
    eo_model *m = (eo_model *)cm; /* only the pool changes, under its mutex */
    if (!m->planned)
        return run_via_named(ctx, m, in, shape, ndim, out, capacity);
    const eoi_graph *g = &m->g;
    if (g->input < 0 || g->values[g->output].dtype != EOI_F32)
        return eoi_fail(ctx, EO_E_ARG,
                        "the model does not map one float input to a float output: use "
                        "eo_model_run_named");
    const eoi_value *iv = &g->values[g->input], *ov = &g->values[g->output];
    int same = ndim == iv->ndim;
    for (int32_t i = 0; same && i < ndim; i++)
        same = shape[i] == iv->dims[i];
    if (!same) {
        char want[160] = "", got[160] = "";
        for (int32_t i = 0; i < iv->ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "x" : "",
                     (long long)iv->dims[i]);
        for (int32_t i = 0; i < ndim && i < EOI_MAXDIM; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "x" : "",
                     (long long)shape[i]);
        return eoi_fail(ctx, EO_E_ARG, "input of shape %s; the model was loaded for %s", got, want);
    }
    if (capacity < (size_t)ov->n)
        return eoi_fail(ctx, EO_E_ARG, "output buffer of %zu floats; the output has %lld", capacity,
                        (long long)ov->n);
    const void *ins[1] = {in};
    if (g->ninputs != 1)
        return eoi_fail(ctx, EO_E_ARG, "the model has %d inputs: use eo_model_run_named",
                        (int)g->ninputs);
    return exec_plan(ctx, m, ins, out, NULL);
}

/* ---- named tensors ------------------------------------------------------ */
eo_status eo_tensors_new(eo_ctx *ctx, eo_tensors **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = eoi_calloc(ctx, 1, sizeof **out);
    return *out ? EO_OK : EO_E_NOMEM;
}

void eo_tensors_free(eo_tensors *t) {
    if (!t)
        return;
    for (int32_t i = 0; i < t->n; i++) {
        eoi_free(t->t[i].name);
        eoi_free(t->t[i].data);
    }
    eoi_free(t->t);
    eoi_free(t);
}

int32_t eo_tensors_count(const eo_tensors *t) { return t ? t->n : 0; }

int32_t eo_tensors_find(const eo_tensors *t, const char *name) {
    for (int32_t i = 0; t && name && i < t->n; i++)
        if (strcmp(t->t[i].name, name) == 0)
            return i;
    return -1;
}

eo_status eo_tensors_set(eo_ctx *ctx, eo_tensors *t, const char *name, eo_dtype dtype,
                         const int64_t *dims, int32_t ndim, const void *data) {
    EOI_CHECK_ARG(ctx, t && name);
    if (dtype != EO_DT_F32 && dtype != EO_DT_I64)
        return eoi_fail(ctx, EO_E_ARG, "tensor '%s': type %s (float32 and int64 are supported)",
                        name, eo_dtype_name(dtype));
    if (ndim < 0 || ndim > EOI_MAXDIM || (ndim && !dims))
        return eoi_fail(ctx, EO_E_ARG, "tensor '%s': %d dimensions (0 to %d)", name, (int)ndim,
                        EOI_MAXDIM);
    int64_t n = 1;
    for (int32_t i = 0; i < ndim; i++)
        if (dims[i] < 0 || eoi_mul_i64(&n, n, dims[i]) || n > ((int64_t)1 << 40))
            return eoi_fail(ctx, EO_E_ARG, "tensor '%s': size %lld on axis %d", name,
                            (long long)dims[i], (int)i);
    if (n > 0 && !data)
        return eoi_fail(ctx, EO_E_ARG, "tensor '%s' has %lld elements but no data", name,
                        (long long)n);
    size_t bytes = (size_t)n * (dtype == EO_DT_I64 ? 8 : 4);
    void *copy = eoi_malloc(ctx, bytes ? bytes : 8);
    if (!copy)
        return EO_E_NOMEM;
    if (bytes)
        memcpy(copy, data, bytes);
    int32_t i = eo_tensors_find(t, name);
    if (i < 0) {
        char *nm = eoi_strdup(ctx, name);
        if (!nm) {
            eoi_free(copy);
            return EO_E_NOMEM;
        }
        if (t->n == t->cap) {
            int32_t cap = t->cap ? 2 * t->cap : 8;
            struct eo_tensor1 *nt = eoi_realloc(ctx, t->t, (size_t)cap * sizeof *nt);
            if (!nt) {
                eoi_free(copy);
                eoi_free(nm);
                return EO_E_NOMEM;
            }
            t->t = nt;
            t->cap = cap;
        }
        i = t->n++;
        memset(&t->t[i], 0, sizeof t->t[i]);
        t->t[i].name = nm;
    }
    struct eo_tensor1 *e = &t->t[i];
    eoi_free(e->data);
    e->data = copy;
    e->dtype = dtype;
    e->ndim = ndim;
    e->n = n;
    if (ndim)
        memcpy(e->dims, dims, (size_t)ndim * sizeof *dims);
    return EO_OK;
}

eo_status eo_tensors_get(eo_ctx *ctx, const eo_tensors *t, int32_t i, const char **name,
                         eo_dtype *dtype, int64_t *dims, int32_t capacity, int32_t *ndim,
                         const void **data) {
    EOI_CHECK_ARG(ctx, t);
    if (i < 0 || i >= t->n)
        return eoi_fail(ctx, EO_E_ARG, "tensor %d of %d", (int)i, (int)t->n);
    const struct eo_tensor1 *e = &t->t[i];
    if (dims && capacity < e->ndim)
        return eoi_fail(ctx, EO_E_ARG, "tensor '%s' has %d dimensions; capacity is %d", e->name,
                        (int)e->ndim, (int)capacity);
    if (name)
        *name = e->name;
    if (dtype)
        *dtype = e->dtype;
    if (dims && e->ndim)
        memcpy(dims, e->dims, (size_t)e->ndim * sizeof *dims);
    if (ndim)
        *ndim = e->ndim;
    if (data)
        *data = e->data;
    return EO_OK;
}

/* ---- inputs and outputs -------------------------------------------------- */
int32_t eo_model_input_count(const eo_model *m) { return m ? m->ngin : 0; }
int32_t eo_model_output_count(const eo_model *m) { return m ? m->src->noutputs : 0; }

static eo_dtype public_dtype(int32_t internal) {
    return internal == EOI_I64 ? EO_DT_I64 : EO_DT_F32;
}

static eo_status vinfo_out(eo_ctx *ctx, const eoi_vinfo *d, const eoi_value *v, const char **name,
                           eo_dtype *dtype, int64_t *dims, int32_t cap, int32_t *ndim) {
    int32_t nd = v ? v->ndim : d->ndim;
    if (dims && cap < nd)
        return eoi_fail(ctx, EO_E_ARG, "'%s' has %d dimensions; capacity is %d", d->name, (int)nd,
                        (int)cap);
    if (name)
        *name = d->name;
    if (dtype)
        *dtype = v ? public_dtype(v->dtype) : public_dtype(eoi_elem_internal(d->elem));
    if (dims && nd > 0)
        memcpy(dims, v ? v->dims : d->dims, (size_t)nd * sizeof *dims);
    if (ndim)
        *ndim = nd;
    return EO_OK;
}

eo_status eo_model_input_info(eo_ctx *ctx, const eo_model *m, int32_t i, const char **name,
                              eo_dtype *dtype, int64_t *dims, int32_t capacity, int32_t *ndim) {
    EOI_CHECK_ARG(ctx, m);
    if (i < 0 || i >= m->ngin)
        return eoi_fail(ctx, EO_E_ARG, "input %d of %d", (int)i, (int)m->ngin);
    return vinfo_out(ctx, &m->src->inputs[m->gin[i]],
                     m->planned ? &m->g.values[m->g.inputs[i]] : NULL, name, dtype, dims, capacity,
                     ndim);
}

eo_status eo_model_output_info(eo_ctx *ctx, const eo_model *m, int32_t i, const char **name,
                               eo_dtype *dtype, int64_t *dims, int32_t capacity, int32_t *ndim) {
    EOI_CHECK_ARG(ctx, m);
    if (i < 0 || i >= m->src->noutputs)
        return eoi_fail(ctx, EO_E_ARG, "output %d of %d", (int)i, (int)m->src->noutputs);
    return vinfo_out(ctx, &m->src->outputs[i], m->planned ? &m->g.values[m->g.outputs[i]] : NULL,
                     name, dtype, dims, capacity, ndim);
}

/* Whether a plan made for key serves inputs t[idx[i]]. */
static int key_matches(const eo_model *p, const eo_tensors *t, const int32_t *idx) {
    for (int32_t i = 0; i < p->ngin; i++) {
        const eoi_bind *k = &p->key[i];
        const struct eo_tensor1 *e = &t->t[idx[i]];
        if (k->ndim != e->ndim || memcmp(k->dims, e->dims, (size_t)e->ndim * sizeof *e->dims))
            return 0;
        if (k->data && memcmp(k->data, e->data, (size_t)e->n * (e->dtype == EO_DT_I64 ? 8 : 4)))
            return 0;
    }
    return 1;
}

/* A plan (m itself or one of its children) for the inputs t[idx[]]; made
 * and kept if there is none. */
static eo_status find_plan(eo_ctx *ctx, eo_model *m, const eo_tensors *t, const int32_t *idx,
                           eo_model **out) {
    *out = NULL;
    if (m->planned) {
        int same = 1;
        for (int32_t i = 0; same && i < m->ngin; i++) {
            const eoi_value *v = &m->g.values[m->g.inputs[i]];
            const struct eo_tensor1 *e = &t->t[idx[i]];
            same = !v->cdata && v->ndim == e->ndim &&
                   !memcmp(v->dims, e->dims, (size_t)e->ndim * sizeof *e->dims);
        }
        if (same) {
            *out = m;
            return EO_OK;
        }
    }
    pthread_mutex_lock(&m->mu);
    for (eo_model *p = m->plans; p && !*out; p = p->next)
        if (key_matches(p, t, idx))
            *out = p;
    pthread_mutex_unlock(&m->mu);
    if (*out)
        return EO_OK;
    eo_model *c = model_alloc(ctx);
    if (!c)
        return eo_ctx_status(ctx);
    c->src = m->src;
    eo_status st = find_inputs(ctx, c);
    uint8_t *want = st == EO_OK ? eoi_calloc(ctx, (size_t)m->ngin + 1, 1) : NULL;
    if (st == EO_OK && (!want || !(c->key = eoi_calloc(ctx, (size_t)m->ngin + 1, sizeof *c->key))))
        st = EO_E_NOMEM;
    for (int32_t i = 0; st == EO_OK && i < m->ngin; i++) {
        const struct eo_tensor1 *e = &t->t[idx[i]];
        c->key[i].ndim = e->ndim;
        memcpy(c->key[i].dims, e->dims, (size_t)e->ndim * sizeof *e->dims);
    }
    /* build; bind the inputs the build asks for as constants, and again */
    for (int32_t round = 0; st == EO_OK; round++) {
        memset(want, 0, (size_t)m->ngin);
        st = eoi_graph_build(ctx, &c->g, c->src, c->key, want);
        int more = 0;
        for (int32_t i = 0; i < m->ngin; i++) {
            if (!want[i] || c->key[i].data)
                continue;
            const struct eo_tensor1 *e = &t->t[idx[i]];
            size_t bytes = (size_t)e->n * (e->dtype == EO_DT_I64 ? 8 : 4);
            void *d = eoi_malloc(ctx, bytes ? bytes : 8);
            if (!d) {
                if (st == EO_OK)
                    eoi_graph_free(&c->g);
                st = EO_E_NOMEM;
                break;
            }
            if (bytes)
                memcpy(d, e->data, bytes);
            c->key[i].data = d;
            more = 1;
        }
        if (!more || st == EO_E_NOMEM)
            break;
        if (st == EO_OK)
            eoi_graph_free(&c->g);
        eo_ctx_clear_error(ctx);
        st = EO_OK;
        if (round > m->ngin)
            st = eoi_fail(ctx, EO_E_INTERNAL, "planning did not settle");
    }
    eoi_free(want);
    if (st != EO_OK) {
        eo_model_free(c);
        return st;
    }
    c->planned = 1;
    pthread_mutex_lock(&m->mu);
    int keep = m->nplans < EOI_MAX_PLANS;
    if (keep) {
        c->next = m->plans;
        m->plans = c;
        m->nplans++;
    }
    pthread_mutex_unlock(&m->mu);
    if (!keep) /* enough kept: this one is for this run only */
        c->temporary = 1;
    *out = c;
    return EO_OK;
}

eo_status eo_model_run_named(eo_ctx *ctx, const eo_model *cm, const eo_tensors *in,
                             eo_tensors **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, cm && in);
    eo_model *m = (eo_model *)cm; /* only the pool and the plan list change, under the mutex */
    int32_t *idx = eoi_calloc(ctx, (size_t)m->ngin + 1, sizeof *idx);
    const void **ins = eoi_calloc(ctx, (size_t)m->ngin + 1, sizeof *ins);
    eo_status st = idx && ins ? EO_OK : EO_E_NOMEM;
    for (int32_t i = 0; st == EO_OK && i < m->ngin; i++) {
        const eoi_vinfo *d = &m->src->inputs[m->gin[i]];
        if ((idx[i] = eo_tensors_find(in, d->name)) < 0) {
            st = eoi_fail(ctx, EO_E_ARG, "model input '%s' is not given", d->name);
            break;
        }
        const struct eo_tensor1 *e = &in->t[idx[i]];
        if (e->dtype != public_dtype(eoi_elem_internal(d->elem)))
            st = eoi_fail(ctx, EO_E_ARG, "model input '%s' is %s; a %s tensor was given", d->name,
                          eoi_elem_internal(d->elem) == EOI_I64 ? "int64" : "float",
                          e->dtype == EO_DT_I64 ? "int64" : "float32");
        ins[i] = e->data;
    }
    for (int32_t j = 0; st == EO_OK && j < in->n; j++) {
        int found = 0;
        for (int32_t i = 0; i < m->ngin && !found; i++)
            found = idx[i] == j;
        if (!found)
            st = eoi_fail(ctx, EO_E_ARG, "the model has no input named '%s'", in->t[j].name);
    }
    eo_model *p = NULL;
    if (st == EO_OK)
        st = find_plan(ctx, m, in, idx, &p);
    eo_tensors *res = NULL;
    if (st == EO_OK)
        st = eo_tensors_new(ctx, &res);
    for (int32_t k = 0; st == EO_OK && k < p->g.noutputs; k++) {
        const eoi_value *v = &p->g.values[p->g.outputs[k]];
        /* outputs of the same name (an output listed twice) get one tensor */
        if (eo_tensors_find(res, m->src->outputs[k].name) >= 0) {
            st = eoi_fail(ctx, EO_E_MODEL, "output '%s' is listed twice", m->src->outputs[k].name);
            break;
        }
        size_t bytes = (size_t)v->n * (v->dtype == EOI_I64 ? 8 : 4);
        void *zero = eoi_calloc(ctx, 1, bytes ? bytes : 8);
        if (!zero) {
            st = EO_E_NOMEM;
            break;
        }
        st = eo_tensors_set(ctx, res, m->src->outputs[k].name, public_dtype(v->dtype), v->dims,
                            v->ndim, zero);
        eoi_free(zero);
    }
    if (st == EO_OK)
        st = exec_plan(ctx, p, ins, res->t[0].data, res);
    if (p && p->temporary)
        eo_model_free(p);
    eoi_free(idx);
    eoi_free(ins);
    if (st != EO_OK) {
        eo_tensors_free(res);
        return st;
    }
    *out = res;
    return EO_OK;
}

static eo_status run_via_named(eo_ctx *ctx, const eo_model *m, const float *in,
                               const int64_t *shape, int32_t ndim, float *out, size_t capacity) {
    if (m->ngin != 1 || eoi_elem_internal(m->src->inputs[m->gin[0]].elem) != EOI_F32)
        return eoi_fail(ctx, EO_E_ARG, "the model has %d inputs: use eo_model_run_named",
                        (int)m->ngin);
    eo_tensors *t = NULL, *o = NULL;
    eo_status st = eo_tensors_new(ctx, &t);
    if (st == EO_OK)
        st = eo_tensors_set(ctx, t, m->src->inputs[m->gin[0]].name, EO_DT_F32, shape, ndim, in);
    if (st == EO_OK)
        st = eo_model_run_named(ctx, m, t, &o);
    if (st == EO_OK && o->t[0].dtype != EO_DT_F32)
        st = eoi_fail(ctx, EO_E_ARG,
                      "the model's first output is not float: use "
                      "eo_model_run_named");
    if (st == EO_OK && capacity < (size_t)o->t[0].n)
        st = eoi_fail(ctx, EO_E_ARG, "output buffer of %zu floats; the output has %lld", capacity,
                      (long long)o->t[0].n);
    if (st == EO_OK && o->t[0].n)
        memcpy(out, o->t[0].data, (size_t)o->t[0].n * sizeof(float));
    eo_tensors_free(t);
    eo_tensors_free(o);
    return st;
}

/* ---- for sliding-window segmentation (segment.c) ------------------------ */

const char *eoi_model_name(const eo_model *m) { return m && m->name[0] ? m->name : "the model"; }

const eoi_graph *eoi_model_graph(const eo_model *m) {
    return m->planned && m->g.input >= 0 ? &m->g : NULL;
}

const eoi_vinfo *eoi_model_declared_input(const eo_model *m) {
    const eoi_onnx *o = m->src;
    const char *name = m->g.values[m->g.input].name;
    for (int32_t i = 0; i < o->ninputs; i++)
        if (strcmp(o->inputs[i].name, name) == 0)
            return &o->inputs[i];
    return NULL;
}

eo_status eoi_model_replan(eo_ctx *ctx, eo_model **out, const eo_model *parent, const int64_t *dims,
                           int32_t ndim) {
    *out = NULL;
    eo_model *m = model_alloc(ctx);
    if (!m)
        return eo_ctx_status(ctx);
    m->src = parent->src;
    m->card = parent->card;
    memcpy(m->name, parent->name, sizeof m->name);
    eo_status st = find_inputs(ctx, m);
    eoi_bind *binds = st == EO_OK ? eoi_calloc(ctx, (size_t)m->ngin + 1, sizeof *binds) : NULL;
    if (st == EO_OK && !binds)
        st = EO_E_NOMEM;
    for (int32_t i = 0; st == EO_OK && i < m->ngin; i++) {
        binds[i].ndim = -1;
        if (&m->src->inputs[m->gin[i]] == eoi_model_declared_input(parent)) {
            binds[i].ndim = ndim;
            memcpy(binds[i].dims, dims, (size_t)ndim * sizeof *dims);
        }
    }
    if (st == EO_OK)
        st = plan_model(ctx, m, binds, 0);
    eoi_free(binds);
    if (st != EO_OK) {
        eo_model_free(m);
        return st;
    }
    *out = m;
    return EO_OK;
}
