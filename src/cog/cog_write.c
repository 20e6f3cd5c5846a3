/* cog_write.c - the streaming COG pipeline and eo_cog_write*.
 *
 * One pass over the source, a row of tiles (a strip) at a time:
 *   read the strip -> compress its tiles on the worker threads (statistics
 *   on the way) -> append them to the level's spool file -> make the rows of
 *   the next overview level from it (which compresses its own strips when
 *   they fill, and so on down the pyramid).
 * Each level keeps one strip plus a few rows of the previous one, so memory
 * is bounded by the width, the tile size and the threads. The spools are
 * unlinked temporary files beside the target. At the end the IFDs are laid
 * out (their sizes are known, and now all tile sizes too: BigTIFF is chosen
 * on the exact file size), written to the temporary output, followed by the
 * spools from the smallest overview to the full resolution; then the
 * temporary is renamed into place. The full resolution, most of the bytes,
 * is not copied where it can be helped: with one level its tiles go in
 * place after room left for the IFDs; with overviews, on a file system that
 * can insert a range at the start of a file (ext4, XFS), they go in the
 * output from its first byte, and the header, IFDs and overviews are
 * inserted before them at the end. Tiles carry GDAL's leader (size) and
 * trailer (last 4 bytes), announced in the GDAL_STRUCTURAL_METADATA ghost
 * area, as GDAL's COG driver writes them. */
#include "cog_write_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_string.h>

/* ---- the writer -------------------------------------------------------- */

static uint8_t *rowptr(const struct writer *w, const struct level *L, int32_t b, int64_t row) {
    size_t cap = (size_t)w->bs + TAIL;
    return L->buf + ((size_t)b * cap + (size_t)(row - (L->strip_y0 - TAIL))) * L->row_bytes;
}

/* read the mask of the window [x0, x0 + tw) x [y0, y0 + n) of level 0 from
 * handle h into the mask plane; false on a read error (message in CPL) */
static bool read_mask(const struct writer *w, GDALDatasetH h, int64_t x0, int64_t y0, int64_t tw,
                      int64_t n) {
    struct level *L = (struct level *)&w->lv[0];
    GDALRasterBandH m = GDALGetMaskBand(GDALGetRasterBand(h, 1));
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    return m && GDALRasterIOEx(m, GF_Read, (int)x0, (int)y0, (int)tw, (int)n,
                               rowptr(w, L, w->mplane, y0) + (size_t)x0 * w->es, (int)tw, (int)n,
                               eoi_dtype_to_gdal(w->dt), (GSpacing)w->es, (GSpacing)L->row_bytes,
                               &extra) == CE_None;
}

/* compress n bytes of src with codec c (through buf, of capacity cap) into
 * slot s, growing it as needed */
static eo_status compress_into(eoi_cog_codec *c, uint8_t *buf, size_t cap, const void *src,
                               size_t n, struct slot *s) {
    size_t len = eoi_cog_compress(c, buf, cap, src, n);
    if (len == 0)
        return EO_E_INTERNAL;
    if (s->cap < len) {
        uint8_t *q = eoi_realloc(NULL, s->data, len);
        if (!q)
            return EO_E_NOMEM;
        s->data = q;
        s->cap = len;
    }
    memcpy(s->data, buf, len);
    s->len = len;
    return EO_OK;
}

/* the 1-bit mask tile t of the current strip of level L (rows MSB first,
 * padded with invalid pixels), compressed into the mask slot t */
static eo_status mask_tile(struct writer *w, struct level *L, int64_t t, int32_t worker) {
    int64_t x0 = t * w->bs, tw = L->w - x0 < w->bs ? L->w - x0 : w->bs;
    uint8_t *bits = w->mtile[worker];
    size_t stride = (size_t)w->bs / 8;
    memset(bits, 0, w->mtile_bytes);
    for (int64_t y = 0; y < L->rows; y++) {
        const uint8_t *row = rowptr(w, L, w->mplane, L->strip_y0 + y) + (size_t)x0 * w->es;
        uint8_t *o = bits + (size_t)y * stride;
        for (int64_t x = 0; x < tw; x++) {
            bool valid = false;
            for (size_t k = 0; k < w->es && !valid; k++)
                valid = row[(size_t)x * w->es + k] != 0;
            if (valid)
                o[x >> 3] |= (uint8_t)(0x80u >> (x & 7));
        }
    }
    return compress_into(w->mcodec[worker], w->mcbuf[worker], w->mbound, bits, w->mtile_bytes,
                         &w->mslots[t]);
}

/* one tile of the current strip: gather, statistics, predictor, compress */
/* A worker's read error: the first failure, or the source's own (a tile
 * source raises it under EOI_CPLE_STICKY, naming the tile) over GDAL's
 * follow-up "IReadBlock failed". */
struct read_err {
    char *buf;
    size_t cap;
    bool sticky;
};

static void CPL_STDCALL keep_read_error(CPLErr cls, CPLErrorNum num, const char *msg) {
    struct read_err *r = CPLGetErrorHandlerUserData();
    if (!r || cls < CE_Failure || r->sticky || (num != EOI_CPLE_STICKY && r->buf[0]))
        return;
    snprintf(r->buf, r->cap, "%s", msg ? msg : "");
    r->sticky = num == EOI_CPLE_STICKY;
}

/* read the columns [x0, x0 + tw) of the current strip of level 0, bands
 * [b0, b0 + nb), on a worker's own handle of the source */
static eo_status read_tile_window(struct writer *w, int32_t worker, int64_t x0, int64_t tw,
                                  int32_t b0, int32_t nb) {
    struct level *L = &w->lv[0];
    int bands[4096];
    for (int32_t b = 0; b < nb; b++)
        bands[b] = b0 + b + 1;
    size_t cap = (size_t)w->bs + TAIL;
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    char msg[sizeof w->rerr[worker].msg] = "";
    struct read_err re = {msg, sizeof msg, false};
    CPLPushErrorHandlerEx(keep_read_error, &re);
    CPLErrorReset();
    CPLErr e = GDALDatasetRasterIOEx(
        w->rh[worker], GF_Read, (int)x0, (int)L->strip_y0, (int)tw, (int)L->rows,
        rowptr(w, L, b0, L->strip_y0) + (size_t)x0 * w->es, (int)tw, (int)L->rows,
        eoi_dtype_to_gdal(w->dt), nb, bands, (GSpacing)w->es, (GSpacing)L->row_bytes,
        (GSpacing)(cap * L->row_bytes), &extra);
    if (e == CE_None && w->has_mask && b0 == 0 &&
        !read_mask(w, w->rh[worker], x0, L->strip_y0, tw, L->rows))
        e = CE_Failure;
    if (e != CE_None)
        eoi_werr_set(&w->rerr[worker], EO_E_IO_READ, "cannot read rows %lld..%lld: %s",
                     (long long)L->strip_y0, (long long)(L->strip_y0 + L->rows - 1),
                     msg[0] ? msg : "read error");
    CPLPopErrorHandler();
    return e == CE_None ? EO_OK : EO_E_IO_READ;
}

