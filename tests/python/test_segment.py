"""Sliding-window segmentation (eo_segment, `eoproc segment`, Model.segment).

References: the whole raster run at once through eo_model_run (Model.run;
itself checked against PyTorch by test_infer), softmax / sigmoid / argmax /
thresholds in numpy, GDAL for reading the outputs, and the ground truth of
held-out synthetic scenes rendered with numpy (models/synth_scene.py) for
the demo model's IoU.
"""

import json
import os
import pathlib
import sys

import numpy as np
import pytest
from osgeo import gdal, osr

import eoproc
from helpers import assert_cli_error, run_cli

REPO = pathlib.Path(__file__).resolve().parents[2]
FCN = REPO / "tests" / "infer" / "fixtures" / "segment_fcn.onnx"
DEMO = REPO / "models" / "buildings.onnx"
sys.path.insert(0, str(REPO / "models"))
import synth_scene  # noqa: E402

GT = (500000.0, 0.5, 0.0, 9000000.0, 0.0, -0.5)


def write_tif(path, arr, nodata=None, gt=GT, epsg=32725):
    """(bands, h, w) array to a GeoTIFF with GDAL."""
    arr = np.asarray(arr)
    types = {np.uint8: gdal.GDT_Byte, np.float32: gdal.GDT_Float32, np.uint16: gdal.GDT_UInt16}
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), arr.shape[2], arr.shape[1], arr.shape[0], types[arr.dtype.type]
    )
    ds.SetGeoTransform(gt)
    sr = osr.SpatialReference()
    sr.ImportFromEPSG(epsg)
    ds.SetProjection(sr.ExportToWkt())
    for b in range(arr.shape[0]):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(arr[b])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None
    return path


def read(path):
    ds = gdal.Open(str(path))
    a = ds.ReadAsArray()
    return a if a.ndim == 3 else a[None]


def softmax(y):
    e = np.exp(y - y.max(0))
    return e / e.sum(0)


def whole_run(model_path, x):
    """The model on the whole (C, H, W) float32 input at once (eo_model_run)."""
    m = eoproc.Model(model_path, input_shape=(1,) + x.shape)
    return m.run(x[None])[0]


@pytest.fixture(scope="module")
def l7_rgb(l7, tmp_path_factory):
    """A 200 x 168 crop of the Landsat scene, bands 3, 2, 1 and 4 (uint8)."""
    a = gdal.Open(str(l7)).ReadAsArray()[:, 40:208, 30:230]
    path = tmp_path_factory.mktemp("seg") / "l7crop.tif"
    return write_tif(path, a[[2, 1, 0, 3]].copy()), a[[2, 1, 0, 3]].astype(np.float32)


def test_tiles_equal_whole_raster_run(l7_rgb, tmp_path):
    src, a = l7_rgb
    x = a[:3] / 255.0
    ref = softmax(whole_run(FCN, x))
    out = tmp_path / "p.tif"
    m = eoproc.Model(FCN, input_shape=(1, 3, 32, 32))
    res = m.segment(src, out, tile=64, overlap=32, batch=3, bands=[1, 2, 3], scale=1 / 255)
    # tiles of 64 every 32 px, up to the first reaching the raster's end
    assert res["tiles"] == res["tiles_run"] == 6 * 5
    assert res["activation"] == "softmax" and res["classes_count"] == 3
    p = read(out)
    c = read(tmp_path / "p_classes.tif")[0]
    assert p.shape == ref.shape and p.dtype == np.float32
    # the receptive field reaches 6 pixels: away from the raster's edge the
    # tiles must reproduce the whole run
    err = np.abs(p - ref)[:, 8:-8, 8:-8].max()
    assert err < 1e-4, err
    # near the edge only the padding differs (a mirrored tile vs the whole
    # raster's zero padding at every layer)
    assert np.abs(p - ref).max() < 0.25
    assert np.allclose(p.sum(0), 1, atol=1e-5)
    assert np.array_equal(c, np.argmax(p, 0))
    # a different tiling and batch give the same interior
    out2 = tmp_path / "q.tif"
    m.segment(src, out2, tile=96, overlap=40, batch=1, bands=[1, 2, 3], scale=1 / 255)
    assert np.abs(read(out2) - ref)[:, 8:-8, 8:-8].max() < 1e-4


