/*
 * tilesrc_int.h - internals of tile datasets (tilesrc.c: registry, options,
 * opening, diagnostics; tilesrc_fetch.c; tilesrc_cache.c; tilesrc_vsi.c)
 * and the tile decoders (tile_decode.c). Never installed.
 */
#ifndef EOPROC_TILESRC_INT_H
#define EOPROC_TILESRC_INT_H

#include "tiles_int.h"

#include <pthread.h>
#include <sqlite3.h>

#define EOI_TILE_OK 0
#define EOI_TILE_CORRUPT 1    /* err says why */
#define EOI_TILE_WRONG_SIZE 2 /* *w x *h is not size x size */
#define EOI_TILE_FALLBACK 3   /* (eoi_png_decode) for libpng to decode */

/* Decode a PNG, JPEG or WebP tile (by its signature) of size x size pixels
 * into rgba (size * size * 4 bytes, 8 bits per sample, alpha 255 where the
 * image has none). *w, *h: the image's size as far as it was read. Safe to
 * call from any thread; never prints. */
int eoi_tile_decode(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                    int32_t *h, eoi_werr *err);

/* eoproc's own PNG decoder (png_decode.c), as eoi_tile_decode for a PNG
 * (after its signature): 8-bit gray, RGB, palette, gray + alpha and RGBA,
 * not interlaced, inflated by libdeflate. EOI_TILE_FALLBACK for anything it
 * leaves to libpng (other depths, interlacing, unknown critical chunks,
 * damage libpng forgives), with err untouched. eoi_tile_decode uses it
 * unless eo_exp_png_decoder("libpng") said otherwise. */
int eoi_png_decode(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                   int32_t *h, eoi_werr *err);

/* ---- the tile source, shared by tilesrc*.c ------------------------------- */

#define HALF_WORLD EOI_MERC_HALF
#define PREFIX "/vsieotiles/"
#define MAX_TILE_BYTES (64u << 20) /* an encoded tile larger than this is refused */
#define DEFAULT_CACHE (128ll << 20)
#define ERR_MAX EOI_WERR_MAX /* a tile error as a worker gets it (eoi_werr) */

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { KIND_FOLDER, KIND_MBTILES, KIND_CALLBACK, KIND_URL, KIND_TEMPLATE };

#define MAX_STATE_TILES (1 << 24) /* tile ranges up to this many keep a state per tile */
#define MAX_FAILURES 100          /* failures listed in the info (all are counted) */

/* What is known of a tile of the range (state array). */
enum { TS_UNKNOWN, TS_FOUND, TS_MISSING, TS_CORRUPT, TS_FAILED };

struct eo_tilesrc_opts {
    int32_t zoom; /* -1 = not set */
    bool has_extent;
    eo_bbox merc; /* extent in EPSG:3857 */
    int32_t scheme;
    int32_t tile_size;
    int32_t bands;
    int32_t nodata;
    int64_t cache_bytes;
    bool corrupt_ok;
    eo_geom *aoi; /* the AOI whose cover is fetched (EPSG:3857), or NULL */
};

struct eo_tile_sink {
    uint8_t *data;
    size_t size;
    bool set;
    bool nomem;
    char err[256];
};

/* A decoded tile in the cache. */
typedef struct tentry {
    uint64_t key;
    uint8_t *px; /* bands planes of size x size; NULL while loading */
    bool loading;
    int32_t pins;
    struct tentry *hnext;         /* hash chain */
    struct tentry *newer, *older; /* LRU list (ready entries only) */
} tentry;

struct eoi_tilesrc {
    long id;
    int32_t refs; /* under reg_mu: the dataset + open virtual files */
    int kind;
    char *label; /* names the source in messages */
    char *dir;   /* folder */
    sqlite3 *db; /* MBTiles */
    sqlite3_stmt *stmt;
    pthread_mutex_t db_mu;
    eo_tile_fetch_fn fn;
    void *user;
    char *tmpl; /* URL or file template */
    eo_tile_url_fn url_fn;
    void *url_user;
    bool has_tmr; /* the folder has tilemapresource.xml */
    int32_t z, scheme, size, bands, nodata;
    bool corrupt_ok;
    int64_t px0, py0, width, height; /* the dataset's window on the zoom's pixel grid */
    uint64_t plane, fsize;
    int ext_pref; /* index in eoi_tilesrc_exts of the last extension found */