static eo_status tile_job(void *user, int64_t i, int32_t worker) {
    struct writer *w = user;
    struct level *L = w->cur;
    int64_t t = i / w->planes;
    int32_t p = (int32_t)(i % w->planes);
    int64_t x0 = t * w->bs, tw = L->w - x0 < w->bs ? L->w - x0 : w->bs, th = L->rows;
    uint8_t *tile = w->tile[worker];
    size_t es = w->es;
    if (w->par_read && w->cur_k == 0) {
        eo_status st = read_tile_window(w, worker, x0, tw, w->interleaved ? 0 : p,
                                        w->interleaved ? w->bands : 1);
        if (st != EO_OK)
            return st;
    }
    if (tw < w->bs || th < w->bs)
        memset(tile, 0, w->tile_bytes);
    if (w->interleaved && w->bands == 3) { /* RGB: one pass per row */
        for (int64_t y = 0; y < th; y++) {
            uint8_t *restrict o = tile + (size_t)y * (size_t)w->bs * 3;
            const uint8_t *restrict r = rowptr(w, L, 0, L->strip_y0 + y) + x0;
            const uint8_t *restrict g = rowptr(w, L, 1, L->strip_y0 + y) + x0;
            const uint8_t *restrict b = rowptr(w, L, 2, L->strip_y0 + y) + x0;
            for (int64_t x = 0; x < tw; x++) {
                o[3 * x] = r[x];
                o[3 * x + 1] = g[x];
                o[3 * x + 2] = b[x];
            }
        }
    } else if (w->interleaved) { /* 8-bit samples */
        int32_t n = w->bands;
        for (int64_t y = 0; y < th; y++) {
            uint8_t *o = tile + (size_t)y * (size_t)w->bs * (size_t)n;
            for (int32_t b = 0; b < n; b++) {
                const uint8_t *s = rowptr(w, L, b, L->strip_y0 + y) + x0;
                for (int64_t x = 0; x < tw; x++)
                    o[(size_t)x * (size_t)n + (size_t)b] = s[x];
            }
        }
    } else {
        for (int64_t y = 0; y < th; y++)
            memcpy(tile + (size_t)y * (size_t)w->bs * es,
                   rowptr(w, L, p, L->strip_y0 + y) + x0 * es, (size_t)tw * es);
    }
    if (w->do_stats && w->cur_k == 0) {
        int32_t b0 = w->interleaved ? 0 : p, b1 = w->interleaved ? w->bands : p + 1;
        for (int32_t b = b0; b < b1; b++)
            eoi_cog_stat_block(&w->tstats[t * w->bands + b], rowptr(w, L, b, L->strip_y0) + x0 * es,
                               L->w, tw, th, w->dt, w->has_nodata, w->nodata);
    }
    eoi_cog_predict(tile, w->predictor, w->bs, w->bs, w->tspp, es, w->scratch[worker]);
    eo_status st = compress_into(w->codec[worker], w->cbuf[worker], w->cbound, tile, w->tile_bytes,
                                 &w->slots[i]);
    if (st != EO_OK)
        return st;
    if (w->has_mask && p == 0)
        return mask_tile(w, L, t, worker);
    return EO_OK;
}

/* one row of the next level (w->cur is that level) */
static eo_status resample_job(void *user, int64_t i, int32_t worker) {
    (void)worker;
    struct writer *w = user;
    struct level *C = w->cur, *P = C - 1;
    int64_t j = w->job_j0 + i;
    const eoi_cog_span *ys = &C->ys[j];
    const uint8_t *rows[EOI_COG_MAX_TAPS], *mask[EOI_COG_MAX_TAPS];
    /* the plane that masks bands [0, alpha): the mask band or an alpha band */
    int32_t alpha = w->has_mask ? w->mplane : w->alpha_mask ? w->bands - 1 : -1;
    for (int32_t y = ys->i0; alpha >= 0 && y < ys->i1 && y - ys->i0 < EOI_COG_MAX_TAPS; y++)
        mask[y - ys->i0] = rowptr(w, P, alpha, y);
    if (w->has_mask)
        eoi_cog_mask_row(&C->rs, ys, j, mask, rowptr(w, C, w->mplane, C->strip_y0 + C->rows + i));
    for (int32_t b = 0; b < w->bands; b++) {
        for (int32_t y = ys->i0; y < ys->i1 && y - ys->i0 < EOI_COG_MAX_TAPS; y++)
            rows[y - ys->i0] = rowptr(w, P, b, y);
        if (!eoi_cog_resample_row(&C->rs, ys, j, rows, b < alpha ? mask : NULL,
                                  rowptr(w, C, b, C->strip_y0 + C->rows + i)))
            return EO_E_NOMEM;
    }
    return EO_OK;
}

static eo_status job_status(struct writer *w, eo_status st, const char *what) {
    if (st == EO_OK || st == EO_E_CANCELLED)
        return st;
    if (w->pull) { /* the source's own message */
        const eoi_werr *e = eoi_werr_first(w->rerr, MAX_WORKERS);
        if (e)
            return eoi_fail(w->ctx, st, "%s", e->msg);
    }
    if (st == EO_E_IO_READ && w->ds) {
        const eoi_werr *e = eoi_werr_first(w->rerr, MAX_WORKERS);
        if (e)
            return eoi_fail(w->ctx, st, "%s: %s", w->ds->path, e->msg);
        return eoi_fail(w->ctx, st, "%s: read error", w->ds->path);
    }
    if (st == EO_E_NOMEM)
        return eoi_fail(w->ctx, st, "%s: out of memory while %s", w->path, what);
    return eoi_fail(w->ctx, st, "%s: %s failed", w->path, what);
}

static eo_status process_strip(struct writer *w, int k);

/* append a compressed tile to the level's spool with GDAL's leader (its
 * size) and trailer (its last 4 bytes repeated) */
static eo_status spool_block(struct writer *w, struct level *L, const struct slot *s) {
    uint8_t lead[4], trail[4] = {0, 0, 0, 0};
    for (int b = 0; b < 4; b++)
        lead[b] = (uint8_t)(s->len >> (8 * b));
    size_t nt = s->len < 4 ? s->len : 4;
    memcpy(trail + 4 - nt, s->data + s->len - nt, nt);
    eo_status st;
    if ((st = eoi_cog_spool_add(w->ctx, &L->sp, lead, 4, w->path)) != EO_OK ||
        (st = eoi_cog_spool_add(w->ctx, &L->sp, s->data, s->len, w->path)) != EO_OK)
        return st;
    return eoi_cog_spool_add(w->ctx, &L->sp, trail, 4, w->path);
}

/* make the rows of level k+1 that the rows of level k now allow */
static eo_status feed_child(struct writer *w, int k) {
    struct level *P = &w->lv[k], *C = &w->lv[k + 1];
    int64_t avail = P->strip_y0 + P->rows;
    eo_status st = EO_OK;
    while (C->next_row < C->h && C->ys[C->next_row].i1 <= avail) {
        int64_t j1 = C->next_row;
        while (j1 < C->h && C->ys[j1].i1 <= avail)
            j1++;
        int64_t room = w->bs - C->rows, cnt = j1 - C->next_row < room ? j1 - C->next_row : room;
        w->cur = C;
        w->job_j0 = C->next_row;
        st = eoi_parallel_for(w->ctx, cnt, resample_job, w);
        if (st != EO_OK)
            return job_status(w, st, "making an overview");
        C->rows += cnt;
        C->next_row += cnt;
        if (C->rows == w->bs || C->strip_y0 + C->rows == C->h)
            if ((st = process_strip(w, k + 1)) != EO_OK)
                return st;
    }
    return EO_OK;
}

