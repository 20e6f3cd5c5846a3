/* tile_decode.c - encoded tiles (PNG, JPEG, WebP) to RGBA pixels, with
 * eoproc's PNG decoder (png_decode.c; libpng for the PNGs it leaves),
 * libpng, libjpeg(-turbo) and libwebp called directly: these run inside the
 * virtual file system callbacks of tile datasets (tilesrc.c), where calling
 * back into GDAL is best avoided. Nothing here prints: the libraries'
 * warning and error handlers are replaced, and their messages come back in
 * err. Any warning while decoding (a truncated JPEG, a bad CRC) counts as
 * corruption, since the pixels would be partly made up. */
#include "tilesrc_int.h"

#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

/* ---- PNG ----------------------------------------------------------------- */

struct png_mem {
    const uint8_t *p;
    size_t n, pos;
    eoi_werr *err;
};

static void png_mem_read(png_structp png, png_bytep out, size_t len) {
    struct png_mem *m = png_get_io_ptr(png);
    if (len > m->n - m->pos)
        png_error(png, "truncated data");
    memcpy(out, m->p + m->pos, len);
    m->pos += len;
}

static void png_on_error(png_structp png, png_const_charp msg) {
    struct png_mem *m = png_get_error_ptr(png);
    eoi_werr_set(m->err, EO_E_SOURCE, "corrupt PNG: %s", msg ? msg : "error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; /* benign ones (unknown chunks) are not errors */
}

static int decode_png(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                      int32_t *h, eoi_werr *err) {
    struct png_mem m = {data, n, 0, err};
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &m, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL;
    volatile int rc = EOI_TILE_CORRUPT;
    if (!info) {
        eoi_werr_set(err, EO_E_NOMEM, "out of memory for the PNG decoder");
        png_destroy_read_struct(&png, NULL, NULL);
        return EOI_TILE_CORRUPT;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return rc;
    }
    png_set_read_fn(png, &m, png_mem_read);
    png_read_info(png, info);
    png_uint_32 pw = 0, ph = 0;
    int depth = 0, ctype = 0;
    png_get_IHDR(png, info, &pw, &ph, &depth, &ctype, NULL, NULL, NULL);
    *w = pw > INT32_MAX ? INT32_MAX : (int32_t)pw;
    *h = ph > INT32_MAX ? INT32_MAX : (int32_t)ph;
    if (*w != size || *h != size) {
        rc = EOI_TILE_WRONG_SIZE;
        png_error(png, "wrong size");
    }
    if (depth > 8) {
        eoi_werr_set(err, EO_E_SOURCE, "16-bit PNG: tile datasets read 8-bit tiles only");
        rc = EOI_TILE_CORRUPT;
        png_longjmp(png, 1);
    }
    png_set_expand(png); /* palette, low-depth gray, tRNS -> 8 bits + alpha */
    png_set_gray_to_rgb(png);
    png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER); /* only where there is none */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)size * 4)
        png_error(png, "unexpected row layout");
    rows = malloc((size_t)size * sizeof *rows);
    if (!rows)
        png_error(png, "out of memory");
    for (int32_t y = 0; y < size; y++)
        rows[y] = rgba + (size_t)y * (size_t)size * 4;
    png_read_image(png, rows);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return EOI_TILE_OK;
}

/* ---- JPEG ---------------------------------------------------------------- */

struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    int warned;
};

