/* crs_describe.c - eo_crs_describe: one CRS in every text form a client
 * needs (WKT1 as GDAL writes it, WKT2, PROJ, PROJJSON) and the authority
 * entries it matches, all through GDAL's OSR, so that a binding can answer
 * exactly as the GDAL-based tools do (rasterio's CRS is OSR too). */
#include "raster_int.h"

#include <ctype.h>
#include <strings.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <ogr_srs_api.h>

static void put(json_object *o, const char *key, json_object *v) {
    json_object_object_add(o, key, v);
}

/* A string exported by OSR (NULL stays JSON null), freed here. */
static void put_export(json_object *o, const char *key, char *s) {
    put(o, key, s ? json_object_new_string(s) : NULL);
    CPLFree(s);
}

static json_object *matches(OGRSpatialReferenceH srs) {
    json_object *arr = json_object_new_array();
    int n = 0, *conf = NULL;
    OGRSpatialReferenceH *m = OSRFindMatches(srs, NULL, &n, &conf);
    for (int i = 0; m && i < n; i++) {
        const char *auth = OSRGetAuthorityName(m[i], NULL);
        const char *code = OSRGetAuthorityCode(m[i], NULL);
        if (!auth || !code)
            continue;
        json_object *e = json_object_new_object();
        put(e, "authority", json_object_new_string(auth));
        put(e, "code", json_object_new_string(code));
        put(e, "confidence", json_object_new_int(conf ? conf[i] : 0));
        json_object_array_add(arr, e);
    }
    OSRFreeSRSArray(m);
    CPLFree(conf);
    return arr;
}

/* What GDAL's user input parser is given: authority codes (EPSG:4326,
 * urn:ogc:def:crs:...), well-known names (WGS84), WKT, PROJ strings and
 * PROJJSON, but never a file name or a URL, which it would open. */
static bool is_definition(const char *s) {
    if (*s == '{' || *s == '+')
        return true;
    const char *p = s;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (p > s && *p == '[')
        return true;                           /* WKT */
    bool urn = strncasecmp(s, "urn:", 4) == 0; /* urn:ogc:def:crs:EPSG:6.3:4326 */
    for (p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == ':' || *p == '_' || *p == '-' ||
              (urn && *p == '.')))
            return false; /* a '.' or '/' would make it a file name */
    return true;
}

static eo_status describe(eo_ctx *ctx, char **out_json, const char *crs) {
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (!srs)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory describing a CRS");
    if (!is_definition(crs)) {
        OSRDestroySpatialReference(srs);
        return eoi_fail(ctx, EO_E_CRS,
                        "cannot understand CRS '%.200s': give an authority code (EPSG:4326), "
                        "WKT, a PROJ string or PROJJSON",
                        crs);
    }
    if (OSRSetFromUserInput(srs, crs) != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        return eoi_fail(ctx, EO_E_CRS, "cannot understand CRS '%.200s': %s", crs,
                        eoi_gdal_msg(ctx, "not a CRS definition"));
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    json_object *o = json_object_new_object();
    const char *name = OSRGetName(srs);
    put(o, "name", name ? json_object_new_string(name) : NULL);
    char *s = NULL;
    if (OSRExportToWktEx(srs, &s, NULL) != OGRERR_NONE) {
        CPLFree(s);
        s = NULL;
    }
    put_export(o, "wkt", s);
    s = NULL;
    const char *const wkt2[] = {"FORMAT=WKT2_2019", NULL};
    if (OSRExportToWktEx(srs, &s, wkt2) != OGRERR_NONE) {
        CPLFree(s);
        s = NULL;
    }
    put_export(o, "wkt2", s);
    s = NULL;
    if (OSRExportToProj4(srs, &s) != OGRERR_NONE) {
        CPLFree(s);
        s = NULL;
    }
    put_export(o, "proj4", s);
    s = NULL;
    if (OSRExportToPROJJSON(srs, &s, NULL) != OGRERR_NONE) {
        CPLFree(s);
        s = NULL;
    }
    put_export(o, "projjson", s);
    bool geographic = OSRIsGeographic(srs) != 0;
    put(o, "geographic", json_object_new_boolean(geographic));
    put(o, "projected", json_object_new_boolean(OSRIsProjected(srs) != 0));
    char *units = NULL;
    double factor = geographic ? OSRGetAngularUnits(srs, &units) : OSRGetLinearUnits(srs, &units);
    put(o, "units", units ? json_object_new_string(units) : NULL);
    put(o, "units_factor", eoi_json_double(factor));
    put(o, "matches", matches(srs));
    OSRDestroySpatialReference(srs);
    eo_status st = eoi_json_dump(ctx, out_json, o, false);
    json_object_put(o);
    return st;
}

eo_status eo_crs_describe(eo_ctx *ctx, char **out_json, const char *crs) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, crs);
    if (!*crs)
        return eoi_fail(ctx, EO_E_CRS, "empty CRS definition");
    eoi_gdal_begin(ctx);
    eo_status st = describe(ctx, out_json, crs);
    eoi_gdal_end(ctx);
    return st;
}