/* compress and spool the current strip of level k, feed the next level,
 * keep the last rows and move on */
static eo_status process_strip(struct writer *w, int k) {
    struct level *L = &w->lv[k];
    eo_status st;
    w->cur = L;
    w->cur_k = k;
    int64_t njobs = L->tx * w->planes;
    if (w->do_stats && k == 0)
        memset(w->tstats, 0, (size_t)L->tx * (size_t)w->bands * sizeof *w->tstats);
    st = eoi_parallel_for(w->ctx, njobs, tile_job, w);
    if (st != EO_OK)
        return job_status(w, st, "compressing tiles");
    int64_t ty = L->strip_y0 / w->bs, ntiles = L->tx * L->ty;
    for (int64_t i = 0; i < njobs; i++) {
        struct slot *s = &w->slots[i];
        int64_t t = i / w->planes, p = i % w->planes;
        size_t idx = (size_t)(p * ntiles + ty * L->tx + t);
        L->off[idx] = L->sp.total + 4;
        L->len[idx] = s->len;
        if ((st = spool_block(w, L, s)) != EO_OK)
            return st;
        if (w->has_mask && p == 0) { /* the mask tile right after the first band's */
            s = &w->mslots[t];
            L->moff[ty * L->tx + t] = L->sp.total + 4;
            L->mlen[ty * L->tx + t] = s->len;
            if ((st = spool_block(w, L, s)) != EO_OK)
                return st;
        }
    }
    if (w->do_stats && k == 0)
        for (int64_t t = 0; t < L->tx; t++)
            for (int32_t b = 0; b < w->bands; b++)
                eoi_cog_stat_merge(&w->stats[b], &w->tstats[t * w->bands + b]);
    if (k + 1 < w->nlevels && (st = feed_child(w, k)) != EO_OK)
        return st;
    /* keep the last TAIL rows for the next level's spans */
    if (L->rows >= TAIL) {
        size_t cap = (size_t)w->bs + TAIL;
        for (int32_t b = 0; b < w->bands + (w->has_mask ? 1 : 0); b++) {
            uint8_t *base = L->buf + (size_t)b * cap * L->row_bytes;
            memmove(base, base + (size_t)L->rows * L->row_bytes, TAIL * L->row_bytes);
        }
    }
    L->strip_y0 += L->rows;
    L->rows = 0;
    return EO_OK;
}

/* Keep GDAL's block cache (of this source and of the files under it, such
 * as a VRT's) from growing with the raster: evict the least recently used
 * blocks past 96 MiB. */
static void evict_blocks(void) {
    while (GDALGetCacheUsed64() > ((GIntBig)96 << 20) && GDALFlushCacheBlock())
        ;
}

/* read rows [y, y + n) of the source into level 0 */
static eo_status read_rows(struct writer *w, int64_t y, int64_t n) {
    struct level *L = &w->lv[0];
    if (w->r) {
        for (int32_t b = 0; b < w->bands; b++)
            memcpy(rowptr(w, L, b, y),
                   (const uint8_t *)w->r->data +
                       ((size_t)b * (size_t)w->h + (size_t)y) * L->row_bytes,
                   (size_t)n * L->row_bytes);
        return EO_OK;
    }
    GDALDatasetH h = w->ds->h;
    size_t cap = (size_t)w->bs + TAIL;
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    w->ctx->gdal_err = 0;
    w->ctx->gdal_msg[0] = '\0';
    CPLErr e = GDALDatasetRasterIOEx(h, GF_Read, 0, (int)y, (int)w->w, (int)n, rowptr(w, L, 0, y),
                                     (int)w->w, (int)n, eoi_dtype_to_gdal(w->dt), w->bands, NULL,
                                     (GSpacing)w->es, (GSpacing)L->row_bytes,
                                     (GSpacing)(cap * L->row_bytes), &extra);
    if (e == CE_None && w->has_mask && !read_mask(w, h, 0, y, w->w, n))
        e = CE_Failure;
    if (e != CE_None)
        return eoi_fail(w->ctx, EO_E_IO_READ, "%s: cannot read rows %lld..%lld: %s", w->ds->path,
                        (long long)y, (long long)(y + n - 1), eoi_gdal_msg(w->ctx, "read error"));
    evict_blocks();
    return EO_OK;
}

/* Several outputs of the same size filled together by one source (an
 * analysis with two rasters, such as change detection's change and class):
 * one fill per tile column of a strip fills every output's rows. */
struct many {
    struct writer **w;
    int32_t n;
    eoi_cog_fill_many_fn fill;
    void *user;
    eoi_werr rerr[MAX_WORKERS];
};

/* one tile column of the current strip of level 0 of every output */
static eo_status pull_job(void *user, int64_t i, int32_t worker) {
    struct many *m = user;
    eoi_cog_out outs[EOI_COG_MAX_OUTPUTS];
    struct level *L0 = &m->w[0]->lv[0];
    int64_t x0 = i * m->w[0]->bs, tw = L0->w - x0 < m->w[0]->bs ? L0->w - x0 : m->w[0]->bs;
    eo_window win = {x0, L0->strip_y0, tw, L0->rows};
    for (int32_t k = 0; k < m->n; k++) {
        struct writer *w = m->w[k];
        struct level *L = &w->lv[0];
        size_t cap = (size_t)w->bs + TAIL;
        outs[k] = (eoi_cog_out){.buf = rowptr(w, L, 0, L->strip_y0) + (size_t)x0 * w->es,
                                .line_bytes = L->row_bytes,
                                .band_bytes = cap * L->row_bytes};
    }
    return m->fill(m->user, worker, &win, outs, &m->rerr[worker]);
}

/* a single-output pull source seen as a source of several */
static eo_status one_fill(void *user, int32_t worker, const eo_window *win, const eoi_cog_out *outs,
                          eoi_werr *err) {
    const eoi_cog_pull *p = user;
    return p->fill(p->user, worker, win, outs[0].buf, outs[0].line_bytes, outs[0].band_bytes, err);
}

/* ---- setup ------------------------------------------------------------- */

static bool representable(eo_dtype dt, double v) {
    if (eoi_dtype_is_float(dt))
        return dt == EO_DT_F64 || !isfinite(v) || fabs(v) <= 3.4028234663852886e38;
    if (!isfinite(v) || v != floor(v))
        return false;
    static const double lo[] = {0, 0, -128, 0, -32768, 0, -2147483648.0, 0, -9223372036854775808.0};
    static const double hi[] = {0,
                                255,
                                127,
                                65535,
                                32767,
                                4294967295.0,
                                2147483647.0,
                                18446744073709551615.0,
                                9223372036854775807.0};
    return dt >= EO_DT_U8 && dt <= EO_DT_I64 && v >= lo[dt] && v <= hi[dt];
}

