"""The Python API of eoproc against independent references: GDAL (osgeo and
gdalinfo -json), numpy, PROJ's geodesic library and exact arithmetic."""

import json
import os
import pathlib
import pickle
import shutil
import threading

import numpy as np
import pytest
from osgeo import gdal, osr

import eoproc
from helpers import (
    assert_corners_in,
    band_dtype,
    box,
    gdalinfo_json,
    info_bands,
    info_epsg,
    info_footprint_ring,
    info_geotransform,
    info_pixel_size,
    info_rotated,
    info_size,
    make_bad_rasters,
    ring_area_km2,
)

gdal.UseExceptions()

# 1°x1° cell at the equator on WGS84, geodesic edges (Karney / PROJ geod)
CELL_KM2 = 12308.778361469
# A 1000 m x 1000 m square in UTM on the central meridian covers
# 1 km² / k0² of the ellipsoid (k0 = 0.9996 is the UTM scale factor).
UTM_SQUARE_KM2 = 1.0 / 0.9996**2


def gdal_read(path, window=None, bands=None, buf_type=None, buf_size=None):
    """Reference pixels from osgeo.gdal, shape (bands, rows, cols)."""
    ds = gdal.Open(str(path))
    kw = {}
    if window is not None:
        kw.update(xoff=window[0], yoff=window[1], xsize=window[2], ysize=window[3])
    if bands is not None:
        kw["band_list"] = list(bands)
    if buf_type is not None:
        kw["buf_type"] = buf_type
    if buf_size is not None:
        kw.update(buf_xsize=buf_size[0], buf_ysize=buf_size[1])
    arr = ds.ReadAsArray(**kw)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    return arr


# ---------------------------------------------------------------------------
# versions
# ---------------------------------------------------------------------------
def test_library_is_the_one_named_by_env():
    from eoproc import _lib

    assert os.path.realpath(_lib.path) == os.path.realpath(os.environ["EOPROC_LIBRARY"])


def test_version_and_build_info():
    assert eoproc.__version__ == "1.0.0"
    assert eoproc.version() == "1.0.0"
    bi = eoproc.build_info()
    assert isinstance(bi, dict)
    assert bi["version"] == eoproc.version()
    assert bi["gdal"] == gdal.__version__
    assert bi["simd"] in ("portable", "avx2", "avx512")


# ---------------------------------------------------------------------------
# info
# ---------------------------------------------------------------------------
def test_info_l7(l7):
    d = eoproc.info(l7)
    ref = gdalinfo_json(l7)
    assert info_size(d) == (349, 352) == tuple(ref["size"])
    bands = info_bands(d)
    assert len(bands) == 6 == len(ref["bands"])
    assert [band_dtype(b) for b in bands] == ["uint8"] * 6
    assert info_epsg(d) == 31985
    px, py = info_pixel_size(d)
    assert px == pytest.approx(28.5, abs=1e-6)
    assert py == pytest.approx(28.5, abs=1e-6)
    assert info_rotated(d) is False
    assert info_geotransform(d) == list(gdal.Open(str(l7)).GetGeoTransform())
    corners = ref["wgs84Extent"]["coordinates"][0]
    assert_corners_in(info_footprint_ring(d), corners)
    # bbox_4326 holds the corners and is no larger than the footprint needs
    xmin, ymin, xmax, ymax = d["bbox_4326"]
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    assert xmin <= min(xs) + 1e-7 and ymin <= min(ys) + 1e-7
    assert xmax >= max(xs) - 1e-7 and ymax >= max(ys) - 1e-7
    assert max(min(xs) - xmin, min(ys) - ymin, xmax - max(xs), ymax - max(ys)) < 1e-4
    # overviews as GDAL sees them
    ds = gdal.Open(str(l7))
    for i, b in enumerate(bands):
        band = ds.GetRasterBand(i + 1)
        ovr = [band.GetOverview(k) for k in range(band.GetOverviewCount())]
        assert [(o["width"], o["height"]) for o in b["overviews"]] == [
            (o.XSize, o.YSize) for o in ovr
        ]
        assert b["nodata"] is None
    assert d["driver"] == "GTiff"


