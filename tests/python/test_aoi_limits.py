"""Big AOIs (issue 16, point 3): the vertex limit is checked while reading
the text, before a JSON tree is built, so a 16 MB FeatureCollection of
400,000 vertices is refused without the hundreds of megabytes the tree
takes. The count is exact at the limit: 50,000 positions pass (the
default limit), 50,001 are aoi.TooLarge. The peak memory of each run is
the kernel's figure for that child (wait4), compared with the same
command on a small AOI.

The feature limit (10,000) and the byte limit (64 MiB) are counted while an
AOI file is read in pieces: a file past either is refused (aoi.TooLarge)
without reading the rest, so an invalid tail after the limit is never seen.
Areas of accepted AOIs are checked against pyproj's geodesic area
(GeographicLib), computed feature by feature."""

import json
import math
import os
import subprocess

import pytest

from helpers import assert_cli_error

LIMIT = 50000  # EO_LIMIT_AOI_VERTICES's default
FEATURES = 10000  # EO_LIMIT_AOI_FEATURES's default
BYTES = 64 << 20  # EO_LIMIT_AOI_BYTES's default


def ring(cx, cy, n, r=0.001):
    """A closed ring of n + 1 positions (n distinct)."""
    pts = [[cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)]
           for i in range(n)]
    return pts + [pts[0]]


def collection(nfeat, per_ring):
    # properties with a "coordinates" string and a numeric array must not count
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature",
                          "properties": {"name": "coordinates", "v": [1, 2, 3]},
                          "geometry": {"type": "Polygon",
                                       "coordinates": [ring(10 + (i % 100) * 0.01,
                                                            50 + (i // 100) * 0.01,
                                                            per_ring - 1)]}}
                         for i in range(nfeat)]}


def run_peak(cli, *args):
    """(returncode, stdout, stderr, peak RSS in KiB) of one run."""
    p = subprocess.Popen([cli, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out, err = p.stdout.read(), p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out, err, ru.ru_maxrss


def test_big_collection_refused_before_the_tree(cli, tmp_path):
    small = tmp_path / "small.json"
    small.write_text(json.dumps(collection(1, 100)))
    big = tmp_path / "big.json"
    big.write_text(json.dumps(collection(4000, 100)))
    size_kib = big.stat().st_size // 1024
    rc, out, err, base = run_peak(cli, "area", small)
    assert rc == 0, err
    rc, out, err, peak = run_peak(cli, "area", big)
    proc = subprocess.CompletedProcess([], rc, out, err)
    msg = assert_cli_error(proc, "aoi.TooLarge", names=str(LIMIT))
    assert "vertices" in msg
    # the text itself (read whole) and little else: a json-c tree of it is
    # about ten times its size
    assert peak - base < 3 * size_kib, (peak, base, size_kib)


def test_vertex_limit_is_exact(cli, tmp_path):
    # 500 features of 100 positions = 50,000: accepted
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(collection(500, 100)))
    rc, out, err, _ = run_peak(cli, "area", ok)
    assert rc == 0, err
    # one position more (a 101-position ring in the last feature): refused
    doc = collection(500, 100)
    doc["features"][-1]["geometry"]["coordinates"] = [ring(20, 60, 100)]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, indent=1))
    rc, out, err, _ = run_peak(cli, "area", bad)
    assert_cli_error(subprocess.CompletedProcess([], rc, out, err), "aoi.TooLarge")


def test_max_vertices_option(cli, tmp_path):
    # 60,000 vertices: refused by default, accepted with --max-vertices
    # 60000, refused at one less
    big = tmp_path / "big.json"
    big.write_text(json.dumps(collection(600, 100)))
    rc, out, err, _ = run_peak(cli, "area", big)
    assert_cli_error(subprocess.CompletedProcess([], rc, out, err), "aoi.TooLarge")
    rc, out, err, _ = run_peak(cli, "area", "--max-vertices", 60000, big)
    assert rc == 0, err
    rc, out, err, _ = run_peak(cli, "area", "--max-vertices", 59999, big)
    msg = assert_cli_error(subprocess.CompletedProcess([], rc, out, err), "aoi.TooLarge")
    assert "60000 vertices" in msg and "59999" in msg
    # lowering it: 100 positions pass a limit of 100, not of 99
    one = tmp_path / "one.json"
    one.write_text(json.dumps(collection(1, 100)))
    rc, out, err, _ = run_peak(cli, "area", "--max-vertices", 100, one)
    assert rc == 0, err
    rc, out, err, _ = run_peak(cli, "area", "--max-vertices", 99, one)
    assert_cli_error(subprocess.CompletedProcess([], rc, out, err), "aoi.TooLarge")


