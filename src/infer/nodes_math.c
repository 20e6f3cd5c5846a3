/* nodes_math.c - the scalar element-wise, broadcasting, reduction and
 * normalization nodes: unary math (Exp ... Erf, Elu, IsNaN), binary ops
 * with any broadcasting (Pow, Max, comparisons, logic), variadic Sum / Mean
 * / Max / Min, Where, Expand, Tile, the Reduce family with ArgMax / ArgMin,
 * LayerNormalization and InstanceNormalization. Values are read as double
 * (float) or int64 and written as the output's type; sums are in double.
 * The shapes were checked when the graph was built (graph.c). */
#include "infer_int.h"

#include <math.h>
#include <string.h>

#define V(ex, id) ((ex)->g->values[(id)])
#define BUF(ex, id) ((ex)->buf[(id)])

static double getd(const eoi_value *v, const void *p, int64_t i) {
    return v->dtype == EOI_I64 ? (double)((const int64_t *)p)[i] : (double)((const float *)p)[i];
}

static void putd(const eoi_value *v, void *p, int64_t i, double x) {
    if (v->dtype == EOI_I64)
        ((int64_t *)p)[i] = isfinite(x) && fabs(x) < 9.2e18 ? (int64_t)x : 0;
    else
        ((float *)p)[i] = (float)x;
}

eo_status eoi_run_more(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);

/* ---- broadcasting iteration over the output's elements ----------------- */
typedef struct biter {
    int32_t r, k;
    int64_t dims[EOI_MAXDIM], idx[EOI_MAXDIM];
    int64_t s[4][EOI_MAXDIM]; /* per input: stride of each output axis (0: broadcast) */
    int64_t off[4];
} biter;

static void biter_init(biter *it, const eoi_value *o, const eoi_value *const *in, int32_t k) {
    memset(it, 0, sizeof *it);
    it->r = o->ndim;
    it->k = k;
    memcpy(it->dims, o->dims, sizeof it->dims);
    for (int32_t j = 0; j < k; j++) {
        int64_t st = 1;
        for (int32_t i = o->ndim - 1; i >= 0; i--) {
            int32_t ii = i - (o->ndim - in[j]->ndim);
            int64_t d = ii >= 0 ? in[j]->dims[ii] : 1;
            it->s[j][i] = d == 1 ? 0 : st;
            st *= d;
        }
    }
}

static void biter_next(biter *it) {
    for (int32_t i = it->r - 1; i >= 0; i--) {
        for (int32_t j = 0; j < it->k; j++)
            it->off[j] += it->s[j][i];
        if (++it->idx[i] < it->dims[i])
            return;
        for (int32_t j = 0; j < it->k; j++)
            it->off[j] -= it->s[j][i] * it->dims[i];
        it->idx[i] = 0;
    }
}

/* ---- unary ------------------------------------------------------------- */
static double math1(const eoi_node *n, double x) {
    switch (n->binop) {
    case EOI_M_EXP:
        return exp(x);
    case EOI_M_LOG:
        return log(x);
    case EOI_M_SQRT:
        return sqrt(x);
    case EOI_M_NEG:
        return -x;
    case EOI_M_ABS:
        return fabs(x);
    case EOI_M_ERF:
        return erf(x);
    case EOI_M_RECIP:
        return 1.0 / x;
    case EOI_M_SIN:
        return sin(x);
    case EOI_M_COS:
        return cos(x);
    case EOI_M_TAN:
        return tan(x);
    case EOI_M_ASIN:
        return asin(x);
    case EOI_M_ACOS:
        return acos(x);
    case EOI_M_ATAN:
        return atan(x);
    case EOI_M_SINH:
        return sinh(x);
    case EOI_M_COSH:
        return cosh(x);
    case EOI_M_ASINH:
        return asinh(x);
    case EOI_M_ACOSH:
        return acosh(x);
    case EOI_M_ATANH:
        return atanh(x);
    case EOI_M_SIGN:
        return x > 0 ? 1.0 : x < 0 ? -1.0 : x; /* NaN stays NaN */
    case EOI_M_ROUND:
        return nearbyint(x); /* half to even in the default rounding mode */
    case EOI_M_ELU:
        return x < 0 ? n->alpha * (exp(x) - 1.0) : x;
    case EOI_M_SELU:
        return x <= 0 ? n->beta * (n->alpha * exp(x) - n->alpha) : n->beta * x;
    case EOI_M_CELU:
        return (x > 0 ? x : 0.0) + fmin(0.0, n->alpha * (exp(x / n->alpha) - 1.0));
    case EOI_M_SOFTPLUS:
        return x > 30.0 ? x : log1p(exp(x));
    case EOI_M_SOFTSIGN:
        return x / (1.0 + fabs(x));
    case EOI_M_THRELU:
        return x > n->alpha ? x : 0.0;
    case EOI_M_ISNAN:
        return isnan(x) ? 1.0 : 0.0;
    case EOI_M_ISINF:
        return isinf(x) && ((x > 0 && n->starts[1]) || (x < 0 && n->starts[0])) ? 1.0 : 0.0;
    case EOI_M_NOT:
        return x == 0.0 ? 1.0 : 0.0;
    case EOI_M_SHRINK:
        return x < -n->alpha ? x + n->beta : x > n->alpha ? x - n->beta : 0.0;
    case EOI_M_MISH:
        return x * tanh(x > 30.0 ? x : log1p(exp(x)));
    case EOI_M_GELU:
        return x * 0.5 * (1.0 + erf(x / sqrt(2.0)));
    default:
        return x;
    }
}

