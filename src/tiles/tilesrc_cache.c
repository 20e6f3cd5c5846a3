/* tilesrc_cache.c - the decoded tiles of a tile dataset: the bounded LRU
 * cache with the per-tile state of the range (found, missing, failed), the
 * announced reads that keep tiles cached, the prefetch of a window's tiles on
 * several threads, and reading a window straight from the tiles (tilesrc.c
 * says how tile datasets work). */
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

/* ---- the cache ------------------------------------------------------------ */

uint64_t eoi_tilesrc_tile_key(int64_t tx, int64_t ty) {
    return ((uint64_t)tx << 32) | (uint64_t)ty;
}

static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static bool miss_has(const struct eoi_tilesrc *s, uint64_t key) {
    if (!s->miss_cap)
        return false;
    for (size_t i = mix(key) & (s->miss_cap - 1);; i = (i + 1) & (s->miss_cap - 1)) {
        if (s->miss[i] == 0)
            return false;
        if (s->miss[i] == key + 1)
            return true;
    }
}

/* Index of tile key in the state array, or -1 outside it / without one. */
int64_t eoi_tilesrc_state_index(const struct eoi_tilesrc *s, uint64_t key) {
    int64_t tx = (int64_t)(key >> 32), ty = (int64_t)(key & 0xffffffffu);
    if (!s->state || tx < s->tx0 || ty < s->ty0 || tx >= s->tx0 + s->ntx || ty >= s->ty0 + s->nty)
        return -1;
    return (ty - s->ty0) * s->ntx + (tx - s->tx0);
}

/* Tiles in the range (tx0, ty0, ntx x nty): the length of state, cover and
 * expect, all indexed by eoi_tilesrc_state_index (ncover counts the cover's tiles). */
size_t eoi_tilesrc_range_tiles(const struct eoi_tilesrc *s) { return (size_t)(s->ntx * s->nty); }

/* The tiles under window win of the dataset's pixels (win not empty). */
static void window_tiles(const struct eoi_tilesrc *s, const eo_window *win, int64_t *tx0,
                         int64_t *tx1, int64_t *ty0, int64_t *ty1) {
    int64_t T = s->size, gx0 = s->px0 + win->x, gy0 = s->py0 + win->y;
    *tx0 = gx0 / T;
    *ty0 = gy0 / T;
    *tx1 = (gx0 + win->width - 1) / T;
    *ty1 = (gy0 + win->height - 1) / T;
}

/* Whether the tile is one to fetch (in the AOI's cover). */
static bool in_cover(const struct eoi_tilesrc *s, uint64_t key) {
    if (!s->cover)
        return true;
    int64_t i = eoi_tilesrc_state_index(s, key);
    return i >= 0 && s->cover[i];
}

static struct tfail *fail_find(struct eoi_tilesrc *s, uint64_t key) {
    int64_t i = eoi_tilesrc_state_index(s, key);
    if (!s->nfails || (i >= 0 && s->state[i] != TS_CORRUPT && s->state[i] != TS_FAILED))
        return NULL;
    for (size_t k = 0; k < s->nfails; k++)
        if (s->fails[k].key == key)
            return &s->fails[k];
    return NULL;
}

/* Keep a failed tile and its message (best effort: without memory, the
 * tile is fetched again by the next read that needs it). Under s->mu. */
static void fail_put(struct eoi_tilesrc *s, uint64_t key, bool corrupt, const char *where,
                     const char *msg) {
    if (s->nfails == s->capfails) {
        size_t cap = s->capfails ? 2 * s->capfails : 16;
        struct tfail *v = cap <= 100000 ? realloc(s->fails, cap * sizeof *v) : NULL;
        if (!v)
            return;
        s->fails = v;
        s->capfails = cap;
    }
    struct tfail *f = &s->fails[s->nfails];
    f->key = key;
    f->corrupt = corrupt;
    f->where = strdup(where ? where : "");
    f->msg = strdup(msg ? msg : "");
    if (!f->where || !f->msg) {
        free(f->where);
        free(f->msg);
        return;
    }
    s->nfails++;
}

void eoi_tilesrc_retry_failed(struct eoi_tilesrc *s) {
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    size_t keep = 0;
    for (size_t k = 0; k < s->nfails; k++) {
        struct tfail *f = &s->fails[k];
        if (miss_has(s, f->key)) { /* a corrupt tile read as missing: an answer, kept */
            s->fails[keep++] = *f;
            continue;
        }
        int64_t i = eoi_tilesrc_state_index(s, f->key);
        if (i >= 0)
            s->state[i] = TS_UNKNOWN;
        free(f->where);
        free(f->msg);
    }
    s->nfails = keep;
    pthread_mutex_unlock(&s->mu);
}

