/* bandmap.c - the analytics options, and binding an expression to a
 * dataset: band symbols to band numbers (explicit mapping, then a known
 * sensor layout, then band descriptions and colour interpretation),
 * constants to values (the options, then the index's defaults, then the
 * global defaults); which band each symbol binds to (eo_expr_bands). */
#include "analytics_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- options ------------------------------------------------------------ */

eo_status eo_analytics_opts_new(eo_ctx *ctx, eo_analytics_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    eo_analytics_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    o->scale = 1.0;
    o->nodata = -9999.0;
    o->band = 1;
    o->coverage = EO_COVERAGE_CENTER;
    o->threshold = 0.2;
    *out = o;
    return EO_OK;
}

void eo_analytics_opts_free(eo_analytics_opts *o) {
    if (!o)
        return;
    for (int32_t i = 0; i < o->nconsts; i++)
        eoi_free(o->cnames[i]);
    eoi_free(o->cnames);
    eoi_free(o->cvalues);
    eoi_free(o->percentiles);
    eoi_free(o->bands);
    eoi_free(o->sensor);
    eo_cog_opts_free(o->cog);
    eoi_free(o);
}

/* Parse one "SYM=N" mapping entry; returns the symbol index or -1. */
static int parse_entry(const char *s, size_t len, long *band) {
    const char *eq = memchr(s, '=', len), *end = s + len;
    if (!eq)
        return -1;
    size_t kl = (size_t)(eq - s);
    while (kl && isspace((unsigned char)s[kl - 1]))
        kl--;
    while (kl && isspace((unsigned char)*s)) {
        s++;
        kl--;
    }
    int sym = eoi_band_sym_find(s, kl);
    const char *v = eq + 1;
    while (v < end && isspace((unsigned char)*v))
        v++;
    long b = 0;
    const char *d = v;
    while (d < end && isdigit((unsigned char)*d) && b < 1000000)
        b = b * 10 + (*d++ - '0');
    while (d < end && isspace((unsigned char)*d))
        d++;
    if (d == v || d != end || b < 1 || b > 65535)
        return -2;
    *band = b;
    return sym;
}

/* Walk a mapping; map (may be NULL) receives the band numbers. */
static eo_status parse_mapping(eo_ctx *ctx, const char *text, int32_t *map) {
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        long band = 0;
        int sym = parse_entry(s, len, &band);
        if (sym == -2 || (sym == -1 && memchr(s, '=', len) == NULL))
            return eoi_fail(ctx, EO_E_ARG,
                            "band mapping '%.200s': expected SYMBOL=BAND entries such as R=3,N=4, "
                            "got '%.*s'",
                            text, (int)(len > 60 ? 60 : len), s);
        if (sym < 0)
            return eoi_fail(ctx, EO_E_ARG,
                            "band mapping '%.200s': unknown band symbol in '%.*s' (known: A, B, G, "
                            "R, RE1, RE2, RE3, N, N2, WV, S1, S2, T, T1, T2 or blue, green, red, "
                            "nir, swir1, ...)",
                            text, (int)(len > 60 ? 60 : len), s);
        if (map)
            map[sym] = (int32_t)band;
        s += len;
        if (*s == ',')
            s++;
    }
    return EO_OK;
}

eo_status eo_analytics_opts_set_bands(eo_ctx *ctx, eo_analytics_opts *o, const char *mapping) {
    EOI_CHECK_ARG(ctx, o);
    eo_status st;
    if (mapping && (st = parse_mapping(ctx, mapping, NULL)) != EO_OK)
        return st;
    char *copy = NULL;
    if (mapping && *mapping && !(copy = eoi_strdup(ctx, mapping)))
        return EO_E_NOMEM;
    eoi_free(o->bands);
    o->bands = copy;
    return EO_OK;
}

/* Known sensor layouts: the band order of the products, by band count.
 * "-" is a band no symbol names (panchromatic, cirrus). */