def test_single_tile_equals_reference(l7_rgb, tmp_path):
    """One tile (raster = tile): probabilities = softmax of eo_model_run on
    the normalized input, computed in numpy; bands reordered; mean/std."""
    src, a = l7_rgb
    mean, std = [0.3, 0.25, 0.2], [0.2, 0.25, 0.3]
    crop = a[:, :64, :64]
    path = write_tif(tmp_path / "one.tif", crop.astype(np.uint8))
    sel = [4, 1, 2]  # bands fed to the model, in this order
    x = (crop[[s - 1 for s in sel]] / 255.0 - np.array(mean)[:, None, None]) / np.array(std)[
        :, None, None
    ]
    ref = softmax(whole_run(FCN, x.astype(np.float32)))
    r = eoproc.run(
        "segment",
        model=str(FCN),
        src=str(path),
        out=str(tmp_path / "o.tif"),
        tile=64,
        overlap=16,
        bands=sel,
        scale="1/255",
        mean=mean,
        std=std,
        classes=str(tmp_path / "cls.tif"),
    )
    assert r["tiles_run"] == 1
    p = read(tmp_path / "o.tif")
    assert np.abs(p - ref).max() < 1e-5
    assert np.array_equal(read(tmp_path / "cls.tif")[0], np.argmax(ref, 0))


def test_threshold_one_class_model(tmp_path):
    """A one-channel model ending in a sigmoid: its output is the
    probability; the class raster is probability >= threshold."""
    rgb, _ = synth_scene.render_scene(synth_scene.HELD_OUT_SEED + 50, 96)
    src = write_tif(tmp_path / "s.tif", rgb.transpose(2, 0, 1).copy())
    ref = whole_run(DEMO, rgb.transpose(2, 0, 1).astype(np.float32) / 255.0)[0]
    m = eoproc.Model(DEMO, input_shape=(1, 3, 96, 96))
    res = m.segment(src, tmp_path / "b.tif", tile=96, overlap=0, threshold=0.3, scale=1 / 255)
    assert res["activation"] == "none" and res["classes_count"] == 1
    p = read(tmp_path / "b.tif")[0]
    assert np.abs(p - ref).max() < 1e-5
    assert np.array_equal(read(tmp_path / "b_classes.tif")[0], (p >= 0.3).astype(np.uint8))
    # forcing a sigmoid on top changes the probabilities accordingly
    m.segment(src, tmp_path / "s2.tif", tile=96, overlap=0, scale=1 / 255, activation="sigmoid")
    assert np.abs(read(tmp_path / "s2.tif")[0] - 1 / (1 + np.exp(-ref))).max() < 1e-5


def iou(a, b):
    return np.logical_and(a, b).sum() / max(np.logical_or(a, b).sum(), 1)


def test_demo_model_iou_on_held_out_scenes(cli, tmp_path):
    """The demo model through `eoproc segment` on held-out synthetic scenes
    (never seen in training): IoU of the class raster against the rendered
    ground truth >= 0.8."""
    ious = []
    for k in range(3):
        rgb, truth = synth_scene.render_scene(synth_scene.HELD_OUT_SEED + k, 384)
        src = write_tif(tmp_path / ("scene%d.tif" % k), rgb.transpose(2, 0, 1).copy())
        out = tmp_path / ("b%d.tif" % k)
        proc = run_cli(cli, "segment", DEMO, src, out, "--tile", 256, "--overlap", 64,
                       "--scale", "1/255", "--quiet")
        assert proc.returncode == 0, proc.stderr
        res = json.loads(proc.stdout)
        assert res["tiles_run"] == 4
        cls = read(tmp_path / ("b%d_classes.tif" % k))[0]
        ious.append(iou(cls == 1, truth == 1))
    assert min(ious) >= 0.8, ious
    print("held-out IoU per scene:", ious)


def test_aoi_window_and_nodata(l7_rgb, tmp_path):
    src, a = l7_rgb
    full = tmp_path / "full.tif"
    m = eoproc.Model(FCN, input_shape=(2, 3, 64, 64))
    m.segment(src, full, tile=64, overlap=32, bands=[1, 2, 3], scale=1 / 255)
    # a triangle in pixel coordinates 50..150 (x), 40..120 (y), as UTM
    def xy(px, py):
        return [GT[0] + px * GT[1], GT[3] + py * GT[5]]

    aoi = {"type": "Polygon", "coordinates": [[xy(50, 40), xy(150, 40), xy(50, 120), xy(50, 40)]]}
    out = tmp_path / "aoi.tif"
    res = m.segment(src, out, tile=64, overlap=32, bands=[1, 2, 3], scale=1 / 255, aoi=aoi,
                    crs="EPSG:32725")
    assert res["window"] == [50, 40, 100, 80]
    assert res["tiles_run"] < res["tiles"]
    p, c = read(out), read(tmp_path / "aoi_classes.tif")[0]
    ds = gdal.Open(str(out))
    assert ds.GetGeoTransform() == pytest.approx((GT[0] + 25, 0.5, 0, GT[3] - 20, 0, -0.5))
    assert np.isnan(ds.GetRasterBand(1).GetNoDataValue())
    # inside: pixel centres left of the hypotenuse x + 1.25 y < 200 (in pixels)
    yy, xx = np.mgrid[40:120, 50:150] + 0.5
    inside = xx - 50 + (yy - 40) * 1.25 < 100
    f = read(full)[:, 40:120, 50:150]
    assert np.isnan(p[:, ~inside]).all() and (c[~inside] == 255).all()
    assert np.abs(p[:, inside] - f[:, inside]).max() < 1e-6
    assert np.array_equal(c[inside], np.argmax(f, 0)[inside])


