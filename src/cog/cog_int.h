/*
 * cog_int.h - internals of the COG writer: options (cog_opts.c), codecs
 * and predictors (cog_codec.c), overview resampling (cog_overview.c),
 * statistics and the GDAL metadata (cog_stats.c), the TIFF structure
 * (cog_tiff.c), the streaming pipeline (cog_write.c) and the file's layout
 * (cog_layout.c; the writer's state both share is cog_write_int.h). Never
 * installed.
 */
#ifndef EOPROC_COG_INT_H
#define EOPROC_COG_INT_H

#include "../raster/raster_int.h"

/* TIFF compression codes */
#define EOI_COG_NONE 1
#define EOI_COG_LZW 5
#define EOI_COG_DEFLATE 8
#define EOI_COG_ZSTD 50000

/* TIFF predictor codes */
#define EOI_PRED_NONE 1
#define EOI_PRED_HORIZONTAL 2
#define EOI_PRED_FLOAT 3

#define EOI_BIGTIFF_AUTO 0
#define EOI_BIGTIFF_YES 1
#define EOI_BIGTIFF_NO 2

struct eo_cog_opts {
    int32_t compress;  /* EOI_COG_* */
    int32_t level;     /* 0 = the codec's default */
    int32_t predictor; /* EOI_PRED_* */
    int32_t blocksize;
    int32_t overviews;  /* -1 auto, 0 none, N at most N */
    int32_t resampling; /* EO_RESAMPLE_*, -1 auto */
    double nodata;
    int32_t has_nodata;
    int32_t bigtiff; /* EOI_BIGTIFF_* */
    int32_t threads;
    int32_t stats;
};

/* ---- cog_codec.c: compression and predictors --------------------------- */
typedef struct eoi_cog_codec eoi_cog_codec;
/* A compressor for one thread; NULL on allocation failure. */
eoi_cog_codec *eoi_cog_codec_new(int32_t compress, int32_t level);
void eoi_cog_codec_free(eoi_cog_codec *c);
/* Largest compressed size of n bytes. */
size_t eoi_cog_bound(int32_t compress, size_t n);
/* Compress n bytes of src into dst (capacity cap >= eoi_cog_bound); the
 * compressed size, 0 on failure. */
size_t eoi_cog_compress(eoi_cog_codec *c, void *dst, size_t cap, const void *src, size_t n);
/* TIFF LZW (MSB-first codes, early change) of n bytes; 0 if cap is short. */
size_t eoi_cog_lzw(uint8_t *dst, size_t cap, const uint8_t *src, size_t n);
/* Apply a TIFF predictor in place to a tile of w x h pixels of spp samples
 * of esize bytes (scratch: w * spp * esize bytes for the float predictor). */
void eoi_cog_predict(void *tile, int32_t predictor, int64_t w, int64_t h, int32_t spp, size_t esize,
                     uint8_t *scratch);

/* ---- cog_overview.c: one level from the one above ---------------------- */
typedef struct eoi_cog_span {
    int32_t i0, i1; /* source pixels [i0, i1) */
    double w0, w1;  /* weights of the first and the last one */
} eoi_cog_span;

/* Spans of the n destination pixels over a source of size src (GDAL's
 * overview arithmetic); NULL on allocation failure. */
eoi_cog_span *eoi_cog_spans(eo_ctx *ctx, int64_t src, int64_t n);

/* Most source pixels a convolution kernel reaches along one axis. */
#define EOI_COG_MAX_TAPS 32

/* Kernel radius (in destination pixels) of a convolution method:
 * bilinear 1, cubic 2, lanczos 3; 0 for the others. */
int32_t eoi_cog_kernel_radius(int32_t method);
/* Spans of a convolution kernel of the method (the source pixels whose
 * weight is computed, clamped to the source, as GDAL's convolution
 * overviews take them) and, in *weights (n x EOI_COG_MAX_TAPS, eoi_malloc),
 * their unnormalized weights; NULL on allocation failure. */
eoi_cog_span *eoi_cog_conv_spans(eo_ctx *ctx, int64_t src, int64_t n, int32_t method,
                                 double **weights);

typedef struct eoi_cog_resampler {
    int32_t method; /* EO_RESAMPLE_NEAREST / AVERAGE / MODE / BILINEAR / CUBIC / LANCZOS */
    eo_dtype dt;
    int64_t sw, sh, dw, dh; /* source and destination sizes */
    const eoi_cog_span *xs;
    const double *xw; /* convolutions: weights of xs, EOI_COG_MAX_TAPS per pixel */
    const double *yw; /* and of the rows */
    bool has_nodata;
    double nodata;
    bool fast2; /* source columns go exactly two by two */
} eoi_cog_resampler;

