"""Graphs that the ONNX fuzzer found to reach undefined behaviour or to
exhaust memory while the model was planned (issue 16), rebuilt here with
the onnx package, each beside a well-formed twin checked against numpy:

- Gemm's transA/transB are flags (0 or 1); 17 was used as an array index;
- Slice with a step of +-2^63-1 overflowed the element count;
- ConstantOfShape folded at load into gigabytes from a file of a few
  kilobytes: constant folding is now bounded (8 times the file, at least
  256 MiB)."""

import numpy as np
import pytest

import onnx
from onnx import TensorProto, helper, numpy_helper

import eoproc

INT64_MAX = 2**63 - 1


def save(tmp_path, name, nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    path = tmp_path / (name + ".onnx")
    onnx.save(model, str(path))
    return path


def gemm_model(tmp_path, trans_a):
    a = helper.make_tensor_value_info("A", TensorProto.FLOAT, [3, 2])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 4])
    b = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4) / 7, "B")
    node = helper.make_node("Gemm", ["A", "B"], ["Y"], transA=trans_a)
    return save(tmp_path, "gemm%d" % trans_a, [node], [a], [y], [b]), numpy_helper.to_array(b)


def test_gemm_transpose_flags(tmp_path):
    path, b = gemm_model(tmp_path, 1)
    x = np.random.default_rng(3).standard_normal((3, 2)).astype(np.float32)
    out = eoproc.Model(path).run({"A": x})["Y"]
    np.testing.assert_allclose(out, x.T @ b, rtol=1e-5, atol=1e-6)
    for bad in (2, 17, -1):
        path, _ = gemm_model(tmp_path, bad)
        with pytest.raises(eoproc.Error) as e:
            eoproc.Model(path)
        assert e.value.id == "model.Invalid"
        assert "transA and transB must be 0 or 1" in str(e.value) and str(bad) in str(e.value)


@pytest.mark.parametrize("start,end,step", [(1, 6, INT64_MAX), (0, 6, INT64_MAX),
                                            (5, 0, -INT64_MAX), (-1, -7, -INT64_MAX - 1),
                                            (4, 6, 3), (6, -8, -2)])
def test_slice_with_huge_steps(tmp_path, start, end, step):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 6])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.array([v], np.int64), n)
             for v, n in ((start, "s"), (end, "e"), (1, "a"), (step, "p"))]
    node = helper.make_node("Slice", ["X", "s", "e", "a", "p"], ["Y"])
    path = save(tmp_path, "slice", [node], [x], [y], inits)
    data = np.arange(12, dtype=np.float32).reshape(2, 6)
    out = eoproc.Model(path).run({"X": data})["Y"]
    want = data[:, start:end:step]  # ONNX Slice clamps as Python's slicing does
    assert out.shape == want.shape
    np.testing.assert_array_equal(out, want)


def const_of_shape_model(tmp_path, count):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])
    shape = numpy_helper.from_array(np.array([count], np.int64), "shape")
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["C"],
                              value=numpy_helper.from_array(np.array([1.5], np.float32))),
             helper.make_node("ReduceSum", ["C"], ["S"], keepdims=1),
             helper.make_node("Add", ["X", "S"], ["Y"])]
    return save(tmp_path, "cos%d" % count, nodes, [x], [y], [shape])


def test_constant_folding_is_bounded(tmp_path):
    small = const_of_shape_model(tmp_path, 1000)
    out = eoproc.Model(small).run({"X": np.array([2.0], np.float32)})["Y"]
    np.testing.assert_array_equal(out, np.array([2.0 + 1.5 * 1000], np.float32))
    big = const_of_shape_model(tmp_path, 1 << 28)  # 1 GiB of float32 from a ~200-byte file
    assert big.stat().st_size < 1000
    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(big)
    assert e.value.id == "limit.Exceeded"
    assert "folding constants would make 1024 MiB (limit 256 MiB" in str(e.value)
