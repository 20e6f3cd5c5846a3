/* graph.c - from a parsed ONNX model to an executable graph for one fixed
 * input shape: operator mapping and attribute checks (unsupported ones fail
 * with model.UnsupportedOp naming op and node), shape inference, constant
 * folding (Shape / Gather / Unsqueeze / Concat / Cast / Reshape chains and
 * anything else whose inputs are all constants), batch norm folded into
 * convolution weights, activations fused into the convolution epilogue,
 * and a buffer plan that reuses memory once a value is dead. */
#include "infer_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct build {
    eo_ctx *ctx;
    eoi_graph *g;
    const eoi_onnx *m;
    const eoi_onode *on; /* node being prepared (for messages) */
    int32_t cap_values;
    uint8_t *want; /* per graph input: needed as a constant (or NULL) */
    size_t folded; /* bytes of constants made by folding so far */
} build;

/* What constant folding may make, in all: 8 times the model file (fp16
 * weights cast to float32 fold to twice their size), at least 256 MiB. A
 * 41 KB file whose ConstantOfShape and Expand nodes fold to gigabytes is
 * refused instead of exhausting memory at load. */
#define FOLD_MIN_BUDGET ((size_t)256 << 20)
#define FOLD_FILE_FACTOR 8

static eo_status bfail(build *b, eo_status st, const char *fmt, ...) EOI_PRINTF(3, 4);
static eo_status bfail(build *b, eo_status st, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (b->on)
        return eoi_fail(b->ctx, st, "node '%s' (%s): %s", b->on->name, b->on->op, msg);
    return eoi_fail(b->ctx, st, "%s", msg);
}

static void *galloc(build *b, size_t n) { return eoi_arena_alloc(b->ctx, &b->g->arena, n); }

/* ---- values ------------------------------------------------------------ */
static int32_t find_value(const eoi_graph *g, const char *name) {
    for (int32_t i = g->nvalues - 1; i >= 0; i--)
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    return -1;
}

static int32_t add_value(build *b, const char *name) {
    eoi_graph *g = b->g;
    if (g->nvalues == b->cap_values)
        return -1; /* capacity was counted before */
    eoi_value *v = &g->values[g->nvalues];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->last_use = -1;
    return g->nvalues++;
}

static void set_shape(eoi_value *v, int32_t dtype, int32_t ndim, const int64_t *dims) {
    v->dtype = dtype;
    v->ndim = ndim;
    v->n = 1;
    for (int32_t i = 0; i < ndim; i++) {
        v->dims[i] = dims[i];
        if (v->n >= 0 && (eoi_mul_i64(&v->n, v->n, dims[i]) || v->n > (int64_t)1 << 40))
            v->n = -1; /* refused after prepare */
    }
}

/* ---- attributes -------------------------------------------------------- */
static int64_t attr_i(const eoi_onode *n, const char *name, int64_t def) {
    const eoi_attr *a = eoi_attr_find(n, name);
    return a ? a->i : def;
}
static float attr_f(const eoi_onode *n, const char *name, float def) {
    const eoi_attr *a = eoi_attr_find(n, name);
    return a ? a->f : def;
}
static const char *attr_s(const eoi_onode *n, const char *name, const char *def) {
    const eoi_attr *a = eoi_attr_find(n, name);
    return a && a->s ? a->s : def;
}
/* ints attribute into out[cap]; returns the count, or -1 if absent. */
static int32_t attr_ints(const eoi_onode *n, const char *name, int64_t *out, int32_t cap) {
    const eoi_attr *a = eoi_attr_find(n, name);
    if (!a)
        return -1;
    int32_t k = a->nints < cap ? a->nints : cap;
    for (int32_t i = 0; i < k; i++)
        out[i] = a->ints[i];
    return a->nints;
}

/* ---- operator table ---------------------------------------------------- */
typedef struct opdef {
    const char *name;
    int32_t op, act, binop;
} opdef;

static const opdef OPS[] = {
    {"Conv", EOI_OP_CONV, 0, 0},
    {"ConvTranspose", EOI_OP_CONVT, 0, 0},
    {"BatchNormalization", EOI_OP_BN, 0, 0},
    {"Relu", EOI_OP_ACT, EOI_ACT_RELU, 0},
    {"LeakyRelu", EOI_OP_ACT, EOI_ACT_LEAKY, 0},
    {"Clip", EOI_OP_ACT, EOI_ACT_CLIP, 0},
    {"Sigmoid", EOI_OP_ACT, EOI_ACT_SIGMOID, 0},
    {"HardSigmoid", EOI_OP_ACT, EOI_ACT_HSIGMOID, 0},
    {"HardSwish", EOI_OP_ACT, EOI_ACT_HSWISH, 0},
    {"Tanh", EOI_OP_ACT, EOI_ACT_TANH, 0},
    {"Floor", EOI_OP_ACT, EOI_ACT_FLOOR, 0},
    {"Ceil", EOI_OP_ACT, EOI_ACT_CEIL, 0},
    {"PRelu", EOI_OP_BINARY, 0, EOI_BIN_PRELU},
    {"Softmax", EOI_OP_SOFTMAX, 0, 0},
    {"Add", EOI_OP_BINARY, 0, EOI_BIN_ADD},
    {"Sub", EOI_OP_BINARY, 0, EOI_BIN_SUB},
    {"Mul", EOI_OP_BINARY, 0, EOI_BIN_MUL},
    {"Div", EOI_OP_BINARY, 0, EOI_BIN_DIV},
    {"Concat", EOI_OP_CONCAT, 0, 0},
    {"Split", EOI_OP_SPLIT, 0, 0},
    {"Slice", EOI_OP_SLICE, 0, 0},
    {"MaxPool", EOI_OP_MAXPOOL, 0, 0},
    {"AveragePool", EOI_OP_AVGPOOL, 0, 0},
    {"GlobalAveragePool", EOI_OP_GAP, 0, 0},
    {"Resize", EOI_OP_RESIZE, 0, 0},
    {"Upsample", EOI_OP_RESIZE, 0, 0},
    {"Pad", EOI_OP_PAD, 0, 0},
    {"Identity", EOI_OP_COPY, 0, 0},
    {"Dropout", EOI_OP_COPY, 0, 0},
    {"Flatten", EOI_OP_COPY, 0, 0},
    {"Reshape", EOI_OP_COPY, 0, 0},
    {"Squeeze", EOI_OP_COPY, 0, 0},
    {"Unsqueeze", EOI_OP_COPY, 0, 0},
    {"Transpose", EOI_OP_TRANSPOSE, 0, 0},
    {"Gemm", EOI_OP_GEMM, 0, 0},
    {"MatMul", EOI_OP_MATMUL, 0, 0},
    {"Constant", EOI_OP_CONSTANT, 0, 0},
    {"Shape", EOI_OP_SHAPE, 0, 0},
    {"Size", EOI_OP_SHAPE, 0, 1},
    {"Range", EOI_OP_RANGE, 0, 0},
    {"Trilu", EOI_OP_TRILU, 0, 0},
    {"GatherElements", EOI_OP_GATHERELEM, 0, 0},
    {"CumSum", EOI_OP_CUMSUM, 0, 0},
    {"GlobalMaxPool", EOI_OP_REDUCE, 0, EOI_R_MAX},
    {"DepthToSpace", EOI_OP_D2S, 0, 0},
    {"SpaceToDepth", EOI_OP_D2S, 0, 1},
    {"Gather", EOI_OP_GATHER, 0, 0},
    {"Cast", EOI_OP_CAST, 0, 0},
    {"ConstantOfShape", EOI_OP_CONSTOFSHAPE, 0, 0},
    {"Exp", EOI_OP_MATH, 0, EOI_M_EXP},
    {"Log", EOI_OP_MATH, 0, EOI_M_LOG},
    {"Sqrt", EOI_OP_MATH, 0, EOI_M_SQRT},
    {"Neg", EOI_OP_MATH, 0, EOI_M_NEG},
    {"Abs", EOI_OP_MATH, 0, EOI_M_ABS},
    {"Erf", EOI_OP_MATH, 0, EOI_M_ERF},
    {"Reciprocal", EOI_OP_MATH, 0, EOI_M_RECIP},
    {"Sin", EOI_OP_MATH, 0, EOI_M_SIN},
    {"Cos", EOI_OP_MATH, 0, EOI_M_COS},
    {"Tan", EOI_OP_MATH, 0, EOI_M_TAN},
    {"Asin", EOI_OP_MATH, 0, EOI_M_ASIN},
    {"Acos", EOI_OP_MATH, 0, EOI_M_ACOS},
    {"Atan", EOI_OP_MATH, 0, EOI_M_ATAN},
    {"Sinh", EOI_OP_MATH, 0, EOI_M_SINH},
    {"Cosh", EOI_OP_MATH, 0, EOI_M_COSH},
    {"Asinh", EOI_OP_MATH, 0, EOI_M_ASINH},
    {"Acosh", EOI_OP_MATH, 0, EOI_M_ACOSH},
    {"Atanh", EOI_OP_MATH, 0, EOI_M_ATANH},
    {"Sign", EOI_OP_MATH, 0, EOI_M_SIGN},
    {"Round", EOI_OP_MATH, 0, EOI_M_ROUND},
    {"Elu", EOI_OP_MATH, 0, EOI_M_ELU},
    {"Selu", EOI_OP_MATH, 0, EOI_M_SELU},
    {"Celu", EOI_OP_MATH, 0, EOI_M_CELU},
    {"Softplus", EOI_OP_MATH, 0, EOI_M_SOFTPLUS},
    {"Softsign", EOI_OP_MATH, 0, EOI_M_SOFTSIGN},
    {"ThresholdedRelu", EOI_OP_MATH, 0, EOI_M_THRELU},
    {"IsNaN", EOI_OP_MATH, 0, EOI_M_ISNAN},
    {"IsInf", EOI_OP_MATH, 0, EOI_M_ISINF},
    {"Not", EOI_OP_MATH, 0, EOI_M_NOT},
    {"Shrink", EOI_OP_MATH, 0, EOI_M_SHRINK},
    {"Mish", EOI_OP_MATH, 0, EOI_M_MISH},
    {"Pow", EOI_OP_BCAST, 0, EOI_B_POW},
    {"Equal", EOI_OP_BCAST, 0, EOI_B_EQ},
    {"Greater", EOI_OP_BCAST, 0, EOI_B_GT},
    {"GreaterOrEqual", EOI_OP_BCAST, 0, EOI_B_GE},
    {"Less", EOI_OP_BCAST, 0, EOI_B_LT},
    {"LessOrEqual", EOI_OP_BCAST, 0, EOI_B_LE},
    {"And", EOI_OP_BCAST, 0, EOI_B_AND},
    {"Or", EOI_OP_BCAST, 0, EOI_B_OR},
    {"Xor", EOI_OP_BCAST, 0, EOI_B_XOR},
    {"Mod", EOI_OP_BCAST, 0, EOI_B_MOD},
    {"Max", EOI_OP_VARIADIC, 0, EOI_B_MAX},
    {"Min", EOI_OP_VARIADIC, 0, EOI_B_MIN},
    {"Sum", EOI_OP_VARIADIC, 0, EOI_B_SUM},
    {"Mean", EOI_OP_VARIADIC, 0, EOI_B_MEAN},
    {"ReduceSum", EOI_OP_REDUCE, 0, EOI_R_SUM},
    {"ReduceMean", EOI_OP_REDUCE, 0, EOI_R_MEAN},
    {"ReduceMax", EOI_OP_REDUCE, 0, EOI_R_MAX},
    {"ReduceMin", EOI_OP_REDUCE, 0, EOI_R_MIN},
    {"ReduceProd", EOI_OP_REDUCE, 0, EOI_R_PROD},
    {"ReduceL1", EOI_OP_REDUCE, 0, EOI_R_L1},
    {"ReduceL2", EOI_OP_REDUCE, 0, EOI_R_L2},
    {"ReduceLogSum", EOI_OP_REDUCE, 0, EOI_R_LOGSUM},
    {"ReduceLogSumExp", EOI_OP_REDUCE, 0, EOI_R_LOGSUMEXP},
    {"ReduceSumSquare", EOI_OP_REDUCE, 0, EOI_R_SUMSQUARE},
    {"ArgMax", EOI_OP_REDUCE, 0, EOI_R_ARGMAX},
    {"ArgMin", EOI_OP_REDUCE, 0, EOI_R_ARGMIN},
    {"Where", EOI_OP_SELECT, 0, 0},
    {"Expand", EOI_OP_EXPAND, 0, 0},
    {"Tile", EOI_OP_EXPAND, 0, 1},
    {"LayerNormalization", EOI_OP_LAYERNORM, 0, 0},
    {"InstanceNormalization", EOI_OP_INSTNORM, 0, 0},
    {"LogSoftmax", EOI_OP_SOFTMAX, 0, 1},
    {"Hardmax", EOI_OP_SOFTMAX, 0, 2},
};

static const opdef *find_op(const eoi_onode *on) {
    if (on->domain && on->domain[0] && strcmp(on->domain, "ai.onnx") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(OPS[i].name, on->op) == 0)
            return &OPS[i];
    return NULL;
}

/* ---- helpers for shape inference --------------------------------------- */
static const eoi_value *in_val(build *b, const eoi_node *n, int32_t i) {
    return i < n->nin && n->in[i] >= 0 ? &b->g->values[n->in[i]] : NULL;
}
static eoi_value *out_val(build *b, const eoi_node *n, int32_t i) {
    return &b->g->values[n->out[i]];
}

/* Whether v is a constant; a graph input that is not is asked for (the
 * caller may then bind it to its value and build again). */
static int cval(build *b, const eoi_value *v) {
    if (v->cdata)
        return 1;
    if (v->in_index > 0 && b->want)
        b->want[v->in_index - 1] = 1;
    return 0;
}

/* f as int64, saturated: a float out of int64's range (or NaN, read as the
 * lowest) becomes a value every caller refuses, never undefined behaviour */
static int64_t sat_i64(float f) {
    if (!(f > -9.2233720368547758e18f))
        return INT64_MIN;
    if (f >= 9.2233720368547758e18f)
        return INT64_MAX;
    return (int64_t)f;
}

