"""Big AOIs (issue 16, point 3): the vertex limit is checked while reading
the text, before a JSON tree is built, so a 16 MB FeatureCollection of
400,000 vertices is refused without the hundreds of megabytes the tree
takes. The count is exact at the limit: 50,000 positions pass (the
default limit), 50,001 are aoi.TooLarge. The peak memory of each run is
the kernel's figure for that child (wait4), compared with the same
command on a small AOI."""

import json
import math
import os
import subprocess

import pytest

from helpers import assert_cli_error

LIMIT = 50000  # EO_LIMIT_AOI_VERTICES's default


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