/* The common ones in float loops (erf and GELU cost 3-4 ns an element). */
static int unary_f32_has(int32_t op) {
    return op == EOI_M_ERF || op == EOI_M_GELU || op == EOI_M_EXP || op == EOI_M_SQRT ||
           op == EOI_M_NEG || op == EOI_M_RECIP;
}

static void unary_f32(const eoi_node *n, const void *in, void *out, int64_t lo, int64_t hi) {
    const float *a = in;
    float *q = out;
    switch (n->binop) {
    case EOI_M_ERF:
        for (int64_t i = lo; i < hi; i++)
            q[i] = erff(a[i]);
        break;
    case EOI_M_GELU:
        for (int64_t i = lo; i < hi; i++)
            q[i] = a[i] * 0.5f * (1.0f + erff(a[i] / 1.41421356f));
        break;
    case EOI_M_EXP:
        for (int64_t i = lo; i < hi; i++)
            q[i] = expf(a[i]);
        break;
    case EOI_M_SQRT:
        for (int64_t i = lo; i < hi; i++)
            q[i] = sqrtf(a[i]);
        break;
    case EOI_M_NEG:
        for (int64_t i = lo; i < hi; i++)
            q[i] = -a[i];
        break;
    default: /* EOI_M_RECIP */
        for (int64_t i = lo; i < hi; i++)
            q[i] = 1.0f / a[i];
        break;
    }
}

static eo_status run_unary(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    const void *in = BUF(ex, n->in[0]);
    void *out = BUF(ex, n->out[0]);
    if (x->dtype == EOI_I64 && o->dtype == EOI_I64) { /* Neg Abs Sign Not of integers */
        const int64_t *a = in;
        int64_t *q = out;
        for (int64_t i = 0; i < x->n; i++) {
            int64_t v = a[i];
            q[i] = n->binop == EOI_M_NEG   ? (int64_t)(0 - (uint64_t)v)
                   : n->binop == EOI_M_ABS ? (v < 0 ? (int64_t)(0 - (uint64_t)v) : v)
                   : n->binop == EOI_M_NOT ? !v
                                           : (v > 0) - (v < 0);
        }
        return EO_OK;
    }
    if (x->dtype == EOI_F32 && o->dtype == EOI_F32 && unary_f32_has(n->binop))
        return eoi_over_spans(ctx, ex, unary_f32, n, in, out, x->n);
    for (int64_t i = 0; i < x->n; i++)
        putd(o, out, i, math1(n, getd(x, in, i)));
    return EO_OK;
}

/* ---- binary, variadic, where --------------------------------------------- */
static double floor_mod(double a, double b) {
    double r = fmod(a, b);
    return r != 0.0 && ((r < 0) != (b < 0)) ? r + b : r;
}

