"""Max pooling's 2 x 2, stride-2 fast path (kern_tmpl.h pmax2) and the
planes split over threads (spatial.c), against numpy: every SIMD table,
odd and even widths, NaN winning as in PyTorch's max_pool2d, ceil_mode
leaving a last odd column to the general path."""

import ctypes

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import eoproc
from eoproc import _lib


def force(isa):
    f = getattr(_lib.lib, "eo_exp_force_kernels")
    f.restype, f.argtypes = ctypes.c_int32, [ctypes.c_char_p]
    return f(isa)


def ref_pool(x, ceil):
    c, h, w = x.shape
    oh = (h - 2 + (1 if ceil else 0)) // 2 + 1 if ceil else (h - 2) // 2 + 1
    ow = (w - 2 + (1 if ceil else 0)) // 2 + 1 if ceil else (w - 2) // 2 + 1
    xp = np.full((c, 2 * oh, 2 * ow), -np.inf, np.float32)
    xp[:, :min(h, 2 * oh), :min(w, 2 * ow)] = x[:, :2 * oh, :2 * ow]
    win = xp.reshape(c, oh, 2, ow, 2).transpose(0, 1, 3, 2, 4).reshape(c, oh, ow, 4)
    out = win.max(-1)
    out[np.isnan(win).any(-1)] = np.nan
    return out


@pytest.mark.parametrize("isa", [b"portable", b"avx2", b"avx512"])
@pytest.mark.parametrize("c,h,w,ceil", [(3, 9, 1 + 32, 0), (2, 8, 70, 0), (64, 40, 81, 0),
                                        (5, 7, 35, 1), (300, 34, 34, 0)])
def test_maxpool_2x2_matches_numpy(tmp_path, isa, c, h, w, ceil):
    if not force(isa):
        pytest.skip("this CPU has no %s" % isa.decode())
    try:
        node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2],
                                ceil_mode=ceil)
        g = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        path = tmp_path / "p.onnx"
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
        rng = np.random.default_rng(c + h + w)
        x = rng.standard_normal((1, c, h, w)).astype(np.float32)
        x.flat[rng.choice(x.size, 7, replace=False)] = np.nan
        for threads in (1, 2):
            with eoproc._context() as ctx:
                _lib.eo_ctx_set_threads(ctx, threads)
            got = eoproc.Model(path).run(x)[0]
            np.testing.assert_array_equal(got, ref_pool(x[0], ceil))
    finally:
        force(None)
        with eoproc._context() as ctx:
            _lib.eo_ctx_set_threads(ctx, 0)
