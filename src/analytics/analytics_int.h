/*
 * analytics_int.h - internals of spectral indices and analytics: band
 * symbols, the index catalog, compiled expressions, band mapping and the
 * statistics accumulators (the window reader, the strip runner and AOI
 * coverage they use are the raster layer's: raster_int.h). Never installed.
 */
#ifndef EOI_ANALYTICS_INT_H
#define EOI_ANALYTICS_INT_H

#include "../raster/raster_int.h"

/* ---- band symbols (index_catalog.c) ------------------------------------ */
/* Standard band symbols: A (coastal aerosol), B, G, R, RE1, RE2, RE3, N,
 * N2 (narrow NIR), WV (water vapour), S1, S2, T (thermal), T1, T2. */
#define EOI_NSYM 15
typedef struct eoi_band_sym {
    const char *sym;  /* "N" */
    const char *name; /* "nir" */
    const char *desc; /* "near infrared (~0.85 µm)" */
} eoi_band_sym;
extern const eoi_band_sym eoi_band_syms[EOI_NSYM];
/* Index of a symbol or long name (case-sensitive symbol, case-insensitive
 * long name), or -1. */
int eoi_band_sym_find(const char *ident, size_t len);

/* ---- the catalog (index_catalog.c) -------------------------------------- */
typedef struct eoi_index_def {
    const char *name;      /* "NDVI" */
    const char *long_name; /* "Normalized Difference Vegetation Index" */
    const char *formula;   /* band math over symbols and constants */
    const char *constants; /* "L=0.5,g=2.5" defaults for this index, or "" */
    const char *reference;
} eoi_index_def;
const eoi_index_def *eoi_index_find(const char *name);
size_t eoi_index_count(void);
const eoi_index_def *eoi_index_at(size_t i);
/* Default of a named constant used outside any index, or NAN if unknown. */
double eoi_constant_default(const char *name);

/* ---- expressions (expr.c) ------------------------------------------------ */
enum eoi_opcode {
    EOI_OP_INPUT, /* push input arg */
    EOI_OP_CONST, /* push constant slot arg */
    EOI_OP_NEG,
    EOI_OP_NOT,
    EOI_OP_ABS,
    EOI_OP_SQRT,
    EOI_OP_LOG,
    EOI_OP_EXP,
    EOI_OP_ADD,
    EOI_OP_SUB,
    EOI_OP_MUL,
    EOI_OP_DIV,
    EOI_OP_POW,
    EOI_OP_LT,
    EOI_OP_LE,
    EOI_OP_GT,
    EOI_OP_GE,
    EOI_OP_EQ,
    EOI_OP_NE,
    EOI_OP_AND,
    EOI_OP_OR,
    EOI_OP_MIN,
    EOI_OP_MAX,
    EOI_OP_WHERE, /* cond, a, b */
    EOI_OP_CLAMP, /* x, lo, hi */
};

typedef struct eoi_insn {
    int32_t op;
    int32_t arg;
} eoi_insn;

/* A reference from an expression to a band or a named constant. */
typedef struct eoi_ref {
    int32_t sym;  /* band symbol index, or -1 */
    int32_t band; /* 1-based band number when sym < 0 (bN) */
} eoi_ref;

struct eo_expr {
    char *text;
    const eoi_index_def *index; /* NULL for user text */
    eoi_insn *code;
    int32_t ncode;
    int32_t depth;   /* stack depth needed */
    eoi_ref *inputs; /* distinct band references */
    int32_t ninputs;
    char **cnames;   /* named constants used (NULL entry: a literal) */
    double *cvalues; /* literal values */
    int32_t nconsts;
};

/* A program bound to a dataset: inputs are 1-based band numbers of the
 * source, constants have values. */
typedef struct eoi_prog {
    const eoi_insn *code;
    int32_t ncode;
    int32_t depth;
    int32_t ninputs;
    int32_t *bands; /* ninputs entries */
    int32_t nconsts;
    float *consts; /* nconsts entries */
    float nodata;  /* output nodata */
    float scale, offset;
} eoi_prog;