    pthread_mutex_t mu; /* everything below */
    pthread_cond_t cv;
    tentry **hash;
    size_t hcap;
    tentry *newest, *oldest;
    size_t bytes, max_bytes, tile_bytes;
    uint64_t *miss; /* open-addressing set of missing tile keys (key + 1) */
    size_t miss_cap, miss_n;
    int64_t corrupt, decoded, hits;
    char last_err[ERR_MAX];
    /* per tile of the range [tx0, tx0 + ntx) x [ty0, ty0 + nty), when it
     * has at most MAX_STATE_TILES tiles: state (TS_*) and cover (1 = to
     * fetch; NULL = all) */
    int64_t tx0, ty0, ntx, nty;
    uint8_t *state, *cover;
    int32_t *expect; /* per tile of the range: reads announced and not done (or NULL) */
    int64_t ncover, fetched, found, failed, missing;
    struct tfail {
        uint64_t key;
        bool corrupt;
        char *where, *msg;
    } * fails; /* the tiles that failed, with the message a read needing them gets */
    size_t nfails, capfails;
};

#define NEXTS 4

/* The pixels file starts with PIXELS_SKIP bytes of zeros (the header's
 * SKIPBYTES): opening a dataset, GDAL's drivers read the first bytes of the
 * file (32 KiB seen) to identify its format, which must not fetch the first
 * row of tiles (an estimate fetches nothing; a paid source bills each fetch). */
#define PIXELS_SKIP (1 << 20)

extern const char *const eoi_tilesrc_exts[NEXTS];

enum { FETCH_FOUND, FETCH_MISSING, FETCH_ERROR };
enum { LOAD_OK, LOAD_MISSING, LOAD_CORRUPT, LOAD_ERROR };

/* The files call each other one way: tilesrc.c (options, opening,
 * diagnostics) -> tilesrc_vsi.c (the registry, the virtual file) ->
 * tilesrc_cache.c -> tilesrc_fetch.c. */

/* tilesrc_fetch.c */
/* Keep msg as the source's last error and raise it as a sticky CPLError. */
void eoi_tilesrc_error(struct eoi_tilesrc *s, const char *msg);
/* "tile 12/2048/1361 of <label>" (+ where) into buf */
void eoi_tilesrc_tile_name(const struct eoi_tilesrc *s, char *buf, size_t cap, int64_t tx,
                           int64_t ty, const char *where);
int eoi_tilesrc_fetch_folder(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                             size_t *n, char *where, size_t wcap, eoi_werr *err);
int eoi_tilesrc_fetch_mbtiles(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                              size_t *n, char *where, size_t wcap, eoi_werr *err);
int eoi_tilesrc_fetch_callback(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                               size_t *n, eoi_werr *err);
int eoi_tilesrc_fetch_template(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                               size_t *n, char *where, size_t wcap, eoi_werr *err);
int eoi_tilesrc_load_tile(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **px, char *wout,
                          size_t wcap, eoi_werr *err);

/* tilesrc_cache.c */
uint64_t eoi_tilesrc_tile_key(int64_t tx, int64_t ty);
int64_t eoi_tilesrc_state_index(const struct eoi_tilesrc *s, uint64_t key);
size_t eoi_tilesrc_range_tiles(const struct eoi_tilesrc *s);
bool eoi_tilesrc_fill_run(struct eoi_tilesrc *s, int64_t b, int64_t y, int64_t x, int64_t n,
                          uint8_t *dst);
bool eoi_tilesrc_remote(const struct eoi_tilesrc *s);

/* tilesrc_vsi.c */
/* The registry of open sources (by id, for the virtual files' names): add
 * (refs = 1; false when out of memory), take a reference by id (NULL when
 * gone), drop one (unregister: the dataset's); the last frees the source. */
bool eoi_tilesrc_reg_add(struct eoi_tilesrc *s);
struct eoi_tilesrc *eoi_tilesrc_reg_acquire(long id);
void eoi_tilesrc_reg_release(struct eoi_tilesrc *s, bool unregister);
/* Free a source that is in no registry (or whose last reference went). */
void eoi_tilesrc_free(struct eoi_tilesrc *s);
/* Install /vsieotiles/ once; false when GDAL refused it. */
bool eoi_tilesrc_vsi_install(void);

#endif /* EOPROC_TILESRC_INT_H */
