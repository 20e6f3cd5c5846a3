"""detect's options through its public C API alone (issue 13, point 5: the
registry's detect operations use nothing else): eo_detect_schema and
eo_detect_opts_set_json, called through ctypes.

References: the JSON Schema 2020-12 meta-schema (python3-jsonschema) for the
schema, the per-name setter eo_detect_opts_set (older API) and the AOI's
area by exact spherical-excess arithmetic (helpers.polygon_area_km2) for
what a run of options set at once estimates."""
import json
import sys
from ctypes import POINTER, byref, c_char_p, c_void_p
from pathlib import Path

import jsonschema
import pytest

import eoproc
from eoproc import _lib
from helpers import polygon_area_km2

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "models"))

from synth_pyramid import write_pyramid  # noqa: E402

_st = _lib.status
_schema = _lib._fn("eo_detect_schema", _st, [_lib.ctx_p, POINTER(c_void_p)])
_set_json = _lib._fn("eo_detect_opts_set_json", _st, [_lib.ctx_p, c_void_p, c_char_p])
_set = _lib._fn("eo_detect_opts_set", _st, [_lib.ctx_p, c_void_p, c_char_p, c_char_p])
_new = _lib._fn("eo_detect_opts_new", _st, [_lib.ctx_p, POINTER(c_void_p)])
_free = _lib._fn("eo_detect_opts_free", None, [c_void_p])
_estimate = _lib._fn("eo_detect_estimate", _st,
                     [_lib.ctx_p, POINTER(c_void_p), c_void_p, c_void_p, c_void_p])


def detect_schema():
    with eoproc._context() as ctx:
        out = c_void_p()
        eoproc._check(ctx, _schema(ctx, byref(out)))
        return json.loads(eoproc._take_string(out))


def estimate(set_opts):
    """eo_detect_estimate with options set by set_opts(ctx, o)."""
    with eoproc._context() as ctx:
        o = c_void_p()
        eoproc._check(ctx, _new(ctx, byref(o)))
        try:
            set_opts(ctx, o)
            res = c_void_p()
            eoproc._check(ctx, _estimate(ctx, byref(res), None, None, o))
            return json.loads(eoproc._take_string(res))
        finally:
            _free(o)


def set_json(text):
    def f(ctx, o):
        eoproc._check(ctx, _set_json(ctx, o, text.encode()))
    return f


def test_schema_is_a_valid_schema_of_the_operation():
    s = detect_schema()
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["title"] == "detect" and s["additionalProperties"] is False
    assert s["required"] == ["src", "aoi"] and s["x-positional"] == ["src", "aoi", "out"]
    # the registry's operations declare exactly these parameters
    for op in ("detect", "detect_estimate"):
        reg = eoproc.schema(op)
        assert reg["title"] == op and reg["description"]
        assert reg["properties"] == s["properties"]
        assert reg["required"] == s["required"] and reg["x-positional"] == s["x-positional"]
    for key, p in s["properties"].items():
        assert p.get("description"), key
        if "default" in p:
            jsonschema.validate(p["default"], p)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_pyramid(tmp_path_factory.mktemp("detect_api"), grid=2, size=512)


def test_set_json_sets_every_member(scene):
    params = {"src": str(scene["dir"] / "xyz"), "aoi": scene["aoi"], "zoom": 18,
              "partition_tiles": 1, "price_per_km2": 2.5}

    def one_by_one(ctx, o):
        for k, v in params.items():
            eoproc._check(ctx, _set(ctx, o, k.encode(), json.dumps(v).encode()))

    got = estimate(set_json(json.dumps(params)))
    ref = estimate(one_by_one)
    for k in ("tiles", "pixels", "partitions", "model_tiles", "aoi_km2", "cost", "zoom"):
        assert got[k] == ref[k], k
    assert got["partitions"] == 9 and got["zoom"] == 18
    assert got["aoi_km2"] == pytest.approx(polygon_area_km2(scene["aoi"]["coordinates"]),
                                           rel=1e-6)
    assert got["cost"] == pytest.approx(round(got["aoi_km2"] * 2.5, 2))


@pytest.mark.parametrize("text,words", [
    ('{"zoom": 99}', ["zoom", "30"]),
    ('{"zoom": 18, "tile": 3}', ["tile", "16"]),
    ('{"nope": 1}', ["detect has no option 'nope'"]),
    ('[1, 2]', ["detect options must be a JSON object"]),
    ('{"zoom": ', ["detect options"]),
])
def test_set_json_refuses_with_one_line(text, words):
    with pytest.raises(eoproc.Error) as e:
        estimate(set_json(text))
    assert e.value.id == "param.Invalid"
    assert "\n" not in e.value.message
    for w in words:
        assert w in e.value.message, e.value.message
