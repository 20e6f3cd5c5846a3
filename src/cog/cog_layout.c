/* cog_layout.c - where the COG writer's bytes go: the spool files of the
 * levels (unlinked temporaries beside the target, or the output itself),
 * inserting a range at the start of a file, the IFDs with their ghost area,
 * and the assembly of header, IFDs and tiles into the output (cog_write.c
 * describes the whole pipeline). */
#include "cog_write_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_string.h>

/* ---- spool files ------------------------------------------------------- */

/* Write n bytes at offset off (off < 0: at the file position). */
static eo_status pwrite_all(eo_ctx *ctx, int fd, const void *p, size_t n, off_t off,
                            const char *path) {
    int e = eoi_write_fd(fd, p, n, off);
    return e ? eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot write: %s", path, strerror(e)) : EO_OK;
}

static eo_status write_all(eo_ctx *ctx, int fd, const void *p, size_t n, const char *path) {
    return pwrite_all(ctx, fd, p, n, -1, path);
}

eo_status eoi_cog_spool_open(eo_ctx *ctx, struct spool *s, const char *dir, const char *path) {
    s->fd = -1;
    if (!(s->buf = eoi_malloc(ctx, SPOOL_BUF)))
        return EO_E_NOMEM;
    s->fd = eoi_tmp_anon(dir);
    if (s->fd < 0 && errno == ENOMEM)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory (a temporary file's name)");
    if (s->fd < 0) {
        int e = errno;
        return eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create a temporary file in %s: %s", path,
                        dir, strerror(e));
    }
    return EO_OK;
}

static eo_status spool_flush(eo_ctx *ctx, struct spool *s, const char *path) {
    eo_status st = write_all(ctx, s->fd, s->buf, s->len, path);
    s->len = 0;
    return st;
}

eo_status eoi_cog_spool_add(eo_ctx *ctx, struct spool *s, const void *p, size_t n,
                            const char *path) {
    if (s->len + n > SPOOL_BUF) {
        eo_status st = spool_flush(ctx, s, path);
        if (st != EO_OK)
            return st;
        if (n > SPOOL_BUF) {
            s->total += n;
            return write_all(ctx, s->fd, p, n, path);
        }
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->total += n;
    return EO_OK;
}

void eoi_cog_spool_close(struct spool *s) {
    if (s->fd >= 0 && !s->borrowed)
        close(s->fd);
    s->fd = -1;
    eoi_free(s->buf);
    s->buf = NULL;
}

/* Append the whole spool to fd. */
static eo_status spool_copy(eo_ctx *ctx, struct spool *s, int fd, uint8_t *tmp, size_t cap,
                            const char *path) {
    eo_status st = spool_flush(ctx, s, path);
    if (st != EO_OK)
        return st;
    off_t off = 0;
    uint64_t left = s->total;
#ifdef __linux__
    /* in the kernel, without a round trip through tmp; the loop below
     * finishes whatever it cannot do */
    while (left > 0) {
        ssize_t k =
            copy_file_range(s->fd, &off, fd, NULL, left < (1u << 30) ? left : (1u << 30), 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        left -= (uint64_t)k;
    }
#endif
    while (left > 0) {
        size_t n = left < cap ? (size_t)left : cap;
        ssize_t k = pread(s->fd, tmp, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            return eoi_fail(ctx, EO_E_IO_READ, "%s: cannot read back a temporary file: %s", path,
                            strerror(e));
        }
        if ((st = write_all(ctx, fd, tmp, (size_t)k, path)) != EO_OK)
            return st;
        off += k;
        left -= (uint64_t)k;
    }
    return EO_OK;
}

#define INSERT_ALIGN 4096 /* the file system block INSERT_RANGE works in */

/* Whether the file system of fd (a new empty file) inserts ranges at the
 * start of a file; fd is left empty. */
bool eoi_cog_can_insert(int fd) {
#if defined(__linux__) && defined(FALLOC_FL_INSERT_RANGE)
    bool ok = ftruncate(fd, 2 * INSERT_ALIGN) == 0 &&
              fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, INSERT_ALIGN) == 0;
    return ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 && ok;
#else
    (void)fd;
    return false;
#endif
}

/* Make room of n bytes (a multiple of INSERT_ALIGN) at the start of fd,
 * shifting what it holds; false (errno set) if the file system refused. */
static bool insert_front(int fd, uint64_t n) {
#if defined(__linux__) && defined(FALLOC_FL_INSERT_RANGE)
    return fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, (off_t)n) == 0;
#else
    (void)fd;
    (void)n;
    errno = EOPNOTSUPP;
    return false;
#endif
}

