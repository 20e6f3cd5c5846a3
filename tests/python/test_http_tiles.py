"""Tile URLs over HTTP (issue 12): the CLI's libcurl fetcher and the Python
package's urllib one, against a real HTTP server on loopback.

The server (http.server in a thread, port 0) serves the zoom-18 pyramid that
test_detect.py renders (models/synth_pyramid.py), logs every request with
its User-Agent, and can answer a tile with a status, a redirect, a truncated
body, or not at all. References: the same runs on the tile folder (files
instead of HTTP), the tiles of the AOI's cover computed here with shapely
in pixel space, and the server's own log.
"""

import collections
import json
import math
import os
import pathlib
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from osgeo import gdal
from shapely.geometry import Polygon, box

import eoproc
from helpers import assert_cli_error
from helpers import detect_features as _features
from helpers import same_features as _same_features

gdal.UseExceptions()

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "models"))

from synth_pyramid import RES, R, write_pyramid  # noqa: E402

HANG_S = 60  # how long a "hang" answer waits: far beyond every timeout used here


class TileServer:
    """A static tile server over a folder, with faults per tile.

    faults["18/x/y"] is a list of answers, one per request, the last one
    repeated: None (the file), an HTTP status (404, 204, 500, ...),
    "truncate" (half of the announced body), "slow" (the file after 0.4 s)
    or "hang" (no answer).
    Paths under /r/ answer 302 to the same path without it. log holds
    (key, user_agent) per request, headers each request's headers. With
    require ({name: value}), a request lacking one of them gets 401. delay:
    seconds every tile answer waits; in_flight / max_in_flight count the
    requests being answered at once."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.faults = {}
        self.log = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.headers = []
        self.require = {}
        self.delay = 0.0
        self.in_flight = self.max_in_flight = 0
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                if path.startswith("/r/"):
                    self.send_response(302)
                    self.send_header("Location", path[2:])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                key = path.strip("/").rsplit(".", 1)[0]
                with srv.lock:
                    srv.log.append((key, self.headers.get("User-Agent")))
                    srv.headers.append(dict(self.headers))
                    seq = srv.faults.get(key) or [None]
                    act = seq.pop(0) if len(seq) > 1 else seq[0]
                    denied = any(self.headers.get(k) != v for k, v in srv.require.items())
                    srv.in_flight += 1
                    srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
                if srv.delay:
                    time.sleep(srv.delay)
                # out of flight before answering: the client may send its next
                # request as soon as it has this answer
                with srv.lock:
                    srv.in_flight -= 1
                if denied:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="tiles"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.answer(path, act)

            def answer(self, path, act):
                if act == "hang":
                    srv.release.wait(HANG_S)
                    self.close_connection = True
                    return
                if act == "slow":
                    time.sleep(0.4)
                if isinstance(act, int):
                    self.send_response(act)
                    if act != 204:
                        self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                f = srv.root / path.lstrip("/")
                if not f.is_file():
                    self.send_error(404)
                    return
                data = f.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if act == "truncate":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def template(self, prefix=""):
        return "http://127.0.0.1:%d%s/{z}/{x}/{y}.png" % (self.port, prefix)

    def url(self, x, y, z=18):
        return "http://127.0.0.1:%d/%d/%d/%d.png" % (self.port, z, x, y)

    def counts(self):
        with self.lock:
            return collections.Counter(k for k, _ in self.log)

    def agents(self):
        with self.lock:
            return {a for _, a in self.log}

    def clear(self):
        with self.lock:
            self.log.clear()
            self.faults.clear()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """1024 x 1024 px at z18 (4 x 4 tiles from tx, ty): xyz/, aoi.geojson."""
    return write_pyramid(tmp_path_factory.mktemp("http"), grid=2, size=512)


@pytest.fixture()
def server(scene):
    s = TileServer(scene["dir"] / "xyz")
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # loopback requests must not go through a proxy the environment may name
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("EOPROC_HTTP_TIMEOUT", raising=False)
    yield
    eoproc.set_url_fetcher()


def cli_run(cli, *args, env=None, timeout=300):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([cli, *[str(a) for a in args]], capture_output=True, text=True,
                          env=e, timeout=timeout)


def key(scene, i, j):
    """The key of the scene's tile at column i, row j."""
    return "18/%d/%d" % (scene["tx"] + i, scene["ty"] + j)


def all_tiles(scene):
    return {key(scene, i, j) for i in range(4) for j in range(4)}


@pytest.fixture(scope="module")
def folder_run(scene, cli):
    """The reference: the single-pass run on the tile folder (files, no HTTP)."""
    out = scene["dir"] / "folder.geojson"
    p = cli_run(cli, "detect", scene["dir"] / "xyz", scene["dir"] / "aoi.geojson", out,
                "--zoom", 18, "--partition-tiles", 0, "--precision", 15, "--quiet")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["tiles"] == {"fetched": 16, "missing": 0, "corrupt": 0}
    return res, _features(out)


def lonlat(scene, px, py):
    """Longitude, latitude of a pixel corner of the scene (as write_pyramid)."""
    x0, y0 = scene["gt"][0], scene["gt"][3]
    X, Y = x0 + px * RES, y0 - py * RES
    return [X / R * 180 / math.pi, math.degrees(2 * math.atan(math.exp(Y / R)) - math.pi / 2)]


