"""Rasters out of tile pyramids (eoproc.open_tiles / eo_dataset_open_tiles).

References are independent of the tile dataset: eo_tile_read of the source
raster (eoproc.tile), the tile files decoded by GDAL's PNG/JPEG/WebP drivers
and assembled with numpy, the web-mercator bounds formula, numpy statistics
and GDAL reading the COG written from the dataset. The pyramid is written by
the `eoproc tiles` CLI; TMS, QuadKey and MBTiles layouts are made from it here
(renamed files, an SQLite file built with Python's sqlite3)."""

import json
import math
import os
import shutil
import sqlite3
import threading

import numpy as np
import pytest
from osgeo import gdal

import eoproc
from helpers import run_cli

gdal.UseExceptions()

Z = 14
ORIGIN = math.pi * 6378137.0


def merc_bounds(z, x, y):
    """(xmin, ymin, xmax, ymax) of XYZ tile z/x/y, from the formula."""
    span = 2 * ORIGIN / 2**z
    return (-ORIGIN + x * span, ORIGIN - (y + 1) * span, -ORIGIN + (x + 1) * span, ORIGIN - y * span)


def quadkey(z, x, y):
    digits = []
    for i in range(z, 0, -1):
        m = 1 << (i - 1)
        digits.append(str((1 if x & m else 0) + (2 if y & m else 0)))
    return "".join(digits)


def block_bbox(x0, y0, nx, ny):
    a = merc_bounds(Z, x0, y0)
    b = merc_bounds(Z, x0 + nx - 1, y0 + ny - 1)
    return (a[0], b[1], b[2], a[3])


def gdal_decode(path):
    """A tile file decoded by GDAL, as 4 bands (alpha 255 where it has none)."""
    arr = gdal.Open(str(path)).ReadAsArray()
    if arr.ndim == 2:
        arr = arr[None]
    if arr.shape[0] == 3:
        arr = np.concatenate([arr, np.full((1,) + arr.shape[1:], 255, np.uint8)])
    return arr


def mosaic_of_files(folder, ext, x0, y0, nx, ny):
    """The block of tiles decoded by GDAL, placed with numpy; missing: 0."""
    out = np.zeros((4, ny * 256, nx * 256), np.uint8)
    for j in range(ny):
        for i in range(nx):
            p = os.path.join(folder, str(Z), str(x0 + i), "%d.%s" % (y0 + j, ext))
            if os.path.exists(p):
                out[:, j * 256:(j + 1) * 256, i * 256:(i + 1) * 256] = gdal_decode(p)
    return out


@pytest.fixture(scope="module")
def pyr(tmp_path_factory, l7, cli):
    """{folder, tiles (set of (x, y)), block (x0, y0) of 2 x 2 present tiles}."""
    root = tmp_path_factory.mktemp("tilesrc")
    out = {}
    for fmt in ("png", "jpeg", "webp"):
        d = root / fmt
        proc = run_cli(cli, "tiles", str(l7), "--zoom", str(Z), "--out", str(d), "--format", fmt,
                       "--quiet")
        assert proc.returncode == 0, proc.stderr
        out[fmt] = d
    tiles = set()
    for x in os.listdir(out["png"] / str(Z)):
        for f in os.listdir(out["png"] / str(Z) / x):
            tiles.add((int(x), int(f.split(".")[0])))
    xs = sorted({t[0] for t in tiles})
    ys = sorted({t[1] for t in tiles})
    block = next((x, y) for y in ys for x in xs
                 if all((x + i, y + j) in tiles for i in (0, 1) for j in (0, 1)))
    out.update(root=root, tiles=tiles, block=block, xs=xs, ys=ys)
    return out


def tile_read_block(l7, x0, y0):
    """eo_tile_read of the 2 x 2 block of tiles, placed with numpy."""
    out = np.zeros((4, 512, 512), np.uint8)
    for j in range(2):
        for i in range(2):
            out[:, j * 256:(j + 1) * 256, i * 256:(i + 1) * 256] = eoproc.tile(l7, Z, x0 + i, y0 + j)[0]
    return out


