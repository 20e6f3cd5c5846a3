/* png_decode.c - a PNG decoder for what tile servers send: 8 bits per
 * sample, gray, RGB, palette (with or without tRNS), gray + alpha or RGBA,
 * not interlaced, into the RGBA layout of the libpng path (tile_decode.c:
 * palette and tRNS expanded, gray copied to R, G and B, alpha 255 where the
 * image has none). The image data is inflated by libdeflate in one call
 * (2-3x faster than zlib, which libpng uses), then un-filtered and expanded
 * row by row. Format: PNG specification (ISO/IEC 15948).
 *
 * This decoder never refuses a tile that libpng reads: whatever it does not
 * handle (16-bit and low bit depths, interlacing, unknown critical chunks,
 * odd palettes and tRNS) and every damage libpng forgives (a bad CRC in an
 * ancillary chunk, too much image data, a bad Adler-32, a deflate error
 * that may lie past the last row) returns EOI_TILE_FALLBACK, and the libpng
 * path decides as it did before. Its own errors are the ones libpng raises
 * too: a truncated chunk, a critical chunk's CRC, IHDR out of range or out
 * of place, a palette image without PLTE, not enough image data, a bad row
 * filter. Every length is checked against the buffer; the only allocations
 * are bounded by the tile size (checked first) and by the input length. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the row loops vectorize at -O3 */
#endif
#include "tilesrc_int.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#define PNG_MAX_DIM 1000000u   /* libpng's default width/height limit */
#define PNG_CHUNK_MAX 8000000u /* and its default chunk size limit (IDAT: see idat_limit) */

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool is_type(const uint8_t *t, const char *name) { return memcmp(t, name, 4) == 0; }

