"""A corpus of hostile inputs with their expected outcomes (issue 16).

Each case is generated here (no binary fixtures): a bad AOI over a good
raster, a bad raster under a good AOI, or a raster eoproc must refuse for
its type. Every one must give exactly one `eoproc: error: ... [ID]` line
with the expected id, exit status 1 (a crash is a signal, a negative
status), nothing on stdout, and leave no file in the output folder
(outputs go through a temporary name). Run by pytest, so in CI under
ASan and UBSan: a leak or undefined behaviour on any of these paths fails
there. New hostile inputs go in AOIS / RASTERS with the id they must get."""

import json
import os
import stat
import pathlib

import numpy as np
import pytest
from osgeo import gdal, osr

from helpers import assert_cli_error, make_bad_rasters, run_cli

gdal.UseExceptions()

GOOD_AOI = {"type": "Polygon",
            "coordinates": [[[-34.9, -8.0], [-34.8, -8.0], [-34.8, -7.9], [-34.9, -8.0]]]}

# (name, GeoJSON text, expected id) over L7_ETMs.tif (EPSG:31985, Olinda)
AOIS = [
    ("empty object", "{}", "geometry.Invalid"),
    ("array", "[]", "geometry.Invalid"),
    ("no rings", '{"type":"Polygon","coordinates":[]}', "geometry.Invalid"),
    ("three positions", '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}',
     "geometry.Invalid"),
    ("unclosed ring", '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0.5]]]}',
     "geometry.Invalid"),
    ("string coordinate", '{"type":"Polygon","coordinates":[[[0,0],[1,"a"],[1,1],[0,0]]]}',
     "geometry.Invalid"),
    ("bow tie", '{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}',
     "geometry.Invalid"),
    ("point", '{"type":"Point","coordinates":[0,0]}', "geometry.Invalid"),
    ("infinite coordinate", '{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,0]]]}',
     "geometry.Invalid"),
    ("truncated JSON", '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]',
     "geometry.Invalid"),
    ("longitude 200", '{"type":"Polygon","coordinates":[[[0,0],[200,0],[200,1],[0,0]]]}',
     "geometry.Invalid"),
    ("empty collection", '{"type":"FeatureCollection","features":[]}', "geometry.Invalid"),
    ("disjoint", '{"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,10]]]}',
     "source.NoDataInAOI"),
    ("over the vertex limit",
     json.dumps({"type": "Polygon",
                 "coordinates": [[[-34.9 + 1e-6 * i, -8.0] for i in range(50001)]
                                 + [[-34.9, -7.9], [-34.9, -8.0]]]}),
     "aoi.TooLarge"),
]


@pytest.mark.parametrize("name,aoi,want", AOIS, ids=[a[0] for a in AOIS])
def test_hostile_aoi(cli, tmp_path, l7, name, aoi, want):
    outdir = tmp_path / "out"
    outdir.mkdir()
    path = tmp_path / "aoi.json"  # a file: the text form is tested elsewhere
    path.write_text(aoi)
    p = run_cli(cli, "--quiet", "clip", l7, path, outdir / "o.tif")
    assert_cli_error(p, want)
    assert list(outdir.iterdir()) == []


def complex_raster(path):
    mem = gdal.GetDriverByName("MEM").Create("", 8, 8, 2, gdal.GDT_CFloat32)
    mem.SetGeoTransform([500000, 10, 0, 4000080, 0, -10])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    mem.SetProjection(srs.ExportToWkt())
    for b in (1, 2):
        mem.GetRasterBand(b).WriteArray(np.ones((8, 8), np.complex64) * (1 + 2j))
    gdal.GetDriverByName("GTiff").CreateCopy(str(path), mem)


def test_hostile_rasters(cli, tmp_path, l7):
    bad = make_bad_rasters(tmp_path, l7)
    cases = [(bad["empty"], "source.Invalid"), (bad["html"], "source.Invalid"),
             (bad["truncated"], "source.Invalid"), (bad["truncated_pixels"], "io.Read"),
             (tmp_path / "missing.tif", "io.NotFound")]
    for src, want in cases:
        outdir = tmp_path / ("out_" + str(len(list(tmp_path.iterdir()))))
        outdir.mkdir()
        p = run_cli(cli, "--quiet", "clip", src, json.dumps(GOOD_AOI), outdir / "o.tif")
        assert_cli_error(p, want, names=str(src))
        assert list(outdir.iterdir()) == [], src
    # band math on a complex raster: refused, not read as its real part
    cplx = tmp_path / "complex.tif"
    complex_raster(cplx)
    for args in (("calc", cplx, "b1 + b2"), ("index", "--bands", "red=1,nir=2", cplx, "ndvi")):
        outdir = tmp_path / ("out_" + args[0])
        outdir.mkdir()
        p = run_cli(cli, "--quiet", *args, outdir / "o.tif")
        assert_cli_error(p, "unsupported", names="CFloat32")
        assert list(outdir.iterdir()) == []


