/* tilesrc.c - rasters out of a tile pyramid (a folder, an MBTiles file or a
 * host callback) as ordinary datasets.
 *
 * Everything in eoproc reads datasets through GDAL, often by reopening the
 * dataset's source on worker threads, so a tile dataset must be something
 * GDAL opens by name. It is: a GDAL virtual file system installed once under
 * /vsieotiles/ serves, for each open tile dataset, a virtual raw file
 * /vsieotiles/<id>/pixels holding the dataset's pixels band after band
 * (band-sequential, width x height bytes per band), and the dataset's source
 * is a VRT in /vsimem whose VRTRawRasterBand bands point into that file,
 * georeferenced in EPSG:3857. A read of the virtual file assembles its bytes
 * from decoded tiles, kept in a bounded LRU cache per dataset; a tile being
 * decoded by one thread is waited for by the others, so each tile is fetched
 * and decoded once while it stays in the cache. Decoded tiles are stored in
 * the dataset's band layout, one plane per band, so a row run is a memcpy.
 *
 * Errors inside the callbacks (a corrupt tile, a failing host callback, an
 * SQLite error) are kept on the source and raised with CPLError under
 * EOI_CPLE_STICKY, which the context's GDAL handler keeps over GDAL's own
 * follow-up message, so the caller's error names the tile.
 */
#include "tilesrc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <sqlite3.h>

/* ---- options -------------------------------------------------------------- */

eo_status eo_tilesrc_opts_new(eo_ctx *ctx, eo_tilesrc_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    eo_tilesrc_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    o->zoom = -1;
    o->scheme = EO_TILE_SCHEME_AUTO;
    o->tile_size = 256;
    o->bands = 4;
    o->cache_bytes = DEFAULT_CACHE;
    *out = o;
    return EO_OK;
}

void eo_tilesrc_opts_free(eo_tilesrc_opts *o) {
    if (o)
        eo_geom_free(o->aoi);
    eoi_free(o);
}

/* An integer option within lo..hi, or arg.Invalid naming it. */
static eo_status set_ranged(eo_ctx *ctx, int32_t *dst, int32_t v, int32_t lo, int32_t hi,
                            const char *what) {
    return eoi_set_int_in(ctx, dst, v, lo, hi, "tile dataset: %s %d is outside %d..%d", what);
}

eo_status eo_tilesrc_opts_set_zoom(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t zoom) {
    EOI_CHECK_ARG(ctx, o);
    return set_ranged(ctx, &o->zoom, zoom, 0, EO_TILE_MAX_ZOOM, "zoom");
}

eo_status eo_tilesrc_opts_set_bbox(eo_ctx *ctx, eo_tilesrc_opts *o, const eo_bbox *bbox,
                                   const char *crs) {
    EOI_CHECK_ARG(ctx, o && bbox);
    bool geo;
    if (!crs || strcasecmp(crs, "EPSG:4326") == 0)
        geo = true;
    else if (strcasecmp(crs, "EPSG:3857") == 0)
        geo = false;
    else
        return eoi_fail(ctx, EO_E_ARG,
                        "tile dataset: the bbox CRS must be EPSG:3857 or EPSG:4326, not '%.60s' "
                        "(give an AOI for another CRS)",
                        crs);
    if (!isfinite(bbox->xmin) || !isfinite(bbox->ymin) || !isfinite(bbox->xmax) ||
        !isfinite(bbox->ymax) || bbox->xmax <= bbox->xmin || bbox->ymax <= bbox->ymin)
        return eoi_fail(ctx, EO_E_ARG,
                        "tile dataset: bbox [%g, %g, %g, %g] is not a finite box with xmin < xmax "
                        "and ymin < ymax",
                        bbox->xmin, bbox->ymin, bbox->xmax, bbox->ymax);
    if (geo) {
        o->merc.xmin = eoi_merc_x(bbox->xmin);
        o->merc.xmax = eoi_merc_x(bbox->xmax);
        o->merc.ymin = eoi_merc_y(bbox->ymin);
        o->merc.ymax = eoi_merc_y(bbox->ymax);
    } else {
        o->merc = *bbox;
    }
    o->has_extent = true;
    eo_geom_free(o->aoi);
    o->aoi = NULL;
    return EO_OK;
}

eo_status eo_tilesrc_opts_set_aoi(eo_ctx *ctx, eo_tilesrc_opts *o, const eo_geom *aoi) {
    EOI_CHECK_ARG(ctx, o && aoi);
    eo_geom *m = NULL;
    eo_bbox b;
    eo_status st = eo_geom_transform(ctx, &m, aoi, "EPSG:3857");
    if (st == EO_OK)
        st = eo_geom_bbox(ctx, m, &b);
    if (st == EO_OK)
        st = eo_tilesrc_opts_set_bbox(ctx, o, &b, "EPSG:3857");
    if (st != EO_OK) {
        eo_geom_free(m);
        return st;
    }
    o->aoi = m; /* after set_bbox, which drops an AOI given before */
    return EO_OK;
}

eo_status eo_tilesrc_opts_set_scheme(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t scheme) {
    EOI_CHECK_ARG(ctx, o);
    if (scheme != EO_TILE_SCHEME_XYZ && scheme != EO_TILE_SCHEME_TMS &&
        scheme != EO_TILE_SCHEME_QUADKEY && scheme != EO_TILE_SCHEME_AUTO)
        return eoi_fail(ctx, EO_E_ARG,
                        "tile dataset: unknown scheme %d (auto -1, xyz 0, tms 1, quadkey 2)",
                        (int)scheme);
    o->scheme = scheme;
    return EO_OK;
}

