"""Previews, checked against GDAL reads of the same size (average
resampling) and numpy's percentiles (method "lower")."""

import json

import numpy as np
import pytest
from osgeo import gdal

from helpers import assert_cli_error, run_cli

gdal.UseExceptions()


def out_size(w, h, size):
    s = min(1.0, size / max(w, h))
    return max(1, int(np.floor(w * s + 0.5))), max(1, int(np.floor(h * s + 0.5)))


def gdal_read(path, band, ow, oh):
    ds = gdal.Open(str(path))
    return ds.GetRasterBand(band).ReadAsArray(
        buf_xsize=ow, buf_ysize=oh, buf_type=gdal.GDT_Float64, resample_alg=gdal.GRIORA_Average
    )


def read_png(path):
    return gdal.Open(str(path)).ReadAsArray()


def test_preview_8bit_as_is(cli, l7, tmp_path):
    out = tmp_path / "p.png"
    proc = run_cli(cli, "preview", l7, out, "--bands", "3,2,1", "--size", "256")
    assert proc.returncode == 0, proc.stderr
    got = read_png(out)
    ow, oh = out_size(349, 352, 256)
    assert got.shape == (4, oh, ow)
    for i, b in enumerate([3, 2, 1]):
        want = np.clip(np.floor(gdal_read(l7, b, ow, oh) + 0.5), 0, 255)
        assert np.array_equal(got[i], want.astype(np.uint8))
    assert (got[3] == 255).all()


@pytest.fixture
def u16(l7, tmp_path):
    src = gdal.Open(str(l7))
    a = src.GetRasterBand(4).ReadAsArray().astype(np.uint16) * 37 + 100
    a[:40, :60] = 0  # nodata corner
    path = tmp_path / "u16.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), a.shape[1], a.shape[0], 1, gdal.GDT_UInt16)
    ds.SetGeoTransform(src.GetGeoTransform())
    ds.SetProjection(src.GetProjection())
    ds.GetRasterBand(1).WriteArray(a)
    ds.GetRasterBand(1).SetNoDataValue(0)
    ds = None
    return path


def expected_stretch(v, valid, lo, hi):
    y = np.clip(np.floor((v - lo) * (255.0 / (hi - lo)) + 0.5), 0, 255)
    return np.where(valid, y, 0).astype(np.uint8)


def test_preview_16bit_percentile_stretch(cli, u16, tmp_path):
    out = tmp_path / "p.png"
    proc = run_cli(cli, "preview", u16, out, "--size", "128")
    assert proc.returncode == 0, proc.stderr
    got = read_png(out)
    ow, oh = out_size(349, 352, 128)
    v = gdal_read(u16, 1, ow, oh)
    valid = v != 0
    lo, hi = np.percentile(v[valid], [2, 98], method="lower")
    assert got.shape == (2, oh, ow)
    assert np.array_equal(got[0], expected_stretch(v, valid, lo, hi))
    assert np.array_equal(got[1], np.where(valid, 255, 0))
    # other percentiles
    proc = run_cli(cli, "preview", u16, out, "--size", "128", "--low", "10", "--high", "90")
    assert proc.returncode == 0, proc.stderr
    lo, hi = np.percentile(v[valid], [10, 90], method="lower")
    assert np.array_equal(read_png(out)[0], expected_stretch(v, valid, lo, hi))


def test_preview_uses_embedded_statistics(cli, u16, tmp_path):
    ds = gdal.Open(str(u16), gdal.GA_Update)
    b = ds.GetRasterBand(1)
    b.SetMetadata({"STATISTICS_MINIMUM": "500", "STATISTICS_MAXIMUM": "6000",
                   "STATISTICS_MEAN": "3000", "STATISTICS_STDDEV": "100"})
    ds = None
    out = tmp_path / "p.png"
    assert run_cli(cli, "preview", u16, out, "--size", "100").returncode == 0
    ow, oh = out_size(349, 352, 100)
    v = gdal_read(u16, 1, ow, oh)
    assert np.array_equal(read_png(out)[0], expected_stretch(v, v != 0, 500, 6000))
    # and without them
    assert run_cli(cli, "preview", u16, out, "--size", "100", "--use-stats=false").returncode == 0
    lo, hi = np.percentile(v[v != 0], [2, 98], method="lower")
    assert np.array_equal(read_png(out)[0], expected_stretch(v, v != 0, lo, hi))


def test_preview_bad_input(cli, l7, tmp_path):
    out = tmp_path / "p.png"
    assert_cli_error(run_cli(cli, "preview", l7, out, "--bands", "1,2"), "arg.Invalid")
    assert_cli_error(run_cli(cli, "preview", l7, out, "--bands", "9"), "arg.Invalid")
    assert_cli_error(run_cli(cli, "preview", l7, tmp_path / "p.tif"), "param.Invalid")
    assert_cli_error(run_cli(cli, "preview", l7, out, "--low", "50", "--high", "20"), "arg.Invalid")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
