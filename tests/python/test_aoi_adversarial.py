"""Hostile and malformed AOIs: every one must fail with a clear error, in
Python (eoproc.Error with the right id) and in the CLI (non-zero exit, one
line on stderr with the id, nothing on stdout). Valid AOIs give the area
computed independently with PROJ's geodesic library."""

import json
import math

import pytest

import eoproc
from helpers import assert_cli_error, box, polygon_area_km2, ring_area_km2, run_cli

INVALID = "geometry.Invalid"
TOO_LARGE = "aoi.TooLarge"


def poly(*rings):
    return json.dumps({"type": "Polygon", "coordinates": list(rings)})


def circle(n, cx=10.0, cy=45.0, r=0.01):
    ring = [
        [cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    ring.append(ring[0])
    return ring


SQUARE = box(0, 0, 1, 1)

ADVERSARIAL = {
    "not_json": ("this is not JSON {", INVALID),
    "empty_file": ("", INVALID),
    "whitespace_only": ("  \n\t ", INVALID),
    # the library may call a file with NUL bytes unreadable as text
    "binary_garbage": (b"\xff\xfe\x00\x01\x89PNG\r\n\x1a\n", (INVALID, "io.Read")),
    "trailing_garbage": (poly(SQUARE) + " }{ trailing", INVALID),
    "truncated_json": (poly(SQUARE)[:-7], INVALID),
    "top_level_array": ("[]", INVALID),
    "point": (json.dumps({"type": "Point", "coordinates": [0, 0]}), INVALID),
    "linestring": (json.dumps({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}), INVALID),
    "unknown_type": (json.dumps({"type": "Polygonn", "coordinates": [SQUARE]}), INVALID),
    "no_coordinates": (json.dumps({"type": "Polygon"}), INVALID),
    "null_coordinates": (json.dumps({"type": "Polygon", "coordinates": None}), INVALID),
    "empty_coordinates": (json.dumps({"type": "Polygon", "coordinates": []}), INVALID),
    "empty_ring": (json.dumps({"type": "Polygon", "coordinates": [[]]}), INVALID),
    "unclosed_ring": (poly([[0, 0], [1, 0], [1, 1], [0, 1]]), INVALID),
    "two_point_ring": (poly([[0, 0], [1, 0], [0, 0]]), INVALID),
    "bowtie": (poly([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]), INVALID),
    "nan_coordinate": (
        '{"type": "Polygon", "coordinates": [[[0, 0], [NaN, 0], [1, 1], [0, 1], [0, 0]]]}',
        INVALID,
    ),
    "infinite_coordinate": (
        '{"type": "Polygon", "coordinates": [[[0, 0], [1e999, 0], [1, 1], [0, 1], [0, 0]]]}',
        INVALID,
    ),
    "huge_coordinates": (poly([[0, 0], [1e308, 0], [1e308, 1e308], [0, 1e308], [0, 0]]), INVALID),
    "latitude_95": (poly([[0, 0], [1, 0], [1, 95], [0, 95], [0, 0]]), INVALID),
    "longitude_400": (poly([[0, 0], [400, 0], [400, 1], [0, 1], [0, 0]]), INVALID),
    "4d_coordinates": (poly([[0, 0, 5, 1], [1, 0, 5, 1], [1, 1, 5, 1], [0, 1, 5, 1], [0, 0, 5, 1]]),
                       INVALID),
    "one_value_position": (poly([[0], [1], [1], [0]]), INVALID),
    "hole_outside_shell": (poly(SQUARE, box(5, 5, 6, 6)), INVALID),
    "too_many_vertices": (poly(circle(100000)), TOO_LARGE),
    "deep_nesting": ("[" * 100000, INVALID),
    "deep_nesting_in_coordinates": ('{"type": "Polygon", "coordinates": ' + "[" * 100000, INVALID),
    "deep_object_nesting": ('{"a": ' * 100000, INVALID),
    "strings_as_coordinates": (
        poly([["0", "0"], ["1", "0"], ["1", "1"], ["0", "1"], ["0", "0"]]),
        INVALID,
    ),
    "booleans_as_coordinates": (poly([[True, False], [1, 0], [1, 1], [0, 0]]), INVALID),
    "feature_null_geometry": (
        json.dumps({"type": "Feature", "properties": {}, "geometry": None}),
        INVALID,
    ),
    "feature_point_geometry": (
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [0, 0]},
            }
        ),
        INVALID,
    ),
    "empty_feature_collection": (
        json.dumps({"type": "FeatureCollection", "features": []}),
        INVALID,
    ),
    "feature_collection_with_null": (
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": None},
                ],
            }
        ),
        INVALID,
    ),
    "multipolygon_bad_member": (
        json.dumps({"type": "MultiPolygon", "coordinates": [[SQUARE], [[[0, 0], [1, 1]]]]}),
        INVALID,
    ),
}


