"""Tiles out of a raster, checked against gdalwarp (osgeo.gdal.Warp) on the
same source, tile bounds and options; the pyramid writer against single
tiles and the tile list; bad input."""

import json
import os

import numpy as np
import pytest
from osgeo import gdal

import eoproc
from helpers import assert_cli_error, run_cli

gdal.UseExceptions()


def gdalwarp_tile(src, z, x, y, resampling="bilinear", size=256, bands=(1, 2, 3)):
    b = eoproc.tile_bounds(z, x, y)["bounds_3857"]
    ds = gdal.Warp(
        "",
        str(src),
        format="MEM",
        dstSRS="EPSG:3857",
        outputBounds=b,
        width=size,
        height=size,
        resampleAlg=resampling,
        dstAlpha=True,
    )
    arr = ds.ReadAsArray()
    nb = ds.RasterCount
    return arr[[i - 1 for i in bands]], arr[nb - 1]


def erode(mask, n):
    m = mask.copy()
    for _ in range(n):
        m[1:, :] &= m[:-1, :]
        m[:-1, :] &= m[1:, :]
        m[:, 1:] &= m[:, :-1]
        m[:, :-1] &= m[:, 1:]
    return m


def compare(src, z, x, y, resampling="bilinear"):
    got, _ = eoproc.tile(src, z, x, y, resampling=resampling)
    want, walpha = gdalwarp_tile(src, z, x, y, resampling)
    alpha = got[-1]
    both = (alpha > 0) & (walpha > 0)
    # coverage agrees except along its edge
    assert np.count_nonzero((alpha > 0) != (walpha > 0)) <= 4 * 256, "coverage differs"
    inner = erode(both, 2)
    if not inner.any():
        return None
    diff = np.abs(got[:-1].astype(np.int32) - want.astype(np.int32))[:, inner]
    return diff.mean(), diff.max()


