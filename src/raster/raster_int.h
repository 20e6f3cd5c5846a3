/*
 * raster_int.h - internals of the raster layer: the layouts of eo_raster,
 * eo_dataset and the option objects, and the dtype / resampling mappings
 * to GDAL. Later layers (cog, ops, ...) include this to reach the GDAL
 * handle of a dataset or the pixels of a raster. Never installed.
 */
#ifndef EOPROC_RASTER_INT_H
#define EOPROC_RASTER_INT_H

#include "eoi.h"

#include <gdal.h>

/* Pixel buffers are aligned to this many bytes (one cache line, one
 * AVX-512 register). */
#define EOI_RASTER_ALIGN 64

struct eo_raster {
    int64_t width;
    int64_t height;
    int32_t bands;
    eo_dtype dtype;
    void *data;  /* EOI_RASTER_ALIGN-aligned, inside alloc */
    void *alloc; /* what eoi_malloc returned */
    size_t nbytes;
    double gt[6];
    int32_t has_gt;
    char *wkt; /* never NULL once built: "" when unknown */
    double nodata;
    int32_t has_nodata;
    uint64_t nodata_bits; /* exact nodata of a 64-bit type (eoi_nodata_bits) */
};

struct eo_dataset {
    GDALDatasetH h;
    /* Opened on first need with OVERVIEW_LEVEL=NONE: a reduced-resolution
     * read at full resolution must not be redirected by GDAL to an
     * overview coarser than the one eoproc picked. */
    GDALDatasetH h_full;
    char *path;         /* names the dataset in messages and info */
    char *source;       /* what GDAL opens: the path, or a mosaic's VRT in /vsimem */
    bool owns_source;   /* source is an in-memory file to remove at close */
    const char *driver; /* GDAL short name, static storage of GDAL */
    /* " (a PNG file, though named .tif)" when the name says GeoTIFF and the
     * content is another format, else "": appended to the path in messages
     * about what such a file lacks */
    char kind_note[80];
    int64_t width;
    int64_t height;
    int32_t band_count;
    eo_dtype *dtypes; /* band_count entries, index 0 = band 1 */
    double gt[6];
    int32_t has_gt;
    char *wkt; /* WKT2:2019 on one line; "" when unknown */
    int32_t overview_count;
    struct eoi_tile_renderer *tiles; /* eo_tile_read's renderer, kept between tiles */
    struct eoi_tilesrc *tilesrc;     /* a tile dataset's source (tilesrc.c), else NULL */
};

struct eo_write_opts {
    char compress[16]; /* "NONE", "DEFLATE", "LZW", "ZSTD" */
    int32_t blocksize; /* 0 = strips */
};

#define EOI_READ_MAX_BANDS 65536

struct eo_read_opts {
    eo_dtype dtype; /* EO_DT_UNKNOWN = type of the first band read */
    int32_t *bands; /* NULL = all */
    int32_t band_count;
    int64_t out_width; /* 0 = window size */
    int64_t out_height;
    int32_t resampling;
    int32_t masks; /* read the GDAL mask bands instead of the pixels */
};

/* ---- dtype.c ----------------------------------------------------------- */
/* GDAL type that holds dt (GDT_Byte for EO_DT_I8, written with
 * PIXELTYPE=SIGNEDBYTE); GDT_Unknown for an unknown type. */
GDALDataType eoi_dtype_to_gdal(eo_dtype dt);
/* eoproc type of a GDAL band (EO_DT_I8 for a SIGNEDBYTE byte band),
 * EO_DT_UNKNOWN for complex and unknown types. */
eo_dtype eoi_dtype_of_band(GDALRasterBandH band);
/* true for EO_DT_F32 / EO_DT_F64 */
bool eoi_dtype_is_float(eo_dtype dt);
/* Store v into sample i of buf of type dt: rounded to nearest (half away
 * from zero) and saturated for integer types; NaN becomes 0. */
void eoi_dtype_store(void *buf, eo_dtype dt, size_t i, double v);
/* Sample i of buf of type dt as a double. */
double eoi_dtype_load(const void *buf, eo_dtype dt, size_t i);
/* Nodata of the 64-bit integer types: a double cannot hold every Int64 /
 * UInt64 value (2^53 + 1 rounds), so the exact value travels beside the
 * double as bits (the uint64, or the int64's two's complement). The bits
 * count only while they agree with the double (a path that sets the double
 * alone gets the double's value, saturated to the type). */
bool eoi_dtype_is_64(eo_dtype dt);
/* A band's nodata without GDAL's "approximate value" warning: the double,
 * and in *bits (may be NULL) the exact value for a 64-bit type. */
double eoi_band_nodata(GDALRasterBandH band, eo_dtype dt, int *has, uint64_t *bits);
/* The exact bits of nodata v of type dt given candidate bits (see above). */
uint64_t eoi_nodata_bits(eo_dtype dt, double v, uint64_t bits);
/* Set a band's nodata: exactly (GDAL's 64-bit setters) for 64-bit types. */
CPLErr eoi_band_set_nodata(GDALRasterBandH band, eo_dtype dt, double v, uint64_t bits);
/* Nodata as the GDAL_NODATA tag's text: "nan", "inf", "-inf", an exact
 * integer for 64-bit types, else %.17g. */
void eoi_nodata_text(char *buf, size_t cap, eo_dtype dt, double v, uint64_t bits);
/* GDAL resampling of an EO_RESAMPLE_* method (nearest for unknown ones). */
GDALRIOResampleAlg eoi_resample_to_gdal(int32_t method);

/* ---- raster.c ---------------------------------------------------------- */
/* Set the raster's CRS WKT as is (no normalization); NULL clears. */
eo_status eoi_raster_set_wkt(eo_ctx *ctx, eo_raster *r, const char *wkt);

/* ---- dataset.c ---------------------------------------------------------- */
/* Open source with GDAL into ds (whose path names it in messages) and read
 * its size, bands, geotransform and CRS. */
eo_status eoi_dataset_open_source(eo_ctx *ctx, eo_dataset *ds, bool is_dir);
/* EO_E_ARG naming the dataset unless w lies inside it. */
eo_status eoi_dataset_check_window(eo_ctx *ctx, const eo_dataset *ds, const eo_window *w);

/* ---- tilesrc.c ---------------------------------------------------------- */
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

/* Read window win of ds at full resolution, bands (1-based, nb of them) as
 * float32 planes (band-sequential, win->width * win->height each) into
 * dst. A tile dataset reads only the tiles under the window (a corrupt one
 * fails this read, naming z/x/y, not its neighbours'); any other through
 * GDAL. (dataset.c) */
eo_status eoi_dataset_read_f32(eo_ctx *ctx, const eo_dataset *ds, const eo_window *win,
                               const int32_t *bands, int32_t nb, float *dst);

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

#endif /* EOPROC_RASTER_INT_H */