static void jpeg_on_error(j_common_ptr c) {
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static void jpeg_on_message(j_common_ptr c, int level) {
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    if (level < 0 && !e->warned) { /* a warning: corrupt data */
        c->err->format_message(c, e->msg);
        e->warned = 1;
    }
}

static void jpeg_quiet(j_common_ptr c) { (void)c; }

static int decode_jpeg(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                       int32_t *h, eoi_werr *err) {
    struct jpeg_decompress_struct c;
    struct jpeg_err e;
    volatile int rc = EOI_TILE_CORRUPT;
    memset(&e, 0, sizeof e);
    c.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = jpeg_on_error;
    e.pub.emit_message = jpeg_on_message;
    e.pub.output_message = jpeg_quiet;
    if (setjmp(e.jb)) {
        if (rc == EOI_TILE_CORRUPT)
            eoi_werr_set(err, EO_E_SOURCE, "corrupt JPEG: %s", e.msg);
        jpeg_destroy_decompress(&c);
        return rc;
    }
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, data, (unsigned long)n);
    jpeg_read_header(&c, TRUE);
    *w = (int32_t)c.image_width;
    *h = (int32_t)c.image_height;
    if (*w != size || *h != size) {
        rc = EOI_TILE_WRONG_SIZE;
        longjmp(e.jb, 1);
    }
    c.out_color_space = JCS_EXT_RGBA; /* libjpeg-turbo: gray and YCbCr to RGBA */
    jpeg_start_decompress(&c);
    while (c.output_scanline < c.output_height) {
        JSAMPROW row = rgba + (size_t)c.output_scanline * (size_t)size * 4;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    if (e.warned) {
        eoi_werr_set(err, EO_E_SOURCE, "corrupt JPEG: %s", e.msg);
        return EOI_TILE_CORRUPT;
    }
    return EOI_TILE_OK;
}

/* ---- WebP ---------------------------------------------------------------- */

static int decode_webp(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                       int32_t *h, eoi_werr *err) {
    int ww = 0, hh = 0;
    if (!WebPGetInfo(data, n, &ww, &hh)) {
        eoi_werr_set(err, EO_E_SOURCE, "corrupt WebP: bad header");
        return EOI_TILE_CORRUPT;
    }
    *w = ww;
    *h = hh;
    if (ww != size || hh != size)
        return EOI_TILE_WRONG_SIZE;
    size_t stride = (size_t)size * 4;
    if (!WebPDecodeRGBAInto(data, n, rgba, stride * (size_t)size, (int)stride)) {
        eoi_werr_set(err, EO_E_SOURCE, "corrupt WebP: the image data cannot be decoded");
        return EOI_TILE_CORRUPT;
    }
    return EOI_TILE_OK;
}

/* ---- dispatch ------------------------------------------------------------ */

static atomic_int png_use_libpng; /* eo_exp_png_decoder */

int32_t eo_exp_png_decoder(const char *name) {
    if (!name || strcmp(name, "eoproc") == 0)
        atomic_store(&png_use_libpng, 0);
    else if (strcmp(name, "libpng") == 0)
        atomic_store(&png_use_libpng, 1);
    else
        return 0;
    return 1;
}

static int decode_any_png(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                          int32_t *h, eoi_werr *err) {
    if (!atomic_load_explicit(&png_use_libpng, memory_order_relaxed)) {
        int rc = eoi_png_decode(data, n, size, rgba, w, h, err);
        if (rc != EOI_TILE_FALLBACK)
            return rc;
        *w = *h = 0;
    }
    return decode_png(data, n, size, rgba, w, h, err);
}

int eoi_tile_decode(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                    int32_t *h, eoi_werr *err) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *w = *h = 0;
    err->msg[0] = '\0';
    if (n >= 8 && memcmp(data, png_sig, 8) == 0)
        return decode_any_png(data, n, size, rgba, w, h, err);
    if (n >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return decode_jpeg(data, n, size, rgba, w, h, err);
    if (n >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return decode_webp(data, n, size, rgba, w, h, err);
    if (n == 0) {
        eoi_werr_set(err, EO_E_SOURCE, "empty tile (0 bytes)");
        return EOI_TILE_CORRUPT;
    }
    char head[3 * 8 + 1] = "";
    for (size_t i = 0; i < n && i < 8; i++)
        snprintf(head + 3 * i, sizeof head - 3 * i, "%02x ", data[i]);
    if (head[0])
        head[strlen(head) - 1] = '\0';
    eoi_werr_set(err, EO_E_SOURCE, "not a PNG, JPEG or WebP image (%zu bytes starting %s)", n,
                 head);
    return EOI_TILE_CORRUPT;
}