static bool valid_name(const uint8_t *t) {
    for (int i = 0; i < 4; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return false;
    return true;
}

/* What the chunks before the image data say. */
struct png_head {
    uint32_t w, h;
    int ctype;         /* 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA */
    size_t bpp;        /* bytes per pixel */
    int npal;          /* PLTE entries (0: none) */
    bool trns;         /* tRNS seen */
    uint16_t key[3];   /* gray or RGB colour key of tRNS */
    uint8_t pal[1024]; /* 256 RGBA entries: PLTE + tRNS, (0, 0, 0, 255) past them */
};

enum { CH_OK, CH_TRUNCATED, CH_BAD_CRC, CH_BAD_LENGTH };

/* The chunk at data + pos: its length and type, checked against the buffer
 * (length and type need 8 bytes, then the data and the CRC) and its CRC. */
static int chunk_at(const uint8_t *data, size_t n, size_t pos, uint32_t *len) {
    if (n - pos < 8)
        return CH_TRUNCATED;
    *len = get32(data + pos);
    if (*len > 0x7fffffffu)
        return CH_BAD_LENGTH;
    if ((size_t)*len > n - pos - 8 || n - pos - 8 - *len < 4)
        return CH_TRUNCATED;
    uint32_t crc = libdeflate_crc32(0, data + pos + 4, (size_t)*len + 4);
    return crc == get32(data + pos + 8 + *len) ? CH_OK : CH_BAD_CRC;
}

static int chunk_error(int ch, const uint8_t *type, eoi_werr *err) {
    char t[5] = "????";
    if (valid_name(type))
        memcpy(t, type, 4);
    if (ch == CH_BAD_LENGTH)
        eoi_werr_set(err, EO_E_SOURCE, "corrupt PNG: %s: chunk length out of range", t);
    else if (ch == CH_BAD_CRC)
        eoi_werr_set(err, EO_E_SOURCE, "corrupt PNG: %s: CRC error", t);
    else
        eoi_werr_set(err, EO_E_SOURCE, "corrupt PNG: %s: truncated data", t);
    return EOI_TILE_CORRUPT;
}

static int corrupt(eoi_werr *err, const char *what) {
    eoi_werr_set(err, EO_E_SOURCE, "corrupt PNG: %s", what);
    return EOI_TILE_CORRUPT;
}

static int read_ihdr(const uint8_t *d, struct png_head *hd, eoi_werr *err) {
    hd->w = get32(d);
    hd->h = get32(d + 4);
    if (hd->w == 0 || hd->h == 0 || hd->w > 0x7fffffffu || hd->h > 0x7fffffffu)
        return corrupt(err, "IHDR: invalid image size");
    int depth = d[8], ctype = d[9];
    static const size_t bpp_of[7] = {1, 0, 3, 1, 2, 0, 4};
    /* anything else (valid or not) is for libpng to read or refuse */
    if (hd->w > PNG_MAX_DIM || hd->h > PNG_MAX_DIM || depth != 8 || ctype > 6 ||
        bpp_of[ctype] == 0 || d[10] != 0 || d[11] != 0 || d[12] != 0)
        return EOI_TILE_FALLBACK;
    hd->ctype = ctype;
    hd->bpp = bpp_of[ctype];
    return EOI_TILE_OK;
}

static int read_plte(const uint8_t *d, uint32_t len, struct png_head *hd) {
    if (hd->ctype == 0 || hd->ctype == 4 || hd->npal || hd->trns || len == 0 || len % 3 ||
        len > 768)
        return EOI_TILE_FALLBACK;
    hd->npal = (int)(len / 3);
    for (int i = 0; i < hd->npal; i++)
        memcpy(hd->pal + 4 * i, d + 3 * i, 3);
    return EOI_TILE_OK;
}

static int read_trns(const uint8_t *d, uint32_t len, struct png_head *hd) {
    if (hd->trns)
        return EOI_TILE_FALLBACK;
    if (hd->ctype == 3) {
        if (len == 0 || len > (uint32_t)hd->npal)
            return EOI_TILE_FALLBACK;
        for (uint32_t i = 0; i < len; i++)
            hd->pal[4 * i + 3] = d[i];
    } else if ((hd->ctype == 0 && len == 2) || (hd->ctype == 2 && len == 6)) {
        for (uint32_t i = 0; i < len / 2; i++) {
            hd->key[i] = (uint16_t)(d[2 * i] << 8 | d[2 * i + 1]);
            if (hd->key[i] > 255) /* out of range for 8 bits: libpng's call */
                return EOI_TILE_FALLBACK;
        }
    } else {
        return EOI_TILE_FALLBACK;
    }
    hd->trns = true;
    return EOI_TILE_OK;
}

/* The signature (checked by the caller), IHDR, then the chunks up to the
 * first IDAT, whose offset goes to *idat. */
static int read_head(const uint8_t *data, size_t n, struct png_head *hd, size_t *idat,
                     eoi_werr *err) {
    size_t pos = 8;
    uint32_t len = 0;
    int ch = chunk_at(data, n, pos, &len), rc;
    if (n - pos >= 8 && !is_type(data + pos + 4, "IHDR"))
        return corrupt(err, "missing IHDR");
    if (ch != CH_OK)
        return chunk_error(ch, (const uint8_t *)"IHDR", err);
    if (len != 13)
        return corrupt(err, "IHDR: invalid length");
    if ((rc = read_ihdr(data + pos + 8, hd, err)) != EOI_TILE_OK)
        return rc;
    for (int i = 0; i < 256; i++)
        hd->pal[4 * i + 3] = 255;
    for (pos += 12 + len;; pos += 12 + len) {
        if (n - pos < 8)
            return chunk_error(CH_TRUNCATED, (const uint8_t *)"????", err);
        const uint8_t *type = data + pos + 4;
        if (is_type(type, "IDAT"))
            break; /* its length and CRC are checked with the image data */
        ch = chunk_at(data, n, pos, &len);
        if (ch == CH_TRUNCATED || ch == CH_BAD_LENGTH)
            return chunk_error(ch, type, err);
        bool critical = !(type[0] & 0x20);
        if (ch == CH_BAD_CRC)
            return critical ? chunk_error(ch, type, err) : EOI_TILE_FALLBACK;
        if (!valid_name(type) || len > PNG_CHUNK_MAX) /* libpng refuses these its way */
            return EOI_TILE_FALLBACK;
        if (is_type(type, "IHDR"))
            return corrupt(err, "IHDR: out of place");
        if (is_type(type, "IEND"))
            return corrupt(err, "IEND: out of place (no image data)");
        if (is_type(type, "PLTE"))
            rc = read_plte(data + pos + 8, len, hd);
        else if (is_type(type, "tRNS"))
            rc = read_trns(data + pos + 8, len, hd);
        else /* unknown critical chunks, and invalid chunk names, go to libpng */
            rc = critical ? EOI_TILE_FALLBACK : EOI_TILE_OK;
        if (rc != EOI_TILE_OK)
            return rc;
    }
    if (hd->ctype == 3 && !hd->npal)
        return corrupt(err, "missing PLTE before IDAT");
    *idat = pos;
    return EOI_TILE_OK;
}

/* ---- un-filtering -------------------------------------------------------- */
/* Each filter as a loop over the row with bpp a constant where the caller
 * passes one (always_inline), so that the compiler unrolls the pixel and
 * vectorizes what has no dependency from one pixel to the next (Up, and
 * the bytes of a pixel in Sub, Average and Paeth). prev is NULL on the
 * first row (a row of zeros). */

#define INLINE static inline __attribute__((always_inline))

INLINE void unf_sub(uint8_t *c, size_t n, size_t bpp) {
    for (size_t i = bpp; i < n; i++)
        c[i] = (uint8_t)(c[i] + c[i - bpp]);
}

INLINE void unf_up(uint8_t *c, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        c[i] = (uint8_t)(c[i] + p[i]);
}

INLINE void unf_avg(uint8_t *c, const uint8_t *p, size_t n, size_t bpp) {
    if (!p) {
        for (size_t i = bpp; i < n; i++)
            c[i] = (uint8_t)(c[i] + (c[i - bpp] >> 1));
        return;
    }
    for (size_t i = 0; i < bpp; i++)
        c[i] = (uint8_t)(c[i] + (p[i] >> 1));
    for (size_t i = bpp; i < n; i += bpp)
        for (size_t k = 0; k < bpp; k++)
            c[i + k] = (uint8_t)(c[i + k] + ((c[i + k - bpp] + p[i + k]) >> 1));
}

INLINE void unf_paeth(uint8_t *c, const uint8_t *p, size_t n, size_t bpp) {
    if (!p) { /* the predictor is the left byte */
        unf_sub(c, n, bpp);
        return;
    }
    for (size_t i = 0; i < bpp; i++)
        c[i] = (uint8_t)(c[i] + p[i]);
    for (size_t i = bpp; i < n; i += bpp)
        for (size_t k = 0; k < bpp; k++) {
            int a = c[i + k - bpp], b = p[i + k], cc = p[i + k - bpp];
            int pa = b - cc, pb = a - cc, pc = pa + pb;
            pa = pa < 0 ? -pa : pa;
            pb = pb < 0 ? -pb : pb;
            pc = pc < 0 ? -pc : pc;
            int pred = pb < pa ? b : a;
            pred = pc < (pb < pa ? pb : pa) ? cc : pred;
            c[i + k] = (uint8_t)(c[i + k] + pred);
        }
}

INLINE int unfilter_bpp(uint8_t *c, const uint8_t *p, size_t n, int f, size_t bpp) {
    switch (f) {
    case 0:
        return 0;
    case 1:
        unf_sub(c, n, bpp);
        return 0;
    case 2:
        if (p)
            unf_up(c, p, n);
        return 0;
    case 3:
        unf_avg(c, p, n, bpp);
        return 0;
    case 4:
        unf_paeth(c, p, n, bpp);
        return 0;
    default:
        return -1;
    }
}

/* Un-filter row c (n bytes, filter f) over the row above p (NULL: none). */
static int unfilter(uint8_t *c, const uint8_t *p, size_t n, int f, size_t bpp) {
    switch (bpp) {
    case 1:
        return unfilter_bpp(c, p, n, f, 1);
    case 2:
        return unfilter_bpp(c, p, n, f, 2);
    case 3:
        return unfilter_bpp(c, p, n, f, 3);
    default:
        return unfilter_bpp(c, p, n, f, 4);
    }
}

/* ---- expansion to RGBA --------------------------------------------------- */

static void expand_row(const struct png_head *hd, const uint8_t *s, uint8_t *o, size_t w) {
    switch (hd->ctype) {
    case 6:
        memcpy(o, s, w * 4);
        break;
    case 2:
        if (hd->trns) {
            for (size_t x = 0; x < w; x++, s += 3, o += 4) {
                o[0] = s[0], o[1] = s[1], o[2] = s[2];
                o[3] = s[0] == hd->key[0] && s[1] == hd->key[1] && s[2] == hd->key[2] ? 0 : 255;
            }
        } else {
            for (size_t x = 0; x < w; x++, s += 3, o += 4)
                o[0] = s[0], o[1] = s[1], o[2] = s[2], o[3] = 255;
        }
        break;
    case 0: {
        int key = hd->trns ? hd->key[0] : -1;
        for (size_t x = 0; x < w; x++, o += 4)
            o[0] = o[1] = o[2] = s[x], o[3] = s[x] == key ? 0 : 255;
        break;
    }
    case 4:
        for (size_t x = 0; x < w; x++, s += 2, o += 4)
            o[0] = o[1] = o[2] = s[0], o[3] = s[1];
        break;
    default: /* 3: indices past the palette are (0, 0, 0, 255), as in libpng */
        for (size_t x = 0; x < w; x++, o += 4)
            memcpy(o, hd->pal + 4 * (size_t)s[x], 4);
        break;
    }
}

/* ---- image data ---------------------------------------------------------- */

/* The run of IDAT chunks from pos, checked: *src points at their data (in
 * place when there is one chunk, else concatenated into *buf), *len its
 * length. A truncated chunk or a bad CRC after the first IDAT ends the run
 * with *bad set to the chunk error: the data before may hold the whole
 * stream (libpng stops reading there), which the inflation decides. */
static int gather_idat(const uint8_t *data, size_t n, size_t pos, size_t limit, const uint8_t **src,
                       size_t *total, uint8_t **buf, int *bad, eoi_werr *err) {
    size_t count = 0, sum = 0, p = pos;
    uint32_t len = 0;
    *bad = CH_OK;
    while (n - p >= 8 && is_type(data + p + 4, "IDAT")) {
        int ch = chunk_at(data, n, p, &len);
        if (ch != CH_OK) {
            if (count == 0)
                return chunk_error(ch, data + p + 4, err);
            *bad = ch;
            break;
        }
        if (len > limit) /* libpng refuses the chunk, with its message */
            return EOI_TILE_FALLBACK;
        count++;
        sum += len; /* bounded by n */
        p += 12 + (size_t)len;
    }
    *total = sum;
    if (count == 1) {
        *src = data + pos + 8;
        return EOI_TILE_OK;
    }
    uint8_t *b = eoi_malloc(NULL, sum ? sum : 1);
    if (!b) {
        eoi_werr_set(err, EO_E_NOMEM, "out of memory for the PNG image data");
        return EOI_TILE_CORRUPT;
    }
    size_t at = 0;
    for (size_t i = 0, q = pos; i < count; i++) {
        len = get32(data + q);
        memcpy(b + at, data + q + 8, len);
        at += len;
        q += 12 + (size_t)len;
    }
    *src = b;
    *buf = b;
    return EOI_TILE_OK;
}

/* Inflate the zlib stream src[0, len) into exactly need bytes at out. */
static int inflate_exact(const uint8_t *src, size_t len, uint8_t *out, size_t need, int bad,
                         eoi_werr *err) {
    if (len < 2)
        return bad ? chunk_error(bad, (const uint8_t *)"IDAT", err)
                   : corrupt(err, "not enough image data");
    /* zlib header: deflate, window up to 32 KiB, no preset dictionary */
    if ((src[0] & 0x0f) != 8 || (src[0] >> 4) > 7 || (src[0] << 8 | src[1]) % 31 || (src[1] & 0x20))
        return EOI_TILE_FALLBACK;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d) {
        eoi_werr_set(err, EO_E_NOMEM, "out of memory for the PNG decoder");
        return EOI_TILE_CORRUPT;
    }
    size_t in_used = 0, out_used = 0;
    enum libdeflate_result r =
        libdeflate_deflate_decompress_ex(d, src + 2, len - 2, out, need, &in_used, &out_used);
    libdeflate_free_decompressor(d);
    if (r == LIBDEFLATE_SUCCESS && out_used == need) {
        size_t end = 2 + in_used;
        if (len - end >= 4 && get32(src + end) == libdeflate_adler32(1, out, need))
            return EOI_TILE_OK; /* (data after the stream: libpng ignores it too) */
        return bad ? chunk_error(bad, (const uint8_t *)"IDAT", err) : EOI_TILE_FALLBACK;
    }
    if (bad) /* the stream needed the chunk that is damaged */
        return chunk_error(bad, (const uint8_t *)"IDAT", err);
    if (r == LIBDEFLATE_SUCCESS || r == LIBDEFLATE_SHORT_OUTPUT)
        return corrupt(err, "not enough image data");
    return EOI_TILE_FALLBACK; /* too much data, or a deflate error libpng may never reach */
}

