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

/* Ring r (pixel grid) through tf into polygon pg, oriented as eoi_ring_out. */
static eo_status add_ring(eo_ctx *ctx, OGRGeometryH pg, eoi_ring_buf *b, const eoi_grid_tf *tf,
                          const GEOSGeometry *r, int orient) {
    unsigned n = 0;
    EOI_TRY_RET(eoi_ring_out(ctx, b, tf, r, orient, &n));
    OGRGeometryH rg = OGR_G_CreateGeometry(wkbLinearRing);
    if (!rg)
        return EO_E_NOMEM;
    OGR_G_SetPoints(rg, (int)n, b->x, sizeof *b->x, b->y, sizeof *b->y, NULL, 0);
    if (OGR_G_AddGeometryDirectly(pg, rg) != OGRERR_NONE) /* rg taken either way */
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot build an OGR polygon");
    return EO_OK;
}

typedef struct held_add {
    OGRGeometryH pg;
    eoi_ring_buf *b;
    const eoi_grid_tf *tf;
} held_add;

static eo_status add_held(eo_ctx *ctx, GEOSGeometry **ring, void *user) {
    held_add *q = user;
    return add_ring(ctx, q->pg, q->b, q->tf, *ring, -1);
}

/* Feature ft of f (pixel grid) through tf as an OGR multipolygon, shells
 * counter-clockwise and holes clockwise: coordinates straight from GEOS
 * (and the holes ft holds on f's spool) into OGR's rings. */
static eo_status ogr_geometry(eo_ctx *ctx, OGRGeometryH *out, eoi_ring_buf *b,
                              const eoi_grid_tf *tf, const eo_features *f, const eoi_feature *ft) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSGeometry *g = ft->g;
    OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon);
    eo_status st = mp ? EO_OK : EO_E_NOMEM;
    bool multi = GEOSGeomTypeId_r(h, g) == GEOS_MULTIPOLYGON;
    int np = multi ? GEOSGetNumGeometries_r(h, g) : 1;
    if (multi && ft->held)
        st = eoi_fail(ctx, EO_E_INTERNAL, "a multipolygon holds holes on disk");
    for (int k = 0; st == EO_OK && k < np; k++) {
        const GEOSGeometry *p = multi ? GEOSGetGeometryN_r(h, g, k) : g;
        int nh = GEOSGetNumInteriorRings_r(h, p);
        OGRGeometryH pg = OGR_G_CreateGeometry(wkbPolygon);
        if (!pg || nh < 0) {
            OGR_G_DestroyGeometry(pg);
            st = pg ? eoi_geos_fail(ctx, "reading a polygon") : EO_E_NOMEM;
            break;
        }
        for (int i = -1; st == EO_OK && i < nh; i++)
            st = add_ring(ctx, pg, b, tf,
                          i < 0 ? GEOSGetExteriorRing_r(h, p) : GEOSGetInteriorRingN_r(h, p, i),
                          i < 0 ? 1 : -1);
        if (st == EO_OK && ft->held) {
            held_add q = {pg, b, tf};
            st = eoi_spool_each(ctx, f->spool, ft, add_held, &q);
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

struct eoi_ogr_sink {
    const char *path; /* for messages */
    GDALDatasetH ds;
    OGRLayerH lyr;
    bool tx; /* a transaction is open */
    int fscore, fname, fpart;
    eoi_ring_buf rb;
};

eo_status eoi_ogr_open(eo_ctx *ctx, eoi_ogr_sink **out, const char *tmp, const char *path,
                       bool gpkg, bool native, const eo_features *f) {
    const char *drv_name = gpkg ? "GPKG" : "FlatGeobuf";
    OGRSpatialReferenceH srs = NULL;
    eo_status st = EO_OK;
    eoi_ogr_sink *s = eoi_calloc(ctx, 1, sizeof *s);
    *out = NULL;
    if (!s)
        return EO_E_NOMEM;
    s->path = path;
    s->fscore = s->fname = s->fpart = -1;
    eoi_gdal_begin(ctx);
    GDALDriverH drv = GDALGetDriverByName(drv_name);
    if (!drv) {
        st = eoi_fail(ctx, EO_E_UNSUPPORTED, "%s: GDAL has no %s driver", path, drv_name);
        goto done;
    }
    s->ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL);
    if (!s->ds) {
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create: %s", path,
                      eoi_gdal_msg(ctx, "GDAL failed"));
        goto done;
    }
    if (!native || f->wkt[0]) {
        srs = OSRNewSpatialReference(NULL);
        if (native)
            OSRImportFromWkt(srs, (char **)&(const char *){f->wkt});
        else
            OSRImportFromEPSG(srs, 4326);
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    OGRLayerH lyr = s->lyr = GDALDatasetCreateLayer(s->ds, "polygons", srs, wkbMultiPolygon, NULL);
    if (!lyr) {
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create the layer: %s", path,
                      eoi_gdal_msg(ctx, "OGR failed"));
        goto done;
    }
    EOI_TRY(st, add_field(ctx, lyr, "id", OFTInteger64));
    EOI_TRY(st, add_field(ctx, lyr, "class", OFTReal));
    EOI_TRY(st, add_field(ctx, lyr, "pixels", OFTInteger64));
    EOI_TRY(st, add_field(ctx, lyr, "area_m2", OFTReal));
    EOI_TRY(st, add_field(ctx, lyr, "perimeter_m", OFTReal));
    int nf = 5;
    if (f->has_score) {
        EOI_TRY(st, add_field(ctx, lyr, "score", OFTReal));
        s->fscore = nf++;
    }
    if (f->class_names) {
        EOI_TRY(st, add_field(ctx, lyr, "class_name", OFTString));
        s->fname = nf++;
    }
    if (f->has_part) {
        EOI_TRY(st, add_field(ctx, lyr, "partition", OFTInteger));
        s->fpart = nf++;
    }
    s->tx = GDALDatasetStartTransaction(s->ds, 0) == OGRERR_NONE;
done:
    if (srs)
        OSRRelease(srs);
    eoi_gdal_end(ctx);
    if (st != EO_OK)
        return eoi_ogr_close(ctx, s, st);
    *out = s;
    return EO_OK;
}