def test_duplicated_band_names(cli, tmp_path):
    """Two bands described as "red": the index names the ambiguity."""
    src = tmp_path / "dup.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), 8, 8, 3, gdal.GDT_UInt16)
    ds.SetGeoTransform([500000, 10, 0, 4000080, 0, -10])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    for b, name in zip((1, 2, 3), ("red", "red", "nir")):
        ds.GetRasterBand(b).SetDescription(name)
        ds.GetRasterBand(b).WriteArray(np.full((8, 8), 100 * b, np.uint16))
    ds = None
    outdir = tmp_path / "out"
    outdir.mkdir()
    msg = assert_cli_error(run_cli(cli, "--quiet", "index", src, "NDVI", outdir / "o.tif"),
                           "index.BandAmbiguous")
    assert "red" in msg
    assert list(outdir.iterdir()) == []


def _onnx_headers(folder):
    """Hostile ONNX files: empty, text, a truncated real model, a field
    length far past the end, and nested length prefixes that lie."""
    real = (pathlib.Path(__file__).resolve().parents[2] / "models" / "buildings.onnx").read_bytes()
    cases = {
        "empty.onnx": b"",
        "text.onnx": b"this is not a model\n",
        "truncated.onnx": real[: len(real) // 3],
        # field 7 (graph), wire type 2, a length of 2^62: nothing like that follows
        "huge_length.onnx": b"\x08\x07\x3a\xff\xff\xff\xff\xff\xff\xff\xff\x3f" + b"\x00" * 16,
        # graph -> node -> a string whose length runs past its node's end
        "lying_nested.onnx": b"\x08\x07\x3a\x06\x0a\x04\x0a\x7f\x41\x42",
        "varint_overflow.onnx": b"\x08" + b"\xff" * 11,
    }
    out = {}
    for name, data in cases.items():
        p = folder / name
        p.write_bytes(data)
        out[name] = p
    return out


def test_hostile_onnx_headers(cli, tmp_path):
    for name, path in _onnx_headers(tmp_path).items():
        p = run_cli(cli, "--quiet", "model-info", path)
        assert_cli_error(p, "model.Invalid", names=str(path))


DTYPE_EXTREMES = [
    ("Byte", gdal.GDT_Byte, np.uint8, 255), ("Byte0", gdal.GDT_Byte, np.uint8, 0),
    ("UInt16", gdal.GDT_UInt16, np.uint16, 65535),
    ("Int16", gdal.GDT_Int16, np.int16, -32768), ("UInt32", gdal.GDT_UInt32, np.uint32, 4294967295),
    ("Int32", gdal.GDT_Int32, np.int32, -2147483648),
    ("Float32", gdal.GDT_Float32, np.float32, float(np.finfo(np.float32).min)),
    ("Float32nan", gdal.GDT_Float32, np.float32, float("nan")),
    ("Float64", gdal.GDT_Float64, np.float64, float(np.finfo(np.float64).max)),
]


@pytest.mark.parametrize("name, gdt, npt, nodata", DTYPE_EXTREMES, ids=[c[0] for c in DTYPE_EXTREMES])
def test_every_type_with_extreme_nodata(cli, tmp_path, name, gdt, npt, nodata):
    """Each data type with its most extreme nodata clips to the same type and
    nodata, and the inside pixels equal GDAL's read of the source (nodata
    pixels stay nodata)."""
    src = tmp_path / "src.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), 16, 16, 1, gdt)
    ds.SetGeoTransform([500000, 10, 0, 4000160, 0, -10])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    a = (np.arange(256).reshape(16, 16) % 100 + 1).astype(npt)
    a[::3, ::5] = nodata
    ds.GetRasterBand(1).WriteArray(a)
    ds.GetRasterBand(1).SetNoDataValue(nodata)
    ds = None
    aoi = {"type": "Polygon", "coordinates": [[[500020, 4000020], [500140, 4000020],
                                               [500140, 4000140], [500020, 4000140],
                                               [500020, 4000020]]]}
    out = tmp_path / "o.tif"
    p = run_cli(cli, "--quiet", "clip", src, json.dumps(aoi), out, "--crs", "EPSG:32633")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    o = gdal.Open(str(out))
    b = o.GetRasterBand(1)
    assert b.DataType == gdt
    got_nd = b.GetNoDataValue()
    if np.isnan(nodata):
        assert np.isnan(got_nd)
    else:
        assert got_nd == nodata
    gt = o.GetGeoTransform()
    x0, y0 = int(round((gt[0] - 500000) / 10)), int(round((4000160 - gt[3]) / 10))
    ref = gdal.Open(str(src)).ReadAsArray(x0, y0, o.RasterXSize, o.RasterYSize)
    np.testing.assert_array_equal(b.ReadAsArray(), ref)


def _sparse_tiff(path, size, bands, gdt, **co):
    """A large TIFF with no pixel written (SPARSE_OK): small on disk, its
    block layout as the creation options say."""
    opts = ["COMPRESS=DEFLATE", "SPARSE_OK=TRUE"] + ["%s=%s" % kv for kv in co.items()]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, bands, gdt, opts)
    ds.SetGeoTransform([500000, 1, 0, 4000000, 0, -1])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds = None
    ds = gdal.Open(str(path))
    block = ds.GetRasterBand(1).GetBlockSize()
    ds = None
    return block


