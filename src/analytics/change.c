/* change.c - change detection: an index (or expression) on a before and an
 * after dataset, the after resampled onto the before's grid when the grids
 * differ (a bilinear warped VRT in /vsimem/), change = after - before,
 * classes by a threshold, and the changed area in m² per class. Both output
 * rasters are COGs filled together in one pass (the COG writer pulls one
 * tile column of a row of tiles at a time from the window reader) and
 * appear only when both are complete. */
#include "analytics_int.h"

#include "../cog/cog_int.h"

#include "geom_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#define CLASS_NONE 0
#define CLASS_GAIN 1
#define CLASS_LOSS 2
#define CLASS_NODATA 255
#define MAX_WORKERS 64

typedef struct cacc {
    double w[3];   /* weight per class */
    double a[3];   /* area (m²) per class */
    double sum[3]; /* sum of w * change per class */
} cacc;

typedef struct cworker {
    cacc acc;
    float *scratch_b, *scratch_a, *vb, *va, *wts;
    uint8_t *cls;
    double *row;
    size_t cap;
} cworker;

typedef struct cjob {
    eoi_prog pb, pa;
    const eoi_coverage *cov; /* NULL: every pixel */
    int32_t mode;
    float threshold;
    double threshold_d;
    const double *row_area; /* m² of a pixel per row of the area, or NULL */
    eo_window area;
    eoi_reader *rd;
    cworker *w; /* MAX_WORKERS */
    int32_t nw;
} cjob;

static bool cgrow(cworker *z, size_t n, int64_t width) {
    if (n <= z->cap)
        return true;
    eoi_free(z->vb);
    eoi_free(z->va);
    eoi_free(z->wts);
    eoi_free(z->cls);
    eoi_free(z->row);
    z->vb = eoi_malloc(NULL, n * sizeof(float));
    z->va = eoi_malloc(NULL, n * sizeof(float));
    z->wts = eoi_malloc(NULL, n * sizeof(float));
    z->cls = eoi_malloc(NULL, n);
    z->row = eoi_malloc(NULL, ((size_t)width + 2) * sizeof(double));
    z->cap = z->vb && z->va && z->wts && z->cls && z->row ? n : 0;
    return z->cap != 0;
}

static float *scratch_for(const eoi_prog *p, float **slot) {
    if (!*slot && (*slot = eoi_malloc(NULL, eoi_prog_scratch_floats(p) * sizeof(float))))
        eoi_prog_scratch_init(p, *slot);
    return *slot;
}

/* Fill a window (pixels of the area) of both outputs: outs[0] the change
 * (float32), outs[1] the class (uint8). */
static eo_status change_fill(void *user, int32_t worker, const eo_window *ow,
                             const eoi_cog_out *outs, eoi_werr *err) {
    cjob *j = user;
    cworker *z = &j->w[worker];
    eo_window win = {j->area.x + ow->x, j->area.y + ow->y, ow->width, ow->height};
    size_t n = (size_t)win.width * (size_t)win.height;
    float *const *planes = NULL;
    eo_status st = eoi_reader_read(j->rd, worker, &win, &planes, err);
    if (st != EO_OK)
        return st;
    if (!cgrow(z, n, win.width) || !scratch_for(&j->pb, &z->scratch_b) ||
        !scratch_for(&j->pa, &z->scratch_a)) {
        return eoi_werr_set(err, EO_E_NOMEM, "out of memory (change detection of %zu pixels)", n);
    }
    eoi_prog_eval(&j->pb, (const float *const *)planes, n, z->vb, z->scratch_b);
    eoi_prog_eval(&j->pa, (const float *const *)planes + j->pb.ninputs, n, z->va, z->scratch_a);
    if (j->cov)
        eoi_coverage_compute(j->cov, &win, j->mode, z->wts, z->row);
    float t = j->threshold, nd = j->pb.nodata;
    for (int64_t y = 0; y < win.height; y++) {
        double pa = j->row_area ? j->row_area[win.y - j->area.y + y] : 0;
        float *ch = (float *)(outs[0].buf + (size_t)y * outs[0].line_bytes);
        uint8_t *cl = outs[1].buf + (size_t)y * outs[1].line_bytes;
        for (int64_t x = 0; x < win.width; x++) {
            size_t i = (size_t)y * (size_t)win.width + (size_t)x;
            float w = j->cov ? z->wts[i] : 1.0f;
            float d = z->va[i] - z->vb[i];
            /* the evaluations mark nodata with the output nodata value */
            if (!(w > 0) || z->va[i] == nd || z->vb[i] == nd || isnan(d)) {
                ch[x] = nd;
                cl[x] = CLASS_NODATA;
                continue;
            }
            int c = d > t ? CLASS_GAIN : d < -t ? CLASS_LOSS : CLASS_NONE;
            ch[x] = d;
            cl[x] = (uint8_t)c;
            z->acc.w[c] += w;
            z->acc.a[c] += w * pa;
            z->acc.sum[c] += (double)w * d;
        }
    }
    return EO_OK;
}