static void miss_put(struct eoi_tilesrc *s, uint64_t key) {
    if ((s->miss_n + 1) * 2 > s->miss_cap) {
        size_t cap = s->miss_cap ? s->miss_cap * 2 : 256;
        uint64_t *v = calloc(cap, sizeof *v);
        if (!v)
            return; /* only the counting dedup is lost */
        for (size_t j = 0; j < s->miss_cap; j++)
            if (s->miss[j])
                for (size_t i = mix(s->miss[j] - 1) & (cap - 1);; i = (i + 1) & (cap - 1))
                    if (!v[i]) {
                        v[i] = s->miss[j];
                        break;
                    }
        free(s->miss);
        s->miss = v;
        s->miss_cap = cap;
    }
    for (size_t i = mix(key) & (s->miss_cap - 1);; i = (i + 1) & (s->miss_cap - 1)) {
        if (s->miss[i] == key + 1)
            return;
        if (!s->miss[i]) {
            s->miss[i] = key + 1;
            s->miss_n++;
            return;
        }
    }
}

static tentry **hash_slot(struct eoi_tilesrc *s, uint64_t key) {
    tentry **p = &s->hash[mix(key) & (s->hcap - 1)];
    while (*p && (*p)->key != key)
        p = &(*p)->hnext;
    return p;
}

