/*
 * infer_int.h - internals of the inference core: the parsed ONNX model
 * (onnx.c), the graph (graph.c: shape inference, constant folding, fusion,
 * buffer plan), the nodes (nodes.c, nodes_math.c, conv.c, spatial.c) and
 * the SIMD kernel table (kern_*.c). Never installed.
 */
#ifndef INFER_INT_H
#define INFER_INT_H

#include "eoi.h"

#include <math.h>
#include <pthread.h>

#define EOI_MAXDIM 8
/* Floats of one gathered column panel (kc x gemm_nr): a part of L1. */
#define EOI_GEMM_PANEL_FLOATS 6144

/* ---- arena: every piece of a parsed model lives in one ----------------- */
typedef struct eoi_arena_blk eoi_arena_blk;
typedef struct eoi_arena {
    eoi_arena_blk *head;
} eoi_arena;
void *eoi_arena_alloc(eo_ctx *ctx, eoi_arena *a, size_t n);
void eoi_arena_free(eoi_arena *a);

/* ---- ONNX as read from the file (onnx.c) ------------------------------- */
enum { EOI_F32 = 1, EOI_I64 = 7 }; /* element types we hold (ONNX numbers) */

typedef struct eoi_tensor {
    const char *name;
    int32_t dtype; /* EOI_F32 or EOI_I64 after conversion */
    int32_t ndim;
    int64_t dims[EOI_MAXDIM];
    int64_t n;
    void *data; /* float * or int64_t * */
} eoi_tensor;

enum {
    EOI_AT_FLOAT = 1,
    EOI_AT_INT = 2,
    EOI_AT_STRING = 3,
    EOI_AT_TENSOR = 4,
    EOI_AT_GRAPH = 5,
    EOI_AT_FLOATS = 6,
    EOI_AT_INTS = 7,
    EOI_AT_STRINGS = 8,
};

typedef struct eoi_attr {
    const char *name;
    int32_t type;
    float f;
    int64_t i;
    const char *s; /* NUL-terminated copy */
    eoi_tensor *t;
    int32_t nfloats, nints;
    float *floats;
    int64_t *ints;
} eoi_attr;

typedef struct eoi_onode {
    const char *name, *op, *domain;
    int32_t nin, nout, nattr;
    const char **in, **out;
    eoi_attr *attr;
} eoi_onode;

typedef struct eoi_vinfo {
    const char *name;
    int32_t elem, ndim;       /* ndim -1: unknown rank */
    int64_t dims[EOI_MAXDIM]; /* -1: dynamic */
} eoi_vinfo;

typedef struct eoi_onnx {
    eoi_arena arena;
    int64_t ir_version, opset;
    int32_t nnodes, ninit, ninputs, noutputs;
    eoi_onode *nodes;
    eoi_tensor *inits;
    eoi_vinfo *inputs, *outputs;
    const char *card;  /* metadata_props value of EOI_CARD_KEY, or NULL */
    int32_t bf16;      /* graphs built from it pack convolutions for the BF16 kernel */
    size_t file_bytes; /* size of the ONNX file (bounds what constant folding may make) */
} eoi_onnx;

/* The metadata_props key of the model card (card.c). */
#define EOI_CARD_KEY "eoproc.card"

/* Parse an ONNX ModelProto; EO_E_MODEL on any malformation. */
eo_status eoi_onnx_parse(eo_ctx *ctx, eoi_onnx *out, const uint8_t *data, size_t size);
void eoi_onnx_free(eoi_onnx *m);
/* Parse one serialized TensorProto (as ONNX's test data stores them) into
 * t, its data in arena; float types become EOI_F32, integer ones EOI_I64. */
eo_status eoi_onnx_parse_tensor(eo_ctx *ctx, eoi_arena *arena, const uint8_t *data, size_t size,
                                eoi_tensor *t);