static double bin1(int32_t op, double a, double b) {
    switch (op) {
    case EOI_B_POW:
        return pow(a, b);
    case EOI_B_MAX:
        return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
    case EOI_B_MIN:
        return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
    case EOI_B_SUM:
    case EOI_B_MEAN:
        return a + b;
    case EOI_B_EQ:
        return a == b;
    case EOI_B_GT:
        return a > b;
    case EOI_B_GE:
        return a >= b;
    case EOI_B_LT:
        return a < b;
    case EOI_B_LE:
        return a <= b;
    case EOI_B_AND:
        return a != 0 && b != 0;
    case EOI_B_OR:
        return a != 0 || b != 0;
    case EOI_B_XOR:
        return (a != 0) != (b != 0);
    case EOI_B_MOD:
        return floor_mod(a, b);
    case EOI_B_FMOD:
        return fmod(a, b);
    default:
        return a;
    }
}

/* The same on int64 (exact; Pow by repeated squaring, Mod of 0 is 0). */
static int64_t bin1_i64(int32_t op, int64_t a, int64_t b) {
    switch (op) {
    case EOI_B_POW: {
        uint64_t r = 1, x = (uint64_t)a;
        if (b < 0)
            return a == 1 ? 1 : 0;
        for (int64_t e = b; e; e >>= 1, x *= x)
            if (e & 1)
                r *= x;
        return (int64_t)r;
    }
    case EOI_B_MAX:
        return a > b ? a : b;
    case EOI_B_MIN:
        return a < b ? a : b;
    case EOI_B_SUM:
    case EOI_B_MEAN:
        return (int64_t)((uint64_t)a + (uint64_t)b);
    case EOI_B_MOD:
    case EOI_B_FMOD: {
        if (b == 0 || (a == INT64_MIN && b == -1))
            return 0;
        int64_t r = a % b;
        return op == EOI_B_MOD && r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
    }
    default:
        return (int64_t)bin1(op, (double)a, (double)b);
    }
}

static eo_status run_bcast(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *va = &V(ex, n->in[0]), *vb = &V(ex, n->in[1]), *vo = &V(ex, n->out[0]);
    const eoi_value *ins[2] = {va, vb};
    const void *a = BUF(ex, n->in[0]), *b = BUF(ex, n->in[1]);
    void *o = BUF(ex, n->out[0]);
    biter it;
    biter_init(&it, vo, ins, 2);
    int ints = va->dtype == EOI_I64 && vb->dtype == EOI_I64;
    for (int64_t e = 0; e < vo->n; e++, biter_next(&it)) {
        if (ints) {
            int64_t r = bin1_i64(n->binop, ((const int64_t *)a)[it.off[0]],
                                 ((const int64_t *)b)[it.off[1]]);
            if (vo->dtype == EOI_I64)
                ((int64_t *)o)[e] = r;
            else
                ((float *)o)[e] = (float)r;
        } else {
            putd(vo, o, e, bin1(n->binop, getd(va, a, it.off[0]), getd(vb, b, it.off[1])));
        }
    }
    return EO_OK;
}

static eo_status run_variadic(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *vo = &V(ex, n->out[0]);
    if (vo->dtype == EOI_I64) {
        int64_t *o = BUF(ex, n->out[0]);
        for (int32_t k = 0; k < n->nin; k++) {
            const eoi_value *vi = &V(ex, n->in[k]);
            const int64_t *p = BUF(ex, n->in[k]);
            biter it;
            biter_init(&it, vo, &vi, 1);
            for (int64_t e = 0; e < vo->n; e++, biter_next(&it))
                o[e] = k == 0 ? p[it.off[0]] : bin1_i64(n->binop, o[e], p[it.off[0]]);
        }
        if (n->binop == EOI_B_MEAN)
            for (int64_t e = 0; e < vo->n; e++)
                o[e] /= n->nin;
        return EO_OK;
    }
    float *o = BUF(ex, n->out[0]);
    for (int32_t k = 0; k < n->nin; k++) {
        const eoi_value *vi = &V(ex, n->in[k]);
        const float *p = BUF(ex, n->in[k]);
        biter it;
        biter_init(&it, vo, &vi, 1);
        for (int64_t e = 0; e < vo->n; e++, biter_next(&it))
            o[e] = k == 0 ? p[it.off[0]] : (float)bin1(n->binop, o[e], p[it.off[0]]);
    }
    if (n->binop == EOI_B_MEAN)
        for (int64_t e = 0; e < vo->n; e++)
            o[e] = (float)((double)o[e] / n->nin);
    return EO_OK;
}