static const struct {
    const char *sensor;
    int32_t nbands;
    const char *layout;
} layouts[] = {
    {"landsat4", 7, "B,G,R,N,S1,T,S2"},
    {"landsat4", 6, "B,G,R,N,S1,S2"},
    {"landsat5", 7, "B,G,R,N,S1,T,S2"},
    {"landsat5", 6, "B,G,R,N,S1,S2"},
    {"landsat7", 8, "B,G,R,N,S1,T,S2,-"},
    {"landsat7", 7, "B,G,R,N,S1,T,S2"},
    {"landsat7", 6, "B,G,R,N,S1,S2"},
    {"landsat8", 11, "A,B,G,R,N,S1,S2,-,-,T1,T2"},
    {"landsat8", 7, "A,B,G,R,N,S1,S2"},
    {"landsat9", 11, "A,B,G,R,N,S1,S2,-,-,T1,T2"},
    {"landsat9", 7, "A,B,G,R,N,S1,S2"},
    {"sentinel2", 13, "A,B,G,R,RE1,RE2,RE3,N,N2,WV,-,S1,S2"},
    {"sentinel2", 12, "A,B,G,R,RE1,RE2,RE3,N,N2,WV,S1,S2"},
    {"sentinel2", 10, "B,G,R,RE1,RE2,RE3,N,N2,S1,S2"},
    {"sentinel2", 4, "B,G,R,N"},
};

eo_status eo_analytics_opts_set_sensor(eo_ctx *ctx, eo_analytics_opts *o, const char *sensor) {
    EOI_CHECK_ARG(ctx, o);
    char *copy = NULL;
    if (sensor && *sensor) {
        bool known = false;
        for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
            known = known || strcasecmp(layouts[i].sensor, sensor) == 0;
        if (!known)
            return eoi_fail(ctx, EO_E_ARG,
                            "unknown sensor '%.100s' (known: landsat4, landsat5, landsat7, "
                            "landsat8, landsat9, sentinel2)",
                            sensor);
        if (!(copy = eoi_strdup(ctx, sensor)))
            return EO_E_NOMEM;
    }
    eoi_free(o->sensor);
    o->sensor = copy;
    return EO_OK;
}

eo_status eo_analytics_opts_set_constant(eo_ctx *ctx, eo_analytics_opts *o, const char *name,
                                         double value) {
    EOI_CHECK_ARG(ctx, o && name && *name);
    if (!isfinite(value))
        return eoi_fail(ctx, EO_E_ARG, "constant %.100s: value must be finite", name);
    for (int32_t i = 0; i < o->nconsts; i++)
        if (strcmp(o->cnames[i], name) == 0) {
            o->cvalues[i] = value;
            return EO_OK;
        }
    char **nn = eoi_realloc(ctx, o->cnames, (size_t)(o->nconsts + 1) * sizeof *nn);
    if (!nn)
        return EO_E_NOMEM;
    o->cnames = nn;
    double *nv = eoi_realloc(ctx, o->cvalues, (size_t)(o->nconsts + 1) * sizeof *nv);
    if (!nv)
        return EO_E_NOMEM;
    o->cvalues = nv;
    if (!(o->cnames[o->nconsts] = eoi_strdup(ctx, name)))
        return EO_E_NOMEM;
    o->cvalues[o->nconsts++] = value;
    return EO_OK;
}

eo_status eo_analytics_opts_set_scale(eo_ctx *ctx, eo_analytics_opts *o, double scale,
                                      double offset) {
    EOI_CHECK_ARG(ctx, o);
    if (!isfinite(scale) || !isfinite(offset) || scale == 0)
        return eoi_fail(ctx, EO_E_ARG,
                        "scale %g and offset %g: expected finite numbers, scale != 0", scale,
                        offset);
    o->scale = scale;
    o->offset = offset;
    return EO_OK;
}

eo_status eo_analytics_opts_set_nodata(eo_ctx *ctx, eo_analytics_opts *o, double nodata) {
    EOI_CHECK_ARG(ctx, o);
    if (!isfinite(nodata) || fabs(nodata) > 3.4e38)
        return eoi_fail(ctx, EO_E_ARG, "nodata %g: expected a finite float32 value", nodata);
    o->nodata = nodata;
    return EO_OK;
}

eo_status eo_analytics_opts_set_band(eo_ctx *ctx, eo_analytics_opts *o, int32_t band) {
    EOI_CHECK_ARG(ctx, o);
    if (band < 1)
        return eoi_fail(ctx, EO_E_ARG, "band %d: band numbers start at 1", (int)band);
    o->band = band;
    return EO_OK;
}