/* Whether two datasets share a grid (size, geotransform, CRS). */
static bool same_grid(eo_ctx *ctx, const eo_dataset *a, const eo_dataset *b) {
    if (a->width != b->width || a->height != b->height || a->has_gt != b->has_gt)
        return false;
    for (int i = 0; i < 6; i++)
        if (fabs(a->gt[i] - b->gt[i]) > 1e-9 * fmax(1, fabs(a->gt[i])))
            return false;
    if (strcmp(a->wkt, b->wkt) == 0)
        return true;
    OGRSpatialReferenceH sa = OSRNewSpatialReference(a->wkt), sb = OSRNewSpatialReference(b->wkt);
    bool same = sa && sb && OSRIsSame(sa, sb);
    OSRDestroySpatialReference(sa);
    OSRDestroySpatialReference(sb);
    (void)ctx;
    return same;
}

/* A bilinear warped VRT of after on before's grid, at vsi_path. */
static eo_status warp_after(eo_ctx *ctx, const eo_dataset *before, eo_dataset *after,
                            const char *vsi_path) {
    if (before->gt[2] != 0 || before->gt[4] != 0)
        return eoi_fail(ctx, EO_E_UNSUPPORTED,
                        "%s: the before raster has a rotated geotransform; resample the after "
                        "raster onto it first",
                        before->path);
    if (!before->wkt[0] || !after->wkt[0])
        return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                        "%s and %s have different grids and one has no CRS: cannot resample",
                        before->path, after->path);
    char te[4][32], ts[2][24];
    const double *g = before->gt;
    double x0 = g[0], x1 = g[0] + (double)before->width * g[1];
    double y0 = g[3] + (double)before->height * g[5], y1 = g[3];
    snprintf(te[0], sizeof te[0], "%.17g", fmin(x0, x1));
    snprintf(te[1], sizeof te[1], "%.17g", fmin(y0, y1));
    snprintf(te[2], sizeof te[2], "%.17g", fmax(x0, x1));
    snprintf(te[3], sizeof te[3], "%.17g", fmax(y0, y1));
    snprintf(ts[0], sizeof ts[0], "%lld", (long long)before->width);
    snprintf(ts[1], sizeof ts[1], "%lld", (long long)before->height);
    char *argv[] = {"-of", "VRT",     "-t_srs",     before->wkt, "-te", te[0], te[1],
                    te[2], te[3],     "-ts",        ts[0],       ts[1], "-r",  "bilinear",
                    "-ot", "Float32", "-dstnodata", "nan",       NULL};
    GDALWarpAppOptions *wo = GDALWarpAppOptionsNew(argv, NULL);
    if (!wo)
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot set up the resampling: %s",
                        eoi_gdal_msg(ctx, "GDAL error"));
    GDALDatasetH src = after->h;
    int usage = 0;
    GDALDatasetH out = GDALWarp(vsi_path, NULL, 1, &src, wo, &usage);
    GDALWarpAppOptionsFree(wo);
    if (!out)
        return eoi_fail(ctx, EO_E_SOURCE_MISMATCH, "%s: cannot resample onto the grid of %s: %s",
                        after->path, before->path, eoi_gdal_msg(ctx, "GDAL error"));
    GDALClose(out);
    return EO_OK;
}

