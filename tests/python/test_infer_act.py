"""MatMul and Gemm on the GEMM micro-kernel (left operand packed per job);
Sigmoid on the vector kernels (kern_tmpl.h vact: 1 / (1 + e^-v) through
vexp1) and fused into a convolution whose output rows do not fill the
micro-kernel's (a 1-output head: the edge-tile path activates the valid
cells after the copy); ConvTranspose's stride = kernel scatter with its
activation. All against numpy in float64 on every SIMD table: lengths that
leave vector tails, magnitudes past exp's range, NaN, 1 and 2 threads."""

import ctypes

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import eoproc
from eoproc import _lib
from helpers import run_model_threads


def force(isa):
    f = getattr(_lib.lib, "eo_exp_force_kernels")
    f.restype, f.argtypes = ctypes.c_int32, [ctypes.c_char_p]
    return f(isa)


def sigmoid64(v):
    v = v.astype(np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-v))


def save(path, nodes, shape, inits=()):
    g = helper.make_graph(nodes, "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          list(inits))
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


ISAS = [b"portable", b"avx2", b"avx512"]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("n", [3, 16, 37, 1000])
def test_sigmoid_node(tmp_path, isa, n):
    if not force(isa):
        pytest.skip("this CPU has no %s" % isa.decode())
    try:
        save(tmp_path / "s.onnx", [helper.make_node("Sigmoid", ["x"], ["y"])], [1, n])
        rng = np.random.default_rng(n)
        x = (rng.standard_normal((1, n)) * 8).astype(np.float32)
        special = np.array([0, -1, 1, 30, -30, 88.5, -88.5, 100, -100, 1e30, -1e30, np.nan],
                           np.float32)
        x.flat[:min(n, special.size)] = special[:n]
        got = eoproc.Model(tmp_path / "s.onnx").run(x)
        want = sigmoid64(x)
        assert np.isnan(got).sum() == np.isnan(want).sum() and np.isnan(got[np.isnan(want)]).all()
        ok = ~np.isnan(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6, atol=1e-30)
    finally:
        force(None)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("m,h,w", [(1, 37, 61), (1, 64, 64), (3, 20, 50), (9, 17, 33)])
def test_conv_with_sigmoid_on_edge_tiles(tmp_path, isa, m, h, w):
    if not force(isa):
        pytest.skip("this CPU has no %s" % isa.decode())
    try:
        c = 16
        rng = np.random.default_rng(m * h * w)
        wt = (rng.standard_normal((m, c, 1, 1)) * 0.5).astype(np.float32)
        b = rng.standard_normal(m).astype(np.float32)
        inits = [helper.make_tensor("w", TensorProto.FLOAT, wt.shape, wt.ravel().tolist()),
                 helper.make_tensor("b", TensorProto.FLOAT, b.shape, b.tolist())]
        save(tmp_path / "h.onnx", [helper.make_node("Conv", ["x", "w", "b"], ["c"]),
                                   helper.make_node("Sigmoid", ["c"], ["y"])], [1, c, h, w], inits)
        x = rng.standard_normal((1, c, h, w)).astype(np.float32)
        z = np.einsum("oc,chw->ohw", wt[:, :, 0, 0].astype(np.float64), x[0]) + b[:, None, None]
        want = sigmoid64(z)[None]
        for got in run_model_threads(tmp_path / "h.onnx", x):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-7)
    finally:
        force(None)


def convt_tiled64(x, wt, b):
    """ConvTranspose with stride = kernel, no pads: each output pixel one term."""
    c, h, w = x.shape
    _, m, kh, kw = wt.shape
    out = np.einsum("chw,cmyx->mhywx", x.astype(np.float64), wt.astype(np.float64))
    return out.reshape(m, h * kh, w * kw) + b[:, None, None]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("k,act,h,w", [(2, "Relu", 9, 37), (2, "Sigmoid", 16, 16),
                                       (3, "Relu", 5, 21), (2, None, 7, 40),
                                       # in bands of 8 input rows, the last one short
                                       (2, "Relu", 37, 300), (3, None, 30, 150)])