eo_status eo_tilesrc_opts_set_tile_size(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t size) {
    EOI_CHECK_ARG(ctx, o);
    return set_ranged(ctx, &o->tile_size, size, 1, 4096, "tile size");
}

eo_status eo_tilesrc_opts_set_bands(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t bands) {
    EOI_CHECK_ARG(ctx, o);
    return set_ranged(ctx, &o->bands, bands, 1, 4,
                      "band count (4 RGBA, 3 RGB, 2 gray + alpha, 1 gray)");
}

eo_status eo_tilesrc_opts_set_nodata(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t value) {
    EOI_CHECK_ARG(ctx, o);
    return set_ranged(ctx, &o->nodata, value, 0, 255, "nodata");
}

eo_status eo_tilesrc_opts_set_cache_bytes(eo_ctx *ctx, eo_tilesrc_opts *o, int64_t bytes) {
    EOI_CHECK_ARG(ctx, o);
    if (bytes < 0)
        return eoi_fail(ctx, EO_E_ARG, "tile dataset: cache size %lld is negative",
                        (long long)bytes);
    o->cache_bytes = bytes;
    return EO_OK;
}

eo_status eo_tilesrc_opts_set_corrupt_as_missing(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t yes) {
    EOI_CHECK_ARG(ctx, o);
    o->corrupt_ok = yes != 0;
    return EO_OK;
}

/* ---- what a source holds (for messages and diagnostics) ------------------- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The numeric entries of dir (zooms, columns), sorted, at most cap. */
static size_t list_numbers(const char *dir, int64_t *v, size_t cap) {
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; n < cap && (e = readdir(d));) {
        const char *p = e->d_name;
        size_t len = strspn(p, "0123456789");
        if (len == 0 || len > 9 || (p[len] && p[len] != '.'))
            continue;
        v[n++] = strtoll(p, NULL, 10);
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_i64);
    return n;
}

/* "zooms 12..16" or "zooms 3, 7, 9" of sorted v, into buf. */
static void ranges_text(const int64_t *v, size_t n, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len + 24 < cap;) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        if (j > i)
            len += (size_t)snprintf(buf + len, cap - len, "%s%lld..%lld", i ? ", " : "",
                                    (long long)v[i], (long long)v[j]);
        else
            len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "", (long long)v[i]);
        i = j + 1;
    }
}

/* "the folder has zooms 14..16" (or "... no zoom folders") into buf. */
static void folder_zooms(const char *dir, char *buf, size_t cap) {
    int64_t v[64];
    size_t n = list_numbers(dir, v, 64);
    char r[200];
    ranges_text(v, n, r, sizeof r);
    if (n)
        snprintf(buf, cap, "the folder has zoom%s %s", n > 1 ? "s" : "", r);
    else
        snprintf(buf, cap, "the folder has no zoom folders {z}/");
}

/* ---- opening --------------------------------------------------------------- */

static const char *scheme_name(int32_t s) {
    return s == EO_TILE_SCHEME_TMS ? "tms" : s == EO_TILE_SCHEME_QUADKEY ? "quadkey" : "xyz";
}

/* The source's pixel window from the options. */
static eo_status plan(eo_ctx *ctx, struct eoi_tilesrc *s, const eo_tilesrc_opts *o) {
    if (o->zoom < 0 || !o->has_extent)
        return eoi_fail(ctx, EO_E_ARG, "tile dataset: %s",
                        o->zoom < 0 ? "no zoom given (eo_tilesrc_opts_set_zoom)"
                                    : "no extent given (a bbox or an AOI)");
    s->z = o->zoom;
    s->scheme = o->scheme;
    s->size = o->tile_size;
    s->bands = o->bands;
    s->nodata = o->nodata;
    s->corrupt_ok = o->corrupt_ok;
    double world = (double)s->size * ldexp(1.0, s->z);
    double res = 2 * HALF_WORLD / world;
    const double eps = 1e-6;
    double fx0 = floor((o->merc.xmin + HALF_WORLD) / res + eps);
    double fx1 = ceil((o->merc.xmax + HALF_WORLD) / res - eps);
    double fy0 = floor((HALF_WORLD - o->merc.ymax) / res + eps);
    double fy1 = ceil((HALF_WORLD - o->merc.ymin) / res - eps);
    fx0 = fmax(fx0, 0);
    fy0 = fmax(fy0, 0);
    fx1 = fmin(fx1, world);
    fy1 = fmin(fy1, world);
    if (!(fx1 > fx0) || !(fy1 > fy0))
        return eoi_fail(ctx, EO_E_ARG,
                        "tile dataset: the extent [%.3f, %.3f, %.3f, %.3f] (EPSG:3857) lies "
                        "outside the web-mercator grid",
                        o->merc.xmin, o->merc.ymin, o->merc.xmax, o->merc.ymax);
    if (fx1 - fx0 > INT32_MAX || fy1 - fy0 > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT,
                        "tile dataset: the extent is %.0f x %.0f pixels at zoom %d: at most "
                        "2147483647 on a side (choose a lower zoom or a smaller extent)",
                        fx1 - fx0, fy1 - fy0, (int)s->z);
    s->px0 = (int64_t)fx0;
    s->py0 = (int64_t)fy0;
    s->width = (int64_t)(fx1 - fx0);
    s->height = (int64_t)(fy1 - fy0);
    s->plane = (uint64_t)s->width * (uint64_t)s->height;
    s->fsize = PIXELS_SKIP + s->plane * (uint64_t)s->bands;
    s->tile_bytes = (size_t)s->size * (size_t)s->size * (size_t)s->bands + sizeof(tentry);
    /* at least two rows of tiles across the dataset, whatever the bound */
    size_t across = (size_t)((s->px0 + s->width - 1) / s->size - s->px0 / s->size + 1);
    size_t floor_bytes = 2 * across * s->tile_bytes;
    s->max_bytes = (size_t)o->cache_bytes > floor_bytes ? (size_t)o->cache_bytes : floor_bytes;
    s->hcap = 1024;
    while (s->hcap < 2 * (s->max_bytes / s->tile_bytes + 1) && s->hcap < ((size_t)1 << 24))
        s->hcap *= 2;
    if (!(s->hash = eoi_calloc(ctx, s->hcap, sizeof *s->hash)))
        return EO_E_NOMEM;
    /* the tile range, a state per tile, and the AOI's cover */
    s->tx0 = s->px0 / s->size;
    s->ty0 = s->py0 / s->size;
    s->ntx = (s->px0 + s->width - 1) / s->size - s->tx0 + 1;
    s->nty = (s->py0 + s->height - 1) / s->size - s->ty0 + 1;
    s->ncover = (int64_t)eoi_tilesrc_range_tiles(s); /* without an AOI, the whole range */
    if (s->ncover > MAX_STATE_TILES)
        return EO_OK; /* counted without states; every tile of the range is fetched */
    if (!(s->state = calloc(eoi_tilesrc_range_tiles(s), 1)))
        return eoi_fail(ctx, EO_E_NOMEM, "tile dataset: no memory for %lld tile states",
                        (long long)s->ncover);
    if (!o->aoi)
        return EO_OK;
    eo_tile *tiles = NULL;
    int64_t n = 0;
    eo_status st = eo_tiles_cover(ctx, &tiles, &n, o->aoi, s->z);
    if (st != EO_OK)
        return st;
    if (!(s->cover = calloc(eoi_tilesrc_range_tiles(s), 1))) {
        eo_free(tiles);
        return eoi_fail(ctx, EO_E_NOMEM, "tile dataset: no memory for the AOI's cover");
    }
    s->ncover = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = eoi_tilesrc_state_index(s, eoi_tilesrc_tile_key(tiles[i].x, tiles[i].y));
        if (k >= 0 && !s->cover[k]) {
            s->cover[k] = 1;
            s->ncover++;
        }
    }
    eo_free(tiles);
    return EO_OK;
}