def make_tms(src, dst):
    for x in os.listdir(src / str(Z)):
        os.makedirs(dst / str(Z) / x)
        for f in os.listdir(src / str(Z) / x):
            y, ext = f.split(".")
            shutil.copy(src / str(Z) / x / f, dst / str(Z) / x / ("%d.%s" % (2**Z - 1 - int(y), ext)))


def make_quadkey(src, dst):
    os.makedirs(dst)
    for x in os.listdir(src / str(Z)):
        for f in os.listdir(src / str(Z) / x):
            y, ext = f.split(".")
            shutil.copy(src / str(Z) / x / f, dst / ("%s.%s" % (quadkey(Z, int(x), int(y)), ext)))


def make_mbtiles(src, path):
    db = sqlite3.connect(str(path))
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute("INSERT INTO metadata VALUES ('format', 'png'), ('name', 'l7')")
    db.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
               "tile_data blob)")
    db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    for x in os.listdir(src / str(Z)):
        for f in os.listdir(src / str(Z) / x):
            y = int(f.split(".")[0])
            with open(src / str(Z) / x / f, "rb") as fh:
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                           (Z, int(x), 2**Z - 1 - y, fh.read()))  # TMS rows
    db.commit()
    db.close()


def files_callback(folder, calls=None):
    def fetch(z, x, y):
        if calls is not None:
            calls.append((z, x, y))
        p = os.path.join(folder, str(z), str(x), "%d.png" % y)
        if not os.path.exists(p):
            return None
        with open(p, "rb") as fh:
            return fh.read()
    return fetch


@pytest.mark.parametrize("layout", ["xyz", "tms", "quadkey", "mbtiles", "callback"])
def test_layouts_equal_tile_read_and_gdal(pyr, l7, tmp_path, layout):
    x0, y0 = pyr["block"]
    src = pyr["png"]
    scheme = "xyz"
    if layout == "xyz":
        source = src
    elif layout == "tms":
        source = tmp_path / "tms"
        make_tms(src, source)
        scheme = "tms"
    elif layout == "quadkey":
        source = tmp_path / "qk"
        make_quadkey(src, source)
        scheme = "quadkey"
    elif layout == "mbtiles":
        source = tmp_path / "l7.mbtiles"
        make_mbtiles(src, source)
    else:
        source = files_callback(str(src))
    with eoproc.open_tiles(source, Z, bbox=block_bbox(x0, y0, 2, 2), bbox_crs="EPSG:3857",
                           scheme=scheme) as ds:
        assert (ds.count,) + ds.shape == (4, 512, 512)
        arr = ds.read()
        assert ds.missing_tiles == 0
        info = ds.info()
    # eo_tile_read of the same tiles, rendered from the source raster
    np.testing.assert_array_equal(arr, tile_read_block(l7, x0, y0))
    # the tile files decoded by GDAL
    np.testing.assert_array_equal(arr, mosaic_of_files(src, "png", x0, y0, 2, 2))
    # georeferencing from the tile bounds formula
    gt = info["geotransform"]
    a = merc_bounds(Z, x0, y0)
    res = 2 * ORIGIN / (256 * 2**Z)
    assert gt[0] == pytest.approx(a[0], abs=1e-6) and gt[3] == pytest.approx(a[3], abs=1e-6)
    assert gt[1] == pytest.approx(res, rel=1e-12) and gt[5] == pytest.approx(-res, rel=1e-12)
    assert gt[2] == 0 and gt[4] == 0
    assert info["crs"]["epsg"] == 3857
    assert info["tiles"]["x_min"] == x0 and info["tiles"]["y_max"] == y0 + 1


@pytest.mark.parametrize("fmt,ext", [("jpeg", "jpg"), ("webp", "webp")])
def test_jpeg_webp_equal_gdal_decode(pyr, fmt, ext):
    x0, y0 = pyr["block"]
    with eoproc.open_tiles(pyr[fmt], Z, bbox=block_bbox(x0, y0, 2, 2), bbox_crs="EPSG:3857") as ds:
        arr = ds.read()
    ref = mosaic_of_files(pyr[fmt], ext, x0, y0, 2, 2)
    assert (ref[:3] > 0).any()
    np.testing.assert_array_equal(arr, ref)


