"""The antimeridian (issue 16 point 2): an AOI split at +-180 as RFC 7946
asks, or running on past 180, over a geographic raster that spans the
antimeridian, clips every pixel it covers. Reference: GDAL's rasterizer
(gdal.RasterizeLayer, pixel centres) of the same area written on the
raster's own side of the antimeridian."""

import json

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import eoproc

gdal.UseExceptions()


def _raster(path, x0, width, px=0.1, height=200):
    """A geographic (EPSG:4326) uint16 raster from longitude x0, px degrees
    per pixel, each pixel's value its own index (all distinct)."""
    ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, 1, gdal.GDT_UInt32)
    ds.SetGeoTransform([x0, px, 0, 10, 0, -px])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ds.SetProjection(srs.ExportToWkt())
    a = np.arange(1, width * height + 1, dtype=np.uint32).reshape(height, width)
    ds.GetRasterBand(1).WriteArray(a)
    ds.GetRasterBand(1).SetNoDataValue(0)
    ds = None
    return a


def _box(x0, x1, y0=-1.02, y1=1.02):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def _rasterized(src, rings):
    """Pixel-centre mask of the polygons (rings in the raster's own
    longitudes) on src's grid, by GDAL."""
    ds = gdal.Open(str(src))
    mem = gdal.GetDriverByName("MEM").Create("", ds.RasterXSize, ds.RasterYSize, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(ds.GetGeoTransform())
    mem.SetProjection(ds.GetProjection())
    vds = ogr.GetDriverByName("Memory").CreateDataSource("")
    lyr = vds.CreateLayer("a", srs=ds.GetSpatialRef(), geom_type=ogr.wkbPolygon)
    for r in rings:
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromJson(json.dumps({"type": "Polygon",
                                                             "coordinates": [r]})))
        lyr.CreateFeature(f)
    gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1])
    return mem.ReadAsArray().astype(bool)


def _clipped_values(out):
    a = gdal.Open(str(out)).ReadAsArray()
    return np.sort(a[a != 0])


@pytest.mark.parametrize("aoi, same_as", [
    # split at the antimeridian (RFC 7946 section 3.1.9) over a raster from 170 to 190
    ({"type": "MultiPolygon", "coordinates": [[_box(175, 180)], [_box(-180, -175)]]},
     [_box(175, 185)]),
    # running on past 180 over the same raster: already its longitudes
    ({"type": "Polygon", "coordinates": [_box(175, 185)]}, [_box(175, 185)]),
])
def test_clip_across_the_antimeridian_east_raster(tmp_path, aoi, same_as):
    src = tmp_path / "east.tif"
    a = _raster(src, 170.0, 200)
    want = np.sort(a[_rasterized(src, same_as)])
    assert want.size == 100 * 20  # 10 degrees by 2 at 0.1: no pixel centre on an edge
    r = eoproc.clip(src, aoi, tmp_path / "c.tif")
    assert r["pixels_inside"] == want.size
    assert np.array_equal(_clipped_values(tmp_path / "c.tif"), want)


def test_clip_past_180_over_a_global_raster(tmp_path):
    """An AOI from 175 to 185 over a raster from -180 to 180: the pixels at
    both edges (its western part is at -180 to -175 on the raster)."""
    src = tmp_path / "global.tif"
    a = _raster(src, -180.0, 3600)
    aoi = {"type": "Polygon", "coordinates": [_box(175, 185)]}
    want = np.sort(a[_rasterized(src, [_box(175, 180), _box(-180, -175)])])
    r = eoproc.clip(src, aoi, tmp_path / "c.tif")
    assert r["pixels_inside"] == want.size > 0
    assert np.array_equal(_clipped_values(tmp_path / "c.tif"), want)


def test_zonal_across_the_antimeridian(tmp_path):
    """Zonal statistics of the split AOI count the pixels of both sides."""
    src = tmp_path / "east.tif"
    a = _raster(src, 170.0, 200)
    aoi = {"type": "MultiPolygon", "coordinates": [[_box(175, 180)], [_box(-180, -175)]]}
    mask = _rasterized(src, [_box(175, 185)])
    z = eoproc.zonal_stats(src, aoi)
    z = z[0] if isinstance(z, list) else z
    assert z["count"] == mask.sum()
    assert z["sum"] == pytest.approx(float(a[mask].sum()))