static eo_status open_mbtiles(eo_ctx *ctx, struct eoi_tilesrc *s, const char *path, int64_t fsize) {
    uint8_t head[100];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, head, sizeof head) : -1;
    if (fd >= 0)
        close(fd);
    if (got < 16 || memcmp(head, "SQLite format 3", 16) != 0)
        return eoi_fail(ctx, EO_E_SOURCE,
                        "%s: not an MBTiles file (no SQLite header) and not a folder of tiles",
                        path);
    if (got == (ssize_t)sizeof head) {
        /* the header's page size and page count give the file's length */
        uint32_t psize = ((uint32_t)head[16] << 8) | head[17];
        if (psize == 1)
            psize = 65536;
        uint32_t pages = ((uint32_t)head[28] << 24) | ((uint32_t)head[29] << 16) |
                         ((uint32_t)head[30] << 8) | head[31];
        uint32_t change = ((uint32_t)head[24] << 24) | ((uint32_t)head[25] << 16) |
                          ((uint32_t)head[26] << 8) | head[27];
        uint32_t valid_for = ((uint32_t)head[92] << 24) | ((uint32_t)head[93] << 16) |
                             ((uint32_t)head[94] << 8) | head[95];
        if (pages && change == valid_for && (int64_t)pages * psize > fsize)
            return eoi_fail(ctx, EO_E_SOURCE,
                            "%s: truncated MBTiles file: its header says %lld bytes (%u pages of "
                            "%u), the file has %lld",
                            path, (long long)pages * psize, pages, psize, (long long)fsize);
    }
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND "
                                "tile_column = ?2 AND tile_row = ?3",
                                -1, &s->stmt, NULL);
    if (rc != SQLITE_OK)
        return eoi_fail(ctx, EO_E_SOURCE, "%s: not an MBTiles file: %s", path,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    return EO_OK;
}

static eo_status write_vrt(eo_ctx *ctx, struct eoi_tilesrc *s, eo_dataset *ds) {
    static const char *const ci[4][4] = {
        {"Gray"}, {"Gray", "Alpha"}, {"Red", "Green", "Blue"}, {"Red", "Green", "Blue", "Alpha"}};
    double res = 2 * HALF_WORLD / ((double)s->size * ldexp(1.0, s->z));
    size_t cap = 1024 + 640 * (size_t)s->bands, len = 0;
    char *xml = CPLMalloc(cap);
    len += (size_t)snprintf(xml + len, cap - len,
                            "<VRTDataset rasterXSize=\"%lld\" rasterYSize=\"%lld\">\n"
                            "  <SRS dataAxisToSRSAxisMapping=\"1,2\">EPSG:3857</SRS>\n"
                            "  <GeoTransform>%.17g, %.17g, 0, %.17g, 0, %.17g</GeoTransform>\n",
                            (long long)s->width, (long long)s->height,
                            -HALF_WORLD + (double)s->px0 * res, res,
                            HALF_WORLD - (double)s->py0 * res, -res);
    bool alpha = s->bands == 2 || s->bands == 4;
    for (int32_t b = 0; b < s->bands; b++) {
        char nd[64] = "";
        if (!alpha)
            snprintf(nd, sizeof nd, "    <NoDataValue>%d</NoDataValue>\n", (int)s->nodata);
        len += (size_t)snprintf(
            xml + len, cap - len,
            "  <VRTRasterBand dataType=\"Byte\" band=\"%d\">\n"
            "    <ColorInterp>%s</ColorInterp>\n%s"
            "    <SimpleSource>\n"
            "      <SourceFilename relativeToVRT=\"0\">" PREFIX "%ld/pixels.bil</SourceFilename>\n"
            "      <SourceBand>%d</SourceBand>\n"
            "      <SrcRect xOff=\"0\" yOff=\"0\" xSize=\"%lld\" ySize=\"%lld\"/>\n"
            "      <DstRect xOff=\"0\" yOff=\"0\" xSize=\"%lld\" ySize=\"%lld\"/>\n"
            "    </SimpleSource>\n"
            "  </VRTRasterBand>\n",
            (int)b + 1, ci[s->bands - 1][b], nd, s->id, (int)b + 1, (long long)s->width,
            (long long)s->height, (long long)s->width, (long long)s->height);
    }
    len += (size_t)snprintf(xml + len, cap - len, "</VRTDataset>\n");
    char name[64];
    eoi_vsimem_name(name, sizeof name, "tiles", ".vrt");
    if (!(ds->source = eoi_strdup(ctx, name))) {
        CPLFree(xml);
        return EO_E_NOMEM;
    }
    VSILFILE *f = VSIFileFromMemBuffer(name, (GByte *)xml, len, TRUE);
    if (!f) {
        CPLFree(xml);
        return eoi_fail(ctx, EO_E_INTERNAL, "%s: cannot make the in-memory VRT", s->label);
    }
    VSIFCloseL(f);
    ds->owns_source = true;
    return EO_OK;
}

