/* model.c - the public model API: load (parse + graph build for a fixed
 * input shape), shape queries, and runs. A model is immutable once built;
 * runs take a work state (activation arena, scratch, buffer table) from a
 * mutex-guarded pool, so many threads can run one model at once. */
#include "infer_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct eo_model_opts {
    int32_t ndim;
    int64_t dims[EOI_MAXDIM];
};

typedef struct runstate {
    struct runstate *next;
    char *arena;
    float *scratch;
    void **buf;
    float *work; /* work_threads * g.work_floats floats (+ alignment) */
    int32_t work_threads;
} runstate;

struct eo_model {
    eoi_onnx onnx;
    eoi_graph g;
    pthread_mutex_t mu;
    runstate *pool;
    const eoi_onnx *src; /* the parsed ONNX: &onnx, or a parent's (eoi_model_replan) */
    eo_model_card *card; /* or NULL; a re-planned model borrows its parent's */
    bool own_card;
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

static void free_state(runstate *r) {
    if (!r)
        return;
    eoi_free(r->arena);
    eoi_free(r->scratch);
    eoi_free(r->work);
    eoi_free(r->buf);
    eoi_free(r);
}

void eo_model_free(eo_model *m) {
    if (!m)
        return;
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
                            const char *path, const int64_t *dims, int32_t ndim, bool check_only) {
    eo_status st;
    eo_model *m = model_alloc(ctx);
    if (!m)
        return eo_ctx_status(ctx);
    if ((st = eoi_onnx_parse(ctx, &m->onnx, data, size)) != EO_OK)
        goto fail;
    m->src = &m->onnx;
    if ((st = eoi_card_find(ctx, &m->card, path, m->onnx.card)) != EO_OK)
        goto fail;
    m->own_card = true;
    if (check_only && !m->card) { /* nothing to check: no graph */
        *out = m;
        return EO_OK;
    }
    if ((st = eoi_card_check_input(ctx, m->card, eoi_onnx_image_input(&m->onnx))) != EO_OK)
        goto fail;
    int64_t cdims[4];
    if (!dims && card_dims(ctx, &m->onnx, m->card, check_only, cdims)) {
        dims = cdims;
        ndim = 4;
    }
    if ((st = eoi_graph_build(ctx, &m->g, &m->onnx, dims, ndim)) != EO_OK)
        goto fail;
    const eoi_value *ov = &m->g.values[m->g.output];
    if (ov->ndim == 4 && (st = eoi_card_check_output(ctx, m->card, ov->dims[1])) != EO_OK) {
        eoi_graph_free(&m->g);
        goto fail;
    }
    *out = m;
    return EO_OK;
fail:
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
                      opts ? opts->ndim : 0, false);
}

/* Load the model file at path (the message names it on failure). */
static eo_status load_path(eo_ctx *ctx, eo_model **out, const char *path, const int64_t *dims,
                           int32_t ndim, bool check_only) {
    uint8_t *data = NULL;
    size_t len = 0;
    eo_status st = eoi_read_file_bytes(ctx, &data, &len, path, SIZE_MAX - 1);
    if (st != EO_OK)
        return st;
    st = load_model(ctx, out, data, len, path, dims, ndim, check_only);
    eoi_free(data);
    if (st != EO_OK && strncmp(eo_ctx_errmsg(ctx), path, strlen(path)) != 0) {
        /* name the file in the message */
        char msg[EOI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
        eoi_fail(ctx, st, "%s: %s", path, msg);
    }
    return st;
}

eo_status eoi_model_load_path(eo_ctx *ctx, eo_model **out, const char *path, const int64_t *dims,
                              int32_t ndim) {
    *out = NULL;
    return load_path(ctx, out, path, dims, ndim, false);
}

eo_status eo_model_load(eo_ctx *ctx, eo_model **out, const char *path, const eo_model_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path);
    return load_path(ctx, out, path, opts && opts->ndim ? opts->dims : NULL, opts ? opts->ndim : 0,
                     false);
}

const eo_model_card *eo_model_get_card(const eo_model *m) { return m ? m->card : NULL; }

eo_status eo_model_card_load(eo_ctx *ctx, eo_model_card **out, const char *path) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path);
    eo_model *m = NULL;
    EOI_TRY_RET(load_path(ctx, &m, path, NULL, 0, true));
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
        EOI_TRY(st, load_model(ctx, &m, outb, outlen, NULL, NULL, 0, true));
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
    return shape_of(ctx, &m->g.values[m->g.input], dims, capacity, ndim);
}

eo_status eo_model_output_shape(eo_ctx *ctx, const eo_model *m, int64_t *dims, int32_t capacity,
                                int32_t *ndim) {
    EOI_CHECK_ARG(ctx, m);
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
    json_object_object_add(o, "input", dims_json(&m->g.values[m->g.input]));
    json_object_object_add(o, "output", dims_json(&m->g.values[m->g.output]));
    json_object_object_add(o, "opset", json_object_new_int64(m->onnx.opset));
    json_object_object_add(o, "onnx_nodes", json_object_new_int(m->onnx.nnodes));
    json_object_object_add(o, "nodes", json_object_new_int(m->g.nnodes));
    json_object_object_add(o, "flops", eoi_json_double(m->g.flops));
    json_object_object_add(o, "work_bytes",
                           json_object_new_int64((int64_t)(m->g.arena_bytes + m->g.scratch_bytes)));
    json_object_object_add(o, "simd", json_object_new_string(eoi_kernels_get()->name));
    eo_status st = eoi_json_dump(ctx, out, o, false);
    json_object_put(o);
    return st;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
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

eo_status eo_model_run(eo_ctx *ctx, const eo_model *cm, const float *in, const int64_t *shape,
                       int32_t ndim, float *out, size_t capacity) {
    EOI_CHECK_ARG(ctx, cm && in && shape && out);
    eo_model *m = (eo_model *)cm; /* only the pool changes, under its mutex */
    const eoi_graph *g = &m->g;
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
    r->buf[g->input] = (void *)in;
    if (!ov->cdata && g->output != g->input)
        r->buf[g->output] = out;
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
        double t0 = timing ? now_ms() : 0.0;
        if ((st = eoi_node_run(ctx, &ex, n)) != EO_OK)
            break;
        if (timing)
            eoi_log(ctx, EO_LOG_DEBUG, "infer: node %d '%s' (%s%s): %.3f ms", (int)i, n->name,
                    n->type, n->act.kind && n->op != EOI_OP_ACT ? " + activation" : "",
                    now_ms() - t0);
        st = eoi_progress(ctx, (double)(i + 1) / (double)g->nnodes, "infer");
    }
    if (st == EO_OK && (ov->cdata || g->output == g->input))
        memcpy(out, ov->cdata ? ov->cdata : in, (size_t)ov->n * sizeof(float));
    give_state(m, r);
    return st;
}

/* ---- for sliding-window segmentation (segment.c) ------------------------ */

const eoi_graph *eoi_model_graph(const eo_model *m) { return &m->g; }

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
    eo_status st = eoi_graph_build(ctx, &m->g, m->src, dims, ndim);
    if (st != EO_OK) {
        pthread_mutex_destroy(&m->mu);
        eoi_free(m);
        return st;
    }
    *out = m;
    return EO_OK;
}