# ---- (a) the CLI: the same features as on the folder, each cover tile once --------


def test_cli_url_equals_folder_and_fetches_each_cover_tile_once(scene, folder_run, server, cli,
                                                               tmp_path):
    aoi = scene["dir"] / "aoi.geojson"
    p = cli_run(cli, "detect", server.template(), aoi, tmp_path / "e.geojson", "--zoom", 18,
                "--estimate")
    assert p.returncode == 0, p.stderr
    est = json.loads(p.stdout)
    assert server.counts() == {}, "the estimate fetched tiles"
    out = tmp_path / "url.geojson"
    p = cli_run(cli, "detect", server.template(), aoi, out, "--zoom", 18, "--partition-tiles", 0,
                "--precision", 15, "--quiet")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    _same_features(_features(out), folder_run[1])
    assert res["tiles"] == folder_run[0]["tiles"]
    counts = server.counts()
    # the AOI (inset 20 px) meets every one of the scene's 16 tiles
    assert set(counts) == all_tiles(scene) and len(counts) == est["tiles"]
    assert set(counts.values()) == {1}, counts
    assert server.agents() == {"eoproc/%s" % eoproc.__version__}


def test_cli_fetches_only_the_polygons_cover(scene, server, cli, tmp_path):
    """A triangle: the tiles whose interior meets it (shapely, in pixel
    space, where web-mercator edges are straight), not its bounding box."""
    tri_px = [(20, 20), (1004, 20), (20, 900)]
    poly = Polygon(tri_px)
    cover = set()
    for i in range(4):
        for j in range(4):
            b = box(256 * i, 256 * j, 256 * (i + 1), 256 * (j + 1))
            # no tile corner lies within a pixel of the edge: no borderline tile
            assert poly.exterior.distance(b.exterior) > 1 or poly.intersection(b).area > 256
            if poly.intersection(b).area > 0:
                cover.add(key(scene, i, j))
    assert 6 < len(cover) < 16
    ring = [lonlat(scene, x, y) for x, y in tri_px[::-1]]
    aoi = tmp_path / "tri.geojson"
    aoi.write_text(json.dumps({"type": "Polygon", "coordinates": [ring + [ring[0]]]}))
    p = cli_run(cli, "detect", server.template(), aoi, tmp_path / "e.geojson", "--zoom", 18,
                "--estimate")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["tiles"] == len(cover)
    p = cli_run(cli, "detect", server.template(), aoi, tmp_path / "t.geojson", "--zoom", 18,
                "--quiet")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["tiles"]["fetched"] == len(cover)
    counts = server.counts()
    assert set(counts) == cover and set(counts.values()) == {1}, counts


# ---- (b) the same in one Python call ------------------------------------------------


def test_python_detect_url_one_call(scene, folder_run, server):
    r = eoproc.detect(server.template(), scene["aoi"], zoom=18, partition_tiles=0, precision=15)
    _same_features(r["geojson"]["features"], folder_run[1])
    assert r["tiles"] == {"fetched": 16, "missing": 0, "corrupt": 0}
    counts = server.counts()
    assert set(counts) == all_tiles(scene) and set(counts.values()) == {1}, counts
    assert server.agents() == {"eoproc/%s" % eoproc.__version__}


# ---- (c) a tile answering 500: only its partitions fail; restart after the fix -----


def _attempts(cli, job):
    p = cli_run(cli, "job", "partitions", job)
    assert p.returncode == 0, p.stderr
    return {q["id"]: q for q in json.loads(p.stdout)}


def test_http_500_fails_its_partitions_then_restart(scene, folder_run, server, cli, tmp_path):
    bad = key(scene, 0, 0)
    server.faults[bad] = [500]
    url = server.url(scene["tx"], scene["ty"])
    job, out = tmp_path / "job", tmp_path / "o.geojson"
    p = cli_run(cli, "detect", server.template(), scene["dir"] / "aoi.geojson", out, "--zoom", 18,
                "--partition-tiles", 1, "--job", job, "--precision", 15, "--retries", 1,
                "--quiet")
    msg = assert_cli_error(p, None)
    assert bad in msg and url in msg and "HTTP 500" in msg, msg
    assert not out.exists()
    # --retries 1: two requests each time the tile was asked for
    n = server.counts()[bad]
    assert n >= 2 and n % 2 == 0, n
    st = json.loads(cli_run(cli, "job", "status", job).stdout)
    assert st["status"] == "FAILED"
    failed = {e["partition"] for e in st["errors"]}
    for e in st["errors"]:
        assert bad in e["error"] and url in e["error"] and "500" in e["error"], e
    parts = _attempts(cli, job)
    assert st["partitions"]["done"] == len(parts) - len(failed)
    # the tile is the scene's pixels [0, 256)^2; windows are in pixels of the
    # AOI's box, 20 px inside the scene: a partition whose window meets the
    # tile must fail, one farther than a model tile (256 px) from it must not
    for pid, q in parts.items():
        x, y, w, h = q["window"]
        x0, y0 = x + 20, y + 20
        if x0 < 256 and y0 < 256:
            assert pid in failed, (pid, q)
        if x0 > 256 + 256 or y0 > 256 + 256:
            assert pid not in failed and q["status"] == "OK", (pid, q)
    assert 0 < len(failed) < len(parts)
    server.faults.clear()
    server.log.clear()
    p = cli_run(cli, "job", "restart", job, "--quiet")
    assert p.returncode == 0, p.stderr
    after = _attempts(cli, job)
    for pid, q in parts.items():
        assert after[pid]["status"] == "OK"
        assert after[pid]["attempts"] == q["attempts"] + (1 if pid in failed else 0), pid
    assert server.counts()[bad] == 1  # the rerun fetched it again, once
    _same_features(_features(out), folder_run[1])
    assert json.loads(cli_run(cli, "job", "status", job).stdout)["status"] == "OK"


