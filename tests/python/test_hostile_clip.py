"""Clip edges against GDAL's rasterization (issue 16, point 1).

The pixels a clip keeps are those gdal.RasterizeLayer burns for the same AOI
on the same grid (pixel centre inside, or ALL_TOUCHED=TRUE), and the output
window is exactly their bounding box: no pixel whose centre is inside is
lost at the edges, however small the raster, the pixels or the AOI. Inside
the window every sample is the source's where the reference mask is set and
the nodata value elsewhere.

The AOIs are given in the raster's own CRS (no reprojection on either side),
so that the only thing compared is the pixel rule."""

import json

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import eoproc
from helpers import run_cli

gdal.UseExceptions()


# ---------------------------------------------------------------------------
# references
# ---------------------------------------------------------------------------
def rasterize(src, rings_world_polys, all_touched):
    """GDAL's mask (rows, cols) of uint8 for polygons given as lists of rings
    of world coordinates, on the grid of the raster at src."""
    ds = gdal.Open(str(src))
    mem = gdal.GetDriverByName("MEM").Create("", ds.RasterXSize, ds.RasterYSize, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(ds.GetGeoTransform())
    vds = ogr.GetDriverByName("Memory").CreateDataSource("")
    lyr = vds.CreateLayer("aoi", geom_type=ogr.wkbMultiPolygon)
    mp = ogr.Geometry(ogr.wkbMultiPolygon)
    for rings in rings_world_polys:
        poly = ogr.Geometry(ogr.wkbPolygon)
        for ring in rings:
            r = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in ring:
                r.AddPoint_2D(float(x), float(y))
            poly.AddGeometry(r)
        mp.AddGeometry(poly)
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeometry(mp)
    lyr.CreateFeature(f)
    opts = ["ALL_TOUCHED=TRUE"] if all_touched else []
    gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1], options=opts)
    return mem.ReadAsArray()


def bbox(mask):
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def make_raster(path, arr, gt, wkt, nodata=None):
    gdt = gdal.GetDataTypeByName({"uint8": "Byte"}.get(arr.dtype.name, arr.dtype.name.capitalize()))
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[1], arr.shape[0], 1, gdt)
    ds.SetGeoTransform(gt)
    ds.SetProjection(wkt)
    if nodata is not None:
        ds.GetRasterBand(1).SetNoDataValue(nodata)
    ds.GetRasterBand(1).WriteArray(arr)
    ds = None
    return str(path)


def epsg_wkt(code):
    s = osr.SpatialReference()
    s.ImportFromEPSG(code)
    return s.ExportToWkt()


def world(gt, c, r):
    return [gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5]]


def to_world(gt, polys_px):
    return [[[world(gt, c, r) for c, r in ring] for ring in rings] for rings in polys_px]


def geojson(polys):
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def check_clip(tmp_path, src, polys_world, all_touched, name="out"):
    """Clip src to the AOI (world coordinates in src's CRS) and compare with
    GDAL's rasterization; returns the result JSON (None if the reference
    mask is empty, after checking that eoproc refused)."""
    ds = gdal.Open(str(src))
    wkt = ds.GetProjection()
    src_arr = ds.GetRasterBand(1).ReadAsArray()
    mask = rasterize(src, polys_world, all_touched)
    out = tmp_path / ("%s_%d.tif" % (name, all_touched))
    aoi = json.dumps(geojson(polys_world))
    if not mask.any():
        with pytest.raises(eoproc.Error) as e:
            eoproc.clip(src, aoi, out, crs=wkt, all_touched=all_touched)
        assert e.value.id == "source.NoDataInAOI"
        assert not out.exists()
        return None
    res = eoproc.clip(src, aoi, out, crs=wkt, all_touched=all_touched)
    want = bbox(mask)
    assert res["window"] == want, (res["window"], want)
    assert res["pixels_inside"] == int(mask.sum())
    x, y, w, h = want
    ods = gdal.Open(str(out))
    got = ods.GetRasterBand(1).ReadAsArray()
    nd = float("nan") if res["nodata"] == "nan" else res["nodata"]
    ref = np.where(mask[y : y + h, x : x + w] != 0, src_arr[y : y + h, x : x + w], nd)
    np.testing.assert_array_equal(got, ref)
    gt = ods.GetGeoTransform()
    np.testing.assert_allclose([gt[0], gt[3]], world(ds.GetGeoTransform(), x, y))
    return res


UTM = epsg_wkt(32633)
GT10 = (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)


# ---------------------------------------------------------------------------
# tiny rasters, tiny AOIs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("all_touched", [False, True])
def test_subpixel_aoi_on_one_pixel(tmp_path, all_touched):
    src = make_raster(tmp_path / "one.tif", np.array([[7]], np.uint8), GT10, UTM)
    # an 8 m square around the centre of the single 10 m pixel
    res = check_clip(tmp_path, src, to_world(GT10, [[[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9],
                                                      [0.1, 0.9], [0.1, 0.1]]]]), all_touched)
    assert res["pixels_inside"] == 1


