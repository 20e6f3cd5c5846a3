/* op_tiles.c - operation "tiles": a {z}/{x}/{y}.png pyramid of a raster
 * over a range of zooms, rendered on all the context's threads (each with
 * its own GDAL handles) and written tile by tile through temporary names. */
#include "../raster/raster_int.h"
#include "tiles_param.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pyramid {
    eo_ctx *parent;
    const char *dir, *format, *ext;
    bool tms, keep_empty;
    int32_t quality;
    eo_tile *tiles;
    int64_t ntiles;
    eo_ctx **ctx;                 /* one per worker */
    eoi_tile_renderer **renderer; /* one per worker */
    atomic_llong written, empty, done;
};

static eo_status write_tile(struct pyramid *p, int64_t i, int32_t w) {
    eo_ctx *ctx = p->ctx[w];
    eo_tile t = p->tiles[i];
    eo_raster *r = NULL;
    void *bytes = NULL;
    size_t size = 0;
    bool empty;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_tile_render(ctx, &r, &empty, p->renderer[w], t.z, t.x, t.y));
    if (empty && !p->keep_empty) {
        atomic_fetch_add(&p->empty, 1);
        goto done;
    }
    int32_t row = p->tms ? eo_tile_flip_y(t.z, t.y) : t.y;
    char path[4096];
    snprintf(path, sizeof path, "%s/%d/%d", p->dir, (int)t.z, (int)t.x);
    EOI_TRY(st, eoi_mkdirs(ctx, path));
    snprintf(path, sizeof path, "%s/%d/%d/%d.%s", p->dir, (int)t.z, (int)t.x, (int)row, p->ext);
    if (strcmp(p->format, "tif") == 0) {
        EOI_TRY(st, eo_raster_write(ctx, r, path, NULL));
    } else {
        EOI_TRY(st, eo_raster_encode(ctx, &bytes, &size, r, p->format, p->quality));
        EOI_TRY(st, eoi_write_file(ctx, path, bytes, size));
    }
    atomic_fetch_add(&p->written, 1);
done:
    eo_free(bytes);
    eo_raster_free(r);
    return st;
}

static eo_status tile_job(void *user, int64_t i, int32_t w) {
    struct pyramid *p = user;
    eo_status st = write_tile(p, i, w);
    long long done = atomic_fetch_add(&p->done, 1) + 1;
    /* progress and cancel through the caller's context, from its own thread */
    if (st == EO_OK && w == 0)
        st = eoi_progress(p->parent, (double)done / (double)p->ntiles, "tiles");
    return st;
}

/* "12-18", "14" or 14 */
static eo_status zoom_range(eo_ctx *ctx, json_object *params, int32_t *z0, int32_t *z1) {
    json_object *v = NULL;
    json_object_object_get_ex(params, "zoom", &v);
    if (json_object_is_type(v, json_type_int)) {
        *z0 = *z1 = json_object_get_int(v);
    } else {
        const char *s = json_object_get_string(v);
        int a, b, n = 0;
        if (sscanf(s, "%d-%d%n", &a, &b, &n) == 2 && s[n] == '\0') {
            *z0 = a;
            *z1 = b;
        } else if (sscanf(s, "%d%n", &a, &n) == 1 && s[n] == '\0') {
            *z0 = *z1 = a;
        } else {
            return eoi_fail(ctx, EO_E_PARAM,
                            "parameter 'zoom': expected a zoom (14) or a range (12-18), got '%s'",
                            s);
        }
    }
    if (*z0 < 0 || *z1 > EO_TILE_MAX_ZOOM || *z1 < *z0)
        return eoi_fail(ctx, EO_E_PARAM, "parameter 'zoom': %d-%d is not a range within 0-%d",
                        (int)*z0, (int)*z1, EO_TILE_MAX_ZOOM);
    return EO_OK;
}

/* Every tile of zooms z0..z1 that the raster's outline covers. */
static eo_status list_tiles(eo_ctx *ctx, struct pyramid *p, const eo_dataset *ds, int32_t z0,
                            int32_t z1) {
    eo_geom *outline = NULL;
    eo_tile *t = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_dataset_outline(ctx, &outline, ds));
    for (int32_t z = z0; z <= z1; z++) {
        int64_t n = 0;
        EOI_TRY(st, eo_tiles_cover(ctx, &t, &n, outline, z));
        eo_tile *all = eoi_realloc(ctx, p->tiles, (size_t)(p->ntiles + n + 1) * sizeof *all);
        if (!all) {
            st = EO_E_NOMEM;
            goto done;
        }
        p->tiles = all;
        memcpy(p->tiles + p->ntiles, t, (size_t)n * sizeof *t);
        p->ntiles += n;
        eo_free(t);
        t = NULL;
    }
done:
    eo_free(t);
    eo_geom_free(outline);
    return st;
}