static void lru_unlink(struct eoi_tilesrc *s, tentry *e) {
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(struct eoi_tilesrc *s, tentry *e) {
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    s->newest = e;
    if (!s->oldest)
        s->oldest = e;
}

/* Whether a read announced with eoi_tilesrc_expect still needs the tile. */
static bool expected(const struct eoi_tilesrc *s, uint64_t key) {
    int64_t i = s->expect ? eoi_tilesrc_state_index(s, key) : -1;
    return i >= 0 && s->expect[i] > 0;
}

/* Back within the bound: the least recently used tiles that no announced
 * read still needs go first; tiles still expected only beyond EXPECT_SLACK
 * times the bound (so that a job's overlapping partitions fetch each tile
 * once, without letting the cache grow without limit). */
#define EXPECT_SLACK 4
static void evict(struct eoi_tilesrc *s) {
    for (int pass = 0; pass < 2; pass++) {
        size_t bound = pass == 0 ? s->max_bytes : EXPECT_SLACK * s->max_bytes;
        tentry *e = s->oldest;
        while (e && s->bytes > bound) {
            tentry *next = e->newer;
            if (e->pins == 0 && (pass == 1 || !expected(s, e->key))) {
                lru_unlink(s, e);
                *hash_slot(s, e->key) = e->hnext;
                s->bytes -= s->tile_bytes;
                free(e->px);
                free(e);
            }
            e = next;
        }
    }
}

void eoi_tilesrc_expect(struct eoi_tilesrc *s, const eo_window *win, int32_t delta) {
    if (!s || !s->state)
        return; /* too many tiles for per-tile counts: plain LRU */
    pthread_mutex_lock(&s->mu);
    if (!s->expect && delta > 0)
        s->expect = calloc(eoi_tilesrc_range_tiles(s), sizeof *s->expect); /* best effort */
    if (s->expect && win->width > 0 && win->height > 0) {
        int64_t tx0, tx1, ty0, ty1;
        window_tiles(s, win, &tx0, &tx1, &ty0, &ty1);
        for (int64_t ty = ty0; ty <= ty1; ty++)
            for (int64_t tx = tx0; tx <= tx1; tx++) {
                int64_t i = eoi_tilesrc_state_index(s, eoi_tilesrc_tile_key(tx, ty));
                if (i < 0)
                    continue;
                int64_t v = (int64_t)s->expect[i] + delta;
                s->expect[i] = v < 0 ? 0 : v > INT32_MAX ? INT32_MAX : (int32_t)v;
            }
        if (delta < 0)
            evict(s);
    }
    pthread_mutex_unlock(&s->mu);
}

void eoi_tilesrc_expect_clear(struct eoi_tilesrc *s) {
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->expect) {
        memset(s->expect, 0, eoi_tilesrc_range_tiles(s) * sizeof *s->expect);
        evict(s);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Store the outcome of loading e (claimed by this thread) and wake the
 * waiters; with pin, the tile stays pinned for the caller. where and err:
 * the tile's file or URL and the message of a failure. Under s->mu. false
 * for an error (err holds it). */
static bool finish_locked(struct eoi_tilesrc *s, tentry *e, int rc, uint8_t *px, bool pin,
                          const char *where, const char *err) {
    *hash_slot(s, e->key) = e->hnext; /* out of the table while its state changes */
    e->hnext = NULL;
    bool ok = true;
    int64_t si = eoi_tilesrc_state_index(s, e->key);
    uint8_t before = si >= 0 ? s->state[si] : TS_UNKNOWN;
    if (rc == LOAD_OK) {
        e->px = px;
        e->loading = false;
        e->pins = pin ? 1 : 0;
        *hash_slot(s, e->key) = e;
        lru_push(s, e);
        s->bytes += s->tile_bytes;
        s->decoded++;
        if (si < 0 || before != TS_FOUND)
            s->found++;
        if (si >= 0)
            s->state[si] = TS_FOUND;
    } else {
        if (rc == LOAD_MISSING || (rc == LOAD_CORRUPT && s->corrupt_ok)) {
            miss_put(s, e->key);
            if (rc == LOAD_MISSING)
                s->missing++;
            if (rc == LOAD_CORRUPT) {
                s->corrupt++;
                fail_put(s, e->key, true, where, err);
            }
        } else {
            ok = false;
            if (rc == LOAD_CORRUPT)
                s->corrupt++;
            else
                s->failed++;
            fail_put(s, e->key, rc == LOAD_CORRUPT, where, err);
        }
        if (si >= 0)
            s->state[si] = rc == LOAD_MISSING   ? TS_MISSING
                           : rc == LOAD_CORRUPT ? TS_CORRUPT
                                                : TS_FAILED;
        free(e);
    }
    evict(s);
    pthread_cond_broadcast(&s->cv);
    return ok;
}

/* A new entry for key, marked as loading by the caller. Under s->mu. */
static tentry *claim_locked(struct eoi_tilesrc *s, uint64_t key, tentry **slot) {
    tentry *e = calloc(1, sizeof *e);
    if (e) {
        e->key = key;
        e->loading = true;
        *slot = e;
    }
    return e;
}

/* The planes of tile (tx, ty), pinned (unpin with cache_unpin), or NULL for
 * a missing tile. false on an error, written to err. */
static bool cache_get(struct eoi_tilesrc *s, int64_t tx, int64_t ty, tentry **out, eoi_werr *err) {
    uint64_t key = eoi_tilesrc_tile_key(tx, ty);
    *out = NULL;
    if (!in_cover(s, key))
        return true; /* not fetched: read as missing, not counted */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (miss_has(s, key)) {
            pthread_mutex_unlock(&s->mu);
            return true;
        }
        struct tfail *f = fail_find(s, key);
        if (f) {
            eoi_werr_set(err, f->corrupt ? EO_E_SOURCE : EO_E_IO_READ, "%s", f->msg);
            pthread_mutex_unlock(&s->mu);
            return false;
        }
        tentry **slot = hash_slot(s, key);
        tentry *e = *slot;
        if (e && e->loading) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        if (e) {
            e->pins++;
            s->hits++;
            lru_unlink(s, e);
            lru_push(s, e);
            pthread_mutex_unlock(&s->mu);
            *out = e;
            return true;
        }
        if (!(e = claim_locked(s, key, slot))) {
            pthread_mutex_unlock(&s->mu);
            eoi_werr_set(err, EO_E_NOMEM, "%s: out of memory for the tile cache", s->label);
            return false;
        }
        pthread_mutex_unlock(&s->mu);
        uint8_t *px = NULL;
        char where[4200] = "";
        int rc = eoi_tilesrc_load_tile(s, tx, ty, &px, where, sizeof where, err);
        pthread_mutex_lock(&s->mu);
        bool ok = finish_locked(s, e, rc, px, true, where, err->msg);
        if (ok && rc == LOAD_OK)
            *out = e;
        pthread_mutex_unlock(&s->mu);
        return ok;
    }
}

/* ---- decoding a window's tiles on several threads -------------------------- */

#define PREFETCH_MAX 64    /* tiles claimed at once */
#define PREFETCH_THREADS 4 /* local sources: decoding, bound by the CPUs */
/* remote sources (URL templates, host callbacks): bound by the latency of
 * each fetch, not the CPUs (the host's own limit, e.g. the CLI's
 * --max-connections, still caps the requests in flight) */
#define PREFETCH_REMOTE_THREADS 16

struct prefetch {
    struct eoi_tilesrc *s;
    tentry *e[PREFETCH_MAX];
    int64_t tx[PREFETCH_MAX], ty[PREFETCH_MAX];
    int n;
    atomic_int next;
};

static void *prefetch_work(void *arg) {
    struct prefetch *p = arg;
    char where[4200];
    eoi_werr err;
    for (int i; (i = atomic_fetch_add(&p->next, 1)) < p->n;) {
        uint8_t *px = NULL;
        err.msg[0] = where[0] = '\0';
        int rc = eoi_tilesrc_load_tile(p->s, p->tx[i], p->ty[i], &px, where, sizeof where, &err);
        pthread_mutex_lock(&p->s->mu);
        /* an error is kept for the reader that needs the tile to report */
        finish_locked(p->s, p->e[i], rc, px, false, where, err.msg);
        pthread_mutex_unlock(&p->s->mu);
    }
    return NULL;
}

bool eoi_tilesrc_remote(const struct eoi_tilesrc *s) {
    return s->kind == KIND_URL || s->kind == KIND_CALLBACK;
}

/* Before reading tiles tx0..tx1 x ty0..ty1: fetch and decode the ones not
 * cached yet on up to PREFETCH_THREADS threads (PREFETCH_REMOTE_THREADS for
 * a remote source; this one included), since a reader would otherwise get
 * them one after another. Best effort: what cannot be started is left to
 * cache_get. */
static void prefetch_window(struct eoi_tilesrc *s, int64_t tx0, int64_t tx1, int64_t ty0,
                            int64_t ty1) {
    static atomic_long cpus;
    long ncpu = atomic_load(&cpus);
    if (!ncpu) {
        ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        atomic_store(&cpus, ncpu);
    }
    int most = eoi_tilesrc_remote(s) ? PREFETCH_REMOTE_THREADS
                                     : (int)(ncpu < PREFETCH_THREADS ? ncpu : PREFETCH_THREADS);
    if ((tx1 <= tx0 && ty1 <= ty0) || most < 2)
        return;
    struct prefetch pf, *p = &pf;
    int64_t tx = tx0, ty = ty0;
    while (ty <= ty1) {
        memset(p, 0, sizeof *p);
        p->s = s;
        pthread_mutex_lock(&s->mu);
        for (; ty <= ty1 && p->n < PREFETCH_MAX; tx = tx < tx1 ? tx + 1 : tx0, ty += tx == tx0) {
            uint64_t key = eoi_tilesrc_tile_key(tx, ty);
            tentry **slot = hash_slot(s, key);
            if (*slot || miss_has(s, key) || !in_cover(s, key) || fail_find(s, key))
                continue;
            if (!(p->e[p->n] = claim_locked(s, key, slot))) {
                ty = ty1 + 1;
                break;
            }
            p->tx[p->n] = tx;
            p->ty[p->n++] = ty;
        }
        pthread_mutex_unlock(&s->mu);
        pthread_t th[PREFETCH_REMOTE_THREADS - 1];
        int nt = 0;
        while (nt < most - 1 && nt < p->n - 1 &&
               pthread_create(&th[nt], NULL, prefetch_work, p) == 0)
            nt++;
        prefetch_work(p);
        for (int i = 0; i < nt; i++)
            pthread_join(th[i], NULL);
    }
}

void eoi_tilesrc_prefetch(struct eoi_tilesrc *s, const eo_window *win) {
    if (!s || !eoi_tilesrc_remote(s) || win->width <= 0 || win->height <= 0)
        return;
    int64_t tx0, tx1, ty0, ty1;
    window_tiles(s, win, &tx0, &tx1, &ty0, &ty1);
    prefetch_window(s, tx0, tx1, ty0, ty1);
}

static void cache_unpin(struct eoi_tilesrc *s, tentry *e) {
    if (!e)
        return;
    pthread_mutex_lock(&s->mu);
    e->pins--;
    evict(s);
    pthread_mutex_unlock(&s->mu);
}

/* n bytes of band b, row y, from column x of the dataset, into dst. */
bool eoi_tilesrc_fill_run(struct eoi_tilesrc *s, int64_t b, int64_t y, int64_t x, int64_t n,
                          uint8_t *dst) {
    int64_t T = s->size, gy = s->py0 + y, ty = gy / T, iy = gy % T;
    bool alpha = s->bands == 2 || s->bands == 4;
    uint8_t fill = alpha ? 0 : (uint8_t)s->nodata;
    eoi_werr err;
    prefetch_window(s, (s->px0 + x) / T, (s->px0 + x + n - 1) / T, ty, ty);
    while (n > 0) {
        int64_t gx = s->px0 + x, tx = gx / T, ix = gx % T;
        int64_t len = T - ix < n ? T - ix : n;
        tentry *e = NULL;
        if (!cache_get(s, tx, ty, &e, &err)) {
            eoi_tilesrc_error(s, err.msg);
            return false;
        }
        if (e)
            memcpy(dst, e->px + (size_t)b * (size_t)(T * T) + (size_t)(iy * T + ix), (size_t)len);
        else
            memset(dst, fill, (size_t)len);
        cache_unpin(s, e);
        dst += len;
        x += len;
        n -= len;
    }
    return true;
}

/* ---- reading a window straight from the tiles ----------------------------- */

struct wread {
    struct eoi_tilesrc *s;
    const int32_t *bands;
    int32_t nb;
    uint8_t *dst;
    int64_t gx0, gy0, w, h; /* the window on the zoom's pixel grid */
    int64_t tx0, ty0, ntx;
    pthread_mutex_t mu;
    char err[ERR_MAX];
};

static eo_status wread_job(void *user, int64_t i, int32_t worker) {
    (void)worker;
    struct wread *w = user;
    struct eoi_tilesrc *s = w->s;
    int64_t T = s->size, tx = w->tx0 + i % w->ntx, ty = w->ty0 + i / w->ntx;
    int64_t x0 = tx * T > w->gx0 ? tx * T : w->gx0;
    int64_t x1 = tx * T + T < w->gx0 + w->w ? tx * T + T : w->gx0 + w->w;
    int64_t y0 = ty * T > w->gy0 ? ty * T : w->gy0;
    int64_t y1 = ty * T + T < w->gy0 + w->h ? ty * T + T : w->gy0 + w->h;
    tentry *e = NULL;
    eoi_werr err;
    if (!cache_get(s, tx, ty, &e, &err)) {
        pthread_mutex_lock(&w->mu);
        if (!w->err[0])
            snprintf(w->err, sizeof w->err, "%s", err.msg);
        pthread_mutex_unlock(&w->mu);
        return EO_E_IO_READ;
    }
    bool alpha = s->bands == 2 || s->bands == 4;
    uint8_t fill = alpha ? 0 : (uint8_t)s->nodata;
    size_t plane = (size_t)w->w * (size_t)w->h, len = (size_t)(x1 - x0);
    for (int32_t b = 0; b < w->nb; b++) {
        int32_t sb = w->bands ? w->bands[b] - 1 : b;
        uint8_t *d = w->dst + (size_t)b * plane + (size_t)(y0 - w->gy0) * (size_t)w->w +
                     (size_t)(x0 - w->gx0);
        const uint8_t *src =
            e ? e->px + (size_t)sb * (size_t)(T * T) + (size_t)((y0 - ty * T) * T + (x0 - tx * T))
              : NULL;
        for (int64_t y = y0; y < y1; y++, d += w->w) {
            if (src) {
                memcpy(d, src, len);
                src += T;
            } else {
                memset(d, fill, len);
            }
        }
    }
    cache_unpin(s, e);
    return EO_OK;
}

eo_status eoi_tilesrc_read(eo_ctx *ctx, struct eoi_tilesrc *s, const char *what,
                           const eo_window *win, const int32_t *bands, int32_t nb, void *dst) {
    int64_t T = s->size;
    struct wread w = {.s = s,
                      .bands = bands,
                      .nb = nb,
                      .dst = dst,
                      .gx0 = s->px0 + win->x,
                      .gy0 = s->py0 + win->y,
                      .w = win->width,
                      .h = win->height};
    w.tx0 = w.gx0 / T;
    w.ty0 = w.gy0 / T;
    w.ntx = (w.gx0 + w.w - 1) / T - w.tx0 + 1;
    int64_t nty = (w.gy0 + w.h - 1) / T - w.ty0 + 1;
    if (eoi_tilesrc_remote(s)) /* the fetches at once, not as the decoding threads get to them */
        prefetch_window(s, w.tx0, w.tx0 + w.ntx - 1, w.ty0, w.ty0 + nty - 1);
    pthread_mutex_init(&w.mu, NULL);
    eo_status st = eoi_parallel_for(ctx, w.ntx * nty, wread_job, &w);
    pthread_mutex_destroy(&w.mu);
    if (st != EO_OK && w.err[0]) {
        pthread_mutex_lock(&s->mu);
        snprintf(s->last_err, sizeof s->last_err, "%s", w.err);
        pthread_mutex_unlock(&s->mu);
        return eoi_fail(ctx, st, "%s: %s", what, w.err);
    }
    return st;
}
