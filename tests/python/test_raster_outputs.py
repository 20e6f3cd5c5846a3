"""Every raster an operation writes is a Cloud-Optimized GeoTIFF, checked
with GDAL: its COG validator (no error, no warning, full check: tiles in
row-major order), the compression, block size and overviews GDAL reads
back, statistics equal to numpy's on the pixels, overviews equal to GDAL's
own COG driver (nearest or mode) on the same full-resolution pixels, class
rasters with a colour table and class names; pixels equal to numpy's
float32 arithmetic on the inputs read by GDAL."""

import json
import os
import pathlib

import numpy as np
import pytest
from osgeo import gdal, osr
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate

import eoproc
from helpers import run_cli

REPO = pathlib.Path(__file__).resolve().parents[2]
DEMO = REPO / "models" / "buildings.onnx"  # 3 bands in, one sigmoid channel out

gdal.UseExceptions()
ND = np.float32(-9999)
W, H = 1100, 700  # larger than one 512 block: overviews


def assert_cog(path, compress="ZSTD", block=512, min_overviews=1):
    errors, warnings = validate(str(path), full_check=True)[:2]
    assert errors == [] and warnings == [], (path, errors, warnings)
    ds = gdal.Open(str(path))
    assert ds.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION") == compress
    assert ds.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    for b in range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(b)
        assert band.GetBlockSize() == [block, block]
        assert band.GetOverviewCount() >= min_overviews, path
        assert "STATISTICS_MEAN" in band.GetMetadata(), (path, b)
    return ds


def assert_stats_equal_numpy(path, arr, nodata):
    ds = gdal.Open(str(path))
    arr = arr.reshape((-1,) + arr.shape[-2:])
    for b in range(arr.shape[0]):
        md = ds.GetRasterBand(b + 1).GetMetadata()
        v = arr[b].astype(np.float64).ravel()
        valid = ~np.isnan(v) & (v != nodata)
        x = v[valid]
        assert float(md["STATISTICS_MINIMUM"]) == x.min()
        assert float(md["STATISTICS_MAXIMUM"]) == x.max()
        assert float(md["STATISTICS_MEAN"]) == pytest.approx(x.mean(), rel=1e-9, abs=1e-12)
        assert float(md["STATISTICS_STDDEV"]) == pytest.approx(x.std(), rel=1e-7, abs=1e-12)
        assert float(md["STATISTICS_VALID_PERCENT"]) == pytest.approx(
            100.0 * valid.sum() / valid.size, rel=1e-12)


def gdal_overviews(path, tmp_path, resampling):
    """GDAL's COG driver on the full-resolution pixels of path: its overviews."""
    ds = gdal.Open(str(path))
    base = tmp_path / ("base-%s.tif" % resampling)
    gdal.Translate(str(base), ds, format="GTiff", creationOptions=["TILED=YES"])
    ref = tmp_path / ("ref-%s.tif" % resampling)
    gdal.Translate(str(ref), str(base), format="COG",
                   creationOptions=["BLOCKSIZE=%d" % ds.GetRasterBand(1).GetBlockSize()[0],
                                    "COMPRESS=NONE", "RESAMPLING=%s" % resampling.upper(),
                                    "OVERVIEWS=IGNORE_EXISTING"])
    r = gdal.Open(str(ref))
    return [r.GetRasterBand(1).GetOverview(i).ReadAsArray()
            for i in range(r.GetRasterBand(1).GetOverviewCount())]


def overviews(path):
    ds = gdal.Open(str(path))
    b = ds.GetRasterBand(1)
    return [b.GetOverview(i).ReadAsArray() for i in range(b.GetOverviewCount())]


def nd_ratio(a, b):
    num, den = a - b, a + b
    with np.errstate(all="ignore"):
        out = num / den
    return np.where(den == 0, ND, out).astype(np.float32)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """Two dates of a 4-band uint16 scene (R = 3, N = 4), nodata 0, with a
    nodata block and, in the second date, a greener field and a bare one."""
    d = tmp_path_factory.mktemp("outputs")
    rng = np.random.default_rng(7)
    a = rng.integers(1, 5000, (4, H, W)).astype(np.uint16)
    a[:, 100:140, 200:260] = 0
    b = a.copy()
    b[3, 300:420, 500:700] = np.minimum(b[3, 300:420, 500:700].astype(np.int32) * 3,
                                        65535).astype(np.uint16)
    b[3, 500:600, 100:300] //= 4
    paths = []
    for name, arr in (("t0.tif", a), ("t1.tif", b)):
        p = d / name
        ds = gdal.GetDriverByName("GTiff").Create(str(p), W, H, 4, gdal.GDT_UInt16,
                                                  ["TILED=YES"])
        ds.SetGeoTransform((600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0))
        sr = osr.SpatialReference()
        sr.ImportFromEPSG(32633)
        ds.SetProjection(sr.ExportToWkt())
        for k in range(4):
            ds.GetRasterBand(k + 1).WriteArray(arr[k])
            ds.GetRasterBand(k + 1).SetNoDataValue(0)
        ds = None
        paths.append(p)
    return paths, a.astype(np.float32), b.astype(np.float32)