static eo_status setup(struct writer *w, const eo_cog_opts *o) {
    eo_ctx *ctx = w->ctx;
    w->es = eo_dtype_size(w->dt);
    w->bs = o->blocksize;
    if (w->ds) {
        /* a mask of its own (not derived from nodata, alpha or all-valid) */
        int flags = GDALGetMaskFlags(GDALGetRasterBand(w->ds->h, 1));
        w->has_mask = flags == GMF_PER_DATASET;
    }
    w->mplane = w->bands;
    w->interleaved = w->es == 1 && w->bands <= 4;
    w->tspp = w->interleaved ? w->bands : 1;
    w->planes = w->interleaved ? 1 : w->bands;
    w->compress = o->compress;
    w->level = o->level;
    /* libtiff applies a predictor only with a compression */
    w->predictor = o->compress == EOI_COG_NONE ? EOI_PRED_NONE : o->predictor;
    w->do_stats = o->stats != 0;
    if (o->has_nodata) {
        if (!representable(w->dt, o->nodata))
            return eoi_fail(ctx, EO_E_ARG, "%s: nodata %.17g is not a %s value", w->path, o->nodata,
                            eo_dtype_name(w->dt));
        w->has_nodata = true;
        w->nodata = o->nodata;
    }
    if (w->compress == EOI_COG_DEFLATE && w->level > 12)
        return eoi_fail(ctx, EO_E_ARG, "%s: DEFLATE level %d is out of range (1..12)", w->path,
                        (int)w->level);
    if (w->predictor == EOI_PRED_FLOAT && !eoi_dtype_is_float(w->dt))
        return eoi_fail(ctx, EO_E_ARG, "%s: the float predictor needs float data, not %s", w->path,
                        eo_dtype_name(w->dt));
    if (w->bands > 4096)
        return eoi_fail(ctx, EO_E_UNSUPPORTED, "%s: %d bands are too many (at most 4096)", w->path,
                        (int)w->bands);
    /* levels */
    int64_t lw = w->w, lh = w->h;
    int max = o->overviews < 0 ? 30 : o->overviews;
    w->nlevels = 1;
    while ((lw > w->bs || lh > w->bs) && w->nlevels <= max && w->nlevels < 30) {
        lw = lw / 2 > 0 ? lw / 2 : 1;
        lh = lh / 2 > 0 ? lh / 2 : 1;
        w->nlevels++;
    }
    size_t cap = (size_t)w->bs + TAIL;
    lw = w->w;
    lh = w->h;
    for (int k = 0; k < w->nlevels; k++) {
        struct level *L = &w->lv[k];
        if (k > 0) {
            lw = lw / 2 > 0 ? lw / 2 : 1;
            lh = lh / 2 > 0 ? lh / 2 : 1;
        }
        L->w = lw;
        L->h = lh;
        L->tx = (lw + w->bs - 1) / w->bs;
        L->ty = (lh + w->bs - 1) / w->bs;
        L->row_bytes = (size_t)lw * w->es;
        L->sp.fd = -1;
        size_t nbytes, nt = (size_t)(L->tx * L->ty * w->planes);
        if (eoi_mul_size3(&nbytes, (size_t)w->bands + (w->has_mask ? 1 : 0), cap, L->row_bytes))
            return eoi_fail(ctx, EO_E_LIMIT, "%s: a row of tiles overflows", w->path);
        if (!(L->buf = eoi_malloc(ctx, nbytes)) || !(L->off = eoi_calloc(ctx, nt, 8)) ||
            !(L->len = eoi_calloc(ctx, nt, 8)))
            return eo_ctx_status(ctx);
        if (w->has_mask && (!(L->moff = eoi_calloc(ctx, (size_t)(L->tx * L->ty), 8)) ||
                            !(L->mlen = eoi_calloc(ctx, (size_t)(L->tx * L->ty), 8))))
            return eo_ctx_status(ctx);
        if (k > 0) {
            struct level *P = &w->lv[k - 1];
            if (eoi_cog_kernel_radius(w->resampling) > 0) {
                if (!(L->xs = eoi_cog_conv_spans(ctx, P->w, lw, w->resampling, &L->xw)) ||
                    !(L->ys = eoi_cog_conv_spans(ctx, P->h, lh, w->resampling, &L->yw)))
                    return EO_E_NOMEM;
            } else if (!(L->xs = eoi_cog_spans(ctx, P->w, lw)) ||
                       !(L->ys = eoi_cog_spans(ctx, P->h, lh))) {
                return EO_E_NOMEM;
            }
            bool fast2 = true;
            for (int64_t i = 0; i < lw && fast2; i++)
                fast2 = L->xs[i].i1 - L->xs[i].i0 == 2 && L->xs[i].i0 == L->xs[0].i0 + 2 * i;
            L->rs = (eoi_cog_resampler){.method = w->resampling,
                                        .dt = w->dt,
                                        .sw = P->w,
                                        .sh = P->h,
                                        .dw = lw,
                                        .dh = lh,
                                        .xs = L->xs,
                                        .xw = L->xw,
                                        .yw = L->yw,
                                        .has_nodata = w->has_nodata,
                                        .nodata = w->nodata,
                                        .fast2 = fast2};
        }
    }
    /* workers */
    w->nworkers = eoi_threads(ctx);
    if (w->nworkers > MAX_WORKERS)
        w->nworkers = MAX_WORKERS;
    if (w->nworkers < 1)
        w->nworkers = 1;
    if (eoi_mul_size3(&w->tile_bytes, (size_t)w->bs * (size_t)w->bs, (size_t)w->tspp, w->es))
        return eoi_fail(ctx, EO_E_LIMIT, "%s: tile size overflows", w->path);
    w->cbound = eoi_cog_bound(w->compress, w->tile_bytes);
    for (int32_t i = 0; i < w->nworkers; i++) {
        if (!(w->codec[i] = eoi_cog_codec_new(w->compress, w->level)))
            return eoi_fail(ctx, EO_E_NOMEM, "%s: out of memory creating a compressor", w->path);
        if (!(w->tile[i] = eoi_malloc(ctx, w->tile_bytes)) ||
            !(w->cbuf[i] = eoi_malloc(ctx, w->cbound)) ||
            !(w->scratch[i] = eoi_malloc(ctx, (size_t)w->bs * (size_t)w->tspp * w->es)))
            return EO_E_NOMEM;
        if (w->has_mask) {
            w->mtile_bytes = (size_t)w->bs * (size_t)w->bs / 8;
            w->mbound = eoi_cog_bound(EOI_COG_DEFLATE, w->mtile_bytes);
            if (!(w->mcodec[i] = eoi_cog_codec_new(EOI_COG_DEFLATE, 6)) ||
                !(w->mtile[i] = eoi_malloc(ctx, w->mtile_bytes)) ||
                !(w->mcbuf[i] = eoi_malloc(ctx, w->mbound)))
                return EO_E_NOMEM;
        }
    }
    if (w->has_mask && !(w->mslots = eoi_calloc(ctx, (size_t)w->lv[0].tx, sizeof *w->mslots)))
        return EO_E_NOMEM;
    size_t nslots = (size_t)(w->lv[0].tx * w->planes);
    if (!(w->slots = eoi_calloc(ctx, nslots, sizeof *w->slots)) ||
        !(w->tstats = eoi_calloc(ctx, (size_t)w->lv[0].tx * (size_t)w->bands, sizeof *w->tstats)) ||
        !(w->stats = eoi_calloc(ctx, (size_t)w->bands, sizeof *w->stats)))
        return EO_E_NOMEM;
    return EO_OK;
}