def test_python_job_over_a_url_fails_then_restarts(scene, folder_run, server, tmp_path):
    """Job.create plans without fetching; a 503 tile fails the run naming
    it; after the fix, restart gives the folder run's output."""
    bad = key(scene, 1, 2)
    server.faults[bad] = [503]
    eoproc.set_url_fetcher(retries=2)
    out = tmp_path / "j.geojson"
    job = eoproc.Job.create(tmp_path / "job", server.template(), scene["aoi"], out, zoom=18,
                            partition_tiles=0, precision=15)
    assert server.counts() == {}
    with job:
        with pytest.raises(eoproc.Error) as e:
            job.run()
        msg = str(e.value)
        assert bad in msg and server.url(scene["tx"] + 1, scene["ty"] + 2) in msg, msg
        assert "HTTP 503" in msg and "3 attempts" in msg, msg
        assert server.counts()[bad] == 3
        assert job.status()["status"] == "FAILED" and not out.exists()
        server.clear()
        r = job.restart()
        assert r["tiles"] == {"fetched": 16, "missing": 0, "corrupt": 0}
    _same_features(_features(out), folder_run[1])


# ---- (d) 404 and 204: missing tiles, counted, with a warning ------------------------


def test_404_and_204_read_as_missing(scene, server, cli, tmp_path):
    server.faults[key(scene, 0, 0)] = [404]
    server.faults[key(scene, 3, 3)] = [204]
    p = cli_run(cli, "detect", server.template(), scene["dir"] / "aoi.geojson",
                tmp_path / "m.geojson", "--zoom", 18, "--quiet")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["tiles"] == {"fetched": 14, "missing": 2, "corrupt": 0}
    # each corner tile held 236 x 236 of the AOI's 984 x 984 pixels
    share = 1 - 2 * 236**2 / 984**2
    assert res["coverage"] == pytest.approx(share, abs=1e-3)
    assert any("no imagery" in w for w in res["warnings"]), res.get("warnings")
    assert set(server.counts().values()) == {1}
    # Python: the same through open_tiles, pixels of the missing tile transparent
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        a = ds.read()
        assert ds.missing_tiles == 2
    assert (a[3, :200, :200] == 0).all() and (a[3, 300:700, 300:700] == 255).all()


# ---- (e) a server that never answers ------------------------------------------------


def test_never_answering_server_times_out(scene, server, cli, tmp_path):
    bad = key(scene, 0, 0)
    server.faults[bad] = ["hang"]
    out = tmp_path / "h.geojson"
    t0 = time.monotonic()
    p = cli_run(cli, "detect", server.template(), scene["dir"] / "aoi.geojson", out, "--zoom", 18,
                "--retries", 1, env={"EOPROC_HTTP_TIMEOUT": "1"})
    took = time.monotonic() - t0
    msg = assert_cli_error(p, None)
    assert "timed out" in msg and server.url(scene["tx"], scene["ty"]) in msg and bad in msg, msg
    # timeouts are retried: the client says so, and the server saw the first
    # request (on a loaded machine the second attempt's own 1 s may run out
    # while it is still connecting or waiting in the server's backlog, so
    # the server may never read it: counted 1 or 2 times, never more)
    assert "(2 attempts)" in msg, msg
    settle = time.monotonic() + 5
    while server.counts()[bad] < 2 and time.monotonic() < settle:
        time.sleep(0.05)
    assert server.counts()[bad] in (1, 2)
    # two attempts of 1 s and a 0.25 s backoff, far below the 60 s the server would wait
    assert took < HANG_S / 3, took
    assert not out.exists()
    # Python
    server.log.clear()
    eoproc.set_url_fetcher(retries=0, timeout=1)
    t0 = time.monotonic()
    with pytest.raises(eoproc.Error) as e:
        eoproc.detect(server.template(), scene["aoi"], zoom=18)
    assert time.monotonic() - t0 < HANG_S / 3
    msg = str(e.value)
    assert "timed out" in msg and server.url(scene["tx"], scene["ty"]) in msg, msg
    # no retry: the client made one attempt and says so; the server saw at most
    # that one (under ASan the single 1 s attempt may run out before the
    # server's thread has read the request, so 0 is possible, 2 is not)
    assert "(1 attempt)" in msg, msg
    settle = time.monotonic() + 3
    while server.counts()[bad] < 2 and time.monotonic() < settle:
        time.sleep(0.05)
    assert server.counts()[bad] <= 1