def test_info_nodata_and_types(data_dir, tmp_path):
    """dtype names and nodata of every sample, against GDAL."""
    names = {
        gdal.GDT_Byte: "uint8",
        gdal.GDT_Int16: "int16",
        gdal.GDT_UInt16: "uint16",
        gdal.GDT_Float32: "float32",
        gdal.GDT_Float64: "float64",
    }
    path = tmp_path / "dem_nodata.tif"
    gdal.Translate(str(path), str(data_dir / "olinda_dem_utm25s.tif"), noData=-1)
    for f in [data_dir / n for n in ("lc.tif", "na.tif", "olinda_dem_utm25s.tif")] + [path]:
        d = eoproc.info(f)
        ds = gdal.Open(str(f))
        assert info_size(d) == (ds.RasterXSize, ds.RasterYSize)
        for i, b in enumerate(info_bands(d)):
            band = ds.GetRasterBand(i + 1)
            assert band_dtype(b) == names[band.DataType], f
            assert b["nodata"] == band.GetNoDataValue(), f


def test_info_accepts_pathlike_and_str(l7):
    assert eoproc.info(str(l7)) == eoproc.info(pathlib.Path(l7))


def test_info_geomatrix_rotated(geomatrix):
    d = eoproc.info(geomatrix)
    ref = gdalinfo_json(geomatrix)
    assert info_rotated(d) is True
    assert info_geotransform(d) == list(gdal.Open(str(geomatrix)).GetGeoTransform())
    assert info_size(d) == tuple(ref["size"])
    assert_corners_in(info_footprint_ring(d), ref["wgs84Extent"]["coordinates"][0])


def test_info_writes_nothing_beside_the_file(tmp_path, l7):
    shutil.copy(l7, tmp_path / "scene.tif")
    before = sorted(os.listdir(tmp_path))
    eoproc.info(tmp_path / "scene.tif")
    eoproc.read(tmp_path / "scene.tif", window=(0, 0, 10, 10))
    assert sorted(os.listdir(tmp_path)) == before


# ---------------------------------------------------------------------------
# read: pixels equal GDAL's exactly
# ---------------------------------------------------------------------------
def test_read_full_l7(l7):
    arr, georef = eoproc.read(l7)
    ref = gdal_read(l7)
    assert arr.shape == (6, 352, 349)
    assert arr.dtype == np.uint8
    assert arr.flags.c_contiguous and arr.flags.owndata and arr.flags.writeable
    np.testing.assert_array_equal(arr, ref)
    ds = gdal.Open(str(l7))
    assert georef["geotransform"] == ds.GetGeoTransform()
    assert (georef["width"], georef["height"]) == (349, 352)
    assert georef["nodata"] is None
    srs = osr.SpatialReference()
    srs.ImportFromWkt(georef["crs"])
    assert srs.IsSame(ds.GetSpatialRef())


WINDOWS = [(0, 0, 349, 352), (10, 20, 100, 50), (0, 0, 1, 1), (348, 351, 1, 1), (300, 0, 49, 352)]


@pytest.mark.parametrize("window", WINDOWS)
def test_read_window_l7(l7, window):
    arr, georef = eoproc.read(l7, window=window)
    np.testing.assert_array_equal(arr, gdal_read(l7, window=window))
    assert arr.shape == (6, window[3], window[2])
    # the window's geotransform is offset by (col, row) pixels
    g = gdal.Open(str(l7)).GetGeoTransform()
    c, r = window[0], window[1]
    expect = (g[0] + c * g[1] + r * g[2], g[1], g[2], g[3] + c * g[4] + r * g[5], g[4], g[5])
    assert georef["geotransform"] == pytest.approx(expect, rel=0, abs=1e-6)
    assert (georef["width"], georef["height"]) == (window[2], window[3])


def test_read_window_geomatrix_geotransform(geomatrix):
    arr, georef = eoproc.read(geomatrix, window=(3, 5, 10, 7))
    np.testing.assert_array_equal(arr, gdal_read(geomatrix, window=(3, 5, 10, 7)))
    g = gdal.Open(str(geomatrix)).GetGeoTransform()
    expect = (g[0] + 3 * g[1] + 5 * g[2], g[1], g[2], g[3] + 3 * g[4] + 5 * g[5], g[4], g[5])
    assert georef["geotransform"] == pytest.approx(expect, rel=0, abs=1e-9)


