/* expr.c - the band-math language: a tokenizer and a recursive-descent
 * parser that emits postfix code for a small stack machine, and the
 * evaluator that runs that code chunk by chunk over float32 buffers.
 *
 * Grammar (lowest precedence first):
 *   or    := and (("||" | "or") and)*
 *   and   := not (("&&" | "and") not)*
 *   not   := ("!" | "not") not | cmp
 *   cmp   := add (("<" | "<=" | ">" | ">=" | "==" | "!=") add)*
 *   add   := mul (("+" | "-") mul)*
 *   mul   := unary (("*" | "/") unary)*
 *   unary := ("-" | "+") unary | pow
 *   pow   := primary (("^" | "**") unary)?           (right-associative)
 *   primary := number | name | func "(" args ")" | "(" or ")"
 * Functions: where(c, a, b), min(a, b, ...), max(a, b, ...), abs, sqrt,
 * log, exp, clamp(x, lo, hi). Names: b1, b2, ... (1-based band numbers),
 * band symbols and long names, anything else is a named constant.
 *
 * Every operation propagates NaN, the internal nodata: comparisons and
 * logic included, and a division by zero, the root or logarithm of a
 * negative number give NaN. The final store turns NaN and inf into the
 * output nodata value. Each operation is a plain loop over restrict
 * buffers that the compiler vectorizes. The catalog's list
 * (eo_indices_list) parses each index's formula here too. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-math-errno", "no-trapping-math")
#endif

#include "analytics_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cpl_conv.h>

#define MAX_TEXT 65536
#define MAX_NEST 200

/* ---- parser ------------------------------------------------------------ */

typedef struct parser {
    eo_ctx *ctx;
    const char *text;
    size_t pos;
    int nest;
    eo_status st;
    eo_expr *e;
    int32_t cap_code, cap_inputs, cap_consts;
    int32_t sp;
    int32_t *cpos; /* 1-based position of each named constant's first use */
} parser;

static eo_status perr(parser *p, size_t at, const char *what) {
    if (p->st == EO_OK) {
        const char *t = p->text;
        size_t n = strlen(t);
        p->st = eoi_fail(p->ctx, EO_E_EXPR_SYNTAX, "expression: %s at position %zu: '%.*s'%s", what,
                         at + 1, n > 120 ? 120 : (int)n, t, n > 120 ? "..." : "");
    }
    return p->st;
}

static void skip_ws(parser *p) {
    while (isspace((unsigned char)p->text[p->pos]))
        p->pos++;
}

static bool grow(parser *p, void **v, int32_t *cap, int32_t need, size_t esize) {
    if (need <= *cap)
        return true;
    int32_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *nv = eoi_realloc(p->ctx, *v, (size_t)nc * esize);
    if (!nv) {
        p->st = EO_E_NOMEM;
        return false;
    }
    *v = nv;
    *cap = nc;
    return true;
}

/* Emit one instruction; delta is its effect on the stack depth. */
static eo_status emit(parser *p, int32_t op, int32_t arg, int32_t delta) {
    eo_expr *e = p->e;
    if (!grow(p, (void **)&e->code, &p->cap_code, e->ncode + 1, sizeof *e->code))
        return p->st;
    e->code[e->ncode++] = (eoi_insn){op, arg};
    p->sp += delta;
    if (p->sp > e->depth)
        e->depth = p->sp;
    return EO_OK;
}

static eo_status emit_input(parser *p, int32_t sym, int32_t band) {
    eo_expr *e = p->e;
    int32_t k = 0;
    for (; k < e->ninputs; k++)
        if (e->inputs[k].sym == sym && (sym >= 0 || e->inputs[k].band == band))
            break;
    if (k == e->ninputs) {
        if (!grow(p, (void **)&e->inputs, &p->cap_inputs, k + 1, sizeof *e->inputs))
            return p->st;
        e->inputs[e->ninputs++] = (eoi_ref){sym, band};
    }
    return emit(p, EOI_OP_INPUT, k, 1);
}