/* A constant integer input as int64 values (count in *k); -1 if absent,
 * -2 if not constant. */
static int32_t const_ints(build *b, const eoi_node *n, int32_t i, int64_t *out, int32_t cap) {
    const eoi_value *v = in_val(b, n, i);
    if (!v || v->n == 0)
        return -1;
    if (!cval(b, v))
        return -2;
    int32_t k = v->n < cap ? (int32_t)v->n : cap;
    for (int32_t j = 0; j < k; j++)
        out[j] = v->dtype == EOI_I64 ? ((int64_t *)v->cdata)[j] : sat_i64(((float *)v->cdata)[j]);
    return v->n > cap ? cap + 1 : (int32_t)v->n;
}

/* A constant scalar input as double (*ok 0 if it is not one). */
static double const_scalar(build *b, const eoi_node *n, int32_t i, int *ok) {
    const eoi_value *v = in_val(b, n, i);
    *ok = v && v->n == 1 && cval(b, v);
    if (!*ok)
        return 0.0;
    return v->dtype == EOI_I64 ? (double)*(int64_t *)v->cdata : (double)*(float *)v->cdata;
}

static int norm_axis(int64_t *axis, int32_t ndim) {
    if (*axis < -ndim || *axis >= ndim)
        return -1;
    if (*axis < 0)
        *axis += ndim;
    return 0;
}

int64_t eoi_conv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1,
                     int32_t ceil_mode) {
    int64_t ext = (k - 1) * d + 1;
    int64_t span = in + p0 + p1 - ext;
    if (span < 0)
        return 0;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* the last window must start inside the input or its left padding */
    if (ceil_mode && (o - 1) * s >= in + p0)
        o--;
    return o;
}

/* Kernel, strides, dilations, pads and auto_pad of Conv / ConvTranspose /
 * pools; spatial dims sp[2] (1-D inputs have sp[0] = 1). */
static eo_status window_attrs(build *b, eoi_node *n, const int64_t *sp, int32_t nsp,
                              int32_t transposed) {
    const eoi_onode *on = b->on;
    int64_t t[4];
    for (int i = 0; i < 2; i++) {
        n->s[i] = n->d[i] = 1;
        n->opad[i] = 0;
    }
    memset(n->pads, 0, sizeof n->pads);
    int32_t c;
    int32_t off = 2 - nsp; /* 1-D maps onto the W axis */
    if ((c = attr_ints(on, "kernel_shape", t, 4)) >= 0) {
        if (c != nsp)
            return bfail(b, EO_E_MODEL, "kernel_shape has %d values for %d spatial axes", c, nsp);
        for (int i = 0; i < nsp; i++)
            n->k[off + i] = t[i];
    }
    if ((c = attr_ints(on, "strides", t, 4)) >= 0) {
        if (c != nsp)
            return bfail(b, EO_E_MODEL, "strides has %d values for %d spatial axes", c, nsp);
        for (int i = 0; i < nsp; i++)
            n->s[off + i] = t[i];
    }
    if ((c = attr_ints(on, "dilations", t, 4)) >= 0) {
        if (c != nsp)
            return bfail(b, EO_E_MODEL, "dilations has %d values for %d spatial axes", c, nsp);
        for (int i = 0; i < nsp; i++)
            n->d[off + i] = t[i];
    }
    if ((c = attr_ints(on, "output_padding", t, 4)) >= 0) {
        if (c != nsp)
            return bfail(b, EO_E_MODEL, "output_padding has %d values", c);
        for (int i = 0; i < nsp; i++)
            n->opad[off + i] = t[i];
    }
    if ((c = attr_ints(on, "pads", t, 4)) >= 0) {
        if (c != 2 * nsp)
            return bfail(b, EO_E_MODEL, "pads has %d values for %d spatial axes", c, nsp);
        for (int i = 0; i < nsp; i++) {
            n->pads[off + i] = t[i];
            n->pads[2 + off + i] = t[nsp + i];
        }
    }
    for (int i = 0; i < 2; i++) {
        if (n->k[i] < 1 || n->s[i] < 1 || n->d[i] < 1 || n->pads[i] < 0 || n->pads[2 + i] < 0 ||
            n->opad[i] < 0 || n->k[i] > 1 << 16 || n->s[i] > 1 << 16 || n->d[i] > 1 << 16 ||
            n->pads[i] > 1 << 20 || n->pads[2 + i] > 1 << 20)
            return bfail(b, EO_E_MODEL, "bad kernel, stride, dilation or padding");
    }
    const char *ap = attr_s(on, "auto_pad", "NOTSET");
    if (strcmp(ap, "VALID") == 0) {
        memset(n->pads, 0, sizeof n->pads);
    } else if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
        int upper = ap[5] == 'U';
        for (int i = 0; i < 2; i++) {
            int64_t ext = (n->k[i] - 1) * n->d[i] + 1, total;
            if (transposed)
                total = n->s[i] * (sp[i] - 1) + n->opad[i] + ext - sp[i] * n->s[i];
            else
                total = ((sp[i] + n->s[i] - 1) / n->s[i] - 1) * n->s[i] + ext - sp[i];
            if (total < 0)
                total = 0;
            int64_t small = total / 2;
            /* ONNX: SAME_UPPER puts the extra padding at the end */
            n->pads[i] = upper ? small : total - small;
            n->pads[2 + i] = total - n->pads[i];
        }
    } else if (strcmp(ap, "NOTSET") != 0) {
        return bfail(b, EO_E_MODEL, "unknown auto_pad '%s'", ap);
    }
    return EO_OK;
}

/* Spatial view of an N-C-... input: 3-D -> (1, L), 4-D -> (H, W). */
static eo_status spatial(build *b, const eoi_value *x, int64_t *sp, int32_t *nsp) {
    if (x->ndim == 3) {
        sp[0] = 1;
        sp[1] = x->dims[2];
        *nsp = 1;
    } else if (x->ndim == 4) {
        sp[0] = x->dims[2];
        sp[1] = x->dims[3];
        *nsp = 2;
    } else {
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "input of rank %d (only 1-D and 2-D spatial)",
                     (int)x->ndim);
    }
    return EO_OK;
}

static void out_spatial(const eoi_value *x, int64_t *dims, int64_t c, const int64_t *o) {
    dims[0] = x->dims[0];
    dims[1] = c;
    if (x->ndim == 3) {
        dims[2] = o[1];
    } else {
        dims[2] = o[0];
        dims[3] = o[1];
    }
}

/* ---- per-operator preparation: attributes, checks, output shapes ------- */
static eo_status need_inputs(build *b, const eoi_node *n, int32_t lo, int32_t hi) {
    if (n->nin < lo || n->nin > hi)
        return bfail(b, EO_E_MODEL, "%d inputs (expected %d to %d)", (int)n->nin, (int)lo, (int)hi);
    for (int32_t i = 0; i < lo; i++)
        if (n->in[i] < 0)
            return bfail(b, EO_E_MODEL, "required input %d is empty", (int)i);
    return EO_OK;
}

static eo_status need_float(build *b, const eoi_value *v, const char *what) {
    if (v->dtype != EOI_F32)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "%s must be float", what);
    return EO_OK;
}

static eo_status prep_conv(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 2, 3)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0), *w = in_val(b, n, 1), *bias = in_val(b, n, 2);
    int64_t sp[2], o[2], dims[EOI_MAXDIM];
    int32_t nsp = 0;
    if ((st = spatial(b, x, sp, &nsp)) != EO_OK || (st = need_float(b, x, "input")) != EO_OK)
        return st;
    int wc = cval(b, w), bc = !bias || cval(b, bias);
    if (!wc || !bc || w->dtype != EOI_F32 || (bias && bias->dtype != EOI_F32))
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "weights and bias must be float constants");
    if (w->ndim != x->ndim)
        return bfail(b, EO_E_MODEL, "weights of rank %d for an input of rank %d", (int)w->ndim,
                     (int)x->ndim);
    int32_t t = n->op == EOI_OP_CONVT;
    n->group = attr_i(b->on, "group", 1);
    int64_t cin = x->dims[1], g = n->group;
    int64_t cout = t ? w->dims[1] * g : w->dims[0];
    n->k[0] = nsp == 2 ? w->dims[2] : 1;
    n->k[1] = w->dims[w->ndim - 1];
    if ((st = window_attrs(b, n, sp, nsp, t)) != EO_OK)
        return st;
    if (g < 1 || cin < 1 || cout < 1 || cin % g || cout % g ||
        (t ? w->dims[0] != cin : w->dims[1] * g != cin) || (nsp == 2 && w->dims[2] != n->k[0]) ||
        w->dims[w->ndim - 1] != n->k[1])
        return bfail(b, EO_E_MODEL,
                     "weights [%lld, %lld, ...] do not fit %lld input channels in "
                     "%lld groups",
                     (long long)w->dims[0], (long long)w->dims[1], (long long)cin, (long long)g);
    if (bias && bias->n != cout)
        return bfail(b, EO_E_MODEL, "bias of %lld values for %lld channels", (long long)bias->n,
                     (long long)cout);
    for (int i = 0; i < 2; i++) {
        if (t) {
            o[i] = n->s[i] * (sp[i] - 1) + n->opad[i] + (n->k[i] - 1) * n->d[i] + 1 - n->pads[i] -
                   n->pads[2 + i];
        } else {
            o[i] = eoi_conv_out(sp[i], n->k[i], n->s[i], n->d[i], n->pads[i], n->pads[2 + i], 0);
        }
    }
    int64_t os[4];
    if (t && attr_ints(b->on, "output_shape", os, 4) == nsp) {
        for (int i = 0; i < nsp; i++) { /* pads from the requested size */
            int ax = 2 - nsp + i;
            int64_t total =
                n->s[ax] * (sp[ax] - 1) + n->opad[ax] + (n->k[ax] - 1) * n->d[ax] + 1 - os[i];
            /* ONNX's rule, floor division: a negative total (an output larger
             * than the input reaches) leaves the last rows as bias alone */
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
            int upper = strcmp(attr_s(b->on, "auto_pad", "NOTSET"), "SAME_UPPER") == 0;
            n->pads[ax] = upper ? half : total - half;
            n->pads[2 + ax] = upper ? total - half : half;
            if (os[i] < 1 || os[i] > (int64_t)1 << 30)
                return bfail(b, EO_E_MODEL, "output_shape %lld", (long long)os[i]);
            o[ax] = os[i];
        }
    }
    if (o[0] < 1 || o[1] < 1)
        return bfail(b, EO_E_MODEL, "empty output for an input of %lld x %lld", (long long)sp[0],
                     (long long)sp[1]);
    if (o[0] * o[1] > INT32_MAX || sp[0] * sp[1] > INT32_MAX || w->n / (t ? cin : cout) > INT32_MAX)
        return bfail(b, EO_E_LIMIT, "convolution too large for 32-bit BLAS");
    /* own copies: batch norm folding rewrites them */
    size_t wb = (size_t)w->n * sizeof(float);
    if (!(n->w = galloc(b, wb)) || !(n->bias = galloc(b, (size_t)cout * sizeof(float))))
        return EO_E_NOMEM;
    memcpy(n->w, w->cdata, wb);
    if (bias)
        memcpy(n->bias, bias->cdata, (size_t)cout * sizeof(float));
    out_spatial(x, dims, cout, o);
    set_shape(out_val(b, n, 0), EOI_F32, x->ndim, dims);
    b->g->flops += 2.0 * (double)x->dims[0] * (double)(t ? cin : cout) * (double)(o[0] * o[1]) *
                   (double)((t ? cout : cin) / g * n->k[0] * n->k[1]) /
                   (t ? (double)(n->s[0] * n->s[1]) : 1.0);
    return EO_OK;
}

static eo_status prep_bn(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 5, 5)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0);
    if ((st = need_float(b, x, "input")) != EO_OK)
        return st;
    if (x->ndim < 2)
        return bfail(b, EO_E_MODEL, "input of rank %d", (int)x->ndim);
    int64_t c = x->dims[1];
    const float *p[4];
    for (int i = 0; i < 4; i++) {
        const eoi_value *v = in_val(b, n, i + 1);
        if (!cval(b, v) || v->dtype != EOI_F32 || v->n != c)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP,
                         "scale, bias, mean and variance must be float constants of %lld values",
                         (long long)c);
        p[i] = v->cdata;
    }
    if (attr_i(b->on, "training_mode", 0))
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "training_mode is not supported");
    float eps = attr_f(b->on, "epsilon", 1e-5f);
    if (!(n->w = galloc(b, (size_t)c * sizeof(float))) ||
        !(n->bias = galloc(b, (size_t)c * sizeof(float))))
        return EO_E_NOMEM;
    for (int64_t i = 0; i < c; i++) {
        double a = (double)p[0][i] / sqrt((double)p[3][i] + (double)eps);
        n->w[i] = (float)a;
        n->bias[i] = (float)((double)p[1][i] - (double)p[2][i] * a);
    }
    set_shape(out_val(b, n, 0), EOI_F32, x->ndim, x->dims);
    return EO_OK;
}

static eo_status prep_act(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    if ((st = need_inputs(b, n, 1, n->act.kind == EOI_ACT_CLIP ? 3 : 1)) != EO_OK)
        return st;
    switch (n->act.kind) {
    case EOI_ACT_LEAKY:
        n->act.a = attr_f(b->on, "alpha", 0.01f);
        break;
    case EOI_ACT_HSIGMOID:
        n->act.a = attr_f(b->on, "alpha", 0.2f);
        n->act.b = attr_f(b->on, "beta", 0.5f);
        break;
    case EOI_ACT_CLIP:
        n->act.a = attr_f(b->on, "min", -INFINITY);
        n->act.b = attr_f(b->on, "max", INFINITY);
        for (int i = 1; i < 3; i++) {
            const eoi_value *v = in_val(b, n, i);
            if (!v)
                continue;
            if (!cval(b, v) || v->n != 1 || v->dtype != EOI_F32)
                return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "min and max must be float constants");
            *(i == 1 ? &n->act.a : &n->act.b) = *(float *)v->cdata;
        }
        break;
    default:
        break;
    }
    if (x->dtype != EOI_F32 && n->act.kind != EOI_ACT_FLOOR && n->act.kind != EOI_ACT_CEIL &&
        n->act.kind != EOI_ACT_RELU)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "input must be float");
    set_shape(out_val(b, n, 0), x->dtype, x->ndim, x->dims);
    return EO_OK;
}