static eo_status run_where(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *ins[3] = {&V(ex, n->in[0]), &V(ex, n->in[1]), &V(ex, n->in[2])};
    const eoi_value *vo = &V(ex, n->out[0]);
    const int64_t *c = BUF(ex, n->in[0]);
    const char *x = BUF(ex, n->in[1]), *y = BUF(ex, n->in[2]);
    char *o = BUF(ex, n->out[0]);
    size_t es = vo->dtype == EOI_I64 ? 8 : 4;
    biter it;
    biter_init(&it, vo, ins, 3);
    for (int64_t e = 0; e < vo->n; e++, biter_next(&it))
        memcpy(o + (size_t)e * es,
               c[it.off[0]] ? x + (size_t)it.off[1] * es : y + (size_t)it.off[2] * es, es);
    return EO_OK;
}

/* Expand: broadcast copy; Tile: the input repeated (index modulo size). */
static eo_status run_expand(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *vi = &V(ex, n->in[0]), *vo = &V(ex, n->out[0]);
    const char *in = BUF(ex, n->in[0]);
    char *o = BUF(ex, n->out[0]);
    size_t es = vo->dtype == EOI_I64 ? 8 : 4;
    if (!n->binop) {
        biter it;
        biter_init(&it, vo, &vi, 1);
        for (int64_t e = 0; e < vo->n; e++, biter_next(&it))
            memcpy(o + (size_t)e * es, in + (size_t)it.off[0] * es, es);
        return EO_OK;
    }
    int64_t idx[EOI_MAXDIM] = {0}, st[EOI_MAXDIM];
    int64_t s = 1;
    for (int32_t i = vi->ndim - 1; i >= 0; i--) {
        st[i] = s;
        s *= vi->dims[i];
    }
    for (int64_t e = 0; e < vo->n; e++) {
        int64_t off = 0;
        for (int32_t i = 0; i < vo->ndim; i++)
            off += (idx[i] % vi->dims[i]) * st[i];
        memcpy(o + (size_t)e * es, in + (size_t)off * es, es);
        for (int32_t i = vo->ndim - 1; i >= 0; i--) {
            if (++idx[i] < vo->dims[i])
                break;
            idx[i] = 0;
        }
    }
    return EO_OK;
}

