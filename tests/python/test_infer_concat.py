"""Concat in place (graph.c concat_in_place): the plan puts a Concat's inputs
inside its output block so their producers write them where the Concat would
copy them. These graphs are built so that a wrong plan gives wrong numbers:
an input read again after the Concat's output is dead (its block must live
on), an input given twice, a Concat's output fed to another Concat, the
graph's output as the Concat, batch 2 and a concat along H (inputs that are
not consecutive blocks), and parts that would start off a 64-byte boundary.
Every result is checked against numpy on 1 and 2 threads."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from helpers import run_model_threads


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def run(tmp_path, nodes, shape, x):
    g = helper.make_graph(nodes, "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "c.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return run_model_threads(path, x)


N = helper.make_node


def check(outs, want):
    for got in outs:
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(1, 4, 16, 16), (1, 3, 5, 7), (2, 4, 16, 16)])
def test_part_read_after_the_concat_is_dead(tmp_path, shape):
    # c = [relu(x), -x]; d = -c ends c's own reads; f = sigmoid(x) is planned
    # after that, and a (inside c's block) is read once more by e = a + f
    nodes = [N("Relu", ["x"], ["a"]), N("Neg", ["x"], ["b"]),
             N("Concat", ["a", "b"], ["c"], axis=1), N("Neg", ["c"], ["d"]),
             N("Sigmoid", ["x"], ["f"]), N("Add", ["a", "f"], ["e"]),
             N("Concat", ["d", "e"], ["y"], axis=1)]
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    a = np.maximum(x, 0)
    want = np.concatenate([-np.concatenate([a, -x], 1), a + sigmoid(x)], 1)
    check(run(tmp_path, nodes, shape, x), want)


def test_input_given_twice_and_nested(tmp_path):
    shape = (1, 2, 8, 16)
    nodes = [N("Relu", ["x"], ["a"]), N("Sigmoid", ["x"], ["b"]),
             N("Concat", ["a", "b", "a"], ["c"], axis=1),  # a placed once, copied once
             N("Tanh", ["x"], ["t"]),
             N("Concat", ["c", "t"], ["c2"], axis=1),  # c is a Concat's block: copied
             N("Concat", ["t", "b"], ["c3"], axis=1),  # t and b already parts elsewhere
             N("Neg", ["c3"], ["n3"]),
             N("Concat", ["c2", "n3"], ["y"], axis=1)]
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    a, b, t = np.maximum(x, 0), sigmoid(x), np.tanh(x)
    c = np.concatenate([a, b, a], 1)
    want = np.concatenate([np.concatenate([c, t], 1), -np.concatenate([t, b], 1)], 1)
    check(run(tmp_path, nodes, shape, x), want)


@pytest.mark.parametrize("shape,axis", [((1, 1, 12, 16), 2), ((1, 3, 12, 16), 2),
                                        ((1, 3, 12, 16), 3), ((1, 3, 12, 16), -3)])
def test_other_axes(tmp_path, shape, axis):
    # along H with one channel the parts are consecutive blocks (placed in the
    # Concat); with 3 channels, or along W, they are interleaved (copied)
    nodes = [N("Relu", ["x"], ["a"]), N("Neg", ["x"], ["b"]), N("Exp", ["x"], ["e"]),
             N("Concat", ["a", "b", "e"], ["c"], axis=axis), N("Sigmoid", ["x"], ["s"]),
             N("Concat", ["s", "s"], ["s2"], axis=axis), N("Add", ["c", "c"], ["c2"]),
             N("Concat", ["c2", "s2"], ["y"], axis=axis)]
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    c = np.concatenate([np.maximum(x, 0), -x, np.exp(x)], axis)
    s = sigmoid(x)
    want = np.concatenate([2 * c, np.concatenate([s, s], axis)], axis)
    check(run(tmp_path, nodes, shape, x), want)


def test_unet_skip_through_convolutions(tmp_path):
    # the U-Net pattern: an encoder output read by a pool and, much later, by
    # the Concat with the upsampled path; the convolutions' output written
    # into the Concat's block, then read by the decoder's convolution
    rng = np.random.default_rng(4)
    c, h, w = 8, 16, 16

    def const(name, arr):
        return helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.ravel().tolist())

    w1 = rng.standard_normal((c, 3, 1, 1)).astype(np.float32)
    w2 = rng.standard_normal((c, c, 1, 1)).astype(np.float32)
    w3 = rng.standard_normal((4, 2 * c, 1, 1)).astype(np.float32)
    nodes = [N("Conv", ["x", "w1"], ["e"]), N("Relu", ["e"], ["er"]),
             N("MaxPool", ["er"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             N("Conv", ["p", "w2"], ["q"]),
             N("Resize", ["q", "", "sc"], ["u"], mode="nearest"),
             N("Concat", ["u", "er"], ["cat"], axis=1), N("Conv", ["cat", "w3"], ["y"])]
    inits = [const("w1", w1), const("w2", w2), const("w3", w3),
             const("sc", np.array([1, 1, 2, 2], np.float32))]
    g = helper.make_graph(nodes, "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, w])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    path = tmp_path / "u.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    x = rng.standard_normal((1, 3, h, w)).astype(np.float32)
    x64 = x[0].astype(np.float64)
    er = np.maximum(np.einsum("oc,chw->ohw", w1[:, :, 0, 0], x64), 0)
    p = er.reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))
    q = np.einsum("oc,chw->ohw", w2[:, :, 0, 0], p)
    u = q.repeat(2, 1).repeat(2, 2)
    want = np.einsum("oc,chw->ohw", w3[:, :, 0, 0], np.concatenate([u, er], 0))[None]
    for got in run_model_threads(path, x):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_reshapes_in_place(tmp_path):
    # Reshape / Flatten / Squeeze / Unsqueeze / Identity take their input's
    # place: r is read after a's last other reader (the block must live on),
    # a reshape of a Concat part, of a Concat, of the graph input (copied),
    # a reshape feeding a Concat, and a chain of them
    shape = (1, 4, 8, 8)

    def const_i64(name, vals):
        return helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals)

    nodes = [N("Relu", ["x"], ["a"]), N("Reshape", ["a", "s1"], ["r"]),  # [1, 256]
             N("Neg", ["x"], ["b"]), N("Concat", ["a", "b"], ["c"], axis=1),
             N("Reshape", ["b", "s1"], ["rb"]),  # b is inside c's block
             N("Flatten", ["c"], ["fc"], axis=1),  # [1, 512]
             N("Sigmoid", ["x"], ["f"]), N("Flatten", ["f"], ["ff"], axis=1),
             N("Reshape", ["x", "s1"], ["rx"]),  # the graph input: copied
             N("Unsqueeze", ["rb", "ax"], ["u"]), N("Squeeze", ["u", "ax"], ["sq"]),
             N("Identity", ["sq"], ["idn"]),
             N("Add", ["r", "ff"], ["e"]),  # r read last here
             N("Concat", ["e", "idn", "rx", "fc"], ["y"], axis=1)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [const_i64("s1", [1, 256]), const_i64("ax", [0])])
    path = tmp_path / "r.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    a, b = np.maximum(x, 0), -x
    flat = lambda v: v.reshape(1, -1)  # noqa: E731
    want = np.concatenate([flat(a) + flat(sigmoid(x)), flat(b), flat(x),
                           flat(np.concatenate([a, b], 1))], 1)
    for got in run_model_threads(path, x):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