const eoi_attr *eoi_attr_find(const eoi_onode *n, const char *name);
/* The bytes of an ONNX file with its top-level metadata_props entry key
 * set to value (NULL: removed): every other top-level field is copied byte
 * for byte, the entry goes last. *out is released with eoi_free. */
eo_status eoi_onnx_set_metadata(eo_ctx *ctx, uint8_t **out, size_t *out_len, const uint8_t *data,
                                size_t size, const char *key, const char *value);

/* ---- the executable graph (graph.c) ------------------------------------ */
enum {
    EOI_OP_NONE,
    EOI_OP_CONV,
    EOI_OP_CONVT,
    EOI_OP_BN,
    EOI_OP_ACT, /* unary element-wise: act field says which */
    EOI_OP_PRELU,
    EOI_OP_SOFTMAX,
    EOI_OP_BINARY, /* Add Sub Mul Div with broadcasting */
    EOI_OP_CONCAT,
    EOI_OP_SPLIT,
    EOI_OP_SLICE,
    EOI_OP_MAXPOOL,
    EOI_OP_AVGPOOL,
    EOI_OP_GAP,
    EOI_OP_RESIZE,
    EOI_OP_PAD,
    EOI_OP_COPY, /* Identity Dropout Flatten Reshape Squeeze Unsqueeze */
    EOI_OP_TRANSPOSE,
    EOI_OP_GEMM,
    EOI_OP_MATMUL,
    EOI_OP_CONSTANT,
    EOI_OP_SHAPE,
    EOI_OP_GATHER,
    EOI_OP_CAST,
    EOI_OP_CONSTOFSHAPE,
    EOI_OP_MATH,     /* unary element-wise, scalar (nodes_math.c): binop says which */
    EOI_OP_BCAST,    /* binary element-wise with broadcasting, scalar: binop says which */
    EOI_OP_VARIADIC, /* Sum Mean Max Min of any number of inputs: binop says which */
    EOI_OP_SELECT,
    EOI_OP_EXPAND, /* Expand and Tile (binop 1) */
    EOI_OP_REDUCE, /* Reduce* and ArgMax / ArgMin: binop says which, perm[] marks axes */
    EOI_OP_LAYERNORM,
    EOI_OP_INSTNORM,
    EOI_OP_RANGE,
    EOI_OP_TRILU,
    EOI_OP_GATHERELEM,
    EOI_OP_CUMSUM,
    EOI_OP_D2S, /* DepthToSpace, SpaceToDepth (binop 1) */
};

/* EOI_OP_MATH kinds */
enum {
    EOI_M_EXP = 1,
    EOI_M_LOG,
    EOI_M_SQRT,
    EOI_M_NEG,
    EOI_M_ABS,
    EOI_M_ERF,
    EOI_M_RECIP,
    EOI_M_SIN,
    EOI_M_COS,
    EOI_M_TAN,
    EOI_M_ASIN,
    EOI_M_ACOS,
    EOI_M_ATAN,
    EOI_M_SINH,
    EOI_M_COSH,
    EOI_M_ASINH,
    EOI_M_ACOSH,
    EOI_M_ATANH,
    EOI_M_SIGN,
    EOI_M_ROUND,
    EOI_M_ELU,
    EOI_M_SELU,
    EOI_M_CELU,
    EOI_M_SOFTPLUS,
    EOI_M_SOFTSIGN,
    EOI_M_THRELU,
    EOI_M_ISNAN,
    EOI_M_ISINF,
    EOI_M_NOT,
    EOI_M_SHRINK,
    EOI_M_MISH,
    EOI_M_GELU, /* fused from Div Erf Add Mul Mul (graph.c) */
};