@pytest.mark.parametrize("all_touched", [False, True])
def test_subpixel_aoi_off_centre(tmp_path, all_touched):
    src = make_raster(tmp_path / "one.tif", np.array([[7, 8], [9, 10]], np.uint8), GT10, UTM)
    # a sliver in the corner of pixel (1, 1), away from its centre: only all_touched keeps it
    res = check_clip(tmp_path, src, to_world(GT10, [[[[1.1, 1.1], [1.3, 1.1], [1.3, 1.2],
                                                      [1.1, 1.1]]]]), all_touched)
    assert (res is None) == (not all_touched)


@pytest.mark.parametrize("all_touched", [False, True])
def test_one_row_of_100000_pixels(tmp_path, all_touched):
    arr = (np.arange(100000) % 251).astype(np.uint8)[None, :]
    src = make_raster(tmp_path / "row.tif", arr, GT10, UTM)
    # a thin triangle over the row's centre line, ends inside the first and last pixels
    res = check_clip(tmp_path, src, to_world(GT10, [[[[0.3, 0.2], [99999.6, 0.2], [99999.6, 0.8],
                                                      [0.3, 0.8], [0.3, 0.2]]]]), all_touched)
    # the first and last centres (0.5 and 99999.5) are inside: gdalwarp drops both pixels
    assert res["width"] == 100000


@pytest.mark.parametrize("all_touched", [False, True])
def test_ninety_degree_pixels(tmp_path, all_touched):
    gt = (-180.0, 90.0, 0.0, 90.0, 0.0, -90.0)
    src = make_raster(tmp_path / "deg.tif", np.arange(8, dtype=np.uint8).reshape(2, 4) + 1, gt,
                      epsg_wkt(4326))
    # inside pixel (1, 0) (lon -90..0, lat 0..90) and over its centre (-45, 45)
    res = check_clip(tmp_path, src, [[[[-80, 20], [-10, 20], [-10, 80], [-80, 80], [-80, 20]]]],
                     all_touched)
    assert res["pixels_inside"] == 1


# ---------------------------------------------------------------------------
# the sample rasters and generated AOIs: counts equal GDAL's
# ---------------------------------------------------------------------------
def random_polygon(rng, cx, cy, r, n):
    """A star-shaped (hence simple) polygon around (cx, cy)."""
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.3 * r, r, n)
    ring = [[cx + a * np.cos(t), cy + a * np.sin(t)] for a, t in zip(rad, ang)]
    return [ring + [ring[0]]]


@pytest.mark.parametrize("all_touched", [False, True])
@pytest.mark.parametrize("sample", ["L7_ETMs.tif", "olinda_dem_utm25s.tif", "lc.tif"])
def test_samples_match_rasterize(tmp_path, data_dir, sample, all_touched):
    src = data_dir / sample
    ds = gdal.Open(str(src))
    gt, W, H = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
    rng = np.random.default_rng(16)
    for k in range(6):
        n = int(rng.integers(3, 40))
        r = float(rng.uniform(0.5, min(W, H) / 2.0))
        cx, cy = float(rng.uniform(0, W)), float(rng.uniform(0, H))
        polys = to_world(gt, [random_polygon(rng, cx, cy, r, n)])
        check_clip(tmp_path, src, polys, all_touched, name="k%d" % k)


@pytest.mark.parametrize("all_touched", [False, True])
def test_dem_boundary_columns_kept(tmp_path, dem, all_touched):
    """A polygon whose bounding box is 0.3 px inside a column: gdalwarp's
    -crop_to_cutline drops that column although centres in it are inside."""
    gt = gdal.Open(str(dem)).GetGeoTransform()
    polys = to_world(gt, [[[[10.3, 10.2], [60.7, 12.4], [61.2, 58.6], [12.1, 60.8], [10.3, 10.2]]]])
    res = check_clip(tmp_path, dem, polys, all_touched)
    ref = tmp_path / "warp.tif"
    aoi = tmp_path / "aoi.gpkg"
    vds = ogr.GetDriverByName("GPKG").CreateDataSource(str(aoi))
    srs = osr.SpatialReference(wkt=gdal.Open(str(dem)).GetProjection())
    lyr = vds.CreateLayer("aoi", srs=srs, geom_type=ogr.wkbPolygon)
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(geojson(polys))))
    lyr.CreateFeature(f)
    f = lyr = vds = None
    opts = ["CUTLINE_ALL_TOUCHED=TRUE"] if all_touched else []
    gdal.Warp(str(ref), str(dem), cutlineDSName=str(aoi), cropToCutline=True, warpOptions=opts)
    w = gdal.Open(str(ref))
    # more pixels than gdalwarp keeps in the centre rule, never fewer
    if not all_touched:
        assert res["width"] * res["height"] > w.RasterXSize * w.RasterYSize


