/* onnx.c - a protobuf wire-format reader for the subset of the ONNX schema
 * eoproc runs (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto / TypeProto shapes, opset_import).
 *
 * Every read is bounds-checked against the end of the enclosing message;
 * anything truncated, overlong or inconsistent fails with EO_E_MODEL and
 * says what and at which byte offset. Unknown fields are skipped, as
 * protobuf requires. Tensor data is converted once to float32 (float
 * types) or int64 (integer and bool types). */
#include "infer_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------- */
struct eoi_arena_blk {
    eoi_arena_blk *next;
    max_align_t align[];
};

void *eoi_arena_alloc(eo_ctx *ctx, eoi_arena *a, size_t n) {
    size_t total;
    if (eoi_add_size(&total, n, sizeof(eoi_arena_blk))) {
        eoi_fail(ctx, EO_E_LIMIT, "allocation of %zu bytes overflows", n);
        return NULL;
    }
    eoi_arena_blk *b = eoi_malloc(ctx, total);
    if (!b)
        return NULL;
    b->next = a->head;
    a->head = b;
    memset(b->align, 0, n);
    return b->align;
}

void eoi_arena_free(eoi_arena *a) {
    eoi_arena_blk *b = a->head;
    while (b) {
        eoi_arena_blk *next = b->next;
        eoi_free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---- wire format ------------------------------------------------------- */
typedef struct pb {
    const uint8_t *p, *end;
} pb;

typedef struct parser {
    eo_ctx *ctx;
    eoi_arena *arena;
    const uint8_t *base;
    eo_status st;
} parser;

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static eo_status bad(parser *ps, const uint8_t *at, const char *what) {
    if (ps->st == EO_OK)
        ps->st = eoi_fail(ps->ctx, EO_E_MODEL, "ONNX file is corrupt or truncated: %s at byte %td",
                          what, at - ps->base);
    return ps->st;
}

static int rd_varint(pb *r, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int rd_tag(pb *r, uint32_t *field, uint32_t *wire) {
    uint64_t t;
    if (rd_varint(r, &t) || (t >> 3) == 0 || (t >> 3) > 0x1fffffff)
        return -1;
    *field = (uint32_t)(t >> 3);
    *wire = (uint32_t)(t & 7);
    return 0;
}

static int rd_len(pb *r, pb *sub) {
    uint64_t n;
    if (rd_varint(r, &n) || n > (uint64_t)(r->end - r->p))
        return -1;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

static int rd_fixed(pb *r, void *out, size_t n) {
    if ((size_t)(r->end - r->p) < n)
        return -1;
    memcpy(out, r->p, n);
    r->p += n;
    return 0;
}

static int skip(pb *r, uint32_t wire) {
    uint64_t v;
    pb sub;
    switch (wire) {
    case WT_VARINT:
        return rd_varint(r, &v);
    case WT_I64:
        return rd_fixed(r, &v, 8);
    case WT_I32:
        return rd_fixed(r, &v, 4);
    case WT_LEN:
        return rd_len(r, &sub);
    default: /* groups (3, 4) are not used by ONNX */
        return -1;
    }
}

static char *dup_str(parser *ps, const pb *s) {
    size_t n = (size_t)(s->end - s->p);
    char *c = eoi_arena_alloc(ps->ctx, ps->arena, n + 1);
    if (!c) {
        ps->st = EO_E_NOMEM;
        return NULL;
    }
    memcpy(c, s->p, n);
    c[n] = '\0';
    if (memchr(c, '\0', n)) {
        bad(ps, s->p, "string with a NUL byte");
        return NULL;
    }
    return c;
}

/* Growable arrays in the arena (old storage stays until the arena dies). */
typedef struct vec {
    void *data;
    int32_t n, cap;
} vec;

static void *vec_push(parser *ps, vec *v, size_t esize) {
    if (v->n == v->cap) {
        if (v->cap >= (1 << 28)) {
            ps->st = eoi_fail(ps->ctx, EO_E_LIMIT, "ONNX file: too many repeated elements");
            return NULL;
        }
        int32_t cap = v->cap ? v->cap * 2 : 8;
        void *d = eoi_arena_alloc(ps->ctx, ps->arena, (size_t)cap * esize);
        if (!d) {
            ps->st = EO_E_NOMEM;
            return NULL;
        }
        if (v->n)
            memcpy(d, v->data, (size_t)v->n * esize);
        v->data = d;
        v->cap = cap;
    }
    return (char *)v->data + (size_t)v->n++ * esize;
}

/* A repeated scalar field, packed (WT_LEN) or not. kind: 'v' varint into
 * int64, 'f' fixed32 float, 'd' fixed64 double (stored as double). */
static int rd_repeated(parser *ps, pb *r, uint32_t wire, vec *v, char kind) {
    size_t es = kind == 'f' ? sizeof(float) : kind == 'd' ? sizeof(double) : sizeof(int64_t);
    pb one = *r, sub;
    pb *src = &one;
    int packed = wire == WT_LEN;
    if (packed) {
        if (rd_len(r, &sub))
            return -1;
        src = &sub;
    } else if ((kind == 'v' && wire != WT_VARINT) || (kind == 'f' && wire != WT_I32) ||
               (kind == 'd' && wire != WT_I64)) {
        return -1;
    }
    do {
        void *slot = vec_push(ps, v, es);
        if (!slot)
            return -2;
        if (kind == 'v') {
            uint64_t x;
            if (rd_varint(src, &x))
                return -1;
            int64_t sx = (int64_t)x;
            memcpy(slot, &sx, sizeof sx);
        } else if (rd_fixed(src, slot, es)) {
            return -1;
        }
    } while (packed && src->p < src->end);
    if (!packed)
        *r = one;
    return 0;
}

#define TRY_PB(expr, at, what)                                                                     \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ == -2)                                                                             \
            return ps->st;                                                                         \
        if (rc_)                                                                                   \
            return bad(ps, (at), (what));                                                          \
    } while (0)

/* ---- TensorProto ------------------------------------------------------- */

const char *eoi_elem_name(int32_t e, char *buf, size_t cap) {
    static const char *const names[] = {"undefined",  "float32", "uint8",  "int8",   "uint16",
                                        "int16",      "int32",   "int64",  "string", "bool",
                                        "float16",    "float64", "uint32", "uint64", "complex64",
                                        "complex128", "bfloat16"};
    if (e >= 0 && e < (int32_t)(sizeof names / sizeof names[0]))
        return names[e];
    snprintf(buf, cap, "type %d", (int)e);
    return buf;
}

static float half_to_float(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}

static int onnx_is_float(int32_t t) { return t == 1 || t == 10 || t == 11 || t == 16; }
static int onnx_is_int(int32_t t) { return (t >= 2 && t <= 7) || t == 9 || t == 12 || t == 13; }
static size_t onnx_esize(int32_t t) {
    switch (t) {
    case 2:
    case 3:
    case 9:
        return 1; /* uint8 int8 bool */
    case 4:
    case 5:
    case 10:
    case 16:
        return 2;
    case 1:
    case 6:
    case 12:
        return 4;
    default:
        return 8; /* int64 double uint64 */
    }
}

static eo_status parse_tensor(parser *ps, pb r, eoi_tensor *t) {
    const uint8_t *start = r.p;
    vec dims = {0}, fdata = {0}, idata = {0}, ddata = {0};
    pb raw = {0};
    int has_raw = 0, external = 0;
    int32_t dtype = 0;
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        pb s;
        uint64_t v;
        TRY_PB(rd_tag(&r, &f, &w), at, "bad field tag in a tensor");
        if (f == 1) {
            TRY_PB(rd_repeated(ps, &r, w, &dims, 'v'), at, "bad tensor dims");
        } else if (f == 2 && w == WT_VARINT) {
            TRY_PB(rd_varint(&r, &v), at, "bad tensor data_type");
            dtype = (int32_t)v;
        } else if (f == 4) {
            TRY_PB(rd_repeated(ps, &r, w, &fdata, 'f'), at, "bad tensor float_data");
        } else if (f == 5 || f == 7 || f == 11) {
            TRY_PB(rd_repeated(ps, &r, w, &idata, 'v'), at, "bad tensor integer data");
        } else if (f == 10) {
            TRY_PB(rd_repeated(ps, &r, w, &ddata, 'd'), at, "bad tensor double_data");
        } else if (f == 8 && w == WT_LEN) {
            TRY_PB(rd_len(&r, &s), at, "bad tensor name");
            if (!(t->name = dup_str(ps, &s)))
                return ps->st;
        } else if (f == 9 && w == WT_LEN) {
            TRY_PB(rd_len(&r, &raw), at, "bad tensor raw_data");
            has_raw = 1;
        } else if (f == 14 && w == WT_VARINT) {
            TRY_PB(rd_varint(&r, &v), at, "bad tensor data_location");
            external |= v == 1;
        } else if (f == 13) {
            external = 1;
            TRY_PB(skip(&r, w), at, "bad tensor field");
        } else {
            TRY_PB(skip(&r, w), at, "bad tensor field");
        }
    }
    const char *tn = t->name ? t->name : "(unnamed)";
    if (external)
        return ps->st = eoi_fail(ps->ctx, EO_E_MODEL,
                                 "tensor '%s': external data files are not supported", tn);
    if (!onnx_is_float(dtype) && !onnx_is_int(dtype)) {
        char tb[32];
        return ps->st = eoi_fail(ps->ctx, EO_E_MODEL, "tensor '%s': data type %s is not supported",
                                 tn, eoi_elem_name((int32_t)dtype, tb, sizeof tb));
    }
    if (dims.n > EOI_MAXDIM)
        return ps->st = eoi_fail(ps->ctx, EO_E_MODEL, "tensor '%s': %d dimensions (at most %d)", tn,
                                 (int)dims.n, EOI_MAXDIM);
    int64_t n = 1;
    t->ndim = dims.n;
    for (int32_t i = 0; i < dims.n; i++) {
        int64_t d = ((int64_t *)dims.data)[i];
        if (d < 0 || eoi_mul_i64(&n, n, d) || n > (int64_t)1 << 40)
            return ps->st = eoi_fail(ps->ctx, EO_E_MODEL, "tensor '%s': bad dimensions", tn);
        t->dims[i] = d;
    }
    t->n = n;
    int64_t have;
    if (has_raw) {
        size_t es = onnx_esize(dtype);
        size_t len = (size_t)(raw.end - raw.p);
        if (len % es != 0)
            return bad(ps, start, "raw_data size is not a multiple of the element size");
        have = (int64_t)(len / es);
    } else {
        have = fdata.n ? fdata.n : idata.n ? idata.n : ddata.n;
    }
    if (have != n)
        return ps->st = eoi_fail(ps->ctx, EO_E_MODEL,
                                 "tensor '%s': %lld values for a shape of %lld elements", tn,
                                 (long long)have, (long long)n);
    int isf = onnx_is_float(dtype);
    t->dtype = isf ? EOI_F32 : EOI_I64;
    size_t bytes;
    if (eoi_mul_size(&bytes, (size_t)n, isf ? sizeof(float) : sizeof(int64_t)))
        return ps->st = eoi_fail(ps->ctx, EO_E_LIMIT, "tensor '%s' is too large", tn);
    t->data = eoi_arena_alloc(ps->ctx, ps->arena, bytes);
    if (!t->data)
        return ps->st = EO_E_NOMEM;
    float *fo = t->data;
    int64_t *io = t->data;
    for (int64_t i = 0; i < n; i++) {
        double val = 0;
        int64_t ival = 0;
        if (has_raw) {
            const uint8_t *q = raw.p + (size_t)i * onnx_esize(dtype);
            uint16_t h;
            uint32_t u32;
            switch (dtype) {
            case 1: {
                float x;
                memcpy(&x, q, 4);
                val = x;
                break;
            }
            case 11:
                memcpy(&val, q, 8);
                break;
            case 10:
                memcpy(&h, q, 2);
                val = half_to_float(h);
                break;
            case 16:
                memcpy(&h, q, 2);
                u32 = (uint32_t)h << 16;
                {
                    float x;
                    memcpy(&x, &u32, 4);
                    val = x;
                }
                break;
            case 2:
            case 9:
                ival = q[0];
                break;
            case 3:
                ival = (int8_t)q[0];
                break;
            case 4: {
                uint16_t x;
                memcpy(&x, q, 2);
                ival = x;
                break;
            }
            case 5: {
                int16_t x;
                memcpy(&x, q, 2);
                ival = x;
                break;
            }
            case 6: {
                int32_t x;
                memcpy(&x, q, 4);
                ival = x;
                break;
            }
            case 12:
                memcpy(&u32, q, 4);
                ival = u32;
                break;
            default:
                memcpy(&ival, q, 8);
                break;
            }
        } else if (fdata.n) {
            val = ((float *)fdata.data)[i];
        } else if (ddata.n) {
            val = ((double *)ddata.data)[i];
        } else {
            ival = ((int64_t *)idata.data)[i];
            if (dtype == 10)
                val = half_to_float((uint16_t)ival);
            else if (dtype == 16) {
                uint32_t u32 = (uint32_t)(uint16_t)ival << 16;
                float x;
                memcpy(&x, &u32, 4);
                val = x;
            } else if (dtype == 6 || dtype == 5 || dtype == 3)
                ival = (int32_t)ival;
        }
        if (isf)
            fo[i] = (float)val;
        else
            io[i] = ival;
    }
    return EO_OK;
}

/* ---- AttributeProto ---------------------------------------------------- */
static eo_status parse_attr(parser *ps, pb r, eoi_attr *a) {
    vec floats = {0}, ints = {0};
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        pb s;
        uint64_t v;
        TRY_PB(rd_tag(&r, &f, &w), at, "bad field tag in an attribute");
        if (f == 1 && w == WT_LEN) {
            TRY_PB(rd_len(&r, &s), at, "bad attribute name");
            if (!(a->name = dup_str(ps, &s)))
                return ps->st;
        } else if (f == 20 && w == WT_VARINT) {
            TRY_PB(rd_varint(&r, &v), at, "bad attribute type");
            a->type = (int32_t)v;
        } else if (f == 2 && w == WT_I32) {
            TRY_PB(rd_fixed(&r, &a->f, 4), at, "bad attribute f");
        } else if (f == 3 && w == WT_VARINT) {
            TRY_PB(rd_varint(&r, &v), at, "bad attribute i");
            a->i = (int64_t)v;
        } else if (f == 4 && w == WT_LEN) {
            TRY_PB(rd_len(&r, &s), at, "bad attribute s");
            if (!(a->s = dup_str(ps, &s)))
                return ps->st;
        } else if (f == 5 && w == WT_LEN) {
            TRY_PB(rd_len(&r, &s), at, "bad attribute t");
            if (!(a->t = eoi_arena_alloc(ps->ctx, ps->arena, sizeof *a->t)))
                return ps->st = EO_E_NOMEM;
            if (parse_tensor(ps, s, a->t) != EO_OK)
                return ps->st;
        } else if (f == 7) {
            TRY_PB(rd_repeated(ps, &r, w, &floats, 'f'), at, "bad attribute floats");
        } else if (f == 8) {
            TRY_PB(rd_repeated(ps, &r, w, &ints, 'v'), at, "bad attribute ints");
        } else {
            TRY_PB(skip(&r, w), at, "bad attribute field");
        }
    }
    if (!a->name)
        return bad(ps, r.p, "attribute without a name");
    a->floats = floats.data;
    a->nfloats = floats.n;
    a->ints = ints.data;
    a->nints = ints.n;
    return EO_OK;
}

/* ---- NodeProto --------------------------------------------------------- */
static eo_status parse_node(parser *ps, pb r, eoi_onode *n) {
    vec in = {0}, out = {0}, attr = {0};
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        pb s;
        TRY_PB(rd_tag(&r, &f, &w), at, "bad field tag in a node");
        if (w != WT_LEN || (f != 1 && f != 2 && f != 3 && f != 4 && f != 5 && f != 7)) {
            TRY_PB(skip(&r, w), at, "bad node field");
            continue;
        }
        TRY_PB(rd_len(&r, &s), at, "bad node field");
        if (f == 5) {
            eoi_attr *a = vec_push(ps, &attr, sizeof *a);
            if (!a || parse_attr(ps, s, a) != EO_OK)
                return ps->st;
            continue;
        }
        char *str = dup_str(ps, &s);
        if (!str)
            return ps->st;
        if (f == 1 || f == 2) {
            const char **slot = vec_push(ps, f == 1 ? &in : &out, sizeof *slot);
            if (!slot)
                return ps->st;
            *slot = str;
        } else if (f == 3) {
            n->name = str;
        } else if (f == 4) {
            n->op = str;
        } else {
            n->domain = str;
        }
    }
    if (!n->op)
        return bad(ps, r.p, "node without an op_type");
    if (!n->name)
        n->name = "";
    n->in = in.data;
    n->nin = in.n;
    n->out = out.data;
    n->nout = out.n;
    n->attr = attr.data;
    n->nattr = attr.n;
    return EO_OK;
}