@pytest.fixture(params=sorted(ADVERSARIAL), scope="module")
def adversarial(request, tmp_path_factory):
    """(path of the AOI file, expected id)."""
    content, expected = ADVERSARIAL[request.param]
    path = tmp_path_factory.mktemp("aoi") / (request.param + ".geojson")
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path, expected


def test_python_rejects(adversarial):
    path, expected = adversarial
    with pytest.raises(eoproc.Error) as ei:
        eoproc.aoi_area(path)
    e = ei.value
    ids = expected if isinstance(expected, tuple) else (expected,)
    assert e.id in ids, str(e)
    assert e.message, "the error should say what is wrong"
    assert str(e) == "%s [%s]" % (e.message, e.id)


def test_cli_rejects(cli, adversarial):
    path, expected = adversarial
    proc = run_cli(cli, "area", path)
    assert_cli_error(proc, expected, exit_code=1)


# Cases whose content is a JSON object's text (eoproc.aoi_area and the
# registry's aoi_area take a str starting with "{" as GeoJSON text; any other
# str is a path).
TEXT_CASES = sorted(
    k for k, (c, _) in ADVERSARIAL.items() if isinstance(c, str) and c.lstrip()[:1] == "{"
)


@pytest.mark.parametrize("name", TEXT_CASES)
def test_python_rejects_text(name):
    """The same content passed as text instead of a file."""
    content, expected = ADVERSARIAL[name]
    with pytest.raises(eoproc.Error) as ei:
        eoproc.aoi_area(content)
    assert ei.value.id == expected, str(ei.value)


@pytest.mark.parametrize("name", TEXT_CASES)
def test_run_rejects_inline(name):
    """The registry's aoi_area with the AOI inline as a string."""
    content, expected = ADVERSARIAL[name]
    with pytest.raises(eoproc.Error) as ei:
        eoproc.run("aoi_area", aoi=content)
    assert ei.value.id == expected, str(ei.value)


def test_python_rejects_nan_and_inf_dicts():
    for bad in (float("nan"), float("inf"), -float("inf")):
        ring = box(0, 0, 1, 1)
        ring[2] = [bad, 1.0]
        with pytest.raises(eoproc.Error) as ei:
            eoproc.aoi_area({"type": "Polygon", "coordinates": [ring]})
        assert ei.value.id == INVALID


