/* png.c - a PNG encoder for tiles: 8- or 16-bit gray, gray + alpha, RGB or
 * RGBA, adaptive row filters, the image data deflated by libdeflate (several
 * times faster than zlib at the same level, which is where a tile pyramid
 * spends most of its time). Format: PNG specification (ISO/IEC 15948). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the filter loops vectorize at -O3 */
#endif
#include "tiles_int.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Append a chunk (length, type, data, CRC over type + data) at *pos. */
static void chunk(uint8_t *out, size_t *pos, const char type[4], const uint8_t *data, size_t len) {
    uint8_t *p = out + *pos;
    put32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    if (len)
        memmove(p + 8, data, len);
    put32(p + 8 + len, libdeflate_crc32(0, p + 4, len + 4));
    *pos += 12 + len;
}

/* The five PNG filters of row cur (prev: the row above, or zeros) into out,
 * each as a plain loop over the row that the compiler vectorizes; returns
 * the sum of the filtered bytes taken as signed, the usual heuristic for
 * which filter will compress best. */
static uint64_t score(const uint8_t *v, size_t n) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int x = (int8_t)v[i];
        sum += (uint64_t)(x < 0 ? -x : x);
    }
    return sum;
}

static void filter_sub(uint8_t *o, const uint8_t *c, size_t n, size_t bpp) {
    memcpy(o, c, bpp < n ? bpp : n);
    for (size_t i = bpp; i < n; i++)
        o[i] = (uint8_t)(c[i] - c[i - bpp]);
}

static void filter_up(uint8_t *o, const uint8_t *c, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        o[i] = (uint8_t)(c[i] - p[i]);
}

static void filter_avg(uint8_t *o, const uint8_t *c, const uint8_t *p, size_t n, size_t bpp) {
    for (size_t i = 0; i < bpp && i < n; i++)
        o[i] = (uint8_t)(c[i] - (p[i] >> 1));
    for (size_t i = bpp; i < n; i++)
        o[i] = (uint8_t)(c[i] - ((c[i - bpp] + p[i]) >> 1));
}

static void filter_paeth(uint8_t *o, const uint8_t *c, const uint8_t *p, size_t n, size_t bpp) {
    for (size_t i = 0; i < bpp && i < n; i++)
        o[i] = (uint8_t)(c[i] - p[i]); /* a = c = 0: Paeth picks b */
    for (size_t i = bpp; i < n; i++) {
        int a = c[i - bpp], b = p[i], cc = p[i - bpp];
        int pa = b - cc, pb = a - cc, pc = pa + pb;
        pa = pa < 0 ? -pa : pa;
        pb = pb < 0 ? -pb : pb;
        pc = pc < 0 ? -pc : pc;
        int pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : cc;
        o[i] = (uint8_t)(c[i] - pred);
    }
}

/* out gets the filter byte then the row filtered with the best filter;
 * trial holds 4 rows of scratch. */
static void filter_row(uint8_t *out, const uint8_t *cur, const uint8_t *prev, size_t n, size_t bpp,
                       uint8_t *trial) {
    uint8_t *t[5] = {(uint8_t *)cur, trial, trial + n, trial + 2 * n, trial + 3 * n};
    filter_sub(t[1], cur, n, bpp);
    filter_up(t[2], cur, prev, n);
    filter_avg(t[3], cur, prev, n, bpp);
    filter_paeth(t[4], cur, prev, n, bpp);
    int best = 0;
    uint64_t best_sum = UINT64_MAX;
    for (int f = 0; f < 5; f++) {
        uint64_t sc = score(t[f], n);
        if (sc < best_sum) {
            best_sum = sc;
            best = f;
        }
    }
    out[0] = (uint8_t)best;
    memcpy(out + 1, t[best], n);
}

eo_status eoi_png_encode(eo_ctx *ctx, void **out, size_t *size, const eo_raster *r, int32_t bands,
                         int level) {
    *out = NULL;
    *size = 0;
    size_t esz = eo_dtype_size(r->dtype), w = (size_t)r->width, h = (size_t)r->height;
    size_t bpp = esz * (size_t)bands, row = w * bpp, raw_len;
    if (eoi_mul_size(&raw_len, row + 1, h))
        return eoi_fail(ctx, EO_E_LIMIT, "PNG too large");
    eo_status st = EO_OK;
    uint8_t *raw = eoi_malloc(ctx, raw_len), *line = eoi_malloc(ctx, 6 * row + 6), *png = NULL;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    if (!raw || !line || !c) {
        st = c ? EO_E_NOMEM : eoi_fail(ctx, EO_E_NOMEM, "cannot make a deflate compressor");
        goto done;
    }
    uint8_t *cur = line, *prev = line + row, *trial = line + 2 * row;
    memset(prev, 0, row);
    size_t plane = w * h * esz;
    const uint8_t *src = r->data;
    for (size_t y = 0; y < h; y++) {
        /* interleave the band-sequential planes; 16-bit samples big-endian */
        for (size_t x = 0; x < w; x++)
            for (int32_t b = 0; b < bands; b++) {
                const uint8_t *s = src + (size_t)b * plane + (y * w + x) * esz;
                uint8_t *d = cur + x * bpp + (size_t)b * esz;
                if (esz == 1) {
                    d[0] = s[0];
                } else {
                    uint16_t v;
                    memcpy(&v, s, 2);
                    d[0] = (uint8_t)(v >> 8);
                    d[1] = (uint8_t)v;
                }
            }
        filter_row(raw + y * (row + 1), cur, prev, row, bpp, trial);
        uint8_t *t = prev;
        prev = cur;
        cur = t;
    }
    size_t bound = libdeflate_zlib_compress_bound(c, raw_len), cap;
    if (eoi_add_size(&cap, bound, 8 + 25 + 12 + 12)) {
        st = eoi_fail(ctx, EO_E_LIMIT, "PNG too large");
        goto done;
    }
    if (!(png = eoi_malloc(ctx, cap))) {
        st = EO_E_NOMEM;
        goto done;
    }
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(png, sig, 8);
    size_t pos = 8;
    static const uint8_t color_type[5] = {0, 0, 4, 2, 6}; /* by band count */
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = (uint8_t)(esz * 8);
    ihdr[9] = color_type[bands];
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
    chunk(png, &pos, "IHDR", ihdr, 13);
    /* IDAT: the zlib stream straight into place after the 8 bytes of header */
    size_t z = libdeflate_zlib_compress(c, raw, raw_len, png + pos + 8, bound);
    if (!z) {
        st = eoi_fail(ctx, EO_E_INTERNAL, "deflate failed");
        goto done;
    }
    chunk(png, &pos, "IDAT", png + pos + 8, z);
    chunk(png, &pos, "IEND", NULL, 0);
    *out = png;
    *size = pos;
    png = NULL;
done:
    libdeflate_free_compressor(c);
    eoi_free(png);
    eoi_free(line);
    eoi_free(raw);
    return st;
}