/* Elements per evaluation chunk (the scratch of a worker holds
 * eoi_prog_scratch_floats() floats). */
#define EOI_CHUNK 1024
size_t eoi_prog_scratch_floats(const eoi_prog *p);
/* Fill the constant part of a worker's scratch once. */
void eoi_prog_scratch_init(const eoi_prog *p, float *scratch);
/* out[i] = program over inputs[k][i], i < n; inputs hold NaN for nodata. */
void eoi_prog_eval(const eoi_prog *p, const float *const *inputs, size_t n, float *out,
                   float *scratch);
void eoi_prog_clear(eoi_prog *p);

/* ---- band mapping (bandmap.c) -------------------------------------------- */
struct eo_analytics_opts {
    char *bands;  /* "R=3,N=4" or NULL */
    char *sensor; /* NULL */
    char **cnames;
    double *cvalues;
    int32_t nconsts;
    double scale, offset;
    double nodata;
    int32_t band;
    int32_t coverage;
    double *percentiles;
    int32_t npercentiles;
    int32_t hist_bins;
    double hist_lo, hist_hi;
    double threshold;
    const eo_geom *aoi;
    bool has_point;
    double lon, lat;
    eo_cog_opts *cog; /* options of the COGs written, or NULL: defaults */
};
/* The COG options of an analysis output in buf (the caller's without a
 * nodata of their own: the output's is the analysis's), or NULL. */
const eo_cog_opts *eoi_analytics_cog_opts(const eo_analytics_opts *opts, eo_cog_opts *buf);
/* Bind e to ds: every band reference to a band of ds (index.BandMissing
 * naming a symbol no rule finds), every constant to a value. */
eo_status eoi_prog_bind(eo_ctx *ctx, eoi_prog *out, const eo_expr *e, eo_dataset *ds,
                        const eo_analytics_opts *opts);
/* A single-input identity program reading band (for zonal stats of a band). */
eo_status eoi_prog_band(eo_ctx *ctx, eoi_prog *out, eo_dataset *ds, int32_t band,
                        const eo_analytics_opts *opts);

/* ---- statistics (zonal.c) ------------------------------------------------- */
/* Weighted statistics of values under coverage weights; merged across
 * workers. */
typedef struct eoi_vw {
    float v, w;
} eoi_vw;
typedef struct eoi_stats {
    double wsum;       /* sum of weights of valid pixels (= count with 0/1 weights) */
    double wnodata;    /* sum of weights of nodata pixels */
    int64_t pixels;    /* pixels with weight > 0 */
    double sum;        /* sum of w * v */
    double min, max;   /* over valid pixels with weight > 0 */
    double mean, m2;   /* running weighted mean and sum of w * (v - mean)^2 */
    bool keep;         /* keep values for median / percentiles / histogram */
    struct eoi_vw *vw; /* kept (value, weight) pairs */
    size_t n, cap;
    int failed; /* allocation failed */
} eoi_stats;
void eoi_stats_init(eoi_stats *s, bool keep);
void eoi_stats_clear(eoi_stats *s);
/* Add n values with weights (weight 0 pixels are skipped; NaN = nodata). */
void eoi_stats_add(eoi_stats *s, const float *v, const float *w, size_t n);
eo_status eoi_stats_merge(eo_ctx *ctx, eoi_stats *into, eoi_stats *from);
/* The JSON object of the statistics. */
eo_status eoi_stats_json(eo_ctx *ctx, json_object **out, eoi_stats *s,
                         const eo_analytics_opts *opts);
/* Zonal statistics of a bound program over an AOI in the raster's CRS. */
eo_status eoi_zonal_run(eo_ctx *ctx, json_object **out, eo_dataset *ds, const eoi_prog *prog,
                        const eo_geom *aoi_raster_crs, const eo_analytics_opts *opts);

#endif /* EOI_ANALYTICS_INT_H */
