"""Messages that name the problem (issue 16, point 11).

An unknown EPSG code is said to be one, naming the code, instead of
PROJ's "Unknown error (code 4096)". The reference for "unknown" is PROJ
itself through GDAL (osr refuses the same codes)."""

import pytest
from osgeo import osr

from helpers import assert_cli_error, run_cli

osr.UseExceptions()

AOI = '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'


@pytest.mark.parametrize("code", ["EPSG:999999", "epsg:4", "ESRI:1"])
def test_unknown_crs_code_named(cli, code):
    srs = osr.SpatialReference()
    with pytest.raises(RuntimeError):  # PROJ has no such code
        srs.SetFromUserInput(code)
    p = run_cli(cli, "area", "--crs", code, AOI)
    msg = assert_cli_error(p, "crs.Invalid", names=code)
    assert "unknown CRS code" in msg
    assert "code 4096" not in msg and "Unknown error" not in msg
    auth, num = code.split(":")
    assert ("%s code %s" % (auth, num)) in msg


def test_known_code_still_works(cli):
    p = run_cli(cli, "area", "--crs", "EPSG:4326", AOI)
    assert p.returncode == 0, p.stderr


def test_bad_definition_not_a_generic_code(cli):
    p = run_cli(cli, "area", "--crs", "+proj=foo", AOI)
    msg = assert_cli_error(p, "crs.Invalid", names="+proj=foo")
    assert "code 4096" not in msg


def test_onnx_element_type_named(tmp_path):
    import pathlib

    # the fixture's graph input 'x' declared uint8 (ONNX element type 2)
    # instead of float: the message says uint8, not "element type 2"
    src = pathlib.Path(__file__).resolve().parent.parent / "infer" / "fixtures" / "unet_plain_op17.onnx"
    b = bytearray(src.read_bytes())
    at = b.find(bytes.fromhex("0a017812"))  # name "x", then its TypeProto
    assert at > 0
    # TypeProto (12 len) > tensor_type (0a len) > elem_type (08 01)
    k = b.find(bytes.fromhex("0801"), at, at + 12)
    assert k > 0
    b[k + 1] = 2
    bad = tmp_path / "uint8_input.onnx"
    bad.write_bytes(bytes(b))
    import eoproc

    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(str(bad))
    assert e.value.id == "model.UnsupportedOp"
    assert "uint8" in str(e.value) and "element type 2" not in str(e.value)


def test_no_transformation_names_both_crs(cli, tmp_path):
    # a raster in a local CRS and an AOI in EPSG:4326: no PROJ operation
    # links them (GDAL's osr.CoordinateTransformation refuses the pair too)
    src = tmp_path / "local.tif"
    wkt = ('LOCAL_CS["my plant grid",UNIT["metre",1],AXIS["Easting",EAST],'
           'AXIS["Northing",NORTH]]')
    from osgeo import gdal

    ds = gdal.GetDriverByName("GTiff").Create(str(src), 8, 8, 1)
    ds.SetGeoTransform([0, 1, 0, 8, 0, -1])
    ds.SetProjection(wkt)
    ds = None
    a = osr.SpatialReference()
    a.ImportFromEPSG(4326)
    b = osr.SpatialReference()
    b.SetFromUserInput(wkt)
    with pytest.raises(Exception):
        osr.CoordinateTransformation(a, b)
    p = run_cli(cli, "--quiet", "clip", src, AOI, tmp_path / "o.tif")
    msg = assert_cli_error(p, "crs.Transform", names=str(src))  # and the raster
    assert "'WGS 84' (EPSG:4326)" in msg and "'my plant grid'" in msg
    assert "unknown CRS" not in msg


@pytest.mark.parametrize("cmd", [["clip", "{src}", AOI, "{out}"], ["zonal", "{src}", AOI],
                                 ["change", "{src}", "{src}", "--expr", "b1", "--aoi", AOI,
                                  "--out", "{out}"]])
def test_png_named_tif_says_what_it_is(cli, tmp_path, cmd):
    """A PNG saved as .tif has no geotransform: the message says it is a PNG
    (GDAL's own driver name for the file is the reference), not only what
    it lacks."""
    import numpy as np
    from osgeo import gdal

    src = tmp_path / "scene.tif"
    mem = gdal.GetDriverByName("MEM").Create("", 8, 8, 3, gdal.GDT_Byte)
    mem.GetRasterBand(1).WriteArray(np.ones((8, 8), np.uint8))
    gdal.GetDriverByName("PNG").CreateCopy(str(src), mem)
    assert gdal.Open(str(src)).GetDriver().ShortName == "PNG"
    out = tmp_path / "o.tif"
    args = [a.replace("{src}", str(src)).replace("{out}", str(out)) for a in cmd]
    msg = assert_cli_error(run_cli(cli, *args), "source.Invalid", names=str(src))
    assert "a PNG file, though named .tif" in msg and "geotransform" in msg
    assert not out.exists()