/* ---- reductions ---------------------------------------------------------- */
static eo_status run_reduce(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *vo = &V(ex, n->out[0]);
    const void *in = BUF(ex, n->in[0]);
    void *out = BUF(ex, n->out[0]);
    /* the output as x's rank with 1 on reduced axes: strides of x's axes */
    eoi_value kept = *x;
    int64_t cnt = 1;
    for (int32_t i = 0; i < x->ndim; i++)
        if (n->perm[i]) {
            cnt *= x->dims[i];
            kept.dims[i] = 1;
        }
    kept.n = vo->n;
    int64_t nout = vo->n;
    double *acc = eoi_malloc(ctx, (size_t)(nout + 1) * 2 * sizeof(double));
    if (!acc)
        return EO_E_NOMEM;
    double *aux = acc + nout + 1; /* max (LogSumExp) or best index (ArgMax/Min) */
    int32_t k = n->binop;
    for (int64_t j = 0; j < nout; j++) {
        acc[j] = k == EOI_R_PROD     ? 1.0
                 : k == EOI_R_MAX    ? -INFINITY
                 : k == EOI_R_MIN    ? INFINITY
                 : k == EOI_R_ARGMAX ? -INFINITY
                 : k == EOI_R_ARGMIN ? INFINITY
                                     : 0.0;
        aux[j] = k == EOI_R_LOGSUMEXP ? -INFINITY : -1.0;
    }
    /* walk x, each element to its output: x's axes in order, out index by
     * kept's strides */
    eoi_value xv = *x;
    const eoi_value *src = &kept;
    for (int pass = k == EOI_R_LOGSUMEXP ? 0 : 1; pass < 2; pass++) {
        biter it;
        biter_init(&it, &xv, &src, 1);
        int64_t pos = 0; /* index along the reduced axes, for ArgMax / ArgMin */
        for (int64_t e = 0; e < x->n; e++, biter_next(&it)) {
            int64_t j = it.off[0];
            double v = getd(x, in, e);
            if (pass == 0) { /* LogSumExp: the max first */
                if (v > aux[j])
                    aux[j] = v;
                continue;
            }
            switch (k) {
            case EOI_R_SUM:
            case EOI_R_MEAN:
            case EOI_R_LOGSUM:
                acc[j] += v;
                break;
            case EOI_R_MAX:
                acc[j] = isnan(v) || isnan(acc[j]) ? NAN : v > acc[j] ? v : acc[j];
                break;
            case EOI_R_MIN:
                acc[j] = isnan(v) || isnan(acc[j]) ? NAN : v < acc[j] ? v : acc[j];
                break;
            case EOI_R_PROD:
                acc[j] *= v;
                break;
            case EOI_R_L1:
                acc[j] += fabs(v);
                break;
            case EOI_R_L2:
            case EOI_R_SUMSQUARE:
                acc[j] += v * v;
                break;
            case EOI_R_LOGSUMEXP:
                acc[j] += isinf(aux[j]) ? exp(v) : exp(v - aux[j]);
                break;
            default: { /* ArgMax / ArgMin: the position along the one axis */
                pos = it.idx[n->axis];
                int better = k == EOI_R_ARGMAX ? (n->starts[1] ? v >= acc[j] : v > acc[j])
                                               : (n->starts[1] ? v <= acc[j] : v < acc[j]);
                if (aux[j] < 0 || better) {
                    acc[j] = v;
                    aux[j] = (double)pos;
                }
                break;
            }
            }
        }
    }
    for (int64_t j = 0; j < nout; j++) {
        double r = acc[j];
        switch (k) {
        case EOI_R_MEAN:
            r = cnt ? r / (double)cnt : NAN;
            break;
        case EOI_R_L2:
            r = sqrt(r);
            break;
        case EOI_R_LOGSUM:
            r = log(r);
            break;
        case EOI_R_LOGSUMEXP:
            r = isinf(aux[j]) ? log(r) : log(r) + aux[j];
            break;
        case EOI_R_ARGMAX:
        case EOI_R_ARGMIN:
            r = aux[j] < 0 ? 0 : aux[j];
            break;
        default:
            break;
        }
        putd(vo, out, j, r);
    }
    eoi_free(acc);
    return EO_OK;
}

/* ---- normalization ------------------------------------------------------- */
/* Mean of p[n] into *mean and 1 / sqrt(variance + eps), in double. */
static double norm_stats(const float *p, int64_t n, float eps, double *mean) {
    double s = 0.0, ss = 0.0;
    for (int64_t j = 0; j < n; j++)
        s += p[j];
    *mean = n ? s / (double)n : 0.0;
    for (int64_t j = 0; j < n; j++)
        ss += ((double)p[j] - *mean) * ((double)p[j] - *mean);
    return 1.0 / sqrt((n ? ss / (double)n : 0.0) + (double)eps);
}

/* LayerNormalization over rows of inner elements; a job takes rows
 * [i rows, (i + 1) rows), about EOI_SPAN elements. */
typedef struct lnjob {
    const float *in, *sc, *bi;
    float *out, *mo, *io;
    int64_t inner, outer, rows, nsc, nbi;
    float eps;
} lnjob;

static eo_status layernorm_rows(void *user, int64_t jb, int32_t worker) {
    const lnjob *l = user;
    int64_t lo = jb * l->rows, hi = lo + l->rows < l->outer ? lo + l->rows : l->outer;
    for (int64_t o = lo; o < hi; o++) {
        const float *p = l->in + o * l->inner;
        float *q = l->out + o * l->inner;
        double mean, inv = norm_stats(p, l->inner, l->eps, &mean);
        for (int64_t j = 0; j < l->inner; j++)
            q[j] = (float)(((double)p[j] - mean) * inv * l->sc[l->nsc == 1 ? 0 : j] +
                           (l->bi ? l->bi[l->nbi == 1 ? 0 : j] : 0.0f));
        if (l->mo)
            l->mo[o] = (float)mean;
        if (l->io)
            l->io[o] = (float)inv;
    }
    (void)worker;
    return EO_OK;
}