static eo_status emit_const(parser *p, const char *name, size_t len, double v, size_t at) {
    eo_expr *e = p->e;
    int32_t k = 0;
    for (; k < e->nconsts; k++) {
        if (name && e->cnames[k] && strlen(e->cnames[k]) == len &&
            strncmp(e->cnames[k], name, len) == 0)
            break;
        if (!name && !e->cnames[k] && e->cvalues[k] == v)
            break;
    }
    if (k == e->nconsts) {
        int32_t c1 = p->cap_consts, c2 = p->cap_consts, c3 = p->cap_consts;
        if (!grow(p, (void **)&e->cnames, &c1, k + 1, sizeof *e->cnames) ||
            !grow(p, (void **)&e->cvalues, &c2, k + 1, sizeof *e->cvalues) ||
            !grow(p, (void **)&p->cpos, &c3, k + 1, sizeof *p->cpos))
            return p->st;
        p->cap_consts = c1;
        e->cnames[k] = NULL;
        e->cvalues[k] = v;
        p->cpos[k] = (int32_t)at + 1;
        if (name) {
            char *s = eoi_malloc(p->ctx, len + 1);
            if (!s)
                return p->st = EO_E_NOMEM;
            memcpy(s, name, len);
            s[len] = '\0';
            e->cnames[k] = s;
        }
        e->nconsts++;
    }
    return emit(p, EOI_OP_CONST, k, 1);
}

static eo_status parse_or(parser *p);
static eo_status parse_unary(parser *p);

static bool accept(parser *p, const char *tok) {
    skip_ws(p);
    size_t n = strlen(tok);
    if (strncmp(p->text + p->pos, tok, n) != 0)
        return false;
    /* keywords must not run into a longer name */
    if (isalpha((unsigned char)tok[0]) &&
        (isalnum((unsigned char)p->text[p->pos + n]) || p->text[p->pos + n] == '_'))
        return false;
    p->pos += n;
    return true;
}

static const struct {
    const char *name;
    int32_t op;
    int32_t nargs; /* -1: two or more */
} funcs[] = {
    {"where", EOI_OP_WHERE, 3}, {"clamp", EOI_OP_CLAMP, 3}, {"min", EOI_OP_MIN, -1},
    {"max", EOI_OP_MAX, -1},    {"abs", EOI_OP_ABS, 1},     {"sqrt", EOI_OP_SQRT, 1},
    {"log", EOI_OP_LOG, 1},     {"exp", EOI_OP_EXP, 1},
};

static eo_status parse_call(parser *p, int fi, size_t at) {
    int32_t nargs = 0;
    skip_ws(p);
    if (!accept(p, ")")) {
        for (;;) {
            if (parse_or(p) != EO_OK)
                return p->st;
            nargs++;
            if (funcs[fi].nargs < 0 && nargs >= 2 && emit(p, funcs[fi].op, 0, -1) != EO_OK)
                return p->st;
            if (accept(p, ","))
                continue;
            if (accept(p, ")"))
                break;
            return perr(p, p->pos, "expected ',' or ')'");
        }
    }
    char msg[96];
    if (funcs[fi].nargs < 0 && nargs < 2) {
        snprintf(msg, sizeof msg, "%s() takes two or more arguments, got %d", funcs[fi].name,
                 (int)nargs);
        return perr(p, at, msg);
    }
    if (funcs[fi].nargs >= 0 && nargs != funcs[fi].nargs) {
        snprintf(msg, sizeof msg, "%s() takes %d argument%s, got %d", funcs[fi].name,
                 (int)funcs[fi].nargs, funcs[fi].nargs == 1 ? "" : "s", (int)nargs);
        return perr(p, at, msg);
    }
    if (funcs[fi].nargs > 0)
        return emit(p, funcs[fi].op, 0, 1 - funcs[fi].nargs);
    return EO_OK;
}

