/* spool.c - holes kept on disk while their region is still open.
 *
 * Polygonizing into a file holds every region the next stripe may still
 * reach. The background of a building mask is one such region all the way
 * down, and it holds a hole per building: what it holds would grow with
 * the raster's area, not its width. But a hole of a stripe's part lies
 * strictly inside that stripe (the region surrounds it there), so no later
 * stripe changes it: it can leave memory as soon as the part is made and
 * come back one at a time when the region is written.
 *
 * The holes go to an unlinked temporary file (eoi_tmp_anon in $TMPDIR,
 * else /tmp) as
 * records of int32 values: the vertex count n, then n (x, y) pairs on the
 * pixel grid (the ring's closing vertex left out). Each part spooled is one
 * span of the file; a feature chains the spans of its parts (1-based
 * indices, 0 = none), and a union of features joins their chains. */
#include "geom_int.h"
#include "vector_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct span {
    int64_t off, bytes;
    int32_t next; /* 1-based, 0 = the chain's end */
} span;

struct eoi_spool {
    int fd;
    int64_t end; /* bytes written */
    span *v;
    int32_t n;
    size_t cap;
};

eo_status eoi_spool_open(eo_ctx *ctx, eoi_spool **out) {
    *out = NULL;
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    eoi_spool *sp = eoi_calloc(ctx, 1, sizeof *sp);
    if (!sp)
        return EO_E_NOMEM;
    if ((sp->fd = eoi_tmp_anon(dir)) < 0) {
        int e = errno;
        eoi_free(sp);
        if (e == ENOMEM)
            return eoi_fail(ctx, EO_E_NOMEM, "out of memory (a temporary file's name)");
        return eoi_fail(ctx, EO_E_IO_WRITE,
                        "polygonize: cannot create a temporary file in %s for the holes of "
                        "open regions: %s",
                        dir, strerror(e));
    }
    *out = sp;
    return EO_OK;
}

void eoi_spool_close(eoi_spool *sp) {
    if (!sp)
        return;
    close(sp->fd);
    eoi_free(sp->v);
    eoi_free(sp);
}

static eo_status spool_write(eo_ctx *ctx, eoi_spool *sp, const int32_t *buf, size_t bytes) {
    int e = eoi_write_fd(sp->fd, buf, bytes, sp->end);
    return e ? eoi_fail(ctx, EO_E_IO_WRITE,
                        "polygonize: writing the holes of open regions to a temporary file: %s",
                        strerror(e))
             : EO_OK;
}

/* The vertices of ring r as int32 (x, y) pairs after its count, into
 * buf[at..]; false when a vertex is off the integer grid. */
static bool ring_record(GEOSContextHandle_t h, const GEOSGeometry *r, int32_t *buf, size_t *at) {
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, r);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4)
        return false;
    buf[(*at)++] = (int32_t)(n - 1);
    for (unsigned i = 0; i + 1 < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(h, cs, i, &x, &y);
        if (!(x >= INT32_MIN && x <= INT32_MAX && y >= INT32_MIN && y <= INT32_MAX) ||
            x != (double)(int32_t)x || y != (double)(int32_t)y)
            return false;
        buf[(*at)++] = (int32_t)x;
        buf[(*at)++] = (int32_t)y;
    }
    return true;
}

