/* tile_cache.c - model outputs of segmentation tiles kept between the
 * partitions of one detect run. Partitions are squares of whole model
 * tiles on one grid, and the tiles along a seam meet both partitions: the
 * second one takes their probabilities from here instead of reading and
 * running them again. A tile is the same bits whichever partition runs it
 * (the grid, the model and the thread split are the same), so a hit changes
 * nothing but the time. Least recently used entries go first when the
 * cache is full; a bounded number of entries keeps memory bounded. */
#include "jobs_int.h"

#include <string.h>

typedef struct entry {
    int64_t ky, kx;
    uint64_t used; /* 0 = free */
    bool pinned;   /* got for the call in work: not to be replaced */
    float *p;      /* k planes of th x tw probabilities */
    uint8_t *nod;  /* th x tw: the input had no data */
} entry;

struct eoi_tile_cache {
    int32_t cap, k;
    int64_t th, tw, sy, sx; /* the grid the keys refer to */
    uint64_t clock;
    entry *e;
};

eo_status eoi_tile_cache_new(eo_ctx *ctx, eoi_tile_cache **out, int32_t cap) {
    *out = NULL;
    eoi_tile_cache *c = eoi_calloc(ctx, 1, sizeof *c);
    if (!c || !(c->e = eoi_calloc(ctx, (size_t)(cap > 0 ? cap : 1), sizeof *c->e))) {
        eoi_free(c);
        return EO_E_NOMEM;
    }
    c->cap = cap > 0 ? cap : 1;
    *out = c;
    return EO_OK;
}

void eoi_tile_cache_free(eoi_tile_cache *c) {
    if (!c)
        return;
    for (int32_t i = 0; i < c->cap; i++) {
        eoi_free(c->e[i].p);
        eoi_free(c->e[i].nod);
    }
    eoi_free(c->e);
    eoi_free(c);
}

/* A grid other than the one cached empties the cache. */
static void use_grid(eoi_tile_cache *c, int32_t k, int64_t th, int64_t tw, int64_t sy, int64_t sx) {
    if (c->k == k && c->th == th && c->tw == tw && c->sy == sy && c->sx == sx)
        return;
    for (int32_t i = 0; i < c->cap; i++) { /* the buffers have the old grid's size */
        eoi_free(c->e[i].p);
        eoi_free(c->e[i].nod);
        memset(&c->e[i], 0, sizeof c->e[i]);
    }
    c->k = k;
    c->th = th;
    c->tw = tw;
    c->sy = sy;
    c->sx = sx;
}

bool eoi_tile_cache_get(eoi_tile_cache *c, const eoi_tile_key *key, const float **p,
                        const uint8_t **nod) {
    if (!c)
        return false;
    use_grid(c, key->k, key->th, key->tw, key->sy, key->sx);
    for (int32_t i = 0; i < c->cap; i++) {
        entry *e = &c->e[i];
        if (e->used && e->ky == key->ky && e->kx == key->kx) {
            e->used = ++c->clock;
            e->pinned = true;
            *p = e->p;
            *nod = e->nod;
            return true;
        }
    }
    return false;
}

void eoi_tile_cache_unpin(eoi_tile_cache *c) {
    for (int32_t i = 0; c && i < c->cap; i++)
        c->e[i].pinned = false;
}

void eoi_tile_cache_put(eo_ctx *ctx, eoi_tile_cache *c, const eoi_tile_key *key, const float *p,
                        const uint8_t *nod) {
    if (!c)
        return;
    use_grid(c, key->k, key->th, key->tw, key->sy, key->sx);
    entry *v = NULL;
    for (int32_t i = 0; i < c->cap; i++) {
        entry *e = &c->e[i];
        if (e->used && e->ky == key->ky && e->kx == key->kx)
            return; /* there already */
        if (!e->pinned && (!v || e->used < v->used))
            v = e;
    }
    if (!v) /* every entry in use by the call: the tile is run again when needed */
        return;
    size_t plane = (size_t)key->th * (size_t)key->tw;
    if (!v->p) { /* an entry's buffers, once allocated, hold a tile of the grid */
        v->p = eoi_malloc(ctx, (size_t)key->k * plane * sizeof *v->p);
        v->nod = eoi_malloc(ctx, plane);
        if (!v->p || !v->nod) { /* no room: the tile is run again when needed */
            eoi_free(v->p);
            eoi_free(v->nod);
            v->p = NULL;
            v->nod = NULL;
            v->used = 0;
            eo_ctx_clear_error(ctx);
            return;
        }
    }
    memcpy(v->p, p, (size_t)key->k * plane * sizeof *v->p);
    memcpy(v->nod, nod, plane);
    v->ky = key->ky;
    v->kx = key->kx;
    v->used = ++c->clock;
}