# ---------------------------------------------------------------------------
# a source nodata its type cannot hold (issue 16, point 9)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,nodata", [("uint8", 300), ("uint8", -1), ("int16", -40000),
                                          ("uint16", 70000)])
def test_unrepresentable_source_nodata(tmp_path, cli, dtype, nodata):
    """As in GDAL, a nodata value outside the band type's range marks no pixel
    (GDAL's mask band says every pixel is valid): clip keeps every sample,
    including the ones equal to the value wrapped or rounded into the type,
    and says in the result's warnings that the value was ignored."""
    rng = np.random.default_rng(9)
    info = np.iinfo(dtype)
    arr = rng.integers(max(info.min, -300), min(info.max, 300) + 1, (40, 50)).astype(dtype)
    arr[5:9, 5:30] = np.array(nodata).astype(dtype)  # the value wrapped into the type
    src = make_raster(tmp_path / "src.tif", arr, GT10, UTM, nodata=nodata)
    sds = gdal.Open(src)
    band = sds.GetRasterBand(1)
    assert band.GetNoDataValue() == nodata
    assert (band.GetMaskBand().ReadAsArray() == 255).all()  # GDAL: all valid
    band = sds = None
    polys = to_world(GT10, [[[[2.2, 2.3], [47.6, 3.1], [44.4, 37.8], [3.3, 36.6], [2.2, 2.3]]]])
    res = check_clip(tmp_path, src, polys, False)
    assert res["nodata"] == 0  # not the source's: the type's default
    assert len(res["warnings"]) == 1 and "nodata" in res["warnings"][0]
    assert repr(nodata) in res["warnings"][0] or "%g" % nodata in res["warnings"][0]
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(geojson(polys)))
    p = run_cli(cli, "clip", src, aoi, tmp_path / "cli.tif", "--crs", "EPSG:32633")
    assert p.returncode == 0, p.stderr
    assert "warnings" in p.stdout


# ---------------------------------------------------------------------------
# a raster without CRS (issue 16, point 5)
# ---------------------------------------------------------------------------
def test_raster_without_crs(tmp_path, cli):
    """A geotransform but no CRS, and an AOI that names none (so read as
    lon/lat): crs.Missing, nothing written, instead of clipping degrees as
    if they were the grid's units. Naming the AOI's CRS says its
    coordinates are the raster's: the clip then equals GDAL's rasterization
    of them on the grid."""
    arr = (np.arange(60 * 80) % 200).astype(np.uint8).reshape(60, 80)
    src = make_raster(tmp_path / "nocrs.tif", arr, GT10, "")
    assert gdal.Open(src).GetProjection() == ""
    # numbers that are valid lon/lat and also inside the grid's extent in its units
    lonlat = [[[[10.2, 20.3], [40.7, 20.3], [40.7, 50.6], [10.2, 50.6], [10.2, 20.3]]]]
    gt0 = (0.0, 1.0, 0.0, 60.0, 0.0, -1.0)  # a grid whose units look like degrees
    src0 = make_raster(tmp_path / "nocrs0.tif", arr, gt0, "")
    out = tmp_path / "o.tif"
    for s in (src, src0):
        with pytest.raises(eoproc.Error) as e:
            eoproc.clip(s, json.dumps(geojson(lonlat)), out)
        assert e.value.id == "crs.Missing" and "no CRS" in str(e.value)
        assert not out.exists()
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(geojson(lonlat)))
    p = run_cli(cli, "clip", src0, aoi, out)
    assert p.returncode != 0 and "crs.Missing" in p.stderr and not out.exists()
    assert len(p.stderr.strip().splitlines()) == 1
    # the user names the AOI's CRS: its coordinates are the raster's
    res = eoproc.clip(src0, json.dumps(geojson(lonlat)), out, crs="EPSG:4326")
    mask = rasterize(src0, lonlat, False)
    assert res["window"] == bbox(mask) and res["pixels_inside"] == int(mask.sum())
    x, y, w, h = bbox(mask)
    got = gdal.Open(str(out)).ReadAsArray()
    np.testing.assert_array_equal(got, np.where(mask != 0, arr, 0)[y:y + h, x:x + w])
    # a raster with a CRS is unaffected: the default lon/lat AOI is reprojected
    # (this 800 x 600 m UTM 33N grid near 15 E, 45 N lies wholly inside it)
    utm = make_raster(tmp_path / "utm.tif", arr, GT10, UTM)
    res = eoproc.clip(utm, json.dumps(geojson(lonlat)), tmp_path / "utm_out.tif")
    assert res["pixels_inside"] == arr.size and res["window"] == [0, 0, 80, 60]