static eo_status run_layernorm(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *vs = &V(ex, n->in[1]);
    const eoi_value *vb = n->nin > 2 && n->in[2] >= 0 ? &V(ex, n->in[2]) : NULL;
    lnjob l = {BUF(ex, n->in[0]),
               BUF(ex, n->in[1]),
               vb ? BUF(ex, n->in[2]) : NULL,
               BUF(ex, n->out[0]),
               n->nout > 1 && V(ex, n->out[1]).name[0] ? BUF(ex, n->out[1]) : NULL,
               n->nout > 2 && V(ex, n->out[2]).name[0] ? BUF(ex, n->out[2]) : NULL,
               1,
               1,
               1,
               vs->n,
               vb ? vb->n : 0,
               n->eps};
    for (int32_t i = 0; i < x->ndim; i++)
        *(i < n->axis ? &l.outer : &l.inner) *= x->dims[i];
    l.rows = l.inner > 0 && EOI_SPAN / l.inner > 1 ? EOI_SPAN / l.inner : 1;
    int64_t jobs = (l.outer + l.rows - 1) / l.rows;
    if (ex->threads < 2 || x->n < 4 * EOI_SPAN) {
        for (int64_t jb = 0; jb < jobs; jb++)
            layernorm_rows(&l, jb, 0);
        return EO_OK;
    }
    return eoi_parallel_for(ctx, jobs, layernorm_rows, &l);
}

static eo_status run_instnorm(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]);
    const float *in = BUF(ex, n->in[0]), *sc = BUF(ex, n->in[1]), *bi = BUF(ex, n->in[2]);
    float *out = BUF(ex, n->out[0]);
    int64_t c = x->dims[1], planes = x->dims[0] * c, plane = planes ? x->n / planes : 0;
    for (int64_t p = 0; p < planes; p++) {
        const float *a = in + p * plane;
        float *q = out + p * plane;
        double mean, inv = norm_stats(a, plane, n->eps, &mean);
        for (int64_t j = 0; j < plane; j++)
            q[j] = (float)(((double)a[j] - mean) * inv * sc[p % c] + bi[p % c]);
    }
    return EO_OK;
}

eo_status eoi_run_math(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    switch (n->op) {
    case EOI_OP_MATH:
        return run_unary(ctx, ex, n);
    case EOI_OP_BCAST:
        return run_bcast(ex, n);
    case EOI_OP_VARIADIC:
        return run_variadic(ex, n);
    case EOI_OP_SELECT:
        return run_where(ex, n);
    case EOI_OP_EXPAND:
        return run_expand(ex, n);
    case EOI_OP_REDUCE:
        return run_reduce(ctx, ex, n);
    case EOI_OP_LAYERNORM:
        return run_layernorm(ctx, ex, n);
    case EOI_OP_INSTNORM:
        return run_instnorm(ex, n);
    case EOI_OP_RANGE:
    case EOI_OP_TRILU:
    case EOI_OP_GATHERELEM:
    case EOI_OP_CUMSUM:
    case EOI_OP_D2S:
        return eoi_run_more(ctx, ex, n);
    default:
        return eoi_fail(ctx, EO_E_INTERNAL, "node '%s': no kernel for op %d", n->name, (int)n->op);
    }
}

/* ---- Range, Trilu, GatherElements, CumSum -------------------------------- */
static void strides(const eoi_value *v, int64_t *s) {
    int64_t t = 1;
    for (int32_t i = v->ndim - 1; i >= 0; i--) {
        s[i] = t;
        t *= v->dims[i];
    }
}