static eo_status parse_name(parser *p) {
    const char *t = p->text;
    size_t at = p->pos, n = 0;
    while (isalnum((unsigned char)t[at + n]) || t[at + n] == '_')
        n++;
    p->pos += n;
    skip_ws(p);
    if (t[p->pos] == '(') {
        for (int i = 0; i < (int)(sizeof funcs / sizeof funcs[0]); i++)
            if (strlen(funcs[i].name) == n && strncmp(funcs[i].name, t + at, n) == 0) {
                p->pos++;
                return parse_call(p, i, at);
            }
        return perr(p, at, "unknown function");
    }
    /* b<N>: a band by number */
    if (n >= 2 && (t[at] == 'b') && isdigit((unsigned char)t[at + 1])) {
        long band = 0;
        size_t i = 1;
        for (; i < n && isdigit((unsigned char)t[at + i]) && band < 1000000; i++)
            band = band * 10 + (t[at + i] - '0');
        if (i == n) {
            if (band < 1 || band > 65535)
                return perr(p, at, "band numbers start at 1");
            return emit_input(p, -1, (int32_t)band);
        }
    }
    int sym = eoi_band_sym_find(t + at, n);
    if (sym >= 0)
        return emit_input(p, sym, 0);
    return emit_const(p, t + at, n, 0, at);
}

static eo_status parse_number(parser *p) {
    const char *t = p->text;
    size_t at = p->pos, n = 0;
    while (isdigit((unsigned char)t[at + n]))
        n++;
    if (t[at + n] == '.') {
        n++;
        while (isdigit((unsigned char)t[at + n]))
            n++;
    }
    if (n == 1 && t[at] == '.')
        return perr(p, at, "expected a number");
    if (t[at + n] == 'e' || t[at + n] == 'E') {
        size_t m = n + 1;
        if (t[at + m] == '+' || t[at + m] == '-')
            m++;
        if (!isdigit((unsigned char)t[at + m]))
            return perr(p, at + m, "expected the exponent's digits");
        while (isdigit((unsigned char)t[at + m]))
            m++;
        n = m;
    }
    char buf[64];
    if (n >= sizeof buf)
        return perr(p, at, "number too long");
    memcpy(buf, t + at, n);
    buf[n] = '\0';
    double v = CPLStrtod(buf, NULL); /* locale-independent */
    if (!isfinite(v) || fabs(v) > 3.4028234663852886e38)
        return perr(p, at, "number out of float32 range");
    p->pos += n;
    if (isalpha((unsigned char)t[p->pos]) || t[p->pos] == '_')
        return perr(p, p->pos, "unexpected letter after a number");
    return emit_const(p, NULL, 0, v, at);
}

static eo_status parse_primary(parser *p) {
    skip_ws(p);
    char c = p->text[p->pos];
    if (c == '(') {
        size_t at = p->pos++;
        if (parse_or(p) != EO_OK)
            return p->st;
        if (!accept(p, ")")) {
            char msg[80];
            snprintf(msg, sizeof msg, "unclosed '(' (opened at position %zu): expected ')'",
                     at + 1);
            return perr(p, p->pos, msg);
        }
        return EO_OK;
    }
    if (isdigit((unsigned char)c) || c == '.')
        return parse_number(p);
    if (isalpha((unsigned char)c) || c == '_')
        return parse_name(p);
    if (!c)
        return perr(p, p->pos, "unexpected end of the expression");
    return perr(p, p->pos, "unexpected character");
}

static eo_status parse_pow(parser *p) {
    if (parse_primary(p) != EO_OK)
        return p->st;
    if (accept(p, "**") || accept(p, "^")) {
        if (parse_unary(p) != EO_OK)
            return p->st;
        return emit(p, EOI_OP_POW, 0, -1);
    }
    return EO_OK;
}

static eo_status nest_in(parser *p) {
    if (++p->nest > MAX_NEST)
        return perr(p, p->pos, "expression nested too deeply");
    return EO_OK;
}

