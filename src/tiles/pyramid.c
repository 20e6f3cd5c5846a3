/* pyramid.c - eo_tiles_write: a {z}/{x}/{y} pyramid of a raster over a
 * range of zooms, rendered on all the context's threads (each with its own
 * context and GDAL handles) and written tile by tile through temporary
 * names. */
#include "tiles_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

struct eo_pyramid_opts {
    char format[8]; /* png, jpeg, webp, tif */
    int32_t quality;
    int32_t png_level; /* 0: EOI_PNG_LEVEL_DEFAULT */
    bool tms, keep_empty;
};

eo_status eo_pyramid_opts_new(eo_ctx *ctx, eo_pyramid_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = eoi_calloc(ctx, 1, sizeof **out);
    if (!*out)
        return EO_E_NOMEM;
    strcpy((*out)->format, "png");
    return EO_OK;
}

void eo_pyramid_opts_free(eo_pyramid_opts *o) { eoi_free(o); }

eo_status eo_pyramid_opts_set_png_level(eo_ctx *ctx, eo_pyramid_opts *o, int32_t level) {
    EOI_CHECK_ARG(ctx, o);
    if (level < 0 || level > 12)
        return eoi_fail(ctx, EO_E_ARG, "png_level %d: 1..12 (0: default %d)", (int)level,
                        EOI_PNG_LEVEL_DEFAULT);
    o->png_level = level;
    return EO_OK;
}

eo_status eo_pyramid_opts_set_format(eo_ctx *ctx, eo_pyramid_opts *o, const char *format,
                                     int32_t quality) {
    EOI_CHECK_ARG(ctx, o && format);
    static const char *const known[] = {"png", "jpeg", "webp", "tif"};
    size_t i = 0;
    while (i < 4 && strcmp(format, known[i]) != 0)
        i++;
    if (i == 4)
        return eoi_fail(ctx, EO_E_ARG, "tile format '%.40s': png, jpeg, webp or tif", format);
    if (quality < 0 || quality > 100)
        return eoi_fail(ctx, EO_E_ARG, "tile quality %d: 1..100 (0: default)", (int)quality);
    snprintf(o->format, sizeof o->format, "%s", known[i]);
    o->quality = quality;
    return EO_OK;
}

eo_status eo_pyramid_opts_set_tms(eo_ctx *ctx, eo_pyramid_opts *o, int32_t tms) {
    EOI_CHECK_ARG(ctx, o);
    o->tms = tms != 0;
    return EO_OK;
}

eo_status eo_pyramid_opts_set_keep_empty(eo_ctx *ctx, eo_pyramid_opts *o, int32_t keep_empty) {
    EOI_CHECK_ARG(ctx, o);
    o->keep_empty = keep_empty != 0;
    return EO_OK;
}

struct pyramid {
    eo_ctx *parent;
    const char *dir, *ext;
    eo_pyramid_opts o;
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
    if (empty && !p->o.keep_empty) {
        atomic_fetch_add(&p->empty, 1);
        goto done;
    }
    int32_t row = p->o.tms ? eo_tile_flip_y(t.z, t.y) : t.y;
    char path[4096];
    snprintf(path, sizeof path, "%s/%d/%d", p->dir, (int)t.z, (int)t.x);
    EOI_TRY(st, eoi_mkdirs(ctx, path));
    snprintf(path, sizeof path, "%s/%d/%d/%d.%s", p->dir, (int)t.z, (int)t.x, (int)row, p->ext);
    if (strcmp(p->o.format, "tif") == 0) {
        EOI_TRY(st, eo_raster_write(ctx, r, path, NULL));
    } else {
        EOI_TRY(st, eoi_raster_encode(ctx, &bytes, &size, r, p->o.format, p->o.quality,
                                      p->o.png_level));
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

static eo_status summary(eo_ctx *ctx, char **out, const struct pyramid *p, int32_t z0, int32_t z1) {
    json_object *r = json_object_new_object();
    json_object_object_add(r, "out", json_object_new_string(p->dir));
    json_object_object_add(r, "min_zoom", json_object_new_int(z0));
    json_object_object_add(r, "max_zoom", json_object_new_int(z1));
    json_object_object_add(r, "scheme", json_object_new_string(p->o.tms ? "tms" : "xyz"));
    json_object_object_add(r, "format", json_object_new_string(p->o.format));
    json_object_object_add(r, "tiles_written", json_object_new_int64(atomic_load(&p->written)));
    json_object_object_add(r, "empty_skipped", json_object_new_int64(atomic_load(&p->empty)));
    eo_status st = eoi_json_dump(ctx, out, r, false);
    json_object_put(r);
    return st;
}

eo_status eo_tiles_write(eo_ctx *ctx, char **out_json, eo_dataset *ds, const char *dir,
                         int32_t min_zoom, int32_t max_zoom, const eo_tile_opts *tile_opts,
                         const eo_pyramid_opts *opts) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, ds && dir && *dir);
    if (min_zoom < 0 || max_zoom > EO_TILE_MAX_ZOOM || max_zoom < min_zoom)
        return eoi_fail(ctx, EO_E_ARG, "zooms %d-%d: not a range within 0-%d", (int)min_zoom,
                        (int)max_zoom, EO_TILE_MAX_ZOOM);
    struct pyramid p = {.parent = ctx, .dir = dir};
    if (opts)
        p.o = *opts;
    else
        strcpy(p.o.format, "png");
    p.ext = strcmp(p.o.format, "jpeg") == 0 ? "jpg" : p.o.format;
    atomic_init(&p.written, 0);
    atomic_init(&p.empty, 0);
    atomic_init(&p.done, 0);
    int32_t nw = eoi_threads(ctx);
    eo_status st = EO_OK;
    EOI_TRY(st, list_tiles(ctx, &p, ds, min_zoom, max_zoom));
    EOI_TRY(st, eoi_mkdirs(ctx, dir));
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
        EOI_TRY(st, eoi_tile_renderer_new(ctx, &p.renderer[w], ds, tile_opts));
    }
    st = eoi_ctx_take_first(ctx, eoi_parallel_for(ctx, p.ntiles, tile_job, &p), p.ctx, nw);
    if (st == EO_OK)
        st = summary(ctx, out_json, &p, min_zoom, max_zoom);
done:
    for (int32_t w = 0; p.renderer && w < nw; w++)
        eoi_tile_renderer_free(p.renderer[w]);
    for (int32_t w = 0; p.ctx && w < nw; w++)
        eo_ctx_free(p.ctx[w]);
    eoi_free(p.renderer);
    eoi_free(p.ctx);
    eoi_free(p.tiles);
    return st;
}