eo_status eo_analytics_opts_set_coverage(eo_ctx *ctx, eo_analytics_opts *o, int32_t mode) {
    EOI_CHECK_ARG(ctx, o);
    if (mode < EO_COVERAGE_CENTER || mode > EO_COVERAGE_EXACT)
        return eoi_fail(ctx, EO_E_ARG,
                        "coverage mode %d: expected 0 (centre), 1 (all touched) or "
                        "2 (exact)",
                        (int)mode);
    o->coverage = mode;
    return EO_OK;
}

eo_status eo_analytics_opts_set_percentiles(eo_ctx *ctx, eo_analytics_opts *o, const double *q,
                                            int32_t count) {
    EOI_CHECK_ARG(ctx, o && count >= 0 && (q || count == 0) && count <= 1000);
    for (int32_t i = 0; i < count; i++)
        if (!(q[i] >= 0 && q[i] <= 100))
            return eoi_fail(ctx, EO_E_ARG, "percentile %g: expected a number from 0 to 100", q[i]);
    double *c = NULL;
    if (count && !(c = eoi_malloc(ctx, (size_t)count * sizeof *c)))
        return EO_E_NOMEM;
    if (count)
        memcpy(c, q, (size_t)count * sizeof *c);
    eoi_free(o->percentiles);
    o->percentiles = c;
    o->npercentiles = count;
    return EO_OK;
}

eo_status eo_analytics_opts_set_histogram(eo_ctx *ctx, eo_analytics_opts *o, int32_t bins,
                                          double lo, double hi) {
    EOI_CHECK_ARG(ctx, o);
    if (bins < 0 || bins > 100000 || !isfinite(lo) || !isfinite(hi) || hi < lo)
        return eoi_fail(ctx, EO_E_ARG,
                        "histogram: %d bins over [%g, %g]: expected 0..100000 bins and lo <= hi",
                        (int)bins, lo, hi);
    o->hist_bins = bins;
    o->hist_lo = lo;
    o->hist_hi = hi;
    return EO_OK;
}

eo_status eo_analytics_opts_set_threshold(eo_ctx *ctx, eo_analytics_opts *o, double threshold) {
    EOI_CHECK_ARG(ctx, o);
    if (!(threshold > 0) || !isfinite(threshold))
        return eoi_fail(ctx, EO_E_ARG, "threshold %g: expected a finite number > 0", threshold);
    o->threshold = threshold;
    return EO_OK;
}

eo_status eo_analytics_opts_set_aoi(eo_ctx *ctx, eo_analytics_opts *o, const eo_geom *aoi) {
    EOI_CHECK_ARG(ctx, o);
    o->aoi = aoi;
    return EO_OK;
}

eo_status eo_analytics_opts_set_point(eo_ctx *ctx, eo_analytics_opts *o, double lon, double lat) {
    EOI_CHECK_ARG(ctx, o);
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
        return eoi_fail(ctx, EO_E_ARG,
                        "point (%g, %g): expected longitude -180..180, latitude "
                        "-90..90",
                        lon, lat);
    o->has_point = true;
    o->lon = lon;
    o->lat = lat;
    return EO_OK;
}

/* ---- mapping from band descriptions -------------------------------------- */

static const struct {
    const char *text; /* normalized: lower case, no spaces, dashes or underscores */
    const char *sym;
} desc_names[] = {
    {"coastal", "A"},      {"coastalaerosol", "A"},
    {"aerosol", "A"},      {"blue", "B"},
    {"green", "G"},        {"red", "R"},
    {"rededge1", "RE1"},   {"rededge2", "RE2"},
    {"rededge3", "RE3"},   {"nir", "N"},
    {"nearinfrared", "N"}, {"nir08", "N"},
    {"nir2", "N2"},        {"narrownir", "N2"},
    {"nir09", "N2"},       {"watervapour", "WV"},
    {"watervapor", "WV"},  {"swir1", "S1"},
    {"swir16", "S1"},      {"swir2", "S2"},
    {"swir22", "S2"},      {"thermal", "T"},
    {"tir", "T"},          {"lwir", "T"},
    {"thermal1", "T1"},    {"tir1", "T1"},
    {"lwir11", "T1"},      {"thermal2", "T2"},
    {"tir2", "T2"},        {"lwir12", "T2"},
    {"b01", "A"},          {"b02", "B"},
    {"b03", "G"},          {"b04", "R"},
    {"b05", "RE1"},        {"b06", "RE2"},
    {"b07", "RE3"},        {"b08", "N"},
    {"b8a", "N2"},         {"b09", "WV"},
    {"b11", "S1"},         {"b12", "S2"},
};