/* Level 0 went into the output from byte 0 but the range cannot be
 * inserted after all: move it to a spool of its own (dir: where) and empty
 * the output, for the copying layout. */
static eo_status uninsert(eo_ctx *ctx, struct spool *s, int fd, const char *dir, const char *path) {
    struct spool n = {.fd = -1};
    eo_status st = eoi_cog_spool_open(ctx, &n, dir, path);
    if (st == EO_OK && lseek(fd, 0, SEEK_SET) != 0)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot seek: %s", path, strerror(errno));
    n.total = s->total;
    uint8_t *tmp = n.buf; /* empty yet: a copy buffer */
    for (uint64_t left = s->total; st == EO_OK && left > 0;) {
        size_t k = left < SPOOL_BUF ? (size_t)left : SPOOL_BUF;
        ssize_t r = read(fd, tmp, k);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            st = eoi_fail(ctx, EO_E_IO_READ, "%s: cannot read back the file: %s", path,
                          strerror(r < 0 ? errno : EIO));
        else if ((st = write_all(ctx, n.fd, tmp, (size_t)r, path)) == EO_OK)
            left -= (uint64_t)r;
    }
    if (st == EO_OK && (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0))
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot truncate: %s", path, strerror(errno));
    eoi_cog_spool_close(s);
    *s = n;
    return st;
}

/* ---- layout ------------------------------------------------------------ */

static const char ghost[] = "LAYOUT=IFDS_BEFORE_DATA\n"
                            "BLOCK_ORDER=ROW_MAJOR\n"
                            "BLOCK_LEADER=SIZE_AS_UINT4\n"
                            "BLOCK_TRAILER=LAST_4_BYTES_REPEATED\n"
                            "KNOWN_INCOMPATIBLE_EDITION=NO\n";
/* with a mask, as GDAL writes it (the leading space included) */
static const char ghost_mask[] = " MASK_INTERLEAVED_WITH_IMAGERY=YES\n";

/* The IFD of the mask of level k: 1-bit, DEFLATE, a transparency mask. */
static eo_status build_mask_ifd(struct writer *w, eoi_tiff_ifd *ifd, int k, bool big) {
    struct level *L = &w->lv[k];
    size_t nt = (size_t)(L->tx * L->ty);
    uint32_t u32 = k > 0 ? 5 : 4; /* transparency mask (of a reduced image) */
    uint16_t one = 1;
    bool ok = eoi_tiff_add(ifd, 254, EOI_TIFF_LONG, 1, &u32);
    u32 = (uint32_t)L->w;
    ok = ok && eoi_tiff_add(ifd, 256, EOI_TIFF_LONG, 1, &u32);
    u32 = (uint32_t)L->h;
    ok = ok && eoi_tiff_add(ifd, 257, EOI_TIFF_LONG, 1, &u32);
    ok = ok && eoi_tiff_add(ifd, 258, EOI_TIFF_SHORT, 1, &one);
    uint16_t u16 = EOI_COG_DEFLATE;
    ok = ok && eoi_tiff_add(ifd, 259, EOI_TIFF_SHORT, 1, &u16);
    u16 = 4;
    ok = ok && eoi_tiff_add(ifd, 262, EOI_TIFF_SHORT, 1, &u16);
    ok = ok && eoi_tiff_add(ifd, 277, EOI_TIFF_SHORT, 1, &one);
    ok = ok && eoi_tiff_add(ifd, 284, EOI_TIFF_SHORT, 1, &one);
    u16 = (uint16_t)w->bs;
    ok = ok && eoi_tiff_add(ifd, 322, EOI_TIFF_SHORT, 1, &u16) &&
         eoi_tiff_add(ifd, 323, EOI_TIFF_SHORT, 1, &u16);
    uint16_t ot = big ? EOI_TIFF_LONG8 : EOI_TIFF_LONG;
    ok = ok && eoi_tiff_add(ifd, 324, ot, nt, NULL) && eoi_tiff_add(ifd, 325, ot, nt, NULL);
    for (int i = 0; ok && i < ifd->ntags; i++)
        if (ifd->tags[i].tag == 325)
            for (size_t t = 0; t < nt; t++) {
                if (big)
                    ((uint64_t *)ifd->tags[i].data)[t] = L->mlen[t];
                else
                    ((uint32_t *)ifd->tags[i].data)[t] = (uint32_t)L->mlen[t];
            }
    ok = ok && eoi_tiff_add(ifd, 339, EOI_TIFF_SHORT, 1, &one);
    return ok ? EO_OK : eoi_fail(w->ctx, EO_E_NOMEM, "out of memory building the TIFF directory");
}