static eo_status run_tiles(eo_ctx *ctx, json_object *params, json_object **result) {
    struct pyramid p = {.parent = ctx};
    atomic_init(&p.written, 0);
    atomic_init(&p.empty, 0);
    atomic_init(&p.done, 0);
    p.dir = eoi_param_str(params, "out", "");
    p.tms = strcmp(eoi_param_str(params, "scheme", "xyz"), "tms") == 0;
    p.keep_empty = eoi_param_bool(params, "keep_empty", false);
    p.quality = (int32_t)eoi_param_int(params, "quality", 0);
    int32_t z0 = 0, z1 = 0, nw = eoi_threads(ctx);
    eo_dataset *ds = NULL;
    eo_tile_opts *opts = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, zoom_range(ctx, params, &z0, &z1));
    EOI_TRY(st, eoi_tile_format(ctx, &p.format, params, NULL));
    p.ext = strcmp(p.format, "jpeg") == 0 ? "jpg" : p.format;
    EOI_TRY(st, eoi_tile_opts_from_params(ctx, &opts, params));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, list_tiles(ctx, &p, ds, z0, z1));
    EOI_TRY(st, eoi_mkdirs(ctx, p.dir));
    if (nw > p.ntiles)
        nw = p.ntiles > 0 ? (int32_t)p.ntiles : 1;
    p.ctx = eoi_calloc(ctx, (size_t)nw, sizeof *p.ctx);
    p.renderer = eoi_calloc(ctx, (size_t)nw, sizeof *p.renderer);
    if (!p.ctx || !p.renderer) {
        st = EO_E_NOMEM;
        goto done;
    }
    /* renderers are made here, on the caller's thread, from the dataset;
     * each worker then uses only its own */
    for (int32_t w = 0; w < nw; w++) {
        EOI_TRY(st, eoi_ctx_worker_new(ctx, &p.ctx[w]));
        EOI_TRY(st, eoi_tile_renderer_new(ctx, &p.renderer[w], ds, opts));
    }
    st = eoi_parallel_for(ctx, p.ntiles, tile_job, &p);
    if (st != EO_OK && st != EO_E_CANCELLED)
        for (int32_t w = 0; w < nw; w++)
            if (p.ctx[w]->status != EO_OK) {
                st = eoi_ctx_take_error(ctx, p.ctx[w]);
                break;
            }
    if (st != EO_OK)
        goto done;
    json_object *r = json_object_new_object();
    json_object_object_add(r, "out", json_object_new_string(p.dir));
    json_object_object_add(r, "min_zoom", json_object_new_int(z0));
    json_object_object_add(r, "max_zoom", json_object_new_int(z1));
    json_object_object_add(r, "scheme", json_object_new_string(p.tms ? "tms" : "xyz"));
    json_object_object_add(r, "format", json_object_new_string(p.format));
    json_object_object_add(r, "tiles_written", json_object_new_int64(atomic_load(&p.written)));
    json_object_object_add(r, "empty_skipped", json_object_new_int64(atomic_load(&p.empty)));
    *result = r;
done:
    for (int32_t w = 0; p.renderer && w < nw; w++)
        eoi_tile_renderer_free(p.renderer[w]);
    for (int32_t w = 0; p.ctx && w < nw; w++)
        eo_ctx_free(p.ctx[w]);
    eoi_free(p.renderer);
    eoi_free(p.ctx);
    eoi_free(p.tiles);
    eo_tile_opts_free(opts);
    eo_dataset_close(ds);
    return st;
}

static const eoi_param params[] = {
    {"src", "raster", .desc = "raster file (any format GDAL reads, any CRS)"},
    {"zoom", "string|integer", .desc = "a zoom (14) or a range of zooms (12-18)"},
    {"out", "string", .desc = "folder of the pyramid: OUT/{z}/{x}/{y}.png"},
    {"keep_empty", "boolean", "false", .desc = "also write tiles with no data (transparent)"},
    {0},
};

static const eoi_param result[] = {
    {"out", "string", .desc = "the pyramid's folder"},
    {"min_zoom", "integer", .desc = "first zoom written"},
    {"max_zoom", "integer", .desc = "last zoom written"},
    {"scheme", "string", .desc = "xyz or tms"},
    {"format", "string", .desc = "image format"},
    {"tiles_written", "integer", .desc = "tiles written"},
    {"empty_skipped", "integer", .desc = "tiles without data, not written"},
    {0},
};

const eoi_op eoi_op_tiles = {
    .name = "tiles",
    .cli = "tiles",
    .summary = "Write a {z}/{x}/{y} web-mercator tile pyramid of a raster on all threads",
    .params = params,
    .shared = {eoi_tile_params},
    .positional = "src",
    .required = "src,zoom,out",
    .result = result,
    .run = run_tiles,
};
