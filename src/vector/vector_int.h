/*
 * vector_int.h - internals of the vector layer: the feature collection's
 * layout and helpers shared by polygonize, simplify, regularize, seams and
 * the writers. Never installed.
 *
 * Geometries live in the pixel grid of the source (x = column, y = row, a
 * pixel is a unit square) and are made with the GEOS handle of the context
 * that built the collection.
 */
#ifndef EOI_VECTOR_INT_H
#define EOI_VECTOR_INT_H

#include "eoi.h"

typedef struct eoi_feature {
    GEOSGeometry *g;  /* Polygon or MultiPolygon, pixel grid; owned */
    double cls;       /* class value */
    int64_t pixels;   /* pixel count of the region as polygonized */
    double psum;      /* sum of probabilities inside (score = psum / pixels) */
    int64_t top;      /* first pixel in raster order: row * 2^31 + column (order, ids) */
    bool edge;        /* touches the border of the window it was polygonized from */
    int32_t part;     /* the partition it came from (written when the collection has_part) */
    int32_t held;     /* holes kept on the collection's spool: first span (1-based), 0 = none */
    int32_t held_end; /* ... and the chain's last span */
} eoi_feature;

struct eo_features {
    GEOSContextHandle_t geos;
    eoi_feature *v;
    size_t n, cap;
    double gt[6];
    char *wkt; /* CRS WKT, "" when unknown */
    int32_t connectivity;
    bool has_score;
    eo_window win;      /* the window polygonized (the union of the parts' windows) */
    char **class_names; /* NULL, or nclass_names names indexed by class value (detect) */
    int32_t nclass_names;
    bool has_part;           /* write each feature's partition */
    struct eoi_spool *spool; /* where features' held holes are (not owned) */
};

struct eo_regularize_opts {
    double max_distance_m; /* <= 0: two pixels */
    double max_area_change;
    bool allow_45;
};

struct eo_vector_write_opts {
    char format[8];    /* "geojson", "gpkg", "fgb" */
    int32_t precision; /* -1 = default */
    bool native_crs;
};

/* ---- features.c -------------------------------------------------------- */
/* An empty collection on ctx's GEOS handle with this grid and CRS. */
eo_status eoi_features_new(eo_ctx *ctx, eo_features **out, const double gt[6], const char *wkt,
                           int32_t connectivity);
/* Append a feature; its geometry is taken (destroyed on failure). */
eo_status eoi_features_push(eo_ctx *ctx, eo_features *f, const eoi_feature *take);
/* Sort by first pixel (raster order), the order of a one-pass polygonize. */
void eoi_features_sort(eo_features *f);
/* Ground size of one pixel unit in metres (mean of the two axes; for a
 * geographic CRS at the collection's centre). */
eo_status eoi_features_pixel_metres(eo_ctx *ctx, const eo_features *f, double *m);
/* A transformation from the collection's pixel grid to EPSG:4326 (lon/lat)
 * or, with native, to its CRS: call eoi_grid_to_out for each point. */
typedef struct eoi_grid_tf {
    double gt[6];
    PJ *pj;      /* NULL: only the geotransform */
    double px_m; /* ground size of a pixel (m), for the choice of area method */
} eoi_grid_tf;
eo_status eoi_grid_tf_init(eo_ctx *ctx, eoi_grid_tf *tf, const eo_features *f, bool native);
void eoi_grid_tf_free(eoi_grid_tf *tf);
/* Transform n points (x[i], y[i]) in place. */
eo_status eoi_grid_tf_apply(eo_ctx *ctx, const eoi_grid_tf *tf, double *x, double *y, size_t n);
/* Coordinates of a ring in output order, grown as needed and reused. */
typedef struct eoi_ring_buf {
    double *x, *y; /* n points, the closing one included */
    size_t cap;
} eoi_ring_buf;
/* The ring r (pixel grid) through tf into b->x / b->y (*n points); orient
 * > 0 makes it counter-clockwise, < 0 clockwise, 0 keeps its order. */
