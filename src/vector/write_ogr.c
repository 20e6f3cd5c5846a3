/* write_ogr.c - GeoPackage and FlatGeobuf output through GDAL/OGR: one
 * polygon layer with the same properties as the GeoJSON output, written to
 * a temporary name renamed into place. */
#include "geom_int.h"
#include "vector_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

static eo_status add_field(eo_ctx *ctx, OGRLayerH lyr, const char *name, OGRFieldType t) {
    OGRFieldDefnH fd = OGR_Fld_Create(name, t);
    OGRErr e = OGR_L_CreateField(lyr, fd, 1);
    OGR_Fld_Destroy(fd);
    return e == OGRERR_NONE ? EO_OK
                            : eoi_fail(ctx, EO_E_IO_WRITE, "cannot create field %s: %s", name,
                                       eoi_gdal_msg(ctx, "OGR failed"));
}

/* g (pixel grid) through tf as an OGR multipolygon, shells counter-clockwise
 * and holes clockwise: coordinates straight from GEOS into OGR's rings. */
static eo_status ogr_geometry(eo_ctx *ctx, OGRGeometryH *out, eoi_ring_buf *b,
                              const eoi_grid_tf *tf, const GEOSGeometry *g) {
    GEOSContextHandle_t h = ctx->geos;
    OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon);
    eo_status st = mp ? EO_OK : EO_E_NOMEM;
    bool multi = GEOSGeomTypeId_r(h, g) == GEOS_MULTIPOLYGON;
    int np = multi ? GEOSGetNumGeometries_r(h, g) : 1;
    for (int k = 0; st == EO_OK && k < np; k++) {
        const GEOSGeometry *p = multi ? GEOSGetGeometryN_r(h, g, k) : g;
        int nh = GEOSGetNumInteriorRings_r(h, p);
        OGRGeometryH pg = OGR_G_CreateGeometry(wkbPolygon);
        if (!pg || nh < 0) {
            OGR_G_DestroyGeometry(pg);
            st = pg ? eoi_geos_fail(ctx, "reading a polygon") : EO_E_NOMEM;
            break;
        }
        for (int i = -1; st == EO_OK && i < nh; i++) {
            const GEOSGeometry *r =
                i < 0 ? GEOSGetExteriorRing_r(h, p) : GEOSGetInteriorRingN_r(h, p, i);
            unsigned n = 0;
            OGRGeometryH rg = NULL;
            if ((st = eoi_ring_out(ctx, b, tf, r, i < 0 ? 1 : -1, &n)) != EO_OK)
                break;
            if (!(rg = OGR_G_CreateGeometry(wkbLinearRing))) {
                st = EO_E_NOMEM;
                break;
            }
            OGR_G_SetPoints(rg, (int)n, b->x, sizeof *b->x, b->y, sizeof *b->y, NULL, 0);
            if (OGR_G_AddGeometryDirectly(pg, rg) != OGRERR_NONE) /* rg taken either way */
                st = eoi_fail(ctx, EO_E_INTERNAL, "cannot build an OGR polygon");
        }
        if (st != EO_OK)
            OGR_G_DestroyGeometry(pg);
        else if (OGR_G_AddGeometryDirectly(mp, pg) != OGRERR_NONE) /* pg taken either way */
            st = eoi_fail(ctx, EO_E_INTERNAL, "cannot build an OGR multipolygon");
    }
    if (st != EO_OK) {
        OGR_G_DestroyGeometry(mp);
        mp = NULL;
    }
    *out = mp;
    return st;
}