static eo_status broadcast(build *b, const eoi_value *x, const eoi_value *y, int32_t *ndim,
                           int64_t *dims) {
    int32_t r = x->ndim > y->ndim ? x->ndim : y->ndim;
    for (int32_t i = 0; i < r; i++) {
        int32_t ix = i - (r - x->ndim), iy = i - (r - y->ndim);
        int64_t a = ix >= 0 ? x->dims[ix] : 1, c = iy >= 0 ? y->dims[iy] : 1;
        if (a != c && a != 1 && c != 1)
            return bfail(b, EO_E_MODEL, "shapes do not broadcast (axis %d: %lld and %lld)", (int)i,
                         (long long)a, (long long)c);
        dims[i] = a == 1 ? c : a;
    }
    *ndim = r;
    return EO_OK;
}

/* Readers of the value called name among the model's nodes. */
static int32_t readers(const eoi_onnx *m, const char *name) {
    int32_t k = 0;
    for (int32_t i = 0; i < m->nnodes; i++)
        for (int32_t j = 0; j < m->nodes[i].nin; j++)
            k += m->nodes[i].in[j] && strcmp(m->nodes[i].in[j], name) == 0;
    return k;
}

/* PRelu before opset 7 takes a slope of one value per channel (axis 1),
 * not a numpy-broadcast one: a 1-D slope of C values for an input of rank
 * 3 or more is given the shape [C, 1, ...] that broadcasts so (in place:
 * refused if another node reads the same slope). */
static eo_status legacy_prelu_slope(build *b, eoi_node *n) {
    const eoi_value *x = in_val(b, n, 0);
    eoi_value *y = &b->g->values[n->in[1]];
    if (b->m->opset >= 7 || y->ndim != 1 || x->ndim < 3 || y->dims[0] == 1 ||
        y->dims[0] != x->dims[1])
        return EO_OK;
    if (readers(b->m, y->name) != 1 || y->in_index > 0)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP,
                     "an opset-6 per-channel slope that is a graph input or shared");
    int64_t dims[EOI_MAXDIM];
    dims[0] = y->dims[0];
    for (int32_t i = 1; i < x->ndim - 1; i++)
        dims[i] = 1;
    set_shape(y, y->dtype, x->ndim - 1, dims);
    return EO_OK;
}

static eo_status prep_binary(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
        return st;
    if (n->binop == EOI_BIN_PRELU && (st = legacy_prelu_slope(b, n)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0), *y = in_val(b, n, 1);
    int32_t nd;
    int64_t dims[EOI_MAXDIM];
    if (x->dtype != y->dtype)
        return bfail(b, EO_E_MODEL, "inputs of different types");
    if ((st = broadcast(b, x, y, &nd, dims)) != EO_OK)
        return st;
    if (n->binop == EOI_BIN_PRELU && (nd != x->ndim || x->dtype != EOI_F32))
        return bfail(b, EO_E_MODEL, "slope does not broadcast to the input");
    set_shape(out_val(b, n, 0), x->dtype, nd, dims);
    return EO_OK;
}

static eo_status prep_softmax(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    if ((st = need_inputs(b, n, 1, 1)) != EO_OK || (st = need_float(b, x, "input")) != EO_OK)
        return st;
    n->legacy_softmax = b->m->opset < 13;
    n->axis = attr_i(b->on, "axis", n->legacy_softmax ? 1 : -1);
    if (norm_axis(&n->axis, x->ndim))
        return bfail(b, EO_E_MODEL, "axis %lld out of range", (long long)n->axis);
    set_shape(out_val(b, n, 0), EOI_F32, x->ndim, x->dims);
    return EO_OK;
}

static eo_status prep_concat(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 1, 1 << 16)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t dims[EOI_MAXDIM];
    n->axis = attr_i(b->on, "axis", 0);
    if (norm_axis(&n->axis, x->ndim))
        return bfail(b, EO_E_MODEL, "axis %lld out of range", (long long)n->axis);
    memcpy(dims, x->dims, sizeof dims);
    dims[n->axis] = 0;
    for (int32_t i = 0; i < n->nin; i++) {
        const eoi_value *v = in_val(b, n, i);
        if (!v)
            return bfail(b, EO_E_MODEL, "empty input %d", (int)i);
        if (v->ndim != x->ndim || v->dtype != x->dtype)
            return bfail(b, EO_E_MODEL, "inputs of different ranks or types");
        for (int32_t a = 0; a < x->ndim; a++)
            if (a != n->axis && v->dims[a] != x->dims[a])
                return bfail(b, EO_E_MODEL, "input %d has size %lld on axis %d (expected %lld)",
                             (int)i, (long long)v->dims[a], (int)a, (long long)x->dims[a]);
        dims[n->axis] += v->dims[n->axis];
    }
    set_shape(out_val(b, n, 0), x->dtype, x->ndim, dims);
    return EO_OK;
}

static eo_status prep_split(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 1, 2)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t sizes[64], dims[EOI_MAXDIM];
    n->axis = attr_i(b->on, "axis", 0);
    if (norm_axis(&n->axis, x->ndim) || n->nout > 64)
        return bfail(b, EO_E_MODEL, "axis %lld out of range or too many outputs",
                     (long long)n->axis);
    int64_t len = x->dims[n->axis];
    int32_t k = attr_ints(b->on, "split", sizes, 64);
    if (k < 0)
        k = const_ints(b, n, 1, sizes, 64);
    if (k == -2)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "split sizes must be constant");
    if (k < 0) { /* equal parts; the last one smaller (opset 18) */
        int64_t part = (len + n->nout - 1) / n->nout;
        for (int32_t i = 0; i < n->nout; i++)
            sizes[i] = len - i * part < part ? len - i * part : part;
        k = n->nout;
    }
    int64_t sum = 0;
    for (int32_t i = 0; i < k; i++) {
        if (sizes[i] < 0)
            return bfail(b, EO_E_MODEL, "negative split size");
        if (sizes[i] > len - sum) /* more than is left: no sum can fit */
            return bfail(b, EO_E_MODEL, "split sizes do not add up to %lld in %d outputs",
                         (long long)len, (int)n->nout);
        sum += sizes[i];
    }
    if (k != n->nout || sum != len)
        return bfail(b, EO_E_MODEL, "split sizes do not add up to %lld in %d outputs",
                     (long long)len, (int)n->nout);
    for (int32_t i = 0; i < n->nout; i++) {
        memcpy(dims, x->dims, sizeof dims);
        dims[n->axis] = sizes[i];
        set_shape(out_val(b, n, i), x->dtype, x->ndim, dims);
    }
    return EO_OK;
}

static eo_status prep_slice(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t st_[EOI_MAXDIM], en[EOI_MAXDIM], ax[EOI_MAXDIM], sp[EOI_MAXDIM], dims[EOI_MAXDIM];
    int32_t ns, ne, na, nst;
    if (b->m->opset < 10) {
        if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
            return st;
        ns = attr_ints(b->on, "starts", st_, EOI_MAXDIM);
        ne = attr_ints(b->on, "ends", en, EOI_MAXDIM);
        na = attr_ints(b->on, "axes", ax, EOI_MAXDIM);
        nst = -1;
    } else {
        if ((st = need_inputs(b, n, 3, 5)) != EO_OK)
            return st;
        ns = const_ints(b, n, 1, st_, EOI_MAXDIM);
        ne = const_ints(b, n, 2, en, EOI_MAXDIM);
        na = const_ints(b, n, 3, ax, EOI_MAXDIM);
        nst = const_ints(b, n, 4, sp, EOI_MAXDIM);
    }
    if (ns == -2 || ne == -2 || na == -2 || nst == -2)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "starts, ends, axes and steps must be constant");
    if (ns < 0 || ns != ne || ns > x->ndim || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return bfail(b, EO_E_MODEL, "starts, ends, axes and steps do not match");
    memcpy(dims, x->dims, sizeof dims);
    for (int32_t i = 0; i < x->ndim; i++) {
        n->starts[i] = 0;
        n->steps[i] = 1;
    }
    for (int32_t i = 0; i < ns; i++) {
        int64_t a = na >= 0 ? ax[i] : i, step = nst >= 0 ? sp[i] : 1;
        if (norm_axis(&a, x->ndim) || step == 0)
            return bfail(b, EO_E_MODEL, "bad axis or zero step");
        int64_t d = x->dims[a], s0 = st_[i], e0 = en[i];
        /* a step longer than the axis takes at most one element, as d + 1 does (no overflow) */
        if (step > d + 1)
            step = d + 1;
        else if (step < -d - 1)
            step = -d - 1;
        if (s0 < 0)
            s0 += d;
        if (e0 < 0)
            e0 += d;
        if (step > 0) {
            s0 = s0 < 0 ? 0 : (s0 > d ? d : s0);
            e0 = e0 < 0 ? 0 : (e0 > d ? d : e0);
        } else {
            s0 = s0 < 0 ? 0 : (s0 > d - 1 ? d - 1 : s0);
            e0 = e0 < -1 ? -1 : (e0 > d - 1 ? d - 1 : e0);
        }
        int64_t cnt = step > 0 ? (e0 - s0 + step - 1) / step : (s0 - e0 + (-step) - 1) / (-step);
        n->starts[a] = s0;
        n->steps[a] = step;
        dims[a] = cnt > 0 ? cnt : 0;
    }
    set_shape(out_val(b, n, 0), x->dtype, x->ndim, dims);
    return EO_OK;
}

static eo_status prep_pool(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t sp[2], o[2], dims[EOI_MAXDIM];
    int32_t nsp = 0;
    if ((st = spatial(b, x, sp, &nsp)) != EO_OK || (st = need_float(b, x, "input")) != EO_OK)
        return st;
    if (n->op == EOI_OP_GAP) {
        o[0] = o[1] = 1;
        out_spatial(x, dims, x->dims[1], o);
        set_shape(out_val(b, n, 0), EOI_F32, x->ndim, dims);
        return EO_OK;
    }
    if (n->nout > 1 && b->on->out[1][0])
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "the Indices output is not supported");
    n->k[0] = n->k[1] = 1;
    if (attr_ints(b->on, "kernel_shape", o, 2) != nsp)
        return bfail(b, EO_E_MODEL, "kernel_shape must have %d values", (int)nsp);
    if ((st = window_attrs(b, n, sp, nsp, 0)) != EO_OK)
        return st;
    n->ceil_mode = (int32_t)attr_i(b->on, "ceil_mode", 0);
    n->count_pad = (int32_t)attr_i(b->on, "count_include_pad", 0);
    for (int i = 0; i < 2; i++) {
        o[i] = eoi_conv_out(sp[i], n->k[i], n->s[i], n->d[i], n->pads[i], n->pads[2 + i],
                            n->ceil_mode);
        if (o[i] < 1)
            return bfail(b, EO_E_MODEL, "empty output");
    }
    out_spatial(x, dims, x->dims[1], o);
    set_shape(out_val(b, n, 0), EOI_F32, x->ndim, dims);
    return EO_OK;
}

static eo_status prep_resize(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int upsample = strcmp(b->on->op, "Upsample") == 0;
    int old = upsample || b->m->opset < 11; /* Upsample, Resize-10: X, scales */
    float sc[EOI_MAXDIM];
    int64_t sizes[EOI_MAXDIM], dims[EOI_MAXDIM];
    int32_t nsc = -1, nsz = -1;
    if ((st = need_inputs(b, n, 1, old ? 2 : 4)) != EO_OK)
        return st;
    if (x->ndim != 4 || x->dtype != EOI_F32)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "only 4-D float inputs are supported");
    if (x->n < 1)
        return bfail(b, EO_E_MODEL, "empty input");
    const eoi_value *vs = in_val(b, n, old ? 1 : 2), *vz = old ? NULL : in_val(b, n, 3);
    const eoi_attr *as = eoi_attr_find(b->on, "scales");
    if (vs && vs->n > 0) {
        if (!cval(b, vs) || vs->dtype != EOI_F32 || vs->n != 4)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "scales must be 4 float constants");
        memcpy(sc, vs->cdata, 4 * sizeof(float));
        nsc = 4;
    } else if (as && as->nfloats == 4) {
        memcpy(sc, as->floats, 4 * sizeof(float));
        nsc = 4;
    }
    if (vz && vz->n > 0) {
        nsz = const_ints(b, n, 3, sizes, EOI_MAXDIM);
        if (nsz != 4)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "sizes must be 4 integer constants");
    }
    if ((nsc < 0) == (nsz < 0))
        return bfail(b, EO_E_MODEL, "exactly one of scales and sizes must be given");
    for (int i = 0; i < 4; i++) {
        if (nsz < 0) {
            if (!(sc[i] > 0.0f) || sc[i] > 1e6f)
                return bfail(b, EO_E_MODEL, "bad scale %g", (double)sc[i]);
            dims[i] = (int64_t)floor((double)x->dims[i] * (double)sc[i]);
        } else {
            dims[i] = sizes[i];
            sc[i] = x->dims[i] ? (float)((double)sizes[i] / (double)x->dims[i]) : 1.0f;
        }
        if (dims[i] < 1 || dims[i] > (int64_t)1 << 30)
            return bfail(b, EO_E_MODEL, "bad output size %lld", (long long)dims[i]);
    }
    if (dims[0] != x->dims[0] || dims[1] != x->dims[1])
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "resizing the batch or channel axis");
    n->scale[0] = sc[2];
    n->scale[1] = sc[3];
    const char *mode = attr_s(b->on, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        n->linear = 0;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0)
        n->linear = 1;
    else if (strcmp(mode, "cubic") == 0 || strcmp(mode, "bicubic") == 0) {
        n->linear = 2;
        n->alpha = attr_f(b->on, "cubic_coeff_a", -0.75f);
        n->starts[0] = attr_i(b->on, "exclude_outside", 0);
    } else
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "mode '%s' is not supported", mode);
    const char *ct =
        attr_s(b->on, "coordinate_transformation_mode", old ? "asymmetric" : "half_pixel");
    static const char *const cts[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                      "asymmetric", "tf_half_pixel_for_nn"};
    n->coord = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(ct, cts[i]) == 0)
            n->coord = i;
    const char *nm = attr_s(b->on, "nearest_mode", old ? "floor" : "round_prefer_floor");
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    n->nearest = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(nm, nms[i]) == 0)
            n->nearest = i;
    if (n->coord < 0 || n->nearest < 0)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "coordinate mode '%s' / nearest mode '%s'", ct,
                     nm);
    if (attr_i(b->on, "antialias", 0) || eoi_attr_find(b->on, "axes"))
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "antialias and axes are not supported");
    set_shape(out_val(b, n, 0), EOI_F32, 4, dims);
    return EO_OK;
}

