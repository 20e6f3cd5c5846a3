"""AOI clipping against GDAL: gdalwarp -cutline (centre rule; the window is the
bounding box of the pixels gdalwarp's mask keeps, see gdalwarp()),
-wo CUTLINE_ALL_TOUCHED=TRUE, without -crop_to_cutline, -dstalpha; exact
coverage fractions against shapely (GEOS) areas; COGs checked by GDAL's
validator; bad input through the CLI.

What is compared: gdalwarp is given the same AOI in the raster's CRS (for
AOIs in EPSG:4326, the polygon is made in the raster's CRS with vertices
every few metres, transformed to EPSG:4326 for eoproc by OSR, and the
original given to gdalwarp: at that density eoproc's reprojection and the
straight edges between the UTM vertices agree to far below a millimetre).
Sizes and pixels must be identical; geotransforms agree to 1e-9 of a pixel
(gdalwarp's origin comes out of other arithmetic, 1e-12 apart)."""

import json
import math
import os

import numpy as np
import pytest
import shapely.geometry
from osgeo import gdal, osr
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate

import eoproc
from helpers import assert_cli_error, make_bad_rasters, run_cli

gdal.UseExceptions()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def world(gt, c, r):
    return [gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5]]


def rings_world(gt, rings_px):
    return [[world(gt, c, r) for c, r in ring] for ring in rings_px]


def write_geojson(path, polys, epsg=None):
    """polys: list of polygons (lists of rings of [x, y]); a FeatureCollection
    with one MultiPolygon (or Polygon) feature, with a crs member if epsg."""
    geom = (
        {"type": "Polygon", "coordinates": polys[0]}
        if len(polys) == 1
        else {"type": "MultiPolygon", "coordinates": polys}
    )
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geom}]}
    if epsg:
        fc["crs"] = {"type": "name", "properties": {"name": "EPSG:%d" % epsg}}
    with open(path, "w") as f:
        json.dump(fc, f)
    return path


