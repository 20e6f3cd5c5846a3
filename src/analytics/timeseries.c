/* timeseries.c - an index per date over a list of rasters: its value at a
 * point (EPSG:4326), or its zonal statistics over an AOI; sorted by date. */
#include "analytics_int.h"

#include "geom_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ISO 8601 date, optionally followed by a time ("2024-06-01",
 * "2024-06-01T10:20:30Z"). */
static bool valid_date(const char *s) {
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    int y = atoi(s);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return s[10] == '\0' || s[10] == 'T' || s[10] == ' ';
}

typedef struct titem {
    const char *path, *date;
    int32_t idx;
} titem;

static int cmp_item(const void *a, const void *b) {
    const titem *x = a, *y = b;
    int c = strcmp(x->date, y->date);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

typedef struct pjob {
    const eoi_prog *prog;
    float value;
} pjob;

static eo_status point_cb(void *user, int32_t worker, const eo_window *win, float *const *planes,
                          eoi_werr *err) {
    pjob *j = user;
    (void)worker;
    (void)win;
    float *scratch = eoi_malloc(NULL, eoi_prog_scratch_floats(j->prog) * sizeof(float));
    if (!scratch) {
        return eoi_werr_set(err, EO_E_NOMEM, "out of memory");
    }
    eoi_prog_scratch_init(j->prog, scratch);
    eoi_prog_eval(j->prog, (const float *const *)planes, 1, &j->value, scratch);
    eoi_free(scratch);
    return EO_OK;
}

/* The value at a point, or NULL (JSON null) outside the raster or nodata. */
static eo_status point_value(eo_ctx *ctx, json_object **out, eo_dataset *ds, eoi_prog *prog,
                             const eo_analytics_opts *o, json_object *item) {
    *out = NULL;
    double x = o->lon, y = o->lat;
    if (ds->wkt[0]) {
        PJ *pj = NULL;
        eo_status st = eoi_crs_transformer(ctx, &pj, "EPSG:4326", ds->wkt);
        if (st != EO_OK)
            return st;
        PJ_COORD c = proj_trans(pj, PJ_FWD, proj_coord(x, y, 0, 0));
        proj_destroy(pj);
        if (!isfinite(c.xy.x) || !isfinite(c.xy.y))
            return EO_OK;
        x = c.xy.x;
        y = c.xy.y;
    }
    const double *g = ds->gt;
    double det = g[1] * g[5] - g[2] * g[4];
    double col = (g[5] * (x - g[0]) - g[2] * (y - g[3])) / det;
    double row = (g[1] * (y - g[3]) - g[4] * (x - g[0])) / det;
    json_object_object_add(item, "pixel", NULL);
    if (!(col >= 0 && row >= 0 && col < (double)ds->width && row < (double)ds->height))
        return EO_OK;
    eo_window win = {(int64_t)col, (int64_t)row, 1, 1};
    json_object *px = json_object_new_array();
    json_object_array_add(px, json_object_new_int64(win.x));
    json_object_array_add(px, json_object_new_int64(win.y));
    json_object_object_add(item, "pixel", px);
    pjob j = {.prog = prog, .value = NAN};
    prog->nodata = NAN;
    eoi_source src = {.path = ds->source,
                      .nbands = prog->ninputs,
                      .bands = prog->bands,
                      .scale = prog->scale,
                      .offset = prog->offset};
    eo_status st = eoi_strips_run(ctx, &src, 1, &win, 1, point_cb, &j, "series");
    if (st == EO_OK && !isnan(j.value))
        *out = eoi_json_double(j.value);
    return st;
}

static eo_status one_date(eo_ctx *ctx, json_object *item, const titem *it, const eo_expr *e,
                          const eo_analytics_opts *o) {
    eo_dataset *ds = NULL;
    eo_geom *g = NULL;
    eoi_prog prog = {0};
    json_object *v = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_dataset_open(ctx, &ds, it->path));
    if (!ds->has_gt) {
        st = eoi_fail(ctx, EO_E_SOURCE, "%s%s: the raster has no geotransform", ds->path,
                      ds->kind_note);
        goto done;
    }
    EOI_TRY(st, eoi_prog_bind(ctx, &prog, e, ds, o));
    if (o->aoi) {
        EOI_TRY(st, eoi_aoi_to_raster_crs(ctx, &g, o->aoi, ds));
        EOI_TRY(st, eoi_zonal_run(ctx, &v, ds, &prog, g, o));
        json_object_object_add(item, "stats", v);
    } else {
        EOI_TRY(st, point_value(ctx, &v, ds, &prog, o, item));
        json_object_object_add(item, "value", v);
    }
done:
    eoi_prog_clear(&prog);
    eo_geom_free(g);
    eo_dataset_close(ds);
    return st;
}

eo_status eo_time_series(eo_ctx *ctx, char **out_json, const char *const *paths,
                         const char *const *dates, int32_t count, const eo_expr *e,
                         const eo_analytics_opts *o) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, paths && dates && count >= 1 && e && o);
    if (!o->aoi && !o->has_point)
        return eoi_fail(ctx, EO_E_ARG, "time series: give a point or an AOI");
    if (o->aoi && o->has_point)
        return eoi_fail(ctx, EO_E_ARG, "time series: give a point or an AOI, not both");
    for (int32_t i = 0; i < count; i++) {
        if (!paths[i] || !dates[i])
            return eoi_fail(ctx, EO_E_ARG, "time series: item %d has no path or date", (int)i);
        if (!valid_date(dates[i]))
            return eoi_fail(ctx, EO_E_ARG,
                            "time series: item %d (%.200s): date '%.40s' is not an ISO date "
                            "YYYY-MM-DD",
                            (int)i, paths[i], dates[i]);
    }
    titem *items = eoi_calloc(ctx, (size_t)count, sizeof *items);
    if (!items)
        return EO_E_NOMEM;
    for (int32_t i = 0; i < count; i++)
        items[i] = (titem){paths[i], dates[i], i};
    qsort(items, (size_t)count, sizeof *items, cmp_item);
    json_object *r = json_object_new_object(), *series = json_object_new_array();
    json_object_object_add(r, "expr", json_object_new_string(e->text));
    if (e->index)
        json_object_object_add(r, "index", json_object_new_string(e->index->name));
    json_object_object_add(r, "series", series);
    eo_status st = EO_OK;
    for (int32_t i = 0; i < count && st == EO_OK; i++) {
        json_object *item = json_object_new_object();
        json_object_object_add(item, "date", json_object_new_string(items[i].date));
        json_object_object_add(item, "path", json_object_new_string(items[i].path));
        json_object_array_add(series, item);
        st = one_date(ctx, item, &items[i], e, o);
    }
    if (st == EO_OK)
        st = eoi_json_dump(ctx, out_json, r, false);
    json_object_put(r);
    eoi_free(items);
    return st;
}