/* EOI_OP_BCAST and EOI_OP_VARIADIC kinds */
enum {
    EOI_B_POW = 1,
    EOI_B_MAX,
    EOI_B_MIN,
    EOI_B_SUM,
    EOI_B_MEAN,
    EOI_B_EQ,
    EOI_B_GT,
    EOI_B_GE,
    EOI_B_LT,
    EOI_B_LE,
    EOI_B_AND,
    EOI_B_OR,
    EOI_B_XOR,
    EOI_B_MOD,
    EOI_B_FMOD,
};

/* EOI_OP_REDUCE kinds */
enum {
    EOI_R_SUM = 1,
    EOI_R_MEAN,
    EOI_R_MAX,
    EOI_R_MIN,
    EOI_R_PROD,
    EOI_R_L1,
    EOI_R_L2,
    EOI_R_LOGSUM,
    EOI_R_LOGSUMEXP,
    EOI_R_SUMSQUARE,
    EOI_R_ARGMAX,
    EOI_R_ARGMIN,
};

enum {
    EOI_ACT_NONE,
    EOI_ACT_RELU,
    EOI_ACT_LEAKY,
    EOI_ACT_CLIP,
    EOI_ACT_SIGMOID,
    EOI_ACT_HSIGMOID,
    EOI_ACT_HSWISH,
    EOI_ACT_TANH,
    EOI_ACT_FLOOR,
    EOI_ACT_CEIL,
};

enum { EOI_BIN_ADD, EOI_BIN_SUB, EOI_BIN_MUL, EOI_BIN_DIV, EOI_BIN_PRELU };

typedef struct eoi_act {
    int32_t kind;
    float a, b; /* leaky alpha; clip min/max; hard-sigmoid alpha/beta */
} eoi_act;

/* Resize coordinate modes and nearest rounding. */
enum { EOI_CT_HALF, EOI_CT_PT_HALF, EOI_CT_ALIGN, EOI_CT_ASYM, EOI_CT_TF_NN };
enum { EOI_NR_PREFER_FLOOR, EOI_NR_PREFER_CEIL, EOI_NR_FLOOR, EOI_NR_CEIL };
enum { EOI_PAD_CONSTANT, EOI_PAD_REFLECT, EOI_PAD_EDGE };

typedef struct eoi_value {
    const char *name;
    int32_t dtype, ndim;
    int64_t dims[EOI_MAXDIM];
    int64_t n;
    void *cdata;       /* constant data (owned by the graph's arena) or NULL */
    int32_t last_use;  /* index of the last step reading it */
    int32_t is_output; /* a graph output: never freed by the plan */
    int32_t in_index;  /* graph input number + 1 (0: not a graph input) */
    size_t offset;     /* byte offset in the run arena */
} eoi_value;

typedef struct eoi_node {
    int32_t op;
    const char *name, *type;
    int32_t nin, nout;
    int32_t *in, *out; /* value ids, -1 for an absent optional input */
    eoi_act act;       /* activation (ACT op, or fused epilogue of CONV) */
    int32_t binop;
    /* convolution / pooling geometry (2-D spatial; 1-D is mapped to H = 1) */
    int64_t group, k[2], s[2], d[2], pads[4], opad[2];
    int32_t ceil_mode, count_pad;
    float *w, *bias; /* conv: weights [Cout][Cin/g * kh * kw] after BN folding */
    float *wp, *bp;  /* conv: w packed for the GEMM kernel, bias padded (conv.c) */
    int32_t wino;    /* conv: wp holds Winograd F(wino x wino, 3x3) weights (2 or 4) */
    int32_t bf16;    /* conv: wp holds bfloat16 pairs for eoi_bf16_gemm (kern_bf16.c) */
    int64_t axis;
    int64_t perm[EOI_MAXDIM];
    float alpha, beta, eps;
    int32_t transa, transb;
    /* resize */
    int32_t linear, coord,
        nearest; /* linear: 1 linear, 2 cubic (alpha: A, starts[0]: exclude_outside) */
    float scale[2];
    /* pad / slice */
    int32_t pad_mode;
    int64_t pads_nd[2 * EOI_MAXDIM];
    float pad_value;
    int64_t starts[EOI_MAXDIM], steps[EOI_MAXDIM];
    int32_t legacy_softmax; /* opset < 13: coerce to 2-D at axis */
    int32_t to_float;       /* cast */
    size_t scratch;         /* bytes of scratch the kernel needs */
} eoi_node;

