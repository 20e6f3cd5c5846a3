"""The COG writer against independent references: GDAL's COG validator,
GDAL reading the pixels back, GDAL's own COG driver for the overviews,
numpy for the statistics, gdalinfo for the georeferencing."""

import os
import signal
import subprocess

import numpy as np
import pytest
from osgeo import gdal, osr
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate

import eoproc
from helpers import assert_cli_error, run_cli

gdal.UseExceptions()

GDT = {
    "uint8": gdal.GDT_Byte,
    "int8": gdal.GDT_Byte,
    "uint16": gdal.GDT_UInt16,
    "int16": gdal.GDT_Int16,
    "uint32": gdal.GDT_UInt32,
    "int32": gdal.GDT_Int32,
    "float32": gdal.GDT_Float32,
    "float64": gdal.GDT_Float64,
}


def assert_valid_cog(path):
    errors, warnings = validate(str(path), full_check=True)[:2]
    assert errors == [] and warnings == [], (errors, warnings)


def random_array(dtype, bands, h, w, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = rng.normal(100.0, 30.0, (bands, h, w)).astype(dt)
    else:
        info = np.iinfo(dt)
        lo, hi = max(info.min, -30000), min(info.max, 60000)
        # smooth-ish data so that compression has something to do
        base = rng.integers(lo, hi, (bands, h // 4 + 1, w // 4 + 1), dtype=np.int64)
        a = np.repeat(np.repeat(base, 4, axis=1), 4, axis=2)[:, :h, :w]
        a = (a + rng.integers(0, 3, a.shape)).clip(info.min, info.max).astype(dt)
    return a


def write_gtiff(path, arr, gt=(500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0), epsg=32633,
                nodata=None):
    bands, h, w = arr.shape
    name = arr.dtype.name
    opts = ["PIXELTYPE=SIGNEDBYTE"] if name == "int8" else []
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, bands, GDT[name], opts)
    ds.SetGeoTransform(gt)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(arr[b].view(np.uint8) if name == "int8" else arr[b])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None


def read_all(path, level=None):
    ds = gdal.Open(str(path))
    out = []
    for b in range(ds.RasterCount):
        band = ds.GetRasterBand(b + 1)
        if level is not None:
            band = band.GetOverview(level)
        out.append(band.ReadAsArray())
    return np.stack(out)


def gdal_cog(src, dst, resampling, blocksize=512):
    gdal.Translate(
        str(dst),
        str(src),
        format="COG",
        creationOptions=[
            "BLOCKSIZE=%d" % blocksize,
            "COMPRESS=NONE",
            "RESAMPLING=%s" % resampling,
            "OVERVIEWS=IGNORE_EXISTING",
        ],
    )


def assert_overviews_match(ours, src, resampling, blocksize=512):
    ref = os.path.join(os.path.dirname(str(ours)), "ref-" + os.path.basename(str(ours)))
    gdal_cog(src, ref, resampling.upper(), blocksize)
    a, b = gdal.Open(str(ours)), gdal.Open(ref)
    n = a.GetRasterBand(1).GetOverviewCount()
    assert n == b.GetRasterBand(1).GetOverviewCount()
    for level in range(n):
        x, y = read_all(ours, level), read_all(ref, level)
        assert x.shape == y.shape
        if resampling in ("nearest", "mode"):
            np.testing.assert_array_equal(x, y)
        else:
            diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
            assert np.nanmax(diff) <= 1.0, (level, np.nanmax(diff))
    return n


def assert_stats(path, arr, nodata=None):
    ds = gdal.Open(str(path))
    for b in range(arr.shape[0]):
        md = ds.GetRasterBand(b + 1).GetMetadata()
        v = arr[b].astype(np.float64).ravel()
        valid = ~np.isnan(v)
        if nodata is not None and not np.isnan(nodata):
            valid &= v != nodata
        v = v[valid]
        assert float(md["STATISTICS_MINIMUM"]) == v.min()
        assert float(md["STATISTICS_MAXIMUM"]) == v.max()
        assert float(md["STATISTICS_MEAN"]) == pytest.approx(v.mean(), rel=1e-6, abs=1e-9)
        assert float(md["STATISTICS_STDDEV"]) == pytest.approx(v.std(), rel=1e-6, abs=1e-9)
        pct = 100.0 * valid.sum() / valid.size
        assert float(md["STATISTICS_VALID_PERCENT"]) == pytest.approx(pct, rel=1e-9)


# ---------------------------------------------------------------------------
def test_landsat_defaults(tmp_path, l7):
    out = tmp_path / "l7.tif"
    eoproc.cog(l7, out)
    assert_valid_cog(out)
    src = read_all(l7)
    np.testing.assert_array_equal(read_all(out), src)
    assert_stats(out, src)
    a, b = gdal.Open(str(out)), gdal.Open(str(l7))
    assert a.GetGeoTransform() == b.GetGeoTransform()
    sa, sb = a.GetSpatialRef(), b.GetSpatialRef()
    assert sa.GetAuthorityCode(None) == sb.GetAuthorityCode(None) == "31985"
    md = a.GetMetadata("IMAGE_STRUCTURE")
    assert md["COMPRESSION"] == "ZSTD" and md["LAYOUT"] == "COG"
    assert a.GetRasterBand(1).GetBlockSize() == [512, 512]


@pytest.mark.parametrize("dtype", list(GDT))
@pytest.mark.parametrize("bands", [1, 3, 4, 12])
def test_dtypes_bands(tmp_path, dtype, bands):
    h, w = (700, 1100) if bands <= 4 else (300, 530)
    arr = random_array(dtype, bands, h, w, seed=bands)
    src = tmp_path / "src.tif"
    write_gtiff(src, arr)
    out = tmp_path / "out.tif"
    compress = ["zstd", "deflate", "lzw", "none"][(bands + len(dtype)) % 4]
    # GDAL 3.6 averages signed bytes as unsigned: compare them with nearest
    resampling = "nearest" if dtype == "int8" else "average"
    eoproc.cog(src, out, compress=compress, blocksize=256, resampling=resampling)
    assert_valid_cog(out)
    got = read_all(out)
    if dtype == "int8":
        got = got.view(np.int8)
    np.testing.assert_array_equal(got, arr)
    assert_stats(out, arr)
    assert assert_overviews_match(out, src, resampling, 256) >= 1 or max(h, w) <= 256
    md = gdal.Open(str(out)).GetMetadata("IMAGE_STRUCTURE")
    want = {"zstd": "ZSTD", "deflate": "DEFLATE", "lzw": "LZW", "none": None}[compress]
    assert md.get("COMPRESSION") == want
    assert bands == 1 or md["INTERLEAVE"] == ("PIXEL" if bands <= 4 and dtype.endswith("int8") else "BAND")


@pytest.mark.parametrize("compress", ["zstd", "deflate", "lzw", "none"])
@pytest.mark.parametrize("predictor", ["none", "horizontal"])
def test_compressions_predictors(tmp_path, l7, compress, predictor):
    out = tmp_path / "out.tif"
    eoproc.cog(l7, out, compress=compress, predictor=predictor, blocksize=256)
    assert_valid_cog(out)
    np.testing.assert_array_equal(read_all(out), read_all(l7))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_predictor_nan_nodata(tmp_path, dtype):
    arr = random_array(dtype, 2, 600, 700)
    arr[:, 10:50, 20:90] = np.nan
    out = tmp_path / "f.tif"
    eoproc.cog(arr, out, predictor="float", nodata=float("nan"),
               geotransform=(0, 1, 0, 0, 0, -1), crs="EPSG:4326")
    assert_valid_cog(out)
    np.testing.assert_array_equal(read_all(out), arr)
    ds = gdal.Open(str(out))
    assert np.isnan(ds.GetRasterBand(1).GetNoDataValue())
    assert_stats(out, arr, nodata=float("nan"))
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "4326"


@pytest.mark.parametrize("size", [(1, 1), (1, 3000), (513, 3), (2049, 1025)])
@pytest.mark.parametrize("resampling", ["nearest", "average"])
def test_sizes_and_overviews(tmp_path, size, resampling):
    w, h = size
    arr = random_array("uint8", 1, h, w, seed=w + h)
    src = tmp_path / "src.tif"
    write_gtiff(src, arr)
    out = tmp_path / "out.tif"
    eoproc.cog(src, out, resampling=resampling)
    assert_valid_cog(out)
    np.testing.assert_array_equal(read_all(out), arr)
    assert_overviews_match(out, src, resampling)


@pytest.mark.parametrize("dtype", ["uint8", "int16"])
def test_mode_matches_gdal(tmp_path, dtype):
    rng = np.random.default_rng(5)
    h, w = 777, 1001
    base = rng.integers(0, 6, (1, h // 3 + 1, w // 3 + 1)).astype(dtype)
    arr = np.repeat(np.repeat(base, 3, 1), 3, 2)[:, :h, :w]
    arr = np.where(rng.random(arr.shape) < 0.3, rng.integers(0, 6, arr.shape), arr).astype(dtype)
    src = tmp_path / "src.tif"
    write_gtiff(src, arr)
    out = tmp_path / "out.tif"
    eoproc.cog(src, out, resampling="mode", blocksize=256)
    assert_valid_cog(out)
    assert assert_overviews_match(out, src, "mode", 256) == 2


def smooth_array(dtype, bands, h, w, seed=0):
    """Imagery-like data (a smooth field plus noise): convolution kernels
    with negative lobes stay inside the type's range except near edges."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for b in range(bands):
        f = 120 + 70 * np.sin(xx / (17.0 + 5 * b)) * np.cos(yy / 29.0)
        out.append(f + rng.normal(0, 12, (h, w)))
    a = np.stack(out)
    if np.dtype(dtype).kind != "f":
        a = np.rint(a).clip(0, 255)
    return a.astype(dtype)


@pytest.mark.parametrize("resampling", ["bilinear", "cubic", "lanczos"])
@pytest.mark.parametrize(
    "dtype,bands,h,w", [("uint8", 3, 1500, 1300), ("float32", 1, 1037, 2111), ("int16", 2, 777, 901)]
)
def test_convolution_overviews_match_gdal(tmp_path, resampling, dtype, bands, h, w):
    # GDAL's COG driver with the same RESAMPLING is the reference: every
    # level within one unit (its kernels, stretched by the reduction factor)
    arr = smooth_array(dtype, bands, h, w, seed=h)
    src = tmp_path / "src.tif"
    write_gtiff(src, arr)
    out = tmp_path / "out.tif"
    eoproc.cog(src, out, resampling=resampling, blocksize=256)
    assert_valid_cog(out)
    np.testing.assert_array_equal(read_all(out), arr)
    assert assert_overviews_match(out, src, resampling, 256) >= 2


@pytest.mark.parametrize("dtype,nodata", [("uint16", 0), ("int16", -9999), ("float32", -1.0)])
def test_bilinear_overviews_skip_nodata_like_gdal(tmp_path, dtype, nodata):
    arr = smooth_array(dtype, 1, 900, 1200, seed=3)
    arr[:, 100:300, 200:263] = nodata
    arr[:, 501:503, :] = nodata
    src = tmp_path / "src.tif"
    write_gtiff(src, arr, nodata=nodata)
    out = tmp_path / "out.tif"
    eoproc.cog(src, out, resampling="bilinear", blocksize=256)
    assert_valid_cog(out)
    assert assert_overviews_match(out, src, "bilinear", 256) == 3


def test_cli_cubic_overviews(tmp_path, cli, l7):
    out = tmp_path / "cubic.tif"
    p = run_cli(cli, "cog", l7, out, "--resampling", "cubic", "--blocksize", "256")
    assert p.returncode == 0, p.stderr
    assert_valid_cog(out)
    assert assert_overviews_match(out, l7, "cubic", 256) == 1


def write_masked(path, arr, external, seed):
    """A tiled GeoTIFF with a per-dataset mask band (internal, or a .msk
    side file); returns the mask."""
    bands, h, w = arr.shape
    rng = np.random.default_rng(seed)
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "NO" if external else "YES")
    try:
        ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, bands, GDT[arr.dtype.name],
                                                  ["TILED=YES"])
        ds.SetGeoTransform((500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0))
        for b in range(bands):
            ds.GetRasterBand(b + 1).WriteArray(arr[b])
        ds.CreateMaskBand(gdal.GMF_PER_DATASET)
        m = np.where(rng.random((h, w)) < 0.6, 255, 0).astype(np.uint8)
        m[:, : w // 3] = 255
        m[h // 2:, w // 2:] = 0
        ds.GetRasterBand(1).GetMaskBand().WriteArray(m)
        ds = None
    finally:
        gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", None)
    return m


@pytest.mark.parametrize(
    "dtype,bands,resampling,external,threads",
    [
        ("uint8", 3, "average", False, 2),
        ("uint8", 1, "nearest", True, 1),
        ("int16", 2, "average", True, 2),
        ("uint8", 3, "bilinear", False, 1),
    ],
)
def test_mask_band_carried_like_gdal(tmp_path, dtype, bands, resampling, external, threads):
    # GDAL's COG driver is the reference: the mask IFDs (1 bit, DEFLATE) after
    # each level's image, mask tiles right after the imagery's, overview masks
    # and masked overview averages as GDAL computes them
    h, w = 900, 1100
    arr = random_array(dtype, bands, h, w, seed=bands)
    src = tmp_path / "src.tif"
    m = write_masked(src, arr, external, seed=h)
    assert os.path.exists(str(src) + ".msk") == external
    out = tmp_path / "out.tif"
    eoproc.cog(src, out, blocksize=256, resampling=resampling, threads=threads)
    assert_valid_cog(out)
    ref = tmp_path / "ref.tif"
    gdal_cog(src, ref, resampling.upper(), 256)
    ours, theirs = gdal.Open(str(out)), gdal.Open(str(ref))
    assert ours.GetFileList() == [str(out)]  # the mask is inside
    b1, r1 = ours.GetRasterBand(1), theirs.GetRasterBand(1)
    assert b1.GetMaskFlags() == gdal.GMF_PER_DATASET
    np.testing.assert_array_equal(b1.GetMaskBand().ReadAsArray(), m)
    np.testing.assert_array_equal(read_all(out), arr)
    assert b1.GetOverviewCount() == r1.GetOverviewCount() == 3
    for level in range(3):
        mo = b1.GetMaskBand().GetOverview(level).ReadAsArray()
        mr = r1.GetMaskBand().GetOverview(level).ReadAsArray()
        if level == 0 or resampling == "nearest":
            np.testing.assert_array_equal(mo, mr)
        else:
            # deeper levels: GDAL's cascaded mask overviews drop pixels with
            # few valid sources (README); eoproc keeps any-valid
            assert np.mean(mo == mr) >= 0.99
            assert np.all(mo[mr > 0] > 0)
        x = read_all(out, level).astype(np.int64)
        y = read_all(ref, level).astype(np.int64)
        # compare where every source pixel under the overview pixel is valid
        # (at the first level: wherever GDAL's mask is valid)
        f = 2 ** (level + 1)
        oh, ow = mr.shape
        full = (m[: oh * f, : ow * f] > 0).reshape(oh, f, ow, f).all(axis=(1, 3))
        valid = np.broadcast_to(mr > 0 if level == 0 else full, x.shape)
        limit = 0 if resampling == "nearest" else 1
        assert np.abs(x - y)[valid].max() <= limit


def test_no_overviews(tmp_path, l7):
    out = tmp_path / "flat.tif"
    eoproc.cog(l7, out, overviews="none", blocksize=256)
    assert_valid_cog(out)
    assert gdal.Open(str(out)).GetRasterBand(1).GetOverviewCount() == 0
    np.testing.assert_array_equal(read_all(out), read_all(l7))


def test_nodata_average(tmp_path):
    arr = random_array("int16", 1, 1300, 1100)
    arr[0, ::3, ::5] = -9999
    arr[0, 100:400, 200:600] = -9999
    src = tmp_path / "src.tif"
    write_gtiff(src, arr, nodata=-9999)
    out = tmp_path / "out.tif"
    eoproc.cog(src, out)
    assert_valid_cog(out)
    assert gdal.Open(str(out)).GetRasterBand(1).GetNoDataValue() == -9999
    assert_stats(out, arr, nodata=-9999)
    assert_overviews_match(out, src, "average")


def test_rotated_geotransform(tmp_path, geomatrix):
    out = tmp_path / "rot.tif"
    eoproc.cog(geomatrix, out)
    assert_valid_cog(out)
    a, b = gdal.Open(str(out)), gdal.Open(str(geomatrix))
    assert a.GetGeoTransform() == pytest.approx(b.GetGeoTransform(), rel=1e-15)
    assert a.GetGeoTransform()[2] != 0
    np.testing.assert_array_equal(read_all(out), read_all(geomatrix))


def test_custom_crs(tmp_path):
    crs = "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +units=m +type=crs"
    arr = random_array("uint16", 1, 64, 64)
    out = tmp_path / "laea.tif"
    eoproc.cog(arr, out, geotransform=(4e6, 100, 0, 3e6, 0, -100), crs=crs)
    srs = osr.SpatialReference()
    srs.ImportFromProj4(crs)
    got = gdal.Open(str(out)).GetSpatialRef()
    assert got is not None and got.IsSame(srs, ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"])


def test_colour_table_nearest_and_descriptions(tmp_path, data_dir):
    lc = data_dir / "lc.tif"
    out = tmp_path / "lc.tif"
    eoproc.cog(lc, out, blocksize=256)
    assert_valid_cog(out)
    a, b = gdal.Open(str(out)), gdal.Open(str(lc))
    np.testing.assert_array_equal(read_all(out), read_all(lc))
    if b.GetRasterBand(1).GetColorTable() is not None:
        ct_a, ct_b = a.GetRasterBand(1).GetColorTable(), b.GetRasterBand(1).GetColorTable()
        for i in range(min(ct_b.GetCount(), 256)):
            assert ct_a.GetColorEntry(i)[:3] == ct_b.GetColorEntry(i)[:3]
        if a.GetRasterBand(1).GetOverviewCount():
            assert_overviews_match(out, lc, "nearest", 256)


def test_rgb_and_descriptions(tmp_path):
    arr = random_array("uint8", 3, 300, 400)
    src = tmp_path / "rgb.tif"
    write_gtiff(src, arr)
    ds = gdal.Open(str(src), gdal.GA_Update)
    for i, (ci, name) in enumerate([(gdal.GCI_RedBand, "red"), (gdal.GCI_GreenBand, "green"),
                                    (gdal.GCI_BlueBand, "blue & <more>")]):
        ds.GetRasterBand(i + 1).SetColorInterpretation(ci)
        ds.GetRasterBand(i + 1).SetDescription(name)
    ds = None
    out = tmp_path / "out.tif"
    eoproc.cog(src, out)
    a = gdal.Open(str(out))
    assert [a.GetRasterBand(i + 1).GetColorInterpretation() for i in range(3)] == [
        gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand]
    assert [a.GetRasterBand(i + 1).GetDescription() for i in range(3)] == [
        "red", "green", "blue & <more>"]
    assert a.GetMetadata("IMAGE_STRUCTURE")["INTERLEAVE"] == "PIXEL"


def test_same_bytes_whatever_the_threads(tmp_path):
    arr = random_array("uint16", 3, 1500, 1300)
    src = tmp_path / "src.tif"
    write_gtiff(src, arr)
    blobs = []
    for t in (1, 2, 5):
        out = tmp_path / ("t%d.tif" % t)
        eoproc.cog(src, out, threads=t, predictor="horizontal", blocksize=256)
        blobs.append(out.read_bytes())
    assert blobs[0] == blobs[1] == blobs[2]


def test_bigtiff_yes(tmp_path, l7):
    out = tmp_path / "big.tif"
    eoproc.cog(l7, out, bigtiff="yes")
    assert out.read_bytes()[:4] == b"II+\x00"
    assert_valid_cog(out)
    np.testing.assert_array_equal(read_all(out), read_all(l7))


def test_large_raster(tmp_path):
    """20,000 x 15,000: the largest size the acceptance names."""
    tile = random_array("uint8", 1, 1000, 1000, seed=7)
    src = tmp_path / "big.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), 20000, 15000, 1, gdal.GDT_Byte,
                                              ["TILED=YES"])
    ds.SetGeoTransform((0, 1, 0, 0, 0, -1))
    band = ds.GetRasterBand(1)
    for y in range(0, 15000, 1000):
        for x in range(0, 20000, 1000):
            band.WriteArray(tile[0] ^ np.uint8((x + y) // 1000), x, y)
    ds = None
    out = tmp_path / "big-cog.tif"
    eoproc.cog(src, out)
    assert_valid_cog(out)
    ds = gdal.Open(str(out))
    a = ds.GetRasterBand(1)
    assert [(a.GetOverview(i).XSize, a.GetOverview(i).YSize) for i in range(a.GetOverviewCount())] \
        == [(10000, 7500), (5000, 3750), (2500, 1875), (1250, 937), (625, 468), (312, 234)]
    for x, y in [(0, 0), (19000, 14000), (7000, 3000)]:
        np.testing.assert_array_equal(a.ReadAsArray(x, y, 1000, 1000),
                                      tile[0] ^ np.uint8((x + y) // 1000))
    md = a.GetMetadata()
    assert float(md["STATISTICS_MINIMUM"]) == 0 and float(md["STATISTICS_MAXIMUM"]) == 255


# ---------------------------------------------------------------------------
# CLI and failures
# ---------------------------------------------------------------------------
def test_cli(tmp_path, cli, l7):
    out = tmp_path / "cli.tif"
    p = run_cli(cli, "cog", l7, out, "--compress", "deflate", "--level", "9", "--blocksize",
                "256", "--overviews", "1", "--resampling", "nearest", "--nodata", "0",
                "--threads", "2")
    assert p.returncode == 0, p.stderr
    assert_valid_cog(out)
    ds = gdal.Open(str(out))
    assert ds.GetRasterBand(1).GetOverviewCount() == 1
    assert ds.GetRasterBand(1).GetNoDataValue() == 0
    assert ds.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"


@pytest.mark.parametrize(
    "args,ids",
    [
        (["--compress", "jpeg"], "param.Invalid"),
        (["--blocksize", "300"], "param.Invalid"),
        (["--nodata", "300"], "arg.Invalid"),
        (["--predictor", "float"], "arg.Invalid"),
        (["--resampling", "gauss"], "param.Invalid"),
        (["--overviews", "many"], "param.Invalid"),
        (["--compress", "deflate", "--level", "13"], "arg.Invalid"),
        (["--level", "23"], "param.Invalid"),
    ],
)
def test_cli_bad_options(tmp_path, cli, l7, args, ids):
    out = tmp_path / "bad.tif"
    assert_cli_error(run_cli(cli, "cog", l7, out, *args), ids)
    assert os.listdir(tmp_path) == []


def test_cli_missing_source_and_folder(tmp_path, cli, l7):
    assert_cli_error(run_cli(cli, "cog", tmp_path / "nope.tif", tmp_path / "o.tif"),
                     "io.NotFound")
    assert_cli_error(run_cli(cli, "cog", l7, tmp_path / "no" / "dir" / "o.tif"), "io.Write")
    assert os.listdir(tmp_path) == []


def test_full_disk(tmp_path, cli, l7):
    """A file-size limit (ulimit -f, SIGXFSZ ignored so that write fails with
    EFBIG) stands in for a full disk: io.Write and nothing left behind."""
    out = tmp_path / "full.tif"

    def limit():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    p = subprocess.run([cli, "cog", str(l7), str(out), "--compress", "none"],
                       capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert_cli_error(p, "io.Write")
    assert os.listdir(tmp_path) == []


def test_array_errors(tmp_path):
    with pytest.raises(eoproc.Error) as e:
        eoproc.cog(np.zeros((2, 2), np.uint8), tmp_path / "x.tif", nodata=-1)
    assert e.value.id == "arg.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.cog(np.zeros((0, 2), np.uint8), tmp_path / "x.tif")
    assert e.value.id == "arg.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.cog(np.zeros((2, 2), np.complex64), tmp_path / "x.tif")
    assert e.value.id == "arg.Invalid"
    assert os.listdir(tmp_path) == []


def test_cancel_leaves_nothing(tmp_path, l7):
    out = tmp_path / "c.tif"
    with pytest.raises(eoproc.Error) as e:
        eoproc.cog(l7, out, progress=lambda f, s: True)
    assert e.value.id == "cancelled"
    assert os.listdir(tmp_path) == []


def test_truncated_source_fails_with_io_read(tmp_path, cli):
    """A source whose tiles stop half way: the read error of a worker (reads
    run on the threads) comes back as io.Read, and nothing is left."""
    arr = random_array("uint8", 3, 1500, 1500)
    src = tmp_path / "src.tif"
    write_gtiff(src, arr)
    cut = tmp_path / "cut.tif"
    gdal_cog(src, cut, "NEAREST")
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    out = tmp_path / "out.tif"
    for threads in ("1", "2"):
        msg = assert_cli_error(run_cli(cli, "--threads", threads, "cog", cut, out), "io.Read")
        assert "cut.tif" in msg
    assert sorted(os.listdir(tmp_path)) == ["cut.tif", "src.tif"]
