/*
 * cog_write_int.h - the COG writer's state, shared by its pipeline
 * (cog_write.c) and its file layout (cog_layout.c: spool files, IFDs, the
 * file's assembly). Never installed.
 */
#ifndef EOPROC_COG_WRITE_INT_H
#define EOPROC_COG_WRITE_INT_H

#include "cog_int.h"

#define TAIL 20 /* rows of the previous strip a level keeps (a cubic or lanczos kernel's reach) */
#define SPOOL_BUF (1 << 20)
#define MAX_WORKERS 64

struct spool {
    int fd;
    bool borrowed; /* fd is the output file's (closed by its owner) */
    uint8_t *buf;
    size_t len;
    uint64_t total; /* bytes appended */
};

struct level {
    int64_t w, h, tx, ty;
    int64_t strip_y0; /* first row of the current strip */
    int64_t rows;     /* rows of the current strip filled */
    int64_t next_row; /* next row to make (overviews) */
    size_t row_bytes;
    uint8_t *buf; /* bands planes of (TAIL + bs) rows */
    uint64_t *off, *len;
    uint64_t *moff, *mlen; /* the mask's tiles */
    struct spool sp;
    eoi_cog_span *xs, *ys; /* spans over the level above */
    double *xw, *yw;       /* their weights (convolutions) */
    eoi_cog_resampler rs;
};

struct slot {
    uint8_t *data;
    size_t len, cap;
};

struct writer {
    eo_ctx *ctx;
    const char *path;
    const eo_raster *r;
    const eo_dataset *ds;
    const eoi_cog_pull *pull;
    int64_t w, h;
    int32_t bands;
    eo_dtype dt;
    size_t es;
    int32_t bs;
    bool interleaved; /* pixel interleaving */
    int32_t tspp;     /* samples per pixel in a tile buffer */
    int32_t planes;
    int32_t compress, level, predictor, resampling;
    bool has_nodata;
    double nodata;
    uint64_t nodata_bits; /* exact nodata of a 64-bit type */
    bool do_stats;
    int nlevels;
    struct level lv[32];
    int32_t nworkers;
    eoi_cog_codec *codec[MAX_WORKERS];
    uint8_t *tile[MAX_WORKERS], *cbuf[MAX_WORKERS], *scratch[MAX_WORKERS];
    size_t tile_bytes, cbound;
    struct slot *slots;
    eoi_cog_stat *tstats, *stats;
    /* parallel reads: one GDAL handle of the source per worker (worker 0,
     * the calling thread, uses the dataset's own) */
    bool par_read;
    GDALDatasetH rh[MAX_WORKERS];
    eoi_werr rerr[MAX_WORKERS]; /* a tile's error names the tile, its URL and the cause */
    /* the current parallel job */
    struct level *cur;
    int cur_k;
    int64_t job_j0;
    /* metadata */
    double gt[6];
    bool has_gt;
    const char *wkt;
    char **desc;
    int photometric;
    uint16_t *extra;
    int nextra;
    bool alpha_mask; /* the last band is alpha: it masks the others in overviews */
    /* One level only: its tiles go straight into the output file after a
     * hole of this many bytes, room for the header and IFDs whatever they
     * turn out to be; 0 = spool every level and copy at the end. */
    uint64_t direct;
    /* Overviews, and the output's file system inserts ranges: level 0's tiles
     * go into the output from byte 0, the rest is inserted before them. */
    bool insert;
    /* the source's per-dataset mask band (GDAL's .msk or internal mask): kept
     * as one more plane of the level buffers (samples of the data type,
     * nonzero = valid), masking the bands in overviews, and written as
     * 1-bit DEFLATE mask IFDs whose tiles follow the imagery's */
    bool has_mask;
    int32_t mplane;
    eoi_cog_codec *mcodec[MAX_WORKERS];
    uint8_t *mtile[MAX_WORKERS], *mcbuf[MAX_WORKERS];
    size_t mtile_bytes, mbound;
    struct slot *mslots;
    uint16_t *colormap;
    size_t ncolormap;
    const char *const *items; /* metadata items of band 1, or NULL */
    /* the output file while it is written */
    int fd;
    char *tmp, *dircopy;
    const char *dir;   /* the output's folder (in dircopy, or a static ".") */
    const char *stage; /* progress stage name */
};

/* ---- cog_layout.c -------------------------------------------------------- */
eo_status eoi_cog_spool_open(eo_ctx *ctx, struct spool *s, const char *dir, const char *path);
eo_status eoi_cog_spool_add(eo_ctx *ctx, struct spool *s, const void *p, size_t n,
                            const char *path);
void eoi_cog_spool_close(struct spool *s);
bool eoi_cog_can_insert(int fd);
eo_status eoi_cog_direct_reserve(struct writer *w, uint64_t *out);
eo_status eoi_cog_assemble(struct writer *w, int fd, const char *bigtiff_mode);

#endif /* EOPROC_COG_WRITE_INT_H */