def gdalwarp(src, aoi, out, crop=True, all_touched=False, dstnodata=None, alpha=False):
    """gdalwarp -cutline. With crop and the centre rule, the window is the
    bounding box of the pixels gdalwarp's own cutline mask keeps (its alpha
    without -crop_to_cutline), cut out by gdal_translate -srcwin: eoproc's
    window rule (gdalwarp -crop_to_cutline rounds the AOI's bounding box
    inwards and loses boundary pixels whose centre is inside; see README).
    With all_touched, -crop_to_cutline's outward rounding is that box."""
    opts = dict(cutlineDSName=str(aoi), cropToCutline=crop, format="GTiff")
    if all_touched:
        opts["warpOptions"] = ["CUTLINE_ALL_TOUCHED=TRUE"]
    if dstnodata is not None:
        opts["dstNodata"] = dstnodata
    if alpha:
        opts["dstAlpha"] = True
    if not crop or all_touched:
        gdal.Warp(str(out), str(src), **opts)
        return str(out)
    # the mask from a warp with an alpha band (-dstalpha changes how the
    # others are initialised), the samples from one as asked
    full, mask = str(out) + ".full.tif", str(out) + ".mask.tif"
    gdal.Warp(mask, str(src), **dict(opts, cropToCutline=False, dstAlpha=True))
    ds = gdal.Open(mask)
    inside = ds.GetRasterBand(ds.RasterCount).ReadAsArray() != 0
    ds = None
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    win = [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    gdal.Warp(full, str(src), **dict(opts, cropToCutline=False))
    gdal.Translate(str(out), full, srcWin=win)
    os.unlink(full)
    os.unlink(mask)
    return str(out)


def read(path):
    ds = gdal.Open(str(path))
    return ds.ReadAsArray().reshape(ds.RasterCount, ds.RasterYSize, ds.RasterXSize), ds.GetGeoTransform()


def assert_same(ours, ref, grazed=None):
    """Same size, geotransform and samples. With grazed (the AOI as a
    shapely geometry in the raster's CRS: the all-touched rule), pixels the
    AOI only grazes may differ: GDAL burns the cutline's outline after an
    approximate transformation and by its line-drawing rule, so a pixel
    whose share inside is below 1/1000 (or touched at a single point) goes
    either way; at most 5 of them."""
    a, ga = read(ours)
    b, gb = read(ref)
    assert a.shape == b.shape, (a.shape, b.shape)
    for x, y in zip(ga, gb):
        assert abs(x - y) <= 1e-9 * abs(ga[1]), (ga, gb)
    same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
    bad = np.argwhere(~same.all(axis=0))
    if grazed is not None and 0 < len(bad) <= 5:
        for r, c in bad:
            x0, y0 = world(ga, c, r)
            x1, y1 = world(ga, c + 1, r + 1)
            px = shapely.geometry.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            share = px.intersection(grazed).area / px.area
            assert px.intersects(grazed) and share < 1e-3, (r, c, share)
        return a
    assert bad.size == 0, "%d pixels differ, first %s" % (len(bad), bad[:5].tolist())
    return a


def shape_of(polys):
    return shapely.geometry.MultiPolygon([(p[0], p[1:]) for p in polys])


def assert_valid_cog(path):
    errors, warnings = validate(str(path), full_check=True)[:2]
    assert errors == [], errors


def make_raster(path, arr, gt, epsg=32633, nodata=None, block=None):
    gdt = gdal.GetDataTypeByName({"uint8": "Byte"}.get(arr.dtype.name, arr.dtype.name.capitalize()))
    opts = ["TILED=YES", "BLOCKXSIZE=%d" % block, "BLOCKYSIZE=%d" % block] if block else []
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[2], arr.shape[1], arr.shape[0], gdt, opts)
    ds.SetGeoTransform(gt)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(arr.shape[0]):
        band = ds.GetRasterBand(b + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(arr[b])
    ds = None
    return str(path)


# AOIs in pixel coordinates (column, row) of the raster they are used on
HOLE = [
    [[10.3, 20.7], [200.6, 15.2], [300.2, 180.4], [150.5, 330.9], [20.1, 250.5], [10.3, 20.7]],
    [[100.2, 100.3], [150.7, 100.3], [150.7, 150.9], [100.2, 150.9], [100.2, 100.3]],
]
MULTI = [
    [
        [[5.5, 5.5], [120.25, 8.75], [110.0, 90.0], [4.2, 80.1], [5.5, 5.5]],
        [[30.0, 30.0], [60.0, 30.0], [60.0, 60.0], [30.0, 60.0], [30.0, 30.0]],
    ],
    [[[180.1, 200.4], [330.7, 210.2], [300.3, 340.6], [190.9, 320.0], [180.1, 200.4]]],
]
# edges along pixel edges, vertices on pixel corners
EDGES = [[[[40, 40], [160, 40], [160, 120], [100.3, 160.7], [40, 120], [40, 40]]]]

AOIS = {"hole": [HOLE], "multi": MULTI, "edges": EDGES}


@pytest.fixture(scope="module")
def l7_gt(l7):
    return gdal.Open(str(l7)).GetGeoTransform()


# ---------------------------------------------------------------------------
# against gdalwarp on the Landsat scene
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("aoi_name", sorted(AOIS))
@pytest.mark.parametrize("mode", ["centre", "all_touched", "no_crop"])
def test_l7_matches_gdalwarp(tmp_path, l7, l7_gt, aoi_name, mode):
    polys = [rings_world(l7_gt, p) for p in AOIS[aoi_name]]
    aoi = write_geojson(tmp_path / "aoi.geojson", polys, epsg=31985)
    ours = tmp_path / "ours.tif"
    res = eoproc.clip(l7, aoi, ours, all_touched=mode == "all_touched", crop=mode != "no_crop")
    ref = gdalwarp(l7, aoi, tmp_path / "ref.tif", crop=mode != "no_crop", all_touched=mode == "all_touched")
    a = assert_same(ours, ref, grazed=shape_of(polys) if mode == "all_touched" else None)
    assert_valid_cog(ours)
    assert res["width"] == a.shape[2] and res["height"] == a.shape[1]
    assert res["pixels_total"] == a.shape[1] * a.shape[2]
    # pixels inside = pixels gdalwarp's own alpha marks
    alpha = gdalwarp(l7, aoi, tmp_path / "alpha.tif", crop=mode != "no_crop",
                     all_touched=mode == "all_touched", alpha=True)
    ga, _ = read(alpha)
    if mode != "all_touched":
        assert res["pixels_inside"] == int((ga[-1] != 0).sum())
    else:
        assert abs(res["pixels_inside"] - int((ga[-1] != 0).sum())) <= 5
    assert res["nodata"] == 0


def test_alpha_matches_gdalwarp(tmp_path, l7, l7_gt):
    aoi = write_geojson(tmp_path / "aoi.geojson", [rings_world(l7_gt, HOLE)], epsg=31985)
    ours = tmp_path / "ours.tif"
    res = eoproc.clip(l7, aoi, ours, alpha=True, bands=[3, 2, 1])
    ref = gdalwarp(l7, aoi, tmp_path / "ref.tif", alpha=True)
    a, _ = read(ours)
    b, _ = read(ref)
    assert res["bands"] == 4 and a.shape[0] == 4
    assert np.array_equal(a[:3], b[[2, 1, 0]])
    assert np.array_equal(a[3], b[6])  # gdalwarp's alpha follows the 6 bands
    ds = gdal.Open(str(ours))
    assert ds.GetRasterBand(4).GetColorInterpretation() == gdal.GCI_AlphaBand
    assert res["nodata"] is None and ds.GetRasterBand(1).GetNoDataValue() is None
    assert_valid_cog(ours)


def test_aoi_in_4326_over_utm(tmp_path, l7, l7_gt):
    # a polygon with a hole made in the raster's CRS, vertices every ~5 m
    def dense(ring, step=5.0):
        out = []
        for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:]):
            n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
            out += [[x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n] for k in range(n)]
        return out + [ring[-1]]

    utm = [dense(r) for r in rings_world(l7_gt, HOLE)]
    src = osr.SpatialReference()
    src.ImportFromEPSG(31985)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, dst)
    ll = [[list(ct.TransformPoint(x, y)[:2]) for x, y in r] for r in utm]
    for r in ll:
        r[-1] = r[0]
    aoi_ll = write_geojson(tmp_path / "aoi_4326.geojson", [ll])  # no crs member: EPSG:4326
    aoi_utm = write_geojson(tmp_path / "aoi_utm.geojson", [utm], epsg=31985)
    for all_touched in (False, True):
        ours = tmp_path / ("ours%d.tif" % all_touched)
        eoproc.clip(l7, aoi_ll, ours, all_touched=all_touched)
        ref = gdalwarp(l7, aoi_utm, tmp_path / ("ref%d.tif" % all_touched), all_touched=all_touched)
        assert_same(ours, ref, grazed=shape_of([utm]) if all_touched else None)


