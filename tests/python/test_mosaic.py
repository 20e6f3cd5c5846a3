"""Mosaics: the Landsat scene cut into four files (gdal_translate -srcwin)
and opened as one dataset must read back as the original, tile for tile;
files that differ are refused with the file and the difference named."""

import numpy as np
import pytest
from osgeo import gdal

import eoproc

gdal.UseExceptions()


@pytest.fixture
def quarters(l7, tmp_path):
    paths = []
    for i, (x, y, w, h) in enumerate([(0, 0, 200, 180), (200, 0, 149, 180), (0, 180, 200, 172),
                                      (200, 180, 149, 172)]):
        p = str(tmp_path / ("q%d.tif" % i))
        gdal.Translate(p, str(l7), srcWin=[x, y, w, h])
        paths.append(p)
    return paths


def test_mosaic_reads_as_the_original(l7, quarters, tmp_path):
    info = eoproc.run("info", path=quarters)
    assert (info["width"], info["height"], info["band_count"]) == (349, 352, 6)
    ref = gdal.Open(str(l7))
    assert info["geotransform"] == pytest.approx(list(ref.GetGeoTransform()))
    assert info["crs"]["epsg"] == 31985
    # a tile of the mosaic equals the tile of the original, as GeoTIFF values
    z, x, y = 13, 3302, 4278
    out_m, out_o = tmp_path / "m.tif", tmp_path / "o.tif"
    eoproc.run("tile", src=quarters, z=z, x=x, y=y, out=str(out_m))
    eoproc.run("tile", src=str(l7), z=z, x=x, y=y, out=str(out_o))
    assert np.array_equal(gdal.Open(str(out_m)).ReadAsArray(), gdal.Open(str(out_o)).ReadAsArray())
    # a preview of the mosaic
    eoproc.run("preview", src=quarters, out=str(tmp_path / "p.png"), size=64)
    assert gdal.Open(str(tmp_path / "p.png")).RasterXSize == 63


def test_mosaic_mismatches_are_named(l7, quarters, tmp_path):
    other_crs = str(tmp_path / "ll.tif")
    gdal.Warp(other_crs, quarters[1], dstSRS="EPSG:4326")
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("info", path=[quarters[0], other_crs])
    assert e.value.id == "source.Mismatch"
    assert "ll.tif" in e.value.message and "CRS" in e.value.message

    three = str(tmp_path / "three.tif")
    gdal.Translate(three, quarters[1], bandList=[1, 2, 3])
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("info", path=[quarters[0], three])
    assert e.value.id == "source.Mismatch" and "three.tif" in e.value.message
    assert "band" in e.value.message

    coarse = str(tmp_path / "coarse.tif")
    gdal.Translate(coarse, quarters[1], xRes=57, yRes=57)
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("info", path=[quarters[0], coarse])
    assert e.value.id == "source.Mismatch" and "resolution" in e.value.message

    with pytest.raises(eoproc.Error) as e:
        eoproc.run("info", path=[quarters[0], str(tmp_path / "missing.tif")])
    assert e.value.id == "io.NotFound"