eo_status eoi_run_more(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *vo = &V(ex, n->out[0]);
    const void *in = BUF(ex, n->in[0]);
    void *out = BUF(ex, n->out[0]);
    size_t es = vo->dtype == EOI_I64 ? 8 : 4;
    switch (n->op) {
    case EOI_OP_RANGE:
        for (int64_t i = 0; i < vo->n; i++) {
            if (vo->dtype == EOI_I64)
                ((int64_t *)out)[i] = n->starts[0] + i * n->starts[1];
            else
                ((float *)out)[i] = n->alpha + (float)i * n->beta;
        }
        return EO_OK;
    case EOI_OP_TRILU: {
        int64_t r = x->dims[x->ndim - 2], c = x->dims[x->ndim - 1], k = n->starts[0];
        for (int64_t i = 0; i < x->n; i++) {
            int64_t col = i % (c ? c : 1), row = (i / (c ? c : 1)) % (r ? r : 1);
            int keep = n->binop ? col - row >= k : col - row <= k;
            if (keep)
                memcpy((char *)out + (size_t)i * es, (const char *)in + (size_t)i * es, es);
            else
                memset((char *)out + (size_t)i * es, 0, es);
        }
        return EO_OK;
    }
    case EOI_OP_GATHERELEM: {
        const eoi_value *vi = &V(ex, n->in[1]);
        const int64_t *idx = BUF(ex, n->in[1]);
        int64_t sx[EOI_MAXDIM], pos[EOI_MAXDIM] = {0}, d = x->dims[n->axis];
        strides(x, sx);
        for (int64_t e = 0; e < vi->n; e++) {
            int64_t k = idx[e] < 0 ? idx[e] + d : idx[e];
            if (k < 0 || k >= d)
                return eoi_fail(ctx, EO_E_ARG, "node '%s': index %lld out of range", n->name,
                                (long long)idx[e]);
            int64_t off = 0;
            for (int32_t i = 0; i < x->ndim; i++)
                off += (i == n->axis ? k : pos[i]) * sx[i];
            memcpy((char *)out + (size_t)e * es, (const char *)in + (size_t)off * es, es);
            for (int32_t i = vi->ndim - 1; i >= 0; i--) {
                if (++pos[i] < vi->dims[i])
                    break;
                pos[i] = 0;
            }
        }
        return EO_OK;
    }
    case EOI_OP_D2S: {
        /* DepthToSpace: out[n][c][h*b+i][w*b+j] = in[n][ch][h][w] with ch =
         * (i*b + j)*C + c (DCR) or c*b*b + i*b + j (CRD); SpaceToDepth the
         * inverse of DCR */
        int64_t b = n->k[0], crd = n->starts[0];
        int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
        int64_t oc = vo->dims[1], oh = vo->dims[2], ow = vo->dims[3];
        for (int64_t e = 0; e < vo->n; e++) {
            int64_t w = e % ow, h = (e / ow) % oh, c = (e / (ow * oh)) % oc,
                    nb = e / (ow * oh * oc);
            int64_t src;
            if (!n->binop) {
                int64_t i = h % b, j = w % b;
                int64_t ch = crd ? c * b * b + i * b + j : (i * b + j) * oc + c;
                src = ((nb * C + ch) * H + h / b) * W + w / b;
            } else {
                int64_t blk = c / C, cc = c % C, i = blk / b, j = blk % b;
                src = ((nb * C + cc) * H + h * b + i) * W + w * b + j;
            }
            memcpy((char *)out + (size_t)e * es, (const char *)in + (size_t)src * es, es);
        }
        (void)N;
        return EO_OK;
    }
    default: { /* CumSum */
        int64_t s[EOI_MAXDIM], len = x->dims[n->axis];
        strides(x, s);
        int64_t st = s[n->axis], outer = x->n / (len ? len : 1) / st;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < st; j++) {
                double acc = 0.0;
                int64_t iacc = 0;
                for (int64_t t = 0; t < len; t++) {
                    int64_t q = n->starts[1] ? len - 1 - t : t;
                    int64_t off = (o * len + q) * st + j;
                    double v = getd(x, in, off);
                    int64_t iv = x->dtype == EOI_I64 ? ((const int64_t *)in)[off] : 0;
                    if (!n->starts[0]) {
                        acc += v;
                        iacc += iv;
                    }
                    if (x->dtype == EOI_I64)
                        ((int64_t *)out)[off] = iacc;
                    else
                        ((float *)out)[off] = (float)acc;
                    if (n->starts[0]) {
                        acc += v;
                        iacc += iv;
                    }
                }
            }
        return EO_OK;
    }
    }
}