# ---------------------------------------------------------------------------
# generated rasters: types, nodata, several rows of tiles
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dtype,nodata,bands",
    [("int16", -9999, 1), ("uint16", None, 3), ("float32", float("nan"), 2), ("float64", None, 1),
     ("int32", 7, 2), ("uint8", 255, 2)],
)
def test_generated_matches_gdalwarp(tmp_path, dtype, nodata, bands):
    rng = np.random.default_rng(1)
    h, w = 1300, 1100  # three rows and three columns of 512 px tiles
    if np.dtype(dtype).kind == "f":
        arr = rng.normal(50, 20, (bands, h, w)).astype(dtype)
    else:
        arr = rng.integers(0, 200, (bands, h, w)).astype(dtype)
    if nodata is not None:
        arr[:, 500:520, 300:900] = nodata  # source nodata inside the AOI
    gt = (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
    src = make_raster(tmp_path / "src.tif", arr, gt, nodata=nodata, block=256)
    shell = [[30.7, 40.2], [1050.3, 20.9], [1080.6, 1250.1], [60.4, 1200.8], [30.7, 40.2]]
    hole = [[400.2, 400.6], [700.9, 380.3], [650.1, 800.4], [420.8, 760.7], [400.2, 400.6]]
    island = [[[500.3, 500.2], [560.6, 500.9], [540.1, 600.4], [500.3, 500.2]]]
    polys = [rings_world(gt, [shell, hole]), rings_world(gt, island)]
    aoi = write_geojson(tmp_path / "aoi.geojson", polys, epsg=32633)
    floats = np.dtype(dtype).kind == "f"
    for all_touched in (False, True):
        ours = tmp_path / ("ours%d.tif" % all_touched)
        res = eoproc.clip(src, aoi, ours, all_touched=all_touched, compress="deflate")
        # gdalwarp keeps the source nodata; without one eoproc writes 0 (integers) or NaN
        # (floats) outside and says so
        dst_nd = None if nodata is not None else (float("nan") if floats else 0)
        ref = gdalwarp(src, aoi, tmp_path / ("ref%d.tif" % all_touched), all_touched=all_touched,
                       dstnodata=dst_nd)
        assert_same(ours, ref, grazed=shape_of(polys) if all_touched else None)
        assert_valid_cog(ours)
        want = dst_nd if nodata is None else nodata
        got = res["nodata"]
        assert (got == "nan" and math.isnan(want)) or got == want


def test_explicit_nodata_replaces_source_nodata(tmp_path):
    arr = np.arange(200 * 300, dtype=np.int16).reshape(1, 200, 300) % 1000
    arr[0, 50:60, :] = -1
    gt = (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
    src = make_raster(tmp_path / "src.tif", arr, gt, nodata=-1)
    aoi = write_geojson(tmp_path / "aoi.geojson",
                        [rings_world(gt, [[[10.2, 10.2], [250.7, 12.3], [240.1, 180.8], [10.2, 10.2]]])],
                        epsg=32633)
    ours = tmp_path / "ours.tif"
    eoproc.clip(src, aoi, ours, nodata=-32768)
    assert_same(ours, gdalwarp(src, aoi, tmp_path / "ref.tif", dstnodata=-32768))


def test_rows_of_tiles_and_threads(tmp_path, cli):
    """A raster of many rows of tiles, clipped with 1 and 2 threads: the same
    pixels as gdalwarp."""
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 255, (3, 2600, 1700)).astype(np.uint8)
    gt = (300000.0, 2.0, 0.0, 9000000.0, 0.0, -2.0)
    src = make_raster(tmp_path / "src.tif", arr, gt, epsg=31985)
    ring = [[850 + 800 * math.cos(t / 50.0), 1300 + 1250 * math.sin(t / 50.0)] for t in range(315)]
    ring.append(ring[0])
    hole = [[700.2, 1100.7], [1000.25, 1100.7], [1000.25, 1500.75], [700.2, 1500.75], [700.2, 1100.7]]
    aoi = write_geojson(tmp_path / "aoi.geojson", [rings_world(gt, [ring, hole])], epsg=31985)
    ref = gdalwarp(src, aoi, tmp_path / "ref.tif")
    for threads in ("1", "2"):
        out = tmp_path / ("t%s.tif" % threads)
        p = run_cli(cli, "clip", src, aoi, out, "--threads", threads,
                    "--compress", "none", "--quiet")
        assert p.returncode == 0, p.stderr
        assert_same(out, ref)


def test_mosaic_source(tmp_path, l7, l7_gt):
    """A mosaic of the scene's two halves clips like the scene (worker
    threads reopen the mosaic's VRT, not its name)."""
    left = tmp_path / "left.tif"
    right = tmp_path / "right.tif"
    gdal.Translate(str(left), str(l7), srcWin=[0, 0, 180, 352])
    gdal.Translate(str(right), str(l7), srcWin=[180, 0, 169, 352])
    aoi = write_geojson(tmp_path / "aoi.geojson", [rings_world(l7_gt, HOLE)], epsg=31985)
    ours = tmp_path / "ours.tif"
    eoproc.clip([left, right], aoi, ours, blocksize=256)
    assert_same(ours, gdalwarp(l7, aoi, tmp_path / "ref.tif"))


# ---------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("aoi_name", ["hole", "multi"])
def test_coverage_sums_to_area(tmp_path, l7, l7_gt, aoi_name):
    polys = [rings_world(l7_gt, p) for p in AOIS[aoi_name]]
    aoi = write_geojson(tmp_path / "aoi.geojson", polys, epsg=31985)
    ours = tmp_path / "cov.tif"
    res = eoproc.clip(l7, aoi, ours, coverage=True)
    a, gt = read(ours)
    assert a.dtype == np.float32 and a.shape[0] == 7
    cov = a[6].astype(np.float64)
    assert cov.min() >= 0 and cov.max() <= 1
    geom = shapely.geometry.MultiPolygon([(p[0], p[1:]) for p in polys])
    pixel_area = abs(gt[1] * gt[5] - gt[2] * gt[4])
    assert abs(cov.sum() * pixel_area - geom.area) <= 1e-6 * geom.area
    assert abs(res["coverage_sum"] * pixel_area - geom.area) <= 1e-6 * geom.area
    # a sample of pixels against the area of their intersection with the AOI
    rng = np.random.default_rng(0)
    for r, c in zip(rng.integers(0, cov.shape[0], 300), rng.integers(0, cov.shape[1], 300)):
        x0, y0 = world(gt, c, r)
        x1, y1 = world(gt, c + 1, r + 1)
        box = shapely.geometry.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        assert abs(cov[r, c] - box.intersection(geom).area / pixel_area) < 1e-5
    # the data bands: the centre rule, values kept exactly
    ref = gdalwarp(l7, aoi, tmp_path / "ref.tif", all_touched=True, dstnodata=0)
    b, _ = read(ref)
    inside = a[0] == b[0]
    assert inside.all() or (a[:6][:, ~inside] == 0).all()
    assert_valid_cog(ours)


# ---------------------------------------------------------------------------
# bad input: one line, its id, non-zero exit, nothing at the output path
# ---------------------------------------------------------------------------
def nothing_left(folder, name):
    return [f for f in os.listdir(folder) if f.startswith(name)] == []


def test_cli_errors(tmp_path, l7, l7_gt, cli):
    good = write_geojson(tmp_path / "aoi.geojson", [rings_world(l7_gt, HOLE)], epsg=31985)
    out = tmp_path / "out.tif"
    bad_json = tmp_path / "bad.geojson"
    bad_json.write_text('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0]')
    bowtie = tmp_path / "bowtie.geojson"
    bowtie.write_text(json.dumps({"type": "Polygon", "coordinates": [
        rings_world(l7_gt, [[[10, 10], [100, 100], [100, 10], [10, 100], [10, 10]]])[0]],
        "crs": {"type": "name", "properties": {"name": "EPSG:31985"}}}))
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}))
    cases = [
        ((l7, tmp_path / "missing.geojson", out), "io.NotFound", "missing.geojson"),
        ((l7, bad_json, out), ("geometry.Invalid", "param.Invalid"), "bad.geojson"),
        ((l7, bowtie, out), "geometry.Invalid", None),
        ((l7, far, out), "source.NoDataInAOI", None),
        ((l7, good, out, "--bands", "1,7"), "arg.Invalid", "band 7"),
        ((l7, good, out, "--bands", "0"), "param.Invalid", None),
        ((l7, good, out, "--nodata", "300"), "arg.Invalid", "300"),
        ((l7, good, tmp_path / "no" / "such" / "dir.tif"), "io.Write", None),
        ((tmp_path / "missing.tif", good, out), "io.NotFound", "missing.tif"),
    ]
    for args, ids, names in cases:
        p = run_cli(cli, "clip", *args)
        assert_cli_error(p, ids, names=names)
        assert nothing_left(tmp_path, "out.tif"), os.listdir(tmp_path)
    # unwritable folder
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if not os.access(ro, os.W_OK):  # root can write anyway
            assert_cli_error(run_cli(cli, "clip", l7, good, ro / "x.tif"), "io.Write")
            assert os.listdir(ro) == []
    finally:
        os.chmod(ro, 0o700)
    # the output path is a folder
    assert_cli_error(run_cli(cli, "clip", l7, good, ro), "io.Write")
    # bad rasters
    for kind, path in make_bad_rasters(tmp_path, l7).items():
        p = run_cli(cli, "clip", path, good, out)
        assert_cli_error(p, None)
        assert nothing_left(tmp_path, "out.tif"), (kind, os.listdir(tmp_path))


