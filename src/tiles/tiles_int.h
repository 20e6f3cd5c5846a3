/*
 * tiles_int.h - internals of the tiles layer (above raster and cog): tile
 * sources (tilesrc*.c), the PNG encoder and raster encoding (png.c,
 * encode.c) and the tile renderer (tile_render.c). Never installed.
 */
#ifndef EOPROC_TILES_INT_H
#define EOPROC_TILES_INT_H

#include "../raster/raster_int.h"

/* ---- tilesrc*.c ---------------------------------------------------------- */
/* Drop the dataset's hold on a tile source (after its GDAL handles are
 * closed); the source goes when the last virtual file on it is closed. */
void eoi_tilesrc_release(struct eoi_tilesrc *s);
/* Forget the tiles whose fetch or decoding failed (kept so that every read
 * needing one fails at once without fetching it again), so that the next
 * read fetches them again: a job's restart after the cause was fixed. */
void eoi_tilesrc_retry_failed(struct eoi_tilesrc *s);
/* Announce (delta 1) or withdraw (delta -1, when done) a coming read of
 * window win (dataset pixels): the cache keeps the tiles it needs while
 * reads are announced, evicting the others first (up to 4 times its bound),
 * so that overlapping reads (a job's partitions and their halos) fetch each
 * tile once. eoi_tilesrc_expect_clear withdraws them all. */
void eoi_tilesrc_expect(struct eoi_tilesrc *s, const eo_window *win, int32_t delta);
void eoi_tilesrc_expect_clear(struct eoi_tilesrc *s);
/* For a remote source (URL template, host callback): fetch and decode the
 * tiles of window win not cached yet, up to 16 at once, before a reader
 * asks for them one window after another. Errors are kept for the reads
 * that need the tiles. Other sources: nothing. */
void eoi_tilesrc_prefetch(struct eoi_tilesrc *s, const eo_window *win);
/* Read window win of a tile dataset's source at full resolution, bands
 * (1-based; NULL = all nb) as uint8 planes into dst, decoding the tiles it
 * touches on the context's threads. what names the dataset in errors. */
eo_status eoi_tilesrc_read(eo_ctx *ctx, struct eoi_tilesrc *s, const char *what,
                           const eo_window *win, const int32_t *bands, int32_t nb, void *dst);

/* ---- png.c --------------------------------------------------------------- */
/* PNG of the first `bands` bands (1-4) of an 8- or 16-bit unsigned raster;
 * level is the deflate level (1-12, 6 as zlib's default). *out: eoi_malloc. */
eo_status eoi_png_encode(eo_ctx *ctx, void **out, size_t *size, const eo_raster *r, int32_t bands,
                         int level);
/* The deflate level of PNG tiles when the caller gives none: on an 8192^2
 * RGB scene's 1190 zoom-17 tiles (nearest) level 7 gives 0.97x gdal2tiles'
 * bytes at 0.44x its CPU time; level 3 gave 1.11x, level 6 1.02x
 * (bench/tiles.sh). */
#define EOI_PNG_LEVEL_DEFAULT 7
/* eo_raster_encode with a PNG deflate level (1-12; 0: the default). */
eo_status eoi_raster_encode(eo_ctx *ctx, void **out, size_t *size, const eo_raster *r,
                            const char *format, int32_t quality, int32_t png_level);

/* ---- tile_render.c ------------------------------------------------------ */
/* Renders web-mercator tiles of one source. Holds its own GDAL handles (one
 * per overview level, opened on first need) and transformers, so each
 * worker thread uses a renderer of its own. */
typedef struct eoi_tile_renderer eoi_tile_renderer;

struct eo_tile_opts {
    int32_t size;
    int32_t resampling;
    int32_t *bands; /* NULL = the default choice */
    int32_t band_count;
};

eo_status eoi_tile_renderer_new(eo_ctx *ctx, eoi_tile_renderer **out, const eo_dataset *ds,
                                const eo_tile_opts *opts);
void eoi_tile_renderer_free(eoi_tile_renderer *tr);
/* Render tile z/x/y; *empty is set when no pixel of it has data (the
 * raster is still returned). */
eo_status eoi_tile_render(eo_ctx *ctx, eo_raster **out, bool *empty, eoi_tile_renderer *tr,
                          int32_t z, int32_t x, int32_t y);
/* The raster's outline as an AOI in its own CRS (for the tiles it covers). */
eo_status eoi_dataset_outline(eo_ctx *ctx, eo_geom **out, const eo_dataset *ds);

#endif /* EOPROC_TILES_INT_H */