/* Destination row j: rows[k] is source row (ys->i0 + k) of one band; out
 * receives dw samples. mask, when not NULL, holds the same rows of an alpha
 * band: a pixel whose alpha is 0 does not count (all but nearest). false
 * when a work buffer cannot be allocated. */
bool eoi_cog_resample_row(const eoi_cog_resampler *rs, const eoi_cog_span *ys, int64_t j,
                          const uint8_t *const *rows, const uint8_t *const *mask, void *out);

/* Destination row j of a validity mask (samples of the resampler's type,
 * nonzero = valid) into out (nonzero = valid): nearest takes the nearest
 * source pixel; every other method marks a pixel valid when any source
 * pixel it draws on with a positive weight is valid (what GDAL's mask
 * overviews hold). */
void eoi_cog_mask_row(const eoi_cog_resampler *rs, const eoi_cog_span *ys, int64_t j,
                      const uint8_t *const *rows, void *out);

/* ---- cog_stats.c ------------------------------------------------------- */
typedef struct eoi_cog_stat {
    double n, total; /* valid and all samples */
    double mean, m2; /* running mean and sum of squared deviations */
    double min, max;
} eoi_cog_stat;

/* Accumulate a w x h block of one band (row stride in samples). */
void eoi_cog_stat_block(eoi_cog_stat *s, const void *data, int64_t stride, int64_t w, int64_t h,
                        eo_dtype dt, bool has_nodata, double nodata);
/* Merge b into a (Chan et al.); order matters only in the last bits. */
void eoi_cog_stat_merge(eoi_cog_stat *a, const eoi_cog_stat *b);
/* Whether sample value v counts as valid. */
bool eoi_cog_valid(double v, bool is_float, bool has_nodata, double nodata);

/* The GDAL metadata XML (tag 42112) for statistics, band descriptions and
 * items of band 1 ("NAME=VALUE", NULL-terminated, or NULL); *out NULL when
 * there is nothing to write. */
eo_status eoi_cog_metadata_xml(eo_ctx *ctx, char **out, int32_t bands, const eoi_cog_stat *stats,
                               char *const *descriptions, const char *const *items);

/* ---- cog_tiff.c: the TIFF structure ------------------------------------ */
typedef struct eoi_tiff_tag {
    uint16_t tag;
    uint16_t type;  /* TIFF type */
    uint64_t count; /* values */
    void *data;     /* little-endian values (owned by the tag list) */
} eoi_tiff_tag;

typedef struct eoi_tiff_ifd {
    eoi_tiff_tag tags[32];
    int ntags;
    /* positions of the TileOffsets values once laid out */
    uint64_t offsets_pos;
} eoi_tiff_ifd;

#define EOI_TIFF_ASCII 2
#define EOI_TIFF_SHORT 3
#define EOI_TIFF_LONG 4
#define EOI_TIFF_DOUBLE 12
#define EOI_TIFF_LONG8 16

/* Add a tag (values copied); false on allocation failure. */
bool eoi_tiff_add(eoi_tiff_ifd *ifd, uint16_t tag, uint16_t type, uint64_t count, const void *v);
void eoi_tiff_ifd_clear(eoi_tiff_ifd *ifd);
/* Bytes an IFD and its out-of-line values take. */
uint64_t eoi_tiff_ifd_size(const eoi_tiff_ifd *ifd, bool big);
/* Serialize the IFD at file offset pos into out (eoi_tiff_ifd_size bytes);
 * next is the offset of the next IFD (0 = last). */
void eoi_tiff_ifd_write(const eoi_tiff_ifd *ifd, bool big, uint64_t pos, uint64_t next,
                        uint8_t *out);

/* GeoTIFF tags (pixel scale + tiepoint or transformation, GeoKeys) for a
 * geotransform and a CRS. */
eo_status eoi_cog_geo_tags(eo_ctx *ctx, eoi_tiff_ifd *ifd, const double *gt, const char *wkt);

/* ---- cog_write.c: a source that fills windows on request --------------- */
/* Fill the window win (full-resolution pixels of the output) of every band:
 * sample (b, row, col) goes to buf + b * band_bytes + row * line_bytes +
 * col * the sample size. Called on the writer's worker threads (worker in
 * [0, 64); 0 is the calling thread), never twice at once with the same
 * worker; must not touch the context: on failure record it in err
 * (eoi_werr_set) and return the status. */