static eo_status prep_pad(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t p[2 * EOI_MAXDIM], dims[EOI_MAXDIM];
    int32_t np;
    n->pad_value = 0.0f;
    if (b->m->opset < 11) {
        if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
            return st;
        np = attr_ints(b->on, "pads", p, 2 * EOI_MAXDIM);
        n->pad_value = attr_f(b->on, "value", 0.0f);
    } else {
        if ((st = need_inputs(b, n, 2, 3)) != EO_OK)
            return st;
        np = const_ints(b, n, 1, p, 2 * EOI_MAXDIM);
        const eoi_value *cv = in_val(b, n, 2);
        if (cv && cv->n > 0) {
            if (!cval(b, cv) || cv->n != 1)
                return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "constant_value must be a constant");
            n->pad_value =
                cv->dtype == EOI_F32 ? *(float *)cv->cdata : (float)*(int64_t *)cv->cdata;
        }
    }
    if (np == -2)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "pads must be constant");
    if (x->ndim < 1)
        return bfail(b, EO_E_MODEL, "padding a scalar");
    if (np != 2 * x->ndim)
        return bfail(b, EO_E_MODEL, "%d pads for a tensor of rank %d", (int)np, (int)x->ndim);
    const char *mode = attr_s(b->on, "mode", "constant");
    n->pad_mode = strcmp(mode, "constant") == 0  ? EOI_PAD_CONSTANT
                  : strcmp(mode, "reflect") == 0 ? EOI_PAD_REFLECT
                  : strcmp(mode, "edge") == 0    ? EOI_PAD_EDGE
                                                 : -1;
    if (n->pad_mode < 0)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "mode '%s' is not supported", mode);
    for (int32_t i = 0; i < x->ndim; i++) {
        n->pads_nd[i] = p[i];
        n->pads_nd[EOI_MAXDIM + i] = p[x->ndim + i];
        /* pads are bounded before they are added (no overflow): a positive
         * one adds at most 2^24, and no axis is 2^60 long */
        if (p[i] > 1 << 24 || p[x->ndim + i] > 1 << 24 || p[i] < -(INT64_C(1) << 60) ||
            p[x->ndim + i] < -(INT64_C(1) << 60))
            return bfail(b, EO_E_MODEL, "bad pads on axis %d", (int)i);
        dims[i] = x->dims[i] + p[i] + p[x->ndim + i];
        if (dims[i] < 0 ||
            (n->pad_mode == EOI_PAD_REFLECT &&
             (p[i] >= x->dims[i] || p[x->ndim + i] >= x->dims[i])) ||
            (n->pad_mode != EOI_PAD_CONSTANT && x->dims[i] == 0 && dims[i] > 0))
            return bfail(b, EO_E_MODEL, "bad pads on axis %d", (int)i);
    }
    set_shape(out_val(b, n, 0), x->dtype, x->ndim, dims);
    return EO_OK;
}

static eo_status prep_copy(build *b, eoi_node *n) {
    eo_status st;
    const char *op = b->on->op;
    const eoi_value *x = in_val(b, n, 0);
    int64_t dims[EOI_MAXDIM], t[EOI_MAXDIM];
    int32_t nd = 0, k;
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0) {
        if ((st = need_inputs(b, n, 1, 3)) != EO_OK)
            return st;
        int tm = 0;
        if (strcmp(op, "Dropout") == 0 && n->nin > 2 && n->in[2] >= 0) {
            double tv = const_scalar(b, n, 2, &tm), ratio = 0.5;
            int rk = 1;
            if (n->in[1] >= 0)
                ratio = const_scalar(b, n, 1, &rk);
            /* training: random masks, which eoproc does not draw (ratio 0 draws none) */
            if (!tm || (tv != 0.0 && (!rk || ratio != 0.0)))
                return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "training_mode is not supported (%s)",
                             tm ? "true" : "not a constant");
        }
        if (n->nout > 1 && b->on->out[1][0]) { /* the mask: all kept */
            eoi_value *mk = out_val(b, n, 1);
            set_shape(mk, EOI_I64, x->ndim, x->dims);
            if (mk->n < 0 || !(mk->cdata = galloc(b, (size_t)mk->n * 8 + 8)))
                return mk->n < 0 ? bfail(b, EO_E_LIMIT, "mask too large") : EO_E_NOMEM;
            for (int64_t i = 0; i < mk->n; i++)
                ((int64_t *)mk->cdata)[i] = 1;
        }
        if (strcmp(op, "Dropout") == 0 && attr_i(b->on, "is_test", 1) == 0 && b->m->opset < 7)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "is_test 0 (training) is not supported");
        nd = x->ndim;
        memcpy(dims, x->dims, sizeof dims);
    } else if (strcmp(op, "Flatten") == 0) {
        if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
            return st;
        int64_t axis = attr_i(b->on, "axis", 1), a = 1, c = 1;
        if (axis < 0)
            axis += x->ndim;
        if (axis < 0 || axis > x->ndim)
            return bfail(b, EO_E_MODEL, "axis out of range");
        for (int32_t i = 0; i < x->ndim; i++)
            *(i < axis ? &a : &c) *= x->dims[i];
        nd = 2;
        dims[0] = a;
        dims[1] = c;
    } else if (strcmp(op, "Reshape") == 0) {
        if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
            return st;
        k = const_ints(b, n, 1, dims, EOI_MAXDIM);
        if (k == -2)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "the shape must be constant");
        if (k < 0 || k > EOI_MAXDIM)
            return bfail(b, EO_E_MODEL, "bad shape");
        int allowzero = (int)attr_i(b->on, "allowzero", 0);
        int64_t known = 1, infer = -1;
        for (int32_t i = 0; i < k; i++) {
            if (dims[i] == 0 && !allowzero) {
                if (i >= x->ndim)
                    return bfail(b, EO_E_MODEL, "0 in shape beyond the input's rank");
                dims[i] = x->dims[i];
            }
            if (dims[i] == -1) {
                if (infer >= 0)
                    return bfail(b, EO_E_MODEL, "two -1 in shape");
                infer = i;
            } else if (dims[i] < 0) {
                return bfail(b, EO_E_MODEL, "negative size in shape");
            } else if (eoi_mul_i64(&known, known, dims[i])) {
                return bfail(b, EO_E_MODEL, "shape overflows");
            }
        }
        if (infer >= 0)
            dims[infer] = known ? x->n / known : 0;
        nd = k;
    } else if (strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0) {
        int sq = op[0] == 'S';
        if ((st = need_inputs(b, n, 1, 2)) != EO_OK)
            return st;
        k = b->m->opset < 13 ? attr_ints(b->on, "axes", t, EOI_MAXDIM)
                             : const_ints(b, n, 1, t, EOI_MAXDIM);
        if (k == -2)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "axes must be constant");
        if (k > EOI_MAXDIM || (!sq && k < 0))
            return bfail(b, EO_E_MODEL, "bad axes");
        int32_t r = sq ? x->ndim : x->ndim + k;
        if (r > EOI_MAXDIM)
            return bfail(b, EO_E_MODEL, "rank too large");
        int mark[EOI_MAXDIM] = {0};
        for (int32_t i = 0; i < k; i++) {
            if (norm_axis(&t[i], r))
                return bfail(b, EO_E_MODEL, "axis out of range");
            mark[t[i]] = 1;
        }
        if (sq) {
            for (int32_t i = 0; i < x->ndim; i++) {
                if ((k < 0 && x->dims[i] == 1) || mark[i]) {
                    if (x->dims[i] != 1)
                        return bfail(b, EO_E_MODEL, "squeezing axis %d of size %lld", (int)i,
                                     (long long)x->dims[i]);
                    continue;
                }
                dims[nd++] = x->dims[i];
            }
        } else {
            for (int32_t i = 0, j = 0; i < r; i++)
                dims[nd++] = mark[i] ? 1 : x->dims[j++];
        }
    }
    int64_t total = 1;
    for (int32_t i = 0; i < nd; i++)
        total *= dims[i];
    if (total != x->n)
        return bfail(b, EO_E_MODEL, "cannot reshape %lld elements into %lld", (long long)x->n,
                     (long long)total);
    set_shape(out_val(b, n, 0), x->dtype, nd, dims);
    return EO_OK;
}

static eo_status prep_transpose(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t dims[EOI_MAXDIM];
    int32_t k = attr_ints(b->on, "perm", n->perm, EOI_MAXDIM);
    if (k < 0) {
        for (int32_t i = 0; i < x->ndim; i++)
            n->perm[i] = x->ndim - 1 - i;
        k = x->ndim;
    }
    int seen[EOI_MAXDIM] = {0};
    if (k != x->ndim)
        return bfail(b, EO_E_MODEL, "perm of %d values for rank %d", (int)k, (int)x->ndim);
    for (int32_t i = 0; i < k; i++) {
        if (n->perm[i] < 0 || n->perm[i] >= k || seen[n->perm[i]]++)
            return bfail(b, EO_E_MODEL, "perm is not a permutation");
        dims[i] = x->dims[n->perm[i]];
    }
    set_shape(out_val(b, n, 0), x->dtype, x->ndim, dims);
    return EO_OK;
}

static eo_status prep_gemm(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *a = in_val(b, n, 0), *w = in_val(b, n, 1);
    int64_t dims[EOI_MAXDIM];
    int32_t nd;
    if (n->op == EOI_OP_GEMM) {
        if ((st = need_inputs(b, n, 2, 3)) != EO_OK)
            return st;
        n->alpha = attr_f(b->on, "alpha", 1.0f);
        n->beta = attr_f(b->on, "beta", 1.0f);
        int64_t ta = attr_i(b->on, "transA", 0), tb = attr_i(b->on, "transB", 0);
        if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
            return bfail(b, EO_E_MODEL, "transA and transB must be 0 or 1 (got %lld and %lld)",
                         (long long)ta, (long long)tb);
        n->transa = (int32_t)ta;
        n->transb = (int32_t)tb;
        if (a->ndim != 2 || w->ndim != 2)
            return bfail(b, EO_E_MODEL, "inputs must be matrices");
        int64_t m = a->dims[n->transa], k = a->dims[!n->transa];
        int64_t k2 = w->dims[n->transb], nn = w->dims[!n->transb];
        if (k != k2)
            return bfail(b, EO_E_MODEL, "inner sizes %lld and %lld differ", (long long)k,
                         (long long)k2);
        dims[0] = m;
        dims[1] = nn;
        nd = 2;
        const eoi_value *c = in_val(b, n, 2);
        if (c && c->n > 0) {
            int64_t bd[EOI_MAXDIM];
            int32_t bn;
            eoi_value o = {0};
            set_shape(&o, EOI_F32, 2, dims);
            if ((st = broadcast(b, &o, c, &bn, bd)) != EO_OK)
                return st;
            if (bn != 2 || bd[0] != m || bd[1] != nn)
                return bfail(b, EO_E_MODEL, "C does not broadcast to the output");
        }
        if (m > INT32_MAX || nn > INT32_MAX || k > INT32_MAX || k < 1)
            return bfail(b, EO_E_LIMIT, "matrix sizes out of range for BLAS");
        b->g->flops += 2.0 * (double)(m * nn * k);
    } else {
        if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
            return st;
        if (a->ndim < 1 || w->ndim < 1)
            return bfail(b, EO_E_MODEL, "scalar inputs");
        int64_t k = a->dims[a->ndim - 1], k2 = w->dims[w->ndim >= 2 ? w->ndim - 2 : 0];
        if (k != k2)
            return bfail(b, EO_E_MODEL, "inner sizes %lld and %lld differ", (long long)k,
                         (long long)k2);
        eoi_value ba = {0}, bb = {0};
        set_shape(&ba, EOI_F32, a->ndim > 2 ? a->ndim - 2 : 0, a->dims);
        set_shape(&bb, EOI_F32, w->ndim > 2 ? w->ndim - 2 : 0, w->dims);
        if ((st = broadcast(b, &ba, &bb, &nd, dims)) != EO_OK)
            return st;
        if (k < 1 || k > INT32_MAX || a->dims[a->ndim > 1 ? a->ndim - 2 : 0] > INT32_MAX ||
            w->dims[w->ndim - 1] > INT32_MAX)
            return bfail(b, EO_E_LIMIT, "matrix sizes out of range for BLAS");
        if (a->ndim >= 2)
            dims[nd++] = a->dims[a->ndim - 2];
        if (w->ndim >= 2)
            dims[nd++] = w->dims[w->ndim - 1];
        if (nd > EOI_MAXDIM)
            return bfail(b, EO_E_MODEL, "rank too large");
    }
    if (a->dtype != EOI_F32 || w->dtype != EOI_F32)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "inputs must be float");
    set_shape(out_val(b, n, 0), EOI_F32, nd, dims);
    return EO_OK;
}

static eo_status prep_constant(build *b, eoi_node *n) {
    eoi_value *o = out_val(b, n, 0);
    const eoi_onode *on = b->on;
    if (on->nattr != 1)
        return bfail(b, EO_E_MODEL, "needs exactly one attribute");
    const eoi_attr *a = &on->attr[0];
    int64_t one = 1;
    if (strcmp(a->name, "value") == 0 && a->t) {
        set_shape(o, a->t->dtype, a->t->ndim, a->t->dims);
        o->cdata = a->t->data;
    } else if (strcmp(a->name, "value_float") == 0) {
        set_shape(o, EOI_F32, 0, NULL);
        o->cdata = (void *)&a->f;
    } else if (strcmp(a->name, "value_int") == 0) {
        set_shape(o, EOI_I64, 0, NULL);
        o->cdata = (void *)&a->i;
    } else if (strcmp(a->name, "value_floats") == 0) {
        one = a->nfloats;
        set_shape(o, EOI_F32, 1, &one);
        o->cdata = a->floats;
    } else if (strcmp(a->name, "value_ints") == 0) {
        one = a->nints;
        set_shape(o, EOI_I64, 1, &one);
        o->cdata = a->ints;
    } else {
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "attribute '%s' is not supported", a->name);
    }
    if (!o->cdata) { /* an empty list: point at something valid */
        static const int64_t empty[1];
        o->cdata = (void *)empty;
    }
    return EO_OK;
}

