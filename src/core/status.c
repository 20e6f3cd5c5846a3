/* status.c - status ids and descriptions. */
#include "eoi.h"

#include <stdlib.h>

struct status_name {
    eo_status code;
    const char *id;
    const char *text;
};

static const struct status_name names[] = {
    {EO_OK, "ok", "success"},
    {EO_E_ARG, "arg.Invalid", "invalid argument"},
    {EO_E_NOMEM, "memory.Exhausted", "out of memory"},
    {EO_E_IO, "io.Error", "input/output error"},
    {EO_E_IO_READ, "io.Read", "cannot read input"},
    {EO_E_IO_WRITE, "io.Write", "cannot write output"},
    {EO_E_IO_NOT_FOUND, "io.NotFound", "file not found"},
    {EO_E_GEOMETRY, "geometry.Invalid", "invalid geometry"},
    {EO_E_SOURCE, "source.Invalid", "invalid or unsupported raster source"},
    {EO_E_NODATA_IN_AOI, "source.NoDataInAOI", "the source has no data in the area of interest"},
    {EO_E_PIXEL_SIZE_TOO_HIGH, "source.PixelSizeTooHigh",
     "the source's pixels are too coarse for the request"},
    {EO_E_SOURCE_MISMATCH, "source.Mismatch", "sources do not match"},
    {EO_E_LIMIT, "limit.Exceeded", "a size limit was exceeded"},
    {EO_E_AOI_TOO_LARGE, "aoi.TooLarge", "the area of interest is too large"},
    {EO_E_CRS, "crs.Invalid", "invalid or unknown coordinate reference system"},
    {EO_E_CRS_TRANSFORM, "crs.Transform", "coordinate transformation failed"},
    {EO_E_CRS_MISSING, "crs.Missing", "the raster has no CRS and the AOI's is assumed"},
    {EO_E_MODEL, "model.Invalid", "invalid model"},
    {EO_E_MODEL_UNSUPPORTED_OP, "model.UnsupportedOp", "unsupported model operator"},
    {EO_E_MODEL_UNSUPPORTED, "model.Unsupported", "unsupported model IR version or opset"},
    {EO_E_MODEL_INPUT_MISMATCH, "model.InputMismatch", "model input does not fit the raster"},
    {EO_E_OP_UNKNOWN, "op.Unknown", "unknown operation"},
    {EO_E_PARAM, "param.Invalid", "invalid operation parameter"},
    {EO_E_INDEX, "index.Invalid", "invalid spectral index"},
    {EO_E_INDEX_BAND_MISSING, "index.BandMissing", "a band the index needs is missing"},
    {EO_E_EXPR_SYNTAX, "expr.Syntax", "syntax error in expression"},
    {EO_E_INDEX_BAND_AMBIGUOUS, "index.BandAmbiguous",
     "several bands are described as the band an index needs"},
    {EO_E_CANCELLED, "cancelled", "cancelled"},
    {EO_E_STATE, "state.Invalid", "object is in a failed state"},
    {EO_E_UNSUPPORTED, "unsupported", "unsupported"},
    {EO_E_INTERNAL, "internal", "internal error"},
};

static const struct status_name *find(eo_status st) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == st)
            return &names[i];
    /* an unknown detail falls back to its category */
    if (st & ~0xff)
        return find(EO_STATUS_CATEGORY(st));
    return NULL;
}

const char *eo_status_id(eo_status st) {
    const struct status_name *n = find(st);
    return n ? n->id : "unknown";
}

const char *eo_status_str(eo_status st) {
    const struct status_name *n = find(st);
    return n ? n->text : "unknown status";
}

bool eoi_status_known(eo_status st) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == st)
            return true;
    return false;
}

void eo_free(void *p) { free(p); }