/* ---- ValueInfoProto -> TypeProto.Tensor -> TensorShapeProto ------------- */
static eo_status parse_dim(parser *ps, pb r, int64_t *d) {
    *d = -1;
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        uint64_t v;
        TRY_PB(rd_tag(&r, &f, &w), at, "bad field tag in a dimension");
        if (f == 1 && w == WT_VARINT) {
            TRY_PB(rd_varint(&r, &v), at, "bad dim_value");
            *d = (int64_t)v < 0 ? -1 : (int64_t)v;
        } else {
            TRY_PB(skip(&r, w), at, "bad dimension field");
        }
    }
    return EO_OK;
}

static eo_status parse_vinfo(parser *ps, pb r, eoi_vinfo *vi) {
    vi->ndim = -1;
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        pb s, tt, sh;
        TRY_PB(rd_tag(&r, &f, &w), at, "bad field tag in a value info");
        if (f == 1 && w == WT_LEN) {
            TRY_PB(rd_len(&r, &s), at, "bad value name");
            if (!(vi->name = dup_str(ps, &s)))
                return ps->st;
        } else if (f == 2 && w == WT_LEN) { /* TypeProto */
            TRY_PB(rd_len(&r, &s), at, "bad value type");
            while (s.p < s.end) {
                const uint8_t *at2 = s.p;
                TRY_PB(rd_tag(&s, &f, &w), at2, "bad field tag in a type");
                if (f != 1 || w != WT_LEN) {
                    TRY_PB(skip(&s, w), at2, "bad type field");
                    continue;
                }
                TRY_PB(rd_len(&s, &tt), at2, "bad tensor type");
                while (tt.p < tt.end) { /* TypeProto.Tensor */
                    const uint8_t *at3 = tt.p;
                    uint64_t v;
                    TRY_PB(rd_tag(&tt, &f, &w), at3, "bad field tag in a tensor type");
                    if (f == 1 && w == WT_VARINT) {
                        TRY_PB(rd_varint(&tt, &v), at3, "bad elem_type");
                        vi->elem = (int32_t)v;
                    } else if (f == 2 && w == WT_LEN) {
                        TRY_PB(rd_len(&tt, &sh), at3, "bad shape");
                        vi->ndim = 0;
                        while (sh.p < sh.end) { /* TensorShapeProto */
                            const uint8_t *at4 = sh.p;
                            pb dim;
                            TRY_PB(rd_tag(&sh, &f, &w), at4, "bad field tag in a shape");
                            if (f != 1 || w != WT_LEN) {
                                TRY_PB(skip(&sh, w), at4, "bad shape field");
                                continue;
                            }
                            TRY_PB(rd_len(&sh, &dim), at4, "bad dimension");
                            if (vi->ndim >= EOI_MAXDIM)
                                return bad(ps, at4, "too many dimensions");
                            if (parse_dim(ps, dim, &vi->dims[vi->ndim++]) != EO_OK)
                                return ps->st;
                        }
                    } else {
                        TRY_PB(skip(&tt, w), at3, "bad tensor type field");
                    }
                }
            }
        } else {
            TRY_PB(skip(&r, w), at, "bad value info field");
        }
    }
    if (!vi->name)
        return bad(ps, r.p, "value info without a name");
    return EO_OK;
}

