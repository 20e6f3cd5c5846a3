/* tilesrc_fetch.c - a tile's encoded bytes from its source (a folder, an
 * MBTiles file, a host callback or a URL / file template) and its decoding
 * into the dataset's band planes (tilesrc.c says how tile datasets work). */
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

/* ---- errors inside callbacks --------------------------------------------- */

void eoi_tilesrc_error(struct eoi_tilesrc *s, const char *msg) {
    pthread_mutex_lock(&s->mu);
    snprintf(s->last_err, sizeof s->last_err, "%s", msg);
    pthread_mutex_unlock(&s->mu);
    CPLError(CE_Failure, EOI_CPLE_STICKY, "%s", msg);
}

/* "tile 12/2048/1361 of <label>" (+ where) into buf */
void eoi_tilesrc_tile_name(const struct eoi_tilesrc *s, char *buf, size_t cap, int64_t tx,
                           int64_t ty, const char *where) {
    snprintf(buf, cap, "tile %d/%lld/%lld of %s%s%s%s", (int)s->z, (long long)tx, (long long)ty,
             s->label, where && *where ? " (" : "", where ? where : "", where && *where ? ")" : "");
}

/* ---- fetching encoded tiles ---------------------------------------------- */

const char *const eoi_tilesrc_exts[NEXTS] = {"png", "jpg", "jpeg", "webp"};

static void quadkey(char *buf, int32_t z, int64_t x, int64_t y) {
    for (int32_t i = z; i > 0; i--) {
        int64_t mask = (int64_t)1 << (i - 1);
        *buf++ = (char)('0' + ((x & mask) ? 1 : 0) + ((y & mask) ? 2 : 0));
    }
    *buf = '\0';
}

/* Read a whole file; FETCH_MISSING when it does not exist. */
static int read_whole(const char *path, uint8_t **out, size_t *n, eoi_werr *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return FETCH_MISSING;
        eoi_werr_set(err, EO_E_IO_READ, "%s", strerror(errno));
        return FETCH_ERROR;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > MAX_TILE_BYTES) {
        eoi_werr_set(err, EO_E_IO_READ, "%s",
                     S_ISREG(sb.st_mode) ? "larger than 64 MiB, not a tile" : "not a regular file");
        close(fd);
        return FETCH_ERROR;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        eoi_werr_set(err, EO_E_NOMEM, "out of memory");
        return FETCH_ERROR;
    }
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            eoi_werr_set(err, EO_E_IO_READ, "%s",
                         r < 0 ? strerror(errno) : "file shrank while read");
            free(buf);
            close(fd);
            return FETCH_ERROR;
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *n = len;
    return FETCH_FOUND;
}

int eoi_tilesrc_fetch_folder(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                             size_t *n, char *where, size_t wcap, eoi_werr *err) {
    char stem[4096];
    if (s->scheme == EO_TILE_SCHEME_QUADKEY) {
        char qk[40];
        quadkey(qk, s->z, tx, ty);
        snprintf(stem, sizeof stem, "%s/%s", s->dir, qk);
    } else {
        int64_t row = s->scheme == EO_TILE_SCHEME_TMS ? ((int64_t)1 << s->z) - 1 - ty : ty;
        snprintf(stem, sizeof stem, "%s/%d/%lld/%lld", s->dir, (int)s->z, (long long)tx,
                 (long long)row);
    }
    int first = __atomic_load_n(&s->ext_pref, __ATOMIC_RELAXED);
    for (int k = 0; k < NEXTS; k++) {
        int i = (first + k) % NEXTS;
        snprintf(where, wcap, "%s.%s", stem, eoi_tilesrc_exts[i]);
        int rc = read_whole(where, out, n, err);
        if (rc == FETCH_FOUND && i != first)
            __atomic_store_n(&s->ext_pref, i, __ATOMIC_RELAXED);
        if (rc != FETCH_MISSING)
            return rc;
    }
    snprintf(where, wcap, "%s.{png,jpg,jpeg,webp}", stem);
    return FETCH_MISSING;
}

