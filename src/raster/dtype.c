/* dtype.c - pixel data types and resampling methods: names, sizes and the
 * mappings to GDAL. */
#include "raster_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct dtype_info {
    eo_dtype dt;
    const char *name;
    const char *alias;
    size_t size;
    GDALDataType gdal;
};

static const struct dtype_info dtypes[] = {
    {EO_DT_U8, "uint8", "u8", 1, GDT_Byte},        {EO_DT_I8, "int8", "i8", 1, GDT_Byte},
    {EO_DT_U16, "uint16", "u16", 2, GDT_UInt16},   {EO_DT_I16, "int16", "i16", 2, GDT_Int16},
    {EO_DT_U32, "uint32", "u32", 4, GDT_UInt32},   {EO_DT_I32, "int32", "i32", 4, GDT_Int32},
    {EO_DT_U64, "uint64", "u64", 8, GDT_UInt64},   {EO_DT_I64, "int64", "i64", 8, GDT_Int64},
    {EO_DT_F32, "float32", "f32", 4, GDT_Float32}, {EO_DT_F64, "float64", "f64", 8, GDT_Float64},
};

#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

static const struct dtype_info *dtype_find(eo_dtype dt) {
    return dt >= EO_DT_U8 && dt <= EO_DT_F64 ? &dtypes[dt - 1] : NULL;
}

size_t eo_dtype_size(eo_dtype dt) {
    const struct dtype_info *d = dtype_find(dt);
    return d ? d->size : 0;
}

const char *eo_dtype_name(eo_dtype dt) {
    const struct dtype_info *d = dtype_find(dt);
    return d ? d->name : "unknown";
}

eo_dtype eo_dtype_from_name(const char *name) {
    if (!name)
        return EO_DT_UNKNOWN;
    if (strcasecmp(name, "byte") == 0)
        return EO_DT_U8;
    for (size_t i = 0; i < NDTYPES; i++)
        if (strcasecmp(name, dtypes[i].name) == 0 || strcasecmp(name, dtypes[i].alias) == 0)
            return dtypes[i].dt;
    return EO_DT_UNKNOWN;
}

GDALDataType eoi_dtype_to_gdal(eo_dtype dt) {
    const struct dtype_info *d = dtype_find(dt);
    return d ? d->gdal : GDT_Unknown;
}

eo_dtype eoi_dtype_of_band(GDALRasterBandH band) {
    GDALDataType t = GDALGetRasterDataType(band);
    if (t == GDT_Byte) {
        /* GDAL 3.6 has no Int8: signed bytes are Byte + PIXELTYPE=SIGNEDBYTE */
        const char *pt = GDALGetMetadataItem(band, "PIXELTYPE", "IMAGE_STRUCTURE");
        return pt && strcmp(pt, "SIGNEDBYTE") == 0 ? EO_DT_I8 : EO_DT_U8;
    }
    for (size_t i = 0; i < NDTYPES; i++)
        if (dtypes[i].gdal == t && dtypes[i].dt != EO_DT_I8)
            return dtypes[i].dt;
    return EO_DT_UNKNOWN;
}

bool eoi_dtype_is_float(eo_dtype dt) { return dt == EO_DT_F32 || dt == EO_DT_F64; }

/* round half away from zero, then saturate to [lo, hi] */
static double clamp_round(double v, double lo, double hi) {
    if (isnan(v))
        return 0;
    v = round(v);
    return v < lo ? lo : v > hi ? hi : v;
}

void eoi_dtype_store(void *buf, eo_dtype dt, size_t i, double v) {
    switch (dt) {
    case EO_DT_U8:
        ((uint8_t *)buf)[i] = (uint8_t)clamp_round(v, 0, UINT8_MAX);
        break;
    case EO_DT_I8:
        ((int8_t *)buf)[i] = (int8_t)clamp_round(v, INT8_MIN, INT8_MAX);
        break;
    case EO_DT_U16:
        ((uint16_t *)buf)[i] = (uint16_t)clamp_round(v, 0, UINT16_MAX);
        break;
    case EO_DT_I16:
        ((int16_t *)buf)[i] = (int16_t)clamp_round(v, INT16_MIN, INT16_MAX);
        break;
    case EO_DT_U32:
        ((uint32_t *)buf)[i] = (uint32_t)clamp_round(v, 0, UINT32_MAX);
        break;
    case EO_DT_I32:
        ((int32_t *)buf)[i] = (int32_t)clamp_round(v, INT32_MIN, INT32_MAX);
        break;
    case EO_DT_U64: {
        double r = clamp_round(v, 0, 18446744073709551615.0);
        ((uint64_t *)buf)[i] = r >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)r;
        break;
    }
    case EO_DT_I64: {
        double r = clamp_round(v, -9223372036854775808.0, 9223372036854775807.0);
        ((int64_t *)buf)[i] = r >= 9223372036854775807.0 ? INT64_MAX : (int64_t)r;
        break;
    }
    case EO_DT_F32:
        ((float *)buf)[i] = (float)v;
        break;
    case EO_DT_F64:
        ((double *)buf)[i] = v;
        break;
    default:
        break;
    }
}