DTYPES = [
    ("float32", gdal.GDT_Float32),
    ("float64", gdal.GDT_Float64),
    ("uint16", gdal.GDT_UInt16),
    ("int16", gdal.GDT_Int16),
    ("int32", gdal.GDT_Int32),
    ("uint32", gdal.GDT_UInt32),
    ("uint8", gdal.GDT_Byte),
    ("int64", gdal.GDT_Int64),
    ("uint64", gdal.GDT_UInt64),
]


@pytest.mark.parametrize("name,gdt", DTYPES)
def test_read_dtype_l7(l7, name, gdt):
    window = (5, 7, 120, 90)
    arr, _ = eoproc.read(l7, window=window, dtype=name)
    ref = gdal_read(l7, window=window, buf_type=gdt)
    assert arr.dtype == np.dtype(name)
    np.testing.assert_array_equal(arr, ref)


def test_read_int8_clamps(l7, dem):
    """GDAL 3.6 has no Int8 buffer type: the reference is GDAL's read, clamped."""
    arr, _ = eoproc.read(l7, dtype=np.int8)
    assert arr.dtype == np.int8
    np.testing.assert_array_equal(arr, np.clip(gdal_read(l7), -128, 127))
    arr, _ = eoproc.read(dem, dtype="int8")
    ref = gdal_read(dem, buf_type=gdal.GDT_Int16)  # rounded like GDAL rounds
    np.testing.assert_array_equal(arr, np.clip(ref, -128, 127))


def test_read_dtype_names(l7):
    """eoproc's names ("byte" is uint8, as in GDAL) and numpy's spellings."""
    for name, expect in (("byte", "uint8"), ("f32", "float32"), ("<f4", "float32"),
                         ("u2", "uint16"), (np.float64, "float64"), ("float", "float64")):
        arr, _ = eoproc.read(l7, window=(0, 0, 4, 4), dtype=name)
        assert arr.dtype == np.dtype(expect), name


@pytest.mark.parametrize(
    "dtype", [np.float32, np.dtype("float64"), "int16", "uint8", "uint16", "int32"]
)
def test_read_dtype_dem_conversion(dem, dtype):
    """float32 DEM (values -1..88, fractions) to other types: GDAL's rounding
    and clamping."""
    gdt = {
        np.dtype("float32"): gdal.GDT_Float32,
        np.dtype("float64"): gdal.GDT_Float64,
        np.dtype("int16"): gdal.GDT_Int16,
        np.dtype("uint8"): gdal.GDT_Byte,
        np.dtype("uint16"): gdal.GDT_UInt16,
        np.dtype("int32"): gdal.GDT_Int32,
    }[np.dtype(dtype)]
    arr, _ = eoproc.read(dem, dtype=dtype)
    ref = gdal_read(dem, buf_type=gdt)
    assert arr.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(arr, ref)


@pytest.mark.parametrize("bands", [[1], [6], [4, 3, 2], [2, 5]])
def test_read_band_subsets(l7, bands):
    arr, _ = eoproc.read(l7, bands=bands, window=(50, 60, 70, 80), dtype="float32")
    ref = gdal_read(l7, window=(50, 60, 70, 80), bands=bands, buf_type=gdal.GDT_Float32)
    assert arr.shape == (len(bands), 80, 70)
    np.testing.assert_array_equal(arr, ref)


def test_read_other_samples(data_dir):
    for name in ("lc.tif", "na.tif", "olinda_dem_utm25s.tif", "geomatrix.tif"):
        arr, georef = eoproc.read(data_dir / name)
        ref = gdal_read(data_dir / name)
        assert arr.dtype == ref.dtype, name
        np.testing.assert_array_equal(arr, ref, err_msg=name)
        assert georef["geotransform"] == gdal.Open(str(data_dir / name)).GetGeoTransform()


def test_read_nodata(tmp_path, dem):
    path = tmp_path / "dem_nodata.tif"
    ds = gdal.Translate(str(path), str(dem))
    ds.GetRasterBand(1).SetNoDataValue(-1)
    ds = None
    arr, georef = eoproc.read(path)
    assert georef["nodata"] == gdal.Open(str(path)).GetRasterBand(1).GetNoDataValue() == -1.0
    np.testing.assert_array_equal(arr, gdal_read(path))


@pytest.fixture(scope="module")
def l7_overviews(tmp_path_factory, l7):
    """A copy of L7 without its own overviews, then with 2/4/8 built by GDAL."""
    path = tmp_path_factory.mktemp("ovr") / "l7_ovr.tif"
    gdal.Translate(str(path), str(l7), creationOptions=["TILED=YES"])
    ds = gdal.Open(str(path), gdal.GA_Update)
    ds.BuildOverviews("NEAREST", [2, 4, 8])
    ds = None
    return path