typedef struct eoi_graph {
    eoi_arena arena;
    int32_t nvalues, nnodes;
    eoi_value *values;
    eoi_node *nodes;
    int32_t input, output; /* value ids: the first run-time input (-1: none), the first output */
    int32_t ninputs, noutputs;
    int32_t *inputs;  /* value ids of the graph inputs (declared order; bound ones are constants) */
    int32_t *outputs; /* value ids of the graph outputs (declared order) */
    size_t arena_bytes;   /* run arena: activations */
    size_t scratch_bytes; /* run scratch: im2col etc. */
    size_t work_floats;   /* per worker thread: the convolutions' panels */
    double flops;
    int32_t bf16; /* the convolutions use the BF16 kernel (eoi_onnx.bf16) */
} eoi_graph;

/* How one graph input is planned: its shape (ndim < 0: the declared one,
 * which must then be fixed) and, if data is set, its value, which makes it
 * a constant of the plan (float or int64 as the input's type). */
typedef struct eoi_bind {
    int32_t ndim;
    int64_t dims[EOI_MAXDIM];
    const void *data;
} eoi_bind;

/* The graph inputs of a parsed model: its inputs that are not initializers
 * (at most cap ids into m->inputs; returns the count). */
int32_t eoi_onnx_graph_inputs(const eoi_onnx *m, int32_t *idx, int32_t cap);
/* Internal type of an ONNX element type: EOI_F32 (float, float16,
 * bfloat16, double), EOI_I64 (int64), 0 for the others. */
int32_t eoi_elem_internal(int32_t onnx_elem);
/* The name of an ONNX element type ("uint8", "float16", ...; "type N" for
 * an unknown number, in buf; onnx.c). */
const char *eoi_elem_name(int32_t onnx_elem, char *buf, size_t cap);

/* Build the graph of a parsed model for the inputs binds[eoi_onnx_graph_
 * inputs] (NULL: every input with its declared shape). When a node needs a
 * graph input as a constant (weights, shapes, scales given as inputs) the
 * build fails with EO_E_MODEL_UNSUPPORTED_OP and, if want is not NULL,
 * sets want[i] for each such input i, so that the caller can bind it. */
eo_status eoi_graph_build(eo_ctx *ctx, eoi_graph *g, const eoi_onnx *m, const eoi_bind *binds,
                          uint8_t *want);
/* Every node's operator is one eoproc runs (attributes are checked when
 * the graph is built); model.UnsupportedOp naming the first that is not. */
eo_status eoi_graph_check_ops(eo_ctx *ctx, const eoi_onnx *m);
void eoi_graph_free(eoi_graph *g);

/* ---- running nodes (nodes.c, nodes_math.c, conv.c, spatial.c) ---------- */
typedef struct eoi_exec {
    const eoi_graph *g;
    void **buf; /* per value: where its data is for this run */
    float *scratch;
    int32_t threads;
    float *work;     /* 64-byte aligned per-thread memory of the convolutions, or NULL */
    size_t work_cap; /* floats at work */
} eoi_exec;

eo_status eoi_node_run(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);
/* Scratch bytes a node needs (set during graph build). */
size_t eoi_node_scratch(const eoi_graph *g, const eoi_node *n);

eo_status eoi_run_conv(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);
/* Floats of a (transposed) convolution's packed weights (0: none,
 * depthwise) and of its padded bias (*nbias), and the packing into wp and
 * bp of those sizes (conv.c). */