/* Area in m² of a pixel, per row of area; NULL (no area) without a CRS. */
static eo_status pixel_areas(eo_ctx *ctx, double **out, const eo_dataset *ds,
                             const eo_window *area) {
    *out = NULL;
    if (!ds->wkt[0] || !ds->has_gt)
        return EO_OK;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(ds->wkt);
    if (!srs)
        return EO_OK;
    double *a = eoi_malloc(ctx, (size_t)area->height * sizeof *a);
    if (!a) {
        OSRDestroySpatialReference(srs);
        return EO_E_NOMEM;
    }
    const double *g = ds->gt;
    if (OSRIsGeographic(srs)) {
        for (int64_t r = 0; r < area->height; r++) {
            double col = (double)area->x, row = (double)(area->y + r);
            double lon[4], lat[4];
            for (int k = 0; k < 4; k++) {
                double c = col + (k == 1 || k == 2), rr = row + (k >= 2);
                lon[k] = g[0] + c * g[1] + rr * g[2];
                lat[k] = g[3] + c * g[4] + rr * g[5];
            }
            a[r] = fabs(eoi_geod_ring(lon, lat, 4, NULL));
        }
    } else {
        double unit = OSRGetLinearUnits(srs, NULL);
        double px = fabs(g[1] * g[5] - g[2] * g[4]) * unit * unit;
        for (int64_t r = 0; r < area->height; r++)
            a[r] = px;
    }
    OSRDestroySpatialReference(srs);
    *out = a;
    return EO_OK;
}

static json_object *class_json(const cacc *t, int c, double valid_w, double valid_a,
                               bool has_area) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "pixels", eoi_json_double(t->w[c]));
    json_object_object_add(o, "area_m2", has_area ? eoi_json_double(t->a[c]) : NULL);
    json_object_object_add(
        o, "percent",
        valid_w > 0 ? eoi_json_double(100.0 * (has_area ? t->a[c] / valid_a : t->w[c] / valid_w))
                    : NULL);
    json_object_object_add(o, "mean_change",
                           t->w[c] > 0 ? eoi_json_double(t->sum[c] / t->w[c]) : NULL);
    return o;
}

static json_object *change_json(const cjob *j, const char *expr, const char *pc, const char *pk,
                                bool resampled) {
    cacc s;
    memset(&s, 0, sizeof s);
    for (int32_t k = 0; j->w && k < j->nw; k++)
        for (int c = 0; c < 3; c++) {
            s.w[c] += j->w[k].acc.w[c];
            s.a[c] += j->w[k].acc.a[c];
            s.sum[c] += j->w[k].acc.sum[c];
        }
    bool has_area = j->row_area != NULL;
    double vw = s.w[0] + s.w[1] + s.w[2], va = s.a[0] + s.a[1] + s.a[2];
    json_object *r = json_object_new_object(), *cl = json_object_new_object();
    json_object_object_add(r, "expr", json_object_new_string(expr));
    json_object_object_add(r, "threshold", eoi_json_double(j->threshold_d));
    json_object_object_add(r, "resampled", json_object_new_boolean(resampled));
    json_object_object_add(r, "valid_pixels", eoi_json_double(vw));
    json_object_object_add(r, "valid_area_m2", has_area ? eoi_json_double(va) : NULL);
    json_object_object_add(r, "mean_change",
                           vw > 0 ? eoi_json_double((s.sum[0] + s.sum[1] + s.sum[2]) / vw) : NULL);
    cacc ch = {{0, s.w[1] + s.w[2], 0}, {0, s.a[1] + s.a[2], 0}, {0, s.sum[1] + s.sum[2], 0}};
    json_object *changed = class_json(&ch, 1, vw, va, has_area);
    json_object_object_add(r, "changed", changed);
    json_object_object_add(cl, "no_change", class_json(&s, CLASS_NONE, vw, va, has_area));
    json_object_object_add(cl, "gain", class_json(&s, CLASS_GAIN, vw, va, has_area));
    json_object_object_add(cl, "loss", class_json(&s, CLASS_LOSS, vw, va, has_area));
    json_object_object_add(r, "classes", cl);
    json_object *outs = json_object_new_object();
    json_object_object_add(outs, "change", json_object_new_string(pc));
    json_object_object_add(outs, "class", json_object_new_string(pk));
    json_object_object_add(r, "outputs", outs);
    return r;
}