def test_max_vertices_in_python(tmp_path):
    import eoproc

    doc = collection(1, 100)
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("area", aoi=doc, max_vertices=99)
    assert e.value.id == "aoi.TooLarge"
    assert eoproc.run("area", aoi=doc, max_vertices=100)["area_m2"] > 0


# ---- features and bytes -------------------------------------------------

def triangles(n):
    """n disjoint triangles (4 positions each) on a 0.02 degree grid."""
    feats = []
    for i in range(n):
        x, y = -50 + (i % 200) * 0.02, 20 + (i // 200) * 0.02
        feats.append({"type": "Feature", "properties": {"type": "Feature", "i": i},
                      "geometry": {"type": "Polygon",
                                   "coordinates": [[[x, y], [x + 0.01, y], [x, y + 0.01],
                                                    [x, y]]]}})
    return {"type": "FeatureCollection", "features": feats}


def reference_area(doc):
    """Sum of the features' geodesic areas (m2) by pyproj: they are disjoint."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    total = 0.0
    for f in doc["features"]:
        ring = f["geometry"]["coordinates"][0]
        a, _ = geod.polygon_area_perimeter([p[0] for p in ring], [p[1] for p in ring])
        total += abs(a)
    return total


def cli_area(cli, *args):
    rc, out, err, peak = run_peak(cli, "area", *args)
    return subprocess.CompletedProcess([], rc, out, err), peak


def test_feature_limit_default(cli, tmp_path):
    # 10,000 features (40,000 vertices): accepted, with pyproj's area;
    # a "type": "Feature" in properties is not a feature
    doc = triangles(FEATURES)
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(doc))
    proc, _ = cli_area(cli, ok)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["polygons"] == FEATURES
    assert res["area_m2"] == pytest.approx(reference_area(doc), rel=1e-9)
    # 10,001: refused, the message naming features and the limit
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(triangles(FEATURES + 1), indent=1))
    proc, _ = cli_area(cli, bad)
    msg = assert_cli_error(proc, "aoi.TooLarge", names=str(FEATURES))
    assert "features" in msg and "--max-features" in msg
    # raised for this call: accepted
    proc, _ = cli_area(cli, "--max-features", FEATURES + 1, bad)
    assert proc.returncode == 0, proc.stderr


def test_feature_limit_lowered(cli, tmp_path):
    doc = triangles(5)
    path = tmp_path / "five.json"
    path.write_text(json.dumps(doc))
    proc, _ = cli_area(cli, "--max-features", 5, path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["area_m2"] == pytest.approx(reference_area(doc), rel=1e-9)
    proc, _ = cli_area(cli, "--max-features", 4, path)
    msg = assert_cli_error(proc, "aoi.TooLarge", names="4")
    assert "5 features" in msg
    # a lone Feature counts as one
    one = tmp_path / "one.json"
    one.write_text(json.dumps(doc["features"][0]))
    proc, _ = cli_area(cli, "--max-features", 1, one)
    assert proc.returncode == 0, proc.stderr


def test_feature_and_byte_limits_in_python(tmp_path):
    import eoproc

    doc = triangles(5)
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("area", aoi=doc, max_features=4)
    assert e.value.id == "aoi.TooLarge" and "features" in str(e.value)
    res = eoproc.run("area", aoi=doc, max_features=5)
    assert res["area_m2"] == pytest.approx(reference_area(doc), rel=1e-9)
    path = tmp_path / "five.json"
    path.write_text(json.dumps(doc))
    size = path.stat().st_size
    for aoi in (str(path), path.read_text()):
        with pytest.raises(eoproc.Error) as e:
            eoproc.run("area", aoi=aoi, max_aoi_bytes=size - 1)
        assert e.value.id == "aoi.TooLarge" and str(size - 1) in str(e.value)
        res = eoproc.run("area", aoi=aoi, max_aoi_bytes=size)
        assert res["area_m2"] == pytest.approx(reference_area(doc), rel=1e-9)


def test_byte_limit_per_call(cli, tmp_path):
    doc = triangles(3)
    path = tmp_path / "three.json"
    path.write_text(json.dumps(doc))
    size = path.stat().st_size
    proc, _ = cli_area(cli, "--max-aoi-bytes", size, path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["area_m2"] == pytest.approx(reference_area(doc), rel=1e-9)
    proc, _ = cli_area(cli, "--max-aoi-bytes", size - 1, path)
    msg = assert_cli_error(proc, "aoi.TooLarge", names=str(size - 1))
    assert "bytes" in msg and "--max-aoi-bytes" in msg


def test_byte_limit_default(cli, tmp_path):
    # the same AOI padded with spaces (valid JSON) to exactly 64 MiB:
    # accepted; one byte more: refused
    doc = triangles(3)
    text = json.dumps(doc)
    path = tmp_path / "padded.json"
    path.write_text(text + " " * (BYTES - len(text)))
    proc, _ = cli_area(cli, path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["area_m2"] == pytest.approx(reference_area(doc), rel=1e-9)
    with open(path, "a") as f:
        f.write(" ")
    proc, peak = cli_area(cli, path)
    msg = assert_cli_error(proc, "aoi.TooLarge", names=str(BYTES))
    assert str(BYTES + 1) in msg
    path.unlink()


def test_stops_reading_past_the_feature_limit(cli, tmp_path):
    # 10,001 features, then 40 MB of text that is not JSON: aoi.TooLarge
    # (not a parse error) and a peak far below the file's size
    head = json.dumps(triangles(FEATURES + 1))[:-2]  # without the closing ]}
    path = tmp_path / "tail.json"
    with open(path, "w") as f:
        f.write(head + ", this is not JSON" + "x" * (40 << 20))
    small = tmp_path / "small.json"
    small.write_text(json.dumps(triangles(1)))
    _, base = cli_area(cli, small)
    proc, peak = cli_area(cli, path)
    msg = assert_cli_error(proc, "aoi.TooLarge", names=str(FEATURES))
    assert "features" in msg
    assert (peak - base) * 1024 < 8 << 20, (peak, base)
    # raised past the count: now the invalid tail is read and reported
    proc, _ = cli_area(cli, "--max-features", 20000, path)
    assert_cli_error(proc, "geometry.Invalid")


def test_stops_reading_past_the_vertex_limit(cli, tmp_path):
    # one ring of 60,000 positions, then 40 MB that are not JSON
    head = json.dumps({"type": "Polygon", "coordinates": [ring(10, 50, 60000)]})
    path = tmp_path / "tail.json"
    with open(path, "w") as f:
        f.write(head[:-3] + "," + "[" * (40 << 20))
    proc, _ = cli_area(cli, path)
    msg = assert_cli_error(proc, "aoi.TooLarge", names=str(LIMIT))
    assert "at least %d vertices" % (LIMIT + 1) in msg


def test_aoi_area_keywords(tmp_path):
    # eoproc.aoi_area (km2) takes the three limits too, for this call only
    import eoproc

    doc = triangles(5)
    path = tmp_path / "five.json"
    path.write_text(json.dumps(doc))
    size = path.stat().st_size
    ref_km2 = reference_area(doc) / 1e6
    for kw, bad, good in (("max_features", 4, 5), ("max_aoi_bytes", size - 1, size),
                          ("max_vertices", 19, 20)):
        for aoi in (str(path), doc):
            with pytest.raises(eoproc.Error) as e:
                eoproc.aoi_area(aoi, **{kw: bad})
            assert e.value.id == "aoi.TooLarge" and str(bad) in str(e.value), kw
            assert eoproc.aoi_area(aoi, **{kw: good}) == pytest.approx(ref_km2, rel=1e-9)
    # the thread's context keeps its defaults afterwards: 10,001 features refused
    with pytest.raises(eoproc.Error) as e:
        eoproc.aoi_area(triangles(FEATURES + 1), max_vertices=10 ** 6)
    assert e.value.id == "aoi.TooLarge" and "features" in str(e.value)
    with pytest.raises(eoproc.Error) as e:
        eoproc.aoi_area(doc, max_features=0)
    assert e.value.id == "arg.Invalid"