static eo_status write_layer(eo_ctx *ctx, GDALDatasetH ds, const eo_features *f, bool native) {
    eoi_grid_tf tf = {{0}, NULL, 0};
    eoi_props_pass pp = {0};
    eoi_ring_buf rb = {NULL, NULL, 0};
    OGRSpatialReferenceH srs = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_grid_tf_init(ctx, &tf, f, native));
    EOI_TRY(st, eoi_props_pass_init(ctx, &pp, f));
    if (!native || f->wkt[0]) {
        srs = OSRNewSpatialReference(NULL);
        if (native)
            OSRImportFromWkt(srs, (char **)&(const char *){f->wkt});
        else
            OSRImportFromEPSG(srs, 4326);
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "polygons", srs, wkbMultiPolygon, NULL);
    if (!lyr) {
        st = eoi_fail(ctx, EO_E_IO_WRITE, "cannot create the layer: %s",
                      eoi_gdal_msg(ctx, "OGR failed"));
        goto done;
    }
    EOI_TRY(st, add_field(ctx, lyr, "id", OFTInteger64));
    EOI_TRY(st, add_field(ctx, lyr, "class", OFTReal));
    EOI_TRY(st, add_field(ctx, lyr, "pixels", OFTInteger64));
    EOI_TRY(st, add_field(ctx, lyr, "area_m2", OFTReal));
    EOI_TRY(st, add_field(ctx, lyr, "perimeter_m", OFTReal));
    int fscore = -1, fname = -1, fpart = -1, nf = 5;
    if (f->has_score) {
        EOI_TRY(st, add_field(ctx, lyr, "score", OFTReal));
        fscore = nf++;
    }
    if (f->class_names) {
        EOI_TRY(st, add_field(ctx, lyr, "class_name", OFTString));
        fname = nf++;
    }
    if (f->has_part) {
        EOI_TRY(st, add_field(ctx, lyr, "partition", OFTInteger));
        fpart = nf++;
    }
    bool tx = GDALDatasetStartTransaction(ds, 0) == OGRERR_NONE;
    for (size_t i = 0; i < f->n; i++) {
        eoi_props p;
        OGRGeometryH og = NULL;
        EOI_TRY(st, eoi_props_pass_get(&pp, i, &p));
        EOI_TRY(st, ogr_geometry(ctx, &og, &rb, &tf, f->v[i].g));
        OGRFeatureH ft = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        OGR_F_SetFID(ft, p.id);
        OGR_F_SetFieldInteger64(ft, 0, p.id);
        OGR_F_SetFieldDouble(ft, 1, p.cls);
        OGR_F_SetFieldInteger64(ft, 2, p.pixels);
        if (isfinite(p.area_m2)) {
            OGR_F_SetFieldDouble(ft, 3, p.area_m2);
            OGR_F_SetFieldDouble(ft, 4, p.perimeter_m);
        }
        if (fscore >= 0 && isfinite(p.score))
            OGR_F_SetFieldDouble(ft, fscore, p.score);
        const char *cname = fname >= 0 ? eoi_class_name(f, p.cls) : NULL;
        if (cname)
            OGR_F_SetFieldString(ft, fname, cname);
        if (fpart >= 0)
            OGR_F_SetFieldInteger(ft, fpart, f->v[i].part);
        OGR_F_SetGeometryDirectly(ft, og);
        OGRErr e = OGR_L_CreateFeature(lyr, ft);
        OGR_F_Destroy(ft);
        if (e != OGRERR_NONE) {
            st = eoi_fail(ctx, EO_E_IO_WRITE, "feature %zu: %s", i,
                          eoi_gdal_msg(ctx, "cannot write"));
            goto done;
        }
        if ((i & 4095) == 4095)
            EOI_TRY(st, eoi_progress(ctx, (double)i / (double)f->n, "write"));
    }
    if (tx && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "commit failed: %s", eoi_gdal_msg(ctx, "OGR failed"));
done:
    eoi_ring_buf_free(&rb);
    if (srs)
        OSRRelease(srs);
    eoi_grid_tf_free(&tf);
    eoi_props_pass_free(&pp);
    return st;
}

eo_status eoi_write_ogr(eo_ctx *ctx, const eo_features *f, const char *path,
                        const eo_vector_write_opts *o) {
    bool gpkg = strcmp(o->format, "gpkg") == 0;
    const char *drv_name = gpkg ? "GPKG" : "FlatGeobuf";
    char *tmp = NULL;
    eo_status st = eoi_tmp_beside(ctx, &tmp, path, gpkg ? ".gpkg" : ".fgb");
    if (st != EO_OK)
        return st;
    eoi_gdal_begin(ctx);
    GDALDriverH drv = GDALGetDriverByName(drv_name);
    GDALDatasetH ds = NULL;
    if (!drv) {
        st = eoi_fail(ctx, EO_E_UNSUPPORTED, "%s: GDAL has no %s driver", path, drv_name);
        goto done;
    }
    ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) {
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create: %s", path,
                      eoi_gdal_msg(ctx, "GDAL failed"));
        goto done;
    }
    st = write_layer(ctx, ds, f, o->native_crs);
    GDALClose(ds);
    if (st == EO_OK && ctx->gdal_err)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: %s", path, eoi_gdal_msg(ctx, "close failed"));
    ds = NULL;
done:
    st = eoi_tmp_commit(ctx, tmp, path, st); /* a GeoPackage's journal goes too */
    eoi_gdal_end(ctx);
    eoi_free(tmp);
    return st;
}