eo_status eoi_ogr_put(eo_ctx *ctx, eoi_ogr_sink *s, const eo_features *f, eoi_props_pass *pp,
                      const eoi_grid_tf *tf, bool progress) {
    eo_status st = EO_OK;
    eoi_gdal_begin(ctx);
    for (size_t i = 0; i < f->n; i++) {
        eoi_props p;
        OGRGeometryH og = NULL;
        EOI_TRY(st, eoi_props_pass_get(pp, i, &p));
        EOI_TRY(st, ogr_geometry(ctx, &og, &s->rb, tf, f, &f->v[i]));
        OGRFeatureH ft = OGR_F_Create(OGR_L_GetLayerDefn(s->lyr));
        OGR_F_SetFID(ft, p.id);
        OGR_F_SetFieldInteger64(ft, 0, p.id);
        OGR_F_SetFieldDouble(ft, 1, p.cls);
        OGR_F_SetFieldInteger64(ft, 2, p.pixels);
        if (isfinite(p.area_m2)) {
            OGR_F_SetFieldDouble(ft, 3, p.area_m2);
            OGR_F_SetFieldDouble(ft, 4, p.perimeter_m);
        }
        if (s->fscore >= 0 && isfinite(p.score))
            OGR_F_SetFieldDouble(ft, s->fscore, p.score);
        const char *cname = s->fname >= 0 ? eoi_class_name(f, p.cls) : NULL;
        if (cname)
            OGR_F_SetFieldString(ft, s->fname, cname);
        if (s->fpart >= 0)
            OGR_F_SetFieldInteger(ft, s->fpart, f->v[i].part);
        OGR_F_SetGeometryDirectly(ft, og);
        OGRErr e = OGR_L_CreateFeature(s->lyr, ft);
        OGR_F_Destroy(ft);
        if (e != OGRERR_NONE) {
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: feature %lld: %s", s->path, (long long)p.id,
                          eoi_gdal_msg(ctx, "cannot write"));
            goto done;
        }
        if (progress && (i & 4095) == 4095)
            EOI_TRY(st, eoi_progress(ctx, (double)i / (double)f->n, "write"));
    }
done:
    eoi_gdal_end(ctx);
    return st;
}

eo_status eoi_ogr_close(eo_ctx *ctx, eoi_ogr_sink *s, eo_status st) {
    eoi_gdal_begin(ctx);
    if (st == EO_OK && s->tx && GDALDatasetCommitTransaction(s->ds) != OGRERR_NONE)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: commit failed: %s", s->path,
                      eoi_gdal_msg(ctx, "OGR failed"));
    if (s->ds) {
        GDALClose(s->ds);
        if (st == EO_OK && ctx->gdal_err)
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: %s", s->path, eoi_gdal_msg(ctx, "close failed"));
    }
    eoi_gdal_end(ctx);
    eoi_ring_buf_free(&s->rb);
    eoi_free(s);
    return st;
}
