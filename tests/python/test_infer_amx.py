"""BF16 convolutions on AMX tiles (src/infer/kern_bf16.c, conv.c).

On a CPU with AMX-BF16, a model loaded with precision "bf16" runs its
convolutions of 16 or more channels in and out on the tile unit: stride-1
convolutions directly (no im2col), transposed ones as a 1x1 product before
col2im, strided ones through im2col. Every product is of two bfloat16 values,
summed in FP32, so the result must equal, up to FP32 summation error, the
convolution computed here in float64 from the input and weights rounded to
bfloat16 (round to nearest even) with the bias in FP32: an independent
reference that an indexing, padding or packing mistake cannot meet.
EOPROC_AMX=off runs the AVX512_BF16 kernels instead."""

import os
import pathlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import eoproc


def _has_amx():
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return (" amx_bf16" in flags and " avx512_bf16" in flags
            and os.environ.get("EOPROC_SIMD", "") in ("", "avx512"))


pytestmark = pytest.mark.skipif(not _has_amx(), reason="this CPU has no AMX-BF16")


def bf16(a):
    """float32 -> the nearest bfloat16 (ties to even), as float64."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).astype(np.float64)


def conv_ref(x, w, b, pads, dil, stride):
    """x [c][h][w], w [m][c][kh][kw]: float64 convolution and the sum of |terms|."""
    m, c, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[1] - dil * (kh - 1) - 1) // stride + 1
    ow = (xp.shape[2] - dil * (kw - 1) - 1) // stride + 1
    out = np.zeros((m, oh, ow)) + b[:, None, None]
    mag = np.zeros((m, oh, ow)) + np.abs(b)[:, None, None]
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dil, kx * dil
            win = xp[:, y0:y0 + stride * (oh - 1) + 1:stride, x0:x0 + stride * (ow - 1) + 1:stride]
            out += np.einsum("mc,chw->mhw", w[:, :, ky, kx], win)
            mag += np.einsum("mc,chw->mhw", np.abs(w[:, :, ky, kx]), np.abs(win))
    return out, mag


def convt_ref(x, w, b, pads, stride):
    """x [c][h][w], w [c][m][kh][kw]: float64 transposed convolution, sum of |terms|."""
    c, m, kh, kw = w.shape
    _, h, wd = x.shape
    full_h, full_w = (h - 1) * stride + kh, (wd - 1) * stride + kw
    out = np.zeros((m, full_h, full_w))
    mag = np.zeros((m, full_h, full_w))
    for ky in range(kh):
        for kx in range(kw):
            out[:, ky:ky + stride * (h - 1) + 1:stride, kx:kx + stride * (wd - 1) + 1:stride] += \
                np.einsum("cm,chw->mhw", w[:, :, ky, kx], x)
            mag[:, ky:ky + stride * (h - 1) + 1:stride, kx:kx + stride * (wd - 1) + 1:stride] += \
                np.einsum("cm,chw->mhw", np.abs(w[:, :, ky, kx]), np.abs(x))
    sl = (slice(None), slice(pads[0], full_h - pads[2]), slice(pads[1], full_w - pads[3]))
    return out[sl] + b[:, None, None], mag[sl] + np.abs(b)[:, None, None]


def make(tmp_path, op, cin, cout, k, h, w, stride=1, pads=(0, 0, 0, 0), dil=1, relu=False,
         seed=0):
    rng = np.random.default_rng(seed)
    shape = (cin, cout, k, k) if op == "ConvTranspose" else (cout, cin, k, k)
    wt = (rng.standard_normal(shape) * 0.2).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    attrs = dict(strides=[stride, stride], pads=list(pads), kernel_shape=[k, k])
    if dil > 1:
        attrs["dilations"] = [dil, dil]
    nodes = [helper.make_node(op, ["x", "w", "b"], ["y" if relu else "z"], **attrs)]
    if relu:
        nodes.append(helper.make_node("Relu", ["y"], ["z"]))
    g = helper.make_graph(nodes, "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, h, w])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(wt, "w"), numpy_helper.from_array(b, "b")])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    x = rng.standard_normal((1, cin, h, w)).astype(np.float32)
    return path, x, wt, b


CONVS = [
    # cin, cout, k, h, w, stride, pads, dilation
    (32, 32, 3, 24, 64, 1, (1, 1, 1, 1), 1),   # whole tiles of 32 pixels and channels
    (33, 17, 3, 19, 37, 1, (1, 0, 2, 1), 1),   # odd channels, asymmetric pads, edge tiles
    (64, 40, 5, 21, 70, 1, (2, 2, 2, 2), 1),   # 5x5, channels over two groups of 32
    (16, 64, 3, 50, 33, 1, (2, 2, 2, 2), 2),   # dilated (atrous)
    (48, 96, 1, 7, 131, 1, (0, 0, 0, 0), 1),   # 1x1, a last group of 16 channels
    (32, 32, 1, 1, 1, 1, (0, 0, 0, 0), 1),     # one pixel
    (40, 24, 3, 33, 45, 2, (1, 1, 1, 1), 1),   # stride 2: im2col on the tile kernel
    (100, 16, 1, 17, 30, 2, (0, 0, 0, 0), 1),  # a long k with a short last group
]


@pytest.mark.parametrize("cin,cout,k,h,w,stride,pads,dil", CONVS)
@pytest.mark.parametrize("threads", [1, 2])
def test_conv_equals_bf16_rounded_float64(tmp_path, cin, cout, k, h, w, stride, pads, dil,
                                          threads):
    path, x, wt, b = make(tmp_path, "Conv", cin, cout, k, h, w, stride, pads, dil, relu=True)
    with eoproc._context() as c:
        eoproc._lib.eo_ctx_set_threads(c, threads)
    try:
        m = eoproc.Model(path, precision="bf16")
        assert m.info["precision"] == "bf16" and m.info["bf16_kernel"] == "amx"
        got = m.run(x)[0].astype(np.float64)
    finally:
        with eoproc._context() as c:
            eoproc._lib.eo_ctx_set_threads(c, 0)
    ref, mag = conv_ref(bf16(x[0]), bf16(wt), b.astype(np.float64), pads, dil, stride)
    ref = np.maximum(ref, 0.0)
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= 1e-5 * mag + 1e-6), np.abs(got - ref).max()
    # and it is BF16, not FP32: the FP32 convolution is further away than rounding allows
    ref32, _ = conv_ref(x[0].astype(np.float64), wt.astype(np.float64), b.astype(np.float64),
                        pads, dil, stride)
    assert np.abs(got - np.maximum(ref32, 0.0)).max() > 1e-3


CONVTS = [
    # cin, cout, k, h, w, stride, pads
    (32, 32, 2, 24, 40, 2, (0, 0, 0, 0)),  # the U-Net's up-sampling: a plain scatter
    (64, 48, 2, 9, 35, 2, (0, 0, 0, 0)),
    (40, 16, 3, 12, 20, 2, (0, 0, 0, 0)),  # overlapping taps
    (32, 24, 4, 10, 13, 2, (1, 1, 1, 1)),  # padded
]


@pytest.mark.parametrize("cin,cout,k,h,w,stride,pads", CONVTS)
def test_conv_transpose_equals_bf16_rounded_float64(tmp_path, cin, cout, k, h, w, stride, pads):
    path, x, wt, b = make(tmp_path, "ConvTranspose", cin, cout, k, h, w, stride, pads, relu=True)
    m = eoproc.Model(path, precision="bf16")
    assert m.info["bf16_kernel"] == "amx"
    got = m.run(x)[0].astype(np.float64)
    ref, mag = convt_ref(bf16(x[0]), bf16(wt), b.astype(np.float64), pads, stride)
    ref = np.maximum(ref, 0.0)
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= 1e-5 * mag + 1e-6), np.abs(got - ref).max()


def test_non_finite_input_stays_where_it_is(tmp_path):
    """Padding and the tiles' unused rows are zeros, never stale data: a NaN
    in one pixel reaches only the outputs whose window covers it."""
    path, x, wt, b = make(tmp_path, "Conv", 32, 32, 3, 20, 40, 1, (1, 1, 1, 1))
    m = eoproc.Model(path, precision="bf16")
    x[0, 5, 10, 20] = np.nan
    got = m.run(x)[0]
    bad = np.zeros(got.shape[1:], bool)
    bad[9:12, 19:22] = True
    assert np.isnan(got[:, bad]).all() and not np.isnan(got[:, ~bad]).any()


def test_amx_off_runs_the_avx512_bf16_kernels(tmp_path, monkeypatch):
    path, x, wt, b = make(tmp_path, "Conv", 48, 96, 1, 7, 131)
    amx = eoproc.Model(path, precision="bf16")
    monkeypatch.setenv("EOPROC_AMX", "off")
    dot = eoproc.Model(path, precision="bf16")
    assert amx.info["bf16_kernel"] == "amx" and dot.info["bf16_kernel"] == "avx512_bf16"
    ref, mag = conv_ref(bf16(x[0]), bf16(wt), b.astype(np.float64), (0, 0, 0, 0), 1, 1)
    for m in (amx, dot):  # the same products either way (1x1: no Winograd)
        got = m.run(x)[0].astype(np.float64)
        assert np.all(np.abs(got - ref) <= 1e-5 * mag + 1e-6)
    assert "bf16_kernel" not in eoproc.Model(path).info