static eo_status open_common(eo_ctx *ctx, eo_dataset **out, struct eoi_tilesrc *s,
                             const eo_tilesrc_opts *opts) {
    eo_dataset *ds = NULL;
    eo_status st = plan(ctx, s, opts);
    if (st != EO_OK) {
        eoi_tilesrc_free(s);
        return st;
    }
    if (!eoi_tilesrc_vsi_install()) {
        eoi_tilesrc_free(s);
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot install the %s virtual file system in GDAL",
                        PREFIX);
    }
    if (!eoi_tilesrc_reg_add(s)) {
        eoi_tilesrc_free(s);
        return EO_E_NOMEM;
    }
    if (!(ds = eoi_calloc(ctx, 1, sizeof *ds))) {
        eoi_tilesrc_release(s);
        return EO_E_NOMEM;
    }
    ds->tilesrc = s;
    ds->tilesrc_read = eoi_tilesrc_read;
    ds->tilesrc_release = eoi_tilesrc_release;
    char label[4200];
    snprintf(label, sizeof label, "%s (zoom %d tiles)", s->label, (int)s->z);
    if (!(ds->path = eoi_strdup(ctx, label))) {
        eo_dataset_close(ds);
        return EO_E_NOMEM;
    }
    eoi_gdal_begin(ctx);
    st = write_vrt(ctx, s, ds);
    if (st == EO_OK)
        st = eoi_dataset_open_source(ctx, ds, false);
    eoi_gdal_end(ctx);
    if (st != EO_OK) {
        eo_dataset_close(ds);
        return st;
    }
    eoi_log(ctx, EO_LOG_DEBUG,
            "%s: %lld x %lld pixels from pixel (%lld, %lld) of zoom %d, %d bands, cache %zu bytes",
            ds->path, (long long)s->width, (long long)s->height, (long long)s->px0,
            (long long)s->py0, (int)s->z, (int)s->bands, s->max_bytes);
    *out = ds;
    return EO_OK;
}