static void close_readers(struct writer *w) {
    for (int i = 1; i < MAX_WORKERS; i++)
        if (w->rh[i]) {
            GDALClose(w->rh[i]);
            w->rh[i] = NULL;
        }
}

static void cleanup(struct writer *w) {
    close_readers(w);
    for (int k = 0; k < 32; k++) {
        struct level *L = &w->lv[k];
        eoi_free(L->buf);
        eoi_free(L->off);
        eoi_free(L->len);
        eoi_free(L->xs);
        eoi_free(L->ys);
        eoi_free(L->xw);
        eoi_free(L->yw);
        eoi_free(L->moff);
        eoi_free(L->mlen);
        eoi_cog_spool_close(&L->sp);
    }
    for (int i = 0; i < MAX_WORKERS; i++) {
        eoi_cog_codec_free(w->codec[i]);
        eoi_free(w->tile[i]);
        eoi_free(w->cbuf[i]);
        eoi_free(w->scratch[i]);
        eoi_cog_codec_free(w->mcodec[i]);
        eoi_free(w->mtile[i]);
        eoi_free(w->mcbuf[i]);
    }
    if (w->mslots)
        for (int64_t i = 0; i < w->lv[0].tx; i++)
            eoi_free(w->mslots[i].data);
    eoi_free(w->mslots);
    if (w->slots)
        for (int64_t i = 0; i < w->lv[0].tx * w->planes; i++)
            eoi_free(w->slots[i].data);
    eoi_free(w->slots);
    eoi_free(w->tstats);
    eoi_free(w->stats);
    if (w->desc)
        for (int32_t b = 0; b < w->bands; b++)
            eoi_free(w->desc[b]);
    eoi_free(w->desc);
    eoi_free(w->extra);
    eoi_free(w->colormap);
    eoi_free(w->tmp);
    eoi_free(w->dircopy);
    w->tmp = w->dircopy = NULL;
}

/* Photometric interpretation, extra samples, colour map, descriptions
 * from the source (a dataset or a pull source), or GDAL's defaults (a
 * raster). */
static eo_status describe(struct writer *w) {
    eo_ctx *ctx = w->ctx;
    int32_t n = w->bands;
    GDALColorInterp ci[4] = {GCI_Undefined, GCI_Undefined, GCI_Undefined, GCI_Undefined};
    bool alpha_last = false;
    GDALColorTableH ctab = NULL;
    if (w->ds) {
        for (int32_t b = 0; b < n && b < 4; b++)
            ci[b] = GDALGetRasterColorInterpretation(GDALGetRasterBand(w->ds->h, b + 1));
        alpha_last =
            GDALGetRasterColorInterpretation(GDALGetRasterBand(w->ds->h, n)) == GCI_AlphaBand;
        if (!(w->desc = eoi_calloc(ctx, (size_t)n, sizeof *w->desc)))
            return EO_E_NOMEM;
        for (int32_t b = 0; b < n; b++) {
            const char *d = GDALGetDescription(GDALGetRasterBand(w->ds->h, b + 1));
            if (d && *d && !(w->desc[b] = eoi_strdup(ctx, d)))
                return EO_E_NOMEM;
        }
        ctab = GDALGetRasterColorTable(GDALGetRasterBand(w->ds->h, 1));
    }
    if (w->pull) {
        const eoi_cog_pull *p = w->pull;
        for (int32_t b = 0; p->color_interp && b < n && b < 4; b++)
            ci[b] = (GDALColorInterp)p->color_interp[b];
        alpha_last = p->color_interp && p->color_interp[n - 1] == GCI_AlphaBand;
        if (p->descriptions) {
            if (!(w->desc = eoi_calloc(ctx, (size_t)n, sizeof *w->desc)))
                return EO_E_NOMEM;
            for (int32_t b = 0; b < n; b++)
                if (p->descriptions[b] && *p->descriptions[b] &&
                    !(w->desc[b] = eoi_strdup(ctx, p->descriptions[b])))
                    return EO_E_NOMEM;
        }
        ctab = p->color_table;
        w->items = p->band_items;
    }
    if (ctab && n == 1 && (w->dt == EO_DT_U8 || w->dt == EO_DT_U16)) {
        size_t ne = (size_t)1 << (w->es * 8);
        if (!(w->colormap = eoi_calloc(ctx, 3 * ne, sizeof(uint16_t))))
            return EO_E_NOMEM;
        int count = GDALGetColorEntryCount(ctab);
        for (size_t i = 0; i < ne && (int)i < count; i++) {
            GDALColorEntry e;
            GDALGetColorEntryAsRGB(ctab, (int)i, &e);
            w->colormap[i] = (uint16_t)(e.c1 * 257);
            w->colormap[ne + i] = (uint16_t)(e.c2 * 257);
            w->colormap[2 * ne + i] = (uint16_t)(e.c3 * 257);
        }
        w->ncolormap = 3 * ne;
    }
    /* a raster follows GDAL's GTiff default: 3 or 4 bytes are RGB(A) */
    if (!w->ds && !w->pull && (n == 3 || n == 4) && w->dt == EO_DT_U8) {
        ci[0] = GCI_RedBand;
        ci[1] = GCI_GreenBand;
        ci[2] = GCI_BlueBand;
        alpha_last = n == 4;
    }
    bool rgb = n >= 3 && ci[0] == GCI_RedBand && ci[1] == GCI_GreenBand && ci[2] == GCI_BlueBand;
    w->photometric = w->colormap ? 3 : rgb ? 2 : 1;
    int base = rgb ? 3 : 1;
    w->nextra = n - base;
    if (w->nextra > 0) {
        if (!(w->extra = eoi_calloc(ctx, (size_t)w->nextra, sizeof *w->extra)))
            return EO_E_NOMEM;
        if (alpha_last) {
            w->extra[w->nextra - 1] = 2; /* unassociated alpha */
            w->alpha_mask = w->resampling != EO_RESAMPLE_NEAREST;
        }
    }
    return EO_OK;
}

/* One handle of the source per worker, for reads in parallel; without
 * them (a source GDAL cannot open twice) the calling thread reads. */
