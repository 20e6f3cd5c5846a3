/* earth.c - the figures of the Earth eoproc measures on, each written once:
 * the web-mercator sphere (EPSG:3857: lon/lat <-> metres, tile edges) and
 * the WGS 84 ellipsoid (PROJ's geodesic routines: areas and lengths). */
#include "eoi.h"

#include <geodesic.h>
#include <math.h>
#include <threads.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- web mercator ---------------------------------------------------------- */

double eoi_merc_x(double lon) {
    if (lon > 180)
        lon = 180;
    if (lon < -180)
        lon = -180;
    return lon * M_PI / 180.0 * EOI_WGS84_A;
}

double eoi_merc_y(double lat) {
    if (lat > EOI_MERC_MAX_LAT)
        lat = EOI_MERC_MAX_LAT;
    if (lat < -EOI_MERC_MAX_LAT)
        lat = -EOI_MERC_MAX_LAT;
    return asinh(tan(lat * M_PI / 180.0)) * EOI_WGS84_A;
}

/* From the indices, so that exact values (0, +-180) stay exact. */
double eoi_merc_col_lon(int64_t x, int32_t z) { return (double)x / ldexp(1.0, z) * 360.0 - 180.0; }

double eoi_merc_row_lat(int64_t y, int32_t z) {
    return atan(sinh(M_PI * (1.0 - 2.0 * (double)y / ldexp(1.0, z)))) * 180.0 / M_PI;
}

void eoi_merc_tile_f(double mx, double my, int32_t z, double *fx, double *fy) {
    double n = ldexp(1.0, z);
    *fx = (mx + EOI_MERC_HALF) / (2 * EOI_MERC_HALF) * n;
    *fy = (EOI_MERC_HALF - my) / (2 * EOI_MERC_HALF) * n;
}

/* ---- the WGS 84 ellipsoid ----------------------------------------------------- */

static struct geod_geodesic wgs84;
static once_flag wgs84_once = ONCE_FLAG_INIT;

static void wgs84_init(void) { geod_init(&wgs84, EOI_WGS84_A, EOI_WGS84_F); }

const struct geod_geodesic *eoi_wgs84(void) {
    call_once(&wgs84_once, wgs84_init);
    return &wgs84;
}

double eoi_geod_ring(const double *lon, const double *lat, size_t n, double *perimeter) {
    const struct geod_geodesic *g = eoi_wgs84();
    struct geod_polygon p;
    geod_polygon_init(&p, 0);
    for (size_t i = 0; i < n; i++)
        geod_polygon_addpoint(g, &p, lat[i], lon[i]);
    double area = 0;
    geod_polygon_compute(g, &p, 0, 1, &area, perimeter);
    return area;
}