def ndvi_ref(x):
    v = nd_ratio(x[3], x[2])
    v[(x[3] == 0) | (x[2] == 0)] = ND
    return v


def test_index_is_a_cog_equal_to_numpy(scene, tmp_path, cli):
    (t0, _), a, _ = scene
    out = tmp_path / "ndvi.tif"
    p = run_cli(cli, "index", t0, "NDVI", out, "--bands", "R=3,N=4", "--quiet")
    assert p.returncode == 0, p.stderr
    ds = assert_cog(out)
    want = ndvi_ref(a)
    np.testing.assert_array_equal(ds.ReadAsArray(), want)
    assert ds.GetRasterBand(1).GetNoDataValue() == -9999
    assert ds.GetRasterBand(1).GetDescription() == "NDVI"
    assert ds.GetGeoTransform() == gdal.Open(str(t0)).GetGeoTransform()
    assert_stats_equal_numpy(out, want, -9999)
    # auto: halve until one block holds the level (1100 -> 550 -> 275), as GDAL does
    assert ds.GetRasterBand(1).GetOverviewCount() == len(gdal_overviews(out, tmp_path, "average"))
    # nearest overviews are exactly GDAL's
    out2 = tmp_path / "ndvi-nearest.tif"
    eoproc.index(t0, "NDVI", out=out2, bands="R=3,N=4", resampling="nearest")
    for x, y in zip(overviews(out2), gdal_overviews(out2, tmp_path, "nearest")):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("args,check", [
    (["--compress", "deflate", "--level", "3", "--predictor", "float"],
     {"COMPRESSION": "DEFLATE", "PREDICTOR": "3"}),
    (["--compress", "lzw", "--blocksize", "256"], {"COMPRESSION": "LZW", "block": 256}),
    (["--overviews", "none", "--no-stats"], {"COMPRESSION": "ZSTD", "overviews": 0, "stats": False}),
    (["--overviews", "1", "--compress", "none"], {"COMPRESSION": None, "overviews": 1}),
])
def test_band_math_cog_options(scene, tmp_path, cli, args, check):
    (t0, _), a, _ = scene
    out = tmp_path / "calc.tif"
    p = run_cli(cli, "calc", t0, "(b4 - b3) / (b4 + b3)", out, *args, "--quiet")
    assert p.returncode == 0, p.stderr
    errors, warnings = validate(str(out), full_check=True)[:2]
    if check.get("overviews") == 0:  # asked for: the validator's one complaint
        assert len(errors) == 1 and "recommended to include internal overviews" in errors[0]
    else:
        assert errors == [], errors
    assert warnings == [], warnings
    ds = gdal.Open(str(out))
    st = ds.GetMetadata("IMAGE_STRUCTURE")
    assert st.get("COMPRESSION") == check["COMPRESSION"]
    if "PREDICTOR" in check:
        assert st.get("PREDICTOR") == check["PREDICTOR"]
    band = ds.GetRasterBand(1)
    blk = check.get("block", 512)
    assert band.GetBlockSize() == [blk, blk]
    n = check.get("overviews")
    if n is not None:
        assert band.GetOverviewCount() == n
    else:
        assert band.GetOverviewCount() == (3 if blk == 256 else 2)
    assert ("STATISTICS_MEAN" in band.GetMetadata()) == check.get("stats", True)
    np.testing.assert_array_equal(band.ReadAsArray(), ndvi_ref(a))