static eo_status build_ifd(struct writer *w, eoi_tiff_ifd *ifd, int k, bool big, const char *xml) {
    struct level *L = &w->lv[k];
    uint32_t u32;
    uint16_t u16, v16[4096];
    bool ok = true;
    size_t nt = (size_t)(L->tx * L->ty * w->planes);
    int sf = eoi_dtype_is_float(w->dt) ? 3
             : (w->dt == EO_DT_I8 || w->dt == EO_DT_I16 || w->dt == EO_DT_I32 || w->dt == EO_DT_I64)
                 ? 2
                 : 1;
    int32_t nb = w->bands > 4096 ? 4096 : w->bands;
    u32 = k > 0 ? 1 : 0;
    ok = ok && eoi_tiff_add(ifd, 254, EOI_TIFF_LONG, 1, &u32);
    u32 = (uint32_t)L->w;
    ok = ok && eoi_tiff_add(ifd, 256, EOI_TIFF_LONG, 1, &u32);
    u32 = (uint32_t)L->h;
    ok = ok && eoi_tiff_add(ifd, 257, EOI_TIFF_LONG, 1, &u32);
    for (int32_t b = 0; b < nb; b++)
        v16[b] = (uint16_t)(w->es * 8);
    ok = ok && eoi_tiff_add(ifd, 258, EOI_TIFF_SHORT, (uint64_t)nb, v16);
    u16 = (uint16_t)w->compress;
    ok = ok && eoi_tiff_add(ifd, 259, EOI_TIFF_SHORT, 1, &u16);
    u16 = (uint16_t)w->photometric;
    ok = ok && eoi_tiff_add(ifd, 262, EOI_TIFF_SHORT, 1, &u16);
    u16 = (uint16_t)nb;
    ok = ok && eoi_tiff_add(ifd, 277, EOI_TIFF_SHORT, 1, &u16);
    u16 = w->interleaved ? 1 : 2;
    ok = ok && eoi_tiff_add(ifd, 284, EOI_TIFF_SHORT, 1, &u16);
    if (w->predictor != EOI_PRED_NONE) {
        u16 = (uint16_t)w->predictor;
        ok = ok && eoi_tiff_add(ifd, 317, EOI_TIFF_SHORT, 1, &u16);
    }
    if (w->colormap)
        ok = ok && eoi_tiff_add(ifd, 320, EOI_TIFF_SHORT, w->ncolormap, w->colormap);
    u16 = (uint16_t)w->bs;
    ok = ok && eoi_tiff_add(ifd, 322, EOI_TIFF_SHORT, 1, &u16) &&
         eoi_tiff_add(ifd, 323, EOI_TIFF_SHORT, 1, &u16);
    /* offsets are filled in later; counts now */
    uint16_t ot = big ? EOI_TIFF_LONG8 : EOI_TIFF_LONG;
    ok = ok && eoi_tiff_add(ifd, 324, ot, nt, NULL) && eoi_tiff_add(ifd, 325, ot, nt, NULL);
    if (ok) {
        eoi_tiff_tag *c = NULL;
        for (int i = 0; i < ifd->ntags; i++)
            if (ifd->tags[i].tag == 325)
                c = &ifd->tags[i];
        for (size_t i = 0; c && i < nt; i++) {
            if (big)
                ((uint64_t *)c->data)[i] = L->len[i];
            else
                ((uint32_t *)c->data)[i] = (uint32_t)L->len[i];
        }
    }
    if (w->nextra > 0)
        ok = ok && eoi_tiff_add(ifd, 338, EOI_TIFF_SHORT, (uint64_t)w->nextra, w->extra);
    for (int32_t b = 0; b < nb; b++)
        v16[b] = (uint16_t)sf;
    ok = ok && eoi_tiff_add(ifd, 339, EOI_TIFF_SHORT, (uint64_t)nb, v16);
    if (!ok)
        return eoi_fail(w->ctx, EO_E_NOMEM, "out of memory building the TIFF directory");
    if (k == 0) {
        eo_status st = eoi_cog_geo_tags(w->ctx, ifd, w->has_gt ? w->gt : NULL, w->wkt);
        if (st != EO_OK)
            return st;
        if (xml && !eoi_tiff_add(ifd, 42112, EOI_TIFF_ASCII, strlen(xml) + 1, xml))
            return eoi_fail(w->ctx, EO_E_NOMEM, "out of memory building the TIFF directory");
    }
    if (w->has_nodata) {
        char nd[64];
        eoi_nodata_text(nd, sizeof nd, w->dt, w->nodata, w->nodata_bits);
        if (!eoi_tiff_add(ifd, 42113, EOI_TIFF_ASCII, strlen(nd) + 1, nd))
            return eoi_fail(w->ctx, EO_E_NOMEM, "out of memory building the TIFF directory");
    }
    return EO_OK;
}