eo_status eoi_spool_put(eo_ctx *ctx, eoi_spool *sp, eoi_feature *ft) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSGeometry *g = ft->g;
    if (GEOSGeomTypeId_r(h, g) != GEOS_POLYGON)
        return EO_OK; /* a part of several polygons: one may sit in another's hole */
    int nh = GEOSGetNumInteriorRings_r(h, g);
    if (nh <= 0)
        return EO_OK;
    size_t words = 0;
    for (int k = 0; k < nh; k++)
        words += 1 + 2 * (size_t)GEOSGetNumCoordinates_r(h, GEOSGetInteriorRingN_r(h, g, k));
    if (sp->n == INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "polygonize: too many parts hold holes on disk");
    if (!eoi_grow(ctx, (void **)&sp->v, &sp->cap, (size_t)sp->n + 1, sizeof *sp->v, 256))
        return EO_E_NOMEM;
    int32_t *buf = eoi_malloc(ctx, words * sizeof *buf);
    if (!buf)
        return EO_E_NOMEM;
    size_t at = 0;
    bool grid = true;
    for (int k = 0; grid && k < nh; k++)
        grid = ring_record(h, GEOSGetInteriorRingN_r(h, g, k), buf, &at);
    eo_status st = EO_OK;
    GEOSGeometry *shell = NULL, *bare = NULL;
    if (grid) { /* else they stay in memory */
        shell = GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, g));
        bare = shell ? GEOSGeom_createPolygon_r(h, shell, NULL, 0) : NULL;
        if (!bare) {
            GEOSGeom_destroy_r(h, shell);
            st = eoi_geos_fail(ctx, "moving holes to disk");
        } else
            st = spool_write(ctx, sp, buf, at * sizeof *buf);
    }
    eoi_free(buf);
    if (!grid || st != EO_OK) {
        GEOSGeom_destroy_r(h, bare);
        return st;
    }
    sp->v[sp->n] = (span){.off = sp->end, .bytes = (int64_t)(at * sizeof *buf)};
    sp->end += (int64_t)(at * sizeof *buf);
    int32_t id = ++sp->n;
    if (ft->held)
        sp->v[ft->held_end - 1].next = id;
    else
        ft->held = id;
    ft->held_end = id;
    GEOSGeom_destroy_r(h, ft->g);
    ft->g = bare;
    return EO_OK;
}

void eoi_spool_join(eoi_spool *sp, eoi_feature *a, eoi_feature *b) {
    if (!b->held)
        return;
    if (a->held)
        sp->v[a->held_end - 1].next = b->held;
    else
        a->held = b->held;
    a->held_end = b->held_end;
    b->held = b->held_end = 0;
}

static GEOSGeometry *record_ring(GEOSContextHandle_t h, const int32_t *p, int32_t n) {
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n + 1, 2);
    if (!cs)
        return NULL;
    for (int32_t k = 0; k <= n; k++) {
        int32_t m = k % n;
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)k, (double)p[2 * m], (double)p[2 * m + 1]);
    }
    return GEOSGeom_createLinearRing_r(h, cs);
}

eo_status eoi_spool_each(eo_ctx *ctx, const eoi_spool *sp, const eoi_feature *ft, eoi_ring_fn fn,
                         void *user) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
    int32_t *buf = NULL;
    size_t cap = 0;
    for (int32_t id = ft->held; id && st == EO_OK; id = sp->v[id - 1].next) {
        const span *s = &sp->v[id - 1];
        size_t bytes = (size_t)s->bytes, got = 0;
        if (bytes > cap) {
            int32_t *b = eoi_realloc(ctx, buf, bytes);
            if (!b) {
                st = EO_E_NOMEM;
                break;
            }
            buf = b;
            cap = bytes;
        }
        while (got < bytes) { /* one part's holes: a stripe's worth at most */
            ssize_t k =
                pread(sp->fd, (char *)buf + got, bytes - got, (off_t)(s->off + (int64_t)got));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                st = eoi_fail(ctx, EO_E_IO_READ,
                              "polygonize: reading back the holes kept in a temporary file: %s",
                              k < 0 ? strerror(errno) : "the file is short");
                break;
            }
            got += (size_t)k;
        }
        size_t words = bytes / sizeof *buf;
        for (size_t at = 0; st == EO_OK && at < words;) {
            int32_t n = buf[at];
            if (n < 3 || (size_t)n * 2 > words - at - 1) {
                st = eoi_fail(ctx, EO_E_INTERNAL, "polygonize: a held hole is damaged");
                break;
            }
            GEOSGeometry *r = record_ring(h, buf + at + 1, n);
            if (!r) {
                st = eoi_geos_fail(ctx, "reading back a held hole");
                break;
            }
            st = fn(ctx, &r, user);
            GEOSGeom_destroy_r(h, r); /* NULL when fn took it */
            at += 1 + 2 * (size_t)n;
        }
    }
    eoi_free(buf);
    return st;
}
