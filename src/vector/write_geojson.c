/* write_geojson.c - output options, the writer entry points, and GeoJSON
 * written as a stream, feature by feature (RFC 7946: EPSG:4326 lon/lat,
 * shells counter-clockwise, holes clockwise, a chosen number of decimals),
 * to a temporary file renamed into place. */
#include "geom_int.h"
#include "vector_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

eo_status eo_vector_write_opts_new(eo_ctx *ctx, eo_vector_write_opts **out) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    eo_vector_write_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!(*out = o))
        return EO_E_NOMEM;
    strcpy(o->format, "geojson");
    o->precision = -1;
    return EO_OK;
}

void eo_vector_write_opts_free(eo_vector_write_opts *o) { eoi_free(o); }

eo_status eo_vector_write_opts_set_format(eo_ctx *ctx, eo_vector_write_opts *o,
                                          const char *format) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o && format);
    if (strcmp(format, "geojson") && strcmp(format, "gpkg") && strcmp(format, "fgb"))
        return eoi_fail(ctx, EO_E_ARG,
                        "vector output: unknown format '%.40s' (geojson, gpkg or fgb)", format);
    snprintf(o->format, sizeof o->format, "%s", format);
    return EO_OK;
}

eo_status eo_vector_write_opts_set_precision(eo_ctx *ctx, eo_vector_write_opts *o,
                                             int32_t decimals) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (decimals < 0 || decimals > 17)
        return eoi_fail(ctx, EO_E_ARG, "vector output: precision %d is out of range (0..17)",
                        (int)decimals);
    o->precision = decimals;
    return EO_OK;
}

eo_status eo_vector_write_opts_set_native_crs(eo_ctx *ctx, eo_vector_write_opts *o,
                                              int32_t native) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    o->native_crs = native != 0;
    return EO_OK;
}

/* ---- GeoJSON ---------------------------------------------------------- */

/* s as a JSON string */
static void put_string(FILE *fp, const char *s) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

