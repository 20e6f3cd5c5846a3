/* setters.c - what the option objects' setters share: an integer within a
 * range, and a list of band numbers (checked, then copied). */
#include "eoi.h"

#include <string.h>

eo_status eoi_set_int_in(eo_ctx *ctx, int32_t *dst, int32_t v, int32_t lo, int32_t hi,
                         const char *fmt, const char *what) {
    if (v < lo || v > hi)
        return eoi_fail(ctx, EO_E_ARG, fmt, what, (int)v, (int)lo, (int)hi);
    *dst = v;
    return EO_OK;
}

int32_t eoi_bands_bad(const int32_t *bands, int32_t count) {
    for (int32_t i = 0; i < count; i++)
        if (bands[i] < 1)
            return i;
    return -1;
}

eo_status eoi_bands_check(eo_ctx *ctx, const int32_t *bands, int32_t count) {
    int32_t bad = eoi_bands_bad(bands, count);
    if (bad >= 0)
        return eoi_fail(ctx, EO_E_ARG, "band %d: bands are numbered from 1", (int)bands[bad]);
    return EO_OK;
}

eo_status eoi_bands_assign(eo_ctx *ctx, int32_t **slot, int32_t *n, const int32_t *bands,
                           int32_t count) {
    int32_t *copy = NULL;
    if (count > 0) {
        if (!(copy = eoi_malloc(ctx, (size_t)count * sizeof *copy)))
            return EO_E_NOMEM;
        memcpy(copy, bands, (size_t)count * sizeof *copy);
    }
    eoi_free(*slot);
    *slot = copy;
    *n = count;
    return EO_OK;
}