static int sym_of_description(const char *desc) {
    char norm[64];
    size_t k = 0;
    for (const char *p = desc; *p && k + 1 < sizeof norm; p++)
        if (!isspace((unsigned char)*p) && *p != '-' && *p != '_')
            norm[k++] = (char)tolower((unsigned char)*p);
    norm[k] = '\0';
    int sym = eoi_band_sym_find(desc, strlen(desc));
    if (sym >= 0)
        return sym;
    for (size_t i = 0; i < sizeof desc_names / sizeof desc_names[0]; i++)
        if (strcmp(norm, desc_names[i].text) == 0)
            return eoi_band_sym_find(desc_names[i].sym, strlen(desc_names[i].sym));
    return -1;
}

/* The symbol band b's description (else its colour interpretation) names,
 * or -1. */
static int sym_of_band(eo_dataset *ds, int32_t b) {
    GDALRasterBandH h = GDALGetRasterBand(ds->h, b);
    const char *desc = h ? GDALGetDescription(h) : NULL;
    int sym = desc && *desc ? sym_of_description(desc) : -1;
    if (sym < 0 && h) {
        GDALColorInterp ci = GDALGetRasterColorInterpretation(h);
        sym = ci == GCI_RedBand     ? eoi_band_sym_find("R", 1)
              : ci == GCI_GreenBand ? eoi_band_sym_find("G", 1)
              : ci == GCI_BlueBand  ? eoi_band_sym_find("B", 1)
                                    : -1;
    }
    return sym;
}

/* map[sym] = the first band whose description names sym; ambiguous[sym]
 * = true when another band names it too. */
static void map_from_descriptions(eo_dataset *ds, int32_t *map, bool *ambiguous) {
    for (int32_t b = 1; b <= ds->band_count; b++) {
        int sym = sym_of_band(ds, b);
        if (sym >= 0 && map[sym])
            ambiguous[sym] = true;
        else if (sym >= 0)
            map[sym] = b;
    }
}

/* index.BandAmbiguous naming every band whose description names sym. */
static eo_status fail_ambiguous(eo_ctx *ctx, const eo_expr *e, eo_dataset *ds, int sym) {
    const eoi_band_sym *s = &eoi_band_syms[sym];
    char cands[512] = "";
    int32_t first = 0;
    for (int32_t b = 1; b <= ds->band_count; b++) {
        if (sym_of_band(ds, b) != sym)
            continue;
        first = first ? first : b;
        GDALRasterBandH h = GDALGetRasterBand(ds->h, b);
        const char *desc = GDALGetDescription(h);
        size_t l = strlen(cands);
        if (l + 80 >= sizeof cands)
            break;
        if (desc && *desc)
            snprintf(cands + l, sizeof cands - l, "%sband %d ('%.60s')", l ? ", " : "", (int)b,
                     desc);
        else
            snprintf(cands + l, sizeof cands - l, "%sband %d (%s colour)", l ? ", " : "", (int)b,
                     GDALGetColorInterpretationName(GDALGetRasterColorInterpretation(h)));
    }
    return eoi_fail(ctx, EO_E_INDEX_BAND_AMBIGUOUS,
                    "%s: %s%s needs band %s (%s), and several bands are described as it: %s; "
                    "choose one, e.g. --bands %s=%d",
                    ds->path, e->index ? "index " : "expression ",
                    e->index ? e->index->name : e->text, s->sym, s->name, cands, s->sym,
                    (int)first);
}