size_t eoi_conv_packed_floats(const eoi_graph *g, const eoi_node *n, size_t *nbias);
/* Floats of work memory one thread needs for a (transposed) convolution. */
size_t eoi_conv_work_floats(const eoi_graph *g, const eoi_node *n);
void eoi_conv_pack(const eoi_graph *g, eoi_node *n, float *wp, float *bp);
eo_status eoi_run_convt(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);
eo_status eoi_run_gemm(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);
eo_status eoi_run_matmul(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);
eo_status eoi_run_pool(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);
eo_status eoi_run_resize(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);
/* The scalar element-wise, broadcasting, reduction and normalization nodes
 * (nodes_math.c). */
eo_status eoi_run_math(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n);

/* Spatial output size of a convolution / pooling window along one axis. */
int64_t eoi_conv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1,
                     int32_t ceil_mode);

/* ---- SIMD kernel table (kern_portable.c, kern_avx2.c, kern_avx512.c) --- */
typedef struct eoi_dwgeom {
    int64_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
} eoi_dwgeom;

typedef struct eoi_kernels {
    const char *name;
    /* x[i] = act(x[i] + bias) */
    void (*act)(float *x, size_t n, float bias, const eoi_act *a);
    /* o[i] = a[i] op b[i] */
    void (*binop)(float *o, const float *a, const float *b, size_t n, int32_t op);
    /* o[i] = a[i] op s (swap: s op a[i]) */
    void (*binop_s)(float *o, const float *a, float s, size_t n, int32_t op, int32_t swap);
    /* one channel of a depthwise convolution, bias and activation fused */
    void (*dwconv)(float *out, const float *in, const float *w, float bias, const eoi_dwgeom *g,
                   const eoi_act *a);
    /* o[i] = max(o[i], a[i]) and o[i] += a[i] (pooling rows) */
    void (*vmax)(float *o, const float *a, size_t n);
    void (*vadd)(float *o, const float *a, size_t n);
    /* o[i] = a[i] + w * (b[i] - a[i]) (linear resize rows) */
    void (*lerp)(float *o, const float *a, const float *b, float w, size_t n);
    /* GEMM micro-kernel (conv.c drives it): c[r * ldc + j] for r < gemm_mr,
     * j < gemm_nr = act(bias[r] + sum_k a[k * EOI_GEMM_MRP + r] * b[k * ldb + j]);
     * with EOI_GEMM_ACC the sum starts from c instead of the bias, and the
     * activation only comes with EOI_GEMM_ACT. */
    void (*gemm)(int64_t kc, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                 const float *bias, int32_t flags, const eoi_act *act);
    int32_t gemm_mr, gemm_nr;
    /* Winograd F(2x2, 3x3) [0] and F(4x4, 3x3) [1] input and output
     * transforms of vl tiles in a row (kern_tmpl.h says how the arguments
     * are laid out) */
    void (*wino_in[2])(float *v, int64_t xs, const float *const *r);
    void (*wino_out[2])(float *const *out, const float *y, int64_t ys, float bias,
                        const eoi_act *act);
    int32_t vl;
    /* o[i] = e^(a[i] - m) (relative error < 2e-7); returns the sum of o */
    float (*vexp)(float *o, const float *a, size_t n, float m);
    /* o[i] = max(a[2i], a[2i + 1]), NaN winning (2 x 2 stride-2 max pooling) */
    void (*pmax2)(float *o, const float *a, size_t n);
    /* o[2i] = a[i], o[2i + 1] = b[i] */
    void (*zip2)(float *o, const float *a, const float *b, size_t n);
} eoi_kernels;

/* Weights are packed in panels of EOI_GEMM_MRP output channels (a multiple
 * of every table's gemm_mr), k-major; gemm_nr is at most EOI_GEMM_NRMAX. */
#define EOI_GEMM_MRP 8
#define EOI_GEMM_NRMAX 64
enum { EOI_GEMM_ACC = 1, EOI_GEMM_ACT = 2 };

