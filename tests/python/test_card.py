"""Model card (issue 12 point 1): written into metadata_props without touching
the graph (checked with python3-onnx), sidecar, contradicting card refused."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
from osgeo import gdal

import eoproc
from helpers import footprints

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "buildings.onnx"
CARD = ROOT / "models" / "buildings.card.json"


def _run(cli, *args):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True)


def _without_card(path):
    """A copy of the demo model with its embedded card removed (python3-onnx)."""
    model = onnx.load(str(MODEL))
    keep = [p for p in model.metadata_props if p.key != "eoproc.card"]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    onnx.save(model, str(path))
    return path


def test_demo_model_carries_its_card(cli):
    """The shipped demo model embeds models/buildings.card.json."""
    props = {p.key: p.value for p in onnx.load(str(MODEL)).metadata_props}
    assert json.loads(props["eoproc.card"]) == json.loads(CARD.read_text())


def test_set_keeps_graph_bytes(cli, tmp_path):
    m = _without_card(tmp_path / "m.onnx")
    before = onnx.load(str(m))
    assert "eoproc.card" not in {p.key for p in before.metadata_props}
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
    assert m.read_bytes() == MODEL.read_bytes()  # the refused card changed nothing


# ---- the card gives the options the user leaves out ----------------------

REPO = ROOT
sys.path.insert(0, str(REPO / "models"))
from synth_pyramid import write_pyramid  # noqa: E402


@pytest.fixture(scope="module")
def z18(tmp_path_factory):
    return write_pyramid(tmp_path_factory.mktemp("cardz18"), grid=1, size=512)


def _detect(src, aoi, out, **kw):
    eoproc.detect(src, aoi, out, zoom=18, precision=15, **kw)
    return footprints(out)


def test_card_fills_what_the_user_left_out(z18, tmp_path):
    """A model whose sidecar card says threshold 0.6, min_area 40 m2 and
    simplify 0.8 m detects exactly as the card-less model given those
    options explicitly; an option the user gives wins over the card's; a
    model without a card runs with the built-in defaults (which are the
    demo card's scale and bands)."""
    src, aoi = z18["dir"] / "xyz", z18["dir"] / "aoi.geojson"
    bare = _without_card(tmp_path / "bare.onnx")
    carded = _without_card(tmp_path / "carded.onnx")
    card = json.loads(CARD.read_text())
    card["output"]["threshold"] = 0.6
    card["postprocess"].update(min_area_m2=40, simplify_m=0.8)
    (tmp_path / "carded.onnx.json").write_text(json.dumps(card))
    by_card = _detect(src, aoi, tmp_path / "a.geojson", model=carded)
    explicit = _detect(src, aoi, tmp_path / "b.geojson", model=bare, threshold=0.6,
                       min_area=40, simplify=0.8, tile=512, overlap=64)
    assert by_card == explicit and len(by_card) > 5
    # the user's option wins over the card's
    mine = _detect(src, aoi, tmp_path / "c.geojson", model=carded, min_area=5)
    explicit5 = _detect(src, aoi, tmp_path / "d.geojson", model=bare, threshold=0.6,
                        min_area=5, simplify=0.8)
    assert mine == explicit5 and len(mine) > len(by_card)
    # no card: the built-in defaults (scale 1/255, bands 1,2,3, min_area 4, simplify 0.3)
    plain = _detect(src, aoi, tmp_path / "e.geojson", model=bare)
    spelled = _detect(src, aoi, tmp_path / "f.geojson", model=bare, scale="1/255",
                      bands=[1, 2, 3], min_area=4, simplify=0.3)
    assert plain == spelled and plain != by_card


def test_segment_takes_the_card_scale(cli, tmp_path):
    """segment without --scale: the card's 1/255 (before, 1: an all-building
    map); with the card removed, the same output needs --scale 1/255."""
    l7 = pathlib.Path(os.environ.get("EOPROC_DATA", ROOT / ".cache" / "data")) / "L7_ETMs.tif"
    if not l7.exists():
        pytest.skip("no sample data")
    bare = _without_card(tmp_path / "bare.onnx")
    outs = []
    for model, extra in [(MODEL, []), (bare, ["--scale", "1/255"]), (bare, [])]:
        out = tmp_path / ("s%d.tif" % len(outs))
        r = _run(cli, "segment", model, l7, out, "--bands", "3,2,1", "--tile", "256", *extra)
        assert r.returncode == 0, r.stderr
        outs.append(gdal.Open(str(out)).ReadAsArray())
    assert np.array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])


def test_python_model_card_and_segment_defaults(tmp_path):
    """Model.card is the embedded card; Model.segment with no options equals
    the card-less model given the card's scale and bands."""
    l7 = pathlib.Path(os.environ.get("EOPROC_DATA", ROOT / ".cache" / "data")) / "L7_ETMs.tif"
    if not l7.exists():
        pytest.skip("no sample data")
    bare = _without_card(tmp_path / "bare.onnx")
    with eoproc.Model(MODEL) as m:  # no shape: the card fixes the dynamic axes
        assert m.card == json.loads(CARD.read_text())
        a = m.segment(l7, tmp_path / "a.tif", bands=[3, 2, 1], tile=256)
    with eoproc.Model(bare, input_shape=[1, 3, 256, 256]) as m:
        assert m.card is None
        b = m.segment(l7, tmp_path / "b.tif", bands=[3, 2, 1], tile=256, scale="1/255")
        m.segment(l7, tmp_path / "c.tif", bands=[3, 2, 1], tile=256)
    pa, pb, pc = (gdal.Open(str(tmp_path / n)).ReadAsArray() for n in ("a.tif", "b.tif", "c.tif"))
    assert a["activation"] == b["activation"]
    assert np.array_equal(pa, pb) and not np.array_equal(pa, pc)


def test_card_regularize_sets_the_block(z18, tmp_path):
    """postprocess.regularize true in the card runs the regularize block, as
    blocks='regularize=on' does for the card-less model; the user's blocks
    naming it win."""
    src, aoi = z18["dir"] / "xyz", z18["dir"] / "aoi.geojson"
    bare = _without_card(tmp_path / "bare.onnx")
    carded = _without_card(tmp_path / "carded.onnx")
    card = json.loads(CARD.read_text())
    card["postprocess"]["regularize"] = True
    (tmp_path / "carded.onnx.json").write_text(json.dumps(card))
    on = _detect(src, aoi, tmp_path / "a.geojson", model=carded)
    explicit = _detect(src, aoi, tmp_path / "b.geojson", model=bare, blocks="regularize=on",
                       min_area=10, simplify=0.5)
    off = _detect(src, aoi, tmp_path / "c.geojson", model=carded, blocks="regularize=off")
    assert on == explicit and on != off