static eo_status parse_unary(parser *p) {
    if (nest_in(p) != EO_OK)
        return p->st;
    eo_status st;
    if (accept(p, "-")) {
        st = parse_unary(p);
        if (st == EO_OK)
            st = emit(p, EOI_OP_NEG, 0, 0);
    } else if (accept(p, "+")) {
        st = parse_unary(p);
    } else {
        st = parse_pow(p);
    }
    p->nest--;
    return st;
}

static eo_status parse_mul(parser *p) {
    if (parse_unary(p) != EO_OK)
        return p->st;
    for (;;) {
        int32_t op;
        skip_ws(p);
        if (p->text[p->pos] == '*' && p->text[p->pos + 1] != '*')
            op = EOI_OP_MUL;
        else if (p->text[p->pos] == '/')
            op = EOI_OP_DIV;
        else
            return EO_OK;
        p->pos++;
        if (parse_unary(p) != EO_OK || emit(p, op, 0, -1) != EO_OK)
            return p->st;
    }
}

static eo_status parse_add(parser *p) {
    if (parse_mul(p) != EO_OK)
        return p->st;
    for (;;) {
        int32_t op;
        if (accept(p, "+"))
            op = EOI_OP_ADD;
        else if (accept(p, "-"))
            op = EOI_OP_SUB;
        else
            return EO_OK;
        if (parse_mul(p) != EO_OK || emit(p, op, 0, -1) != EO_OK)
            return p->st;
    }
}

static eo_status parse_cmp(parser *p) {
    if (parse_add(p) != EO_OK)
        return p->st;
    for (;;) {
        int32_t op;
        if (accept(p, "<="))
            op = EOI_OP_LE;
        else if (accept(p, ">="))
            op = EOI_OP_GE;
        else if (accept(p, "=="))
            op = EOI_OP_EQ;
        else if (accept(p, "!="))
            op = EOI_OP_NE;
        else if (accept(p, "<"))
            op = EOI_OP_LT;
        else if (accept(p, ">"))
            op = EOI_OP_GT;
        else
            return EO_OK;
        if (parse_add(p) != EO_OK || emit(p, op, 0, -1) != EO_OK)
            return p->st;
    }
}

static eo_status parse_not(parser *p) {
    if (nest_in(p) != EO_OK)
        return p->st;
    eo_status st;
    skip_ws(p);
    if ((p->text[p->pos] == '!' && p->text[p->pos + 1] != '=') || accept(p, "not")) {
        if (p->text[p->pos] == '!')
            p->pos++;
        st = parse_not(p);
        if (st == EO_OK)
            st = emit(p, EOI_OP_NOT, 0, 0);
    } else {
        st = parse_cmp(p);
    }
    p->nest--;
    return st;
}

static eo_status parse_and(parser *p) {
    if (parse_not(p) != EO_OK)
        return p->st;
    while (accept(p, "&&") || accept(p, "and"))
        if (parse_not(p) != EO_OK || emit(p, EOI_OP_AND, 0, -1) != EO_OK)
            return p->st;
    return EO_OK;
}

static eo_status parse_or(parser *p) {
    if (nest_in(p) != EO_OK)
        return p->st;
    if (parse_and(p) == EO_OK)
        while (accept(p, "||") || accept(p, "or"))
            if (parse_and(p) != EO_OK || emit(p, EOI_OP_OR, 0, -1) != EO_OK)
                break;
    p->nest--;
    return p->st;
}

void eo_expr_free(eo_expr *e) {
    if (!e)
        return;
    for (int32_t i = 0; i < e->nconsts; i++)
        eoi_free(e->cnames[i]);
    eoi_free(e->cnames);
    eoi_free(e->cvalues);
    eoi_free(e->inputs);
    eoi_free(e->code);
    eoi_free(e->text);
    eoi_free(e);
}