static void open_readers(struct writer *w) {
    if (!w->ds || w->nworkers < 2)
        return;
    w->rh[0] = w->ds->h;
    w->par_read = true;
    for (int32_t i = 1; i < w->nworkers && w->par_read; i++) {
        CPLPushErrorHandler(CPLQuietErrorHandler);
        w->rh[i] = GDALOpenEx(w->ds->source, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
        CPLPopErrorHandler();
        if (!w->rh[i] || GDALGetRasterXSize(w->rh[i]) != w->w ||
            GDALGetRasterYSize(w->rh[i]) != w->h || GDALGetRasterCount(w->rh[i]) != w->bands)
            w->par_read = false;
    }
    if (!w->par_read)
        close_readers(w);
}

/* Set up a writer and create its temporary file (and spools). */
static eo_status begin(struct writer *w, const eo_cog_opts *o) {
    eo_ctx *ctx = w->ctx;
    eo_status st = EO_OK;
    EOI_TRY_RET(setup(w, o));
    EOI_TRY_RET(describe(w));
    open_readers(w);
    if (!(w->dircopy = eoi_strdup(ctx, w->path)))
        return EO_E_NOMEM;
    const char *dir = w->dir = dirname(w->dircopy);
    EOI_TRY_RET(eoi_tmp_beside(ctx, &w->tmp, w->path, ""));
    w->fd = open(w->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        eoi_free(w->tmp);
        w->tmp = NULL;
        return eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create the file: %s", w->path, strerror(e));
    }
    if (w->nlevels == 1) { /* no copy at the end: the tiles go in place */
        struct spool *sp = &w->lv[0].sp;
        EOI_TRY_RET(eoi_cog_direct_reserve(w, &w->direct));
        if (!(sp->buf = eoi_malloc(ctx, SPOOL_BUF)))
            return EO_E_NOMEM;
        sp->fd = w->fd;
        sp->borrowed = true;
        if (lseek(w->fd, (off_t)w->direct, SEEK_SET) < 0) {
            int e = errno;
            return eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot seek: %s", w->path, strerror(e));
        }
    } else {
        w->insert = eoi_cog_can_insert(w->fd);
        for (int k = w->insert ? 1 : 0; k < w->nlevels; k++)
            if ((st = eoi_cog_spool_open(ctx, &w->lv[k].sp, dir, w->path)) != EO_OK)
                return st;
        if (w->insert) {
            struct spool *sp = &w->lv[0].sp;
            if (!(sp->buf = eoi_malloc(ctx, SPOOL_BUF)))
                return EO_E_NOMEM;
            sp->fd = w->fd;
            sp->borrowed = true;
        }
    }
    return EO_OK;
}

/* Rows [y, y + n) of level 0 of a dataset or raster source, then the strip's
 * tiles and the overview rows they allow. */
static eo_status strip_from_source(struct writer *w, int64_t y, int64_t n) {
    if (w->par_read) {
        w->lv[0].rows = n; /* the tile jobs read their own windows */
    } else {
        EOI_TRY_RET(read_rows(w, y, n));
        w->lv[0].rows = n;
    }
    EOI_TRY_RET(process_strip(w, 0));
    if (w->par_read)
        evict_blocks();
    return EO_OK;
}

/* Lay out the file and close it (still under its temporary name). */
static eo_status finish(struct writer *w, const eo_cog_opts *o) {
    close_readers(w);
    static const char *modes[] = {"auto", "yes", "no"};
    EOI_TRY_RET(eoi_cog_assemble(w, w->fd, modes[o->bigtiff]));
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) {
        int e = errno;
        return eoi_fail(w->ctx, EO_E_IO_WRITE, "%s: cannot finish the file: %s", w->path,
                        strerror(e));
    }
    return EO_OK;
}

/* Close a writer's file if a failure left it open (eoi_tmp_commit_all then
 * removes it). */