def test_unaligned_lonlat_bbox_and_missing(pyr, l7):
    """A lon/lat box reaching past the pyramid: the pixel window from the
    formula, pixels equal to the files decoded by GDAL, absent tiles alpha 0
    and counted once."""
    xs, ys = pyr["xs"], pyr["ys"]
    tx0, tx1, ty0, ty1 = xs[0] - 1, xs[-1] + 1, ys[0] - 1, ys[-1] + 1
    nx, ny = tx1 - tx0 + 1, ty1 - ty0 + 1
    full = mosaic_of_files(pyr["png"], "png", tx0, ty0, nx, ny)

    def lon(px):
        return (px * 2 * ORIGIN / (256 * 2**Z) - ORIGIN) / ORIGIN * 180

    def lat(py):
        m = ORIGIN - py * 2 * ORIGIN / (256 * 2**Z)
        return math.degrees(2 * math.atan(math.exp(m / 6378137.0)) - math.pi / 2)

    # from 100.5 pixels into the block to 60.5 pixels before its end
    gx0, gy0 = tx0 * 256 + 100.5, ty0 * 256 + 30.5
    gx1, gy1 = (tx1 + 1) * 256 - 60.5, (ty1 + 1) * 256 - 10.5
    bbox = (lon(gx0), lat(gy1), lon(gx1), lat(gy0))
    with eoproc.open_tiles(pyr["png"], Z, bbox=bbox) as ds:
        assert (ds.width, ds.height) == (int(gx1) + 1 - int(gx0), int(gy1) + 1 - int(gy0))
        arr = ds.read()
        want = full[:, int(gy0) - ty0 * 256:int(gy1) + 1 - ty0 * 256,
                    int(gx0) - tx0 * 256:int(gx1) + 1 - tx0 * 256]
        np.testing.assert_array_equal(arr, want)
        absent = nx * ny - len(pyr["tiles"])
        assert ds.missing_tiles == absent
        ds.read(window=(0, 0, 10, 10))
        assert ds.missing_tiles == absent  # counted once
        assert ds.tiles_info()["missing"] == absent


def test_rgb_nodata_and_aoi(pyr):
    """Three bands without alpha: missing tiles are the nodata value; the
    extent from an AOI in EPSG:4326."""
    x0, y0 = pyr["xs"][0] - 1, pyr["ys"][0]
    b = eoproc.tile_bounds(Z, x0, y0)["bounds_4326"]
    aoi = {"type": "Polygon", "coordinates": [[[b[0] + 1e-6, b[1] + 1e-6], [b[2] + 0.0001, b[1] + 1e-6],
                                               [b[2] + 0.0001, b[3] - 1e-6], [b[0] + 1e-6, b[3] - 1e-6],
                                               [b[0] + 1e-6, b[1] + 1e-6]]]}
    with eoproc.open_tiles(pyr["png"], Z, aoi=aoi, bands=3, nodata=7) as ds:
        info = ds.info()
        assert info["bands"][0]["nodata"] == 7 and ds.band_count == 3
        arr = ds.read()
        assert (arr[:, :, :256] == 7).all()  # tile x0 is not in the pyramid
        assert ds.width == 256 + math.ceil(0.0001 / (b[2] - b[0]) * 256)