static struct eoi_tilesrc *src_new(eo_ctx *ctx) {
    struct eoi_tilesrc *s = eoi_calloc(ctx, 1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->db_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

eo_status eo_ctx_set_tile_url_fetcher(eo_ctx *ctx, eo_tile_url_fn fn, void *user) {
    if (!ctx)
        return EO_E_ARG;
    ctx->tile_url_fn = fn;
    ctx->tile_url_user = fn ? user : NULL;
    return EO_OK;
}

static bool is_url(const char *path) {
    return strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0;
}

/* A path with a placeholder, or a URL: a template. */
static bool is_template(const char *path) { return is_url(path) || strchr(path, '{'); }

/* The placeholders of a template are known ones and name a tile; *scheme
 * gets the row order they say. */
static eo_status check_template(eo_ctx *ctx, const char *t, int32_t *scheme) {
    bool x = false, y = false, ny = false, q = false;
    for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
        const char *e = strchr(p, '}');
        size_t n = e ? (size_t)(e - p + 1) : 0;
        if (n == 3 && p[1] == 'x')
            x = true;
        else if (n == 3 && p[1] == 'y')
            y = true;
        else if (n == 4 && strncmp(p, "{-y}", 4) == 0)
            ny = true;
        else if ((n == 3 && p[1] == 'q') || (n == 9 && strncmp(p, "{quadkey}", 9) == 0))
            q = true;
        else if (!(n == 3 && p[1] == 'z'))
            return eoi_fail(ctx, EO_E_ARG,
                            "%s: unknown placeholder '%.*s' in the tile template (known: {z}, "
                            "{x}, {y}, {-y}, {q})",
                            t, e ? (int)n : 12, p);
    }
    if (!q && !(x && (y || ny)))
        return eoi_fail(ctx, EO_E_ARG,
                        "%s: a tile template needs {x} with {y} or {-y}, or {q} (e.g. "
                        "https://host/{z}/{x}/{y}.png)",
                        t);
    *scheme = q ? EO_TILE_SCHEME_QUADKEY : ny ? EO_TILE_SCHEME_TMS : EO_TILE_SCHEME_XYZ;
    return EO_OK;
}

static eo_status open_template(eo_ctx *ctx, eo_dataset **out, const char *path,
                               const eo_tilesrc_opts *opts) {
    int32_t scheme = 0;
    eo_status st = check_template(ctx, path, &scheme);
    if (st != EO_OK)
        return st;
    bool url = is_url(path);
    if (url && !ctx->tile_url_fn)
        return eoi_fail(ctx, EO_E_SOURCE,
                        "%s: a URL template needs a host that fetches tiles "
                        "(eo_ctx_set_tile_url_fetcher; the eoproc CLI is one): the library does "
                        "no networking",
                        path);
    struct eoi_tilesrc *s = src_new(ctx);
    if (!s)
        return EO_E_NOMEM;
    s->kind = url ? KIND_URL : KIND_TEMPLATE;
    s->url_fn = ctx->tile_url_fn;
    s->url_user = ctx->tile_url_user;
    if (!(s->label = eoi_strdup(ctx, path)) || !(s->tmpl = eoi_strdup(ctx, path))) {
        eoi_tilesrc_free(s);
        return EO_E_NOMEM;
    }
    eo_tilesrc_opts o = *opts;
    o.scheme = scheme;
    return open_common(ctx, out, s, &o);
}

/* Whether dir/name exists (as anything). */
static bool exists_in(const char *dir, const char *name) {
    char p[4400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

/* A file {quadkey of zoom z}.ext in dir, for guessing the layout. */
static bool has_quadkey_files(const char *dir, int32_t z) {
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        const char *dot = strrchr(e->d_name, '.');
        size_t n = dot ? (size_t)(dot - e->d_name) : 0;
        found = n == (size_t)z && n > 0 && strspn(e->d_name, "0123") == n;
    }
    closedir(d);
    return found;
}

eo_status eo_dataset_open_tiles(eo_ctx *ctx, eo_dataset **out, const char *path,
                                const eo_tilesrc_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path && *path && opts);
    if (is_template(path))
        return open_template(ctx, out, path, opts);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return eoi_fail(ctx, EO_E_IO_NOT_FOUND, "%s: no such folder or MBTiles file", path);
        return eoi_fail(ctx, EO_E_IO_READ, "%s: %s", path, strerror(e));
    }
    struct eoi_tilesrc *s = src_new(ctx);
    if (!s)
        return EO_E_NOMEM;
    eo_status st = EO_OK;
    int32_t scheme = opts->scheme;
    if (!(s->label = eoi_strdup(ctx, path))) {
        st = EO_E_NOMEM;
    } else if (S_ISDIR(sb.st_mode)) {
        s->kind = KIND_FOLDER;
        if (!(s->dir = eoi_strdup(ctx, path)))
            st = EO_E_NOMEM;
        s->has_tmr = exists_in(path, "tilemapresource.xml");
        char zdir[4200], zname[16];
        snprintf(zname, sizeof zname, "%d", (int)opts->zoom);
        snprintf(zdir, sizeof zdir, "%s/%d", path, (int)opts->zoom);
        struct stat zb;
        bool has_z = stat(zdir, &zb) == 0 && S_ISDIR(zb.st_mode);
        scheme = opts->scheme;
        if (scheme == EO_TILE_SCHEME_AUTO)
            scheme = s->has_tmr                                      ? EO_TILE_SCHEME_TMS
                     : !has_z && has_quadkey_files(path, opts->zoom) ? EO_TILE_SCHEME_QUADKEY
                                                                     : EO_TILE_SCHEME_XYZ;
        if (st == EO_OK && scheme != EO_TILE_SCHEME_QUADKEY && opts->zoom >= 0 && !has_z) {
            char zooms[256];
            folder_zooms(path, zooms, sizeof zooms);
            st = eoi_fail(ctx, EO_E_SOURCE,
                          "%s: no folder %d/ for zoom %d: not a {z}/{x}/{y} tile pyramid at that "
                          "zoom%s%s",
                          path, (int)opts->zoom, (int)opts->zoom, zooms[0] ? "; " : "", zooms);
        }
    } else {
        s->kind = KIND_MBTILES;
        if (opts->scheme == EO_TILE_SCHEME_QUADKEY)
            st = eoi_fail(ctx, EO_E_ARG, "%s: an MBTiles file has no %s scheme", path,
                          scheme_name(opts->scheme));
        else
            st = open_mbtiles(ctx, s, path, (int64_t)sb.st_size);
    }
    if (st != EO_OK) {
        eoi_tilesrc_free(s);
        return st;
    }
    eo_tilesrc_opts o = *opts;
    o.scheme = scheme == EO_TILE_SCHEME_AUTO ? EO_TILE_SCHEME_TMS : scheme; /* MBTiles: TMS */
    return open_common(ctx, out, s, &o);
}

eo_status eo_dataset_open_tiles_callback(eo_ctx *ctx, eo_dataset **out, eo_tile_fetch_fn fn,
                                         void *user, const eo_tilesrc_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, fn && opts);
    struct eoi_tilesrc *s = src_new(ctx);
    if (!s)
        return EO_E_NOMEM;
    s->kind = KIND_CALLBACK;
    s->fn = fn;
    s->user = user;
    if (!(s->label = eoi_strdup(ctx, "the host tile callback"))) {
        eoi_tilesrc_free(s);
        return EO_E_NOMEM;
    }
    eo_tilesrc_opts o = *opts;
    o.scheme = EO_TILE_SCHEME_XYZ;
    return open_common(ctx, out, s, &o);
}

/* ---- counters --------------------------------------------------------------- */

int64_t eo_dataset_tiles_missing(const eo_dataset *ds) {
    struct eoi_tilesrc *s = ds ? ds->tilesrc : NULL;
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    int64_t n = s->missing;
    pthread_mutex_unlock(&s->mu);
    return n;
}

