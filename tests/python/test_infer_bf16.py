"""Model(path, precision="bf16") (convolutions in bfloat16 products summed
in float32 on AVX512_BF16) against the same model in FP32 and against
PyTorch's saved outputs: class maps agree on >= 99.9% of pixels and
probabilities within 2e-2 on the U-Net and SegFormer-style fixtures; on
the demo model (models/buildings.onnx, rendered scenes with their truth
masks) 99.9% of probabilities within 2e-2 and IoU with the truth as FP32's. Where the CPU lacks AVX512_BF16 the model
runs in FP32 with a warning: tested by forcing EOPROC_SIMD=avx2."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import eoproc

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "infer" / "fixtures"


def _has_bf16():
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags and os.environ.get("EOPROC_SIMD", "") in ("", "avx512")


needs_bf16 = pytest.mark.skipif(not _has_bf16(), reason="this CPU has no AVX512_BF16")


def softmax(y, axis):
    e = np.exp(y - y.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


@needs_bf16
@pytest.mark.parametrize("name", ["unet_plain_op13", "segformer_op13", "segformer_op17"])
def test_bf16_class_maps_match_fp32_and_pytorch(name):
    m32 = eoproc.Model(FIX / (name + ".onnx"))
    m16 = eoproc.Model(FIX / (name + ".onnx"), precision="bf16")
    assert m32.info["precision"] == "fp32" and m16.info["precision"] == "bf16"
    for case in ("_l7", "_random"):
        x = np.fromfile(FIX / (name + case + ".in.f32"), dtype=np.float32)
        x = x.reshape(m32.input_shape)
        torch = np.fromfile(FIX / (name + case + ".out.f32"), dtype=np.float32)
        torch = torch.reshape(m32.output_shape)
        a, b = m32.run(x), m16.run(x)
        # BF16 really ran: not bit-identical to FP32, which matches PyTorch to 1e-5
        assert np.abs(a - torch).max() < 1e-4
        assert np.abs(b - a).max() > 1e-5
        pa, pb, pt = softmax(a, 1), softmax(b, 1), softmax(torch, 1)
        assert np.abs(pb - pa).max() <= 2e-2 and np.abs(pb - pt).max() <= 2e-2
        same = pb.argmax(1) == pa.argmax(1)
        if case == "_l7":  # an image: >= 99.9% of pixels
            assert same.mean() >= 0.999 and (pb.argmax(1) == pt.argmax(1)).mean() >= 0.999
        else:  # noise has near-ties: every pixel whose top two are 4e-2 apart
            top = np.sort(pa, 1)
            clear = top[:, -1] - top[:, -2] > 4e-2
            assert clear.mean() > 0.5 and same[clear].all()


@needs_bf16
def test_bf16_demo_model_on_rendered_scenes():
    sys.path.insert(0, str(ROOT / "models"))
    from synth_scene import render_scene

    m32 = eoproc.Model(ROOT / "models" / "buildings.onnx")
    m16 = eoproc.Model(ROOT / "models" / "buildings.onnx", precision="bf16")
    size = m32.input_shape[-1]
    agree, iou32, iou16 = [], [], []
    for seed in (9001, 9002):  # held out of the demo model's training
        rgb, truth = render_scene(seed, size)
        x = (rgb.transpose(2, 0, 1)[None].astype(np.float32) / 255.0).copy()
        p32, p16 = m32.run(x)[0, 0], m16.run(x)[0, 0]  # the model ends in a sigmoid
        # the demo's sigmoid is steep: a few boundary pixels move by up to ~0.13
        d = np.abs(p16 - p32)
        assert (d <= 2e-2).mean() >= 0.999 and d.max() <= 0.2
        c32, c16, t = p32 >= 0.5, p16 >= 0.5, truth > 0
        agree.append((c32 == c16).mean())
        iou32.append((c32 & t).sum() / (c32 | t).sum())
        iou16.append((c16 & t).sum() / (c16 | t).sum())
    assert min(agree) >= 0.999
    # as good against the truth as FP32 (and good at all)
    assert min(iou32) > 0.5
    assert abs(np.mean(iou16) - np.mean(iou32)) <= 0.005


def test_bf16_falls_back_to_fp32_with_a_warning():
    """EOPROC_SIMD=avx2 (as on a CPU without AVX512_BF16): FP32, a warning, same numbers."""
    code = (
        "import numpy as np, eoproc, pathlib\n"
        "fix = pathlib.Path(%r)\n"
        "a = eoproc.Model(fix / 'unet_plain_op13.onnx')\n"
        "b = eoproc.Model(fix / 'unet_plain_op13.onnx', precision='bf16')\n"
        "x = np.fromfile(fix / 'unet_plain_op13_l7.in.f32', dtype=np.float32)\n"
        "x = x.reshape(a.input_shape)\n"
        "print(b.info['precision'], b.info['simd'], float(np.abs(a.run(x) - b.run(x)).max()))\n"
        % str(FIX)
    )
    env = dict(os.environ, EOPROC_SIMD="avx2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    prec, simd, diff = out.stdout.split()
    assert prec == "fp32" and simd in ("avx2", "portable") and float(diff) == 0.0
    assert "precision bf16" in out.stderr and "FP32" in out.stderr


def test_bad_precision_is_an_argument_error():
    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(FIX / "unet_plain_op13.onnx", precision="fp8")
    assert e.value.id == "arg.Invalid" and "fp8" in e.value.message


def _with_card(tmp_path, card):
    import json
    import shutil

    path = tmp_path / "unet.onnx"
    shutil.copy(FIX / "unet_plain_op13.onnx", path)
    (tmp_path / "unet.onnx.json").write_text(json.dumps(card))
    return path


def test_card_input_precision_is_the_default(tmp_path):
    """A card's input.precision (a network validated in BF16) is the load's
    default; the caller's precision wins; another value is a card error."""
    path = _with_card(tmp_path, {"eoproc_card": 1, "input": {"precision": "bf16"}})
    want = "bf16" if _has_bf16() else "fp32"
    assert eoproc.Model(path).info["precision"] == want
    assert eoproc.Model(path, precision="fp32").info["precision"] == "fp32"
    bad = _with_card(tmp_path, {"eoproc_card": 1, "input": {"precision": "int8"}})
    with pytest.raises(eoproc.Error) as e:
        eoproc.Model(bad)
    assert "input.precision" in e.value.message and "int8" in e.value.message


def test_cli_precision(cli):
    """eoproc model-info --precision: the precision that runs; a bad one is param.Invalid."""
    import json

    f = str(FIX / "unet_plain_op13.onnx")
    p = subprocess.run([cli, "model-info", f, "--precision", "bf16"], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["precision"] == ("bf16" if _has_bf16() else "fp32")
    p = subprocess.run([cli, "model-info", f, "--precision", "fp8"], capture_output=True,
                       text=True)
    assert p.returncode != 0 and "precision" in p.stderr and "param.Invalid" in p.stderr