static eo_status prep_shape_ops(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t dims[EOI_MAXDIM];
    int32_t nd = 0;
    if (n->op == EOI_OP_CONSTOFSHAPE) {
        if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
            return st;
        nd = const_ints(b, n, 0, dims, EOI_MAXDIM);
        if (nd == -2)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "the shape must be constant");
        if (nd > EOI_MAXDIM)
            return bfail(b, EO_E_MODEL, "rank too large");
        nd = nd < 0 ? 0 : nd;
        for (int32_t i = 0; i < nd; i++)
            if (dims[i] < 0)
                return bfail(b, EO_E_MODEL, "negative size");
        const eoi_attr *a = eoi_attr_find(b->on, "value");
        int32_t dt = EOI_F32;
        n->pad_value = 0.0f;
        n->starts[0] = 0;
        if (a && a->t && a->t->n == 1) {
            dt = a->t->dtype;
            if (dt == EOI_F32)
                n->pad_value = *(float *)a->t->data;
            else
                n->starts[0] = *(int64_t *)a->t->data;
        }
        set_shape(out_val(b, n, 0), dt, nd, dims);
        return EO_OK;
    }
    if (n->op == EOI_OP_SHAPE) {
        if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
            return st;
        if (n->binop) { /* Size: a scalar */
            set_shape(out_val(b, n, 0), EOI_I64, 0, dims);
            return EO_OK;
        }
        int64_t s = attr_i(b->on, "start", 0), e = attr_i(b->on, "end", x->ndim);
        if (s < 0)
            s += x->ndim;
        if (e < 0)
            e += x->ndim;
        s = s < 0 ? 0 : s > x->ndim ? x->ndim : s;
        e = e < s ? s : e > x->ndim ? x->ndim : e;
        n->starts[0] = s;
        dims[0] = e - s;
        set_shape(out_val(b, n, 0), EOI_I64, 1, dims);
        return EO_OK;
    }
    if (n->op == EOI_OP_CAST) {
        if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
            return st;
        int64_t to = attr_i(b->on, "to", 1);
        if (!(to == 1 || to == 10 || to == 11 || to == 16 || (to >= 2 && to <= 7) || to == 9 ||
              to == 12 || to == 13))
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "cast to type %lld", (long long)to);
        n->to_float = to == 1 || to == 10 || to == 11 || to == 16 ? (int32_t)to : 0;
        n->binop = to == 9; /* bool: nonzero -> 1 */
        set_shape(out_val(b, n, 0), n->to_float ? EOI_F32 : EOI_I64, x->ndim, x->dims);
        return EO_OK;
    }
    /* Gather */
    if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
        return st;
    const eoi_value *idx = in_val(b, n, 1);
    n->axis = attr_i(b->on, "axis", 0);
    if (norm_axis(&n->axis, x->ndim))
        return bfail(b, EO_E_MODEL, "axis out of range");
    if (!cval(b, idx) || idx->dtype != EOI_I64)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "indices must be integer constants");
    for (int64_t i = 0; i < idx->n; i++) {
        int64_t v = ((int64_t *)idx->cdata)[i];
        if (v < -x->dims[n->axis] || v >= x->dims[n->axis])
            return bfail(b, EO_E_MODEL, "index %lld out of range", (long long)v);
    }
    if (x->ndim - 1 + idx->ndim > EOI_MAXDIM)
        return bfail(b, EO_E_MODEL, "rank too large");
    for (int32_t i = 0; i < n->axis; i++)
        dims[nd++] = x->dims[i];
    for (int32_t i = 0; i < idx->ndim; i++)
        dims[nd++] = idx->dims[i];
    for (int32_t i = (int32_t)n->axis + 1; i < x->ndim; i++)
        dims[nd++] = x->dims[i];
    set_shape(out_val(b, n, 0), x->dtype, nd, dims);
    return EO_OK;
}

/* ---- the scalar nodes (nodes_math.c) ------------------------------------ */
static int is_bool_out(int32_t k) { return k >= EOI_B_EQ && k <= EOI_B_XOR; }

static eo_status prep_math(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int32_t k = n->binop;
    if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
        return st;
    int int_in = k == EOI_M_NEG || k == EOI_M_ABS || k == EOI_M_SIGN || k == EOI_M_NOT;
    if (x->dtype != EOI_F32 && !int_in)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "input must be float");
    if (k == EOI_M_NOT && x->dtype != EOI_I64)
        return bfail(b, EO_E_MODEL, "input must be bool");
    switch (k) {
    case EOI_M_ELU:
    case EOI_M_CELU:
        n->alpha = attr_f(b->on, "alpha", 1.0f);
        break;
    case EOI_M_SELU:
        n->alpha = attr_f(b->on, "alpha", 1.67326319217681884765625f);
        n->beta = attr_f(b->on, "gamma", 1.05070102214813232421875f);
        break;
    case EOI_M_THRELU:
        n->alpha = attr_f(b->on, "alpha", 1.0f);
        break;
    case EOI_M_SHRINK:
        n->alpha = attr_f(b->on, "lambd", 0.5f);
        n->beta = attr_f(b->on, "bias", 0.0f);
        break;
    case EOI_M_ISINF:
        n->starts[0] = attr_i(b->on, "detect_negative", 1);
        n->starts[1] = attr_i(b->on, "detect_positive", 1);
        break;
    default:
        break;
    }
    int bool_out = k == EOI_M_ISNAN || k == EOI_M_ISINF || k == EOI_M_NOT;
    set_shape(out_val(b, n, 0), bool_out ? EOI_I64 : x->dtype, x->ndim, x->dims);
    return EO_OK;
}

static eo_status prep_bcast(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0), *y = in_val(b, n, 1);
    int32_t nd, k = n->binop;
    int64_t dims[EOI_MAXDIM];
    if (k == EOI_B_MOD) {
        if (attr_i(b->on, "fmod", 0))
            n->binop = k = EOI_B_FMOD;
        else if (x->dtype != EOI_I64)
            return bfail(b, EO_E_MODEL, "Mod of floats needs fmod=1");
    }
    if (k == EOI_B_POW) {
        if (x->dtype != y->dtype && x->dtype != EOI_F32)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "an integer base with a float exponent");
    } else if (x->dtype != y->dtype) {
        return bfail(b, EO_E_MODEL, "inputs of different types");
    }
    if (k >= EOI_B_AND && k <= EOI_B_XOR && x->dtype != EOI_I64)
        return bfail(b, EO_E_MODEL, "inputs must be bool");
    if ((st = broadcast(b, x, y, &nd, dims)) != EO_OK)
        return st;
    set_shape(out_val(b, n, 0), is_bool_out(k) ? EOI_I64 : x->dtype, nd, dims);
    return EO_OK;
}

static eo_status prep_variadic(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 1, 1 << 16)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0);
    int32_t nd = x->ndim;
    int64_t dims[EOI_MAXDIM];
    memcpy(dims, x->dims, sizeof dims);
    for (int32_t i = 0; i < n->nin; i++) {
        const eoi_value *y = in_val(b, n, i);
        if (!y || y->dtype != x->dtype)
            return bfail(b, EO_E_MODEL, "inputs of different types");
        eoi_value acc;
        memset(&acc, 0, sizeof acc);
        acc.ndim = nd;
        memcpy(acc.dims, dims, sizeof dims);
        if ((st = broadcast(b, &acc, y, &nd, dims)) != EO_OK)
            return st;
    }
    set_shape(out_val(b, n, 0), x->dtype, nd, dims);
    return EO_OK;
}

static eo_status prep_where(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 3, 3)) != EO_OK)
        return st;
    const eoi_value *c = in_val(b, n, 0), *x = in_val(b, n, 1), *y = in_val(b, n, 2);
    if (c->dtype != EOI_I64 || x->dtype != y->dtype)
        return bfail(b, EO_E_MODEL, "a bool condition and two inputs of one type are needed");
    eoi_value t;
    memset(&t, 0, sizeof t);
    int64_t dims[EOI_MAXDIM];
    int32_t nd;
    if ((st = broadcast(b, c, x, &nd, dims)) != EO_OK)
        return st;
    t.ndim = nd;
    memcpy(t.dims, dims, sizeof dims);
    if ((st = broadcast(b, &t, y, &nd, dims)) != EO_OK)
        return st;
    set_shape(out_val(b, n, 0), x->dtype, nd, dims);
    return EO_OK;
}

static eo_status prep_expand(build *b, eoi_node *n) {
    eo_status st;
    if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
        return st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t v[EOI_MAXDIM], dims[EOI_MAXDIM];
    int32_t k = const_ints(b, n, 1, v, EOI_MAXDIM), nd;
    if (k == -2)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "the %s must be constant",
                     n->binop ? "repeats" : "shape");
    if (k < 0 || k > EOI_MAXDIM)
        return bfail(b, EO_E_MODEL, "bad %s", n->binop ? "repeats" : "shape");
    if (n->binop) { /* Tile */
        if (k != x->ndim)
            return bfail(b, EO_E_MODEL, "%d repeats for rank %d", (int)k, (int)x->ndim);
        for (int32_t i = 0; i < k; i++) {
            if (v[i] < 0)
                return bfail(b, EO_E_MODEL, "negative repeats");
            dims[i] = x->dims[i] * v[i];
        }
        nd = k;
    } else {
        eoi_value t;
        memset(&t, 0, sizeof t);
        t.ndim = k;
        memcpy(t.dims, v, sizeof v);
        for (int32_t i = 0; i < k; i++)
            if (v[i] < 0)
                return bfail(b, EO_E_MODEL, "negative size");
        if ((st = broadcast(b, x, &t, &nd, dims)) != EO_OK)
            return st;
    }
    set_shape(out_val(b, n, 0), x->dtype, nd, dims);
    return EO_OK;
}

static eo_status prep_reduce(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int32_t k = n->binop, arg = k == EOI_R_ARGMAX || k == EOI_R_ARGMIN;
    if ((st = need_inputs(b, n, 1, 2)) != EO_OK)
        return st;
    if (x->dtype != EOI_F32)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "input must be float");
    int64_t axes[EOI_MAXDIM];
    int32_t na;
    memset(n->perm, 0, sizeof n->perm);
    n->starts[0] = attr_i(b->on, "keepdims", 1);
    if (arg) {
        n->axis = attr_i(b->on, "axis", 0);
        n->starts[1] = attr_i(b->on, "select_last_index", 0);
        if (norm_axis(&n->axis, x->ndim))
            return bfail(b, EO_E_MODEL, "axis out of range");
        axes[0] = n->axis;
        na = 1;
    } else if (strcmp(b->on->op, "GlobalMaxPool") == 0) { /* max over the spatial axes */
        if (x->ndim < 3)
            return bfail(b, EO_E_MODEL, "input of rank %d (N x C x ... needed)", (int)x->ndim);
        n->starts[0] = 1;
        for (na = 0; na < x->ndim - 2; na++)
            axes[na] = na + 2;
    } else {
        na = attr_ints(b->on, "axes", axes, EOI_MAXDIM);
        if (na < 0 && n->nin > 1 && n->in[1] >= 0) {
            na = const_ints(b, n, 1, axes, EOI_MAXDIM);
            if (na == -2)
                return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "the axes must be constant");
        }
        if (na > x->ndim)
            return bfail(b, EO_E_MODEL, "%d axes for rank %d", (int)na, (int)x->ndim);
        if (na <= 0 && attr_i(b->on, "noop_with_empty_axes", 0)) {
            n->op = EOI_OP_COPY; /* as Identity */
            set_shape(out_val(b, n, 0), x->dtype, x->ndim, x->dims);
            return EO_OK;
        }
        if (na <= 0)
            for (na = 0; na < x->ndim; na++)
                axes[na] = na;
    }
    for (int32_t i = 0; i < na; i++) {
        if (norm_axis(&axes[i], x->ndim))
            return bfail(b, EO_E_MODEL, "axis %lld out of range", (long long)axes[i]);
        n->perm[axes[i]] = 1;
    }
    int64_t dims[EOI_MAXDIM];
    int32_t nd = 0;
    for (int32_t i = 0; i < x->ndim; i++) {
        if (n->perm[i] && arg && x->dims[i] == 0)
            return bfail(b, EO_E_MODEL, "ArgMax / ArgMin over an empty axis");
        if (!n->perm[i])
            dims[nd++] = x->dims[i];
        else if (n->starts[0])
            dims[nd++] = 1;
    }
    set_shape(out_val(b, n, 0), arg ? EOI_I64 : EOI_F32, nd, dims);
    return EO_OK;
}

static eo_status prep_norm(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int ln = n->op == EOI_OP_LAYERNORM;
    if ((st = need_inputs(b, n, ln ? 2 : 3, 3)) != EO_OK || (st = need_float(b, x, "input")))
        return st;
    n->eps = attr_f(b->on, "epsilon", 1e-5f);
    int64_t inner = 1;
    if (ln) {
        n->axis = attr_i(b->on, "axis", -1);
        if (norm_axis(&n->axis, x->ndim))
            return bfail(b, EO_E_MODEL, "axis out of range");
        for (int32_t i = (int32_t)n->axis; i < x->ndim; i++)
            inner *= x->dims[i];
        if (attr_i(b->on, "stash_type", 1) != 1)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "stash_type other than float");
    } else {
        if (x->ndim < 3)
            return bfail(b, EO_E_MODEL, "input of rank %d (N x C x ... needed)", (int)x->ndim);
        inner = x->dims[1];
    }
    for (int32_t i = 1; i < n->nin; i++) {
        const eoi_value *v = in_val(b, n, i);
        if (v && (v->dtype != EOI_F32 || (v->n != inner && !(ln && v->n == 1))))
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP,
                         "scale and bias must be float of %lld values", (long long)inner);
    }
    set_shape(out_val(b, n, 0), EOI_F32, x->ndim, x->dims);
    if (ln) { /* Mean and InvStdDev: x's shape with 1 from axis on */
        int64_t d[EOI_MAXDIM];
        for (int32_t i = 0; i < x->ndim; i++)
            d[i] = i < n->axis ? x->dims[i] : 1;
        for (int32_t j = 1; j < n->nout && j < 3; j++)
            set_shape(out_val(b, n, j), EOI_F32, x->ndim, d);
        if (n->nout > 3)
            return bfail(b, EO_E_MODEL, "%d outputs", (int)n->nout);
    } else if (n->nout > 1) {
        return bfail(b, EO_E_MODEL, "%d outputs", (int)n->nout);
    }
    return EO_OK;
}

