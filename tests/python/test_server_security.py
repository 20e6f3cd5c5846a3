"""The server's guards: traversal attempts open nothing, bodies over the
limit get 413 (with or without Content-Length), and with a token every
endpoint but the map page's assets answers 401 without it."""

import http.client
import json
import os
import re
import shutil

import pytest

from server_fixture import Server

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def root(tmp_path_factory, l7):
    d = tmp_path_factory.mktemp("sec_root")
    shutil.copy(l7, d / "l7.tif")
    outside = tmp_path_factory.mktemp("sec_outside")
    shutil.copy(l7, outside / "secret.tif")
    os.symlink(outside / "secret.tif", d / "link.tif")
    os.symlink(outside, d / "linkdir")
    return d


def test_traversal_opens_nothing(root):
    s = Server([root])
    try:
        outside = os.path.realpath(root / "linkdir")
        for url in ("../sec_outside0/secret.tif", "%2e%2e/x.tif", "..%2Fx.tif", "link.tif",
                    "linkdir/secret.tif", outside + "/secret.tif", "/etc/passwd",
                    str(root) + "/../" + os.path.basename(outside) + "/secret.tif",
                    "/proc/self/environ", "/vsimem/x.tif", "/vsizip//etc/x.zip/a.tif",
                    "https://127.0.0.1:9/x.tif", "file:///etc/passwd"):
            for ep in ("/cog/info", "/cog/tiles/12/1651/2139.png", "/cog/preview.png",
                       "/cog/statistics", "/cog/point/-34.9,-8.0"):
                st, body = s.json("GET", ep + "?url=" + url)
                assert st in (403, 404), (ep, url, st, body)
                assert body["id"] in ("access.Forbidden", "io.NotFound")
        st, h = s.json("GET", "/healthz")
        assert h["open_files"] == 0 and h["open_handles"] == 0  # nothing was opened
        st, body = s.json("GET", "/cog/info?url=l7.tif")
        assert st == 200
        st, h = s.json("GET", "/healthz")
        assert h["open_files"] == 1
    finally:
        s.stop()


def raw(port, method, path, body=b"", headers=None, chunked=False):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        if chunked:
            c.putrequest(method, path)
            for k, v in (headers or {}).items():
                c.putheader(k, v)
            c.putheader("Transfer-Encoding", "chunked")
            c.endheaders()
            for i in range(0, len(body), 1000):
                part = body[i:i + 1000]
                try:
                    c.send(b"%x\r\n%s\r\n" % (len(part), part))
                except (BrokenPipeError, ConnectionResetError):
                    break
            try:
                c.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def test_oversized_bodies_get_413(root):
    s = Server([root], "--max-body", 2000)
    try:
        aoi = {"type": "Polygon", "coordinates": [[[-34.88, -7.99], [-34.87, -7.99],
                                                   [-34.87, -7.98], [-34.88, -7.99]]]}
        st, r = s.json("POST", "/ops/aoi_area", {"aoi": aoi})
        assert st == 200, r
        big = json.dumps({"aoi": aoi, "pad": "x" * 5000}).encode()
        for path in ("/ops/aoi_area", "/cog/statistics?url=l7.tif", "/cog/info?url=l7.tif"):
            st, b = raw(s.port, "POST", path, big, {"Content-Type": "application/json"})
            assert st == 413 and json.loads(b)["id"] == "request.TooLarge", (path, b)
            st, b = raw(s.port, "POST", path, big, {"Content-Type": "application/json"},
                        chunked=True)
            assert st == 413 and json.loads(b)["id"] == "request.TooLarge", (path, b)
        st, b = raw(s.port, "POST", "/ops/aoi_area", b"{}",
                    {"Content-Length": "99999999999", "Content-Type": "application/json"})
        assert st == 413
        assert s.alive()
    finally:
        s.stop()


def sample_path(p):
    return (p.replace("{z}", "12").replace("{x}", "1651").replace("{tail}", "2139.png")
            .replace("{lon}", "-34.9").replace("{lat}", "-8.0").replace("{name}", "info")
            .replace("{fmt}", "png"))


def test_token_guards_every_endpoint_but_the_page_assets(root):
    s = Server([root], token=TOKEN)
    try:
        st, doc = s.json("GET", "/openapi.json")
        assert st == 200
        checked = 0
        for path, methods in doc["paths"].items():
            for m in methods:
                p = sample_path(path) + "?url=l7.tif"
                for headers in ({}, {"Authorization": "Bearer wrong"},
                                {"Authorization": "Basic " + TOKEN}):
                    st, h, b = s.request(m.upper(), p, b"{}", headers=headers, auth=False)
                    assert st == 401 and json.loads(b)["id"] == "auth.Required", (m, p)
                    assert h["WWW-Authenticate"] == "Bearer"
                st, h, b = s.request(m.upper(), p + "&access_token=nope", b"{}", auth=False)
                assert st == 401
                checked += 1
        assert checked >= 15
        for p in ("/openapi.json", "/docs", "/nothing", "/files", "/static/../openapi.json"):
            st, _, _ = s.request("GET", p, auth=False)
            assert st == 401, p
        # the token works as a header and as access_token (the page's tiles)
        st, _, b = s.request("GET", "/cog/tiles/12/1651/2139.png?url=l7.tif", auth=True)
        assert st == 200 and b[:4] == b"\x89PNG"
        st, _, b = s.request("GET", "/cog/info?url=l7.tif&access_token=" + TOKEN, auth=False)
        assert st == 200
        # the page and its assets need no token
        st, h, page = s.request("GET", "/", auth=False)
        assert st in (200, 503)
        assets = ["/static/map.js", "/static/map.css", "/static/favicon.svg"]
        if st == 200:
            assets += re.findall(r'(?:src|href)="(/static/[^"]+)"', page.decode())
        for a in assets:
            st, _, _ = s.request("GET", a, auth=False)
            assert st == 200, a
    finally:
        s.stop()