def test_change_outputs_are_cogs_with_classes(scene, tmp_path, cli):
    (t0, t1), a, b = scene
    out = tmp_path / "chg"
    p = run_cli(cli, "change", t0, t1, "--index", "NDVI", "--bands", "R=3,N=4", "--out", out,
                "--quiet")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    v0, v1 = ndvi_ref(a), ndvi_ref(b)
    valid = (v0 != ND) & (v1 != ND)
    d = np.where(valid, (v1 - v0).astype(np.float32), ND)
    cls = np.where(valid, np.where(d > np.float32(0.2), 1, np.where(d < np.float32(-0.2), 2, 0)),
                   255).astype(np.uint8)
    ch = assert_cog(out / "change.tif")
    np.testing.assert_array_equal(ch.ReadAsArray(), d)
    assert_stats_equal_numpy(out / "change.tif", d, -9999)
    k = assert_cog(out / "class.tif")
    np.testing.assert_array_equal(k.ReadAsArray(), cls)
    assert_stats_equal_numpy(out / "class.tif", cls, 255)
    assert r["classes"]["gain"]["pixels"] == (cls == 1).sum() > 0
    assert r["classes"]["loss"]["pixels"] == (cls == 2).sum() > 0
    band = k.GetRasterBand(1)
    assert band.GetNoDataValue() == 255
    assert band.GetColorInterpretation() == gdal.GCI_PaletteIndex
    ct = band.GetColorTable()
    colours = [ct.GetColorEntry(i)[:3] for i in range(3)]
    assert len(set(colours)) == 3  # three distinct colours
    md = band.GetMetadata()
    assert (md["CLASS_0"], md["CLASS_1"], md["CLASS_2"]) == ("no_change", "gain", "loss")
    assert "CLASS_0=no_change" in gdal.Info(str(out / "class.tif"))
    # class overviews: nearest by default, equal to GDAL's
    for x, y in zip(overviews(out / "class.tif"),
                    gdal_overviews(out / "class.tif", tmp_path, "nearest")):
        np.testing.assert_array_equal(x, y)
    assert len(overviews(out / "class.tif")) == 2


def test_change_class_overviews_mode_and_never_average(scene, tmp_path):
    (t0, t1), _, _ = scene
    out = tmp_path / "m"
    eoproc.run("change_detection", before=t0, after=t1, index="NDVI", bands="R=3,N=4", out=out,
               resampling="mode", blocksize=256)
    ds = assert_cog(out / "class.tif", block=256)
    assert ds.GetRasterBand(1).GetOverviewCount() == 3
    for x, y in zip(overviews(out / "class.tif"),
                    gdal_overviews(out / "class.tif", tmp_path, "mode")):
        np.testing.assert_array_equal(x, y)
    # the change raster takes the asked resampling too (mode, exactly GDAL's)
    for x, y in zip(overviews(out / "change.tif"),
                    gdal_overviews(out / "change.tif", tmp_path, "mode")):
        np.testing.assert_array_equal(x, y)
    # average asked: the change raster averages, the class raster stays nearest
    out2 = tmp_path / "a"
    eoproc.run("change_detection", before=t0, after=t1, index="NDVI", bands="R=3,N=4", out=out2,
               resampling="average", predictor="float")
    for x, y in zip(overviews(out2 / "class.tif"),
                    gdal_overviews(out2 / "class.tif", tmp_path, "nearest")):
        np.testing.assert_array_equal(x, y)
    ov = overviews(out2 / "class.tif")[0]
    assert set(np.unique(ov)) <= {0, 1, 2, 255}
    assert gdal.Open(str(out2 / "change.tif")).GetMetadata("IMAGE_STRUCTURE")["PREDICTOR"] == "3"


def test_change_failure_leaves_neither_output(scene, tmp_path, cli):
    (t0, t1), _, _ = scene
    out = tmp_path / "bad"
    out.mkdir()
    p = run_cli(cli, "change", t0, t1, "--index", "NDVI", "--bands", "R=3,N=4", "--out", out,
                "--predictor", "bogus", "--quiet")
    assert p.returncode != 0 and "param.Invalid" in p.stderr
    p = run_cli(cli, "change", t0, t1, "--index", "NDVI", "--bands", "R=3,N=4", "--out", out,
                "--level", "15", "--compress", "deflate", "--quiet")
    assert p.returncode == 1 and "arg.Invalid" in p.stderr and "DEFLATE level" in p.stderr
    assert os.listdir(out) == []