static eo_status prep_more(build *b, eoi_node *n) {
    eo_status st;
    const eoi_value *x = in_val(b, n, 0);
    int64_t dims[EOI_MAXDIM];
    if (n->op == EOI_OP_RANGE) {
        if ((st = need_inputs(b, n, 3, 3)) != EO_OK)
            return st;
        int ok[3];
        double v[3];
        for (int i = 0; i < 3; i++)
            v[i] = const_scalar(b, n, i, &ok[i]);
        if (!ok[0] || !ok[1] || !ok[2])
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "start, limit and delta must be constants");
        if (v[2] == 0.0)
            return bfail(b, EO_E_MODEL, "delta is 0");
        double cnt = ceil((v[1] - v[0]) / v[2]);
        dims[0] = cnt > 0 ? (int64_t)cnt : 0;
        if (cnt > 1e9)
            return bfail(b, EO_E_LIMIT, "a range of %g values", cnt);
        n->alpha = (float)v[0];
        n->beta = (float)v[2];
        n->starts[0] = (int64_t)v[0];
        n->starts[1] = (int64_t)v[2];
        set_shape(out_val(b, n, 0), x->dtype, 1, dims);
        return EO_OK;
    }
    if (n->op == EOI_OP_TRILU) {
        if ((st = need_inputs(b, n, 1, 2)) != EO_OK)
            return st;
        int ok = 1;
        n->starts[0] = in_val(b, n, 1) ? (int64_t)const_scalar(b, n, 1, &ok) : 0;
        if (!ok)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "k must be a constant");
        if (x->ndim < 2)
            return bfail(b, EO_E_MODEL, "input of rank %d", (int)x->ndim);
        n->binop = (int32_t)attr_i(b->on, "upper", 1);
        set_shape(out_val(b, n, 0), x->dtype, x->ndim, x->dims);
        return EO_OK;
    }
    if (n->op == EOI_OP_GATHERELEM) {
        if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
            return st;
        const eoi_value *idx = in_val(b, n, 1);
        n->axis = attr_i(b->on, "axis", 0);
        if (norm_axis(&n->axis, x->ndim) || idx->ndim != x->ndim || idx->dtype != EOI_I64)
            return bfail(b, EO_E_MODEL, "bad axis or indices");
        for (int32_t i = 0; i < x->ndim; i++)
            if (i != n->axis && idx->dims[i] > x->dims[i])
                return bfail(b, EO_E_MODEL, "indices larger than the data on axis %d", (int)i);
        if (idx->cdata)
            for (int64_t i = 0; i < idx->n; i++) {
                int64_t k = ((int64_t *)idx->cdata)[i], d = x->dims[n->axis];
                if (k < -d || k >= d)
                    return bfail(b, EO_E_MODEL, "index %lld out of range", (long long)k);
            }
        set_shape(out_val(b, n, 0), x->dtype, idx->ndim, idx->dims);
        return EO_OK;
    }
    if (n->op == EOI_OP_D2S) { /* DepthToSpace (DCR or CRD) and SpaceToDepth */
        if ((st = need_inputs(b, n, 1, 1)) != EO_OK)
            return st;
        int64_t bs = attr_i(b->on, "blocksize", 0);
        const char *mode = attr_s(b->on, "mode", "DCR");
        if (x->ndim != 4 || bs < 1 || bs > 1024)
            return bfail(b, EO_E_MODEL, "needs an N x C x H x W input and a blocksize");
        n->k[0] = bs;
        n->starts[0] = strcmp(mode, "CRD") == 0;
        if (!n->starts[0] && strcmp(mode, "DCR") != 0)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "mode '%s'", mode);
        memcpy(dims, x->dims, sizeof dims);
        if (n->binop) {
            if (x->dims[2] % bs || x->dims[3] % bs)
                return bfail(b, EO_E_MODEL, "H and W are not multiples of blocksize");
            dims[1] = x->dims[1] * bs * bs;
            dims[2] = x->dims[2] / bs;
            dims[3] = x->dims[3] / bs;
        } else {
            if (x->dims[1] % (bs * bs))
                return bfail(b, EO_E_MODEL, "C is not a multiple of blocksize^2");
            dims[1] = x->dims[1] / (bs * bs);
            dims[2] = x->dims[2] * bs;
            dims[3] = x->dims[3] * bs;
        }
        set_shape(out_val(b, n, 0), x->dtype, 4, dims);
        return EO_OK;
    }
    /* CumSum */
    if ((st = need_inputs(b, n, 2, 2)) != EO_OK)
        return st;
    int ok = 1;
    n->axis = (int64_t)const_scalar(b, n, 1, &ok);
    if (!ok)
        return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "axis must be a constant");
    if (norm_axis(&n->axis, x->ndim))
        return bfail(b, EO_E_MODEL, "axis out of range");
    n->starts[0] = attr_i(b->on, "exclusive", 0);
    n->starts[1] = attr_i(b->on, "reverse", 0);
    set_shape(out_val(b, n, 0), x->dtype, x->ndim, x->dims);
    return EO_OK;
}

static eo_status prepare(build *b, eoi_node *n) {
    switch (n->op) {
    case EOI_OP_CONV:
    case EOI_OP_CONVT:
        return prep_conv(b, n);
    case EOI_OP_BN:
        return prep_bn(b, n);
    case EOI_OP_ACT:
        return prep_act(b, n);
    case EOI_OP_BINARY:
        return prep_binary(b, n);
    case EOI_OP_SOFTMAX:
        return prep_softmax(b, n);
    case EOI_OP_CONCAT:
        return prep_concat(b, n);
    case EOI_OP_SPLIT:
        return prep_split(b, n);
    case EOI_OP_SLICE:
        return prep_slice(b, n);
    case EOI_OP_MAXPOOL:
    case EOI_OP_AVGPOOL:
    case EOI_OP_GAP:
        return prep_pool(b, n);
    case EOI_OP_RESIZE:
        return prep_resize(b, n);
    case EOI_OP_PAD:
        return prep_pad(b, n);
    case EOI_OP_COPY:
        return prep_copy(b, n);
    case EOI_OP_TRANSPOSE:
        return prep_transpose(b, n);
    case EOI_OP_GEMM:
    case EOI_OP_MATMUL:
        return prep_gemm(b, n);
    case EOI_OP_CONSTANT:
        return prep_constant(b, n);
    case EOI_OP_MATH:
        return prep_math(b, n);
    case EOI_OP_BCAST:
        return prep_bcast(b, n);
    case EOI_OP_VARIADIC:
        return prep_variadic(b, n);
    case EOI_OP_SELECT:
        return prep_where(b, n);
    case EOI_OP_EXPAND:
        return prep_expand(b, n);
    case EOI_OP_REDUCE:
        return prep_reduce(b, n);
    case EOI_OP_LAYERNORM:
    case EOI_OP_INSTNORM:
        return prep_norm(b, n);
    case EOI_OP_RANGE:
    case EOI_OP_TRILU:
    case EOI_OP_GATHERELEM:
    case EOI_OP_CUMSUM:
    case EOI_OP_D2S:
        return prep_more(b, n);
    default:
        return prep_shape_ops(b, n);
    }
}

/* ---- fusion ------------------------------------------------------------ */
/* y = a * conv(x) + b  ==  conv'(x) with w' = a w and bias' = a bias + b. */
static void fold_bn_into_conv(eoi_node *c, const eoi_node *bn, int64_t cin, int64_t m) {
    int64_t kk = c->k[0] * c->k[1], g = c->group;
    if (c->op == EOI_OP_CONV) { /* weights [M][Cin/g * kk] */
        int64_t per = cin / g * kk;
        for (int64_t o = 0; o < m; o++)
            for (int64_t j = 0; j < per; j++)
                c->w[o * per + j] *= bn->w[o];
    } else { /* ConvTranspose: weights [Cin][M/g][kk] */
        int64_t cg = cin / g, mg = m / g;
        for (int64_t ci = 0; ci < cin; ci++)
            for (int64_t j = 0; j < mg; j++) {
                float a = bn->w[(ci / cg) * mg + j];
                for (int64_t t = 0; t < kk; t++)
                    c->w[(ci * mg + j) * kk + t] *= a;
            }
    }
    for (int64_t o = 0; o < m; o++)
        c->bias[o] = c->bias[o] * bn->w[o] + bn->bias[o];
}

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

/* First-fit placement of a block of n bytes among live blocks. */
typedef struct blk {
    size_t off, size;
    int32_t value;
} blk;

static size_t place(blk *live, int32_t *nlive, size_t n, int32_t value) {
    size_t off = 0;
    int32_t at = 0;
    for (; at < *nlive; at++) {
        if (live[at].off >= off + n)
            break;
        size_t end = live[at].off + live[at].size;
        if (end > off)
            off = end;
    }
    memmove(&live[at + 1], &live[at], (size_t)(*nlive - at) * sizeof *live);
    live[at] = (blk){off, n, value};
    (*nlive)++;
    return off;
}

static void unplace(blk *live, int32_t *nlive, int32_t value) {
    for (int32_t i = 0; i < *nlive; i++)
        if (live[i].value == value) {
            memmove(&live[i], &live[i + 1], (size_t)(*nlive - i - 1) * sizeof *live);
            (*nlive)--;
            return;
        }
}

/* ---- build ------------------------------------------------------------- */
/* A (transposed) convolution's weights in the GEMM kernel's panels. */
static eo_status pack_conv(build *b, eoi_node *n) {
    eoi_graph *g = b->g;
    size_t nb = 0;
    size_t nw =
        n->op == EOI_OP_CONV || n->op == EOI_OP_CONVT ? eoi_conv_packed_floats(g, n, &nb) : 0;
    if (!nw)
        return EO_OK;
    float *wp = galloc(b, nw * sizeof(float)), *bp = galloc(b, nb * sizeof(float));
    if (!wp || !bp)
        return EO_E_NOMEM;
    eoi_conv_pack(g, n, wp, bp);
    return EO_OK;
}

static eo_status fold_node(build *b, eoi_node *n, void **cbuf) {
    eoi_graph *g = b->g;
    size_t budget = b->m->file_bytes > FOLD_MIN_BUDGET / FOLD_FILE_FACTOR
                        ? b->m->file_bytes * FOLD_FILE_FACTOR
                        : FOLD_MIN_BUDGET;
    for (int32_t i = 0; i < n->nout; i++) {
        eoi_value *o = out_val(b, n, i);
        size_t bytes = (size_t)o->n * (o->dtype == EOI_I64 ? 8 : 4);
        if (bytes > budget - b->folded)
            return bfail(b, EO_E_LIMIT,
                         "folding constants would make %zu MiB (limit %zu MiB: %d times the "
                         "model file, at least %zu MiB)",
                         (b->folded + bytes) >> 20, budget >> 20, FOLD_FILE_FACTOR,
                         FOLD_MIN_BUDGET >> 20);
        b->folded += bytes;
        if (!(o->cdata = galloc(b, bytes)))
            return EO_E_NOMEM;
        cbuf[n->out[i]] = o->cdata;
    }
    if (n->op == EOI_OP_SHAPE) {
        const eoi_value *x = in_val(b, n, 0);
        eoi_value *o = out_val(b, n, 0);
        for (int64_t i = 0; i < o->n; i++)
            ((int64_t *)o->cdata)[i] = n->binop ? x->n : x->dims[n->starts[0] + i];
        return EO_OK;
    }
    eoi_exec ex = {g, cbuf, NULL, 1, NULL, 0};
    eo_status st = pack_conv(b, n); /* a convolution of constants */
    if (st != EO_OK)
        return st;
    size_t sb = eoi_node_scratch(g, n);
    if (sb && !(ex.scratch = eoi_malloc(b->ctx, sb)))
        return EO_E_NOMEM;
    st = eoi_node_run(b->ctx, &ex, n);
    eoi_free(ex.scratch);
    return st;
}

/* Operators whose kernels move or compute int64 elements as well as float
 * ones (data movement, element-wise arithmetic, casts). */
static int int_ok(int32_t op) {
    switch (op) {
    case EOI_OP_BINARY:
    case EOI_OP_COPY:
    case EOI_OP_TRANSPOSE:
    case EOI_OP_CONCAT:
    case EOI_OP_SPLIT:
    case EOI_OP_SLICE:
    case EOI_OP_GATHER:
    case EOI_OP_CAST:
    case EOI_OP_CONSTOFSHAPE:
    case EOI_OP_PAD:
    case EOI_OP_MATH:
    case EOI_OP_BCAST:
    case EOI_OP_SELECT:
    case EOI_OP_EXPAND:
    case EOI_OP_REDUCE:
    case EOI_OP_VARIADIC:
    case EOI_OP_RANGE:
    case EOI_OP_TRILU:
    case EOI_OP_GATHERELEM:
    case EOI_OP_CUMSUM:
    case EOI_OP_D2S:
        return 1;
    default:
        return 0;
    }
}

