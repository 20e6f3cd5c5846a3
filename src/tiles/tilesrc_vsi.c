/* tilesrc_vsi.c - the GDAL virtual file system /vsieotiles/: the registry
 * of open sources its file names point to (/vsieotiles/<id>/...) and the raw
 * file of a tile dataset's pixels, band after band, assembled from decoded
 * tiles on read (tilesrc.c says how tile datasets work). */
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

/* ---- the registry of open sources ---------------------------------------- */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct eoi_tilesrc **reg;
static size_t reg_n, reg_cap;
static long reg_next_id = 1;

void eoi_tilesrc_free(struct eoi_tilesrc *s) {
    if (!s)
        return;
    for (size_t i = 0; s->hash && i < s->hcap; i++) {
        tentry *e = s->hash[i];
        while (e) {
            tentry *n = e->hnext;
            free(e->px);
            free(e);
            e = n;
        }
    }
    free(s->hash);
    free(s->miss);
    for (size_t i = 0; i < s->nfails; i++) {
        free(s->fails[i].where);
        free(s->fails[i].msg);
    }
    free(s->fails);
    free(s->state);
    free(s->cover);
    free(s->expect);
    eoi_free(s->tmpl);
    if (s->stmt)
        sqlite3_finalize(s->stmt);
    if (s->db)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->db_mu);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    eoi_free(s->label);
    eoi_free(s->dir);
    eoi_free(s);
}

bool eoi_tilesrc_reg_add(struct eoi_tilesrc *s) {
    pthread_mutex_lock(&reg_mu);
    if (reg_n == reg_cap) {
        size_t cap = reg_cap ? reg_cap * 2 : 16;
        struct eoi_tilesrc **v = realloc(reg, cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&reg_mu);
            return false;
        }
        reg = v;
        reg_cap = cap;
    }
    s->id = reg_next_id++;
    s->refs = 1;
    reg[reg_n++] = s;
    pthread_mutex_unlock(&reg_mu);
    return true;
}

struct eoi_tilesrc *eoi_tilesrc_reg_acquire(long id) {
    struct eoi_tilesrc *s = NULL;
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < reg_n; i++)
        if (reg[i]->id == id) {
            s = reg[i];
            s->refs++;
            break;
        }
    pthread_mutex_unlock(&reg_mu);
    return s;
}

void eoi_tilesrc_reg_release(struct eoi_tilesrc *s, bool unregister) {
    bool last;
    pthread_mutex_lock(&reg_mu);
    if (unregister)
        for (size_t i = 0; i < reg_n; i++)
            if (reg[i] == s) {
                reg[i] = reg[--reg_n];
                break;
            }
    last = --s->refs == 0;
    if (reg_n == 0) { /* no source left: give the table back */
        free(reg);
        reg = NULL;
        reg_cap = 0;
    }
    pthread_mutex_unlock(&reg_mu);
    if (last)
        eoi_tilesrc_free(s);
}

void eoi_tilesrc_release(struct eoi_tilesrc *s) {
    if (s)
        eoi_tilesrc_reg_release(s, true);
}

/* ---- the virtual file system ---------------------------------------------- */

typedef struct {
    struct eoi_tilesrc *s;
    uint64_t pos, size;
    bool eof;
    bool is_text; /* the header */
    char text[512];
} vhandle;

/* The two files of a source: "<id>/pixels.bil" (the pixels, band after
 * band) and "<id>/pixels.hdr" (its EHdr header). GDAL's EHdr driver reads
 * them as a raw dataset, which, unlike a VRTRawRasterBand, fails a read
 * that comes back short: so errors raised in vfs_read reach the caller. */
enum { FILE_NONE, FILE_PIXELS, FILE_HEADER };

/* name (with or without the prefix) -> *id and the file, or FILE_NONE */
static int parse_name(const char *name, long *id) {
    if (strncmp(name, PREFIX, strlen(PREFIX)) == 0)
        name += strlen(PREFIX);
    char *end = NULL;
    errno = 0;
    *id = strtol(name, &end, 10);
    if (errno || end == name || *id <= 0)
        return FILE_NONE;
    if (strcmp(end, "/pixels.bil") == 0)
        return FILE_PIXELS;
    if (strcmp(end, "/pixels.hdr") == 0)
        return FILE_HEADER;
    return FILE_NONE;
}

static void header_text(const struct eoi_tilesrc *s, char *buf, size_t cap) {
    snprintf(buf, cap,
             "BYTEORDER I\nLAYOUT BSQ\nNROWS %lld\nNCOLS %lld\nNBANDS %d\nNBITS 8\n"
             "SKIPBYTES %d\n",
             (long long)s->height, (long long)s->width, (int)s->bands, PIXELS_SKIP);
}