def test_mosaic_and_source_nodata(l7_rgb, tmp_path):
    """Two halves opened as a mosaic give the whole file's result; source
    nodata pixels are nodata in the outputs."""
    src, a = l7_rgb
    b = a.astype(np.uint8)
    b[:, 10:14, 20:30] = 0
    whole = write_tif(tmp_path / "w.tif", b, nodata=0)
    left = write_tif(tmp_path / "l.tif", b[:, :, :96].copy(), nodata=0)
    gt_r = (GT[0] + 96 * GT[1],) + GT[1:]
    right = write_tif(tmp_path / "r.tif", b[:, :, 96:].copy(), nodata=0, gt=gt_r)
    m = eoproc.Model(FCN, input_shape=(1, 3, 64, 64))
    kw = dict(tile=64, overlap=32, bands=[1, 2, 3], scale=1 / 255)
    m.segment(whole, tmp_path / "pw.tif", **kw)
    m.segment([str(left), str(right)], tmp_path / "pm.tif", **kw)
    pw, pm = read(tmp_path / "pw.tif"), read(tmp_path / "pm.tif")
    nd = (b[:3] == 0).any(0)
    assert nd[10:14, 20:30].all()
    assert np.isnan(pw[:, nd]).all() and not np.isnan(pw[:, ~nd]).any()
    assert np.array_equal(np.isnan(pm), np.isnan(pw))
    assert np.abs(pm[:, ~nd] - pw[:, ~nd]).max() < 1e-6
    assert (read(tmp_path / "pw_classes.tif")[0][nd] == 255).all()


def leftovers(folder, keep):
    return sorted(set(os.listdir(folder)) - set(keep))


def test_cli_errors_leave_nothing(cli, l7_rgb, tmp_path):
    src, _ = l7_rgb
    keep = set(os.listdir(tmp_path))
    out = tmp_path / "o.tif"
    base = ["segment", FCN, src, out, "--tile", 64, "--overlap", 16, "--quiet"]
    # 4 bands selected for a 3-channel model: both counts, the model and the
    # raster named (issue 16 point 11), a model id
    msg = assert_cli_error(run_cli(cli, *base), "model.InputMismatch")
    assert "3 input channels" in msg and "4 bands" in msg
    assert os.path.basename(str(FCN)) in msg and str(src) in msg
    msg = assert_cli_error(run_cli(cli, *base, "--bands", "1,2"), "model.InputMismatch")
    assert "3 input channels" in msg and "2 bands" in msg
    # tile smaller than twice the overlap
    msg = assert_cli_error(
        run_cli(cli, "segment", FCN, src, out, "--tile", 64, "--overlap", 40, "--bands", "1,2,3"),
        "arg.Invalid",
    )
    assert "twice the overlap" in msg
    # mean / std lengths
    for opt in ("--mean", "--std"):
        msg = assert_cli_error(run_cli(cli, *base, "--bands", "1,2,3", opt, "0.5,0.5"),
                               "arg.Invalid")
        assert "2 values for 3 selected bands" in msg
    assert_cli_error(run_cli(cli, *base, "--bands", "1,2,3", "--std", "1,0,1"), "arg.Invalid")
    assert_cli_error(run_cli(cli, *base, "--bands", "1,2,9"), "arg.Invalid", names="band 9")
    assert_cli_error(run_cli(cli, *base, "--bands", "1,2,3", "--scale", "1/0"), "param.Invalid")
    # truncated model
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes(FCN.read_bytes()[: FCN.stat().st_size // 2])
    keep.add("trunc.onnx")
    assert_cli_error(run_cli(cli, "segment", trunc, src, out, "--quiet"), "model.Invalid")
    # AOI outside the raster
    far = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}
    assert_cli_error(run_cli(cli, *base, "--bands", "1,2,3", "--aoi", json.dumps(far)),
                     "source.NoDataInAOI")
    # a class path equal to the output
    assert_cli_error(run_cli(cli, *base, "--bands", "1,2,3", "--classes", out), "arg.Invalid")
    # an output folder that does not exist
    bad = tmp_path / "missing" / "o.tif"
    assert_cli_error(run_cli(cli, "segment", FCN, src, bad, "--bands", "1,2,3", "--tile", 64,
                             "--overlap", 16), "io.Write")
    assert leftovers(tmp_path, keep) == []


def test_cancel_leaves_nothing(l7_rgb, tmp_path):
    src, _ = l7_rgb
    keep = set(os.listdir(tmp_path))
    m = eoproc.Model(FCN, input_shape=(1, 3, 32, 32))
    seen = []

    def stop(fraction, stage):
        seen.append(fraction)
        return fraction > 0.3

    with pytest.raises(eoproc.Error) as e:
        m.segment(src, tmp_path / "c.tif", tile=32, overlap=8, bands=[1, 2, 3], progress=stop)
    assert e.value.id == "cancelled"
    assert seen and all(0 <= f <= 1 for f in seen)
    assert leftovers(tmp_path, keep) == []
    # a complete run reports increasing progress up to 1
    seen.clear()
    m.segment(src, tmp_path / "d.tif", tile=32, overlap=8, bands=[1, 2, 3],
              progress=lambda f, s: seen.append(f) and False)
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)