static eo_status add_nodes(build *b, void **cbuf, int32_t *nrt) {
    eoi_graph *g = b->g;
    const eoi_onnx *m = b->m;
    eo_status st;
    for (int32_t i = 0; i < m->nnodes; i++) {
        const eoi_onode *on = &m->nodes[i];
        b->on = on;
        const opdef *def = find_op(on);
        if (!def)
            return bfail(b, EO_E_MODEL_UNSUPPORTED_OP, "operator %s%s%s is not supported", on->op,
                         on->domain && on->domain[0] ? " of domain " : "",
                         on->domain ? on->domain : "");
        eoi_node *n = &g->nodes[*nrt];
        memset(n, 0, sizeof *n);
        n->op = def->op;
        n->act.kind = def->act;
        n->binop = def->binop;
        n->name = on->name;
        n->type = on->op;
        n->nin = on->nin;
        n->nout = on->nout;
        if (on->nout < 1)
            return bfail(b, EO_E_MODEL, "no outputs");
        if (!(n->in = galloc(b, (size_t)(on->nin + 1) * sizeof(int32_t))) ||
            !(n->out = galloc(b, (size_t)on->nout * sizeof(int32_t))))
            return EO_E_NOMEM;
        int all_const = 1;
        for (int32_t j = 0; j < on->nin; j++) {
            if (on->in[j][0] == '\0') {
                n->in[j] = -1;
                continue;
            }
            n->in[j] = find_value(g, on->in[j]);
            if (n->in[j] < 0)
                return bfail(b, EO_E_MODEL, "input '%s' is not produced before this node",
                             on->in[j]);
            if (g->values[n->in[j]].n < 0)
                return bfail(b, EO_E_MODEL, "input '%s' is too large", on->in[j]);
            all_const &= g->values[n->in[j]].cdata != NULL;
        }
        for (int32_t j = 0; j < on->nout; j++) {
            if (on->out[j][0] != '\0' && find_value(g, on->out[j]) >= 0)
                return bfail(b, EO_E_MODEL, "output '%s' is defined twice", on->out[j]);
            if ((n->out[j] = add_value(b, on->out[j])) < 0)
                return bfail(b, EO_E_INTERNAL, "value table overflow");
        }
        if ((st = prepare(b, n)) != EO_OK)
            return st;
        for (int32_t j = 0; j < on->nout; j++)
            if (out_val(b, n, j)->n < 0)
                return bfail(b, EO_E_MODEL, "output '%s' is too large", on->out[j]);
        if (n->op == EOI_OP_CONSTANT) {
            cbuf[n->out[0]] = out_val(b, n, 0)->cdata;
            continue;
        }
        if (n->op == EOI_OP_SHAPE || n->op == EOI_OP_RANGE || (all_const && n->nin > 0)) {
            if ((st = fold_node(b, n, cbuf)) != EO_OK)
                return st;
            continue;
        }
        if (!int_ok(n->op))
            for (int32_t j = 0; j < n->nin + n->nout; j++) {
                const eoi_value *v = j < n->nin ? in_val(b, n, j) : out_val(b, n, j - n->nin);
                if (v && !v->cdata && v->dtype != EOI_F32)
                    return bfail(b, EO_E_MODEL_UNSUPPORTED_OP,
                                 "integer tensors computed at run time are not supported here");
            }
        (*nrt)++;
    }
    b->on = NULL;
    return EO_OK;
}

eo_status eoi_graph_check_ops(eo_ctx *ctx, const eoi_onnx *m) {
    for (int32_t i = 0; i < m->nnodes; i++) {
        const eoi_onode *on = &m->nodes[i];
        if (!find_op(on))
            return eoi_fail(ctx, EO_E_MODEL_UNSUPPORTED_OP,
                            "node '%s' (%s): operator %s%s%s is not supported", on->name, on->op,
                            on->op, on->domain && on->domain[0] ? " of domain " : "",
                            on->domain ? on->domain : "");
    }
    return EO_OK;
}

/* Fold BatchNormalization into the convolution before it and activations
 * into the epilogue of the convolution (or batch norm) before them, when
 * that producer's output feeds nothing else. */
/* ---- transformer patterns: LayerNorm and GELU as exported before opset 17 */
typedef struct fctx {
    eoi_graph *g;
    int32_t nrt, *prod, *uses;
} fctx;

/* The node producing v if it is of op (and binop / math kind k, -1: any),
 * runs at run time, and v feeds nothing else than `uses` nodes. */
static eoi_node *producer(const fctx *f, int32_t v, int32_t op, int32_t k, int32_t uses) {
    if (v < 0 || f->prod[v] < 0 || f->uses[v] != uses || f->g->values[v].is_output)
        return NULL;
    eoi_node *p = &f->g->nodes[f->prod[v]];
    return p->op == op && (k < 0 || p->binop == k) ? p : NULL;
}

/* The scalar float constant of value v, or NAN. */
static float cscalar(const eoi_graph *g, int32_t v) {
    const eoi_value *x = v >= 0 ? &g->values[v] : NULL;
    return x && x->cdata && x->n == 1 && x->dtype == EOI_F32 ? *(const float *)x->cdata : NAN;
}

/* The other input of binary node n than v (-1 if v is not one of them). */
static int32_t other(const eoi_node *n, int32_t v) {
    return n->nin != 2 ? -1 : n->in[0] == v ? n->in[1] : n->in[1] == v ? n->in[0] : -1;
}

/* The only node reading v (NULL if none or several). */
static eoi_node *consumer(const fctx *f, int32_t v) {
    if (f->uses[v] != 1 || f->g->values[v].is_output)
        return NULL;
    for (int32_t i = f->prod[v] + 1; i < f->nrt; i++)
        for (int32_t j = 0; j < f->g->nodes[i].nin; j++)
            if (f->g->nodes[i].in[j] == v)
                return &f->g->nodes[i];
    return NULL;
}

static int last_axis_mean(const eoi_graph *g, const eoi_node *r) {
    const eoi_value *x = &g->values[r->in[0]];
    if (r->binop != EOI_R_MEAN || !r->starts[0] || x->ndim < 1 || !r->perm[x->ndim - 1])
        return 0;
    for (int32_t i = 0; i < x->ndim - 1; i++)
        if (r->perm[i])
            return 0;
    return 1;
}

/* y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis, as
 * ReduceMean Sub Pow ReduceMean Add Sqrt Div Mul Add: one LayerNormalization. */
static void fuse_layernorm(fctx *f, eoi_node *dv) {
    eoi_graph *g = f->g;
    if (dv->op != EOI_OP_BINARY || dv->binop != EOI_BIN_DIV)
        return;
    int32_t d = dv->in[0];
    eoi_node *sq = producer(f, dv->in[1], EOI_OP_MATH, EOI_M_SQRT, 1);
    eoi_node *ad = sq ? producer(f, sq->in[0], EOI_OP_BINARY, EOI_BIN_ADD, 1) : NULL;
    eoi_node *r2 = ad ? producer(f, ad->in[0], EOI_OP_REDUCE, EOI_R_MEAN, 1) : NULL;
    eoi_node *pw = r2 ? producer(f, r2->in[0], EOI_OP_BCAST, EOI_B_POW, 1) : NULL;
    eoi_node *sb = pw && pw->in[0] == d ? producer(f, d, EOI_OP_BINARY, EOI_BIN_SUB, 2) : NULL;
    eoi_node *r1 = sb ? producer(f, sb->in[1], EOI_OP_REDUCE, EOI_R_MEAN, 1) : NULL;
    if (!r1 || r1->in[0] != sb->in[0] || !last_axis_mean(g, r1) || !last_axis_mean(g, r2) ||
        cscalar(g, pw->in[1]) != 2.0f || !(cscalar(g, ad->in[1]) >= 0.0f))
        return;
    int32_t x = sb->in[0];
    const eoi_value *xv = &g->values[x];
    int64_t c = xv->dims[xv->ndim - 1];
    eoi_node *mu = consumer(f, dv->out[0]);
    if (!mu || mu->op != EOI_OP_BINARY || mu->binop != EOI_BIN_MUL)
        return;
    eoi_node *bi = consumer(f, mu->out[0]);
    if (!bi || bi->op != EOI_OP_BINARY || bi->binop != EOI_BIN_ADD)
        return;
    int32_t gm = other(mu, dv->out[0]), bt = other(bi, mu->out[0]);
    const eoi_value *gv = gm >= 0 ? &g->values[gm] : NULL, *bv = bt >= 0 ? &g->values[bt] : NULL;
    const eoi_value *ov = &g->values[bi->out[0]];
    if (!gv || !bv || !gv->cdata || !bv->cdata || gv->dtype != EOI_F32 || bv->dtype != EOI_F32 ||
        gv->n != c || bv->n != c || ov->ndim != xv->ndim ||
        memcmp(ov->dims, xv->dims, (size_t)xv->ndim * sizeof *xv->dims) != 0)
        return;
    dv->eps = cscalar(g, ad->in[1]);
    dv->op = EOI_OP_LAYERNORM;
    dv->type = "LayerNormalization[fused]";
    dv->axis = xv->ndim - 1;
    dv->nin = 3; /* in[] has nin + 1 = 3 slots */
    dv->in[0] = x;
    dv->in[1] = gm;
    dv->in[2] = bt;
    dv->nout = 1;
    dv->out[0] = bi->out[0];
    f->prod[bi->out[0]] = (int32_t)(dv - g->nodes);
    sq->op = ad->op = r2->op = pw->op = sb->op = r1->op = mu->op = bi->op = EOI_OP_NONE;
}

/* x * 0.5 * (1 + erf(x / sqrt 2)) as Div Erf Add Mul Mul: one GELU. */
static void fuse_gelu(fctx *f, eoi_node *e) {
    eoi_graph *g = f->g;
    if (e->op != EOI_OP_BINARY || e->binop != EOI_BIN_MUL || e->nin != 2)
        return;
    int half = cscalar(g, e->in[1]) == 0.5f ? 1 : cscalar(g, e->in[0]) == 0.5f ? 0 : -1;
    if (half < 0)
        return;
    eoi_node *z = producer(f, e->in[1 - half], EOI_OP_BINARY, EOI_BIN_MUL, 1);
    for (int32_t side = 0; z && side < 2; side++) {
        int32_t x = z->in[side];
        eoi_node *w = producer(f, z->in[1 - side], EOI_OP_BINARY, EOI_BIN_ADD, 1);
        int32_t u = w ? (cscalar(g, w->in[1]) == 1.0f   ? w->in[0]
                         : cscalar(g, w->in[0]) == 1.0f ? w->in[1]
                                                        : -1)
                      : -1;
        eoi_node *er = producer(f, u, EOI_OP_MATH, EOI_M_ERF, 1);
        eoi_node *dv = er ? producer(f, er->in[0], EOI_OP_BINARY, EOI_BIN_DIV, 1) : NULL;
        if (!dv || dv->in[0] != x || !(fabsf(cscalar(g, dv->in[1]) - 1.41421356f) <= 1e-6f))
            continue;
        const eoi_value *xv = &g->values[x], *ov = &g->values[e->out[0]];
        if (xv->dtype != EOI_F32 || ov->n != xv->n)
            return;
        e->op = EOI_OP_MATH;
        e->binop = EOI_M_GELU;
        e->type = "Gelu[fused]";
        e->nin = 1;
        e->in[0] = x;
        z->op = w->op = er->op = dv->op = EOI_OP_NONE;
        return;
    }
}

static int32_t fuse(eoi_graph *g, int32_t nrt) {
    int32_t *prod = NULL, *uses = NULL;
    size_t nv = (size_t)g->nvalues;
    prod = eoi_malloc(NULL, nv * sizeof *prod);
    uses = eoi_calloc(NULL, nv, sizeof *uses);
    if (!prod || !uses) { /* fusion is optional */
        eoi_free(prod);
        eoi_free(uses);
        return nrt;
    }
    for (size_t i = 0; i < nv; i++)
        prod[i] = -1;
    for (int32_t i = 0; i < nrt; i++) {
        eoi_node *n = &g->nodes[i];
        for (int32_t j = 0; j < n->nin; j++)
            if (n->in[j] >= 0)
                uses[n->in[j]]++;
        for (int32_t j = 0; j < n->nout; j++)
            prod[n->out[j]] = i;
    }
    fctx fc = {g, nrt, prod, uses};
    for (int32_t i = 0; i < nrt; i++)
        fuse_layernorm(&fc, &g->nodes[i]);
    for (int32_t i = 0; i < nrt; i++)
        fuse_gelu(&fc, &g->nodes[i]);
    for (int32_t i = 0; i < nrt; i++) {
        eoi_node *n = &g->nodes[i];
        int32_t v = n->nin > 0 ? n->in[0] : -1;
        if (n->op == EOI_OP_NONE || v < 0 || prod[v] < 0 || uses[v] != 1 || g->values[v].is_output)
            continue;
        eoi_node *p = &g->nodes[prod[v]];
        int fusable = 0;
        if (n->op == EOI_OP_BN && (p->op == EOI_OP_CONV || p->op == EOI_OP_CONVT) &&
            p->act.kind == EOI_ACT_NONE) {
            int64_t cin = g->values[p->in[0]].dims[1];
            fold_bn_into_conv(p, n, cin, g->values[v].dims[1]);
            fusable = 1;
        } else if (n->op == EOI_OP_ACT && n->act.kind != EOI_ACT_FLOOR &&
                   n->act.kind != EOI_ACT_CEIL &&
                   (p->op == EOI_OP_CONV || p->op == EOI_OP_CONVT || p->op == EOI_OP_BN) &&
                   p->act.kind == EOI_ACT_NONE) {
            p->act = n->act;
            fusable = 1;
        }
        if (fusable) {
            p->out[0] = n->out[0];
            prod[n->out[0]] = prod[v];
            n->op = EOI_OP_NONE;
        }
    }
    int32_t k = 0;
    for (int32_t i = 0; i < nrt; i++)
        if (g->nodes[i].op != EOI_OP_NONE)
            g->nodes[k++] = g->nodes[i];
    eoi_free(prod);
    eoi_free(uses);
    return k;
}

/* Convolution weights in the GEMM kernel's panels, once BN is folded. */
static eo_status pack_convs(build *b) {
    for (int32_t i = 0; i < b->g->nnodes; i++) {
        eo_status st = pack_conv(b, &b->g->nodes[i]);
        if (st != EO_OK)
            return st;
    }
    return EO_OK;
}