eo_status eo_dataset_tiles_info(eo_ctx *ctx, char **out_json, const eo_dataset *ds) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, ds);
    struct eoi_tilesrc *s = ds->tilesrc;
    if (!s)
        return eoi_fail(ctx, EO_E_SOURCE, "%s: not a tile dataset", ds->path);
    static const char *const kinds[] = {"folder", "mbtiles", "callback", "url", "template"};
    json_object *o = json_object_new_object(), *fl = json_object_new_array();
    if (!o || !fl) {
        json_object_put(o);
        json_object_put(fl);
        return EO_E_NOMEM;
    }
    int64_t T = s->size;
    pthread_mutex_lock(&s->mu);
    int64_t missing = s->missing, corrupt = s->corrupt, decoded = s->decoded, hits = s->hits,
            bytes = (int64_t)s->bytes, found = s->found, failed = s->failed;
    int64_t fetched = __atomic_load_n(&s->fetched, __ATOMIC_RELAXED);
    char last[ERR_MAX];
    snprintf(last, sizeof last, "%s", s->last_err);
    for (size_t i = 0; i < s->nfails && i < MAX_FAILURES; i++) {
        const struct tfail *f = &s->fails[i];
        json_object *e = json_object_new_object();
        if (!e)
            break;
        json_object_object_add(e, "z", json_object_new_int(s->z));
        json_object_object_add(e, "x", json_object_new_int64((int64_t)(f->key >> 32)));
        json_object_object_add(e, "y", json_object_new_int64((int64_t)(f->key & 0xffffffffu)));
        json_object_object_add(e, "where", json_object_new_string(f->where));
        json_object_object_add(e, "kind", json_object_new_string(f->corrupt ? "corrupt" : "error"));
        json_object_object_add(e, "error", json_object_new_string(f->msg));
        json_object_array_add(fl, e);
    }
    pthread_mutex_unlock(&s->mu);
    json_object_object_add(o, "source", json_object_new_string(s->label));
    json_object_object_add(o, "kind", json_object_new_string(kinds[s->kind]));
    json_object_object_add(o, "zoom", json_object_new_int(s->z));
    json_object_object_add(o, "scheme",
                           json_object_new_string(s->kind == KIND_MBTILES ? "tms"
                                                  : s->kind == KIND_CALLBACK
                                                      ? "xyz"
                                                      : scheme_name(s->scheme)));
    if (s->tmpl)
        json_object_object_add(o, "template", json_object_new_string(s->tmpl));
    json_object_object_add(o, "tile_size", json_object_new_int(s->size));
    json_object_object_add(o, "x_min", json_object_new_int64(s->px0 / T));
    json_object_object_add(o, "y_min", json_object_new_int64(s->py0 / T));
    json_object_object_add(o, "x_max", json_object_new_int64((s->px0 + s->width - 1) / T));
    json_object_object_add(o, "y_max", json_object_new_int64((s->py0 + s->height - 1) / T));
    json_object_object_add(o, "cover", json_object_new_int64(s->ncover));
    json_object_object_add(o, "fetched", json_object_new_int64(fetched));
    json_object_object_add(o, "found", json_object_new_int64(found));
    json_object_object_add(o, "missing", json_object_new_int64(missing));
    json_object_object_add(o, "corrupt", json_object_new_int64(corrupt));
    json_object_object_add(o, "failed", json_object_new_int64(failed));
    json_object_object_add(o, "failures", fl);
    json_object_object_add(o, "decoded", json_object_new_int64(decoded));
    json_object_object_add(o, "cache_hits", json_object_new_int64(hits));
    json_object_object_add(o, "cache_bytes", json_object_new_int64(bytes));
    json_object_object_add(o, "cache_max_bytes", json_object_new_int64((int64_t)s->max_bytes));
    json_object_object_add(o, "last_error", last[0] ? json_object_new_string(last) : NULL);
    json_object_object_add(o, "gdal_path", json_object_new_string(ds->source));
    eo_status st = eoi_json_dump(ctx, out_json, o, false);
    json_object_put(o);
    return st;
}

const char *eo_dataset_gdal_path(const eo_dataset *ds) {
    return ds && ds->source ? ds->source : "";
}

/* ---- diagnostics ------------------------------------------------------------ */

/* Whether the source has tile (tx, ty) (XYZ address, in the source's own
 * naming): 1 yes, 0 no, -1 unknown (an error). Fetches the bytes. */
static int probe_tile(struct eoi_tilesrc *s, int64_t tx, int64_t ty) {
    uint8_t *bytes = NULL;
    size_t n = 0;
    char where[4200];
    eoi_werr err;
    int rc;
    if (s->kind == KIND_FOLDER)
        rc = eoi_tilesrc_fetch_folder(s, tx, ty, &bytes, &n, where, sizeof where, &err);
    else if (s->kind == KIND_MBTILES)
        rc = eoi_tilesrc_fetch_mbtiles(s, tx, ty, &bytes, &n, where, sizeof where, &err);
    else if (s->kind == KIND_CALLBACK)
        rc = eoi_tilesrc_fetch_callback(s, tx, ty, &bytes, &n, &err);
    else
        rc = eoi_tilesrc_fetch_template(s, tx, ty, &bytes, &n, where, sizeof where, &err);
    free(bytes);
    return rc == FETCH_FOUND ? 1 : rc == FETCH_MISSING ? 0 : -1;
}

/* Of up to max tiles of [x0..x1] x [y0..y1] (spread over it), how many the
 * source has, with the rows flipped when flip; *tried gets the count tried. */