def test_nan_input_is_nodata(l7_rgb, tmp_path):
    """A float32 source without a declared nodata: NaN pixels are nodata."""
    _, a = l7_rgb
    f = (a[:3, :64, :96] / 255.0).astype(np.float32)
    f[1, 30:33, 40:45] = np.nan
    src = write_tif(tmp_path / "f.tif", f)
    m = eoproc.Model(FCN, input_shape=(1, 3, 64, 64))
    m.segment(src, tmp_path / "n.tif", tile=64, overlap=16)
    p, c = read(tmp_path / "n.tif"), read(tmp_path / "n_classes.tif")[0]
    hole = np.isnan(f).any(0)
    assert np.isnan(p[:, hole]).all() and (c[hole] == 255).all()
    assert not np.isnan(p[:, ~hole]).any() and (c[~hole] < 3).all()


def test_segment_a_tile_pyramid_dataset(l7, cli, tmp_path):
    """'Buildings from zoom-Z tiles': eo_segment on a dataset opened from a
    tile pyramid (eo_dataset_open_tiles) equals the model run at once on the
    pixels of the tile files (decoded by GDAL, placed with numpy)."""
    z = 14
    pyr = tmp_path / "pyr"
    p = run_cli(cli, "tiles", l7, "--zoom", z, "--out", pyr, "--quiet")
    assert p.returncode == 0, p.stderr
    xs = sorted(int(x) for x in os.listdir(pyr / str(z)))
    ys = sorted({int(f.split(".")[0]) for x in xs for f in os.listdir(pyr / str(z) / str(x))})
    # a 2 x 2 block of tiles that all exist
    x0, y0 = next((x, y) for y in ys for x in xs
                  if all((pyr / str(z) / str(x + i) / ("%d.png" % (y + j))).exists()
                         for i in (0, 1) for j in (0, 1)))
    mosaic = np.zeros((4, 512, 512), np.uint8)
    for j in range(2):
        for i in range(2):
            t = gdal.Open(str(pyr / str(z) / str(x0 + i) / ("%d.png" % (y0 + j)))).ReadAsArray()
            mosaic[:, j * 256:(j + 1) * 256, i * 256:(i + 1) * 256] = t
    origin = 20037508.342789244
    size = 2 * origin / 2**z
    bbox = (-origin + x0 * size, origin - (y0 + 2) * size,
            -origin + (x0 + 2) * size, origin - y0 * size)
    x = mosaic[:3].astype(np.float32) / 255.0
    ref = softmax(whole_run(FCN, x))
    out = tmp_path / "tiles_p.tif"
    m = eoproc.Model(FCN, input_shape=(1, 3, 32, 32))
    with eoproc.open_tiles(pyr, z, bbox=bbox, bbox_crs="EPSG:3857") as ds:
        assert (ds.width, ds.height) == (512, 512)
        m.segment(ds, out, tile=128, overlap=32, bands=[1, 2, 3], scale=1 / 255)
    prob = read(out)
    assert prob.shape == ref.shape
    assert np.abs(prob - ref)[:, 8:-8, 8:-8].max() < 1e-4
    g = gdal.Open(str(out))
    assert g.GetGeoTransform() == pytest.approx((bbox[0], size / 256, 0, bbox[3], 0, -size / 256))
