/* cog_codec.c - tile compression (ZSTD, DEFLATE through libdeflate, TIFF
 * LZW written here, none) and the TIFF predictors (horizontal differencing,
 * floating point), one codec object per worker thread. */
#include "cog_int.h"

#include <libdeflate.h>
#include <string.h>
#include <zstd.h>

struct eoi_cog_codec {
    int32_t compress;
    int32_t level;
    ZSTD_CCtx *zstd;
    struct libdeflate_compressor *deflate;
};

eoi_cog_codec *eoi_cog_codec_new(int32_t compress, int32_t level) {
    eoi_cog_codec *c = eoi_calloc(NULL, 1, sizeof *c);
    if (!c)
        return NULL;
    c->compress = compress;
    c->level = level;
    if (compress == EOI_COG_ZSTD) {
        c->level = level > 0 ? level : 9;
        if (!(c->zstd = ZSTD_createCCtx()))
            goto fail;
    } else if (compress == EOI_COG_DEFLATE) {
        c->level = level > 0 ? level : 6;
        if (!(c->deflate = libdeflate_alloc_compressor(c->level)))
            goto fail;
    }
    return c;
fail:
    eoi_cog_codec_free(c);
    return NULL;
}

void eoi_cog_codec_free(eoi_cog_codec *c) {
    if (!c)
        return;
    ZSTD_freeCCtx(c->zstd);
    if (c->deflate)
        libdeflate_free_compressor(c->deflate);
    eoi_free(c);
}

size_t eoi_cog_bound(int32_t compress, size_t n) {
    switch (compress) {
    case EOI_COG_ZSTD:
        return ZSTD_compressBound(n);
    case EOI_COG_DEFLATE:
        return libdeflate_zlib_compress_bound(NULL, n);
    case EOI_COG_LZW:
        /* at most one 12-bit code per byte, plus clear codes and the end */
        return n + n / 2 + n / 1024 * 2 + 16;
    default:
        return n;
    }
}

size_t eoi_cog_compress(eoi_cog_codec *c, void *dst, size_t cap, const void *src, size_t n) {
    switch (c->compress) {
    case EOI_COG_ZSTD: {
        size_t r = ZSTD_compressCCtx(c->zstd, dst, cap, src, n, c->level);
        return ZSTD_isError(r) ? 0 : r;
    }
    case EOI_COG_DEFLATE:
        return libdeflate_zlib_compress(c->deflate, src, n, dst, cap);
    case EOI_COG_LZW:
        return eoi_cog_lzw(dst, cap, src, n);
    default:
        if (cap < n)
            return 0;
        memcpy(dst, src, n);
        return n;
    }
}

/* ---- LZW (TIFF 6.0 section 13, with the "early change" of libtiff) ------ */

#define LZW_CLEAR 256
#define LZW_EOI 257
#define LZW_FIRST 258
#define LZW_MAX 4095
#define LZW_HSIZE 9973 /* prime, > 2 x 4096 */

struct lzw_out {
    uint8_t *p, *end;
    uint32_t acc;
    int bits;
    bool overflow;
};

static void lzw_put(struct lzw_out *o, int code, int nbits) {
    o->acc = (o->acc << nbits) | (uint32_t)code;
    o->bits += nbits;
    while (o->bits >= 8) {
        if (o->p >= o->end) {
            o->overflow = true;
            o->bits = 0;
            return;
        }
        *o->p++ = (uint8_t)(o->acc >> (o->bits - 8));
        o->bits -= 8;
    }
}

size_t eoi_cog_lzw(uint8_t *dst, size_t cap, const uint8_t *src, size_t n) {
    /* hash table of (prefix code << 8 | byte) -> code */
    int32_t keys[LZW_HSIZE];
    int16_t vals[LZW_HSIZE];
    struct lzw_out o = {dst, dst + cap, 0, 0, false};
    int nbits = 9, maxcode = 511, next = LZW_FIRST;
    memset(keys, 0xff, sizeof keys);
    lzw_put(&o, LZW_CLEAR, nbits);
    if (n == 0) {
        lzw_put(&o, LZW_EOI, nbits);
        goto flush;
    }
    int ent = src[0];
    for (size_t i = 1; i < n && !o.overflow; i++) {
        int c = src[i];
        int32_t key = (ent << 8) | c;
        uint32_t h = (uint32_t)key % LZW_HSIZE;
        while (keys[h] != -1 && keys[h] != key)
            h = h + 1 == LZW_HSIZE ? 0 : h + 1;
        if (keys[h] == key) {
            ent = vals[h];
            continue;
        }
        lzw_put(&o, ent, nbits);
        keys[h] = key;
        vals[h] = (int16_t)next++;
        if (next == LZW_MAX - 1) {
            lzw_put(&o, LZW_CLEAR, nbits);
            memset(keys, 0xff, sizeof keys);
            nbits = 9;
            maxcode = 511;
            next = LZW_FIRST;
        } else if (next > maxcode) {
            nbits++;
            maxcode = (1 << nbits) - 1;
        }
        ent = c;
    }
    lzw_put(&o, ent, nbits);
    next++;
    if (next == LZW_MAX - 1) {
        lzw_put(&o, LZW_CLEAR, nbits);
        nbits = 9;
    } else if (next > maxcode) {
        nbits++;
    }
    lzw_put(&o, LZW_EOI, nbits);
flush:
    if (o.bits > 0 && !o.overflow) {
        if (o.p >= o.end)
            return 0;
        *o.p++ = (uint8_t)(o.acc << (8 - o.bits));
    }
    return o.overflow ? 0 : (size_t)(o.p - dst);
}

/* ---- predictors -------------------------------------------------------- */

#define HDIFF(T)                                                                                   \
    for (int64_t y = 0; y < h; y++) {                                                              \
        T *row = (T *)tile + (size_t)y * (size_t)n;                                                \
        for (int64_t i = n - 1; i >= spp; i--)                                                     \
            row[i] = (T)(row[i] - row[i - spp]);                                                   \
    }

void eoi_cog_predict(void *tile, int32_t predictor, int64_t w, int64_t h, int32_t spp, size_t esize,
                     uint8_t *scratch) {
    int64_t n = w * spp; /* samples per row */
    if (predictor == EOI_PRED_HORIZONTAL) {
        switch (esize) {
        case 1:
            HDIFF(uint8_t);
            break;
        case 2:
            HDIFF(uint16_t);
            break;
        case 4:
            HDIFF(uint32_t);
            break;
        default:
            HDIFF(uint64_t);
            break;
        }
    } else if (predictor == EOI_PRED_FLOAT) {
        /* bytes of each row regrouped most significant first, then
         * differenced byte by byte with a stride of spp */
        size_t rb = (size_t)n * esize;
        for (int64_t y = 0; y < h; y++) {
            uint8_t *row = (uint8_t *)tile + (size_t)y * rb;
            memcpy(scratch, row, rb);
            for (int64_t i = 0; i < n; i++)
                for (size_t b = 0; b < esize; b++) /* little-endian host */
                    row[(esize - 1 - b) * (size_t)n + (size_t)i] = scratch[(size_t)i * esize + b];
            for (size_t i = rb - 1; i >= (size_t)spp; i--)
                row[i] = (uint8_t)(row[i] - row[i - (size_t)spp]);
        }
    }
}