def scene_tiles(src, zooms):
    info = eoproc.info(src)
    lon0, lat0, lon1, lat1 = info["bbox_4326"]
    aoi = {
        "type": "Polygon",
        "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
    }
    out = []
    for z in zooms:
        t = eoproc.tiles_cover(aoi, z)
        out += [t[0], t[len(t) // 2], t[-1]]  # an edge, the middle, the other edge
    return out


@pytest.mark.parametrize("resampling", ["bilinear", "nearest", "cubic"])
def test_tiles_match_gdalwarp(l7, resampling):
    # L7_ETMs.tif has 4 internal overviews: zooms 10-12 read from them
    for z, x, y in scene_tiles(l7, [10, 11, 12, 13, 14, 15]):
        res = compare(l7, z, x, y, resampling)
        if res is None:
            continue
        mean, worst = res
        assert mean <= 0.5, "tile %d/%d/%d: mean |diff| %.3f" % (z, x, y, mean)
        assert worst <= 2, "tile %d/%d/%d: max |diff| %d" % (z, x, y, worst)


def test_tiles_from_geographic_and_nodata(l7, tmp_path):
    # the scene warped to EPSG:4326 without overviews, with nodata 0 at its edges
    src = str(tmp_path / "ll.tif")
    gdal.Warp(src, str(l7), dstSRS="EPSG:4326", dstNodata=0, resampleAlg="near")
    for z, x, y in scene_tiles(src, [11, 13, 15]):
        res = compare(src, z, x, y)
        if res is None:
            continue
        assert res[0] <= 0.5 and res[1] <= 2, "tile %d/%d/%d: %r" % (z, x, y, res)
    # a tile outside the raster is empty: alpha 0 everywhere
    arr, _ = eoproc.tile(src, 13, 0, 0)
    assert not arr[-1].any()


def test_pyramid_equals_single_tiles(cli, l7, tmp_path):
    out = tmp_path / "pyr"
    proc = run_cli(cli, "tiles", l7, "--zoom", "11-13", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    files = sorted(
        os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs
    )
    assert len(files) == res["tiles_written"] > 10
    assert not [f for f in files if ".tmp-" in f]
    info = eoproc.info(l7)
    lon0, lat0, lon1, lat1 = info["bbox_4326"]
    # every written tile is a tile the footprint covers, and decodes to eoproc.tile's pixels
    for f in files[:: max(1, len(files) // 12)]:
        z, x, name = f.split(os.sep)
        y = int(name.split(".")[0])
        png = gdal.Open(str(out / f)).ReadAsArray()
        want, _ = eoproc.tile(l7, int(z), int(x), y)
        assert png.shape == want.shape
        assert np.array_equal(png, want), f
    # TMS order flips the rows
    out2 = tmp_path / "tms"
    proc = run_cli(cli, "tiles", l7, "--zoom", "12", "--out", out2, "--scheme", "tms", "-q")
    assert proc.returncode == 0, proc.stderr
    xyz = {f for f in files if f.startswith("12" + os.sep)}
    tms = set()
    for d, _, fs in os.walk(out2):
        for f in fs:
            z, x = os.path.relpath(d, out2).split(os.sep)
            tms.add(os.path.join(z, x, "%d.png" % ((1 << 12) - 1 - int(f.split(".")[0]))))
    assert tms == xyz


def test_tile_cli_formats(cli, l7, tmp_path):
    z, x, y = scene_tiles(l7, [13])[1]
    for ext, magic in [("png", b"\x89PNG"), ("jpg", b"\xff\xd8\xff"), ("webp", b"RIFF")]:
        out = tmp_path / ("t." + ext)
        proc = run_cli(cli, "tile", l7, z, x, y, out)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes()[:4].startswith(magic)
    # a GeoTIFF of the raw values carries the tile's georeferencing
    out = tmp_path / "t.tif"
    assert run_cli(cli, "tile", l7, z, x, y, out, "--bands", "4,3,2").returncode == 0
    ds = gdal.Open(str(out))
    b = eoproc.tile_bounds(z, x, y)["bounds_3857"]
    gt = ds.GetGeoTransform()
    assert gt[0] == pytest.approx(b[0]) and gt[3] == pytest.approx(b[3])
    assert ds.RasterCount == 4
    want, _ = eoproc.tile(l7, z, x, y, bands=[4, 3, 2])
    assert np.array_equal(ds.ReadAsArray(), want)


def test_tile_bad_input(cli, l7, tmp_path):
    assert_cli_error(run_cli(cli, "tile", l7, 13, 99999, 1, tmp_path / "a.png"), "arg.Invalid")
    assert not os.path.exists(tmp_path / "a.png")
    assert_cli_error(run_cli(cli, "tile", l7, 13, 1, 1, tmp_path / "a.bmp"), "param.Invalid")
    assert_cli_error(
        run_cli(cli, "tile", l7, 13, 1, 1, tmp_path / "a.png", "--bands", "7"), "arg.Invalid"
    )
    # a 6-band selection cannot be a PNG; nothing is left behind
    assert_cli_error(
        run_cli(cli, "tile", tmp_path / "missing.tif", 1, 0, 0, tmp_path / "b.png"), "io.NotFound"
    )
    assert sorted(os.listdir(tmp_path)) == []
    # a raster without georeferencing
    plain = tmp_path / "plain.tif"
    gdal.GetDriverByName("GTiff").Create(str(plain), 10, 10, 1)
    assert_cli_error(run_cli(cli, "tile", plain, 1, 0, 0, tmp_path / "c.png"), "source.Invalid")
    assert not os.path.exists(tmp_path / "c.png")


def test_tiles_from_an_open_dataset_match_gdalwarp(l7):
    # one Dataset kept open across zooms (its renderer, overview handles and
    # transformations reused, tiles in any order): each tile within the same
    # bounds of gdalwarp's as a tile opened from the path, and equal to it
    tiles = scene_tiles(l7, [14, 10, 13, 11, 15, 12])
    with eoproc.open(l7) as ds:
        for z, x, y in tiles:
            got, _ = eoproc.tile(ds, z, x, y)
            path_tile, _ = eoproc.tile(l7, z, x, y)
            np.testing.assert_array_equal(got, path_tile)
            want, walpha = gdalwarp_tile(l7, z, x, y)
            inner = erode((got[-1] > 0) & (walpha > 0), 2)
            if inner.any():
                diff = np.abs(got[:-1].astype(np.int32) - want.astype(np.int32))[:, inner]
                assert diff.mean() <= 0.5 and diff.max() <= 2, (z, x, y)
        # Dataset.tile is the same call
        z, x, y = tiles[0]
        np.testing.assert_array_equal(ds.tile(z, x, y)[0], eoproc.tile(l7, z, x, y)[0])


def test_pyramid_png_level_trades_size_for_nothing_else(cli, l7, tmp_path):
    """--png-level (Python png_level=): level 1 and 12 give the same pixels
    (read back by GDAL's PNG driver), 12 the smaller files; out of 1..12 is
    a usage error."""
    sizes, pixels = {}, {}
    for level in (1, 12):
        out = tmp_path / ("l%d" % level)
        proc = run_cli(cli, "tiles", l7, "--zoom", "12", "--out", out, "--png-level", str(level),
                       "--quiet")
        assert proc.returncode == 0, proc.stderr
        files = sorted(out.rglob("*.png"))
        assert files
        sizes[level] = sum(f.stat().st_size for f in files)
        pixels[level] = [gdal.Open(str(f)).ReadAsArray() for f in files]
    assert sizes[12] < sizes[1]
    for a, b in zip(pixels[1], pixels[12]):
        np.testing.assert_array_equal(a, b)
    res = eoproc.tiles(l7, zoom=12, out=tmp_path / "py", png_level=12)
    assert res["tiles_written"] == len(pixels[12])
    assert sum(f.stat().st_size for f in (tmp_path / "py").rglob("*.png")) == sizes[12]
    proc = run_cli(cli, "tiles", l7, "--zoom", "12", "--out", tmp_path / "x", "--png-level", "13")
    assert "png_level" in assert_cli_error(proc, ["param.Invalid"])
