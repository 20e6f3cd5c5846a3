/* cog_tiff.c - the TIFF structure written by hand: IFDs (classic and
 * BigTIFF, little-endian) with their out-of-line values, and the GeoTIFF
 * tags: ModelPixelScale + ModelTiepoint (or ModelTransformation for a
 * rotated geotransform) and the GeoKey directory, encoded by GDAL itself
 * (an EPSG code where one matches, else the full definition). */
#include "cog_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_vsi.h>
#include <stdio.h>

static size_t type_size(uint16_t type) {
    switch (type) {
    case EOI_TIFF_SHORT:
        return 2;
    case EOI_TIFF_LONG:
        return 4;
    case EOI_TIFF_DOUBLE:
    case EOI_TIFF_LONG8:
        return 8;
    default:
        return 1;
    }
}

bool eoi_tiff_add(eoi_tiff_ifd *ifd, uint16_t tag, uint16_t type, uint64_t count, const void *v) {
    if (ifd->ntags >= (int)(sizeof ifd->tags / sizeof ifd->tags[0]))
        return false;
    size_t n = (size_t)count * type_size(type);
    void *copy = eoi_malloc(NULL, n ? n : 1);
    if (!copy)
        return false;
    if (v)
        memcpy(copy, v, n);
    else
        memset(copy, 0, n);
    /* keep the tags sorted */
    int i = ifd->ntags;
    while (i > 0 && ifd->tags[i - 1].tag > tag) {
        ifd->tags[i] = ifd->tags[i - 1];
        i--;
    }
    ifd->tags[i] = (eoi_tiff_tag){tag, type, count, copy};
    ifd->ntags++;
    return true;
}

void eoi_tiff_ifd_clear(eoi_tiff_ifd *ifd) {
    for (int i = 0; i < ifd->ntags; i++)
        eoi_free(ifd->tags[i].data);
    ifd->ntags = 0;
}

static uint64_t tag_bytes(const eoi_tiff_tag *t) { return t->count * type_size(t->type); }

uint64_t eoi_tiff_ifd_size(const eoi_tiff_ifd *ifd, bool big) {
    uint64_t inline_max = big ? 8 : 4;
    uint64_t n = big ? 8 + 20 * (uint64_t)ifd->ntags + 8 : 2 + 12 * (uint64_t)ifd->ntags + 4;
    for (int i = 0; i < ifd->ntags; i++) {
        uint64_t b = tag_bytes(&ifd->tags[i]);
        if (b > inline_max)
            n += (b + 1) & ~(uint64_t)1; /* word boundary */
    }
    return n;
}