def test_cli_flags(tmp_path, l7, l7_gt, cli):
    aoi = write_geojson(tmp_path / "aoi.geojson", [rings_world(l7_gt, HOLE)], epsg=31985)
    out = tmp_path / "o.tif"
    p = run_cli(cli, "clip", l7, aoi, out, "--no-crop", "--all-touched", "--alpha", "--coverage",
                "--nodata", "7", "--quiet")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert (res["width"], res["height"], res["bands"], res["nodata"]) == (349, 352, 8, 7)
    ds = gdal.Open(str(out))
    assert ds.GetRasterBand(1).GetNoDataValue() == 7
    assert ds.GetRasterBand(8).GetColorInterpretation() == gdal.GCI_AlphaBand
    assert ds.GetRasterBand(7).GetDescription() == "coverage"
    ref = gdalwarp(l7, aoi, tmp_path / "ref.tif", crop=False, all_touched=True, dstnodata=7, alpha=True)
    a, _ = read(out)
    b, _ = read(ref)
    assert np.array_equal(a[:6], b[:6]) and np.array_equal(a[7], b[6])
    assert_valid_cog(out)


def test_rotated_grid_against_shapely(tmp_path):
    """A rotated geotransform (gdalwarp would resample it): the output keeps
    the source's grid, and a pixel is kept exactly when shapely says its
    centre is inside the AOI."""
    gt = (500000.0, 8.0, -3.0, 4200000.0, -2.0, -9.0)
    rng = np.random.default_rng(5)
    arr = rng.integers(1, 255, (1, 300, 260)).astype(np.uint8)
    src = make_raster(tmp_path / "rot.tif", arr, gt)
    shell = [[20.3, 15.2], [240.7, 30.9], [200.2, 280.4], [35.6, 250.1], [20.3, 15.2]]
    hole = [[100.4, 100.2], [150.9, 100.7], [140.3, 160.6], [100.4, 100.2]]
    polys = [rings_world(gt, [shell, hole])]
    aoi = write_geojson(tmp_path / "aoi.geojson", polys, epsg=32633)
    res = eoproc.clip(src, aoi, tmp_path / "out.tif")
    a, ogt = read(tmp_path / "out.tif")
    x, y = res["window"][:2]
    assert ogt[1:3] == gt[1:3] and ogt[4:] == gt[4:]
    assert abs(ogt[0] - world(gt, x, y)[0]) < 1e-6 and abs(ogt[3] - world(gt, x, y)[1]) < 1e-6
    geom = shape_of(polys)
    rows, cols = np.mgrid[0 : a.shape[1], 0 : a.shape[2]]
    centres = [world(ogt, c + 0.5, r + 0.5) for r, c in zip(rows.ravel(), cols.ravel())]
    inside = np.array([geom.contains(shapely.geometry.Point(p)) for p in centres]).reshape(a.shape[1:])
    src_win = arr[0, y : y + a.shape[1], x : x + a.shape[2]]
    assert np.array_equal(a[0], np.where(inside, src_win, 0))
    assert res["pixels_inside"] == int(inside.sum())
