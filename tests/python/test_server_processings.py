"""/processings of the server (python3 -m eoproc.server --jobs DIR) as a real
process on loopback, on the z18 pyramid of models/synth_pyramid.py.

References: `eoproc detect` on the same inputs (footprints compared
order-free, rings from their least vertex), the AOI's area on the
ellipsoid-free sphere of helpers.polygon_area_km2, the job store's attempt
counts read with sqlite3 (which partitions ran again), and a SIGKILL of the
server process mid-job."""

import json
import os
import pathlib
import shutil
import signal
import sqlite3
import sys
import time
from contextlib import closing

import pytest

from helpers import polygon_area_km2, run_cli
from server_fixture import Server
from helpers import norm_geom as _norm_geom
from test_detect import single  # noqa: F401 (a fixture)

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "models"))

from synth_pyramid import write_pyramid  # noqa: E402

PARAMS = {"partition_tiles": 1, "precision": 15}


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_pyramid(tmp_path_factory.mktemp("proc"), grid=2, size=512)


@pytest.fixture(scope="module")
def reference(single):
    """`eoproc detect` on the XYZ pyramid (test_detect's single pass): its footprints."""
    return footprints({"features": single[1]})


def footprints(fc):
    """Order-free: the sorted (class, pixels, area, normalised rings)."""
    out = []
    for f in fc["features"]:
        p = f["properties"]
        out.append((p["class_name"], p["pixels"], round(p["area_m2"], 6),
                    _norm_geom(f["geometry"])))
    return sorted(out, key=repr)


@pytest.fixture()
def server(scene, tmp_path):
    jobs = tmp_path / "jobs"
    s = Server([scene["dir"]], "--jobs", jobs, "--job-threads", 1, log=tmp_path / "server.log")
    s.jobs = jobs
    yield s
    s.stop()


def _body(scene, source="xyz", **kw):
    b = {"name": "test", "source": source, "geometry": scene["aoi"], "zoom": 18,
         "params": dict(PARAMS)}
    b.update(kw)
    return b


def _wait(s, pid, states=("OK", "FAILED", "CANCELLED"), timeout=900):
    deadline = time.time() + timeout
    while True:
        st, v = s.json("GET", "/processings/" + pid)
        assert st == 200, v
        if v["status"] in states:
            return v
        assert time.time() < deadline, v
        time.sleep(0.1)


def _attempts(s, pid):
    with closing(sqlite3.connect(str(s.jobs / pid / "job" / "job.sqlite"))) as db, db:
        return {i: (st, a) for i, st, a in db.execute("SELECT id, status, attempts FROM "
                                                      "partitions")}


def _result(s, pid):
    st, h, b = s.get("/processings/%s/result" % pid)
    assert st == 200, b
    assert h["content-type"].startswith("application/geo+json")
    return json.loads(b)


def test_processing_runs_to_ok_equals_cli(scene, reference, server):
    st, c = server.json("POST", "/processing/cost", _body(scene))
    assert st == 200, c
    area = polygon_area_km2(scene["aoi"]["coordinates"])
    assert c["area"] == pytest.approx(area, rel=1e-6)
    assert c["cost"] == pytest.approx(round(area * 1.0, 2))
    assert c["tiles"] >= 16 and c["partitions"] == 9
    st, v = server.json("POST", "/processings", _body(scene))
    assert st == 202, v
    assert v["status"] in ("IN_PROGRESS", "OK") and v["area"] == pytest.approx(area, rel=1e-6)
    v = _wait(server, v["id"])
    assert v["status"] == "OK" and v["percentCompleted"] == 100, v
    fc = _result(server, v["id"])
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) > 20
    assert footprints(fc) == reference
    st, lst = server.json("GET", "/processings")
    assert st == 200 and [p["id"] for p in lst] == [v["id"]]
    # delete: gone, folder and all
    st, d = server.json("DELETE", "/processings/" + v["id"])
    assert st == 200 and d["deleted"]
    st, e = server.json("GET", "/processings/" + v["id"])
    assert st == 404 and e["id"] == "processing.NotFound"
    # the worker thread may still be returning from the finished job: it
    # removes the folder as it ends
    deadline = time.time() + 30
    while (server.jobs / v["id"]).exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not (server.jobs / v["id"]).exists()


def test_processing_on_a_geotiff_equals_cli(scene, server, cli, tmp_path):
    """A processing whose source is a GeoTIFF (no pyramid, no zoom): its
    estimate counts pixels, not tiles (it answered 500 KeyError 'tiles'
    before), and its footprints are those of `eoproc detect` on the file."""
    out = tmp_path / "cli.geojson"
    p = run_cli(cli, "detect", scene["dir"] / "scene.tif", scene["dir"] / "aoi.geojson", out,
                "--partition-tiles", 1, "--precision", 15)
    assert p.returncode == 0, p.stderr
    ref = footprints(json.loads(out.read_text()))
    assert len(ref) > 20
    body = _body(scene, source="scene.tif", zoom=None)
    st, c = server.json("POST", "/processing/cost", body)
    assert st == 200, c
    assert c["tiles"] is None and c["pixels"] > 0, c
    assert c["area"] == pytest.approx(polygon_area_km2(scene["aoi"]["coordinates"]), rel=1e-6)
    st, v = server.json("POST", "/processings", body)
    assert st == 202, v
    assert v["pixels"] == c["pixels"] and v["tiles"] is None
    v = _wait(server, v["id"])
    assert v["status"] == "OK" and v["percentCompleted"] == 100, v
    assert footprints(_result(server, v["id"])) == ref