static const double POW10[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

/* v with prec decimals, trailing zeros trimmed. Fast path through an
 * integer for the usual sizes (printf's decimal conversion dominates the
 * writer otherwise). */
static int fmt_num(char *out, double v, int prec) {
    char b[64];
    if (prec <= 9 && fabs(v) < 1e9) {
        long long r = llround(v * POW10[prec]);
        bool neg = r < 0;
        unsigned long long u = (unsigned long long)(neg ? -r : r);
        unsigned long long ip = u / (unsigned long long)POW10[prec];
        unsigned long long fp_ = u % (unsigned long long)POW10[prec];
        char *q = b + sizeof b;
        int d = prec;
        while (d > 0 && fp_ % 10 == 0) { /* trim zeros */
            fp_ /= 10;
            d--;
        }
        if (d > 0) {
            for (int k = 0; k < d; k++) {
                *--q = (char)('0' + fp_ % 10);
                fp_ /= 10;
            }
            *--q = '.';
        }
        do {
            *--q = (char)('0' + ip % 10);
            ip /= 10;
        } while (ip);
        if (neg && u != 0)
            *--q = '-';
        int len = (int)(b + sizeof b - q);
        memcpy(out, q, (size_t)len);
        return len;
    }
    int n = snprintf(b, sizeof b, "%.*f", prec, v);
    if (prec > 0) { /* trim trailing zeros */
        while (n > 1 && b[n - 1] == '0')
            b[--n] = 0;
        if (b[n - 1] == '.')
            b[--n] = 0;
    }
    if (strcmp(b, "-0") == 0)
        n = snprintf(b, sizeof b, "0");
    memcpy(out, b, (size_t)n);
    return n;
}

static void put_num(FILE *fp, double v, int prec) {
    char b[64];
    int n = fmt_num(b, v, prec);
    fwrite(b, 1, (size_t)n, fp);
}

static void put_value(FILE *fp, double v) {
    if (!isfinite(v))
        fputs("null", fp);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(fp, "%lld", (long long)v);
    else
        fprintf(fp, "%.17g", v);
}

/* Scratch buffers of the writer: coordinates and the text of one ring. */
typedef struct wbuf {
    eoi_ring_buf rb;
    char *txt;
    size_t cap; /* points txt holds */
} wbuf;

/* A ring (pixel grid) through tf, oriented (orient > 0 counter-clockwise,
 * < 0 clockwise), written as a GeoJSON coordinate array. */
static eo_status put_ring(eo_ctx *ctx, FILE *fp, const eoi_grid_tf *tf, const GEOSGeometry *r,
                          int orient, int prec, wbuf *w) {
    unsigned n = 0;
    eo_status st = eoi_ring_out(ctx, &w->rb, tf, r, orient, &n);
    if (st != EO_OK)
        return st;
    if (n > w->cap) {
        char *t = eoi_malloc(ctx, (size_t)n * 2 * 64 + 16);
        if (!t)
            return EO_E_NOMEM;
        eoi_free(w->txt);
        w->txt = t;
        w->cap = (size_t)n * 2;
    }
    char *t = w->txt;
    *t++ = '[';
    for (unsigned i = 0; i < n; i++) {
        if (i)
            *t++ = ',';
        *t++ = '[';
        t += fmt_num(t, w->rb.x[i], prec);
        *t++ = ',';
        t += fmt_num(t, w->rb.y[i], prec);
        *t++ = ']';
    }
    *t++ = ']';
    fwrite(w->txt, 1, (size_t)(t - w->txt), fp);
    return EO_OK;
}

/* A hole read back from the spool, after a comma. */
typedef struct held_put {
    FILE *fp;
    const eoi_grid_tf *tf;
    int prec;
    wbuf *w;
} held_put;

static eo_status put_held(eo_ctx *ctx, GEOSGeometry **ring, void *user) {
    held_put *q = user;
    fputc(',', q->fp);
    return put_ring(ctx, q->fp, q->tf, *ring, -1, q->prec, q->w);
}

/* Polygon p; with held (a Polygon feature of f), the holes it holds on
 * f's spool after its own. */
static eo_status put_polygon(eo_ctx *ctx, FILE *fp, const eoi_grid_tf *tf, const GEOSGeometry *p,
                             int prec, wbuf *w, const eo_features *f, const eoi_feature *held) {
    GEOSContextHandle_t h = ctx->geos;
    fputc('[', fp);
    eo_status st = put_ring(ctx, fp, tf, GEOSGetExteriorRing_r(h, p), 1, prec, w);
    int nh = GEOSGetNumInteriorRings_r(h, p);
    for (int i = 0; st == EO_OK && i < nh; i++) {
        fputc(',', fp);
        st = put_ring(ctx, fp, tf, GEOSGetInteriorRingN_r(h, p, i), -1, prec, w);
    }
    if (st == EO_OK && held && held->held) {
        held_put q = {fp, tf, prec, w};
        st = eoi_spool_each(ctx, f->spool, held, put_held, &q);
    }
    fputc(']', fp);
    return st;
}

/* ---- sinks ------------------------------------------------------------- */

struct eo_features_writer {
    eo_ctx *ctx;  /* for eo_features_writer_free */
    double gt[6]; /* the grid and CRS of every batch */
    char *wkt;
    char *path; /* for messages; NULL: fp is a memory stream */
    char *tmp;  /* written here, renamed to path at the end */
    FILE *fp;   /* GeoJSON */
    eoi_ogr_sink *ogr;
    bool progress; /* one collection: progress per feature */
    int prec;
    eoi_grid_tf tf; /* pixel grid -> output CRS */
    eoi_props_pass pp;
    wbuf w;
    int64_t count; /* features written */
};

static void geojson_begin(eo_ctx *ctx, FILE *fp, const eo_features *f, bool native) {
    fputs("{\"type\":\"FeatureCollection\",", fp);
    if (native) {
        int epsg = f->wkt[0] ? eoi_crs_epsg(ctx, f->wkt) : 0;
        if (epsg)
            fprintf(fp,
                    "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
                    "\"urn:ogc:def:crs:EPSG::%d\"}},",
                    epsg);
    }
    fputs("\"features\":[\n", fp);
}

static eo_status geojson_put(eo_ctx *ctx, eo_features_writer *s, const eo_features *f) {
    GEOSContextHandle_t h = ctx->geos;
    FILE *fp = s->fp;
    eo_status st = EO_OK;
    for (size_t i = 0; i < f->n; i++) {
        eoi_props p;
        EOI_TRY(st, eoi_props_pass_get(&s->pp, i, &p));
        const GEOSGeometry *g = f->v[i].g;
        fprintf(fp, "%s{\"type\":\"Feature\",\"id\":%lld,\"properties\":{\"id\":%lld,\"class\":",
                s->count + (int64_t)i ? ",\n" : "", (long long)p.id, (long long)p.id);
        put_value(fp, p.cls);
        fprintf(fp, ",\"pixels\":%lld,\"area_m2\":", (long long)p.pixels);
        if (isfinite(p.area_m2))
            put_num(fp, p.area_m2, 3);
        else
            fputs("null", fp);
        fputs(",\"perimeter_m\":", fp);
        if (isfinite(p.perimeter_m))
            put_num(fp, p.perimeter_m, 3);
        else
            fputs("null", fp);
        if (f->has_score) {
            fputs(",\"score\":", fp);
            put_value(fp, p.score);
        }
        const char *cname = eoi_class_name(f, p.cls);
        if (cname) {
            fputs(",\"class_name\":", fp);
            put_string(fp, cname);
        }
        if (f->has_part)
            fprintf(fp, ",\"partition\":%d", (int)f->v[i].part);
        bool multi = GEOSGeomTypeId_r(h, g) == GEOS_MULTIPOLYGON;
        fprintf(fp, "},\"geometry\":{\"type\":\"%s\",\"coordinates\":",
                multi ? "MultiPolygon" : "Polygon");
        if (multi) {
            fputc('[', fp);
            int n = GEOSGetNumGeometries_r(h, g);
            for (int k = 0; k < n; k++) {
                if (k)
                    fputc(',', fp);
                EOI_TRY(st, put_polygon(ctx, fp, &s->tf, GEOSGetGeometryN_r(h, g, k), s->prec,
                                        &s->w, f, NULL));
            }
            fputc(']', fp);
        } else
            EOI_TRY(st, put_polygon(ctx, fp, &s->tf, g, s->prec, &s->w, f, &f->v[i]));
        fputs("}}", fp);
        if (s->progress && (i & 4095) == 4095)
            EOI_TRY(st, eoi_progress(ctx, (double)i / (double)f->n, "write"));
    }
    if (ferror(fp))
        st = s->path
                 ? eoi_fail(ctx, EO_E_IO_WRITE, "%s: write failed: %s", s->path, strerror(errno))
                 : eoi_fail(ctx, EO_E_NOMEM, "out of memory (GeoJSON text)");
done:
    return st;
}

/* The sink's state but the file; path NULL: GeoJSON to fp (memory). */
static eo_status sink_new(eo_ctx *ctx, eo_features_writer **out, const char *path, FILE *fp,
                          const eo_vector_write_opts *o, const eo_features *proto, bool stream) {
    bool native = o && o->native_crs;
    eo_features_writer *s = eoi_calloc(ctx, 1, sizeof *s);
    *out = s;
    if (!s)
        return EO_E_NOMEM;
    s->ctx = ctx;
    memcpy(s->gt, proto->gt, sizeof s->gt);
    if (!(s->wkt = eoi_strdup(ctx, proto->wkt)))
        return EO_E_NOMEM;
    s->fp = fp;
    if (path && !(s->path = eoi_strdup(ctx, path)))
        return EO_E_NOMEM;
    s->progress = !stream;
    s->prec = o && o->precision >= 0 ? o->precision : native ? 3 : 7;
    EOI_TRY_RET(eoi_grid_tf_init(ctx, &s->tf, proto, native));
    EOI_TRY_RET(eoi_props_pass_init(ctx, &s->pp, proto, stream ? SIZE_MAX : proto->n));
    return EO_OK;
}

static void sink_free(eo_features_writer *s) {
    if (!s)
        return;
    eoi_ring_buf_free(&s->w.rb);
    eoi_free(s->w.txt);
    eoi_grid_tf_free(&s->tf);
    eoi_props_pass_free(&s->pp);
    eoi_free(s->tmp);
    eoi_free(s->path);
    eoi_free(s->wkt);
    eoi_free(s);
}

static eo_status writer_close(eo_ctx *ctx, eo_features_writer *s, eo_status st);

static eo_status writer_open(eo_ctx *ctx, eo_features_writer **out, const char *path,
                             const eo_vector_write_opts *o, const eo_features *proto, bool stream) {
    const char *fmt = o ? o->format : "geojson";
    bool gj = strcmp(fmt, "geojson") == 0, gpkg = strcmp(fmt, "gpkg") == 0;
    eo_features_writer *s = NULL;
    *out = NULL;
    eo_status st = sink_new(ctx, &s, path, NULL, o, proto, stream);
    if (st == EO_OK)
        st = eoi_tmp_beside(ctx, &s->tmp, path, gj ? "" : gpkg ? ".gpkg" : ".fgb");
    if (st != EO_OK) {
        sink_free(s);
        return st;
    }
    if (!gj)
        st = eoi_ogr_open(ctx, &s->ogr, s->tmp, s->path, gpkg, o->native_crs, proto);
    else if (!(s->fp = fopen(s->tmp, "wb")))
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create: %s", path, strerror(errno));
    else {
        setvbuf(s->fp, NULL, _IOFBF, 1 << 16);
        geojson_begin(ctx, s->fp, proto, o && o->native_crs);
    }
    if (st != EO_OK)
        return writer_close(ctx, s, st);
    *out = s;
    return EO_OK;
}

static eo_status writer_put(eo_ctx *ctx, eo_features_writer *s, const eo_features *f) {
    eoi_props_pass_rebind(&s->pp, f, s->count);
    eo_status st =
        s->ogr ? eoi_ogr_put(ctx, s->ogr, f, &s->pp, &s->tf, s->progress) : geojson_put(ctx, s, f);
    if (st == EO_OK)
        s->count += (int64_t)f->n;
    return st;
}

static eo_status writer_close(eo_ctx *ctx, eo_features_writer *s, eo_status st) {
    if (s->ogr) {
        st = eoi_ogr_close(ctx, s->ogr, st);
    } else if (s->fp) {
        if (st == EO_OK) {
            fputs("\n]}\n", s->fp);
            if (ferror(s->fp))
                st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: write failed: %s", s->path, strerror(errno));
        }
        if (fclose(s->fp) != 0 && st == EO_OK)
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: write failed: %s", s->path, strerror(errno));
    }
    if (s->tmp)
        st = eoi_tmp_commit(ctx, s->tmp, s->path, st); /* a GeoPackage's journal goes too */
    sink_free(s);
    return st;
}

eo_status eo_features_write(eo_ctx *ctx, const eo_features *f, const char *path,
                            const eo_vector_write_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, f && path && path[0]);
    eo_features_writer *s = NULL;
    EOI_TRY_RET(writer_open(ctx, &s, path, opts, f, false));
    return writer_close(ctx, s, writer_put(ctx, s, f));
}

