"""segment's options and model load through its public C API alone (issue 13,
point 5: the registry's segment operation uses nothing else):
eo_segment_opts_set_json and eo_segment_model_load, called through ctypes.

References: the shape asked for (batch, channels, tile, tile) by plain
arithmetic on the request, read back with eo_model_input_shape; GDAL writes
the rasters."""
import json
from ctypes import POINTER, byref, c_char_p, c_int32, c_int64, c_void_p
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

import eoproc
from eoproc import _lib

gdal.UseExceptions()

REPO = Path(__file__).resolve().parents[2]
FCN = REPO / "tests" / "infer" / "fixtures" / "segment_fcn.onnx"  # dynamic N x 3 x H x W

_st = _lib.status
_new = _lib._fn("eo_segment_opts_new", _st, [_lib.ctx_p, POINTER(c_void_p)])
_free = _lib._fn("eo_segment_opts_free", None, [c_void_p])
_set_json = _lib._fn("eo_segment_opts_set_json", _st, [_lib.ctx_p, c_void_p, c_char_p])
_load = _lib._fn("eo_segment_model_load", _st,
                 [_lib.ctx_p, POINTER(c_void_p), c_char_p, c_void_p, c_void_p, c_char_p])
_shape = _lib._fn("eo_model_input_shape", _st,
                  [_lib.ctx_p, c_void_p, POINTER(c_int64), c_int32, POINTER(c_int32)])
_model_free = _lib._fn("eo_model_free", None, [c_void_p])
_open = _lib._fn("eo_dataset_open", _st, [_lib.ctx_p, POINTER(c_void_p), c_char_p])
_close = _lib._fn("eo_dataset_close", None, [c_void_p])


def raster(path, bands):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 64, 64, bands, gdal.GDT_Byte)
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(np.full((64, 64), b * 10, np.uint8))
    ds = None
    return path


def planned(src, opts_json, precision=None, model=FCN):
    """eo_segment_model_load's input shape for opts_json over src."""
    with eoproc._context() as ctx:
        o, ds, m = c_void_p(), c_void_p(), c_void_p()
        try:
            eoproc._check(ctx, _new(ctx, byref(o)))
            eoproc._check(ctx, _set_json(ctx, o, json.dumps(opts_json).encode()))
            eoproc._check(ctx, _open(ctx, byref(ds), str(src).encode()))
            eoproc._check(ctx, _load(ctx, byref(m), str(model).encode(), ds, o,
                                     precision.encode() if precision else None))
            dims, n = (c_int64 * 8)(), c_int32()
            eoproc._check(ctx, _shape(ctx, m, dims, 8, byref(n)))
            return list(dims[:n.value])
        finally:
            _model_free(m)
            _close(ds)
            _free(o)


def test_model_planned_for_the_options(tmp_path):
    rgb = raster(tmp_path / "rgb.tif", 3)
    assert planned(rgb, {"tile": 64, "batch": 3}) == [3, 3, 64, 64]
    assert planned(rgb, {"tile": 32}) == [1, 3, 32, 32]  # batch 1 by default
    assert planned(rgb, {}) == [1, 3, 512, 512]  # tile 512 by default
    # channels: the bands selected, not the raster's count
    five = raster(tmp_path / "five.tif", 5)
    assert planned(five, {"tile": 64, "bands": [5, 3, 1]}) == [1, 3, 64, 64]
    assert planned(rgb, {"tile": 64}, precision="bf16")[1:] == [3, 64, 64]


def test_model_load_refuses_a_bad_precision(tmp_path):
    with pytest.raises(eoproc.Error) as e:
        planned(raster(tmp_path / "rgb.tif", 3), {"tile": 64}, precision="fp16")
    assert e.value.id == "arg.Invalid" and "fp16" in e.value.message


@pytest.mark.parametrize("text,want,words", [
    ('{"nope": 1}', "param.Invalid", ["segment has no option 'nope'"]),
    ('{"tile": "512"}', "param.Invalid", ["'tile'", "an integer"]),
    ('{"bands": [1.5]}', "param.Invalid", ["'bands'", "an array of integers"]),
    ('{"mean": 0.5}', "param.Invalid", ["'mean'", "an array of numbers"]),
    ('{"scale": "1/0"}', "param.Invalid", ["scale", "1/0"]),
    ('{"tile": 3}', "arg.Invalid", ["tile", "8 to 8192"]),
    ('{"activation": "relu"}', "arg.Invalid", ["relu"]),
    ('[1]', "param.Invalid", ["segment options must be a JSON object"]),
])
def test_set_json_refuses_with_one_line(text, want, words):
    with eoproc._context() as ctx:
        o = c_void_p()
        eoproc._check(ctx, _new(ctx, byref(o)))
        try:
            with pytest.raises(eoproc.Error) as e:
                eoproc._check(ctx, _set_json(ctx, o, text.encode()))
        finally:
            _free(o)
    assert e.value.id == want, e.value
    assert "\n" not in e.value.message
    for w in words:
        assert w in e.value.message, e.value.message