extern const eoi_kernels eoi_kernels_portable;
extern const eoi_kernels eoi_kernels_avx2;
extern const eoi_kernels eoi_kernels_avx512;

/* The table in use: the widest the CPU has (src/core/version.c
 * eoi_simd_path, EOPROC_SIMD=portable|avx2 lowers it). */
const eoi_kernels *eoi_kernels_get(void);
/* (Tests force a table with eo_exp_force_kernels, eoproc/experimental.h.) */
const char *eoi_simd_path(void);

/* The BF16 GEMM kernel (kern_bf16.c): the AVX-512 table's gemm contract and
 * tile, weights packed by eoi_bf16_pack_panel; NULL if the CPU lacks
 * AVX512_BF16. */
typedef void (*eoi_gemm_fn)(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
                            int64_t ldc, const float *bias, int32_t flags, const eoi_act *act);
eoi_gemm_fn eoi_bf16_gemm(void);
/* The same kernel for b already in pairs (eoi_bf16_pack_b: kc rows of 48
 * floats, ldb apart, to ceil(kc / 2) rows of 48 pairs; ldb is then 48). */
eoi_gemm_fn eoi_bf16_gemm_packed(void);
void eoi_bf16_pack_b(float *dst, const float *b, int64_t ldb, int64_t kc);
/* One packed panel (kdim k-major rows of EOI_GEMM_MRP floats), in place, to
 * bfloat16 pairs (kern_bf16.c says the layout). */
void eoi_bf16_pack_panel(float *a, int64_t kdim);
/* The BF16 kernel on AMX tiles (kern_bf16.c): the packed kernel's contract
 * with weights packed by eoi_amx_pack_panel (kc a multiple of 32 except in
 * the last block of a panel); NULL if the CPU or the OS does not offer
 * AMX-BF16. */
eoi_gemm_fn eoi_amx_gemm_packed(void);
void eoi_amx_pack_panel(float *a, int64_t kdim);
/* conv nodes' bf16: which kernel their packed weights are for (AMXD: the
 * direct convolution below) */
enum { EOI_BF16_DOT = 1, EOI_BF16_AMX = 2, EOI_BF16_AMXD = 3 };
/* A stride-1, one-group convolution on AMX tiles (kern_bf16.c says how):
 * the input's padded rows as [cp / 2][wp] pairs of channels, zero-padded,
 * the input at the left pad's offset; w: eoi_amx_pack_conv's tiles; bias: mp
 * floats; out: [m][oh][ow]. cp and mp are c and m rounded up to 32, wp >= ow
 * rounded up to 32 + (kw - 1) dw; hp = oh + (kh - 1) dh. */
typedef struct eoi_amx_conv {
    const uint16_t *w;
    const float *bias;
    float *out;
    int64_t m, oh, ow, cp, hp, wp, kh, kw, dh, dw;
    const eoi_act *act;
} eoi_amx_conv;
/* Output row oy, channels [32 ob2, 32 ob2 + 32) (only those < m written),
 * from the padded input rows oy + ky dh at rows[ky]. */
void eoi_amx_conv_row(const eoi_amx_conv *p, const uint32_t *const *rows, int64_t oy, int64_t ob2);
void eoi_bf16_pair_rows(uint32_t *dst, const float *r0, const float *r1, int64_t n);
/* w[o so + c sc + t] (o < m, c, t < kk) to tiles [mp / 16][kk][cp / 32][16][32]
 * bfloat16, zeros beyond. */
void eoi_amx_pack_conv(uint16_t *dst, const float *w, int64_t m, int64_t c, int64_t kk, int64_t so,
                       int64_t sc);

/* fn(n, in, out, lo, hi) over [0, total) in pieces of EOI_SPAN elements on
 * the context's threads (one when there are few or the context has one). */