def test_ctrl_c_during_a_fetch_cancels_and_resumes(scene, folder_run, server, cli, tmp_path):
    """SIGINT while a tile hangs: exit 130 at once, the job CANCELLED (not
    FAILED), and resume finishes it with the clean run's output."""
    import signal

    bad = key(scene, 0, 0)
    server.faults[bad] = ["hang", None]
    job, out = tmp_path / "job", tmp_path / "c.geojson"
    proc = subprocess.Popen([cli, "detect", server.template(), str(scene["dir"] / "aoi.geojson"),
                             str(out), "--zoom", "18", "--partition-tiles", "0", "--precision",
                             "15", "--job", str(job), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not server.counts()[bad] and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert server.counts()[bad] == 1
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=HANG_S / 2)
    assert time.monotonic() - t0 < HANG_S / 6
    assert proc.returncode == 130 and stdout == "", (proc.returncode, stderr)
    assert stderr.strip().endswith("[cancelled]") and len(stderr.splitlines()) == 1, stderr
    assert json.loads(cli_run(cli, "job", "status", job).stdout)["status"] == "CANCELLED"
    assert not out.exists()
    p = cli_run(cli, "job", "resume", job, "--quiet")
    assert p.returncode == 0, p.stderr
    _same_features(_features(out), folder_run[1])


# ---- the fetcher's answers, cheaply through tiles-read / open_tiles -----------------


def _folder_pixels(scene, tmp_path, cli):
    out = tmp_path / "folder.tif"
    p = cli_run(cli, "tiles-read", scene["dir"] / "xyz", out, "--zoom", 18, "--aoi",
                scene["dir"] / "aoi.geojson", "--quiet")
    assert p.returncode == 0, p.stderr
    return gdal.Open(str(out)).ReadAsArray()


CASES = [
    # answers of tile (1, 1), retries, success?, requests of it, words of the error
    (["slow"], 0, True, 1, None),
    ([503, None], 3, True, 2, None),
    ([429, 429, None], 3, True, 3, None),
    (["truncate", None], 3, True, 2, None),
    ([500], 2, False, 3, ["HTTP 500", "3 attempts"]),
    ([403], 3, False, 1, ["HTTP 403", "1 attempt"]),
    ([410], 0, False, 1, ["HTTP 410"]),
]


@pytest.mark.parametrize("answers, retries, ok, requests, words", CASES)
def test_cli_retries_and_errors(scene, server, cli, tmp_path, answers, retries, ok, requests,
                                words):
    bad = key(scene, 1, 1)
    server.faults[bad] = list(answers)
    out = tmp_path / "u.tif"
    p = cli_run(cli, "tiles-read", server.template(), out, "--zoom", 18, "--aoi",
                scene["dir"] / "aoi.geojson", "--retries", retries, "--quiet")
    assert server.counts()[bad] == requests
    if ok:
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["fetched"] == 16
        np.testing.assert_array_equal(gdal.Open(str(out)).ReadAsArray(),
                                      _folder_pixels(scene, tmp_path, cli))
    else:
        msg = assert_cli_error(p, None)
        url = server.url(scene["tx"] + 1, scene["ty"] + 1)
        assert bad in msg and url in msg and all(w in msg for w in words), msg
        assert not out.exists()


@pytest.mark.parametrize("answers, retries, ok, requests, words", CASES)
def test_python_retries_and_errors(scene, server, cli, tmp_path, answers, retries, ok, requests,
                                   words):
    bad = key(scene, 1, 1)
    server.faults[bad] = list(answers)
    eoproc.set_url_fetcher(retries=retries)
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        if ok:
            a = ds.read()
        else:
            with pytest.raises(eoproc.Error) as e:
                ds.read()
    assert server.counts()[bad] == requests
    if ok:
        np.testing.assert_array_equal(a, _folder_pixels(scene, tmp_path, cli))
    else:
        msg = str(e.value)
        url = server.url(scene["tx"] + 1, scene["ty"] + 1)
        assert bad in msg and url in msg and all(w in msg for w in words), msg


def test_redirects_are_followed(scene, server, cli, tmp_path):
    """302s are followed; a URL with a comma is one source on the command
    line (not a list of files)."""
    out = tmp_path / "r.tif"
    p = cli_run(cli, "tiles-read", server.template("/r") + "?layers=a,b", out, "--zoom", 18,
                "--aoi", scene["dir"] / "aoi.geojson", "--quiet")
    assert p.returncode == 0, p.stderr
    ref = _folder_pixels(scene, tmp_path, cli)
    np.testing.assert_array_equal(gdal.Open(str(out)).ReadAsArray(), ref)
    assert set(server.counts()) == all_tiles(scene)
    with eoproc.open_tiles(server.template("/r"), zoom=18, aoi=scene["aoi"]) as ds:
        np.testing.assert_array_equal(ds.read(), ref)


def test_user_fetcher_takes_precedence(scene, server, tmp_path):
    """eoproc.set_url_fetcher(fn): fn gets every URL; nothing reaches the network."""
    server.close()  # nothing listens on its port any more
    asked = []

    def from_folder(url):
        asked.append(url)
        rel = url.split("/", 3)[3]
        f = scene["dir"] / "xyz" / rel
        return f.read_bytes() if f.exists() else None

    eoproc.set_url_fetcher(from_folder)
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        a = ds.read()
    assert sorted(asked) == sorted(server.url(scene["tx"] + i, scene["ty"] + j)
                                   for i in range(4) for j in range(4))
    eoproc.set_url_fetcher(retries=0)
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        with pytest.raises(eoproc.Error) as e:
            ds.read()
    assert "refused" in str(e.value) and server.template().split("{")[0] in str(e.value)
    with pytest.raises(eoproc.Error) as e:
        eoproc.set_url_fetcher("not callable")
    assert e.value.id == "arg.Invalid"
    assert a.shape == (4, 984, 984)


def test_bad_settings(scene, server, cli, tmp_path, l7, monkeypatch):
    """A bad EOPROC_HTTP_TIMEOUT fails the fetches naming it (and nothing
    else: a command without a URL runs); a bad --retries is a usage error."""
    bad = {"EOPROC_HTTP_TIMEOUT": "soon"}
    p = cli_run(cli, "tiles-read", server.template(), tmp_path / "x.tif", "--zoom", 18,
                "--aoi", scene["dir"] / "aoi.geojson", env=bad)
    msg = assert_cli_error(p, ["io.Read"])
    assert "EOPROC_HTTP_TIMEOUT" in msg and "soon" in msg, msg
    assert cli_run(cli, "info", l7, env=bad).returncode == 0
    eoproc.set_url_fetcher(retries=0)
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        monkeypatch.setenv("EOPROC_HTTP_TIMEOUT", "soon")
        with pytest.raises(eoproc.Error) as e:
            ds.read()
    assert "EOPROC_HTTP_TIMEOUT" in str(e.value) and "soon" in str(e.value)
    with pytest.raises(eoproc.Error) as e:
        eoproc.set_url_fetcher(retries=-1)
    assert e.value.id == "arg.Invalid"
    p = cli_run(cli, "tiles-read", server.template(), tmp_path / "x.tif", "--zoom", 18,
                "--aoi", scene["dir"] / "aoi.geojson", "--retries", "-1")
    assert "--retries" in assert_cli_error(p, ["arg.Invalid"], exit_code=2)
    assert server.counts() == {} and not (tmp_path / "x.tif").exists()
    for op in ("detect", "tiles-read"):
        assert "--retries N" in cli_run(cli, op, "--help").stdout


# ---- headers, basic auth, the limit of requests in flight, the tile cache --------

AUTH = {"Authorization": "Basic " + __import__("base64").b64encode(b"bob:s3cr:et").decode(),
        "X-Api-Key": "k-42"}


def test_headers_and_basic_auth(scene, server, cli, tmp_path, monkeypatch):
    """A server answering 401 without the key header and the credentials:
    a clear error naming 401; with -H and --user (or EOPROC_HTTP_USER) the
    tiles arrive as from the folder, both headers on every request."""
    server.require = dict(AUTH)
    out = tmp_path / "a.tif"
    aoi = scene["dir"] / "aoi.geojson"
    p = cli_run(cli, "tiles-read", server.template(), out, "--zoom", 18, "--aoi", aoi, "--quiet")
    msg = assert_cli_error(p, None)
    assert "HTTP 401" in msg and "Unauthorized" in msg, msg
    assert not out.exists()
    ref = _folder_pixels(scene, tmp_path, cli)
    for creds, env in ((["--user", "bob:s3cr:et"], None), ([], {"EOPROC_HTTP_USER": "bob:s3cr:et"})):
        server.log.clear()
        server.headers.clear()
        p = cli_run(cli, "tiles-read", server.template(), out, "--zoom", 18, "--aoi", aoi,
                    "-H", "X-Api-Key: k-42", "--header=X-Other: 1", *creds, "--quiet", env=env)
        assert p.returncode == 0, p.stderr
        np.testing.assert_array_equal(gdal.Open(str(out)).ReadAsArray(), ref)
        assert set(server.counts()) == all_tiles(scene)
        assert all(h.get("X-Api-Key") == "k-42" and h.get("X-Other") == "1"
                   and h.get("Authorization") == AUTH["Authorization"] for h in server.headers)
    # Python
    eoproc.set_url_fetcher(retries=0)
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        with pytest.raises(eoproc.Error) as e:
            ds.read()
    assert "HTTP 401" in str(e.value)
    for auth in (("bob", "s3cr:et"), "bob:s3cr:et"):
        eoproc.set_url_fetcher(headers={"X-Api-Key": "k-42"}, auth=auth)
        with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
            np.testing.assert_array_equal(ds.read(), ref)


def test_max_connections(scene, server, cli, tmp_path):
    """With every answer 0.15 s late, the server never sees more requests at
    once than max_connections (and sees more without the limit: the library
    fetches a row of tiles on up to one thread per CPU, 2 at least here)."""
    server.delay = 0.15
    aoi = scene["dir"] / "aoi.geojson"
    seen = {}
    for n in (None, 2, 1):
        server.max_in_flight = 0
        opt = [] if n is None else ["--max-connections", n]
        p = cli_run(cli, "tiles-read", server.template(), tmp_path / "c.tif", "--zoom", 18,
                    "--aoi", aoi, "--threads", 8, *opt, "--quiet")
        assert p.returncode == 0, p.stderr
        seen[n] = server.max_in_flight
    assert seen[None] >= 2 and 1 <= seen[2] <= 2 and seen[1] == 1, seen
    for n in (None, 2, 1):
        server.max_in_flight = 0
        if n is None:
            eoproc.set_url_fetcher()
        else:
            eoproc.set_url_fetcher(max_connections=n)
        with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
            ds.read()
        seen["py", n] = server.max_in_flight
    assert seen["py", None] >= 2 and 1 <= seen["py", 2] <= 2 and seen["py", 1] == 1, seen


def _fnv1a64(b):
    h = 14695981039346656037
    for c in b:
        h = ((h ^ c) * 1099511628211) % 2**64
    return h


def _cache_file(d, url):
    h = "%016x" % _fnv1a64(url.encode())
    return pathlib.Path(d) / h[:2] / (h[2:] + ".tile")


def test_tile_cache_cli_then_python_then_cli(scene, server, cli, tmp_path):
    """--tile-cache: the first run fetches each tile once and writes the
    documented files (404s too); a second run makes no request and gives the
    same pixels; the Python fetcher reads the CLI's cache and the CLI reads
    one written by Python."""
    missing = key(scene, 3, 0)
    server.faults[missing] = [404]
    aoi = scene["dir"] / "aoi.geojson"
    cache = tmp_path / "cache"
    outs = []
    for run in range(2):
        server.log.clear()
        out = tmp_path / ("t%d.tif" % run)
        p = cli_run(cli, "tiles-read", server.template(), out, "--zoom", 18, "--aoi", aoi,
                    "--tile-cache", cache, "--quiet")
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["missing"] == 1
        outs.append(gdal.Open(str(out)).ReadAsArray())
        if run == 0:
            assert set(server.counts()) == all_tiles(scene)
            assert set(server.counts().values()) == {1}
        else:
            assert server.counts() == {}
    np.testing.assert_array_equal(outs[0], outs[1])
    # the files, from the format's definition
    files = {f for f in cache.rglob("*") if f.is_file()}
    assert len(files) == 16
    for i in range(4):
        for j in range(4):
            url = server.url(scene["tx"] + i, scene["ty"] + j)
            f = _cache_file(cache, url)
            head = b"eoproc-tile 1\n" + url.encode() + b"\n"
            if key(scene, i, j) == missing:
                assert f.read_bytes() == head + b"404\n"
            else:
                tile = (scene["dir"] / "xyz" / key(scene, i, j)).with_suffix(".png").read_bytes()
                assert f.read_bytes() == head + b"200\n" + tile
    # Python reads the CLI's cache: no request
    server.log.clear()
    eoproc.set_url_fetcher(cache_dir=cache)
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        a = ds.read()
        assert ds.missing_tiles == 1
    assert server.counts() == {}
    # and writes one the CLI reads
    pycache = tmp_path / "pycache"
    eoproc.set_url_fetcher(cache_dir=pycache)
    with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
        b = ds.read()
    np.testing.assert_array_equal(a, b)
    assert len(server.counts()) == 16
    assert sorted(f.read_bytes() for f in pycache.rglob("*.tile")) == \
        sorted(f.read_bytes() for f in cache.rglob("*.tile"))
    server.log.clear()
    out = tmp_path / "t2.tif"
    p = cli_run(cli, "tiles-read", server.template(), out, "--zoom", 18, "--aoi", aoi,
                "--quiet", env={"EOPROC_TILE_CACHE": str(pycache)})
    assert p.returncode == 0, p.stderr
    assert server.counts() == {}
    np.testing.assert_array_equal(gdal.Open(str(out)).ReadAsArray(), outs[0])


def _fill_old_cache(cache, n=20, size=20000):
    """n valid cache files of other URLs, size bytes each, used long ago (the
    first the oldest); a stale and a fresh temporary file."""
    now = time.time()
    old = []
    for i in range(n):
        url = "http://elsewhere.invalid/18/%d/0.png" % i
        f = _cache_file(cache, url)
        f.parent.mkdir(parents=True, exist_ok=True)
        head = b"eoproc-tile 1\n" + url.encode() + b"\n200\n"
        f.write_bytes(head + b"x" * (size - len(head)))
        os.utime(f, (now - 10000 + i, now - 10000 + i))
        old.append(f)
    stale = old[0].parent / "0123.99.1.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (now - 7200, now - 7200))
    fresh = old[1].parent / "4567.99.2.tmp"
    fresh.write_bytes(b"half")
    return old, stale, fresh


@pytest.mark.parametrize("via", ["cli", "python"])
def test_tile_cache_bound_removes_least_recently_used(scene, server, cli, tmp_path, via):
    """--tile-cache-max-mb / cache_max_mb: past the bound the tiles used
    longest ago go first, down to 90% of it; a cache hit counts as a use (an
    old entry that is read survives); temporary files over an hour old are
    removed, fresh ones kept. Expected from the files' sizes and times."""
    cache = tmp_path / "cache"
    old, stale, fresh = _fill_old_cache(cache)
    # one of the scene's tiles is already cached, and older than every other file
    hit_url = server.url(scene["tx"], scene["ty"])
    hit = _cache_file(cache, hit_url)
    png = (scene["dir"] / "xyz" / key(scene, 0, 0)).with_suffix(".png").read_bytes()
    hit.parent.mkdir(parents=True, exist_ok=True)
    hit.write_bytes(b"eoproc-tile 1\n" + hit_url.encode() + b"\n200\n" + png)
    os.utime(hit, (time.time() - 20000, time.time() - 20000))
    new_bytes = 0
    for i in range(4):
        for j in range(4):
            url = server.url(scene["tx"] + i, scene["ty"] + j)
            tile = (scene["dir"] / "xyz" / key(scene, i, j)).with_suffix(".png").read_bytes()
            new_bytes += len(b"eoproc-tile 1\n" + url.encode() + b"\n200\n") + len(tile)
    # room for the scene's tiles and 5 of the 20 old files, at 90% of the bound
    mb = "%.6f" % ((new_bytes + 5.5 * 20000) / 0.9 / 1048576)
    bound = int(float(mb) * 1048576)
    if via == "cli":
        p = cli_run(cli, "tiles-read", server.template(), tmp_path / "t.tif", "--zoom", 18,
                    "--aoi", scene["dir"] / "aoi.geojson", "--tile-cache", cache,
                    "--tile-cache-max-mb", mb, "--quiet")
        assert p.returncode == 0, p.stderr
    else:
        eoproc.set_url_fetcher(cache_dir=cache, cache_max_mb=float(mb))
        with eoproc.open_tiles(server.template(), zoom=18, aoi=scene["aoi"]) as ds:
            ds.read()
    assert key(scene, 0, 0) not in server.counts() and len(server.counts()) == 15
    tiles = list(cache.rglob("*.tile"))
    assert sum(f.stat().st_size for f in tiles) <= bound
    for i in range(4):  # every tile of the run is there, the old one it read too
        for j in range(4):
            assert _cache_file(cache, server.url(scene["tx"] + i, scene["ty"] + j)).is_file()
    kept = [f.exists() for f in old]
    assert not kept[0] and kept[-1]
    n = sum(kept)  # the survivors are the most recently used: a suffix
    assert 1 <= n < 20 and kept == [False] * (20 - n) + [True] * n, kept
    assert not stale.exists() and fresh.exists()


def test_tile_cache_bound_bad_values(scene, server, cli, tmp_path):
    for bad in ("-1", "lots", "", "1e12"):
        p = cli_run(cli, "tiles-read", server.template(), tmp_path / "x.tif", "--zoom", 18,
                    "--aoi", scene["dir"] / "aoi.geojson", "--tile-cache", tmp_path / "c",
                    "--tile-cache-max-mb", bad)
        assert "--tile-cache-max-mb" in assert_cli_error(p, ["arg.Invalid"], exit_code=2)
    for bad in (-1, "lots", None, True):
        with pytest.raises(eoproc.Error) as e:
            eoproc.set_url_fetcher(cache_dir=tmp_path / "c", cache_max_mb=bad)
        assert e.value.id == "arg.Invalid" and "cache_max_mb" in str(e.value)
    p = cli_run(cli, "tiles-read", server.template(), tmp_path / "x.tif", "--zoom", 18,
                "--aoi", scene["dir"] / "aoi.geojson", "--tile-cache", tmp_path / "c",
                env={"EOPROC_TILE_CACHE_MAX_MB": "-5"})
    msg = assert_cli_error(p, ["io.Read"])
    assert "EOPROC_TILE_CACHE_MAX_MB" in msg and "-5" in msg, msg
    assert server.counts() == {}


def test_tile_cache_collision_is_a_miss(scene, server, cli, tmp_path):
    """A cache file naming another URL (as after a hash collision) is not used."""
    cache = tmp_path / "cache"
    url = server.url(scene["tx"], scene["ty"])
    f = _cache_file(cache, url)
    f.parent.mkdir(parents=True)
    f.write_bytes(b"eoproc-tile 1\nhttp://elsewhere/18/0/0.png\n404\n")
    p = cli_run(cli, "tiles-read", server.template(), tmp_path / "x.tif", "--zoom", 18, "--aoi",
                scene["dir"] / "aoi.geojson", "--tile-cache", cache, "--quiet")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["missing"] == 0
    assert server.counts()[key(scene, 0, 0)] == 1
    assert f.read_bytes().startswith(b"eoproc-tile 1\n" + url.encode() + b"\n200\n")


def test_tile_cache_second_detect_and_job_restart(scene, folder_run, server, cli, tmp_path):
    """detect with --tile-cache: a job that failed on a 500 tile restarts
    fetching that tile and those the failed run had not reached, none of the
    others again (the cache); a second detect makes no request; all give the
    folder run's features."""
    aoi = scene["dir"] / "aoi.geojson"
    cache = tmp_path / "cache"
    bad = key(scene, 2, 1)
    server.faults[bad] = [500]
    job, out = tmp_path / "job", tmp_path / "o.geojson"
    p = cli_run(cli, "detect", server.template(), aoi, out, "--zoom", 18, "--partition-tiles", 1,
                "--job", job, "--precision", 15, "--retries", 0, "--tile-cache", cache, "--quiet")
    assert "HTTP 500" in assert_cli_error(p, None)
    assert not _cache_file(cache, server.url(scene["tx"] + 2, scene["ty"] + 1)).exists()
    first = server.counts()
    assert len(first) > 1 and first[bad] == 1
    server.clear()
    p = cli_run(cli, "job", "restart", job, "--tile-cache", cache, "--quiet")
    assert p.returncode == 0, p.stderr
    again = server.counts()
    assert again[bad] == 1 and set(again) & set(first) == {bad}, (first, again)
    assert set(again) | set(first) == all_tiles(scene)
    _same_features(_features(out), folder_run[1])
    server.clear()
    out2 = tmp_path / "o2.geojson"
    p = cli_run(cli, "detect", server.template(), aoi, out2, "--zoom", 18, "--partition-tiles", 0,
                "--precision", 15, "--quiet", env={"EOPROC_TILE_CACHE": str(cache)})
    assert p.returncode == 0, p.stderr
    assert server.counts() == {}
    _same_features(_features(out2), folder_run[1])
    # Python job API over the same cache
    eoproc.set_url_fetcher(cache_dir=cache)
    out3 = tmp_path / "o3.geojson"
    with eoproc.Job.create(tmp_path / "pyjob", server.template(), scene["aoi"], out3, zoom=18,
                           partition_tiles=1, precision=15) as j:
        j.run()
    assert server.counts() == {}
    _same_features(_features(out3), folder_run[1])


@pytest.mark.parametrize("args, words", [
    (["--max-connections", "0"], ["--max-connections"]),
    (["--max-connections", "many"], ["--max-connections", "many"]),
    (["-H", "NoColon"], ["--header", "NoColon"]),
    (["--header", ": empty name"], ["--header"]),
    (["--user", "bob"], ["--user", "USER:PASS"]),
    (["--tile-cache", "FILE"], ["--tile-cache", "not a folder"]),
    (["--tile-cache", "MISSING/sub"], ["--tile-cache", "cannot create"]),
    (["--tile-cache"], ["--tile-cache", "needs a value"]),
])
def test_bad_fetch_options(scene, server, cli, tmp_path, args, words):
    f = tmp_path / "file.txt"
    f.write_text("x")
    args = [str(f) if a == "FILE" else str(tmp_path / "no" / "sub") if a == "MISSING/sub" else a
            for a in args]
    out = tmp_path / "x.tif"
    p = cli_run(cli, "tiles-read", server.template(), out, "--zoom", 18, "--aoi",
                scene["dir"] / "aoi.geojson", *args)
    msg = assert_cli_error(p, ["arg.Invalid"], exit_code=2)
    assert len(p.stderr.strip().splitlines()) == 1
    assert all(w in msg for w in words), msg
    assert server.counts() == {} and not out.exists()


def test_bad_fetch_settings_python(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    for kw in ({"max_connections": 0}, {"max_connections": "8"}, {"headers": ["X: y"]},
               {"headers": {"X": "a\nb"}}, {"headers": {"Bad Name": "v"}}, {"auth": "bob"},
               {"auth": ("bob",)}, {"cache_dir": f}, {"cache_dir": ""}):
        with pytest.raises(eoproc.Error) as e:
            eoproc.set_url_fetcher(**kw)
        assert e.value.id == "arg.Invalid", kw


# ---- a detect job's partitions share tiles: each is fetched once ----------------


@pytest.mark.parametrize("mb", [0, 1])
def test_partitions_fetch_each_tile_once(scene, folder_run, server, cli, tmp_path, mb):
    """Partitions of one model tile step (3 x 3 here) read overlapping
    windows (the model tiles' halo); with a tile cache of a few tiles (0:
    its floor of two rows, 8 tiles; 1 MiB: 4 tiles of 256 KiB, floored to 8)
    the tiles a later partition needs are kept: the server sees each of the
    16 tiles once, CLI and Python, and the features are the folder run's."""
    out = tmp_path / "p.geojson"
    p = cli_run(cli, "detect", server.template(), scene["dir"] / "aoi.geojson", out, "--zoom",
                18, "--partition-tiles", 1, "--tile-cache-mb", mb, "--precision", 15, "--quiet")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["partitions"] >= 4, res["partitions"]
    counts = server.counts()
    assert set(counts) == all_tiles(scene) and set(counts.values()) == {1}, counts
    assert res["tiles"] == {"fetched": 16, "missing": 0, "corrupt": 0}
    _same_features(_features(out), folder_run[1])
    server.clear()
    r = eoproc.detect(server.template(), scene["aoi"], zoom=18, partition_tiles=1,
                      tile_cache_mb=mb, precision=15)
    counts = server.counts()
    assert set(counts) == all_tiles(scene) and set(counts.values()) == {1}, counts
    _same_features(r["geojson"]["features"], folder_run[1])


def test_detect_fetches_a_partitions_tiles_at_once(scene, folder_run, server, cli, tmp_path):
    """A remote source's tiles of a partition are fetched on up to 16
    threads before the model reads them (not one model tile's window at a
    time on the CPUs' threads, 4 at most): with every answer 0.3 s late the
    server sees more than 4 requests at once, up to the CLI's default 8;
    --max-connections 3 still caps them; the features are the folder run's."""
    server.delay = 0.3
    for opt, least, most in (([], 5, 8), (["--max-connections", 3], 1, 3)):
        server.max_in_flight = 0
        out = tmp_path / "f.geojson"
        p = cli_run(cli, "detect", server.template(), scene["dir"] / "aoi.geojson", out, "--zoom",
                    18, "--partition-tiles", 0, "--precision", 15, "--quiet", *opt)
        assert p.returncode == 0, p.stderr
        assert least <= server.max_in_flight <= most, (opt, server.max_in_flight)
        _same_features(_features(out), folder_run[1])