def test_3d_altitude_dropped_unless_strict(tmp_path, cli):
    """RFC 7946 3.1.1 allows an altitude: dropped by default (area of the 2D
    ring, by the independent reference), refused in strict mode."""
    ring = [[0, 0, 5], [1, 0, 5.5], [1, 1, -3], [0, 1, 0], [0, 0, 5]]
    geo = {"type": "Polygon", "coordinates": [ring]}
    want = ring_area_km2(SQUARE)
    assert eoproc.aoi_area(geo) == pytest.approx(want, rel=1e-6)
    assert eoproc.aoi_area(geo, allow_z=True) == pytest.approx(want, rel=1e-6)
    for kw in ({"strict": True}, {"allow_z": False}):
        with pytest.raises(eoproc.Error) as ei:
            eoproc.aoi_area(geo, **kw)
        assert ei.value.id == INVALID and "3 values" in str(ei.value)
    # the registry, hence the CLI and every operation taking an AOI
    assert eoproc.run("aoi_area", aoi=json.dumps(geo))["area_km2"] == pytest.approx(want, rel=1e-6)
    with pytest.raises(eoproc.Error) as ei:
        eoproc.run("aoi_area", aoi=json.dumps(geo), strict=True)
    assert ei.value.id == INVALID and "strict" in str(ei.value)
    path = tmp_path / "z.geojson"
    path.write_text(json.dumps(geo))
    p = run_cli(cli, "area", path, "--strict")
    assert p.returncode != 0 and INVALID in p.stderr and "point 0" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_vertex_limit_boundary():
    """40,000 vertices are under the default limit of 50,000."""
    ring = circle(40000)
    km2 = eoproc.aoi_area({"type": "Polygon", "coordinates": [ring]})
    assert km2 == pytest.approx(ring_area_km2(ring), rel=1e-6)


# ---------------------------------------------------------------------------
# valid AOIs and their independent areas
# ---------------------------------------------------------------------------
HOLE = box(0.25, 0.25, 0.75, 0.75, clockwise=True)
SQUARE2 = box(2, 0, 3, 1)


def feature(geometry, **props):
    return {"type": "Feature", "properties": props, "geometry": geometry}


VALID = {
    "polygon": ({"type": "Polygon", "coordinates": [SQUARE]}, polygon_area_km2([SQUARE])),
    "clockwise_shell": (
        {"type": "Polygon", "coordinates": [box(0, 0, 1, 1, clockwise=True)]},
        polygon_area_km2([SQUARE]),
    ),
    "polygon_with_hole": (
        {"type": "Polygon", "coordinates": [SQUARE, HOLE]},
        polygon_area_km2([SQUARE, HOLE]),
    ),
    "multipolygon": (
        {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [SQUARE2]]},
        polygon_area_km2([SQUARE, HOLE]) + polygon_area_km2([SQUARE2]),
    ),
    "feature": (
        feature({"type": "Polygon", "coordinates": [SQUARE]}, name="cell"),
        polygon_area_km2([SQUARE]),
    ),
    "feature_collection": (
        {
            "type": "FeatureCollection",
            "features": [
                feature({"type": "Polygon", "coordinates": [SQUARE, HOLE]}, id=1),
                feature({"type": "MultiPolygon", "coordinates": [[SQUARE2]]}, id=2),
            ],
        },
        polygon_area_km2([SQUARE, HOLE]) + polygon_area_km2([SQUARE2]),
    ),
    "feature_collection_overlap_is_unioned": (
        {
            "type": "FeatureCollection",
            "features": [
                feature({"type": "Polygon", "coordinates": [SQUARE]}),
                feature({"type": "Polygon", "coordinates": [box(0.25, 0.25, 0.75, 0.75)]}),
            ],
        },
        polygon_area_km2([SQUARE]),
    ),
    "southern_hemisphere_high_latitude": (
        {"type": "Polygon", "coordinates": [box(-70.5, -60.25, -69.0, -59.5)]},
        polygon_area_km2([box(-70.5, -60.25, -69.0, -59.5)]),
    ),
    "triangle": (
        {"type": "Polygon", "coordinates": [[[10, 10], [10.3, 10.1], [10.1, 10.4], [10, 10]]]},
        ring_area_km2([[10, 10], [10.3, 10.1], [10.1, 10.4]]),
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_python(tmp_path, name):
    geo, expected = VALID[name]
    assert eoproc.aoi_area(geo) == pytest.approx(expected, rel=1e-6)
    path = tmp_path / (name + ".geojson")
    path.write_text(json.dumps(geo))
    assert eoproc.aoi_area(path) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_cli(cli, tmp_path, name):
    geo, expected = VALID[name]
    path = tmp_path / (name + ".geojson")
    path.write_text(json.dumps(geo))
    proc = run_cli(cli, "area", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = json.loads(proc.stdout)
    assert out["area_km2"] == pytest.approx(expected, rel=1e-6)