static int probe_range(struct eoi_tilesrc *s, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
                       bool flip, int max, int *tried) {
    int64_t nx = x1 - x0 + 1, ny = y1 - y0 + 1, n = nx * ny, last = ((int64_t)1 << s->z) - 1;
    int found = 0;
    *tried = 0;
    for (int k = 0; k < max && k < n; k++) {
        int64_t i = n <= max ? k : (int64_t)((double)k * (double)n / max);
        int64_t tx = x0 + i % nx, ty = y0 + i / nx;
        if (flip)
            ty = last - ty;
        if (tx < 0 || ty < 0 || tx > last || ty > last)
            continue;
        int r = probe_tile(s, tx, ty);
        (*tried)++;
        found += r == 1;
    }
    return found;
}

/* The tile range a folder or an MBTiles file has at zoom z (XYZ rows); false
 * when unknown. */
static bool source_extent(struct eoi_tilesrc *s, int64_t *x0, int64_t *y0, int64_t *x1,
                          int64_t *y1) {
    int64_t last = ((int64_t)1 << s->z) - 1;
    if (s->kind == KIND_MBTILES) {
        sqlite3_stmt *q = NULL;
        bool ok = false;
        pthread_mutex_lock(&s->db_mu);
        if (sqlite3_prepare_v2(s->db,
                               "SELECT MIN(tile_column), MAX(tile_column), MIN(tile_row), "
                               "MAX(tile_row) FROM tiles WHERE zoom_level = ?1",
                               -1, &q, NULL) == SQLITE_OK) {
            sqlite3_bind_int(q, 1, s->z);
            if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
                *x0 = sqlite3_column_int64(q, 0);
                *x1 = sqlite3_column_int64(q, 1);
                *y0 = last - sqlite3_column_int64(q, 3);
                *y1 = last - sqlite3_column_int64(q, 2);
                ok = true;
            }
        }
        sqlite3_finalize(q);
        pthread_mutex_unlock(&s->db_mu);
        return ok;
    }
    if (s->kind != KIND_FOLDER || s->scheme == EO_TILE_SCHEME_QUADKEY)
        return false;
    char zdir[4200];
    snprintf(zdir, sizeof zdir, "%s/%d", s->dir, (int)s->z);
    static const size_t cap = 1 << 16;
    int64_t *xs = malloc(cap * sizeof *xs), *ys = malloc(cap * sizeof *ys);
    size_t nx = xs ? list_numbers(zdir, xs, cap) : 0;
    bool ok = false;
    for (size_t i = 0; ys && i < nx; i += (nx + 7) / 8) {
        char xdir[4300];
        snprintf(xdir, sizeof xdir, "%s/%lld", zdir, (long long)xs[i]);
        size_t ny = list_numbers(xdir, ys, cap);
        if (!ny)
            continue;
        int64_t a = ys[0], b = ys[ny - 1];
        if (s->scheme == EO_TILE_SCHEME_TMS) {
            int64_t t = last - a;
            a = last - b;
            b = t;
        }
        if (!ok || a < *y0)
            *y0 = a;
        if (!ok || b > *y1)
            *y1 = b;
        ok = true;
    }
    if (ok) {
        *x0 = xs[0];
        *x1 = xs[nx - 1];
    }
    free(xs);
    free(ys);
    return ok;
}

static const char *order_name(const struct eoi_tilesrc *s) {
    if (s->kind == KIND_MBTILES)
        return "MBTiles (TMS)";
    return s->scheme == EO_TILE_SCHEME_TMS       ? "TMS"
           : s->scheme == EO_TILE_SCHEME_QUADKEY ? "QuadKey"
                                                 : "XYZ";
}

