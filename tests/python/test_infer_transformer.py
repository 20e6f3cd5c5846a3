"""Transformer and other segmentation families (tests/infer/
make_transformer_fixtures.py: SegFormer-style, FPN, PSPNet, LinkNet,
DeepLabV3+) beyond the per-case PyTorch comparison of test_infer.py:
segmenting a raster with the SegFormer fixture gives softmax of PyTorch's
saved logits, and overlapping tiles of a larger raster run and stitch."""

import pathlib

import numpy as np
import pytest
from osgeo import gdal, osr

import eoproc

FIX = pathlib.Path(__file__).resolve().parents[1] / "infer" / "fixtures"


def write_u8(path, arr):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[2], arr.shape[1],
                                              arr.shape[0], gdal.GDT_Byte)
    ds.SetGeoTransform((500000.0, 30.0, 0.0, 9000000.0, 0.0, -30.0))
    sr = osr.SpatialReference()
    sr.ImportFromEPSG(32725)
    ds.SetProjection(sr.ExportToWkt())
    for b in range(arr.shape[0]):
        ds.GetRasterBand(b + 1).WriteArray(arr[b])
    ds = None
    return path


def softmax(y):
    e = np.exp(y - y.max(0))
    return e / e.sum(0)


@pytest.mark.parametrize("name", ["segformer_op13", "segformer_op17"])
def test_segformer_segments_like_pytorch(name, tmp_path):
    x = np.fromfile(FIX / (name + "_l7.in.f32"), dtype=np.float32).reshape(3, 64, 64)
    logits = np.fromfile(FIX / (name + "_l7.out.f32"), dtype=np.float32).reshape(3, 64, 64)
    src = write_u8(tmp_path / "patch.tif", np.rint(x * 255).astype(np.uint8))
    m = eoproc.Model(FIX / (name + ".onnx"))
    assert m.input_shape == (1, 3, 64, 64)
    res = m.segment(src, tmp_path / "p.tif", tile=64, overlap=16, scale=1 / 255)
    assert res["tiles_run"] == 1 and res["activation"] == "softmax"
    p = gdal.Open(str(tmp_path / "p.tif")).ReadAsArray()
    assert np.abs(p - softmax(logits)).max() < 1e-4
    classes = gdal.Open(str(tmp_path / "p_classes.tif")).ReadAsArray()
    assert np.array_equal(classes, np.argmax(p, 0))


def test_segformer_overlapping_tiles(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, size=(3, 100, 150), dtype=np.uint8)
    src = write_u8(tmp_path / "big.tif", a)
    m = eoproc.Model(FIX / "segformer_op17.onnx")
    res = m.segment(src, tmp_path / "p.tif", tile=64, overlap=16, scale=1 / 255)
    assert res["tiles_run"] == res["tiles"] > 4
    p = gdal.Open(str(tmp_path / "p.tif")).ReadAsArray()
    assert p.shape == (3, 100, 150) and np.isfinite(p).all()
    assert np.allclose(p.sum(0), 1, atol=1e-5)
    # the top-left tile's interior is that tile run alone
    tile = m.run((a[:, :64, :64].astype(np.float32) / 255)[None])[0]
    assert np.abs(p[:, 8:40, 8:40] - softmax(tile)[:, 8:40, 8:40]).max() < 1e-4


def test_layernorm_and_gelu_patterns_are_fused():
    # opset 13 spells LayerNorm as 9 nodes (ReduceMean Sub Pow ReduceMean Add
    # Sqrt Div Mul Add) and GELU as 5 (Div Erf Add Mul Mul); fused, the
    # network runs as many nodes as its opset-17 export with
    # LayerNormalization (whose GELU is fused too)
    op13 = eoproc.Model(FIX / "segformer_op13.onnx").info
    op17 = eoproc.Model(FIX / "segformer_op17.onnx").info
    assert op13["onnx_nodes"] > op17["onnx_nodes"] + 70
    assert op13["nodes"] == op17["nodes"]


def test_global_max_pool_and_pixel_shuffle():
    m = eoproc.Model(FIX / "pool_shuffle_op13.onnx")
    assert [o[0] for o in m.outputs] == ["gmax", "shuffled"]
    x = np.random.default_rng(5).standard_normal((1, 8, 5, 7)).astype(np.float32)
    out = m.run({"x": x})
    np.testing.assert_array_equal(out["gmax"], x.max(axis=(2, 3), keepdims=True))
    # PixelShuffle(2) as numpy reshapes: channel c * 4 + i * 2 + j -> (2h + i, 2w + j)
    want = x.reshape(1, 2, 2, 2, 5, 7).transpose(0, 1, 4, 2, 5, 3).reshape(1, 2, 10, 14)
    np.testing.assert_array_equal(out["shuffled"], want)


def test_gelu_pattern_with_another_divisor_is_not_fused():
    import math

    m = eoproc.Model(FIX / "gelu_like_op13.onnx")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 5)).astype(np.float32)
    y = (rng.random((2, 5)) + 0.5).astype(np.float32)
    want = x * 0.5 * (1 + np.vectorize(math.erf)((x / y).astype(np.float64)))
    got = m.run({"x": x, "y": y})["z"]
    assert np.abs(got - want).max() < 1e-6