#define EOI_SPAN 65536
typedef void (*eoi_span_fn)(const eoi_node *n, const void *in, void *out, int64_t lo, int64_t hi);
eo_status eoi_over_spans(eo_ctx *ctx, const eoi_exec *ex, eoi_span_fn fn, const eoi_node *n,
                         const void *in, void *out, int64_t total);

/* Scalar activation: the tails of the vector kinds (kern_tmpl.h has_vact). */
static inline float eoi_act1(float v, const eoi_act *a) {
    switch (a->kind) {
    case EOI_ACT_RELU: /* NaN stays NaN */
        return v < 0.0f ? 0.0f : v;
    case EOI_ACT_LEAKY:
        return v >= 0.0f ? v : v * a->a;
    case EOI_ACT_CLIP:
        return v < a->a ? a->a : (v > a->b ? a->b : v);
    case EOI_ACT_HSIGMOID: {
        float t = a->a * v + a->b;
        return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    }
    case EOI_ACT_HSWISH: {
        float t = v / 6.0f + 0.5f;
        return v * (t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t));
    }
    case EOI_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-v));
    default:
        return v;
    }
}

/* ---- model internals for sliding-window segmentation (model.c) -------- */
const eoi_graph *eoi_model_graph(const eo_model *m);
/* The model's file name (no folder) for messages, or "the model". */
const char *eoi_model_name(const eo_model *m);
/* The model input as the ONNX file declares it (dims -1: dynamic). */
const eoi_vinfo *eoi_model_declared_input(const eo_model *m);
/* eo_model_load with an input shape (NULL: the file's, completed by its
 * card); failures name the file. */
eo_status eoi_model_load_path(eo_ctx *ctx, eo_model **out, const char *path, const int64_t *dims,
                              int32_t ndim, int32_t precision);
/* Load precision (eo_model_opts_set_precision); 0: unset (FP32). */
enum { EOI_PREC_FP32 = 1, EOI_PREC_BF16 = 2 };
/* The same model planned for another input shape. It borrows parent's
 * parsed ONNX: free it (eo_model_free) before parent. */
eo_status eoi_model_replan(eo_ctx *ctx, eo_model **out, const eo_model *parent, const int64_t *dims,
                           int32_t ndim);

/* ---- the model card (card.c) ------------------------------------------ */
#define EOI_CARD_MAX_BANDS 64
#define EOI_CARD_MAX_CLASSES 255
/* The card's bands, tile and batch against the model's declared input
 * (N x C x H x W; dims -1 are dynamic): model.Invalid naming the field. */
eo_status eoi_card_check_input(eo_ctx *ctx, const eo_model_card *c, const eoi_vinfo *decl);
/* The card's classes and activation against the output channels. */
eo_status eoi_card_check_output(eo_ctx *ctx, const eo_model_card *c, int64_t channels);
/* MODEL.onnx -> MODEL.onnx.json */
eo_status eoi_card_sidecar_path(eo_ctx *ctx, char *buf, size_t cap, const char *model_path);
/* The card of a model: its sidecar (model_path may be NULL) if there is
 * one, else the embedded JSON (may be NULL); *out NULL when neither. */
eo_status eoi_card_find(eo_ctx *ctx, eo_model_card **out, const char *model_path,
                        const char *embedded);
/* Parameters the user left out, taken from the card of the model at
 * model_path (card_defaults.c) (none: params unchanged): bands, scale, mean, std, tile,
 * overlap, threshold, activation and, with postprocess, classes, min_area,
 * simplify, fill_holes, max_pixel_size and the regularize block. A key present in params is the
 * user's and stays. A card that contradicts the model is model.Invalid. */
eo_status eoi_card_defaults(eo_ctx *ctx, json_object *params, const char *model_path,
                            bool postprocess);
/* The declared image input of a parsed model (not an initializer), or NULL. */
const eoi_vinfo *eoi_onnx_image_input(const eoi_onnx *m);

#endif /* INFER_INT_H */