def gdal_overview_read(path, level, out_w, out_h):
    ds = gdal.Open(str(path))
    arrs = []
    for b in range(1, ds.RasterCount + 1):
        ovr = ds.GetRasterBand(b).GetOverview(level)
        arrs.append(
            ovr.ReadAsArray(
                0,
                0,
                ovr.XSize,
                ovr.YSize,
                buf_xsize=out_w,
                buf_ysize=out_h,
                resample_alg=gdal.GRIORA_NearestNeighbour,
            )
        )
    return np.stack(arrs)


@pytest.mark.parametrize(
    "out_shape,level",
    [
        ((176, 175), 0),  # exactly overview 2
        ((88, 88), 1),  # exactly overview 4
        ((100, 100), 0),  # between: the finer overview (175 x 176) resampled
        ((60, 50), 1),
    ],
)
def test_read_out_shape_uses_overview(l7_overviews, out_shape, level):
    h, w = out_shape
    arr, georef = eoproc.read(l7_overviews, out_shape=out_shape)
    assert arr.shape == (6, h, w)
    np.testing.assert_array_equal(arr, gdal_overview_read(l7_overviews, level, w, h))
    g = gdal.Open(str(l7_overviews)).GetGeoTransform()
    assert georef["geotransform"][0] == pytest.approx(g[0], abs=1e-6)
    assert georef["geotransform"][3] == pytest.approx(g[3], abs=1e-6)
    assert georef["geotransform"][1] == pytest.approx(g[1] * 349 / w, rel=1e-9)
    assert georef["geotransform"][5] == pytest.approx(g[5] * 352 / h, rel=1e-9)
    assert (georef["width"], georef["height"]) == (w, h)


def test_read_out_shape_full_size_is_plain_read(l7_overviews):
    arr, _ = eoproc.read(l7_overviews, out_shape=(352, 349))
    np.testing.assert_array_equal(arr, gdal_read(l7_overviews))


# ---------------------------------------------------------------------------
# progress and cancel
# ---------------------------------------------------------------------------
def test_read_progress_reports_fractions(l7):
    calls = []
    arr, _ = eoproc.read(l7, progress=lambda f, s: calls.append((f, s)))
    assert calls, "the progress callable was never called"
    fr = [f for f, _ in calls]
    assert all(0.0 <= f <= 1.0 for f in fr)
    assert fr == sorted(fr)
    assert all(isinstance(s, str) for _, s in calls)
    np.testing.assert_array_equal(arr, gdal_read(l7))


def test_read_cancel_then_read_again(l7):
    with pytest.raises(eoproc.Error) as ei:
        eoproc.read(l7, progress=lambda f, s: True)
    assert ei.value.id == "cancelled"
    # the thread's context is usable again afterwards
    arr, _ = eoproc.read(l7, window=(0, 0, 5, 5))
    np.testing.assert_array_equal(arr, gdal_read(l7, window=(0, 0, 5, 5)))


def test_read_progress_exception_propagates(l7):
    class Boom(Exception):
        pass

    def cb(f, s):
        raise Boom("stop")

    with pytest.raises(Boom):
        eoproc.read(l7, progress=cb)
    eoproc.read(l7, window=(0, 0, 2, 2))


# ---------------------------------------------------------------------------
# read / info errors
# ---------------------------------------------------------------------------
def test_missing_file(tmp_path):
    for fn in (eoproc.info, eoproc.read):
        with pytest.raises(eoproc.Error) as ei:
            fn(tmp_path / "nope.tif")
        e = ei.value
        assert e.id == "io.NotFound"
        assert e.code == (3 | (3 << 8))
        assert "nope.tif" in e.message
        assert str(e) == "%s [io.NotFound]" % e.message


@pytest.mark.parametrize("kind", ["empty", "html", "truncated", "truncated_pixels"])
def test_broken_files(tmp_path, l7, kind):
    path = make_bad_rasters(tmp_path, l7)[kind]
    before = sorted(os.listdir(tmp_path))
    for fn in (eoproc.info, eoproc.read):
        with pytest.raises(eoproc.Error) as ei:
            fn(path)
        assert ei.value.id in ("io.Read", "source.Invalid"), str(ei.value)
        assert os.path.basename(path) in ei.value.message
    assert sorted(os.listdir(tmp_path)) == before