/* Append ("; " between parts) to a growing message. */
static void add_part(char *buf, size_t cap, const char *fmt, ...) EOI_PRINTF(3, 4);
static void add_part(char *buf, size_t cap, const char *fmt, ...) {
    size_t len = strlen(buf);
    if (len && len + 2 < cap) {
        memcpy(buf + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

eo_status eo_tilesrc_diagnose(eo_ctx *ctx, char **out_msg, const eo_dataset *ds,
                              const eo_geom *aoi) {
    EOI_CHECK_ARG(ctx, out_msg);
    *out_msg = NULL;
    EOI_CHECK_ARG(ctx, ds);
    struct eoi_tilesrc *s = ds->tilesrc;
    if (!s)
        return eoi_fail(ctx, EO_E_SOURCE, "%s: not a tile dataset", ds->path);
    char msg[4096] = "";
    bool remote = s->kind == KIND_URL || s->kind == KIND_CALLBACK;
    int budget = remote ? 2 : 16; /* tiles probed per question */
    pthread_mutex_lock(&s->mu);
    int64_t found = s->found, missing = s->missing, corrupt = s->corrupt, failed = s->failed;
    pthread_mutex_unlock(&s->mu);
    int64_t tried_n = found + missing + corrupt + failed;
    const char *what = s->kind == KIND_FOLDER    ? "folder"
                       : s->kind == KIND_MBTILES ? "file"
                                                 : "source";
    if (found == 0)
        add_part(msg, sizeof msg, "no tile at z%d in %s order in %s (%lld of %lld tiles missing%s)",
                 (int)s->z, order_name(s), s->label, (long long)missing, (long long)tried_n,
                 corrupt || failed ? ", the others corrupt or failing" : "");
    else
        add_part(msg, sizeof msg, "%lld of %lld tiles at z%d missing in %s order in %s",
                 (long long)missing, (long long)tried_n, (int)s->z, order_name(s), s->label);
    if (s->kind == KIND_FOLDER && s->has_tmr && s->scheme != EO_TILE_SCHEME_TMS)
        add_part(msg, sizeof msg, "the folder has tilemapresource.xml: is it TMS (scheme tms)?");
    /* the same tiles with the rows flipped */
    int64_t x1 = s->tx0 + s->ntx - 1, y1 = s->ty0 + s->nty - 1;
    int tried = 0;
    if (s->scheme != EO_TILE_SCHEME_QUADKEY && (missing > 0 || found == 0)) {
        int hit = probe_range(s, s->tx0, s->ty0, x1, y1, true, budget, &tried);
        if (hit > 0) {
            bool tms = s->kind == KIND_MBTILES || s->scheme == EO_TILE_SCHEME_TMS;
            add_part(msg, sizeof msg,
                     "%d of %d tiles probed exist with the rows flipped: the pyramid looks %s "
                     "(%s)",
                     hit, tried, tms ? "XYZ" : "TMS",
                     s->kind == KIND_URL || s->kind == KIND_TEMPLATE
                         ? (tms ? "use {y} in the template" : "use {-y} in the template")
                     : s->kind == KIND_MBTILES ? "rows written in XYZ order"
                                               : (tms ? "scheme xyz" : "scheme tms"));
        }
    }
    /* zooms the source has */
    if (s->kind == KIND_FOLDER && s->scheme != EO_TILE_SCHEME_QUADKEY) {
        char z[256];
        folder_zooms(s->dir, z, sizeof z);
        add_part(msg, sizeof msg, "%s", z);
    } else if (s->kind == KIND_MBTILES) {
        sqlite3_stmt *q = NULL;
        int64_t v[64] = {0};
        size_t n = 0;
        pthread_mutex_lock(&s->db_mu);
        if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT zoom_level FROM tiles ORDER BY 1", -1, &q,
                               NULL) == SQLITE_OK)
            while (n < 64 && sqlite3_step(q) == SQLITE_ROW)
                v[n++] = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        pthread_mutex_unlock(&s->db_mu);
        char r[200];
        ranges_text(v, n, r, sizeof r);
        add_part(msg, sizeof msg, n ? "the file has zoom%s %s" : "the file has no tiles",
                 n > 1 ? "s" : "", r);
    }
    /* where its tiles are at this zoom */
    int64_t ex0 = 0, ey0 = 0, ex1 = -1, ey1 = -1;
    bool has_extent = source_extent(s, &ex0, &ey0, &ex1, &ey1);
    if (has_extent && (ex1 < s->tx0 || ex0 > x1 || ey1 < s->ty0 || ey0 > y1))
        add_part(msg, sizeof msg,
                 "its z%d tiles span x %lld..%lld, y %lld..%lld (lon %.5f..%.5f, lat "
                 "%.5f..%.5f), not the extent read (x %lld..%lld, y %lld..%lld; lon %.5f..%.5f, "
                 "lat %.5f..%.5f)",
                 (int)s->z, (long long)ex0, (long long)ex1, (long long)ey0, (long long)ey1,
                 eoi_merc_col_lon(ex0, s->z), eoi_merc_col_lon(ex1 + 1, s->z),
                 eoi_merc_row_lat(ey1 + 1, s->z), eoi_merc_row_lat(ey0, s->z), (long long)s->tx0,
                 (long long)x1, (long long)s->ty0, (long long)y1, eoi_merc_col_lon(s->tx0, s->z),
                 eoi_merc_col_lon(x1 + 1, s->z), eoi_merc_row_lat(y1 + 1, s->z),
                 eoi_merc_row_lat(s->ty0, s->z));
    /* an AOI with longitude and latitude swapped */
    if (aoi && (missing > 0 || found == 0)) {
        eo_geom *ll = NULL;
        eo_bbox b;
        eo_status st = eo_geom_transform(ctx, &ll, aoi, "EPSG:4326");
        if (st == EO_OK)
            st = eo_geom_bbox(ctx, ll, &b);
        eo_geom_free(ll);
        if (st != EO_OK)
            return st;
        /* swapped: x = latitude read as longitude, y = longitude read as latitude */
        if (fabs(b.xmin) <= EOI_MERC_MAX_LAT && fabs(b.xmax) <= EOI_MERC_MAX_LAT) {
            double fx0, fx1, fy0, fy1;
            eoi_merc_tile_f(eoi_merc_x(b.ymin), eoi_merc_y(b.xmax), s->z, &fx0, &fy0);
            eoi_merc_tile_f(eoi_merc_x(b.ymax), eoi_merc_y(b.xmin), s->z, &fx1, &fy1);
            int64_t sx0 = (int64_t)fx0, sx1 = (int64_t)fx1, sy0 = (int64_t)fy0, sy1 = (int64_t)fy1;
            int hit = 0;
            tried = 0;
            if (has_extent)
                hit = !(ex1 < sx0 || ex0 > sx1 || ey1 < sy0 || ey0 > sy1) &&
                      (ex1 < s->tx0 || ex0 > x1 || ey1 < s->ty0 || ey0 > y1);
            else if (sx1 >= sx0 && sy1 >= sy0)
                hit = probe_range(s, sx0, sy0, sx1, sy1, false, budget, &tried);
            if (hit > 0)
                add_part(msg, sizeof msg,
                         "the AOI's first coordinate looks like a latitude: with longitude and "
                         "latitude swapped (lon %.5f..%.5f, lat %.5f..%.5f) it meets the %s's "
                         "tiles (GeoJSON is longitude first)",
                         b.ymin, b.ymax, b.xmin, b.xmax, what);
        }
    }
    if (!(*out_msg = eoi_strdup(ctx, msg)))
        return EO_E_NOMEM;
    return EO_OK;
}