static void set_offsets(eoi_tiff_ifd *ifd, const uint64_t *off, size_t nt, uint64_t base,
                        bool big) {
    for (int i = 0; i < ifd->ntags; i++)
        if (ifd->tags[i].tag == 324)
            for (size_t t = 0; t < nt; t++) {
                if (big)
                    ((uint64_t *)ifd->tags[i].data)[t] = base + off[t];
                else
                    ((uint32_t *)ifd->tags[i].data)[t] = (uint32_t)(base + off[t]);
            }
}

/* The IFD order, GDAL's: the full resolution, its mask, the overviews from
 * the largest, then their masks. order[i] = level k (mask: k + 32). */
static int ifd_order(const struct writer *w, int *order) {
    int n = 0;
    order[n++] = 0;
    if (w->has_mask)
        order[n++] = 32;
    for (int k = 1; k < w->nlevels; k++)
        order[n++] = k;
    for (int k = 1; w->has_mask && k < w->nlevels; k++)
        order[n++] = 32 + k;
    return n;
}

/* Build every IFD (in file order; masks at 32 + k) and add their sizes
 * to *pos. */
static eo_status build_ifds(struct writer *w, eoi_tiff_ifd *ifds, const int *order, int nifd,
                            bool big, const char *xml, uint64_t *pos) {
    for (int i = 0; i < nifd; i++) {
        int k = order[i];
        eo_status st = k >= 32 ? build_mask_ifd(w, &ifds[k], k - 32, big)
                               : build_ifd(w, &ifds[k], k, big, xml);
        if (st != EO_OK)
            return st;
        *pos += eoi_tiff_ifd_size(&ifds[k], big);
    }
    return EO_OK;
}

/* The most bytes the header, ghost area and IFDs can take (as BigTIFF,
 * with the longest statistics the bands can have), for a single-level file
 * whose tiles are written in place after them. */