eo_status eoi_ring_out(eo_ctx *ctx, eoi_ring_buf *b, const eoi_grid_tf *tf, const GEOSGeometry *r,
                       int orient, unsigned *n);
void eoi_ring_buf_free(eoi_ring_buf *b);
/* g (pixel grid) through tf as a new geometry; with orient, shells
 * counter-clockwise and holes clockwise (RFC 7946). */
eo_status eoi_geom_to_out(eo_ctx *ctx, GEOSGeometry **out, const eoi_grid_tf *tf,
                          const GEOSGeometry *g, bool orient);
/* Geodesic area (m2) and perimeter (m) of a geometry in pixel coordinates,
 * through tf (which must target EPSG:4326). Polygons under 2 km across use
 * the local linear map from pixels to metres on the ellipsoid at their
 * centre (geodesics from the centre to two nearby points), exact to first
 * order (relative error ~1e-8 for buildings); larger ones sum geodesic
 * polygon areas vertex by vertex. */
eo_status eoi_geodesic_measure(eo_ctx *ctx, const eoi_grid_tf *tf, const GEOSGeometry *g,
                               double *area_m2, double *perimeter_m);
/* Rebuild a polygonal geometry with exactly collinear and repeated vertices
 * removed from every ring (vertices of unit-grid polygons after a union). */
eo_status eoi_geos_drop_collinear(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *g);

/* ---- the writers' properties (features.c), OGR output (write_ogr.c) -------- */
typedef struct eoi_props {
    int64_t id;
    double cls;
    int64_t pixels;
    double area_m2, perimeter_m, score; /* NaN = unknown */
} eoi_props;
/* The properties of a collection's features as a writer asks for them, in
 * increasing order: made ahead in batches on the context's threads (each
 * with its own GEOS handle and transform to EPSG:4326; the geodesic
 * measures are most of a writer's work besides the format's own), or one
 * by one on the caller's for a small collection or one thread. */
#define EOI_PROPS_BATCH 8192
typedef struct eoi_props_pass {
    eo_ctx *ctx;
    const eo_features *f;
    eoi_grid_tf ll;
    int32_t nt;      /* workers (0: one by one) */
    eo_ctx **w;      /* their contexts ... */
    eoi_grid_tf *wl; /* ... and transforms */
    eoi_props *batch;
    size_t b0, bn; /* the batch holds features [b0, b0 + bn) */
    int64_t id0;   /* ids are id0 + 1 + the index in f */
} eoi_props_pass;
/* A pass over f (its grid and CRS serve every later collection too), worth
 * threads when about n features will come (f->n for f alone). */
eo_status eoi_props_pass_init(eo_ctx *ctx, eoi_props_pass *p, const eo_features *f, size_t n);
/* Go on with collection f (same grid and CRS), its ids from id0 + 1. */
void eoi_props_pass_rebind(eoi_props_pass *p, const eo_features *f, int64_t id0);
eo_status eoi_props_pass_get(eoi_props_pass *p, size_t i, eoi_props *out);
void eoi_props_pass_free(eoi_props_pass *p);
/* The name of class value cls, or NULL. */
const char *eoi_class_name(const eo_features *f, double cls);
/* GeoPackage / FlatGeobuf through OGR (write_ogr.c), the same three steps:
 * the file at tmp (created), the layer's features, and closing it. */
typedef struct eoi_ogr_sink eoi_ogr_sink;
eo_status eoi_ogr_open(eo_ctx *ctx, eoi_ogr_sink **out, const char *tmp, const char *path,
                       bool gpkg, bool native, const eo_features *proto);
eo_status eoi_ogr_put(eo_ctx *ctx, eoi_ogr_sink *s, const eo_features *batch, eoi_props_pass *pp,
                      const eoi_grid_tf *tf, bool progress);
eo_status eoi_ogr_close(eo_ctx *ctx, eoi_ogr_sink *s, eo_status st);