eo_status eo_features_writer_open(eo_ctx *ctx, eo_features_writer **out, const char *path,
                                  const eo_vector_write_opts *opts, const eo_features *like) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path && path[0] && like);
    return writer_open(ctx, out, path, opts, like, true);
}

eo_status eo_features_writer_put(eo_ctx *ctx, eo_features_writer *w, const eo_features *batch) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, w && batch);
    if (memcmp(batch->gt, w->gt, sizeof w->gt) != 0 || strcmp(batch->wkt, w->wkt) != 0)
        return eoi_fail(ctx, EO_E_ARG,
                        "%s: a batch on another grid or CRS than the writer's first collection",
                        w->path);
    return writer_put(ctx, w, batch);
}

eo_status eo_features_writer_finish(eo_ctx *ctx, eo_features_writer *w) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, w);
    return writer_close(ctx, w, EO_OK);
}

void eo_features_writer_free(eo_features_writer *w) {
    if (w)
        (void)writer_close(w->ctx, w, EO_E_CANCELLED);
}

eo_status eo_features_to_geojson(eo_ctx *ctx, char **out, const eo_features *f,
                                 const eo_vector_write_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, f);
    char *mem = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&mem, &len);
    if (!fp)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory (GeoJSON text)");
    eo_features_writer *s = NULL;
    eo_status st = sink_new(ctx, &s, NULL, fp, opts, f, false);
    if (st == EO_OK) {
        geojson_begin(ctx, fp, f, opts && opts->native_crs);
        st = geojson_put(ctx, s, f);
    }
    fputs("\n]}\n", fp);
    bool bad = ferror(fp) != 0;
    fclose(fp);
    sink_free(s);
    if (st == EO_OK && bad)
        st = eoi_fail(ctx, EO_E_NOMEM, "out of memory (GeoJSON text)");
    if (st == EO_OK) {
        if ((*out = eoi_malloc(ctx, len + 1)) != NULL)
            memcpy(*out, mem, len + 1);
        else
            st = EO_E_NOMEM;
    }
    free(mem);
    return st;
}