typedef eo_status (*eoi_cog_fill_fn)(void *user, int32_t worker, const eo_window *win, uint8_t *buf,
                                     size_t line_bytes, size_t band_bytes, eoi_werr *err);

typedef struct eoi_cog_pull {
    int64_t width, height;
    int32_t bands;
    eo_dtype dtype;
    double gt[6];
    int32_t has_gt;
    const char *wkt; /* "" or NULL when unknown */
    double nodata;
    int32_t has_nodata;
    uint64_t nodata_bits;          /* exact nodata of a 64-bit type (eoi_nodata_bits) */
    const int32_t *color_interp;   /* GDALColorInterp per band, or NULL */
    char *const *descriptions;     /* per band (entries may be NULL), or NULL */
    GDALColorTableH color_table;   /* of a single-band raster, or NULL */
    bool categorical;              /* auto overview resampling: nearest */
    const char *const *band_items; /* "NAME=VALUE" metadata items of band 1
                                      (class names), NULL-terminated, or NULL */
    eoi_cog_fill_fn fill;
    void *user;
} eoi_cog_pull;

/* Write a COG at path from a pull source, one row of tiles at a time (the
 * fills of a row run in parallel, one tile column each). The same file
 * handling as eo_cog_write (temporary name, renamed at the end). */
eo_status eoi_cog_write_pull(eo_ctx *ctx, const char *path, const eoi_cog_pull *src,
                             const eo_cog_opts *opts);

/* (cog_opts.c) *slot (owned, may be NULL) becomes a copy of src, or NULL for NULL: the
 * options setters of the operations that write COGs. */
eo_status eoi_cog_opts_assign(eo_ctx *ctx, eo_cog_opts **slot, const eo_cog_opts *src);

/* The options of a class raster written beside another output with opts
 * (NULL: defaults): nearest overviews unless mode is asked, no float
 * predictor; NULL or buf. */
const eo_cog_opts *eoi_cog_class_opts(const eo_cog_opts *opts, eo_cog_opts *buf);

/* ---- several outputs of one pass --------------------------------------- */
#define EOI_COG_MAX_OUTPUTS 4

/* Where a fill puts the samples of one output: sample (b, row, col) of the
 * window at buf + b * band_bytes + row * line_bytes + col * sample size. */
typedef struct eoi_cog_out {
    uint8_t *buf;
    size_t line_bytes, band_bytes;
} eoi_cog_out;

/* Fill the window win of every output (outs[k] for output k); the rules of
 * eoi_cog_fill_fn. */
typedef eo_status (*eoi_cog_fill_many_fn)(void *user, int32_t worker, const eo_window *win,
                                          const eoi_cog_out *outs, eoi_werr *err);

/* Write n COGs of the same size (and the same block size) in one pass over
 * a source: descs[k] describes output k (its fill and user are unused),
 * opts[k] its options (NULL entries or a NULL opts: defaults; the thread
 * count is opts[0]'s). fill fills a window of all of them at once. The
 * files appear at paths only when all are complete; on failure none is
 * left. stage names the progress stage (NULL: "cog"). */
eo_status eoi_cog_write_many(eo_ctx *ctx, int32_t n, const char *const *paths,
                             const eoi_cog_pull *const *descs, const eo_cog_opts *const *opts,
                             eoi_cog_fill_many_fn fill, void *user, const char *stage);

/* ---- a producer that pushes rows --------------------------------------- */
/* For a producer that makes whole rows in order on its own threads (the
 * sliding-window segmentation): n outputs of the same size written as
 * their rows come. _room gives where the next rows of each output go
 * (outs[k], the eoi_cog_out layout, row 0 = the next row) and how many fit
 * before the writer must compress them; the producer writes up to that
 * many rows there and _commits them. _close finishes (st: the producer's
 * status): the files appear at their paths only when all are complete and
 * st is EO_OK; otherwise nothing is left. The descriptions and options
 * are copied (band items too; the colour table is read by _open): the
 * caller's may go after _open; the paths must last until _close. */
typedef struct eoi_cog_push eoi_cog_push;
eo_status eoi_cog_push_open(eo_ctx *ctx, eoi_cog_push **out, int32_t n, const char *const *paths,
                            const eoi_cog_pull *const *descs, const eo_cog_opts *const *opts);
int64_t eoi_cog_push_room(eoi_cog_push *p, eoi_cog_out *outs);
eo_status eoi_cog_push_commit(eoi_cog_push *p, int64_t rows);
eo_status eoi_cog_push_close(eoi_cog_push *p, eo_status st);

#endif /* EOPROC_COG_INT_H */