/* Concat in place: an input of a Concat over the outermost non-unit axis
 * (batch 1, channels: the inputs are consecutive blocks of the output) is
 * planned inside the Concat's output block, so its producer writes it where
 * the Concat would copy it and the Concat has nothing left to move
 * (run_concat_split skips a part already in place). Such an input gets
 * parent[v] = the Concat's output and at[v] = its byte offset there, and the
 * output's block lives until the last read of any of its parts. Inputs that
 * are constants, graph inputs or outputs, already parts of a Concat (an input
 * given twice is placed once and copied for the other), Concats' blocks
 * themselves, or would start off a 64-byte boundary are copied as before. */
static void concat_in_place(const eoi_graph *g, int32_t *end, int32_t *parent, size_t *at) {
    for (int32_t i = 0; i < g->nnodes; i++) {
        const eoi_node *n = &g->nodes[i];
        int32_t o = n->out[0];
        if (n->op != EOI_OP_CONCAT || o < 0 || o == g->output || g->values[o].is_output ||
            g->values[o].dtype != EOI_F32 || parent[o] >= 0)
            continue;
        const eoi_value *ov = &g->values[o];
        int64_t outer = 1;
        for (int32_t a = 0; a < n->axis; a++)
            outer *= ov->dims[a];
        if (outer != 1)
            continue;
        size_t off = 0;
        for (int32_t j = 0; j < n->nin; j++) {
            int32_t v = n->in[j];
            if (v < 0)
                break;
            const eoi_value *iv = &g->values[v];
            int ok = v != g->output && !iv->cdata && !iv->in_index && !iv->is_output &&
                     parent[v] < 0 && off % 64 == 0;
            for (int32_t k = 0; ok && k < g->nvalues; k++) /* not a Concat's block itself */
                ok = parent[k] != v;
            if (ok) {
                parent[v] = o;
                at[v] = off;
                if (end[v] > end[o])
                    end[o] = end[v];
            }
            off += (size_t)iv->n * 4;
        }
    }
}

/* Reshape, Flatten, Squeeze, Unsqueeze, Identity in place: the output is
 * the input's bytes under another shape, so the plan gives it the input's
 * place (inside a Concat's block if the input is there) and keeps that block
 * until the last read of either; the copy then has nothing to move. Not for
 * constants, graph inputs or outputs, or outputs already placed in a Concat. */
static void copy_in_place(const eoi_graph *g, int32_t *end, int32_t *parent, size_t *at) {
    for (int32_t i = 0; i < g->nnodes; i++) {
        const eoi_node *n = &g->nodes[i];
        int32_t o = n->out[0], v = n->in[0];
        if (n->op != EOI_OP_COPY || o < 0 || v < 0 || o == g->output || v == g->output ||
            g->values[o].is_output || parent[o] >= 0 || g->values[v].cdata ||
            g->values[v].in_index || g->values[o].dtype != g->values[v].dtype)
            continue;
        int32_t root = parent[v] >= 0 ? parent[v] : v;
        parent[o] = root;
        at[o] = parent[v] >= 0 ? at[v] : 0;
        if (end[o] > end[root])
            end[root] = end[o];
    }
}

static eo_status plan(build *b) {
    eoi_graph *g = b->g;
    for (int32_t i = 0; i < g->nnodes; i++) {
        const eoi_node *n = &g->nodes[i];
        for (int32_t j = 0; j < n->nin; j++)
            if (n->in[j] >= 0)
                g->values[n->in[j]].last_use = i;
        size_t sb = eoi_node_scratch(g, n);
        if (sb > g->scratch_bytes)
            g->scratch_bytes = sb;
        size_t wf = eoi_conv_work_floats(g, n);
        if (wf > g->work_floats)
            g->work_floats = wf;
    }
    size_t nv = (size_t)g->nvalues;
    blk *live = eoi_malloc(b->ctx, (nv + 1) * sizeof *live);
    int32_t *end = eoi_malloc(b->ctx, (nv + 1) * sizeof *end);
    int32_t *parent = eoi_malloc(b->ctx, (nv + 1) * sizeof *parent);
    size_t *at = eoi_malloc(b->ctx, (nv + 1) * sizeof *at);
    char *placed = eoi_calloc(b->ctx, nv + 1, 1);
    if (!live || !end || !parent || !at || !placed) {
        eoi_free(live);
        eoi_free(end);
        eoi_free(parent);
        eoi_free(at);
        eoi_free(placed);
        return EO_E_NOMEM;
    }
    /* A value's block is free after step end[v]; graph outputs keep theirs. */
    for (int32_t v = 0; v < g->nvalues; v++) {
        end[v] = g->values[v].is_output ? INT32_MAX : g->values[v].last_use;
        parent[v] = -1;
    }
    for (int32_t i = 0; i < g->nnodes; i++)
        for (int32_t j = 0; j < g->nodes[i].nout; j++)
            if (g->nodes[i].out[j] >= 0 && end[g->nodes[i].out[j]] < 0)
                end[g->nodes[i].out[j]] = i; /* never read: freed at once */
    concat_in_place(g, end, parent, at);
    copy_in_place(g, end, parent, at);
    int32_t nlive = 0;
    size_t high = 0;
    for (int32_t i = 0; i < g->nnodes; i++) {
        const eoi_node *n = &g->nodes[i];
        for (int32_t j = 0; j < n->nout; j++) {
            int32_t id = n->out[j];
            if (id < 0 || id == g->output || placed[id])
                continue; /* the caller's buffer, or a Concat its inputs placed */
            int32_t blk_id = parent[id] >= 0 ? parent[id] : id;
            eoi_value *v = &g->values[blk_id];
            if (!placed[blk_id]) {
                size_t bytes = round64((size_t)v->n * (v->dtype == EOI_I64 ? 8 : 4));
                v->offset = place(live, &nlive, bytes, blk_id);
                placed[blk_id] = 1;
                if (v->offset + bytes > high)
                    high = v->offset + bytes;
            }
            if (blk_id != id) { /* written straight into its place in the Concat */
                g->values[id].offset = v->offset + at[id];
                placed[id] = 1;
            }
        }
        for (int32_t k = nlive - 1; k >= 0; k--)
            if (end[live[k].value] <= i)
                unplace(live, &nlive, live[k].value);
    }
    eoi_free(end);
    eoi_free(parent);
    eoi_free(at);
    eoi_free(placed);
    eoi_free(live);
    g->arena_bytes = high;
    int64_t lim = eoi_limit(b->ctx, EO_LIMIT_MAX_BYTES);
    if (high > (size_t)lim || g->scratch_bytes > (size_t)lim)
        return eoi_fail(b->ctx, EO_E_LIMIT,
                        "the model needs %zu bytes of work memory for this input shape (limit "
                        "%lld)",
                        high > g->scratch_bytes ? high : g->scratch_bytes, (long long)lim);
    return EO_OK;
}

int32_t eoi_elem_internal(int32_t e) {
    /* bool and int32 are held as int64 */
    return e == 1 || e == 10 || e == 11 || e == 16 ? EOI_F32
           : e == 7 || e == 9 || e == 6            ? EOI_I64
                                                   : 0;
}

/* Indices into m->inputs of the inputs that are not initializers; fills
 * idx[cap] and returns the count. */
int32_t eoi_onnx_graph_inputs(const eoi_onnx *m, int32_t *idx, int32_t cap) {
    int32_t k = 0;
    for (int32_t i = 0; i < m->ninputs; i++) {
        int is_init = 0;
        for (int32_t j = 0; j < m->ninit && !is_init; j++)
            is_init = strcmp(m->inits[j].name, m->inputs[i].name) == 0;
        if (is_init)
            continue;
        if (idx && k < cap)
            idx[k] = i;
        k++;
    }
    return k;
}

eo_status eoi_graph_build(eo_ctx *ctx, eoi_graph *g, const eoi_onnx *m, const eoi_bind *binds,
                          uint8_t *want) {
    eo_status st = EO_OK;
    void **cbuf = NULL;
    memset(g, 0, sizeof *g);
    g->bf16 = m->bf16;
    build bd = {ctx, g, m, NULL, 0, want, 0};
    build *b = &bd;
    int64_t cap = (int64_t)m->ninit + m->ninputs + 1;
    for (int32_t i = 0; i < m->nnodes; i++)
        cap += m->nodes[i].nout;
    if (cap > (1 << 24))
        return eoi_fail(ctx, EO_E_MODEL, "ONNX model is too large (%lld values)", (long long)cap);
    b->cap_values = (int32_t)cap;
    if (!(g->values = galloc(b, (size_t)cap * sizeof *g->values)) ||
        !(g->nodes = galloc(b, ((size_t)m->nnodes + 1) * sizeof *g->nodes)) ||
        !(cbuf = eoi_calloc(ctx, (size_t)cap, sizeof *cbuf))) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (int32_t i = 0; i < m->ninit; i++) {
        const eoi_tensor *t = &m->inits[i];
        int32_t v = add_value(b, t->name);
        set_shape(&g->values[v], t->dtype, t->ndim, t->dims);
        g->values[v].cdata = t->data;
        cbuf[v] = t->data;
    }
    /* the graph inputs: the declared inputs that are not initializers */
    int32_t nin = eoi_onnx_graph_inputs(m, NULL, 0);
    if (!(g->inputs = galloc(b, ((size_t)nin + 1) * sizeof *g->inputs)) ||
        !(g->outputs = galloc(b, ((size_t)m->noutputs + 1) * sizeof *g->outputs))) {
        st = EO_E_NOMEM;
        goto done;
    }
    eoi_onnx_graph_inputs(m, g->inputs, nin); /* indices into m->inputs, made value ids below */
    g->ninputs = nin;
    g->input = -1;
    for (int32_t i = 0; i < nin; i++) {
        const eoi_vinfo *in = &m->inputs[g->inputs[i]];
        const eoi_bind *bi = binds && binds[i].ndim >= 0 ? &binds[i] : NULL;
        int32_t dt = eoi_elem_internal(in->elem);
        int32_t v = add_value(b, in->name);
        eoi_value *iv = &g->values[v];
        g->inputs[i] = v;
        iv->in_index = i + 1;
        if (!dt) {
            char tb[32];
            st = eoi_fail(ctx, EO_E_MODEL_UNSUPPORTED_OP,
                          "input '%s' has ONNX element type %s (float32, float16, float64, "
                          "int64, int32 and bool are supported)",
                          in->name, eoi_elem_name(in->elem, tb, sizeof tb));
            goto done;
        }
        if (bi) {
            if (in->ndim >= 0 && in->ndim != bi->ndim) {
                st = eoi_fail(ctx, EO_E_ARG,
                              "input '%s': shape of rank %d for a model input of rank %d", in->name,
                              (int)bi->ndim, (int)in->ndim);
                goto done;
            }
            for (int32_t d = 0; d < bi->ndim; d++)
                if (bi->dims[d] < 0 ||
                    (in->ndim >= 0 && in->dims[d] >= 0 && in->dims[d] != bi->dims[d])) {
                    st = eoi_fail(ctx, EO_E_ARG,
                                  "input '%s': size %lld on axis %d; the model fixes %lld",
                                  in->name, (long long)bi->dims[d], (int)d, (long long)in->dims[d]);
                    goto done;
                }
            set_shape(iv, dt, bi->ndim, bi->dims);
            if (bi->data) {
                size_t bytes = (size_t)(iv->n > 0 ? iv->n : 0) * (dt == EOI_I64 ? 8 : 4);
                if (iv->n < 0 || !(iv->cdata = galloc(b, bytes ? bytes : 8))) {
                    st = iv->n < 0 ? eoi_fail(ctx, EO_E_LIMIT, "input '%s' is too large", in->name)
                                   : EO_E_NOMEM;
                    goto done;
                }
                memcpy(iv->cdata, bi->data, bytes);
                cbuf[v] = iv->cdata;
            }
        } else {
            if (in->ndim < 0) {
                st = eoi_fail(ctx, EO_E_ARG, "input '%s' has no shape: give one", in->name);
                goto done;
            }
            for (int32_t d = 0; d < in->ndim; d++)
                if (in->dims[d] < 0) {
                    st = eoi_fail(ctx, EO_E_ARG,
                                  "input '%s' has a dynamic size on axis %d: give an input shape",
                                  in->name, (int)d);
                    goto done;
                }
            set_shape(iv, dt, in->ndim, in->dims);
        }
        if (iv->n < 0) {
            st = eoi_fail(ctx, EO_E_LIMIT, "input '%s' is too large", in->name);
            goto done;
        }
        if (!iv->cdata && dt == EOI_I64 && want)
            want[i] = 1; /* integer inputs are shapes, indices, axes: planned as constants */
        if (!iv->cdata && g->input < 0)
            g->input = v;
    }
    int32_t nrt = 0;
    EOI_TRY(st, add_nodes(b, cbuf, &nrt));
    if (m->noutputs < 1) {
        st = eoi_fail(ctx, EO_E_MODEL, "ONNX model has no outputs");
        goto done;
    }
    for (int32_t i = 0; i < m->noutputs; i++) {
        int32_t v = find_value(g, m->outputs[i].name);
        if (v < 0) {
            st = eoi_fail(ctx, EO_E_MODEL, "ONNX model output '%s' is not produced by any node",
                          m->outputs[i].name);
            goto done;
        }
        if (m->outputs[i].elem && eoi_elem_internal(m->outputs[i].elem) != g->values[v].dtype) {
            char tb[32];
            st = eoi_fail(ctx, EO_E_MODEL_UNSUPPORTED_OP,
                          "output '%s' has ONNX element type %s, not the %s its node computes",
                          m->outputs[i].name, eoi_elem_name(m->outputs[i].elem, tb, sizeof tb),
                          g->values[v].dtype == EOI_F32 ? "float32" : "int64");
            goto done;
        }
        g->outputs[i] = v;
        g->values[v].is_output = 1;
    }
    g->noutputs = m->noutputs;
    g->output = g->outputs[0];
    g->nnodes = fuse(g, nrt);
    EOI_TRY(st, pack_convs(b));
    EOI_TRY(st, plan(b));
done:
    eoi_free(cbuf);
    if (st != EO_OK)
        eoi_graph_free(g);
    return st;
}

void eoi_graph_free(eoi_graph *g) {
    if (g)
        eoi_arena_free(&g->arena);
}