/* ---- StringStringEntryProto (metadata_props) --------------------------- */
static eo_status parse_entry(parser *ps, pb r, const char **key, const char **value) {
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        pb s;
        TRY_PB(rd_tag(&r, &f, &w), at, "bad field tag in a metadata entry");
        if ((f == 1 || f == 2) && w == WT_LEN) {
            TRY_PB(rd_len(&r, &s), at, "bad metadata string");
            const char *str = dup_str(ps, &s);
            if (!str)
                return ps->st;
            *(f == 1 ? key : value) = str;
        } else {
            TRY_PB(skip(&r, w), at, "bad metadata entry field");
        }
    }
    return EO_OK;
}

/* ---- GraphProto and ModelProto ----------------------------------------- */
static eo_status parse_graph(parser *ps, pb r, eoi_onnx *m) {
    vec nodes = {0}, inits = {0}, inputs = {0}, outputs = {0};
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        pb s;
        TRY_PB(rd_tag(&r, &f, &w), at, "bad field tag in the graph");
        if (w != WT_LEN || (f != 1 && f != 5 && f != 11 && f != 12)) {
            TRY_PB(skip(&r, w), at, "bad graph field");
            continue;
        }
        TRY_PB(rd_len(&r, &s), at, "bad graph field");
        if (f == 1) {
            eoi_onode *n = vec_push(ps, &nodes, sizeof *n);
            if (!n || parse_node(ps, s, n) != EO_OK)
                return ps->st;
        } else if (f == 5) {
            eoi_tensor *t = vec_push(ps, &inits, sizeof *t);
            if (!t || parse_tensor(ps, s, t) != EO_OK)
                return ps->st;
            if (!t->name)
                return bad(ps, at, "initializer without a name");
        } else {
            eoi_vinfo *vi = vec_push(ps, f == 11 ? &inputs : &outputs, sizeof *vi);
            if (!vi || parse_vinfo(ps, s, vi) != EO_OK)
                return ps->st;
        }
    }
    m->nodes = nodes.data;
    m->nnodes = nodes.n;
    m->inits = inits.data;
    m->ninit = inits.n;
    m->inputs = inputs.data;
    m->ninputs = inputs.n;
    m->outputs = outputs.data;
    m->noutputs = outputs.n;
    return EO_OK;
}