static int vfs_stat(void *user, const char *name, VSIStatBufL *sb, int flags) {
    (void)user;
    (void)flags;
    long id;
    int which = parse_name(name, &id);
    struct eoi_tilesrc *s = which != FILE_NONE ? eoi_tilesrc_reg_acquire(id) : NULL;
    if (!s)
        return -1;
    char hdr[512];
    header_text(s, hdr, sizeof hdr);
    memset(sb, 0, sizeof *sb);
    sb->st_mode = S_IFREG | 0444;
    sb->st_size = which == FILE_PIXELS ? (off_t)s->fsize : (off_t)strlen(hdr);
    eoi_tilesrc_reg_release(s, false);
    return 0;
}

static void *vfs_open(void *user, const char *name, const char *access) {
    (void)user;
    if (!access || strchr(access, 'w') || strchr(access, 'a') || strchr(access, '+'))
        return NULL;
    long id;
    int which = parse_name(name, &id);
    struct eoi_tilesrc *s = which != FILE_NONE ? eoi_tilesrc_reg_acquire(id) : NULL;
    if (!s)
        return NULL;
    vhandle *h = calloc(1, sizeof *h);
    if (!h) {
        eoi_tilesrc_reg_release(s, false);
        return NULL;
    }
    h->s = s;
    if (which == FILE_HEADER) {
        header_text(s, h->text, sizeof h->text);
        h->is_text = true;
        h->size = strlen(h->text);
    } else {
        h->size = s->fsize;
    }
    return h;
}

static vsi_l_offset vfs_tell(void *f) { return ((vhandle *)f)->pos; }

static int vfs_seek(void *f, vsi_l_offset off, int whence) {
    vhandle *h = f;
    if (whence == SEEK_SET)
        h->pos = off;
    else if (whence == SEEK_CUR)
        h->pos += off;
    else if (whence == SEEK_END)
        h->pos = h->size + off;
    else
        return -1;
    h->eof = false;
    return 0;
}

static size_t vfs_read(void *f, void *buf, size_t size, size_t count) {
    vhandle *h = f;
    struct eoi_tilesrc *s = h->s;
    if (size == 0 || count == 0)
        return 0;
    uint64_t want = (uint64_t)size * count;
    if (want / size != count)
        return 0;
    if (h->pos >= h->size) {
        h->eof = true;
        return 0;
    }
    if (want > h->size - h->pos) {
        want = h->size - h->pos;
        h->eof = true;
    }
    if (h->is_text) {
        memcpy(buf, h->text + h->pos, (size_t)want);
        h->pos += want;
        return (size_t)(want / size);
    }
    uint8_t *dst = buf;
    uint64_t done = 0, W = (uint64_t)s->width;
    if (h->pos < PIXELS_SKIP) {
        done = PIXELS_SKIP - h->pos < want ? PIXELS_SKIP - h->pos : want;
        memset(dst, 0, (size_t)done);
    }
    while (done < want) {
        uint64_t pos = h->pos + done - PIXELS_SKIP;
        uint64_t b = pos / s->plane, rem = pos % s->plane, y = rem / W, x = rem % W;
        uint64_t n = W - x < want - done ? W - x : want - done;
        if (!eoi_tilesrc_fill_run(s, (int64_t)b, (int64_t)y, (int64_t)x, (int64_t)n, dst + done)) {
            h->pos += done;
            return (size_t)(done / size);
        }
        done += n;
    }
    h->pos += done;
    return (size_t)(done / size);
}

static int vfs_eof(void *f) { return ((vhandle *)f)->eof; }

static int vfs_close(void *f) {
    vhandle *h = f;
    eoi_tilesrc_reg_release(h->s, false);
    free(h);
    return 0;
}

static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static bool vfs_ok;

static void vfs_install(void) {
    VSIFilesystemPluginCallbacksStruct *cb = VSIAllocFilesystemPluginCallbacksStruct();
    if (!cb)
        return;
    cb->stat = vfs_stat;
    cb->open = vfs_open;
    cb->tell = vfs_tell;
    cb->seek = vfs_seek;
    cb->read = vfs_read;
    cb->eof = vfs_eof;
    cb->close = vfs_close;
    cb->nBufferSize = 0; /* no extra caching layer: the tile cache is ours */
    cb->nCacheSize = 0;
    vfs_ok = VSIInstallPluginHandler(PREFIX, cb) == 0;
    VSIFreeFilesystemPluginCallbacksStruct(cb); /* the handler keeps a copy */
}

bool eoi_tilesrc_vsi_install(void) {
    pthread_once(&vfs_once, vfs_install);
    return vfs_ok;
}