eo_status eoi_cog_direct_reserve(struct writer *w, uint64_t *out) {
    size_t xml_bound = 64;
    for (int32_t b = 0; b < w->bands; b++) {
        if (w->do_stats)
            xml_bound += 5 * 110; /* five items, each value at most 24 characters */
        if (w->desc && w->desc[b])
            xml_bound += 110 + 10 * strlen(w->desc[b]); /* escaped: at most 10 bytes a byte */
    }
    for (size_t i = 0; w->items && w->items[i]; i++)
        xml_bound += 110 + 10 * strlen(w->items[i]); /* escaped: at most 10 bytes a byte */
    char *xml = eoi_malloc(w->ctx, xml_bound + 1);
    if (!xml)
        return EO_E_NOMEM;
    memset(xml, 'x', xml_bound);
    xml[xml_bound] = '\0';
    eoi_tiff_ifd ifds[64];
    int order[64], nifd = ifd_order(w, order);
    memset(ifds, 0, sizeof ifds);
    uint64_t pos = 16 + 64 + sizeof ghost + sizeof ghost_mask;
    eo_status st = build_ifds(w, ifds, order, nifd, true, xml, &pos);
    for (int k = 0; k < 64; k++)
        eoi_tiff_ifd_clear(&ifds[k]);
    eoi_free(xml);
    *out = (pos + 4095) & ~(uint64_t)4095;
    return st;
}