static eo_status make_dir(eo_ctx *ctx, const char *dir, bool *created) {
    struct stat sb;
    *created = false;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode)
                   ? EO_OK
                   : eoi_fail(ctx, EO_E_IO_WRITE, "%s: exists and is not a folder", dir);
    if (mkdir(dir, 0777) != 0)
        return eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create the folder: %s", dir,
                        strerror(errno));
    *created = true;
    return EO_OK;
}

static void free_workers(cjob *j, int32_t nw) {
    for (int32_t k = 0; j->w && k < nw; k++) {
        cworker *z = &j->w[k];
        eoi_free(z->scratch_a);
        eoi_free(z->scratch_b);
        eoi_free(z->vb);
        eoi_free(z->va);
        eoi_free(z->wts);
        eoi_free(z->cls);
        eoi_free(z->row);
    }
    eoi_free(j->w);
    j->w = NULL;
}

/* The class raster's colour table: grey no change, green gain, red loss,
 * transparent nodata. */
static GDALColorTableH class_colors(void) {
    GDALColorTableH t = GDALCreateColorTable(GPI_RGB);
    static const GDALColorEntry e[] = {
        {200, 200, 200, 255}, {26, 150, 65, 255}, {215, 25, 28, 255}};
    for (int i = 0; t && i < 3; i++)
        GDALSetColorEntry(t, i, &e[i]);
    GDALColorEntry none = {0, 0, 0, 0};
    if (t)
        GDALSetColorEntry(t, CLASS_NODATA, &none);
    return t;
}

/* change.tif and class.tif in one pass over the sources. */
static eo_status write_outputs(eo_ctx *ctx, cjob *j, const eo_dataset *before, const double gt[6],
                               const char *pc, const char *pk, const eo_analytics_opts *opts) {
    static const char *const names[] = {"CLASS_0=no_change", "CLASS_1=gain", "CLASS_2=loss", NULL};
    char *desc_change[1] = {"change"}, *desc_class[1] = {"class"};
    eoi_cog_pull dc = {.width = j->area.width,
                       .height = j->area.height,
                       .bands = 1,
                       .dtype = EO_DT_F32,
                       .has_gt = before->has_gt,
                       .wkt = before->wkt,
                       .nodata = j->pb.nodata,
                       .has_nodata = 1,
                       .descriptions = desc_change};
    memcpy(dc.gt, gt, sizeof dc.gt);
    eoi_cog_pull dk = dc;
    dk.dtype = EO_DT_U8;
    dk.nodata = CLASS_NODATA;
    dk.descriptions = desc_class;
    dk.categorical = true;
    dk.band_items = names;
    eoi_gdal_begin(ctx);
    dk.color_table = class_colors();
    eoi_gdal_end(ctx);
    if (!dk.color_table)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory (a colour table)");
    eo_cog_opts cbuf, kbuf;
    const eo_cog_opts *co = eoi_analytics_cog_opts(opts, &cbuf);
    const eo_cog_opts *ko = eoi_cog_class_opts(co, &kbuf);
    const char *paths[2] = {pc, pk};
    const eoi_cog_pull *descs[2] = {&dc, &dk};
    const eo_cog_opts *os[2] = {co, ko};
    eo_status st = eoi_cog_write_many(ctx, 2, paths, descs, os, change_fill, j, "change");
    GDALDestroyColorTable(dk.color_table);
    return st;
}

