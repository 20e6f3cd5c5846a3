"""The server's map page in Debian's headless Chromium, driven by
playwright-core (npm, tests/browser): the raster's tiles render (the
screenshot's pixels are those of the tile endpoint's images), the bytes the
page received are the endpoint's, an AOI drawn by clicking gets the
geodesic area PROJ computes and the statistics eoproc zonal gives, and the
page logs no error. The screenshots are kept in build/test-artifacts/."""

import json
import os
import pathlib
import shutil
import subprocess
import urllib.parse

import numpy as np
import pytest
from osgeo import gdal

from helpers import ring_area_km2, run_cli
from server_fixture import Server
from test_server import decode

gdal.UseExceptions()
REPO = pathlib.Path(__file__).resolve().parents[2]
BROWSER = REPO / "tests" / "browser"
SERVER_PKG = REPO / "bindings" / "python" / "eoproc" / "server"
ARTIFACTS = REPO / "build" / "test-artifacts"


def npm_ci(folder, marker):
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed (Debian: nodejs)"
    if not (folder / "node_modules" / marker).exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True,
                       capture_output=True, timeout=600, env=clean_env())


def clean_env():
    """The environment without the sanitizer preload of the ASan run:
    node and Chromium are not built with it."""
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(k, None)
    return env


@pytest.fixture(scope="module")
def page_run(tmp_path_factory, l7):
    assert os.path.exists("/usr/bin/chromium"), "Debian's chromium is needed (apt-get install " \
                                                "chromium)"
    npm_ci(BROWSER, "playwright-core")
    npm_ci(SERVER_PKG, "leaflet/dist/leaflet.js")
    root = tmp_path_factory.mktemp("page_root")
    shutil.copy(l7, root / "l7.tif")
    out = tmp_path_factory.mktemp("page_out")
    srv = Server([root], log=out / "server.log")
    try:
        url = srv.url + "/?" + urllib.parse.urlencode({"url": "l7.tif", "bidx": "3,2,1",
                                                        "rescale": "20,120"})
        p = subprocess.run(["node", str(BROWSER / "map_page.mjs"), url, str(out)],
                           capture_output=True, text=True, timeout=180, env=clean_env())
        assert p.returncode == 0, p.stderr[-3000:]
        res = json.loads((out / "result.json").read_text())
        # the endpoint's own bytes for each tile the page received
        direct = {t["url"]: srv.get(t["url"][len(srv.url):])[2] for t in res["tiles"]}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name in ("map.png", "map_aoi.png"):
            shutil.copy(out / name, ARTIFACTS / ("server_" + name))
        yield res, out, direct, root
    finally:
        srv.stop()


def test_page_has_no_errors(page_run):
    res = page_run[0]
    assert res["console"] == [] and res["pageErrors"] == [] and res["failed"] == []


def test_page_tiles_are_the_endpoints_bytes(page_run):
    res, _, direct, _ = page_run
    assert res["tiles"], "the page requested no tile"
    for t in res["tiles"]:
        assert t["status"] == 200, t["url"]
        import base64
        assert base64.b64decode(t["b64"]) == direct[t["url"]], t["url"]


def test_screenshot_shows_the_tiles_pixels(page_run):
    res, out, direct, _ = page_run
    shot = gdal.Open(str(out / "map.png")).ReadAsArray()[:3].astype(int)
    mx, my, mw, mh = [int(round(v)) for v in res["onScreen"]["map"]]
    area = shot[:, my:my + mh, mx:mx + mw]
    # not blank: many colours, not the background's
    colours = np.unique(area.reshape(3, -1).T, axis=0)
    assert len(colours) > 1000 and area.std() > 10
    compared = 0
    for t in res["onScreen"]["tiles"]:
        x, y, w, h = t["rect"]
        assert (w, h) == (256, 256), "tiles are drawn at their own size at the first view"
        img = decode(direct[t["src"]]).astype(int)
        # the part of the tile inside the map's rectangle
        x0, y0 = max(int(x), mx), max(int(y), my)
        x1, y1 = min(int(x) + 256, mx + mw), min(int(y) + 256, my + mh)
        if x1 <= x0 or y1 <= y0:
            continue
        tile = img[:, y0 - int(y):y1 - int(y), x0 - int(x):x1 - int(x)]
        seen = shot[:, y0:y1, x0:x1]
        opaque = tile[3] == 255
        assert np.array_equal(seen[:, opaque], tile[:3][:, opaque]), t["src"]
        compared += int(opaque.sum())
    assert compared > 50000


def test_drawn_aoi_area_and_statistics(page_run, cli, tmp_path):
    res, _, _, root = page_run
    a = res["aoi"]
    assert a["status"] == ""
    ring = a["aoi"]["coordinates"][0]
    assert len(ring) == 5
    assert a["area"]["area_km2"] == pytest.approx(ring_area_km2(ring), rel=1e-9)
    f = tmp_path / "aoi.geojson"
    f.write_text(json.dumps(a["aoi"]))
    for band in (3, 2, 1):
        p = run_cli(cli, "zonal", root / "l7.tif", f, "--band", str(band))
        assert p.returncode == 0, p.stderr
        want = json.loads(p.stdout)
        got = a["stats"]["properties"]["statistics"]["b%d" % band]
        assert got["count"] == want["count"] and got["mean"] == pytest.approx(want["mean"])
        assert ("b%d: mean %.2f (%d px)" % (band, want["mean"], want["count"])) in a["text"]
    assert "Area: %.3f km²" % ring_area_km2(ring) in a["text"]