static void close_fd(struct writer *w) {
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

/* The options of a writer, with defaults for NULL. */
static const eo_cog_opts *opts_or_defaults(const eo_cog_opts *opts, eo_cog_opts *defaults) {
    if (opts)
        return opts;
    *defaults = (eo_cog_opts){.compress = EOI_COG_ZSTD,
                              .predictor = EOI_PRED_NONE,
                              .blocksize = 512,
                              .overviews = -1,
                              .resampling = -1,
                              .stats = 1};
    return defaults;
}

/* Checks and choices of a writer before it begins (under eoi_gdal_begin). */
static eo_status prepare(struct writer *w, const eo_cog_opts *opts) {
    if (!w->stage)
        w->stage = "cog";
    if (w->dt == EO_DT_UNKNOWN || !eo_dtype_size(w->dt))
        return eoi_fail(w->ctx, EO_E_UNSUPPORTED, "%s: the source's data type cannot be written",
                        w->path);
    w->resampling = opts->resampling;
    if (w->resampling < 0) {
        bool categorical = false;
        if (w->ds && !eoi_dtype_is_float(w->dt)) {
            GDALRasterBandH b1 = GDALGetRasterBand(w->ds->h, 1);
            categorical = GDALGetRasterColorTable(b1) || GDALGetDefaultRAT(b1);
        } else if (w->pull) {
            categorical = w->pull->categorical;
        }
        w->resampling = categorical ? EO_RESAMPLE_NEAREST : EO_RESAMPLE_AVERAGE;
    }
    return EO_OK;
}

const eo_cog_opts *eoi_cog_class_opts(const eo_cog_opts *opts, eo_cog_opts *buf) {
    if (!opts)
        return NULL; /* the defaults: auto resampling (nearest for a class), no predictor */
    *buf = *opts;
    if (buf->resampling != EO_RESAMPLE_MODE)
        buf->resampling = EO_RESAMPLE_NEAREST;
    if (buf->predictor == EOI_PRED_FLOAT)
        buf->predictor = EOI_PRED_NONE;
    return buf;
}

/* Set up n writers (o: their options, defaults filled in) and create their
 * temporary files; on failure, call close_many to remove what was made. */
static eo_status open_many(eo_ctx *ctx, struct writer **ws, int32_t n,
                           const eo_cog_opts *const *opts, eo_cog_opts *defaults,
                           const eo_cog_opts **o) {
    eo_status st = EO_OK;
    for (int32_t k = 0; k < n; k++) {
        o[k] = opts_or_defaults(opts ? opts[k] : NULL, &defaults[k]);
        ws[k]->fd = -1;
        for (int l = 0; l < 32; l++) /* cleanup closes only the spools opened */
            ws[k]->lv[l].sp.fd = -1;
    }
    for (int32_t k = 0; k < n && st == EO_OK; k++)
        st = prepare(ws[k], o[k]);
    for (int32_t k = 0; k < n && st == EO_OK; k++)
        st = begin(ws[k], o[k]);
    for (int32_t k = 1; k < n && st == EO_OK; k++)
        if (ws[k]->bs != ws[0]->bs || ws[k]->w != ws[0]->w || ws[k]->h != ws[0]->h)
            st = eoi_fail(ctx, EO_E_INTERNAL, "%s and %s: outputs of one pass differ in size",
                          ws[0]->path, ws[k]->path);
    return st;
}

/* Finish n writers after their pass (st: its status): lay out the files and
 * move them into place, every one or none; free the writers' buffers. */
static eo_status close_many(eo_ctx *ctx, struct writer **ws, int32_t n, const eo_cog_opts **o,
                            eo_status st) {
    for (int32_t k = 0; k < n && st == EO_OK; k++)
        st = finish(ws[k], o[k]);
    const char *tmp[EOI_COG_MAX_OUTPUTS] = {NULL}, *path[EOI_COG_MAX_OUTPUTS] = {NULL};
    for (int32_t k = 0; k < n; k++) {
        close_fd(ws[k]);
        tmp[k] = ws[k]->tmp;
        path[k] = ws[k]->path;
    }
    st = eoi_tmp_commit_all(ctx, tmp, path, n, st);
    for (int32_t k = 0; k < n; k++)
        cleanup(ws[k]);
    return st;
}

/* Write n outputs in one pass: m fills them all (a pull source), or, when
 * m is NULL, the one writer reads its dataset or raster. The files appear
 * at their paths only when every one is complete. */
static eo_status drive(eo_ctx *ctx, struct writer **ws, int32_t n, const eo_cog_opts *const *opts,
                       struct many *m) {
    eo_cog_opts defaults[EOI_COG_MAX_OUTPUTS];
    const eo_cog_opts *o[EOI_COG_MAX_OUTPUTS] = {NULL};
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    int32_t saved = ctx->threads;
    if (opts && opts[0] && opts[0]->threads > 0) /* before the writers size their workers */
        ctx->threads = opts[0]->threads;
    eoi_gdal_begin(ctx);
    st = open_many(ctx, ws, n, opts, defaults, o);
    /* the pass over the source */
    struct writer *w0 = ws[0];
    for (int64_t y = 0; y < w0->h && st == EO_OK; y += w0->bs) {
        int64_t rows = w0->h - y < w0->bs ? w0->h - y : w0->bs;
        if ((st = eoi_progress(ctx, 0.95 * (double)y / (double)w0->h, w0->stage)) != EO_OK)
            break;
        if (!m) {
            st = strip_from_source(w0, y, rows);
            continue;
        }
        for (int32_t k = 0; k < n; k++)
            ws[k]->lv[0].rows = rows;
        st = eoi_parallel_for(ctx, w0->lv[0].tx, pull_job, m);
        if (st != EO_OK && st != EO_E_CANCELLED) {
            const eoi_werr *e = eoi_werr_first(m->rerr, MAX_WORKERS);
            st = e ? eoi_fail(ctx, st, "%s", e->msg) : job_status(w0, st, "reading the source");
            break;
        }
        evict_blocks();
        for (int32_t k = 0; k < n && st == EO_OK; k++)
            st = process_strip(ws[k], 0);
    }
    st = close_many(ctx, ws, n, o, st);
    if (st == EO_OK && (st = eoi_progress(ctx, 1.0, w0->stage)) != EO_OK) {
        const char *path[EOI_COG_MAX_OUTPUTS] = {NULL};
        for (int32_t k = 0; k < n; k++)
            path[k] = ws[k]->path;
        eoi_out_discard(path, n);
    }
    eoi_gdal_end(ctx);
    ctx->threads = saved;
    return st;
}

/* ---- a producer that pushes rows --------------------------------------- */

/* A writer of path filled from the pull source (or pushed rows) d. */
static void pull_writer(struct writer *w, eo_ctx *ctx, const char *path, const eoi_cog_pull *d,
                        const char *stage) {
    *w = (struct writer){.ctx = ctx,
                         .path = path,
                         .pull = d,
                         .w = d->width,
                         .h = d->height,
                         .bands = d->bands,
                         .dt = d->dtype,
                         .has_gt = d->has_gt != 0,
                         .wkt = d->wkt ? d->wkt : "",
                         .has_nodata = d->has_nodata != 0,
                         .nodata = d->nodata,
                         .nodata_bits = d->nodata_bits,
                         .stage = stage};
    memcpy(w->gt, d->gt, sizeof w->gt);
}

struct eoi_cog_push {
    eo_ctx *ctx;
    int32_t n;
    struct writer *w[EOI_COG_MAX_OUTPUTS];
    eo_cog_opts defaults[EOI_COG_MAX_OUTPUTS]; /* the options (copied) */
    const eo_cog_opts *o[EOI_COG_MAX_OUTPUTS];
    eoi_cog_pull d[EOI_COG_MAX_OUTPUTS]; /* copies of the descriptions ... */
    char **items[EOI_COG_MAX_OUTPUTS];   /* ... and of their band items */
    eo_status st;                        /* sticky: a failed writer stays failed */
};

static void free_items(char **items) {
    for (size_t i = 0; items && items[i]; i++)
        eoi_free(items[i]);
    eoi_free(items);
}

/* A copy of a NULL-terminated list of strings (NULL for NULL). */
static eo_status copy_items(eo_ctx *ctx, char ***out, const char *const *items) {
    *out = NULL;
    if (!items)
        return EO_OK;
    size_t n = 0;
    while (items[n])
        n++;
    char **c = eoi_calloc(ctx, n + 1, sizeof *c);
    for (size_t i = 0; c && i < n; i++)
        if (!(c[i] = eoi_strdup(ctx, items[i]))) {
            free_items(c);
            c = NULL;
        }
    if (!c)
        return EO_E_NOMEM;
    *out = c;
    return EO_OK;
}

static void push_free(eoi_cog_push *p) {
    for (int32_t k = 0; k < p->n; k++) {
        eoi_free(p->w[k]);
        free_items(p->items[k]);
    }
    eoi_free(p);
}

eo_status eoi_cog_push_open(eo_ctx *ctx, eoi_cog_push **out, int32_t n, const char *const *paths,
                            const eoi_cog_pull *const *descs, const eo_cog_opts *const *opts) {
    *out = NULL;
    EOI_CHECK_ARG(ctx, n >= 1 && n <= EOI_COG_MAX_OUTPUTS && paths && descs);
    eoi_cog_push *p = eoi_calloc(ctx, 1, sizeof *p);
    if (!p)
        return EO_E_NOMEM;
    p->ctx = ctx;
    p->n = n;
    eo_status st = EO_OK;
    for (int32_t k = 0; k < n && st == EO_OK; k++) {
        const eoi_cog_pull *d = descs[k];
        if (!paths[k] || !*paths[k] || !d || d->bands < 1 || d->width < 1 || d->height < 1) {
            st = eoi_fail(ctx, EO_E_INTERNAL, "COG push: bad output %d", (int)k);
            break;
        }
        if ((st = copy_items(ctx, &p->items[k], d->band_items)) != EO_OK)
            break;
        p->d[k] = *d; /* the writer reads it until the end; the caller's may go */
        p->d[k].band_items = (const char *const *)p->items[k];
        if (!(p->w[k] = eoi_calloc(ctx, 1, sizeof *p->w[k]))) {
            st = EO_E_NOMEM;
            break;
        }
        pull_writer(p->w[k], ctx, paths[k], &p->d[k], NULL);
        p->w[k]->fd = -1;
        for (int l = 0; l < 32; l++)
            p->w[k]->lv[l].sp.fd = -1;
    }
    if (st == EO_OK) {
        eoi_gdal_begin(ctx);
        st = open_many(ctx, p->w, n, opts, p->defaults, p->o);
        eoi_gdal_end(ctx);
    }
    for (int32_t k = 0; k < n; k++) {
        p->d[k].color_table = NULL; /* prepare() copied it; it is the caller's */
        if (st == EO_OK && p->o[k] != &p->defaults[k]) { /* finish() reads them */
            p->defaults[k] = *p->o[k];
            p->o[k] = &p->defaults[k];
        }
    }
    if (st != EO_OK) {
        const char *tmp[EOI_COG_MAX_OUTPUTS] = {NULL}, *path[EOI_COG_MAX_OUTPUTS] = {NULL};
        int32_t made = 0;
        for (; made < n && p->w[made]; made++) {
            close_fd(p->w[made]);
            tmp[made] = p->w[made]->tmp;
            path[made] = p->w[made]->path;
        }
        eoi_tmp_commit_all(ctx, tmp, path, made, st); /* removes the temporaries */
        for (int32_t k = 0; k < made; k++)
            cleanup(p->w[k]);
        push_free(p);
        return st;
    }
    *out = p;
    return EO_OK;
}

int64_t eoi_cog_push_room(eoi_cog_push *p, eoi_cog_out *outs) {
    struct level *L0 = &p->w[0]->lv[0];
    for (int32_t k = 0; k < p->n; k++) {
        struct writer *w = p->w[k];
        struct level *L = &w->lv[0];
        size_t cap = (size_t)w->bs + TAIL;
        outs[k] = (eoi_cog_out){.buf = rowptr(w, L, 0, L->strip_y0 + L->rows),
                                .line_bytes = L->row_bytes,
                                .band_bytes = cap * L->row_bytes};
    }
    int64_t left = p->w[0]->h - L0->strip_y0 - L0->rows, room = p->w[0]->bs - L0->rows;
    return left < room ? left : room;
}

eo_status eoi_cog_push_commit(eoi_cog_push *p, int64_t rows) {
    if (p->st != EO_OK)
        return eoi_fail(p->ctx, EO_E_STATE, "%s: the writer failed before", p->w[0]->path);
    struct level *L0 = &p->w[0]->lv[0];
    if (rows < 0 || rows > p->w[0]->bs - L0->rows || rows > p->w[0]->h - L0->strip_y0 - L0->rows)
        return p->st = eoi_fail(p->ctx, EO_E_INTERNAL, "%s: %lld rows pushed past the room",
                                p->w[0]->path, (long long)rows);
    for (int32_t k = 0; k < p->n; k++)
        p->w[k]->lv[0].rows += rows;
    if (L0->rows < p->w[0]->bs && L0->strip_y0 + L0->rows < p->w[0]->h)
        return EO_OK;
    eoi_gdal_begin(p->ctx);
    eo_status st = EO_OK;
    for (int32_t k = 0; k < p->n && st == EO_OK; k++)
        st = process_strip(p->w[k], 0);
    eoi_gdal_end(p->ctx);
    return p->st = st;
}

eo_status eoi_cog_push_close(eoi_cog_push *p, eo_status st) {
    if (!p)
        return st;
    eo_ctx *ctx = p->ctx;
    if (st == EO_OK && p->st != EO_OK)
        st = p->st;
    if (st == EO_OK && p->w[0]->lv[0].strip_y0 < p->w[0]->h)
        st = eoi_fail(ctx, EO_E_INTERNAL, "%s: closed after %lld of %lld rows", p->w[0]->path,
                      (long long)p->w[0]->lv[0].strip_y0, (long long)p->w[0]->h);
    eoi_gdal_begin(ctx);
    st = close_many(ctx, p->w, p->n, p->o, st);
    eoi_gdal_end(ctx);
    push_free(p);
    return st;
}

static eo_status write_common(struct writer *w, const eo_cog_opts *opts) {
    return drive(w->ctx, &w, 1, &opts, NULL);
}

eo_status eo_cog_write_raster(eo_ctx *ctx, const char *path, const eo_raster *r,
                              const eo_cog_opts *opts) {
    EOI_CHECK_ARG(ctx, path && *path);
    EOI_CHECK_ARG(ctx, r && r->data);
    struct writer *w = eoi_calloc(ctx, 1, sizeof *w);
    if (!w)
        return EO_E_NOMEM;
    *w = (struct writer){.ctx = ctx,
                         .path = path,
                         .r = r,
                         .w = r->width,
                         .h = r->height,
                         .bands = r->bands,
                         .dt = r->dtype,
                         .has_gt = r->has_gt != 0,
                         .wkt = r->wkt};
    memcpy(w->gt, r->gt, sizeof w->gt);
    if (r->has_nodata) {
        w->has_nodata = true;
        w->nodata = r->nodata;
        w->nodata_bits = r->nodata_bits;
    }
    eo_status st = write_common(w, opts);
    eoi_free(w);
    return st;
}

eo_status eo_cog_write(eo_ctx *ctx, const char *path, const eo_dataset *src,
                       const eo_cog_opts *opts) {
    EOI_CHECK_ARG(ctx, path && *path);
    EOI_CHECK_ARG(ctx, src && src->h);
    eo_dtype dt = src->dtypes[0];
    for (int32_t b = 1; b < src->band_count; b++)
        if (src->dtypes[b] != dt)
            return eoi_fail(ctx, EO_E_UNSUPPORTED,
                            "%s: band %d is %s but band 1 is %s: a COG has one data type",
                            src->path, (int)b + 1, eo_dtype_name(src->dtypes[b]),
                            eo_dtype_name(dt));
    struct writer *w = eoi_calloc(ctx, 1, sizeof *w);
    if (!w)
        return EO_E_NOMEM;
    *w = (struct writer){.ctx = ctx,
                         .path = path,
                         .ds = src,
                         .w = src->width,
                         .h = src->height,
                         .bands = src->band_count,
                         .dt = dt,
                         .has_gt = src->has_gt != 0,
                         .wkt = src->wkt};
    memcpy(w->gt, src->gt, sizeof w->gt);
    int has = 0;
    uint64_t bits = 0;
    double nd = eoi_band_nodata(GDALGetRasterBand(src->h, 1), dt, &has, &bits);
    if (has) {
        w->has_nodata = true;
        w->nodata = nd;
        w->nodata_bits = bits;
    }
    eo_status st = write_common(w, opts);
    eoi_free(w);
    return st;
}

eo_status eoi_cog_write_many(eo_ctx *ctx, int32_t n, const char *const *paths,
                             const eoi_cog_pull *const *descs, const eo_cog_opts *const *opts,
                             eoi_cog_fill_many_fn fill, void *user, const char *stage) {
    EOI_CHECK_ARG(ctx, n >= 1 && n <= EOI_COG_MAX_OUTPUTS && paths && descs && fill);
    for (int32_t k = 0; k < n; k++) {
        const eoi_cog_pull *d = descs[k];
        EOI_CHECK_ARG(ctx, paths[k] && *paths[k]);
        EOI_CHECK_ARG(ctx, d && d->bands > 0 && d->width > 0 && d->height > 0);
    }
    struct many *m = eoi_calloc(ctx, 1, sizeof *m);
    struct writer **ws = eoi_calloc(ctx, (size_t)n, sizeof *ws);
    eo_status st = m && ws ? EO_OK : EO_E_NOMEM;
    for (int32_t k = 0; k < n && st == EO_OK; k++) {
        const eoi_cog_pull *d = descs[k];
        if (!(ws[k] = eoi_calloc(ctx, 1, sizeof *ws[k]))) {
            st = EO_E_NOMEM;
            break;
        }
        pull_writer(ws[k], ctx, paths[k], d, stage);
    }
    if (st == EO_OK) {
        *m = (struct many){.w = ws, .n = n, .fill = fill, .user = user};
        st = drive(ctx, ws, n, opts, m);
    }
    for (int32_t k = 0; ws && k < n; k++)
        eoi_free(ws[k]);
    eoi_free(ws);
    eoi_free(m);
    return st;
}

eo_status eoi_cog_write_pull(eo_ctx *ctx, const char *path, const eoi_cog_pull *src,
                             const eo_cog_opts *opts) {
    EOI_CHECK_ARG(ctx, path && *path);
    EOI_CHECK_ARG(ctx, src && src->fill);
    return eoi_cog_write_many(ctx, 1, &path, &src, &opts, one_fill, (void *)src, NULL);
}