int eoi_png_decode(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                   int32_t *h, eoi_werr *err) {
    struct png_head hd;
    size_t idat = 0;
    memset(&hd, 0, sizeof hd);
    int rc = read_head(data, n, &hd, &idat, err);
    if (rc != EOI_TILE_OK)
        return rc;
    *w = (int32_t)hd.w;
    *h = (int32_t)hd.h;
    if (*w != size || *h != size)
        return EOI_TILE_WRONG_SIZE;
    /* size is at most 4096 (the tile size option), so this cannot overflow */
    size_t rowbytes = hd.bpp * hd.w, need = (rowbytes + 1) * hd.h;
    const uint8_t *src = NULL;
    uint8_t *cat = NULL, *raw = NULL;
    size_t len = 0;
    int bad = CH_OK;
    /* libpng's bound on an IDAT chunk's length: the image data, its deflate
     * overhead, or its limit for any chunk, whichever is more */
    size_t limit = need + 6 + 5 * (need / (rowbytes + 1 < 32566 ? rowbytes + 1 : 32566) + 1);
    limit = limit > PNG_CHUNK_MAX ? limit : PNG_CHUNK_MAX;
    if ((rc = gather_idat(data, n, idat, limit, &src, &len, &cat, &bad, err)) != EOI_TILE_OK)
        return rc;
    if (!(raw = eoi_malloc(NULL, need))) {
        eoi_free(cat);
        eoi_werr_set(err, EO_E_NOMEM, "out of memory for the PNG image data");
        return EOI_TILE_CORRUPT;
    }
    rc = inflate_exact(src, len, raw, need, bad, err);
    eoi_free(cat);
    const uint8_t *prev = NULL;
    for (size_t y = 0; rc == EOI_TILE_OK && y < hd.h; y++) {
        uint8_t *row = raw + y * (rowbytes + 1);
        if (unfilter(row + 1, prev, rowbytes, row[0], hd.bpp) != 0) {
            rc = corrupt(err, "bad adaptive filter value");
            break;
        }
        expand_row(&hd, row + 1, rgba + y * hd.w * 4, hd.w);
        prev = row + 1;
    }
    eoi_free(raw);
    return rc;
}