def test_corrupt_tile_error_and_opt_in(pyr, tmp_path):
    d = tmp_path / "pyr"
    shutil.copytree(pyr["png"], d)
    x0, y0 = pyr["block"]
    bad = d / str(Z) / str(x0 + 1) / ("%d.png" % y0)
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # cut short
    bbox = block_bbox(x0, y0, 2, 2)
    with eoproc.open_tiles(d, Z, bbox=bbox, bbox_crs="EPSG:3857") as ds:
        with pytest.raises(eoproc.Error) as e:
            ds.read()
        assert e.value.id == "io.Read"
        assert "tile %d/%d/%d" % (Z, x0 + 1, y0) in e.value.message
        assert str(bad) in e.value.message and "PNG" in e.value.message
        assert e.value.message.startswith(str(d)) and "/vsimem/" not in e.value.message
        assert ds.tiles_info()["last_error"]
    with eoproc.open_tiles(d, Z, bbox=bbox, bbox_crs="EPSG:3857", corrupt_as_missing=True) as ds:
        arr = ds.read()
        assert ds.tiles_info()["corrupt"] == 1 and ds.missing_tiles == 0
    assert (arr[:, :256, 256:] == 0).all()
    np.testing.assert_array_equal(arr[:, :256, :256],
                                  mosaic_of_files(pyr["png"], "png", x0, y0, 1, 1))
    # not an image at all
    bad.write_bytes(b"<html>404</html>")
    with eoproc.open_tiles(d, Z, bbox=bbox, bbox_crs="EPSG:3857") as ds:
        with pytest.raises(eoproc.Error, match="not a PNG, JPEG or WebP"):
            ds.read()


def test_wrong_tile_size(tmp_path, l7, cli):
    d = tmp_path / "t512"
    proc = run_cli(cli, "tiles", str(l7), "--zoom", str(Z), "--size", "512", "--out", str(d), "--quiet")
    assert proc.returncode == 0, proc.stderr
    x = int(os.listdir(d / str(Z))[0])
    y = int(os.listdir(d / str(Z) / str(x))[0].split(".")[0])
    # the 512 px tile x/y covers the 256 px tiles 2x..2x+1, 2y..2y+1 of zoom Z + 1
    b = eoproc.tile_bounds(Z, x, y)["bounds_3857"]
    with eoproc.open_tiles(d, Z, bbox=b, bbox_crs="EPSG:3857") as ds:
        with pytest.raises(eoproc.Error) as e:
            ds.read()
    assert e.value.id == "io.Read" and "512 x 512" in e.value.message and "256 x 256" in e.value.message
    with eoproc.open_tiles(d, Z, bbox=b, bbox_crs="EPSG:3857", tile_size=512) as ds:
        assert (ds.count,) + ds.shape == (4, 512, 512)
        np.testing.assert_array_equal(ds.read(), gdal_decode(d / str(Z) / str(x) / ("%d.png" % y)))


def test_bad_mbtiles(pyr, tmp_path, l7):
    bbox = block_bbox(*pyr["block"], 2, 2)
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(l7, Z, bbox=bbox, bbox_crs="EPSG:3857")
    assert e.value.id == "source.Invalid" and "not an MBTiles file" in e.value.message
    good = tmp_path / "good.mbtiles"
    make_mbtiles(pyr["png"], good)
    cut = tmp_path / "cut.mbtiles"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(cut, Z, bbox=bbox, bbox_crs="EPSG:3857")
    assert e.value.id == "source.Invalid" and "truncated" in e.value.message
    other = tmp_path / "other.mbtiles"
    db = sqlite3.connect(str(other))
    db.execute("CREATE TABLE something (a)")
    db.commit()
    db.close()
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(other, Z, bbox=bbox, bbox_crs="EPSG:3857")
    assert e.value.id == "source.Invalid" and "no such table: tiles" in e.value.message
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(tmp_path / "none.mbtiles", Z, bbox=bbox, bbox_crs="EPSG:3857")
    assert e.value.id == "io.NotFound"
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(pyr["png"], Z + 2, bbox=bbox, bbox_crs="EPSG:3857")
    assert e.value.id == "source.Invalid" and "zoom" in e.value.message