eo_status eo_expr_parse(eo_ctx *ctx, eo_expr **out, const char *text) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, text);
    size_t n = strlen(text);
    if (n > MAX_TEXT)
        return eoi_fail(ctx, EO_E_EXPR_SYNTAX, "expression: %zu characters, more than %d", n,
                        MAX_TEXT);
    parser p = {.ctx = ctx, .text = text};
    if (!(p.e = eoi_calloc(ctx, 1, sizeof *p.e)))
        return EO_E_NOMEM;
    if (!(p.e->text = eoi_strdup(ctx, text))) {
        eo_expr_free(p.e);
        return EO_E_NOMEM;
    }
    skip_ws(&p);
    if (!text[p.pos])
        perr(&p, p.pos, "the expression is empty");
    else if (parse_or(&p) == EO_OK) {
        skip_ws(&p);
        if (text[p.pos])
            perr(&p, p.pos, "unexpected text after the expression");
    }
    eoi_free(p.cpos);
    if (p.st == EO_OK && p.e->depth > 250)
        p.st = eoi_fail(ctx, EO_E_EXPR_SYNTAX, "expression: nested too deeply (%d levels)",
                        (int)p.e->depth);
    if (p.st == EO_OK && p.e->ninputs == 0)
        p.st = eoi_fail(ctx, EO_E_EXPR_SYNTAX,
                        "expression: '%.120s' uses no band (write b1, b2, ... or a band symbol "
                        "such as R or N)",
                        text);
    if (p.st != EO_OK) {
        eo_expr_free(p.e);
        return p.st;
    }
    *out = p.e;
    return EO_OK;
}

eo_status eo_expr_from_index(eo_ctx *ctx, eo_expr **out, const char *name) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, name);
    const eoi_index_def *d = eoi_index_find(name);
    if (!d)
        return eoi_fail(ctx, EO_E_INDEX,
                        "unknown index '%.100s' (eoproc indices lists the %zu known ones)", name,
                        eoi_index_count());
    eo_status st = eo_expr_parse(ctx, out, d->formula);
    if (st == EO_OK)
        (*out)->index = d;
    return st;
}

const char *eo_expr_text(const eo_expr *e) { return e ? e->text : ""; }

const char *eo_expr_index_name(const eo_expr *e) { return e && e->index ? e->index->name : NULL; }

/* ---- the catalog listed: each index's formula parsed for its bands and
 * constants ----------------------------------------------------------- */

static json_object *constants_json(const char *spec) {
    json_object *o = json_object_new_object();
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        json_object_object_add(o, tok, eoi_json_double(strtod(eq + 1, NULL)));
    }
    return o;
}

eo_status eo_indices_list(eo_ctx *ctx, char **out_json) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    json_object *arr = json_object_new_array();
    eo_status st = EO_OK;
    for (size_t i = 0; i < eoi_index_count(); i++) {
        const eoi_index_def *d = eoi_index_at(i);
        eo_expr *e = NULL;
        if ((st = eo_expr_from_index(ctx, &e, d->name)) != EO_OK)
            break;
        json_object *o = json_object_new_object(), *bands = json_object_new_array();
        for (int32_t k = 0; k < e->ninputs; k++)
            if (e->inputs[k].sym >= 0)
                json_object_array_add(bands,
                                      json_object_new_string(eoi_band_syms[e->inputs[k].sym].sym));
        json_object *consts = constants_json(d->constants);
        for (int32_t k = 0; k < e->nconsts; k++)
            if (e->cnames[k] && !json_object_object_get_ex(consts, e->cnames[k], NULL))
                json_object_object_add(consts, e->cnames[k],
                                       eoi_json_double(eoi_constant_default(e->cnames[k])));
        eo_expr_free(e);
        json_object_object_add(o, "name", json_object_new_string(d->name));
        json_object_object_add(o, "long_name", json_object_new_string(d->long_name));
        json_object_object_add(o, "formula", json_object_new_string(d->formula));
        json_object_object_add(o, "bands", bands);
        json_object_object_add(o, "constants", consts);
        json_object_object_add(o, "reference", json_object_new_string(d->reference));
        json_object_array_add(arr, o);
    }
    if (st == EO_OK)
        st = eoi_json_dump(ctx, out_json, arr, false);
    json_object_put(arr);
    return st;
}