def test_read_half_file_fails_cleanly(tmp_path, l7):
    path = tmp_path / "half.tif"
    path.write_bytes(l7.read_bytes()[:400000])
    with pytest.raises(eoproc.Error) as ei:
        eoproc.read(path)
    assert ei.value.id in ("io.Read", "source.Invalid")
    assert "half.tif" in ei.value.message


@pytest.mark.parametrize(
    "window",
    [(0, 0, 350, 352), (349, 0, 1, 1), (-1, 0, 10, 10), (0, 340, 10, 13), (0, 0, 0, 10),
     (0, 0, 10, -5), (2**40, 0, 1, 1)],
)
def test_read_window_outside(l7, window):
    with pytest.raises(eoproc.Error) as ei:
        eoproc.read(l7, window=window)
    assert ei.value.id == "arg.Invalid"


@pytest.mark.parametrize("bands", [[0], [7], [1, 7], [-1]])
def test_read_bad_band(l7, bands):
    with pytest.raises(eoproc.Error) as ei:
        eoproc.read(l7, bands=bands)
    assert ei.value.id == "arg.Invalid"


def test_read_bad_arguments(l7):
    for kw in (
        {"dtype": "complex64"},
        {"dtype": "not-a-type"},
        {"resampling": "sideways"},
        {"window": (0, 0, 10)},
        {"out_shape": (10,)},
        {"out_shape": (0, 10)},
    ):
        with pytest.raises(eoproc.Error) as ei:
            eoproc.read(l7, **kw)
        assert ei.value.id == "arg.Invalid", kw


def test_read_rejects_bad_python_arguments(l7):
    for kw in ({"bands": []}, {"window": (0.5, 0, 10, 10)}, {"window": "0,0,1,1"}):
        with pytest.raises(eoproc.Error) as ei:
            eoproc.read(l7, **kw)
        assert ei.value.id == "arg.Invalid", kw
    with pytest.raises(eoproc.Error) as ei:
        eoproc.info(str(l7) + "\0.png")
    assert ei.value.id == "arg.Invalid"


def test_error_pickles():
    e = eoproc.Error("bad ring at coordinates[0]", "geometry.Invalid", 4)
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.id, e2.code, e2.message, str(e2)) == (e.id, e.code, e.message, str(e))


# ---------------------------------------------------------------------------
# AOI area
# ---------------------------------------------------------------------------
def utm_square_lonlat():
    """1000 m x 1000 m square in EPSG:32631 on the central meridian near the
    equator, its corners transformed to lon/lat by osgeo.osr."""
    src = osr.SpatialReference()
    src.ImportFromEPSG(32631)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    utm = box(500000.0, 100000.0, 501000.0, 101000.0)
    ring = [list(tr.TransformPoint(x, y)[:2]) for x, y in utm]
    ring[-1] = ring[0]
    return utm, ring


def test_aoi_area_utm_square_lonlat():
    _, ring = utm_square_lonlat()
    km2 = eoproc.aoi_area({"type": "Polygon", "coordinates": [ring]})
    assert km2 == pytest.approx(UTM_SQUARE_KM2, rel=1e-3)
    # geodesic, not planar: the 0.08 % of the UTM scale factor shows
    assert km2 == pytest.approx(UTM_SQUARE_KM2, rel=2e-4)


def test_aoi_area_utm_square_in_its_crs():
    utm, _ = utm_square_lonlat()
    km2 = eoproc.aoi_area({"type": "Polygon", "coordinates": [utm]}, crs="EPSG:32631")
    assert km2 == pytest.approx(UTM_SQUARE_KM2, rel=2e-4)