def test_convtranspose_scatter_with_activation(tmp_path, isa, k, act, h, w):
    # the stride = kernel scatter (zip2 for 2 wide) with bias and activation
    # applied row by row; large enough images go in bands of input rows
    # (GEMM and scatter per band, on the threads)
    if not force(isa):
        pytest.skip("this CPU has no %s" % isa.decode())
    try:
        c, m = 6, 5
        rng = np.random.default_rng(k * h * w)
        wt = rng.standard_normal((c, m, k, k)).astype(np.float32)
        b = rng.standard_normal(m).astype(np.float32)
        inits = [helper.make_tensor("w", TensorProto.FLOAT, wt.shape, wt.ravel().tolist()),
                 helper.make_tensor("b", TensorProto.FLOAT, b.shape, b.tolist())]
        nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["t" if act else "y"],
                                  kernel_shape=[k, k], strides=[k, k])]
        if act:
            nodes.append(helper.make_node(act, ["t"], ["y"]))
        save(tmp_path / "t.onnx", nodes, [1, c, h, w], inits)
        x = rng.standard_normal((1, c, h, w)).astype(np.float32)
        z = convt_tiled64(x[0], wt, b)
        want = (np.maximum(z, 0) if act == "Relu" else sigmoid64(z) if act else z)[None]
        for got in run_model_threads(tmp_path / "t.onnx", x):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    finally:
        force(None)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("sa,sb", [((1, 130, 300), (1, 300, 50)),  # k in 3 blocks, edges
                                   ((2, 3, 200, 32), (2, 3, 32, 97)),  # batches (heads)
                                   ((4, 70, 256), (256, 32)),  # B broadcast, n < a panel
                                   ((1, 7), (7, 1000)), ((5, 1), (3, 1, 9)),  # k = 1
                                   ((64,), (64, 20)), ((9, 33), (33,))])  # 1-D operands
def test_matmul(tmp_path, isa, sa, sb):
    # MatMul on the GEMM micro-kernel: row blocks packed per job, column
    # panels copied per k block, edge tiles; against numpy in float64
    if not force(isa):
        pytest.skip("this CPU has no %s" % isa.decode())
    try:
        rng = np.random.default_rng(sum(sa) + sum(sb))
        bm = rng.standard_normal(sb).astype(np.float32)
        bm.flat[5] = np.nan  # one NaN reaches only its own column's outputs
        inits = [helper.make_tensor("b", TensorProto.FLOAT, bm.shape, bm.ravel().tolist())]
        save(tmp_path / "m.onnx", [helper.make_node("MatMul", ["x", "b"], ["y"])], sa, inits)
        x = rng.standard_normal(sa).astype(np.float32)
        want = np.matmul(x.astype(np.float64), bm.astype(np.float64))
        for got in run_model_threads(tmp_path / "m.onnx", x):
            assert got.shape == want.shape
            assert (np.isnan(got) == np.isnan(want)).all()
            ok = ~np.isnan(want)
            np.testing.assert_allclose(got[ok], want[ok], rtol=1e-4, atol=1e-4)
    finally:
        force(None)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("ta,tb,m,k,n,cshape,alpha,beta",
                         [(0, 0, 37, 150, 70, (70,), 1.0, 1.0),
                          (1, 0, 20, 9, 49, (20, 1), 0.5, 2.0),
                          (0, 1, 3, 300, 100, (3, 100), 1.0, -1.0),  # a Linear layer
                          (1, 1, 65, 33, 5, None, 2.0, 1.0), (0, 1, 1, 8, 1, (1,), 1.0, 0.5)])
def test_gemm(tmp_path, isa, ta, tb, m, k, n, cshape, alpha, beta):
    if not force(isa):
        pytest.skip("this CPU has no %s" % isa.decode())
    try:
        rng = np.random.default_rng(m * k * n)
        bm = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
        inits = [helper.make_tensor("b", TensorProto.FLOAT, bm.shape, bm.ravel().tolist())]
        ins = ["x", "b"]
        cm = None
        if cshape:
            cm = rng.standard_normal(cshape).astype(np.float32)
            inits.append(helper.make_tensor("c", TensorProto.FLOAT, cm.shape, cm.ravel().tolist()))
            ins.append("c")
        node = helper.make_node("Gemm", ins, ["y"], transA=ta, transB=tb, alpha=alpha, beta=beta)
        save(tmp_path / "g.onnx", [node], (k, m) if ta else (m, k), inits)
        x = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
        a64 = x.astype(np.float64).T if ta else x.astype(np.float64)
        b64 = bm.astype(np.float64).T if tb else bm.astype(np.float64)
        want = alpha * a64 @ b64 + (beta * cm.astype(np.float64) if cm is not None else 0)
        for got in run_model_threads(tmp_path / "g.onnx", x):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    finally:
        force(None)