int eoi_tilesrc_fetch_mbtiles(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                              size_t *n, char *where, size_t wcap, eoi_werr *err) {
    int64_t row = ((int64_t)1 << s->z) - 1 - ty;
    snprintf(where, wcap, "TMS row %lld", (long long)row);
    int ret = FETCH_MISSING;
    pthread_mutex_lock(&s->db_mu);
    sqlite3_bind_int(s->stmt, 1, s->z);
    sqlite3_bind_int64(s->stmt, 2, tx);
    sqlite3_bind_int64(s->stmt, 3, row);
    int rc = sqlite3_step(s->stmt);
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(s->stmt, 0);
        int len = sqlite3_column_bytes(s->stmt, 0);
        if (len < 0 || (uint64_t)len > MAX_TILE_BYTES) {
            eoi_werr_set(err, EO_E_IO_READ, "tile_data of %d bytes", len);
            ret = FETCH_ERROR;
        } else if (!(*out = malloc(len ? (size_t)len : 1))) {
            eoi_werr_set(err, EO_E_NOMEM, "out of memory");
            ret = FETCH_ERROR;
        } else {
            if (len)
                memcpy(*out, blob, (size_t)len);
            *n = (size_t)len;
            ret = FETCH_FOUND;
        }
    } else if (rc != SQLITE_DONE) {
        eoi_werr_set(err, EO_E_IO_READ, "SQLite: %s", sqlite3_errmsg(s->db));
        ret = FETCH_ERROR;
    }
    sqlite3_reset(s->stmt);
    pthread_mutex_unlock(&s->db_mu);
    return ret;
}

int eoi_tilesrc_fetch_callback(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                               size_t *n, eoi_werr *err) {
    eo_tile_sink sink;
    memset(&sink, 0, sizeof sink);
    int rc = s->fn(s->user, s->z, (int32_t)tx, (int32_t)ty, &sink);
    if (rc != 0 || sink.nomem) {
        eoi_werr_set(err, EO_E_IO_READ, "the host callback failed (returned %d)%s%s", rc,
                     sink.err[0] ? ": " : "",
                     sink.nomem ? "out of memory for its bytes" : sink.err);
        free(sink.data);
        return FETCH_ERROR;
    }
    if (!sink.set)
        return FETCH_MISSING;
    *out = sink.data;
    *n = sink.size;
    return FETCH_FOUND;
}

/* The template with tile (tx, ty) put in, into out; false when it does not
 * fit. Placeholders were checked at open (check_template). */
static bool expand(const struct eoi_tilesrc *s, int64_t tx, int64_t ty, char *out, size_t cap) {
    size_t len = 0;
    for (const char *p = s->tmpl; *p;) {
        char val[48];
        const char *v = NULL;
        size_t skip = 0;
        if (strncmp(p, "{z}", 3) == 0) {
            snprintf(val, sizeof val, "%d", (int)s->z);
            skip = 3;
        } else if (strncmp(p, "{x}", 3) == 0) {
            snprintf(val, sizeof val, "%lld", (long long)tx);
            skip = 3;
        } else if (strncmp(p, "{y}", 3) == 0) {
            snprintf(val, sizeof val, "%lld", (long long)ty);
            skip = 3;
        } else if (strncmp(p, "{-y}", 4) == 0) {
            snprintf(val, sizeof val, "%lld", (long long)(((int64_t)1 << s->z) - 1 - ty));
            skip = 4;
        } else if (strncmp(p, "{q}", 3) == 0 || strncmp(p, "{quadkey}", 9) == 0) {
            quadkey(val, s->z, tx, ty);
            skip = p[2] == '}' ? 3 : 9;
        }
        if (skip) {
            v = val;
            p += skip;
        }
        size_t n = v ? strlen(v) : 1;
        if (len + n + 1 > cap)
            return false;
        memcpy(out + len, v ? v : p, n);
        len += n;
        if (!v)
            p++;
    }
    out[len] = '\0';
    return true;
}

int eoi_tilesrc_fetch_template(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **out,
                               size_t *n, char *where, size_t wcap, eoi_werr *err) {
    if (!expand(s, tx, ty, where, wcap)) {
        snprintf(where, wcap, "%.200s...", s->tmpl);
        eoi_werr_set(err, EO_E_IO_READ, "the expanded template is longer than %zu bytes", wcap);
        return FETCH_ERROR;
    }
    if (s->kind == KIND_TEMPLATE)
        return read_whole(where, out, n, err);
    eo_tile_sink sink;
    memset(&sink, 0, sizeof sink);
    int rc = s->url_fn(s->url_user, where, &sink);
    if (rc != 0 || sink.nomem) {
        eoi_werr_set(err, EO_E_IO_READ, "%s", sink.err[0] ? sink.err : "the host's fetch failed");
        free(sink.data);
        return FETCH_ERROR;
    }
    if (!sink.set)
        return FETCH_MISSING;
    *out = sink.data;
    *n = sink.size;
    return FETCH_FOUND;
}