eo_status eo_change_detect(eo_ctx *ctx, char **out_json, eo_dataset *before, eo_dataset *after,
                           const eo_expr *e, const char *out_dir, const eo_analytics_opts *opts) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, before && before->h && after && after->h && e && out_dir && *out_dir);
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    cjob j = {.threshold = (float)(opts ? opts->threshold : 0.2),
              .threshold_d = opts ? opts->threshold : 0.2,
              .mode = opts ? opts->coverage : EO_COVERAGE_CENTER};
    eo_geom *aoi = NULL;
    eoi_coverage *cov = NULL;
    double *row_area = NULL;
    char vsi[96] = "", *pc = NULL, *pk = NULL;
    json_object *r = NULL;
    int32_t nw = 0;
    bool resampled = false, created = false;
    EOI_TRY(st, eoi_prog_bind(ctx, &j.pb, e, before, opts));
    EOI_TRY(st, eoi_prog_bind(ctx, &j.pa, e, after, opts));
    j.area = (eo_window){0, 0, before->width, before->height};
    if (opts && opts->aoi) {
        EOI_TRY(st, eoi_aoi_to_raster_crs(ctx, &aoi, opts->aoi, before));
        EOI_TRY(st, eoi_coverage_new(ctx, &cov, aoi, before->gt));
        if (!eoi_coverage_window(cov, before->width, before->height, &j.area)) {
            st = eoi_fail(ctx, EO_E_NODATA_IN_AOI, "%s: the AOI does not overlap the raster",
                          before->path);
            goto done;
        }
        j.cov = cov;
    }
    EOI_TRY(st, make_dir(ctx, out_dir, &created));
    size_t n = strlen(out_dir) + 16;
    if (!(pc = eoi_malloc(ctx, n)) || !(pk = eoi_malloc(ctx, n))) {
        st = EO_E_NOMEM;
        goto done;
    }
    snprintf(pc, n, "%s/change.tif", out_dir);
    snprintf(pk, n, "%s/class.tif", out_dir);
    const char *after_path = after->path;
    if (!same_grid(ctx, before, after)) {
        eoi_vsimem_name(vsi, sizeof vsi, "change", ".vrt");
        eoi_gdal_begin(ctx);
        st = warp_after(ctx, before, after, vsi);
        eoi_gdal_end(ctx);
        if (st != EO_OK)
            goto done;
        after_path = vsi;
        resampled = true;
    }
    EOI_TRY(st, pixel_areas(ctx, &row_area, before, &j.area));
    j.row_area = row_area;
    double gt[6];
    const double *g = before->gt;
    gt[0] = g[0] + (double)j.area.x * g[1] + (double)j.area.y * g[2];
    gt[1] = g[1];
    gt[2] = g[2];
    gt[3] = g[3] + (double)j.area.x * g[4] + (double)j.area.y * g[5];
    gt[4] = g[4];
    gt[5] = g[5];
    eoi_source src[2] = {
        {.path = before->source,
         .nbands = j.pb.ninputs,
         .bands = j.pb.bands,
         .scale = j.pb.scale,
         .offset = j.pb.offset},
        {.path = after_path,
         .nbands = j.pa.ninputs,
         .bands = j.pa.bands,
         .scale = j.pa.scale,
         .offset = j.pa.offset},
    };
    EOI_TRY(st, eoi_reader_new(ctx, &j.rd, src, 2, &j.area));
    nw = MAX_WORKERS;
    if (!(j.w = eoi_calloc(ctx, (size_t)nw, sizeof *j.w))) {
        st = EO_E_NOMEM;
        goto done;
    }
    j.nw = nw;
    EOI_TRY(st, write_outputs(ctx, &j, before, gt, pc, pk, opts));
    r = change_json(&j, e->text, pc, pk, resampled);
    st = eoi_json_dump(ctx, out_json, r, false);
    if (st != EO_OK) {
        const char *made[2] = {pc, pk};
        eoi_out_discard(made, 2);
    }
done:
    eoi_reader_free(j.rd);
    json_object_put(r);
    free_workers(&j, nw);
    if (vsi[0])
        VSIUnlink(vsi);
    if (st != EO_OK && created)
        rmdir(out_dir); /* a folder made for this call leaves with it (empty by now) */
    eoi_free(row_area);
    eoi_free(pc);
    eoi_free(pk);
    eoi_coverage_free(cov);
    eo_geom_free(aoi);
    eoi_prog_clear(&j.pb);
    eoi_prog_clear(&j.pa);
    return st;
}