static void put16(uint8_t *p, uint64_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void eoi_tiff_ifd_write(const eoi_tiff_ifd *ifd, bool big, uint64_t pos, uint64_t next,
                        uint8_t *out) {
    uint64_t inline_max = big ? 8 : 4;
    uint64_t head = big ? 8 + 20 * (uint64_t)ifd->ntags + 8 : 2 + 12 * (uint64_t)ifd->ntags + 4;
    uint64_t ext = head; /* next free byte for out-of-line values */
    memset(out, 0, eoi_tiff_ifd_size(ifd, big));
    uint8_t *e = out;
    if (big) {
        put64(e, (uint64_t)ifd->ntags);
        e += 8;
    } else {
        put16(e, (uint64_t)ifd->ntags);
        e += 2;
    }
    for (int i = 0; i < ifd->ntags; i++) {
        const eoi_tiff_tag *t = &ifd->tags[i];
        uint64_t b = tag_bytes(t);
        put16(e, t->tag);
        put16(e + 2, t->type);
        uint8_t *val;
        if (big) {
            put64(e + 4, t->count);
            val = e + 12;
        } else {
            put32(e + 4, t->count);
            val = e + 8;
        }
        if (b <= inline_max) {
            memcpy(val, t->data, (size_t)b);
        } else {
            if (big)
                put64(val, pos + ext);
            else
                put32(val, pos + ext);
            memcpy(out + ext, t->data, (size_t)b);
            ext += (b + 1) & ~(uint64_t)1;
        }
        e += big ? 20 : 12;
    }
    if (big)
        put64(e, next);
    else
        put32(e, next);
}

/* ---- GeoTIFF ----------------------------------------------------------- */

static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Copy the GeoKey tags of the first IFD of a little-endian classic TIFF
 * held in buf (GDAL's own encoding of a CRS) into ifd. */
static bool copy_geokeys(eoi_tiff_ifd *ifd, const uint8_t *buf, size_t n) {
    if (n < 8 || buf[0] != 'I' || get_le(buf + 2, 2) != 42)
        return false;
    uint64_t pos = get_le(buf + 4, 4);
    if (pos + 2 > n)
        return false;
    uint64_t ntags = get_le(buf + pos, 2);
    if (pos + 2 + 12 * ntags > n)
        return false;
    for (uint64_t i = 0; i < ntags; i++) {
        const uint8_t *e = buf + pos + 2 + 12 * i;
        uint16_t tag = (uint16_t)get_le(e, 2), type = (uint16_t)get_le(e + 2, 2);
        uint64_t count = get_le(e + 4, 4);
        if (tag != 34735 && tag != 34736 && tag != 34737)
            continue;
        size_t bytes = (size_t)count * type_size(type);
        const uint8_t *v = bytes <= 4 ? e + 8 : buf + get_le(e + 8, 4);
        if (v < buf || v + bytes > buf + n || !eoi_tiff_add(ifd, tag, type, count, v))
            return false;
    }
    return true;
}

eo_status eoi_cog_geo_tags(eo_ctx *ctx, eoi_tiff_ifd *ifd, const double *gt, const char *wkt) {
    bool ok = true;
    if (gt) {
        if (gt[2] == 0 && gt[4] == 0 && gt[5] < 0) {
            double scale[3] = {gt[1], -gt[5], 0};
            double tie[6] = {0, 0, 0, gt[0], gt[3], 0};
            ok = eoi_tiff_add(ifd, 33550, EOI_TIFF_DOUBLE, 3, scale) &&
                 eoi_tiff_add(ifd, 33922, EOI_TIFF_DOUBLE, 6, tie);
        } else {
            double m[16] = {gt[1], gt[2], 0, gt[0], gt[4], gt[5], 0, gt[3], 0, 0, 0, 0, 0, 0, 0, 1};
            ok = eoi_tiff_add(ifd, 34264, EOI_TIFF_DOUBLE, 16, m);
        }
    }
    if (!ok)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory building the GeoTIFF tags");
    if ((!wkt || !*wkt) && !gt)
        return EO_OK;
    /* The GeoKeys exactly as GDAL encodes this CRS (an EPSG code where one
     * matches, else the full definition): GDAL writes a 1 x 1 GeoTIFF in
     * memory and the keys are copied from it. */
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv)
        return eoi_fail(ctx, EO_E_UNSUPPORTED, "the GDAL GTiff driver is not available");
    char name[96];
    eoi_vsimem_name(name, sizeof name, "geokeys", ".tif");
    GDALDatasetH ds = GDALCreate(drv, name, 1, 1, 1, GDT_Byte, NULL);
    if (!ds)
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot encode the GeoKeys: %s",
                        eoi_gdal_msg(ctx, "GDAL error"));
    double g[6] = {0, 1, 0, 0, 0, -1};
    if (gt)
        memcpy(g, gt, sizeof g);
    GDALSetGeoTransform(ds, g);
    eo_status st = EO_OK;
    if (wkt && *wkt && GDALSetProjection(ds, wkt) != CE_None)
        st = eoi_fail(ctx, EO_E_CRS, "CRS cannot be written as GeoKeys: %s",
                      eoi_gdal_msg(ctx, "GDAL error"));
    GDALClose(ds);
    vsi_l_offset n = 0;
    GByte *buf = VSIGetMemFileBuffer(name, &n, FALSE);
    if (st == EO_OK && (!buf || !copy_geokeys(ifd, buf, (size_t)n)))
        st = eoi_fail(ctx, EO_E_INTERNAL, "cannot encode the GeoKeys of the CRS");
    VSIUnlink(name);
    return st;
}