eo_status eoi_onnx_parse(eo_ctx *ctx, eoi_onnx *m, const uint8_t *data, size_t size) {
    memset(m, 0, sizeof *m);
    m->file_bytes = size;
    parser ctx_ps = {ctx, &m->arena, data, EO_OK};
    parser *ps = &ctx_ps;
    pb r = {data, data + size};
    int have_graph = 0;
    m->opset = -1;
    while (r.p < r.end) {
        uint32_t f, w;
        const uint8_t *at = r.p;
        pb s;
        uint64_t v = 0;
        if (rd_tag(&r, &f, &w) || skip((pb[]){r}, w)) {
            bad(ps, at, "bad field tag in the model");
            goto fail;
        }
        if (f == 1 && w == WT_VARINT) {
            rd_varint(&r, &v);
            m->ir_version = (int64_t)v;
        } else if (f == 7 && w == WT_LEN) {
            rd_len(&r, &s);
            if (parse_graph(ps, s, m) != EO_OK)
                goto fail;
            have_graph = 1;
        } else if (f == 8 && w == WT_LEN) { /* OperatorSetIdProto */
            rd_len(&r, &s);
            const char *domain = "";
            int64_t version = -1;
            while (s.p < s.end) {
                const uint8_t *at2 = s.p;
                pb d;
                if (rd_tag(&s, &f, &w)) {
                    bad(ps, at2, "bad field tag in an opset import");
                    goto fail;
                }
                if (f == 1 && w == WT_LEN) {
                    if (rd_len(&s, &d) || !(domain = dup_str(ps, &d))) {
                        bad(ps, at2, "bad opset domain");
                        goto fail;
                    }
                } else if (f == 2 && w == WT_VARINT) {
                    if (rd_varint(&s, &v)) {
                        bad(ps, at2, "bad opset version");
                        goto fail;
                    }
                    version = (int64_t)v;
                } else if (skip(&s, w)) {
                    bad(ps, at2, "bad opset field");
                    goto fail;
                }
            }
            if (domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0)
                m->opset = version;
        } else if (f == 14 && w == WT_LEN) { /* StringStringEntryProto */
            rd_len(&r, &s);
            const char *key = NULL, *value = NULL;
            if (parse_entry(ps, s, &key, &value) != EO_OK)
                goto fail;
            if (key && value && strcmp(key, EOI_CARD_KEY) == 0)
                m->card = value;
        } else {
            skip(&r, w);
        }
    }
    if (!have_graph || m->nnodes == 0) {
        eoi_fail(ctx, EO_E_MODEL, "not an ONNX model: no graph with nodes (%zu bytes)", size);
        goto fail;
    }
    if (m->opset < 0) { /* fine if every node is of another domain (refused later) */
        for (int32_t i = 0; i < m->nnodes; i++)
            if (!m->nodes[i].domain || !m->nodes[i].domain[0] ||
                strcmp(m->nodes[i].domain, "ai.onnx") == 0) {
                eoi_fail(ctx, EO_E_MODEL, "ONNX model has no opset import for the default domain");
                goto fail;
            }
        m->opset = 0;
    }
    return EO_OK;
fail:
    eoi_onnx_free(m);
    return ctx_ps.st != EO_OK ? ctx_ps.st : eo_ctx_status(ctx);
}