/* ---- evaluation -------------------------------------------------------- */

#define VALID(x) ((x) - (x) == 0.0f) /* false for NaN and inf */
#define VALID2(x, y) (VALID(x) & VALID(y))

#define UNARY(fname, body)                                                                         \
    static void fname(float *restrict o, const float *restrict a, size_t n) {                      \
        for (size_t i = 0; i < n; i++) {                                                           \
            float x = a[i];                                                                        \
            o[i] = (body);                                                                         \
        }                                                                                          \
    }
#define BINARY(fname, body)                                                                        \
    static void fname(float *restrict o, const float *restrict a, const float *restrict b,         \
                      size_t n) {                                                                  \
        for (size_t i = 0; i < n; i++) {                                                           \
            float x = a[i], y = b[i];                                                              \
            o[i] = (body);                                                                         \
        }                                                                                          \
    }

UNARY(op_neg, -x)
UNARY(op_not, VALID(x) ? (x == 0.0f ? 1.0f : 0.0f) : NAN)
UNARY(op_abs, fabsf(x))
UNARY(op_sqrt, sqrtf(x)) /* NaN below zero */
UNARY(op_log, x > 0.0f ? logf(x) : NAN)
UNARY(op_exp, expf(x))
BINARY(op_add, x + y)
BINARY(op_sub, x - y)
BINARY(op_mul, x *y)
BINARY(op_div, y == 0.0f ? NAN : x / y)
BINARY(op_pow, y == 2.0f ? x * x : powf(x, y))
BINARY(op_lt, VALID2(x, y) ? (x < y ? 1.0f : 0.0f) : NAN)
BINARY(op_le, VALID2(x, y) ? (x <= y ? 1.0f : 0.0f) : NAN)
BINARY(op_gt, VALID2(x, y) ? (x > y ? 1.0f : 0.0f) : NAN)
BINARY(op_ge, VALID2(x, y) ? (x >= y ? 1.0f : 0.0f) : NAN)
BINARY(op_eq, VALID2(x, y) ? (x == y ? 1.0f : 0.0f) : NAN)
BINARY(op_ne, VALID2(x, y) ? (x != y ? 1.0f : 0.0f) : NAN)
BINARY(op_and, VALID2(x, y) ? (x != 0.0f && y != 0.0f ? 1.0f : 0.0f) : NAN)
BINARY(op_or, VALID2(x, y) ? (x != 0.0f || y != 0.0f ? 1.0f : 0.0f) : NAN)
BINARY(op_min, VALID2(x, y) ? (y < x ? y : x) : NAN)
BINARY(op_max, VALID2(x, y) ? (y > x ? y : x) : NAN)

static void op_where(float *restrict o, const float *restrict c, const float *restrict a,
                     const float *restrict b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float cv = c[i], av = a[i], bv = b[i]; /* unconditional loads: if-convertible */
        float s = cv != 0.0f ? av : bv;
        o[i] = VALID(cv) ? s : NAN;
    }
}

static void op_clamp(float *restrict o, const float *restrict x, const float *restrict lo,
                     const float *restrict hi, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i] < lo[i] ? lo[i] : x[i];
        v = v > hi[i] ? hi[i] : v;
        o[i] = VALID2(x[i], lo[i]) & VALID(hi[i]) ? v : NAN;
    }
}

static void store_out(float *restrict o, const float *restrict v, size_t n, float nodata) {
    for (size_t i = 0; i < n; i++)
        o[i] = VALID(v[i]) ? v[i] : nodata;
}

size_t eoi_prog_scratch_floats(const eoi_prog *p) {
    return ((size_t)p->nconsts + 2 * (size_t)p->depth) * EOI_CHUNK;
}

