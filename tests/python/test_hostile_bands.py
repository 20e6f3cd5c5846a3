"""Band mapping from descriptions when they are ambiguous (issue 16, point 6).

Two bands described as "red" (in any spelling the mapping accepts) must not
be silently resolved to the first: index and calc refuse with
index.BandAmbiguous naming both candidates, and an explicit mapping picks
one, the result then equals numpy's formula on that band."""

import numpy as np
import pytest
from osgeo import gdal, osr

import eoproc
from helpers import run_cli

gdal.UseExceptions()


def make(path, descs, colours=None):
    rng = np.random.default_rng(6)
    arr = rng.integers(1, 10000, (len(descs), 20, 30)).astype(np.uint16)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 30, 20, len(descs), gdal.GDT_UInt16)
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0))
    s = osr.SpatialReference()
    s.ImportFromEPSG(32633)
    ds.SetProjection(s.ExportToWkt())
    for i, d in enumerate(descs):
        b = ds.GetRasterBand(i + 1)
        b.SetDescription(d)
        if colours and colours[i] is not None:
            b.SetColorInterpretation(colours[i])
        b.WriteArray(arr[i])
    ds = None
    return str(path), arr.astype(np.float64)


def ndvi(nir, red):
    return ((nir - red) / (nir + red)).astype(np.float32)


def test_two_red_bands_ambiguous(tmp_path, cli):
    src, arr = make(tmp_path / "two_red.tif", ["red", "nir", "Red", "green"])
    for call in (lambda: eoproc.index(src, "NDVI"), lambda: eoproc.calc(src, "(N - R) / (N + R)")):
        with pytest.raises(eoproc.Error) as e:
            call()
        assert e.value.id == "index.BandAmbiguous"
        msg = str(e.value)
        assert "band 1 ('red')" in msg and "band 3 ('Red')" in msg and "band 2" not in msg
    p = run_cli(cli, "index", src, "ndvi", tmp_path / "o.tif")
    assert p.returncode != 0 and "index.BandAmbiguous" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not (tmp_path / "o.tif").exists()
    # an explicit choice resolves it; either band, as numpy computes it
    for red in (1, 3):
        got = eoproc.index(src, "NDVI", bands={"R": red})
        np.testing.assert_allclose(got, ndvi(arr[1], arr[red - 1]), rtol=1e-6)
    # an expression that does not use the ambiguous symbol is fine
    np.testing.assert_allclose(eoproc.calc(src, "N + G"), (arr[1] + arr[3]).astype(np.float32))


def test_description_and_colour_interpretation_collide(tmp_path):
    """A band described "red" and another whose colour interpretation is red."""
    src, arr = make(tmp_path / "ci.tif", ["red", "nir", ""],
                    colours=[None, None, gdal.GCI_RedBand])
    with pytest.raises(eoproc.Error) as e:
        eoproc.index(src, "NDVI")
    assert e.value.id == "index.BandAmbiguous" and "band 3 (Red colour)" in str(e.value)
    got = eoproc.index(src, "NDVI", sensor=None, bands="R=3")
    np.testing.assert_allclose(got, ndvi(arr[1], arr[2]), rtol=1e-6)


def test_single_red_band_still_mapped(tmp_path):
    src, arr = make(tmp_path / "one_red.tif", ["B04", "B08", "B03"])
    np.testing.assert_allclose(eoproc.index(src, "NDVI"), ndvi(arr[1], arr[0]), rtol=1e-6)
