"""A processing submitted from the server's map page in Debian's headless
Chromium (playwright-core, tests/browser/process_page.mjs): the AOI is
drawn by clicking its vertices, "Detect buildings" runs it, and the
footprints the map draws are counted. References: the processing's result
read from the API, `eoproc detect` on the same file and the AOI the page
drew, and the AOI's geodesic area (helpers.ring_area_km2). The screenshot
is kept in build/test-artifacts/."""

import json
import shutil
import subprocess
import sys
import urllib.parse

import pytest

from helpers import ring_area_km2, run_cli
from server_fixture import Server
from test_server_browser import ARTIFACTS, BROWSER, REPO, SERVER_PKG, clean_env, npm_ci

sys.path.insert(0, str(REPO / "models"))
from synth_pyramid import write_pyramid  # noqa: E402


def _footprints(fc):
    """Order-free: the sorted (class, pixels) of each feature."""
    return sorted((f["properties"]["class_name"], f["properties"]["pixels"])
                  for f in fc["features"])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    npm_ci(BROWSER, "playwright-core")
    npm_ci(SERVER_PKG, "leaflet/dist/leaflet.js")
    scene = write_pyramid(tmp_path_factory.mktemp("proc_page"), grid=2, size=512)
    out = tmp_path_factory.mktemp("proc_page_out")
    srv = Server([scene["dir"]], "--jobs", out / "jobs", "--job-threads", 1,
                 log=out / "server.log")
    try:
        url = srv.url + "/?" + urllib.parse.urlencode({"url": "scene.tif"})
        p = subprocess.run(["node", str(BROWSER / "process_page.mjs"), url, str(out),
                            str(scene["dir"] / "aoi.geojson")],
                           capture_output=True, text=True, timeout=400, env=clean_env())
        assert p.returncode == 0, p.stderr[-3000:]
        res = json.loads((out / "result.json").read_text())
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(out / "process.png", ARTIFACTS / "server_process.png")
        pid = (res["page"]["processing"] or {}).get("id")
        api = json.loads(srv.get("/processings/%s/result" % pid)[2]) if pid else None
        yield res, api, scene
    finally:
        srv.stop()


def test_page_has_no_errors(run):
    res = run[0]
    assert res["procVisible"]
    assert res["console"] == [] and res["pageErrors"] == [] and res["failed"] == []


def test_processing_from_the_page_equals_api_and_cli(run, cli, tmp_path):
    res, api, scene = run
    page = res["page"]
    assert page["processing"]["status"] == "OK", page
    assert page["processing"]["percentCompleted"] == 100
    # the footprints drawn on the map are the result's, and those of the CLI
    assert api is not None and len(api["features"]) > 20
    assert page["footprintCount"] == len(api["features"])
    assert ("OK: %d footprints" % len(api["features"])) in page["procInfo"]
    f = tmp_path / "aoi.geojson"
    f.write_text(json.dumps(page["aoi"]))
    out = tmp_path / "cli.geojson"
    p = run_cli(cli, "detect", scene["dir"] / "scene.tif", f, out)
    assert p.returncode == 0, p.stderr
    assert _footprints(api) == _footprints(json.loads(out.read_text()))


def test_drawn_aoi_and_estimate(run):
    res, _, scene = run
    page = res["page"]
    ring = page["aoi"]["coordinates"][0]
    want = scene["aoi"]["coordinates"][0]
    assert len(ring) == len(want)
    # clicks land on whole screen pixels: within a pixel (0.6 m) of the vertices
    for (x, y), (wx, wy) in zip(ring, want):
        assert x == pytest.approx(wx, abs=2e-5) and y == pytest.approx(wy, abs=2e-5)
    cost = page["cost"]
    assert "error" not in cost, cost
    assert cost["area"] == pytest.approx(ring_area_km2(ring), rel=1e-6)
    assert cost["tiles"] is None and cost["pixels"] > 0
    assert ("%d pixels" % cost["pixels"]) in page["procInfo"] or page["footprintCount"]


def test_zoomed_out_page_hides_the_raster(run):
    z = run[0]["zoomedOut"]
    assert z == {"zoom": 2, "tiles": 0}, z
