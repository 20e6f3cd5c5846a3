/* spans.c - an elementwise loop over a value split into pieces on the
 * context's threads (eoi_over_spans, infer_int.h); a file of its own so that
 * nodes_math.c calls a leaf and the node files do not call each other. */
#include "infer_int.h"

typedef struct spanjob {
    eoi_span_fn fn;
    const eoi_node *n;
    const void *in;
    void *out;
    int64_t total;
} spanjob;

static eo_status span_piece(void *user, int64_t i, int32_t worker) {
    const spanjob *j = user;
    int64_t lo = i * EOI_SPAN, hi = lo + EOI_SPAN < j->total ? lo + EOI_SPAN : j->total;
    j->fn(j->n, j->in, j->out, lo, hi);
    (void)worker;
    return EO_OK;
}

eo_status eoi_over_spans(eo_ctx *ctx, const eoi_exec *ex, eoi_span_fn fn, const eoi_node *n,
                         const void *in, void *out, int64_t total) {
    if (ex->threads < 2 || total < 4 * EOI_SPAN) {
        fn(n, in, out, 0, total);
        return EO_OK;
    }
    spanjob j = {fn, n, in, out, total};
    return eoi_parallel_for(ctx, (total + EOI_SPAN - 1) / EOI_SPAN, span_piece, &j);
}