bool eoi_dtype_is_64(eo_dtype dt) { return dt == EO_DT_U64 || dt == EO_DT_I64; }

static double bits_value(eo_dtype dt, uint64_t bits) { return eoi_dtype_load(&bits, dt, 0); }

double eoi_band_nodata(GDALRasterBandH band, eo_dtype dt, int *has, uint64_t *bits) {
    uint64_t u = 0;
    double v;
    int h = 0;
    if (dt == EO_DT_U64) {
        u = GDALGetRasterNoDataValueAsUInt64(band, &h);
        v = bits_value(dt, u);
    } else if (dt == EO_DT_I64) {
        int64_t i = GDALGetRasterNoDataValueAsInt64(band, &h);
        memcpy(&u, &i, sizeof u);
        v = bits_value(dt, u);
    } else {
        v = GDALGetRasterNoDataValue(band, &h);
    }
    if (has)
        *has = h;
    if (bits)
        *bits = h ? u : 0;
    return h ? v : 0;
}

uint64_t eoi_nodata_bits(eo_dtype dt, double v, uint64_t bits) {
    if (!eoi_dtype_is_64(dt))
        return 0;
    if (bits_value(dt, bits) == v)
        return bits;
    uint64_t b = 0;
    eoi_dtype_store(&b, dt, 0, v);
    return b;
}

CPLErr eoi_band_set_nodata(GDALRasterBandH band, eo_dtype dt, double v, uint64_t bits) {
    uint64_t b = eoi_nodata_bits(dt, v, bits);
    if (dt == EO_DT_U64)
        return GDALSetRasterNoDataValueAsUInt64(band, b);
    if (dt == EO_DT_I64) {
        int64_t i;
        memcpy(&i, &b, sizeof i);
        return GDALSetRasterNoDataValueAsInt64(band, i);
    }
    return GDALSetRasterNoDataValue(band, v);
}

void eoi_nodata_text(char *buf, size_t cap, eo_dtype dt, double v, uint64_t bits) {
    uint64_t b = eoi_nodata_bits(dt, v, bits);
    if (dt == EO_DT_U64) {
        snprintf(buf, cap, "%" PRIu64, b);
    } else if (dt == EO_DT_I64) {
        int64_t i;
        memcpy(&i, &b, sizeof i);
        snprintf(buf, cap, "%" PRId64, i);
    } else if (isnan(v))
        snprintf(buf, cap, "nan");
    else if (isinf(v))
        snprintf(buf, cap, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, cap, "%.17g", v);
}

double eoi_dtype_load(const void *buf, eo_dtype dt, size_t i) {
    switch (dt) {
    case EO_DT_U8:
        return ((const uint8_t *)buf)[i];
    case EO_DT_I8:
        return ((const int8_t *)buf)[i];
    case EO_DT_U16:
        return ((const uint16_t *)buf)[i];
    case EO_DT_I16:
        return ((const int16_t *)buf)[i];
    case EO_DT_U32:
        return ((const uint32_t *)buf)[i];
    case EO_DT_I32:
        return ((const int32_t *)buf)[i];
    case EO_DT_U64:
        return (double)((const uint64_t *)buf)[i];
    case EO_DT_I64:
        return (double)((const int64_t *)buf)[i];
    case EO_DT_F32:
        return ((const float *)buf)[i];
    case EO_DT_F64:
        return ((const double *)buf)[i];
    default:
        return 0;
    }
}

/* ---- resampling -------------------------------------------------------- */

static const char *const resample_names[] = {"nearest", "bilinear", "cubic",
                                             "average", "mode",     "lanczos"};
static const GDALRIOResampleAlg resample_gdal[] = {
    GRIORA_NearestNeighbour, GRIORA_Bilinear, GRIORA_Cubic,
    GRIORA_Average,          GRIORA_Mode,     GRIORA_Lanczos};

#define NRESAMPLE ((int32_t)(sizeof resample_names / sizeof resample_names[0]))

const char *eo_resampling_name(int32_t method) {
    return method >= 0 && method < NRESAMPLE ? resample_names[method] : NULL;
}

int32_t eo_resampling_from_name(const char *name) {
    if (!name)
        return -1;
    for (int32_t i = 0; i < NRESAMPLE; i++)
        if (strcasecmp(name, resample_names[i]) == 0)
            return i;
    return -1;
}

GDALRIOResampleAlg eoi_resample_to_gdal(int32_t method) {
    return method >= 0 && method < NRESAMPLE ? resample_gdal[method] : GRIORA_NearestNeighbour;
}