def test_aoi_area_one_degree_cell():
    cell = {"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]}
    assert eoproc.aoi_area(cell) == pytest.approx(CELL_KM2, rel=1e-6)
    assert ring_area_km2(box(0, 0, 1, 1)) == pytest.approx(CELL_KM2, rel=1e-12)


def test_aoi_area_input_forms(tmp_path):
    cell = {"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]}
    text = json.dumps(cell)
    f = tmp_path / "cell.geojson"
    f.write_text(text)
    for src in (cell, text, "  \n" + text, text.encode(), f, str(f)):
        assert eoproc.aoi_area(src) == pytest.approx(CELL_KM2, rel=1e-6), repr(src)[:40]


def test_aoi_area_nan_dict_reaches_the_parser():
    ring = box(0, 0, 1, 1)
    ring[1] = [float("nan"), 0.0]
    with pytest.raises(eoproc.Error) as ei:
        eoproc.aoi_area({"type": "Polygon", "coordinates": [ring]})
    assert ei.value.id == "geometry.Invalid"


def test_aoi_area_missing_file(tmp_path):
    with pytest.raises(eoproc.Error) as ei:
        eoproc.aoi_area(tmp_path / "none.geojson")
    assert ei.value.id == "io.NotFound"


def test_aoi_area_repair_bowtie():
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(eoproc.Error) as ei:
        eoproc.aoi_area(bowtie)
    assert ei.value.id == "geometry.Invalid"
    # repaired: two triangles meeting at (0.5, 0.5)
    expect = ring_area_km2([[0, 0], [0.5, 0.5], [0, 1]]) + ring_area_km2(
        [[1, 0], [1, 1], [0.5, 0.5]]
    )
    assert eoproc.aoi_area(bowtie, repair=True) == pytest.approx(expect, rel=1e-6)


def test_aoi_area_bad_crs():
    with pytest.raises(eoproc.Error) as ei:
        eoproc.aoi_area({"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]}, crs="EPSG:999999")
    assert ei.value.id == "crs.Invalid"


# ---------------------------------------------------------------------------
# operation registry
# ---------------------------------------------------------------------------
def test_ops_list():
    names = [o["name"] for o in eoproc.ops()]
    assert "info" in names and "aoi_area" in names
    for o in eoproc.ops():
        assert isinstance(o.get("summary"), str) and o["summary"]


def test_schema():
    s = eoproc.schema("info")
    assert isinstance(s, dict)
    assert s.get("type") == "object"
    assert "path" in s["properties"]
    a = eoproc.schema("aoi_area")
    assert {"aoi", "crs", "repair", "allow_z"} <= set(a["properties"])


def test_run_aoi_area_equals_aoi_area(tmp_path):
    _, ring = utm_square_lonlat()
    geo = {"type": "Polygon", "coordinates": [ring]}
    res = eoproc.run("aoi_area", aoi=geo)
    assert res["area_km2"] == eoproc.aoi_area(geo)
    assert res["area_km2"] == pytest.approx(UTM_SQUARE_KM2, rel=2e-4)
    # the AOI as a JSON string, and options
    res2 = eoproc.run("aoi_area", aoi=json.dumps(geo), repair=False, allow_z=False)
    assert res2["area_km2"] == res["area_km2"]
    utm, _ = utm_square_lonlat()
    res3 = eoproc.run("aoi_area", aoi={"type": "Polygon", "coordinates": [utm]}, crs="EPSG:32631")
    assert res3["area_km2"] == pytest.approx(UTM_SQUARE_KM2, rel=2e-4)


def test_run_info_equals_info(l7):
    assert eoproc.run("info", path=str(l7)) == eoproc.info(l7)
    assert eoproc.run("info", path=pathlib.Path(l7)) == eoproc.info(l7)


@pytest.mark.parametrize(
    "params,field",
    [
        ({}, "path"),
        ({"path": 42}, "path"),
        ({"path": None}, "path"),
        ({"path": "x.tif", "colour": "blue"}, "colour"),
    ],
)
def test_run_bad_param(params, field):
    with pytest.raises(eoproc.Error) as ei:
        eoproc.run("info", **params)
    assert ei.value.id == "param.Invalid"
    assert field in ei.value.message


@pytest.mark.parametrize(
    "params,field",
    [
        ({}, "aoi"),
        ({"aoi": 5}, "aoi"),
        ({"aoi": {"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]}, "repair": "yes"}, "repair"),
        ({"aoi": {"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]}, "crs": 4326}, "crs"),
    ],
)
def test_run_aoi_area_bad_param(params, field):
    with pytest.raises(eoproc.Error) as ei:
        eoproc.run("aoi_area", **params)
    assert ei.value.id == "param.Invalid"
    assert field in ei.value.message


def test_run_unknown_op():
    with pytest.raises(eoproc.Error) as ei:
        eoproc.run("no_such_op", path="x")
    assert ei.value.id == "op.Unknown"
    with pytest.raises(eoproc.Error) as ei:
        eoproc.schema("no_such_op")
    assert ei.value.id == "op.Unknown"


def test_run_operation_error_passes_through(tmp_path):
    with pytest.raises(eoproc.Error) as ei:
        eoproc.run("info", path=str(tmp_path / "missing.tif"))
    assert ei.value.id == "io.NotFound"
    with pytest.raises(eoproc.Error) as ei:
        eoproc.run("aoi_area", aoi={"type": "Point", "coordinates": [0, 0]})
    assert ei.value.id == "geometry.Invalid"


# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------
def test_threads_read_same_raster(l7):
    ref = gdal_read(l7)
    results = {}
    errors = []

    def work(k):
        try:
            out = []
            for _ in range(20):
                arr, _ = eoproc.read(l7)
                out.append(arr)
            results[k] = out
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 4
    for out in results.values():
        assert len(out) == 20
        for arr in out:
            np.testing.assert_array_equal(arr, ref)


def test_threads_errors_stay_on_their_thread(tmp_path, l7):
    """Failures on one thread never show up as another thread's result."""
    errors = []
    ids = {}

    def bad(k):
        got = []
        for i in range(10):
            try:
                eoproc.info(tmp_path / ("missing-%d-%d.tif" % (k, i)))
            except eoproc.Error as e:
                got.append((e.id, ("missing-%d-%d.tif" % (k, i)) in e.message))
        ids[k] = got

    def good(k):
        try:
            for _ in range(10):
                eoproc.info(l7)
                eoproc.aoi_area({"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]})
        except BaseException as e:
            errors.append(e)

    ts = [threading.Thread(target=bad, args=(k,)) for k in range(2)]
    ts += [threading.Thread(target=good, args=(k,)) for k in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    for k in range(2):
        assert ids[k] == [("io.NotFound", True)] * 10


def test_thread_context_freed_when_thread_ends():
    """Each thread gets its own context, released when the thread ends."""
    import gc
    import weakref

    refs = []

    def work():
        eoproc.aoi_area({"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]})
        h = eoproc._tls.ctx
        refs.append(weakref.ref(h))

    for _ in range(8):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    gc.collect()
    assert len(refs) == 8
    assert all(r() is None for r in refs), "a finished thread's context is still alive"
    # and the main thread still has its own, working one
    assert {"info", "aoi_area"} <= {o["name"] for o in eoproc.ops()}


def test_reentrant_call_from_progress_callback(l7):
    """eoproc called from inside a progress callback uses its own context and
    leaves the running read's error state alone."""
    inner = []

    def cb(fraction, stage):
        inner.append(eoproc.aoi_area({"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]}))
        try:
            eoproc.info("/nonexistent/eoproc-reentrant.tif")
        except eoproc.Error as e:
            inner.append(e.id)
        return None

    arr, _ = eoproc.read(l7, window=(0, 0, 30, 30), progress=cb)
    np.testing.assert_array_equal(arr, gdal_read(l7, window=(0, 0, 30, 30)))
    assert inner, "the progress callable was never called"
    assert inner[0] == pytest.approx(CELL_KM2, rel=1e-6)
    assert "io.NotFound" in inner


def test_set_threads(l7, tmp_path):
    """eoproc.set_threads reaches the library's context in every Python
    thread (eo_ctx_get_threads reports it), and outputs are the same bytes
    whatever the count (the COG writer's promise)."""
    import threading

    aoi = {"type": "Polygon", "coordinates": [[[-34.9, -8.03], [-34.85, -8.03], [-34.85, -7.96],
                                              [-34.9, -7.96], [-34.9, -8.03]]]}
    try:
        outs = []
        for n in (1, 2):
            eoproc.set_threads(n)
            assert eoproc.get_threads() == n
            seen = []
            t = threading.Thread(target=lambda: seen.append(eoproc.get_threads()))
            t.start()
            t.join()
            assert seen == [n]
            out = tmp_path / ("c%d.tif" % n)
            eoproc.clip(l7, aoi, out)
            outs.append(out.read_bytes())
        assert outs[0] == outs[1]
        eoproc.set_threads(0)
        assert eoproc.get_threads() >= 1
        for bad in (-1, 1025, 1.5, "2", True):
            with pytest.raises(eoproc.Error) as e:
                eoproc.set_threads(bad)
            assert e.value.id == "arg.Invalid"
    finally:
        eoproc.set_threads(0)