void eoi_prog_scratch_init(const eoi_prog *p, float *scratch) {
    for (int32_t k = 0; k < p->nconsts; k++)
        for (size_t i = 0; i < EOI_CHUNK; i++)
            scratch[(size_t)k * EOI_CHUNK + i] = p->consts[k];
}

void eoi_prog_eval(const eoi_prog *p, const float *const *inputs, size_t n, float *out,
                   float *scratch) {
    const float *stk[256];
    int cur[256];
    float *temps = scratch + (size_t)p->nconsts * EOI_CHUNK;
    for (size_t off = 0; off < n; off += EOI_CHUNK) {
        size_t m = n - off < EOI_CHUNK ? n - off : EOI_CHUNK;
        int sp = 0;
        for (int32_t ip = 0; ip < p->ncode; ip++) {
            const eoi_insn *in = &p->code[ip];
            int32_t op = in->op;
            if (op == EOI_OP_INPUT) {
                cur[sp] = -1;
                stk[sp++] = inputs[in->arg] + off;
                continue;
            }
            if (op == EOI_OP_CONST) {
                cur[sp] = -1;
                stk[sp++] = scratch + (size_t)in->arg * EOI_CHUNK;
                continue;
            }
            int nargs = op <= EOI_OP_EXP ? 1 : op >= EOI_OP_WHERE ? 3 : 2;
            int d = sp - nargs;
            int which = cur[d] == 0 ? 1 : 0;
            float *o = temps + ((size_t)d * 2 + (size_t)which) * EOI_CHUNK;
            const float *a = stk[d], *b = nargs > 1 ? stk[d + 1] : NULL;
            const float *c = nargs > 2 ? stk[d + 2] : NULL;
            switch (op) {
            case EOI_OP_NEG:
                op_neg(o, a, m);
                break;
            case EOI_OP_NOT:
                op_not(o, a, m);
                break;
            case EOI_OP_ABS:
                op_abs(o, a, m);
                break;
            case EOI_OP_SQRT:
                op_sqrt(o, a, m);
                break;
            case EOI_OP_LOG:
                op_log(o, a, m);
                break;
            case EOI_OP_EXP:
                op_exp(o, a, m);
                break;
            case EOI_OP_ADD:
                op_add(o, a, b, m);
                break;
            case EOI_OP_SUB:
                op_sub(o, a, b, m);
                break;
            case EOI_OP_MUL:
                op_mul(o, a, b, m);
                break;
            case EOI_OP_DIV:
                op_div(o, a, b, m);
                break;
            case EOI_OP_POW:
                op_pow(o, a, b, m);
                break;
            case EOI_OP_LT:
                op_lt(o, a, b, m);
                break;
            case EOI_OP_LE:
                op_le(o, a, b, m);
                break;
            case EOI_OP_GT:
                op_gt(o, a, b, m);
                break;
            case EOI_OP_GE:
                op_ge(o, a, b, m);
                break;
            case EOI_OP_EQ:
                op_eq(o, a, b, m);
                break;
            case EOI_OP_NE:
                op_ne(o, a, b, m);
                break;
            case EOI_OP_AND:
                op_and(o, a, b, m);
                break;
            case EOI_OP_OR:
                op_or(o, a, b, m);
                break;
            case EOI_OP_MIN:
                op_min(o, a, b, m);
                break;
            case EOI_OP_MAX:
                op_max(o, a, b, m);
                break;
            case EOI_OP_WHERE:
                op_where(o, a, b, c, m);
                break;
            default:
                op_clamp(o, a, b, c, m);
                break;
            }
            stk[d] = o;
            cur[d] = which;
            sp = d + 1;
        }
        store_out(out + off, stk[0], m, p->nodata);
    }
}

void eoi_prog_clear(eoi_prog *p) {
    eoi_free(p->bands);
    eoi_free(p->consts);
    memset(p, 0, sizeof *p);
}
