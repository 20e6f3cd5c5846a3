/* mem.c - allocation with limits and a fault injector for tests. */
#include "eoi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static atomic_long alloc_count;
static atomic_long alloc_fail_at; /* fail when alloc_count reaches this; 0 = never */

int64_t eo_exp_fail_alloc(int64_t nth) {
    long made = atomic_exchange(&alloc_count, 0);
    atomic_store(&alloc_fail_at, nth > 0 && nth <= LONG_MAX ? (long)nth : 0);
    return made;
}

static bool injected_failure(void) {
    long n = atomic_fetch_add(&alloc_count, 1) + 1;
    long at = atomic_load(&alloc_fail_at);
    return at > 0 && n == at;
}

static void *nomem(eo_ctx *ctx, size_t n) {
    eoi_fail(ctx, EO_E_NOMEM, "out of memory allocating %zu bytes", n);
    return NULL;
}

void *eoi_malloc(eo_ctx *ctx, size_t n) {
    if (n == 0)
        n = 1;
    if (n > (size_t)eoi_limit(ctx, EO_LIMIT_MAX_BYTES)) {
        eoi_fail(ctx, EO_E_LIMIT, "allocation of %zu bytes exceeds the limit of %lld bytes", n,
                 (long long)eoi_limit(ctx, EO_LIMIT_MAX_BYTES));
        return NULL;
    }
    if (injected_failure())
        return nomem(ctx, n);
    void *p = malloc(n);
    return p ? p : nomem(ctx, n);
}

void *eoi_calloc(eo_ctx *ctx, size_t count, size_t size) {
    size_t n;
    if (eoi_mul_size(&n, count, size)) {
        eoi_fail(ctx, EO_E_LIMIT, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = eoi_malloc(ctx, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *eoi_realloc(eo_ctx *ctx, void *p, size_t n) {
    if (n == 0)
        n = 1;
    if (n > (size_t)eoi_limit(ctx, EO_LIMIT_MAX_BYTES)) {
        eoi_fail(ctx, EO_E_LIMIT, "allocation of %zu bytes exceeds the limit of %lld bytes", n,
                 (long long)eoi_limit(ctx, EO_LIMIT_MAX_BYTES));
        return NULL;
    }
    if (injected_failure())
        return nomem(ctx, n);
    void *q = realloc(p, n);
    return q ? q : nomem(ctx, n);
}

bool eoi_grow(eo_ctx *ctx, void **p, size_t *cap, size_t need, size_t esize, size_t first) {
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : first ? first : 1, bytes;
    while (c < need) {
        if (c > SIZE_MAX / 2) {
            eoi_fail(ctx, EO_E_LIMIT, "an array of %zu elements overflows", need);
            return false;
        }
        c *= 2;
    }
    if (eoi_mul_size(&bytes, c, esize)) {
        eoi_fail(ctx, EO_E_LIMIT, "an array of %zu x %zu bytes overflows", c, esize);
        return false;
    }
    void *q = eoi_realloc(ctx, *p, bytes);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

char *eoi_strdup(eo_ctx *ctx, const char *s) {
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = eoi_malloc(ctx, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void eoi_free(void *p) { free(p); }
