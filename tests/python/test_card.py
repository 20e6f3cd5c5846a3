"""Model card (issue 12 point 1): written into metadata_props without touching
the graph (checked with python3-onnx), sidecar, contradicting card refused."""

import json
import pathlib
import shutil
import subprocess

import onnx

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "buildings.onnx"
CARD = ROOT / "models" / "buildings.card.json"


def _run(cli, *args):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True)


def test_set_keeps_graph_bytes(cli, tmp_path):
    m = tmp_path / "m.onnx"
    shutil.copy(MODEL, m)
    before = onnx.load(str(MODEL))
    r = _run(cli, "model-card", "set", m, CARD)
    assert r.returncode == 0, r.stderr
    after = onnx.load(str(m))
    assert after.graph.SerializeToString() == before.graph.SerializeToString()
    props = {p.key: p.value for p in after.metadata_props}
    assert json.loads(props["eoproc.card"]) == json.loads(CARD.read_text())
    # the other top-level fields survive
    assert after.ir_version == before.ir_version
    assert list(after.opset_import) == list(before.opset_import)
    shown = _run(cli, "model-card", "show", m)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == json.loads(CARD.read_text())


def test_sidecar(cli, tmp_path):
    m = tmp_path / "m.onnx"
    shutil.copy(MODEL, m)
    card = json.loads(CARD.read_text())
    card["name"] = "from-sidecar"
    (tmp_path / "m.onnx.json").write_text(json.dumps(card))
    shown = _run(cli, "model-card", "show", m)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "from-sidecar"


def test_contradicting_bands_refused(cli, tmp_path):
    m = tmp_path / "m.onnx"
    shutil.copy(MODEL, m)
    card = json.loads(CARD.read_text())
    card["input"]["bands"] = [1, 2, 3, 4]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(card))
    r = _run(cli, "model-card", "set", m, bad)
    assert r.returncode != 0
    assert "model.Invalid" in r.stderr and "bands" in r.stderr
    assert "eoproc.card" not in {p.key for p in onnx.load(str(m)).metadata_props}
