/*
 * tilesrc_int.h - internals of tile datasets (tilesrc.c) and the tile
 * decoders (tile_decode.c). Never installed.
 */
#ifndef EOPROC_TILESRC_INT_H
#define EOPROC_TILESRC_INT_H

#include "tiles_int.h"

#define EOI_TILE_OK 0
#define EOI_TILE_CORRUPT 1    /* err says why */
#define EOI_TILE_WRONG_SIZE 2 /* *w x *h is not size x size */

/* Decode a PNG, JPEG or WebP tile (by its signature) of size x size pixels
 * into rgba (size * size * 4 bytes, 8 bits per sample, alpha 255 where the
 * image has none). *w, *h: the image's size as far as it was read. Safe to
 * call from any thread; never prints. */
int eoi_tile_decode(const uint8_t *data, size_t n, int32_t size, uint8_t *rgba, int32_t *w,
                    int32_t *h, char *err, size_t errcap);

#endif /* EOPROC_TILESRC_INT_H */