static eo_status map_from_sensor(eo_ctx *ctx, const char *sensor, eo_dataset *ds, int32_t *map) {
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        if (strcasecmp(layouts[i].sensor, sensor) != 0 || layouts[i].nbands != ds->band_count)
            continue;
        char buf[96];
        snprintf(buf, sizeof buf, "%s", layouts[i].layout);
        char *save = NULL;
        int32_t b = 1;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), b++) {
            int sym = eoi_band_sym_find(tok, strlen(tok));
            if (sym >= 0)
                map[sym] = b;
        }
        int t = eoi_band_sym_find("T", 1), t1 = eoi_band_sym_find("T1", 2);
        if (!map[t] && map[t1])
            map[t] = map[t1];
        return EO_OK;
    }
    char counts[128] = "";
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (strcasecmp(layouts[i].sensor, sensor) == 0) {
            size_t l = strlen(counts);
            snprintf(counts + l, sizeof counts - l, "%s%d", l ? ", " : "", (int)layouts[i].nbands);
        }
    return eoi_fail(ctx, EO_E_INDEX_BAND_MISSING,
                    "%s: sensor %s has layouts of %s bands; the raster has %d (give the bands "
                    "explicitly, e.g. R=3,N=4)",
                    ds->path, sensor, counts, (int)ds->band_count);
}

static eo_status constant_value(eo_ctx *ctx, const eo_expr *e, const char *name,
                                const eo_analytics_opts *opts, double *v) {
    for (int32_t i = 0; opts && i < opts->nconsts; i++)
        if (strcmp(opts->cnames[i], name) == 0) {
            *v = opts->cvalues[i];
            return EO_OK;
        }
    if (e->index && e->index->constants[0]) {
        const char *s = e->index->constants;
        size_t n = strlen(name);
        while (s && *s) {
            if (strncmp(s, name, n) == 0 && s[n] == '=') {
                *v = strtod(s + n + 1, NULL);
                return EO_OK;
            }
            s = strchr(s, ',');
            if (s)
                s++;
        }
    }
    *v = eoi_constant_default(name);
    if (isnan(*v))
        return eoi_fail(ctx, EO_E_EXPR_SYNTAX,
                        "expression '%.120s': unknown name '%.60s' (not a band symbol, a band "
                        "number bN, a function or a constant with a value; set constants with "
                        "--constants %s=VALUE)",
                        e->text, name, name);
    return EO_OK;
}

static eo_status prog_common(eo_ctx *ctx, eoi_prog *p, const eo_analytics_opts *opts) {
    p->nodata = (float)(opts ? opts->nodata : -9999.0);
    p->scale = (float)(opts ? opts->scale : 1.0);
    p->offset = (float)(opts ? opts->offset : 0.0);
    (void)ctx;
    return EO_OK;
}

/* Band math is on real numbers: a complex band (CInt16 .. CFloat64) would
 * be read as its real part alone, a silent wrong answer; refuse it. */
static eo_status check_real(eo_ctx *ctx, const eo_dataset *ds, int32_t b) {
    GDALRasterBandH band = ds->h ? GDALGetRasterBand(ds->h, b) : NULL;
    GDALDataType t = band ? GDALGetRasterDataType(band) : GDT_Unknown;
    if (!GDALDataTypeIsComplex(t))
        return EO_OK;
    return eoi_fail(ctx, EO_E_UNSUPPORTED,
                    "%s: band %d is %s (complex): band math takes real bands only; convert "
                    "it first (the real part, the imaginary part or the magnitude, e.g. with "
                    "gdal_translate or a VRT)",
                    ds->path, (int)b, GDALGetDataTypeName(t));
}