def test_every_raster_operation_writes_a_cog(scene, tmp_path, cli, l7):
    """index, band_math, change_detection (2), clip, cog of a mosaic,
    tiles_read, tile (GeoTIFF), segment (2): valid COGs, ZSTD by default,
    statistics on every band, overviews when larger than one block."""
    (t0, t1), _, _ = scene
    outs = []
    eoproc.run("index", src=t0, index="NDVI", bands="R=3,N=4", out=tmp_path / "i.tif")
    outs.append((tmp_path / "i.tif", 1))
    eoproc.run("band_math", src=t0, expr="b1 * 2", out=tmp_path / "b.tif")
    outs.append((tmp_path / "b.tif", 1))
    eoproc.run("change_detection", before=t0, after=t1, index="NDVI", bands="R=3,N=4",
               out=tmp_path / "c")
    outs += [(tmp_path / "c" / "change.tif", 1), (tmp_path / "c" / "class.tif", 1)]
    aoi = {"type": "Polygon", "coordinates": [[[600500, 4999500], [610500, 4999500],
                                               [610500, 4993500], [600500, 4993500],
                                               [600500, 4999500]]]}
    eoproc.run("clip", src=t0, aoi=aoi, crs="EPSG:32633", out=tmp_path / "k.tif")
    outs.append((tmp_path / "k.tif", 1))
    eoproc.run("cog", src=[str(t0), str(t1)], out=tmp_path / "m.tif")
    outs.append((tmp_path / "m.tif", 1))
    p = run_cli(cli, "tiles", l7, "--zoom", "12", "--out", tmp_path / "pyr", "--quiet")
    assert p.returncode == 0, p.stderr
    r = eoproc.run("tiles_read", src=tmp_path / "pyr", zoom=12, out=tmp_path / "t.tif",
                   bbox=[-34.92, -8.04, -34.82, -7.95])
    outs.append((tmp_path / "t.tif", 0))
    assert r["bytes"] == os.path.getsize(tmp_path / "t.tif")
    p = run_cli(cli, "tile", l7, "12", "1650", "2139", tmp_path / "z.tif", "--quiet")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["bytes"] == os.path.getsize(tmp_path / "z.tif") > 0
    outs.append((tmp_path / "z.tif", 0))
    # segment: the probability and the class COG, each written once
    rgb = np.zeros((3, 600, 600), np.uint8)
    rgb[:, 100:300, 150:400] = 200
    src = tmp_path / "seg_in.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), 600, 600, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((600000.0, 1.0, 0.0, 5000000.0, 0.0, -1.0))
    ds.WriteRaster(0, 0, 600, 600, rgb.tobytes())
    ds = None
    p = run_cli(cli, "segment", DEMO, src, tmp_path / "s.tif", "--tile", 256, "--overlap", 32,
                "--scale", "1/255", "--quiet")
    assert p.returncode == 0, p.stderr
    outs += [(tmp_path / "s.tif", 1), (tmp_path / "s_classes.tif", 1)]
    for path, min_ov in outs:
        ds = gdal.Open(str(path))
        big = max(ds.RasterXSize, ds.RasterYSize) > ds.GetRasterBand(1).GetBlockSize()[0]
        assert_cog(path, block=ds.GetRasterBand(1).GetBlockSize()[0],
                   min_overviews=min_ov if big else 0)