def test_huge_blocks_refused_before_any_read(cli, tmp_path):
    """A file stored as one huge block (a single compressed strip) makes GDAL
    allocate the whole block for any window read (a fuzzed 65288 x 65288
    UInt64 strip asked for 34 GB). Blocks over 2 GiB are refused at open,
    naming the block size GDAL reports; the same raster tiled is read."""
    one_strip = tmp_path / "strip.tif"  # 40000 x 40000 Float64 in one block: 11.9 GiB
    bw, bh = _sparse_tiff(one_strip, 40000, 1, gdal.GDT_Float64, TILED="NO", BLOCKYSIZE=40000)
    assert (bw, bh) == (40000, 40000)
    # pixel interleaved: each band's share is 0.7 GiB, the block holds 2.2 GiB
    shared = tmp_path / "shared.tif"
    sw, sh = _sparse_tiff(shared, 20000, 3, gdal.GDT_UInt16, TILED="NO", BLOCKYSIZE=20000,
                          INTERLEAVE="PIXEL")
    assert 20000 * 20000 * 2 < 2 << 30 < 3 * 20000 * 20000 * 2
    aoi = json.dumps({"type": "Polygon", "coordinates": [[[500100, 3999900], [500200, 3999900],
                                                         [500200, 3999800], [500100, 3999800],
                                                         [500100, 3999900]]]})
    for src, (w, h), extra in ((one_strip, (bw, bh), "float64"),
                               (shared, (sw, sh), "of every band")):
        outdir = tmp_path / ("out_" + src.stem)
        outdir.mkdir()
        p = run_cli(cli, "--quiet", "clip", "--crs", "EPSG:32633", src, aoi, outdir / "o.tif")
        msg = assert_cli_error(p, "source.Invalid", names=str(src))
        assert "%d x %d" % (w, h) in msg and extra in msg, msg
        assert list(outdir.iterdir()) == []
        assert_cli_error(run_cli(cli, "--quiet", "info", src), "source.Invalid")
    tiled = tmp_path / "tiled.tif"  # the same raster in 256 x 256 tiles: read and clipped
    assert _sparse_tiff(tiled, 40000, 1, gdal.GDT_Float64, TILED="YES") == [256, 256]
    p = run_cli(cli, "--quiet", "clip", "--crs", "EPSG:32633", tiled, aoi, tmp_path / "t.tif")
    assert p.returncode == 0, p.stderr
    out = gdal.Open(str(tmp_path / "t.tif"))
    assert (out.RasterXSize, out.RasterYSize) == (100, 100)


def test_outputs_never_replace_special_files(cli, tmp_path, l7):
    """Outputs go to a temporary name renamed into place; renamed over a FIFO
    or a device (as root, /dev/null: bench/simplify_vs_shapely.py wrote there
    and left a regular file in its place) it would replace it. Each writer
    refuses a path that exists and is not a regular file, and leaves it be."""
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    for args in (("polygonize", l7, fifo), ("cog", l7, fifo),
                 ("clip", l7, json.dumps(GOOD_AOI), fifo),
                 ("calc", l7, "b1 + b2", fifo)):
        msg = assert_cli_error(run_cli(cli, "--quiet", *args), "io.Write", names=str(fifo))
        assert "not a regular file (a FIFO)" in msg, msg
        assert stat.S_ISFIFO(os.stat(fifo).st_mode), args
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fifo"], args
