/* thread.c - a parallel for over independent items (horizontal threading:
 * each worker runs the whole pipeline on its own items), and the monotonic
 * clock for durations. */
#include "eoi.h"

#include <pthread.h>
#include <time.h>

struct pool {
    eoi_job_fn fn;
    void *user;
    int64_t n;
    atomic_llong next;
    atomic_int failed; /* first failing status, 0 = none */
    const eo_ctx *ctx;
};

struct worker {
    struct pool *pool;
    int32_t id;
};

static void *run_worker(void *arg) {
    struct worker *w = arg;
    struct pool *p = w->pool;
    for (;;) {
        if (atomic_load(&p->failed))
            break;
        if (p->ctx && atomic_load(&((eo_ctx *)p->ctx)->cancelled)) {
            int zero = 0;
            atomic_compare_exchange_strong(&p->failed, &zero, EO_E_CANCELLED);
            break;
        }
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        eo_status st = p->fn(p->user, i, w->id);
        if (st != EO_OK) {
            int zero = 0;
            atomic_compare_exchange_strong(&p->failed, &zero, st);
            break;
        }
    }
    return NULL;
}

eo_status eoi_parallel_for(eo_ctx *ctx, int64_t n, eoi_job_fn fn, void *user) {
    if (n <= 0)
        return EO_OK;
    struct pool p = {.fn = fn, .user = user, .n = n, .ctx = ctx};
    atomic_init(&p.next, 0);
    atomic_init(&p.failed, 0);
    int32_t nt = eoi_threads(ctx);
    if (nt > n)
        nt = (int32_t)n;
    struct worker ws[64];
    pthread_t th[64];
    if (nt > 64)
        nt = 64;
    int started = 0;
    for (int32_t i = 1; i < nt; i++) {
        ws[i] = (struct worker){&p, i};
        if (pthread_create(&th[i], NULL, run_worker, &ws[i]) != 0)
            break;
        started = i;
    }
    ws[0] = (struct worker){&p, 0};
    run_worker(&ws[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    eo_status st = atomic_load(&p.failed);
    if (st == EO_E_CANCELLED && ctx)
        eoi_fail(ctx, EO_E_CANCELLED, "cancelled");
    return st;
}

struct eoi_async {
    struct pool p;
    struct worker ws[64];
    pthread_t th[64];
    int started;
};

eo_status eoi_async_start(eo_ctx *ctx, eoi_async **out, int64_t n, int32_t threads, eoi_job_fn fn,
                          void *user) {
    eoi_async *a = eoi_calloc(ctx, 1, sizeof *a);
    *out = NULL;
    if (!a)
        return EO_E_NOMEM;
    a->p = (struct pool){.fn = fn, .user = user, .n = n, .ctx = ctx};
    atomic_init(&a->p.next, 0);
    atomic_init(&a->p.failed, 0);
    int32_t nt = threads < 1 ? 1 : threads;
    nt = nt > n ? (int32_t)n : nt > 64 ? 64 : nt;
    for (int32_t i = 0; i < nt; i++) {
        a->ws[i] = (struct worker){&a->p, i};
        if (pthread_create(&a->th[i], NULL, run_worker, &a->ws[i]) != 0)
            break;
        a->started = i + 1;
    }
    if (a->started == 0 && n > 0) { /* no thread to be had: the items now */
        a->ws[0] = (struct worker){&a->p, 0};
        run_worker(&a->ws[0]);
    }
    *out = a;
    return EO_OK;
}

eo_status eoi_async_wait(eo_ctx *ctx, eoi_async *a) {
    if (!a)
        return EO_OK;
    for (int i = 0; i < a->started; i++)
        pthread_join(a->th[i], NULL);
    eo_status st = atomic_load(&a->p.failed);
    eoi_free(a);
    if (st == EO_E_CANCELLED && ctx)
        eoi_fail(ctx, EO_E_CANCELLED, "cancelled");
    return st;
}

double eoi_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