@pytest.fixture(scope="module")
def seg_scene(tmp_path_factory):
    """A 700 x 600 RGB scene with bright blocks (the demo model's buildings),
    larger than one block: overviews."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(60, 120, (3, 600, 700)).astype(np.uint8)
    for y, x in ((50, 60), (200, 400), (420, 120), (380, 520)):
        rgb[:, y:y + 90, x:x + 120] = 215
    path = tmp_path_factory.mktemp("seg") / "scene.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 700, 600, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((600000.0, 1.0, 0.0, 5000000.0, 0.0, -1.0))
    sr = osr.SpatialReference()
    sr.ImportFromEPSG(32633)
    ds.SetProjection(sr.ExportToWkt())
    ds.WriteRaster(0, 0, 700, 600, rgb.tobytes())
    ds = None
    return path


def test_segment_outputs_are_cogs_with_classes(seg_scene, tmp_path, cli):
    """segment: both outputs valid COGs with statistics equal to numpy's;
    the class COG has a colour table, class names (in gdalinfo) and nearest
    overviews equal to GDAL's; the classes are the thresholded
    probabilities."""
    out = tmp_path / "b.tif"
    p = run_cli(cli, "segment", DEMO, seg_scene, out, "--tile", 256, "--overlap", 32,
                "--scale", "1/255", "--quiet")
    assert p.returncode == 0, p.stderr
    prob = assert_cog(out).ReadAsArray()
    k = assert_cog(tmp_path / "b_classes.tif")
    cls = k.ReadAsArray()
    np.testing.assert_array_equal(cls, (prob >= np.float32(0.5)).astype(np.uint8))
    assert 0 < cls.mean() < 1  # both classes present
    assert_stats_equal_numpy(out, prob, np.nan)
    assert_stats_equal_numpy(tmp_path / "b_classes.tif", cls, 255)
    band = k.GetRasterBand(1)
    assert band.GetNoDataValue() == 255
    assert band.GetColorInterpretation() == gdal.GCI_PaletteIndex
    ct = band.GetColorTable()
    assert ct.GetColorEntry(0)[:3] != ct.GetColorEntry(1)[:3]
    assert ct.GetColorEntry(255)[3] == 0  # nodata: transparent
    md = band.GetMetadata()
    assert (md["CLASS_0"], md["CLASS_1"]) == ("background", "foreground")
    assert "CLASS_1=foreground" in gdal.Info(str(tmp_path / "b_classes.tif"))
    ovs = overviews(tmp_path / "b_classes.tif")
    assert len(ovs) == 1
    for x, y in zip(ovs, gdal_overviews(tmp_path / "b_classes.tif", tmp_path, "nearest")):
        np.testing.assert_array_equal(x, y)


def test_segment_cog_options(seg_scene, tmp_path):
    """Model.segment takes the COG options: DEFLATE, 256 px tiles, mode
    overviews (both outputs, equal to GDAL's mode), a float predictor on the
    probabilities only; the pixels do not depend on them."""
    m = eoproc.Model(DEMO, input_shape=(2, 3, 256, 256))
    m.segment(seg_scene, tmp_path / "d.tif", tile=256, overlap=32, scale=1 / 255)
    m.segment(seg_scene, tmp_path / "o.tif", tile=256, overlap=32, scale=1 / 255,
              compress="deflate", level=3, blocksize=256, resampling="mode", predictor="float")
    a = assert_cog(tmp_path / "o.tif", compress="DEFLATE", block=256)
    k = assert_cog(tmp_path / "o_classes.tif", compress="DEFLATE", block=256)
    assert a.GetMetadata("IMAGE_STRUCTURE")["PREDICTOR"] == "3"
    assert k.GetMetadata("IMAGE_STRUCTURE").get("PREDICTOR", "1") == "1"
    np.testing.assert_array_equal(a.ReadAsArray(), gdal.Open(str(tmp_path / "d.tif")).ReadAsArray())
    np.testing.assert_array_equal(k.ReadAsArray(),
                                  gdal.Open(str(tmp_path / "d_classes.tif")).ReadAsArray())
    for name in ("o.tif", "o_classes.tif"):
        ovs = overviews(tmp_path / name)
        assert len(ovs) == 2
        for x, y in zip(ovs, gdal_overviews(tmp_path / name, tmp_path, "mode")):
            np.testing.assert_array_equal(x, y)
    m.segment(seg_scene, tmp_path / "n.tif", tile=256, overlap=32, scale=1 / 255,
              overviews="none", stats=False)
    nds = gdal.Open(str(tmp_path / "n_classes.tif"))
    n = nds.GetRasterBand(1)
    assert n.GetOverviewCount() == 0 and "STATISTICS_MEAN" not in n.GetMetadata()
    with pytest.raises(TypeError, match="bogus"):
        m.segment(seg_scene, tmp_path / "x.tif", tile=256, bogus=1)
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no tmpfs at /dev/shm")
def test_full_resolution_in_place_or_copied(scene, tmp_path):
    """With overviews, the full resolution goes into the output in place
    where the file system inserts ranges (ext4, XFS: the header, IFDs and
    overviews are inserted before it) and is copied after them where it
    cannot (tmpfs): both valid COGs with the same pixels and overviews."""
    (t0, _), _, _ = scene
    a = tmp_path / "a.tif"
    b = pathlib.Path("/dev/shm") / ("eoproc-test-%d.tif" % os.getpid())
    try:
        for out in (a, b):
            eoproc.run("index", src=t0, index="NDVI", bands="R=3,N=4", out=out, blocksize=256)
        da, db = assert_cog(a, block=256), assert_cog(b, block=256)
        np.testing.assert_array_equal(da.ReadAsArray(), db.ReadAsArray())
        for x, y in zip(overviews(a), overviews(b)):
            np.testing.assert_array_equal(x, y)
        assert len(overviews(a)) == 3  # 1100 x 700 in 256 px tiles
    finally:
        b.unlink(missing_ok=True)