@pytest.mark.parametrize("op,axis", [("Softmax", -1), ("Softmax", 1), ("LogSoftmax", -1),
                                     ("Hardmax", -1)])
def test_softmax_rows_on_threads(tmp_path, op, axis):
    # 2 x 2048 x 256 elements: rows in jobs of ~64K elements on the threads
    shape = (1, 2, 2048, 256)
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    save(tmp_path / "s.onnx", [helper.make_node(op, ["x"], ["y"], axis=axis)], shape)
    x64 = x.astype(np.float64)
    z = x64 - x64.max(axis=axis, keepdims=True)
    if op == "Softmax":
        want = np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    elif op == "LogSoftmax":
        want = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    else:
        want = np.zeros_like(x64)
        np.put_along_axis(want, np.expand_dims(x.argmax(axis=axis), axis), 1.0, axis=axis)
    for got in run_model_threads(tmp_path / "s.onnx", x):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_gelu_and_erf_on_threads(tmp_path):
    # GELU as exported before opset 20 (Div Erf Add Mul Mul: fused into one
    # node) and a plain Erf, 300,000 elements: spans on the threads
    import math

    n = 300_000
    inits = [helper.make_tensor(k, TensorProto.FLOAT, [], [v])
             for k, v in (("r2", math.sqrt(2.0)), ("one", 1.0), ("half", 0.5))]
    nodes = [helper.make_node("Div", ["x", "r2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
             helper.make_node("Add", ["e", "one"], ["a"]), helper.make_node("Mul", ["x", "a"], ["m"]),
             helper.make_node("Mul", ["m", "half"], ["g"]), helper.make_node("Erf", ["x"], ["ex"]),
             helper.make_node("Concat", ["g", "ex"], ["y"], axis=1)]
    save(tmp_path / "g.onnx", nodes, [1, n], inits)
    x = (np.random.default_rng(8).standard_normal((1, n)) * 3).astype(np.float32)
    erf = np.vectorize(math.erf)
    x64 = x.astype(np.float64)
    want = np.concatenate([x64 * 0.5 * (1 + erf(x64 / math.sqrt(2.0))), erf(x64)], 1)
    for got in run_model_threads(tmp_path / "g.onnx", x):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,axis", [((1, 16384, 32), -1), ((2, 64, 4096), 1), ((5, 7), -1)])
def test_layernorm_rows_on_threads(tmp_path, shape, axis):
    rng = np.random.default_rng(9)
    norm = int(np.prod(shape[axis:])) if axis >= 0 else shape[-1]
    nshape = shape[axis:] if axis >= 0 else shape[-1:]
    sc = rng.standard_normal(nshape).astype(np.float32)
    bi = rng.standard_normal(nshape).astype(np.float32)
    inits = [helper.make_tensor("s", TensorProto.FLOAT, sc.shape, sc.ravel().tolist()),
             helper.make_tensor("b", TensorProto.FLOAT, bi.shape, bi.ravel().tolist())]
    g = helper.make_graph([helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"],
                                            axis=axis, epsilon=1e-5)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]),
              tmp_path / "l.onnx")
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    rows = x.astype(np.float64).reshape(-1, norm)
    z = (rows - rows.mean(1, keepdims=True)) / np.sqrt(rows.var(1, keepdims=True) + 1e-5)
    want = z.reshape(shape) * sc + bi
    for got in run_model_threads(tmp_path / "l.onnx", x):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,perm", [((1, 300, 1000), (0, 2, 1)),  # one plane, 5 bands
                                        ((3, 130, 40, 50), (0, 3, 1, 2)),  # planes x bands
                                        ((2, 70, 3, 700), (2, 0, 3, 1)), ((4, 5, 6), (2, 1, 0))])
def test_transpose_bands_on_threads(tmp_path, shape, perm):
    save(tmp_path / "t.onnx", [helper.make_node("Transpose", ["x"], ["y"], perm=list(perm))],
         shape)
    x = np.random.default_rng(10).standard_normal(shape).astype(np.float32)
    for got in run_model_threads(tmp_path / "t.onnx", x):
        np.testing.assert_array_equal(got, x.transpose(perm))