eo_status eo_tile_sink_set(eo_tile_sink *sink, const void *data, size_t size) {
    if (!sink || (!data && size))
        return EO_E_ARG;
    if (size > MAX_TILE_BYTES) {
        snprintf(sink->err, sizeof sink->err, "a tile of %zu bytes (more than 64 MiB)", size);
        sink->nomem = true;
        return EO_E_LIMIT;
    }
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        sink->nomem = true;
        return EO_E_NOMEM;
    }
    if (size)
        memcpy(copy, data, size);
    free(sink->data);
    sink->data = copy;
    sink->size = size;
    sink->set = true;
    return EO_OK;
}

void eo_tile_sink_set_error(eo_tile_sink *sink, const char *message) {
    if (sink)
        snprintf(sink->err, sizeof sink->err, "%s", message ? message : "");
}

/* Decoded RGBA -> the dataset's band planes. Without an alpha band,
 * transparent pixels become nodata. */
static void to_planes(const struct eoi_tilesrc *s, const uint8_t *rgba, uint8_t *px) {
    size_t npx = (size_t)s->size * (size_t)s->size;
    uint8_t nd = (uint8_t)s->nodata;
    for (size_t i = 0; i < npx; i++) {
        const uint8_t *p = rgba + 4 * i;
        switch (s->bands) {
        case 4:
            px[i] = p[0];
            px[npx + i] = p[1];
            px[2 * npx + i] = p[2];
            px[3 * npx + i] = p[3];
            break;
        case 3:
            px[i] = p[3] ? p[0] : nd;
            px[npx + i] = p[3] ? p[1] : nd;
            px[2 * npx + i] = p[3] ? p[2] : nd;
            break;
        case 2:
            px[i] = p[0];
            px[npx + i] = p[3];
            break;
        default:
            px[i] = p[3] ? p[0] : nd;
        }
    }
}

/* Fetch and decode tile (tx, ty) into *px (the dataset's planes). */
int eoi_tilesrc_load_tile(struct eoi_tilesrc *s, int64_t tx, int64_t ty, uint8_t **px, char *wout,
                          size_t wcap, eoi_werr *err) {
    uint8_t *bytes = NULL, *rgba = NULL;
    size_t n = 0;
    char where[4200] = "", name[4400];
    eoi_werr why = {.st = EO_OK};
    int rc;
    if (s->kind == KIND_FOLDER)
        rc = eoi_tilesrc_fetch_folder(s, tx, ty, &bytes, &n, where, sizeof where, &why);
    else if (s->kind == KIND_MBTILES)
        rc = eoi_tilesrc_fetch_mbtiles(s, tx, ty, &bytes, &n, where, sizeof where, &why);
    else if (s->kind == KIND_CALLBACK)
        rc = eoi_tilesrc_fetch_callback(s, tx, ty, &bytes, &n, &why);
    else
        rc = eoi_tilesrc_fetch_template(s, tx, ty, &bytes, &n, where, sizeof where, &why);
    eoi_tilesrc_tile_name(s, name, sizeof name, tx, ty, where);
    if (wout)
        snprintf(wout, wcap, "%s", where);
    if (rc == FETCH_MISSING)
        return LOAD_MISSING;
    if (rc == FETCH_ERROR) {
        eoi_werr_set(err, EO_E_IO_READ, "%s: %s", name, why.msg);
        return LOAD_ERROR;
    }
    __atomic_fetch_add(&s->fetched, 1, __ATOMIC_RELAXED);
    size_t npx = (size_t)s->size * (size_t)s->size;
    rgba = malloc(npx * 4);
    *px = malloc(npx * (size_t)s->bands);
    if (!rgba || !*px) {
        free(rgba);
        free(*px);
        *px = NULL;
        free(bytes);
        eoi_werr_set(err, EO_E_NOMEM, "%s: out of memory for the decoded tile", name);
        return LOAD_ERROR;
    }
    int32_t w = 0, h = 0;
    int d = eoi_tile_decode(bytes, n, s->size, rgba, &w, &h, &why);
    free(bytes);
    if (d == EOI_TILE_OK)
        to_planes(s, rgba, *px);
    free(rgba);
    if (d == EOI_TILE_OK)
        return LOAD_OK;
    free(*px);
    *px = NULL;
    if (d == EOI_TILE_WRONG_SIZE) {
        eoi_werr_set(
            err, EO_E_SOURCE,
            "%s: the tile is %d x %d pixels, the dataset's tiles %d x %d (set the tile size)", name,
            (int)w, (int)h, (int)s->size, (int)s->size);
        return LOAD_ERROR;
    }
    eoi_werr_set(err, EO_E_SOURCE, "%s: %s", name, why.msg);
    return LOAD_CORRUPT;
}