def test_callback_errors_and_threads(pyr):
    x0, y0 = pyr["block"]
    calls = []
    lock = threading.Lock()
    inner = files_callback(str(pyr["png"]))

    def fetch(z, x, y):
        with lock:
            calls.append((z, x, y))
        if x == x0 + 1 and y == y0 + 1:
            raise RuntimeError("no route to the tile server")
        return inner(z, x, y)

    xs, ys = pyr["xs"], pyr["ys"]
    bbox = block_bbox(xs[0], ys[0], len(xs), len(ys))
    ref = mosaic_of_files(pyr["png"], "png", xs[0], ys[0], len(xs), len(ys))
    with eoproc.open_tiles(fetch, Z, bbox=bbox, bbox_crs="EPSG:3857") as ds:
        with pytest.raises(eoproc.Error) as e:
            ds.read()
        assert "tile %d/%d/%d of the host tile callback" % (Z, x0 + 1, y0 + 1) in e.value.message
        assert "RuntimeError: no route to the tile server" in e.value.message
    calls.clear()
    # four Python threads read windows of one dataset at once: each tile
    # is fetched once, the pixels equal the files
    with eoproc.open_tiles(inner, Z, bbox=bbox, bbox_crs="EPSG:3857") as ds:
        W, H = ds.width, ds.height
        out, errors = {}, []

        def work(k):
            try:
                out[k] = ds.read(window=(0, k * H // 4, W, H // 4 if k < 3 else H - 3 * (H // 4)))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        assert not errors
        np.testing.assert_array_equal(np.concatenate([out[k] for k in range(4)], axis=1), ref)
        assert ds.tiles_info()["decoded"] == len(pyr["tiles"])


def test_consumers_cog_index_zonal_tile(pyr, tmp_path):
    """The dataset passed where a path is taken: a COG (checked with GDAL and
    the COG validator), band math and zonal statistics (numpy), a tile."""
    from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate

    xs, ys = pyr["xs"], pyr["ys"]
    bbox = block_bbox(xs[0], ys[0], len(xs), len(ys))
    ref = mosaic_of_files(pyr["png"], "png", xs[0], ys[0], len(xs), len(ys))
    with eoproc.open_tiles(pyr["png"], Z, bbox=bbox, bbox_crs="EPSG:3857", cache_bytes=0) as ds:
        cog = tmp_path / "out.tif"
        eoproc.cog(ds, cog, threads=2, blocksize=256)
        errors, warnings = validate(str(cog), full_check=True)[:2]
        assert not errors
        g = gdal.Open(str(cog))
        np.testing.assert_array_equal(g.ReadAsArray(), ref)
        assert g.GetGeoTransform() == pytest.approx(
            (bbox[0], 2 * ORIGIN / (256 * 2**Z), 0, bbox[3], 0, -2 * ORIGIN / (256 * 2**Z)))
        g = None
        # band math on the context's threads (workers reopen the dataset)
        diff = eoproc.calc(ds, "b1 - b2")
        np.testing.assert_allclose(diff, ref[0].astype(np.float32) - ref[1])
        # a catalog index with an explicit band mapping
        vari = eoproc.index(ds, "VARI", bands="R=1,G=2,B=3")
        r, g_, b = (ref[i].astype(np.float64) for i in range(3))
        den = g_ + r - b
        ok = den != 0
        np.testing.assert_allclose(vari[ok], ((g_ - r)[ok] / den[ok]), rtol=1e-5, atol=1e-6)
        assert (vari[~ok] == -9999).all() and ok.sum() > 1000
        # zonal statistics over an AOI in EPSG:3857 on pixel edges
        res = 2 * ORIGIN / (256 * 2**Z)
        c0, r0, c1, r1 = 100, 150, 400, 380
        x_a, y_a = bbox[0] + c0 * res, bbox[3] - r0 * res
        x_b, y_b = bbox[0] + c1 * res, bbox[3] - r1 * res
        aoi = {"type": "Polygon", "coordinates": [[[x_a, y_a], [x_b, y_a], [x_b, y_b], [x_a, y_b],
                                                   [x_a, y_a]]]}
        st = eoproc.zonal_stats(ds, aoi, band=3, crs="EPSG:3857")
        st = st["features"][0]["stats"] if "features" in st else st
        sub = ref[2, r0:r1, c0:c1].astype(np.float64)
        assert st["count"] == sub.size
        assert st["mean"] == pytest.approx(sub.mean(), rel=1e-9)
        assert st["max"] == sub.max()
        # a web-mercator tile of the dataset: the same as the tile file
        x, y = pyr["block"]
        arr, _ = ds.tile(Z, x, y, resampling="nearest")
        np.testing.assert_array_equal(arr, mosaic_of_files(pyr["png"], "png", x, y, 1, 1))
        assert ds.tiles_info()["cache_max_bytes"] < 64 << 20  # the floor, not the default
    with pytest.raises(eoproc.Error) as e:
        ds.read()
    assert e.value.id == "state.Invalid"


def test_open_files_and_args(l7, pyr):
    with eoproc.open(l7) as ds:
        assert (ds.count,) + ds.shape == (6, 352, 349)
        np.testing.assert_array_equal(ds.read(window=(5, 6, 7, 8), bands=[3]),
                                      gdal.Open(str(l7)).ReadAsArray(5, 6, 7, 8)[2:3])
        assert ds.missing_tiles == 0 and not ds.is_tiles
    with eoproc.open([l7, l7]) as ds:
        assert (ds.count,) + ds.shape == (6, 352, 349) and os.fspath(ds).startswith("/vsimem/")
        assert ds.info()["width"] == 349
    with pytest.raises(eoproc.Error, match="exactly one of bbox and aoi"):
        eoproc.open_tiles(pyr["png"], Z)
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(pyr["png"], Z, bbox=(1, 1, 0, 2))
    assert e.value.id == "arg.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(pyr["png"], 31, bbox=(0, 0, 1, 1))
    assert e.value.id == "arg.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.open_tiles(pyr["png"], Z, bbox=(0, 0, 1, 1), scheme="bing")
    assert e.value.id == "arg.Invalid"


def test_cli_tiles_read(pyr, tmp_path, cli):
    """`eoproc tiles-read`: the COG holds the tiles decoded by GDAL; a corrupt
    tile exits 1 with io.Read naming it and leaves nothing at the output."""
    from helpers import assert_cli_error

    xs, ys = pyr["xs"], pyr["ys"]
    bbox = block_bbox(xs[0], ys[0], len(xs), len(ys))
    out = tmp_path / "out.tif"
    proc = run_cli(cli, "tiles-read", pyr["png"], out, "--zoom", Z, "--crs", "EPSG:3857",
                   "--bbox", ",".join("%.10f" % v for v in bbox), "--quiet")
    assert proc.returncode == 0, proc.stderr
    res = __import__("json").loads(proc.stdout)
    absent = len(xs) * len(ys) - len(pyr["tiles"])
    assert res["missing"] == absent and res["decoded"] == len(pyr["tiles"])
    np.testing.assert_array_equal(gdal.Open(str(out)).ReadAsArray(),
                                  mosaic_of_files(pyr["png"], "png", xs[0], ys[0], len(xs), len(ys)))
    d = tmp_path / "bad"
    shutil.copytree(pyr["png"], d)
    x0, y0 = pyr["block"]
    (d / str(Z) / str(x0) / ("%d.png" % y0)).write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    out2 = tmp_path / "out2.tif"
    proc = run_cli(cli, "tiles-read", d, out2, "--zoom", Z, "--crs", "EPSG:3857",
                   "--bbox", ",".join("%.10f" % v for v in bbox), "--quiet")
    assert_cli_error(proc, ["io.Read"])
    assert "tile %d/%d/%d" % (Z, x0, y0) in proc.stderr
    assert not out2.exists() and not [p for p in os.listdir(tmp_path) if p.startswith("out2")]


def test_clip_of_tile_dataset_equals_gdalwarp(pyr, tmp_path):
    """'Buildings from zoom-Z tiles over this AOI' is a clip of the tile
    dataset: eoproc.clip of it equals gdalwarp -cutline of the same dataset
    (GDAL opens it in this process through its VRT), cut to the bounding box
    of gdalwarp's own mask (clip's window rule, see the README)."""
    xs, ys = pyr["xs"], pyr["ys"]
    bbox = block_bbox(xs[0], ys[0], len(xs), len(ys))
    res = 2 * ORIGIN / (256 * 2**Z)

    def pt(c, r):  # a point between pixel centres (c, r in pixels of the dataset)
        return [bbox[0] + (c + 0.3) * res, bbox[3] - (r + 0.7) * res]

    shell = [pt(60, 40), pt(470, 75), pt(430, 480), pt(90, 440), pt(60, 40)]
    hole = [pt(200, 200), pt(200, 300), pt(300, 300), pt(300, 200), pt(200, 200)]
    aoi = {"type": "Polygon", "coordinates": [shell, hole]}
    aoi_path = tmp_path / "aoi.geojson"
    aoi_path.write_text(json.dumps(dict(aoi, crs={"type": "name",
                                                  "properties": {"name": "EPSG:3857"}})))
    with eoproc.open_tiles(pyr["png"], Z, bbox=bbox, bbox_crs="EPSG:3857") as ds:
        out = tmp_path / "clip.tif"
        eoproc.clip(ds, str(aoi_path), out, compress="none")
        sg = gdal.Open(os.fspath(ds)).GetGeoTransform()  # the same grid, not a suggested one
        grid = dict(outputBounds=bbox, xRes=sg[1], yRes=-sg[5])
        # the pixels in: GDAL's rasterization of the AOI on that grid (the source
        # has its own alpha band, so gdalwarp's -dstalpha is not the cutline's mask)
        mask = gdal.Rasterize("", str(aoi_path), format="MEM", outputType=gdal.GDT_Byte,
                              burnValues=[1], **grid)
        inside = mask.ReadAsArray() != 0
        rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
        mask = None
        grid.update(cutlineDSName=str(aoi_path), format="GTiff")
        ref = gdal.Warp("/vsimem/tiles_clip_ref.tif", os.fspath(ds), **grid)
        want = ref.ReadAsArray()[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        g = ref.GetGeoTransform()
        want_gt = (g[0] + cols[0] * g[1], g[1], g[2], g[3] + rows[0] * g[5], g[4], g[5])
        ref = None
        gdal.Unlink("/vsimem/tiles_clip_ref.tif")
    got = gdal.Open(str(out))
    assert (got.RasterXSize, got.RasterYSize) == (want.shape[2], want.shape[1])
    assert got.GetGeoTransform() == pytest.approx(want_gt, rel=1e-12, abs=1e-6)
    np.testing.assert_array_equal(got.ReadAsArray(), want)


def test_tile_bounds_near_the_pole_give_the_tile(tmp_path):
    """A tile's own lon/lat bounds as the bbox give exactly that tile: 256 x
    256 pixels at its place in the grid (exact arithmetic), its pixels those
    GDAL decodes from the file. At zoom 22 near the grid's north edge the
    latitude -> metres formula once used here, R log(tan(pi/4 + lat/2)),
    lost the last bits and made such windows 257 rows tall (rows 60, 64,
    100, 209, 212 among the first 213); the one web-mercator helper,
    asinh(tan(lat)) R, keeps them whole."""
    z, x = 22, 1000
    arr = np.stack([np.arange(256 * 256, dtype=np.uint32).reshape(256, 256) % 251,
                    np.full((256, 256), 7), np.full((256, 256), 200)]).astype(np.uint8)
    mem = gdal.GetDriverByName("MEM").Create("", 256, 256, 3, gdal.GDT_Byte)
    for b in range(3):
        mem.GetRasterBand(b + 1).WriteArray(arr[b])
    span = 2 * ORIGIN / 2**z
    for y in (60, 64, 100, 209, 212):
        os.makedirs(tmp_path / str(z) / str(x), exist_ok=True)
        gdal.GetDriverByName("PNG").CreateCopy(str(tmp_path / str(z) / str(x) / ("%d.png" % y)), mem)
        bbox = eoproc.tile_bounds(z, x, y)["bounds_4326"]
        with eoproc.open_tiles(tmp_path, z, bbox=bbox) as ds:
            assert (ds.width, ds.height) == (256, 256), y
            t = ds.transform
            assert t.c == pytest.approx(-ORIGIN + x * span, abs=1e-6)
            assert t.f == pytest.approx(ORIGIN - y * span, abs=1e-6)
            got = ds.read()
            np.testing.assert_array_equal(got[:3], arr)