/* lay out and write the file: header, ghost area, IFDs, then the spools */
eo_status eoi_cog_assemble(struct writer *w, int fd, const char *bigtiff_mode) {
    eo_status st = EO_OK;
    eoi_tiff_ifd ifds[64]; /* levels, then masks at 32 + k */
    int order[64], nifd = ifd_order(w, order);
    char *xml = NULL;
    uint8_t *head = NULL, *tmp = NULL;
    memset(ifds, 0, sizeof ifds);
    EOI_TRY(st, eoi_cog_metadata_xml(w->ctx, &xml, w->bands, w->do_stats ? w->stats : NULL, w->desc,
                                     w->items));
    char ghead[64], gbody[sizeof ghost + sizeof ghost_mask];
    snprintf(gbody, sizeof gbody, "%s%s", ghost, w->has_mask ? ghost_mask : "");
    snprintf(ghead, sizeof ghead, "GDAL_STRUCTURAL_METADATA_SIZE=%06d bytes\n", (int)strlen(gbody));
    uint64_t data_bytes = 0;
    for (int k = 0; k < w->nlevels; k++)
        data_bytes += w->lv[k].sp.total;
    if (w->insert)
        EOI_TRY(st, spool_flush(w->ctx, &w->lv[0].sp, w->path));
    bool big = false;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && big == false)
            break;
        eoi_free(head);
        head = NULL;
        for (int k = 0; k < 64; k++)
            eoi_tiff_ifd_clear(&ifds[k]);
        uint64_t pos = (big ? 16 : 8) + strlen(ghead) + strlen(gbody);
        pos += pos & 1;
        uint64_t start = pos;
        EOI_TRY(st, build_ifds(w, ifds, order, nifd, big, xml, &pos));
        uint64_t end = (w->direct ? w->direct : pos) + data_bytes + (w->insert ? INSERT_ALIGN : 0);
        bool need = end > UINT32_MAX;
        if (!big && (need || w->lv[0].w == 0)) {
            if (need && strcmp(bigtiff_mode, "no") == 0) {
                st = eoi_fail(w->ctx, EO_E_LIMIT,
                              "%s: the file would be %llu bytes, past the 4 GiB of a classic "
                              "TIFF, and BigTIFF was refused (bigtiff=no)",
                              w->path, (unsigned long long)end);
                goto done;
            }
        }
        if (pass == 0 && (need || strcmp(bigtiff_mode, "yes") == 0) && !big) {
            big = true;
            continue;
        }
        if (w->direct && pos > w->direct) {
            st = eoi_fail(w->ctx, EO_E_INTERNAL,
                          "%s: %llu bytes of TIFF directories overflow "
                          "the %llu reserved",
                          w->path, (unsigned long long)pos, (unsigned long long)w->direct);
            goto done;
        }
        /* offsets: data of the smallest level first (after the hole when
         * the one level went straight into the file) */
        uint64_t base = w->direct ? w->direct : pos;
        /* inserted before level 0: up to the block after the overviews */
        uint64_t hole = (pos + data_bytes - w->lv[0].sp.total + INSERT_ALIGN - 1) &
                        ~(uint64_t)(INSERT_ALIGN - 1);
        for (int k = w->nlevels - 1; k >= 0; k--) {
            struct level *L = &w->lv[k];
            if (k == 0 && w->insert)
                base = hole;
            set_offsets(&ifds[k], L->off, (size_t)(L->tx * L->ty * w->planes), base, big);
            if (w->has_mask)
                set_offsets(&ifds[32 + k], L->moff, (size_t)(L->tx * L->ty), base, big);
            base += L->sp.total;
        }
        /* header + ghost + IFDs in one buffer */
        if (!(head = eoi_calloc(w->ctx, 1, (size_t)pos))) {
            st = EO_E_NOMEM;
            goto done;
        }
        head[0] = 'I';
        head[1] = 'I';
        if (big) {
            head[2] = 43;
            head[4] = 8;
            for (int i = 0; i < 8; i++)
                head[8 + i] = (uint8_t)(start >> (8 * i));
        } else {
            head[2] = 42;
            for (int i = 0; i < 4; i++)
                head[4 + i] = (uint8_t)(start >> (8 * i));
        }
        size_t gp = big ? 16 : 8;
        memcpy(head + gp, ghead, strlen(ghead));
        memcpy(head + gp + strlen(ghead), gbody, strlen(gbody));
        uint64_t p = start;
        for (int i = 0; i < nifd; i++) {
            eoi_tiff_ifd *ifd = &ifds[order[i]];
            uint64_t sz = eoi_tiff_ifd_size(ifd, big);
            eoi_tiff_ifd_write(ifd, big, p, i + 1 < nifd ? p + sz : 0, head + p);
            p += sz;
        }
        if (w->direct) { /* the tiles are in place: finish them, then the head */
            EOI_TRY(st, spool_flush(w->ctx, &w->lv[0].sp, w->path));
            EOI_TRY(st, pwrite_all(w->ctx, fd, head, (size_t)pos, 0, w->path));
            break;
        }
        if (w->insert && !insert_front(fd, hole)) { /* copy after all: lay it out again */
            w->insert = false;
            EOI_TRY(st, uninsert(w->ctx, &w->lv[0].sp, fd, w->dir, w->path));
            pass--;
            continue;
        }
        if (w->insert) { /* the head and the overviews before level 0 (the rest: a hole) */
            EOI_TRY(st, pwrite_all(w->ctx, fd, head, (size_t)pos, 0, w->path));
            if (lseek(fd, (off_t)pos, SEEK_SET) < 0) {
                st = eoi_fail(w->ctx, EO_E_IO_WRITE, "%s: cannot seek: %s", w->path,
                              strerror(errno));
                goto done;
            }
        } else {
            EOI_TRY(st, write_all(w->ctx, fd, head, (size_t)pos, w->path));
        }
        size_t cap = 4u << 20;
        if (!(tmp = eoi_malloc(w->ctx, cap))) {
            st = EO_E_NOMEM;
            goto done;
        }
        for (int k = w->nlevels - 1; k >= (w->insert ? 1 : 0); k--)
            EOI_TRY(st, spool_copy(w->ctx, &w->lv[k].sp, fd, tmp, cap, w->path));
        break;
    }
done:
    for (int k = 0; k < 64; k++)
        eoi_tiff_ifd_clear(&ifds[k]);
    eoi_free(xml);
    eoi_free(head);
    eoi_free(tmp);
    return st;
}