/* ---- simplify.c / filters.c ------------------------------------------------ */
/* Douglas-Peucker: set keep[i] for the points of xy[i0..i1] (x, y pairs)
 * that stay with tolerance tol; both ends are kept. */
/* Index in [1, n-1) of the point of xy farthest from the first (closed
 * rings are split there for Douglas-Peucker). */
size_t eoi_farthest(const double *xy, size_t n);
eo_status eoi_dp_mark(eo_ctx *ctx, const double *xy, uint8_t *keep, size_t i0, size_t i1,
                      double tol);
/* A new geometry with fn applied to each polygon of g (Polygon or
 * MultiPolygon). */
typedef eo_status (*eoi_poly_fn)(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *p,
                                 void *user);
eo_status eoi_map_polygons(eo_ctx *ctx, GEOSGeometry **out, const GEOSGeometry *g, eoi_poly_fn fn,
                           void *user);

/* Polygonize class values in memory (255 = nodata) with the probability of
 * each pixel's class (may be NULL): cls and prob cover window area of a
 * width x height grid, whose geotransform and CRS the features get. */
eo_status eoi_polygonize_mem(eo_ctx *ctx, eo_features **out, const uint8_t *cls, const float *prob,
                             const eo_window *area, int64_t width, int64_t height,
                             const double gt[6], const char *wkt, int32_t connectivity);
/* Give the collection class names (copied; index = class value). */
eo_status eoi_features_set_class_names(eo_ctx *ctx, eo_features *f, const char *const *names,
                                       int32_t n);

/* ---- union-find over int32 ids (labels, seams): a root is the smallest
 * id of its set ---------------------------------------------------------- */
static inline int32_t eoi_uf_find(int32_t *p, int32_t a) {
    while (p[a] != a) {
        p[a] = p[p[a]];
        a = p[a];
    }
    return a;
}

static inline void eoi_uf_union(int32_t *p, int32_t a, int32_t b) {
    a = eoi_uf_find(p, a);
    b = eoi_uf_find(p, b);
    if (a < b)
        p[b] = a;
    else if (b < a)
        p[a] = b;
}

/* ---- spool.c: holes of open regions on disk while polygonize streams --- */
typedef struct eoi_spool eoi_spool;
eo_status eoi_spool_open(eo_ctx *ctx, eoi_spool **out);
void eoi_spool_close(eoi_spool *sp);
/* Move the holes of ft (a Polygon on the integer grid; anything else is
 * left as it is) to the spool, chained to ft's held ones. */
eo_status eoi_spool_put(eo_ctx *ctx, eoi_spool *sp, eoi_feature *ft);
/* a's chain of held holes followed by b's; b holds none after. */
void eoi_spool_join(eoi_spool *sp, eoi_feature *a, eoi_feature *b);
/* fn for each hole ft holds on the spool, in order, as a new ring (pixel
 * grid) made with ctx's GEOS handle; fn may take it (set *ring to NULL).
 * Safe from several threads at once. */
typedef eo_status (*eoi_ring_fn)(eo_ctx *ctx, GEOSGeometry **ring, void *user);
eo_status eoi_spool_each(eo_ctx *ctx, const eoi_spool *sp, const eoi_feature *ft, eoi_ring_fn fn,
                         void *user);

/* ---- seams.c ----------------------------------------------------------- */
/* Merge, in place, features of the same class that were cut apart by
 * partition borders (only features flagged edge are looked at). */
eo_status eoi_features_stitch(eo_ctx *ctx, eo_features *f);
/* The same merge when the caller knows which features touch across the
 * seams: npairs pairs of feature indices (pairs[2k], pairs[2k + 1]) of the
 * same class (a polygonizer sees them in the labels on both sides). */
eo_status eoi_features_stitch_pairs(eo_ctx *ctx, eo_features *f, const size_t *pairs,
                                    size_t npairs);

#endif
