"""eoproc.Model with named inputs and outputs (eo_model_run_named): models
of ONNX's own test data (Debian's libonnx-testdata, in scripts/deps.sh) with
several inputs, several outputs and int64 inputs that decide shapes, checked
against numpy on inputs made here; and the errors for missing, unknown and
misshapen inputs."""

import pathlib

import numpy as np
import pytest

import eoproc

NODE = pathlib.Path("/usr/share/libonnx-testdata/data/node")


def model(name):
    path = NODE / name / "model.onnx"
    if not path.exists():
        pytest.fail("%s missing: install libonnx-testdata (scripts/deps.sh)" % path)
    return eoproc.Model(path)


def test_two_inputs_broadcast():
    m = model("test_add_bcast")
    assert [i[0] for i in m.inputs] == ["x", "y"]
    assert m.inputs[0][2] == (3, 4, 5) and m.inputs[1][1] == np.float32
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    y = rng.standard_normal(5).astype(np.float32)
    out = m.run({"x": x, "y": y})
    assert list(out) == ["sum"]
    np.testing.assert_array_equal(out["sum"], x + y)
    with pytest.raises(eoproc.Error, match="model input 'y' is not given"):
        m.run({"x": x})
    with pytest.raises(eoproc.Error, match="no input named 'z'"):
        m.run({"x": x, "y": y, "z": y})
    with pytest.raises(eoproc.Error, match="the model fixes"):
        m.run({"x": x[:2], "y": y})
    with pytest.raises(eoproc.Error, match="give a dict"):
        m.run(x)


def test_every_output_returned():
    m = model("test_split_equal_parts_1d")
    assert [o[0] for o in m.outputs] == ["output_1", "output_2", "output_3"]
    x = np.arange(6, dtype=np.float32) * 1.5
    out = m.run({"input": x})
    parts = np.split(x, 3)
    assert list(out) == ["output_1", "output_2", "output_3"]
    for name, want in zip(out, parts):
        np.testing.assert_array_equal(out[name], want)


@pytest.mark.parametrize("shape", [(4, 2, 3), (3, 8, 1), (2, -1, 3), (0, 4, -1)])
def test_int64_input_plans_per_value(shape):
    # the shape input decides the output's shape: planned per value, kept
    m = model("test_reshape_reordered_all_dims")
    assert m.input_shape is None and m.info["planned_at_load"] is False
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out = m.run({"data": x, "shape": np.array(shape, dtype=np.int64)})
    want = np.reshape(x, [x.shape[i] if s == 0 else s for i, s in enumerate(shape)])
    assert out["reshaped"].shape == want.shape
    np.testing.assert_array_equal(out["reshaped"], want)
    again = m.run({"data": x + 1, "shape": np.array(shape, dtype=np.int64)})
    np.testing.assert_array_equal(again["reshaped"], want + 1)


def test_bad_shape_value_is_an_error():
    m = model("test_reshape_reordered_all_dims")
    x = np.zeros((2, 3, 4), dtype=np.float32)
    with pytest.raises(eoproc.Error) as e:
        m.run({"data": x, "shape": np.array([5, 5, 1], dtype=np.int64)})
    assert e.value.id == "model.Invalid"


def test_model_info_cli_and_registry(cli):
    import json

    from helpers import assert_cli_error, run_cli

    path = NODE / "test_reshape_reordered_all_dims" / "model.onnx"
    p = run_cli(cli, "model-info", path)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["planned_at_load"] is False and info["opset"] == 14
    assert info["inputs"] == [
        {"name": "data", "dtype": "float32", "shape": [2, 3, 4]},
        {"name": "shape", "dtype": "int64", "shape": [3]},
    ]
    assert info["outputs"][0]["name"] == "reshaped"
    assert eoproc.run("model_info", model=str(path))["inputs"] == info["inputs"]
    det = pathlib.Path(__file__).resolve().parents[1] / "infer" / "fixtures" / "unsupported_det.onnx"
    assert_cli_error(run_cli(cli, "model-info", det), ["model.UnsupportedOp"])