eo_status eoi_prog_bind(eo_ctx *ctx, eoi_prog *out, const eo_expr *e, eo_dataset *ds,
                        const eo_analytics_opts *opts) {
    memset(out, 0, sizeof *out);
    /* the user's mapping (sensor layout, then --bands) wins; the band
     * descriptions fill the rest, and an ambiguous one is an error */
    int32_t map[EOI_NSYM] = {0}, dmap[EOI_NSYM] = {0};
    bool ambiguous[EOI_NSYM] = {false};
    eo_status st = EO_OK;
    map_from_descriptions(ds, dmap, ambiguous);
    if (opts && opts->sensor && (st = map_from_sensor(ctx, opts->sensor, ds, map)) != EO_OK)
        return st;
    if (opts && opts->bands && (st = parse_mapping(ctx, opts->bands, map)) != EO_OK)
        return st;
    for (int32_t k = 0; k < e->ninputs; k++) {
        int sym = e->inputs[k].sym;
        if (sym >= 0 && !map[sym] && ambiguous[sym])
            return fail_ambiguous(ctx, e, ds, sym);
    }
    for (int i = 0; i < EOI_NSYM; i++)
        if (!map[i])
            map[i] = dmap[i];
    out->code = e->code;
    out->ncode = e->ncode;
    out->depth = e->depth;
    out->ninputs = e->ninputs;
    out->nconsts = e->nconsts;
    if (!(out->bands = eoi_calloc(ctx, (size_t)e->ninputs, sizeof *out->bands)) ||
        (e->nconsts && !(out->consts = eoi_calloc(ctx, (size_t)e->nconsts, sizeof(float))))) {
        eoi_prog_clear(out);
        return EO_E_NOMEM;
    }
    for (int32_t k = 0; k < e->ninputs; k++) {
        const eoi_ref *r = &e->inputs[k];
        int32_t b = r->sym >= 0 ? map[r->sym] : r->band;
        if (r->sym >= 0 && b == 0) {
            const eoi_band_sym *s = &eoi_band_syms[r->sym];
            st = eoi_fail(ctx, EO_E_INDEX_BAND_MISSING,
                          "%s: %s%s needs band %s (%s, %s), which neither the band descriptions "
                          "nor %s%s name: map it, e.g. --bands %s=4",
                          ds->path, e->index ? "index " : "expression ",
                          e->index ? e->index->name : e->text, s->sym, s->name, s->desc,
                          opts && opts->sensor ? "the sensor layout " : "a sensor layout",
                          opts && opts->sensor ? opts->sensor : " (--sensor)", s->sym);
            break;
        }
        if (b > ds->band_count) {
            st = eoi_fail(ctx, EO_E_INDEX_BAND_MISSING,
                          "%s: band %d (%s) does not exist: the raster has %d bands", ds->path,
                          (int)b, r->sym >= 0 ? eoi_band_syms[r->sym].sym : "bN",
                          (int)ds->band_count);
            break;
        }
        if ((st = check_real(ctx, ds, b)) != EO_OK)
            break;
        out->bands[k] = b;
    }
    for (int32_t k = 0; st == EO_OK && k < e->nconsts; k++) {
        double v = e->cvalues[k];
        if (e->cnames[k])
            st = constant_value(ctx, e, e->cnames[k], opts, &v);
        out->consts[k] = (float)v;
    }
    if (st == EO_OK)
        st = prog_common(ctx, out, opts);
    if (st != EO_OK)
        eoi_prog_clear(out);
    return st;
}

static const eoi_insn identity_code[1] = {{EOI_OP_INPUT, 0}};

eo_status eoi_prog_band(eo_ctx *ctx, eoi_prog *out, eo_dataset *ds, int32_t band,
                        const eo_analytics_opts *opts) {
    memset(out, 0, sizeof *out);
    if (band < 1 || band > ds->band_count)
        return eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist (the raster has %d bands)",
                        ds->path, (int)band, (int)ds->band_count);
    eo_status st = check_real(ctx, ds, band);
    if (st != EO_OK)
        return st;
    if (!(out->bands = eoi_calloc(ctx, 1, sizeof *out->bands)))
        return EO_E_NOMEM;
    out->bands[0] = band;
    out->code = identity_code;
    out->ncode = 1;
    out->depth = 1;
    out->ninputs = 1;
    return prog_common(ctx, out, opts);
}

eo_status eo_expr_bands(eo_ctx *ctx, char **out_json, const eo_expr *e, eo_dataset *ds,
                        const eo_analytics_opts *opts) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, e && ds);
    eoi_prog p;
    EOI_TRY_RET(eoi_prog_bind(ctx, &p, e, ds, opts));
    json_object *m = json_object_new_object();
    for (int32_t k = 0; k < e->ninputs; k++) {
        char key[16];
        if (e->inputs[k].sym >= 0)
            snprintf(key, sizeof key, "%s", eoi_band_syms[e->inputs[k].sym].sym);
        else
            snprintf(key, sizeof key, "b%d", (int)e->inputs[k].band);
        json_object_object_add(m, key, json_object_new_int(p.bands[k]));
    }
    eoi_prog_clear(&p);
    eo_status st = eoi_json_dump(ctx, out_json, m, false);
    json_object_put(m);
    return st;
}
