"""eoproc.Model against PyTorch's saved outputs (tests/infer/fixtures, made
by tests/infer/make_fixtures.py) and against numpy, plus its errors and its
use from several threads at once."""

import pathlib
import threading

import numpy as np
import pytest

import eoproc

FIX = pathlib.Path(__file__).resolve().parents[1] / "infer" / "fixtures"


def cases():
    out = []
    for line in (FIX / "cases.txt").read_text().split("\n"):
        if line.strip():
            name, model, xin, xout, *shape = line.split()
            out.append((name, model, xin, xout, tuple(int(s) for s in shape)))
    return out


@pytest.mark.parametrize("case", cases(), ids=lambda c: c[0])
def test_matches_pytorch(case):
    name, model, xin, xout, shape = case
    x = np.fromfile(FIX / xin, dtype=np.float32).reshape(shape)
    want = np.fromfile(FIX / xout, dtype=np.float32)
    m = eoproc.Model(FIX / model, input_shape=shape)
    y = m.run(x)
    assert y.shape == m.output_shape and y.dtype == np.float32
    assert y.size == want.size
    assert np.max(np.abs(y.ravel() - want)) <= 1e-4


def test_batchless_input_and_info():
    x = np.fromfile(FIX / "unet_plain_op13_l7.in.f32", dtype=np.float32).reshape(3, 64, 64)
    want = np.fromfile(FIX / "unet_plain_op13_l7.out.f32", dtype=np.float32).reshape(2, 64, 64)
    with eoproc.Model(FIX / "unet_plain_op13.onnx") as m:
        assert m.input_shape == (1, 3, 64, 64) and m.output_shape == (1, 2, 64, 64)
        y = m.run(x.astype(np.float64))  # converted to float32
        assert y.shape == (2, 64, 64)
        assert np.max(np.abs(y - want)) <= 1e-4
        info = m.info
        # batch norms of the op13 export are folded into the convolutions,
        # and every ReLU into its convolution's epilogue
        assert info["onnx_nodes"] == 52 and info["nodes"] == 24
        assert 5e7 < info["flops"] < 1e8


def test_ops_against_numpy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    w = np.array([[(i - 2 * j) / 4 for j in range(4)] for i in range(4)], np.float32)
    t = x.transpose(0, 2, 3, 1).reshape(1, 36, 4) @ w
    s = t[:, :18] - t[:, 18:]
    p = np.pad(s, ((0, 0), (1, 1), (0, 0)), mode="edge").astype(np.float64)
    e = np.exp(p - p.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    y = eoproc.Model(FIX / "ops_op13.onnx").run(x)
    assert y.shape == (1, 20, 4)
    assert np.max(np.abs(y - want)) <= 1e-5


def test_errors(tmp_path):
    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(FIX / "unsupported_det.onnx")
    assert e.value.id == "model.UnsupportedOp"
    assert "Det" in e.value.message and "my_det" in e.value.message
    data = (FIX / "resunet18_op13.onnx").read_bytes()
    for cut in (10, 1000, len(data) // 2, len(data) - 1):
        bad = tmp_path / "cut.onnx"
        bad.write_bytes(data[:cut])
        with pytest.raises(eoproc.Error) as e:
            eoproc.Model(bad)
        assert e.value.id == "model.Invalid", cut
        assert "cut.onnx" in e.value.message
    (tmp_path / "text.onnx").write_text("not a model at all\n")
    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(tmp_path / "text.onnx")
    assert e.value.id == "model.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(tmp_path / "missing.onnx")
    assert e.value.id == "io.NotFound"
    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(FIX / "deeplabv3_op17.onnx")  # dynamic input: needs a shape
    assert e.value.id == "arg.Invalid"
    m = eoproc.Model(FIX / "deeplabv3_op17.onnx", input_shape=(1, 3, 48, 80))
    assert m.output_shape == (1, 4, 48, 80)
    with pytest.raises(eoproc.Error) as e:
        m.run(np.zeros((1, 3, 64, 64), np.float32))
    assert e.value.id == "arg.Invalid"
    m.close()
    with pytest.raises(eoproc.Error):
        m.run(np.zeros((1, 3, 48, 80), np.float32))


def test_cancel_from_progress():
    m = eoproc.Model(FIX / "unet_plain_op17.onnx")
    seen = []

    def progress(fraction, stage):
        seen.append(fraction)
        return fraction > 0.5

    with pytest.raises(eoproc.Error) as e:
        m.run(np.zeros(m.input_shape, np.float32), progress=progress)
    assert e.value.id == "cancelled" and seen and seen[-1] < 1.0
    assert m.run(np.zeros(m.input_shape, np.float32)).shape == m.output_shape


def test_threads_share_one_model():
    x = np.fromfile(FIX / "mobilenet_op13_l7.in.f32", dtype=np.float32).reshape(1, 3, 64, 64)
    want = np.fromfile(FIX / "mobilenet_op13_l7.out.f32", dtype=np.float32).reshape(1, 1, 64, 64)
    m = eoproc.Model(FIX / "mobilenet_op13.onnx")
    errors = []

    def work():
        try:
            for _ in range(5):
                assert np.max(np.abs(m.run(x) - want)) <= 1e-4
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_portable_path_from_environment():
    """EOPROC_SIMD=portable (read once per process) forces the plain C kernels."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, eoproc, pathlib\n"
        "fix = pathlib.Path(%r)\n"
        "worst = 0.0\n"
        "for name in ('mobilenet_op13', 'deeplabv3_op17', 'classifier_op17'):\n"
        "    line = [l for l in (fix / 'cases.txt').read_text().split('\\n')\n"
        "            if l.startswith(name + '_l7')][0].split()\n"
        "    shape = tuple(int(s) for s in line[4:])\n"
        "    m = eoproc.Model(fix / line[1], input_shape=shape)\n"
        "    x = np.fromfile(fix / line[2], dtype=np.float32).reshape(shape)\n"
        "    want = np.fromfile(fix / line[3], dtype=np.float32)\n"
        "    worst = max(worst, float(np.abs(m.run(x).ravel() - want).max()))\n"
        "print(m.info['simd'], eoproc.build_info()['simd'], worst)\n" % str(FIX)
    )
    env = dict(os.environ, EOPROC_SIMD="portable")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    simd, build_simd, worst = out.stdout.split()
    assert simd == "portable" and build_simd == "portable"
    assert float(worst) <= 1e-4


def test_pad_modes_against_numpy():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 5, 7)).astype(np.float32)
    r = np.pad(x, ((0, 0), (0, 0), (2, 1), (1, 3)), mode="reflect")
    want = np.pad(r[:, :-1, 1:, :], ((0, 0), (1, 0), (0, 0), (0, 2)), constant_values=0.5)
    y = eoproc.Model(FIX / "pad_op13.onnx").run(x)
    assert y.shape == want.shape == (1, 2, 7, 13)
    assert np.array_equal(y, want)