@pytest.mark.parametrize("change, status, sid, field", [
    ({"zoom": 40}, 422, "param.Invalid", "zoom"),
    ({"params": {"bogus": 1}}, 422, "param.Invalid", "params"),
    ({"params": {"partition_tiles": -3}}, 422, "param.Invalid", "partition_tiles"),
    ({"source": "../etc"}, 403, "access.Forbidden", "source"),
    ({"source": "nope"}, 404, "io.NotFound", "source"),
    ({"source": "http://example.com/{z}/{x}/{y}.png"}, 403, "access.Forbidden", "source"),
    ({"geometry": {"coordinates": []}}, 422, "param.Invalid", "geometry"),
])
def test_bad_request_names_field_leaves_nothing(scene, server, change, status, sid, field):
    for path in ("/processing/cost", "/processings"):
        st, e = server.json("POST", path, _body(scene, **change))
        assert st == status and e["id"] == sid and e.get("field") == field, e
        assert "\n" not in e["detail"]
    assert [p for p in os.listdir(server.jobs)] == []


def test_aoi_outside_the_imagery(scene, server):
    """An AOI away from the pyramid: source.NoDataInAOI, no processing made."""
    far = json.loads(json.dumps(scene["aoi"]))
    far["coordinates"] = [[[x + 1.0, y] for x, y in far["coordinates"][0]]]
    st, e = server.json("POST", "/processings", _body(scene, geometry=far))
    assert st == 422 and e["id"] == "source.NoDataInAOI", e
    assert os.listdir(server.jobs) == []
    st, e = server.json("GET", "/processings/" + "0" * 32)
    assert st == 404 and e["id"] == "processing.NotFound"
    st, e = server.json("GET", "/processings/..%2F..%2Fetc/result")
    assert st == 404


def test_corrupt_tile_failed_then_restart_reruns_only_it(scene, reference, server):
    src = scene["dir"] / "broken"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(scene["dir"] / "xyz", src)
    tile = src / "18" / str(scene["tx"]) / ("%d.png" % scene["ty"])
    good = tile.read_bytes()
    tile.write_bytes(good[:200])  # a truncated PNG
    st, v = server.json("POST", "/processings", _body(scene, source="broken"))
    assert st == 202, v
    pid = v["id"]
    v = _wait(server, pid)
    assert v["status"] == "FAILED", v
    failed = {m["partition"] for m in v["messages"] if m.get("partition") is not None}
    assert 0 < len(failed) < 9
    assert any("18/%d/%d" % (scene["tx"], scene["ty"]) in m["message"] for m in v["messages"]), v["messages"]
    st, e = server.json("GET", "/processings/%s/result" % pid)
    assert st == 409 and e["id"] == "processing.NotReady"
    before = _attempts(server, pid)
    tile.write_bytes(good)
    st, r = server.json("POST", "/processings/%s/restart" % pid)
    assert st == 202, r
    v = _wait(server, pid)
    assert v["status"] == "OK" and v["percentCompleted"] == 100, v
    after = _attempts(server, pid)
    for i, (s, a) in before.items():
        assert after[i] == ("OK", a + 1 if i in failed else a), (i, before[i], after[i])
    assert footprints(_result(server, pid)) == reference
    st, e = server.json("POST", "/processings/%s/restart" % pid)
    assert st == 409 and e["id"] == "processing.NotFailed"


def test_sigkill_mid_job_then_restart_resumes(scene, reference, tmp_path):
    jobs = tmp_path / "jobs"
    s = Server([scene["dir"]], "--jobs", jobs, "--job-threads", 1, log=tmp_path / "a.log")
    s.jobs = jobs
    try:
        st, v = s.json("POST", "/processings", _body(scene))
        assert st == 202, v
        pid = v["id"]
        deadline = time.time() + 120
        while True:  # kill once some partitions are done and some are not
            done = [i for i, (st_, _) in _attempts(s, pid).items() if st_ == "OK"]
            if 0 < len(done) < 9:
                break
            assert len(done) < 9 and time.time() < deadline, "the job ended before the kill"
            time.sleep(0.02)
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
    finally:
        s.stop()
    before = _attempts(s, pid)
    assert any(st_ != "OK" for st_, _ in before.values())
    s2 = Server([scene["dir"]], "--jobs", jobs, "--job-threads", 1, log=tmp_path / "b.log")
    s2.jobs = jobs
    try:
        v = _wait(s2, pid)
        assert v["status"] == "OK" and v["percentCompleted"] == 100, v
        after = _attempts(s2, pid)
        for i, (st_, a) in before.items():
            if st_ == "OK":
                assert after[i] == (st_, a), "partition %d ran again" % i
            assert after[i][0] == "OK"
        assert footprints(_result(s2, pid)) == reference
    finally:
        s2.stop()