void eoi_onnx_free(eoi_onnx *m) {
    if (m)
        eoi_arena_free(&m->arena);
}

const eoi_attr *eoi_attr_find(const eoi_onode *n, const char *name) {
    for (int32_t i = 0; i < n->nattr; i++)
        if (strcmp(n->attr[i].name, name) == 0)
            return &n->attr[i];
    return NULL;
}

/* ---- rewriting metadata_props ------------------------------------------- */

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (p)
            p[n] = b | (v ? 0x80 : 0);
        n++;
    } while (v);
    return n;
}

/* Is the StringStringEntryProto in e's bytes the one of key? -1: malformed. */
static int entry_has_key(pb e, const char *key) {
    size_t klen = strlen(key);
    int match = 0;
    while (e.p < e.end) {
        uint32_t f, w;
        pb s;
        if (rd_tag(&e, &f, &w))
            return -1;
        if (f == 1 && w == WT_LEN) {
            if (rd_len(&e, &s))
                return -1;
            match = (size_t)(s.end - s.p) == klen && memcmp(s.p, key, klen) == 0;
        } else if (skip(&e, w)) {
            return -1;
        }
    }
    return match;
}

eo_status eoi_onnx_set_metadata(eo_ctx *ctx, uint8_t **out, size_t *out_len, const uint8_t *data,
                                size_t size, const char *key, const char *value) {
    *out = NULL;
    *out_len = 0;
    size_t klen = strlen(key), vlen = value ? strlen(value) : 0;
    /* the new entry: key (field 1) and value (field 2), as field 14 */
    size_t elen =
        1 + put_varint(NULL, klen) + klen + (value ? 1 + put_varint(NULL, vlen) + vlen : 0);
    size_t cap;
    if (eoi_add_size(&cap, size, elen + 32))
        return eoi_fail(ctx, EO_E_LIMIT, "ONNX file of %zu bytes is too large", size);
    uint8_t *buf = eoi_malloc(ctx, cap);
    if (!buf)
        return EO_E_NOMEM;
    size_t n = 0;
    pb r = {data, data + size};
    while (r.p < r.end) {
        const uint8_t *start = r.p;
        uint32_t f, w;
        pb body = r;
        if (rd_tag(&r, &f, &w) || (body = r, skip(&r, w))) {
            eoi_free(buf);
            return eoi_fail(ctx, EO_E_MODEL,
                            "ONNX file is corrupt or truncated: bad field at byte %td",
                            start - data);
        }
        if (f == 14 && w == WT_LEN) {
            pb e;
            rd_len(&body, &e);
            int has = entry_has_key(e, key);
            if (has < 0) {
                eoi_free(buf);
                return eoi_fail(ctx, EO_E_MODEL,
                                "ONNX file is corrupt: bad metadata entry at byte %td",
                                start - data);
            }
            if (has)
                continue; /* replaced below */
        }
        memcpy(buf + n, start, (size_t)(r.p - start));
        n += (size_t)(r.p - start);
    }
    if (value) {
        n += put_varint(buf + n, (14u << 3) | WT_LEN);
        n += put_varint(buf + n, elen);
        buf[n++] = (1u << 3) | WT_LEN;
        n += put_varint(buf + n, klen);
        memcpy(buf + n, key, klen);
        n += klen;
        buf[n++] = (2u << 3) | WT_LEN;
        n += put_varint(buf + n, vlen);
        memcpy(buf + n, value, vlen);
        n += vlen;
    }
    *out = buf;
    *out_len = n;
    return EO_OK;
}

eo_status eoi_onnx_parse_tensor(eo_ctx *ctx, eoi_arena *arena, const uint8_t *data, size_t size,
                                eoi_tensor *t) {
    memset(t, 0, sizeof *t);
    parser p = {ctx, arena, data, EO_OK};
    return parse_tensor(&p, (pb){data, data + size}, t);
}
