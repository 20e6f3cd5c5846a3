"""The HTTP server (python3 -m eoproc.server) as a real process on a
loopback port: tiles against `eoproc tile` and numpy, statistics against
numpy and `eoproc zonal`, point values against GDAL, previews against GDAL,
the operation registry over HTTP, and every error as a one-line JSON body
with its status id."""

import json
import math
import os
import shutil
import urllib.parse
import uuid

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import eoproc
from helpers import ring_area_km2, run_cli
from server_fixture import Server

gdal.UseExceptions()


@pytest.fixture(scope="module")
def root(tmp_path_factory, l7, dem):
    d = tmp_path_factory.mktemp("served")
    shutil.copy(l7, d / "l7.tif")
    (d / "sub").mkdir()
    shutil.copy(dem, d / "sub" / "dem.tif")
    (d / "notes.txt").write_text("not a raster\n")
    outside = tmp_path_factory.mktemp("outside")
    shutil.copy(l7, outside / "secret.tif")
    os.symlink(outside / "secret.tif", d / "escape.tif")
    os.symlink(outside, d / "escape_dir")
    os.symlink(d / "l7.tif", d / "inside_link.tif")
    return d


@pytest.fixture(scope="module")
def srv(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    s = Server([root], "--out-dir", out, log=tmp_path_factory.mktemp("log") / "server.log")
    s.out_dir = out
    yield s
    s.stop()


def q(**params):
    items = []
    for k, v in params.items():
        for x in (v if isinstance(v, list) else [v]):
            items.append((k, str(x)))
    return urllib.parse.urlencode(items)


def decode(data):
    """Image bytes -> (bands, h, w) array through GDAL's PNG/JPEG/WebP drivers."""
    name = "/vsimem/server-test-%s" % uuid.uuid4().hex
    gdal.FileFromMemBuffer(name, bytes(data))
    try:
        return gdal.Open(name).ReadAsArray()
    finally:
        gdal.Unlink(name)


def cli_tile(cli, src, z, x, y, tmp_path, ext="png", **opts):
    out = tmp_path / ("cli_%d_%d_%d_%s.%s" % (z, x, y, uuid.uuid4().hex[:6], ext))
    args = ["tile", src, z, x, y, out]
    for k, v in opts.items():
        args += ["--" + k, v]
    p = run_cli(cli, *args)
    assert p.returncode == 0, p.stderr
    return out


def tiles_of(l7):
    info = eoproc.info(l7)
    lon0, lat0, lon1, lat1 = info["bbox_4326"]
    aoi = {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1],
                                               [lon0, lat1], [lon0, lat0]]]}
    out = []
    for z in (11, 12, 13, 14):
        t = eoproc.tiles_cover(aoi, z)
        out += [t[0], t[len(t) // 2], t[-1]]
    return out


# ---------------------------------------------------------------------------
# tiles
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bidx,resampling", [([3, 2, 1], "nearest"), ([4], "bilinear"),
                                             ([1, 2, 3], "cubic")])
def test_tile_pixels_equal_eoproc_tile(srv, root, cli, tmp_path, bidx, resampling):
    for z, x, y in tiles_of(root / "l7.tif"):
        st, h, body = srv.get("/cog/tiles/%d/%d/%d.png?%s" % (
            z, x, y, q(url="l7.tif", bidx=bidx, resampling=resampling)))
        assert st == 200, body
        assert h["content-type"] == "image/png"
        ref = cli_tile(cli, root / "l7.tif", z, x, y, tmp_path, bands=",".join(map(str, bidx)),
                       resampling=resampling)
        got, want = decode(body), gdal.Open(str(ref)).ReadAsArray()
        assert got.shape == want.shape == (len(bidx) + 1, 256, 256)
        assert np.array_equal(got, want), (z, x, y)
        assert (got[-1] == 255).any()  # the scene covers each of these tiles


def test_tile_formats_and_scales(srv, root, cli, tmp_path):
    z, x, y = tiles_of(root / "l7.tif")[4]
    for ext, cli_fmt in (("webp", "webp"), ("jpg", "jpg")):
        st, h, body = srv.get("/cog/tiles/WebMercatorQuad/%d/%d/%d.%s?%s" % (
            z, x, y, ext, q(url="l7.tif", bidx=[3, 2, 1], resampling="bilinear")))
        assert st == 200 and h["content-type"] == "image/" + {"jpg": "jpeg"}.get(ext, ext)
        ref = cli_tile(cli, root / "l7.tif", z, x, y, tmp_path, cli_fmt, bands="3,2,1")
        got, want = decode(body), gdal.Open(str(ref)).ReadAsArray()
        assert np.array_equal(got[:3], want[:3]), ext
    # @2x is a 512-pixel tile of the same place
    st, _, body = srv.get("/cog/tiles/%d/%d/%d@2x.png?%s" % (z, x, y, q(url="l7.tif", bidx=1)))
    ref = cli_tile(cli, root / "l7.tif", z, x, y, tmp_path, size=512, bands="1",
                   resampling="nearest")
    assert st == 200 and np.array_equal(decode(body), gdal.Open(str(ref)).ReadAsArray())


def raw_tile(cli, root, z, x, y, tmp_path, bands, resampling="nearest"):
    """Source values of a tile (GeoTIFF output of eoproc tile) + alpha."""
    ref = cli_tile(cli, root / "l7.tif", z, x, y, tmp_path, "tif",
                   bands=",".join(map(str, bands)), resampling=resampling)
    a = gdal.Open(str(ref)).ReadAsArray().astype(np.float64)
    return a[:-1], a[-1] > 0


def test_tile_rescale_and_nodata_against_numpy(srv, root, cli, tmp_path):
    z, x, y = tiles_of(root / "l7.tif")[7]
    data, valid = raw_tile(cli, root, z, x, y, tmp_path, [5, 4, 3])
    st, _, body = srv.get("/cog/tiles/%d/%d/%d.png?%s" % (z, x, y, q(
        url="l7.tif", bidx=[5, 4, 3], rescale=["10,150", "20,120", "0,255"])))
    assert st == 200, body
    got = decode(body)
    for i, (lo, hi) in enumerate(((10, 150), (20, 120), (0, 255))):
        want = np.clip(np.rint((data[i] - lo) * 255.0 / (hi - lo)), 0, 255)
        assert np.array_equal(got[i][valid], want[valid]), i
    assert np.array_equal(got[3] == 255, valid)
    # nodata=V masks the pixels where every band read equals V
    v = int(np.median(data[0][valid]))
    st, _, body = srv.get("/cog/tiles/%d/%d/%d.png?%s" % (z, x, y, q(url="l7.tif", bidx=5,
                                                                    nodata=v)))
    got = decode(body)
    assert np.array_equal(got[1] == 255, valid & (data[0] != v))
    assert (data[0][valid] == v).any()


@pytest.mark.parametrize("expr", ["(b4-b3)/(b4+b3)", "NDVI"])
def test_tile_expression_against_numpy(srv, root, cli, tmp_path, expr):
    z, x, y = tiles_of(root / "l7.tif")[10]
    (r, n), valid = raw_tile(cli, root, z, x, y, tmp_path, [3, 4])
    st, _, body = srv.get("/cog/tiles/%d/%d/%d.png?%s" % (z, x, y, q(
        url="l7.tif", expression=expr, sensor="landsat7", rescale="-0.5,0.7")))
    assert st == 200, body
    got = decode(body)
    with np.errstate(divide="ignore", invalid="ignore"):
        ndvi = (n - r) / (n + r)
    ok = valid & np.isfinite(ndvi)
    want = np.clip(np.rint((ndvi - -0.5) * 255.0 / 1.2), 0, 255)
    # float32 evaluation against float64: a rounding step at most
    assert np.abs(got[0][ok].astype(int) - want[ok]).max() <= 1
    assert np.array_equal(got[1] == 255, ok)
    assert len(np.unique(got[0][ok])) > 20  # a real index image, not a constant


def test_tile_outside_and_empty(srv, root):
    st, body = srv.json("GET", "/cog/tiles/12/0/0.png?url=l7.tif")
    assert st == 404 and body["id"] == "source.NoDataInAOI"


def test_tilejson_and_info(srv, root):
    st, tj = srv.json("GET", "/cog/tilejson.json?" + q(url="l7.tif", bidx=[3, 2, 1]))
    assert st == 200
    ds = gdal.Open(str(root / "l7.tif"))
    gt, w, h = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
    src = osr.SpatialReference(wkt=ds.GetProjection())
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    lon0, lat0, lon1, lat1 = tr.TransformBounds(gt[0], gt[3] + h * gt[5], gt[0] + w * gt[1],
                                                gt[3], 21)
    assert np.allclose(tj["bounds"], [lon0, lat0, lon1, lat1], atol=1e-6)
    # 28.5 m pixels at 8 deg S: zoom 12 (38.2 m at the equator, 37.8 m there) is the closest
    res = 2 * 20037508.342789244 / 256 / 2 ** np.arange(25) * math.cos(math.radians(-8))
    assert tj["maxzoom"] == int(np.argmin(np.abs(np.log(res / 28.5))))
    t = tj["tiles"][0]
    assert "bidx=3" in t and "{z}/{x}/{y}" in t
    z = tj["maxzoom"]
    lon, lat = tj["center"][:2]
    x = int((lon + 180) / 360 * 2 ** z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2 ** z)
    path = t.replace(srv.url, "").replace("{z}", str(z)).replace("{x}", str(x)).replace(
        "{y}", str(y))
    st, hd, _ = srv.get(path)
    assert st == 200 and hd["content-type"] == "image/png"
    st, info = srv.json("GET", "/cog/info?url=l7.tif")
    assert st == 200
    assert (info["width"], info["height"], info["count"]) == (w, h, ds.RasterCount)
    assert info["dtype"] == "uint8" and info["bounds"] == tj["bounds"]
    assert info["overviews"] == [2, 4, 8, 16]


# ---------------------------------------------------------------------------
# statistics, point, preview
# ---------------------------------------------------------------------------
def test_statistics_whole_raster_against_numpy(srv, root):
    st, s = srv.json("GET", "/cog/statistics?" + q(url="l7.tif", bidx=[2, 5], p=[2, 50, 98]))
    assert st == 200, s
    ds = gdal.Open(str(root / "l7.tif"))
    assert sorted(s) == ["b2", "b5"]
    for b in (2, 5):
        v = ds.GetRasterBand(b).ReadAsArray().astype(np.float64).ravel()
        got = s["b%d" % b]
        assert got["count"] == got["valid_pixels"] == v.size and got["valid_percent"] == 100
        assert got["min"] == v.min() and got["max"] == v.max() and got["sum"] == v.sum()
        assert got["mean"] == pytest.approx(v.mean(), rel=1e-12)
        assert got["std"] == pytest.approx(v.std(), rel=1e-9)
        assert [got["percentile_%d" % p] for p in (2, 50, 98)] == list(np.percentile(
            v, [2, 50, 98]))
        counts, edges = np.histogram(v, bins=10, range=(v.min(), v.max()))
        assert got["histogram"][0] == counts.tolist()
        assert np.allclose(got["histogram"][1], edges)


def aoi_feature(lon, lat, d, name):
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d],
            [lon - d, lat - d]]
    return {"type": "Feature", "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_statistics_aoi_equal_eoproc_zonal_and_numpy(srv, root, cli, tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        aoi_feature(-34.88, -7.99, 0.01, "a"), aoi_feature(-34.85, -8.02, 0.006, "b")]}
    st, res = srv.json("POST", "/cog/statistics?" + q(url="l7.tif", bidx=4), fc)
    assert st == 200, res
    assert [f["properties"]["name"] for f in res["features"]] == ["a", "b"]
    path = tmp_path / "fc.geojson"
    path.write_text(json.dumps(fc))
    p = run_cli(cli, "zonal", root / "l7.tif", path, "--band", "4", "--percentiles", "2,98",
                "--histogram", "10")
    assert p.returncode == 0, p.stderr
    want = json.loads(p.stdout)["features"]
    ds = gdal.Open(str(root / "l7.tif"))
    band = ds.GetRasterBand(4).ReadAsArray().astype(np.float64)
    for f, w, src in zip(res["features"], want, fc["features"]):
        got = f["properties"]["statistics"]["b4"]
        for k in ("count", "min", "max", "mean", "std", "sum", "median", "percentiles",
                  "histogram"):
            want_k = w["stats"][k]
            if k == "histogram":
                want_k = [want_k["counts"], want_k["edges"]]
            if k in ("mean", "std"):  # summation order may differ with the thread count
                assert got[k] == pytest.approx(want_k, rel=1e-12), k
            else:
                assert got[k] == want_k, k
        # numpy over the pixels GDAL burns for the same polygon (centre rule)
        mem = gdal.GetDriverByName("MEM").Create("", ds.RasterXSize, ds.RasterYSize, 1)
        mem.SetGeoTransform(ds.GetGeoTransform())
        mem.SetProjection(ds.GetProjection())
        vds = ogr.GetDriverByName("Memory").CreateDataSource("")
        sr = osr.SpatialReference()
        sr.ImportFromEPSG(4326)
        sr.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        lyr = vds.CreateLayer("a", sr)
        feat = ogr.Feature(lyr.GetLayerDefn())
        feat.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(src["geometry"])))
        lyr.CreateFeature(feat)
        gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1])
        v = band[mem.ReadAsArray() == 1]
        assert abs(got["count"] - v.size) <= 0.01 * v.size + 2
        assert got["mean"] == pytest.approx(v.mean(), abs=0.5)
    # a single geometry comes back as a Feature
    st, one = srv.json("POST", "/cog/statistics?url=l7.tif&bidx=1", fc["features"][0]["geometry"])
    assert st == 200 and one["type"] == "Feature" and one["properties"]["statistics"]["b1"]["count"]


def test_point_against_gdal(srv, root):
    ds = gdal.Open(str(root / "l7.tif"))
    src = osr.SpatialReference()
    src.ImportFromEPSG(4326)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    dst = osr.SpatialReference(wkt=ds.GetProjection())
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    inv = gdal.InvGeoTransform(ds.GetGeoTransform())
    for lon, lat in ((-34.9, -8.0), (-34.83, -7.96), (-34.87, -8.03)):
        st, p = srv.json("GET", "/cog/point/%r,%r?url=l7.tif" % (lon, lat))
        assert st == 200, p
        x, y, _ = tr.TransformPoint(lon, lat)
        col, row = gdal.ApplyGeoTransform(inv, x, y)
        want = ds.ReadAsArray(int(col), int(row), 1, 1)[:, 0, 0].tolist()
        assert p["values"] == want and p["pixel"] == [int(col), int(row)]
    st, p = srv.json("GET", "/cog/point/10.0,45.0?url=l7.tif")
    assert st == 422 and p["id"] == "source.NoDataInAOI"


def test_preview_against_gdal(srv, root):
    ds = gdal.Open(str(root / "l7.tif"))
    # at least the raster's size: the pixels themselves
    st, h, body = srv.get("/cog/preview.png?" + q(url="l7.tif", bidx=[3, 2, 1], max_size=1024))
    assert st == 200 and h["content-type"] == "image/png"
    got = decode(body)
    assert np.array_equal(got[:3], ds.ReadAsArray(band_list=[3, 2, 1]))
    assert (got[3] == 255).all()
    # smaller: read from the overview just finer than the preview (the first
    # one, 175 x 176, for 99 x 100), nearest neighbour as GDAL's RasterIO
    st, _, body = srv.get("/cog/preview.png?" + q(url="l7.tif", bidx=4, max_size=100))
    got = decode(body)
    assert got.shape == (2, 100, 99)
    want = ds.GetRasterBand(4).GetOverview(0).ReadAsArray(buf_xsize=99, buf_ysize=100)
    assert np.array_equal(got[0], want)


# ---------------------------------------------------------------------------
# operations
# ---------------------------------------------------------------------------
def test_ops_list_and_schemas(srv):
    st, ops = srv.json("GET", "/ops")
    assert st == 200 and ops == eoproc.ops()
    for o in ops:
        st, d = srv.json("GET", "/ops/" + o["name"])
        assert st == 200 and d["parameters"] == eoproc.schema(o["name"])


def test_ops_run_against_geodesic_area(srv):
    ring = [[10, 40], [10.5, 40], [10.5, 40.3], [10, 40.3], [10, 40]]
    st, r = srv.json("POST", "/ops/aoi_area", {"aoi": {"type": "Polygon",
                                                       "coordinates": [ring]}})
    assert st == 200, r
    assert r["area_km2"] == pytest.approx(ring_area_km2(ring), rel=1e-9)


def test_ops_bad_parameter_names_field_and_schema(srv):
    aoi = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    st, r = srv.json("POST", "/ops/tiles_cover", {"aoi": aoi, "zoom": "x"})
    assert st == 422 and r["id"] == "param.Invalid" and r["field"] == "zoom"
    assert r["schema"] == eoproc.schema("tiles_cover")
    st, r = srv.json("POST", "/ops/tiles_cover", {"aoi": aoi})
    assert st == 422 and r["field"] == "zoom" and "required" in r["detail"]
    st, r = srv.json("POST", "/ops/tiles_cover", {"aoi": aoi, "zoom": 3, "bogus": 1})
    assert st == 422 and r["field"] == "bogus"
    st, r = srv.json("POST", "/ops/nope", {})
    assert st == 404 and r["id"] == "op.Unknown"
    st, h, b = srv.request("POST", "/ops/aoi_area", b"{not json",
                           headers={"Content-Type": "application/json"})
    r = json.loads(b)
    assert st == 422 and r["id"] == "param.Invalid" and r["schema"]
    bow = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    st, r = srv.json("POST", "/ops/aoi_area", {"aoi": bow})
    assert st == 422 and r["id"] == "geometry.Invalid"


def test_ops_files_confined_to_roots(srv, root):
    st, r = srv.json("POST", "/ops/info", {"path": "l7.tif"})
    assert st == 200 and r["width"] == 349
    for bad in ("/etc/passwd", "../l7.tif", "escape.tif", "escape_dir/secret.tif"):
        st, r = srv.json("POST", "/ops/info", {"path": bad})
        assert st == 403 and r["id"] == "access.Forbidden", bad
    st, r = srv.json("POST", "/ops/zonal_stats", {"src": "l7.tif", "aoi": "/etc/passwd"})
    assert st == 403
    # outputs go to the output folder only
    st, r = srv.json("POST", "/ops/tile", {"src": "l7.tif", "z": 12, "x": 1651, "y": 2139,
                                           "out": "t/one.png"})
    assert st == 200, r
    assert (srv.out_dir / "t" / "one.png").is_file()
    for bad in ("../x.png", "/tmp/x.png"):
        st, r = srv.json("POST", "/ops/tile", {"src": "l7.tif", "z": 12, "x": 1651,
                                               "y": 2139, "out": bad})
        assert st == 403 and r["id"] == "access.Forbidden", bad


def test_openapi_documents_every_operation(srv):
    st, doc = srv.json("GET", "/openapi.json")
    assert st == 200
    for o in eoproc.ops():
        p = doc["paths"]["/ops/" + o["name"]]["post"]
        ref = p["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        comp = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert sorted(comp["properties"]) == sorted(eoproc.schema(o["name"])["properties"])
        assert "422" in p["responses"]
    for path in ("/cog/tiles/{z}/{x}/{tail}", "/cog/info", "/cog/statistics", "/cog/preview",
                 "/cog/point/{lon},{lat}", "/cog/tilejson.json"):
        assert path in doc["paths"], path
    st, h, body = srv.get("/docs")
    assert st == 200 and b"/static/vendor/swagger-ui/swagger-ui-bundle.js" in body
    assert b"cdn" not in body.lower()


# ---------------------------------------------------------------------------
# bad requests: 4xx, one line of JSON with the id, nothing read outside
# ---------------------------------------------------------------------------
BAD = [
    ("/cog/tiles/12/1651/2139.png?url=../l7.tif", 403, "access.Forbidden"),
    ("/cog/tiles/12/1651/2139.png?url=%2e%2e/l7.tif", 403, "access.Forbidden"),
    ("/cog/tiles/12/1651/2139.png?url=sub%2F..%2F..%2Fl7.tif", 403, "access.Forbidden"),
    ("/cog/tiles/12/1651/2139.png?url=%252e%252e/l7.tif", 404, "io.NotFound"),
    ("/cog/info?url=/etc/passwd", 403, "access.Forbidden"),
    ("/cog/info?url=escape.tif", 403, "access.Forbidden"),
    ("/cog/info?url=escape_dir/secret.tif", 403, "access.Forbidden"),
    ("/cog/info?url=/vsicurl/http://127.0.0.1:1/x.tif", 403, "access.Forbidden"),
    ("/cog/info?url=http://127.0.0.1:1/x.tif", 403, "access.Forbidden"),
    ("/cog/info?url=file:///etc/passwd", 403, "access.Forbidden"),
    ("/cog/info?url=nothere.tif", 404, "io.NotFound"),
    ("/cog/info?url=notes.txt", 422, "source.Invalid"),
    ("/cog/info?url=sub", 422, "source.Invalid"),
    ("/cog/info?url=l7.tif%00.png", 422, "param.Invalid"),
    ("/cog/info?url=" + "a" * 5000, 422, "param.Invalid"),
    ("/cog/info", 422, "param.Invalid"),
    ("/cog/tiles/31/0/0.png?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/-1/0/0.png?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/12/4096/0.png?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/99999999999999999999.png?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/999999999999999999999/1/1.png?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/12/abc/2139.png?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.gif?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139@9x.png?url=l7.tif", 422, "param.Invalid"),
    ("/cog/tiles/OtherTMS/12/1651/2139.png?url=l7.tif", 404, "route.NotFound"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&bidx=0", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&bidx=7", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&bidx=1&bidx=2", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&" + "&".join(["bidx=1"] * 50), 422,
     "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&rescale=a,b", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&rescale=1,1", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&rescale=1,2,3", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&resampling=magic", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&expression=b1%2B%2B", 422, "expr.Syntax"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&expression=b9", 422, None),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&expression=NDVI", 422, "index.BandMissing"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&expression=" + "b1%2B" * 400 + "b1", 422,
     "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&expression=b1", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.jpg?url=sub/dem.tif", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&nodata=abc", 422, "param.Invalid"),
    ("/cog/tiles/12/1651/2139.png?url=l7.tif&tilesize=100000", 422, "param.Invalid"),
    ("/cog/point/abc,1?url=l7.tif", 422, "param.Invalid"),
    ("/cog/point/500,1?url=l7.tif", 422, "param.Invalid"),
    ("/cog/preview.png?url=l7.tif&max_size=100000000", 422, "param.Invalid"),
    ("/cog/statistics?url=l7.tif&p=200", 422, "param.Invalid"),
    ("/cog/statistics?url=l7.tif&histogram_bins=-1", 422, "param.Invalid"),
    ("/ops/nope", 404, "op.Unknown"),
    ("/nothing/here", 404, "route.NotFound"),
]


@pytest.mark.parametrize("path,status,sid", BAD, ids=[b[0][:60] for b in BAD])
def test_bad_requests_get_4xx_json(srv, path, status, sid):
    st, h, body = srv.get(path)
    assert st == status, body
    d = json.loads(body)
    assert set(d) >= {"detail", "id"} and "\n" not in d["detail"]
    if sid:
        assert d["id"] == sid, d
    assert b"secret" not in body or b"outside" in body
    assert srv.alive()


def test_bad_post_bodies(srv):
    for body in (b"[1, 2]", b"{\"type\": \"Polygon\"}", b"nope"):
        st, h, b = srv.request("POST", "/cog/statistics?url=l7.tif", body,
                               headers={"Content-Type": "application/json"})
        assert 400 <= st < 500, (body, b)
        assert json.loads(b)["id"]
    st, h, b = srv.request("DELETE", "/cog/info?url=l7.tif")
    assert st == 405 and json.loads(b)["id"] == "method.NotAllowed"
    assert "Traceback" not in srv.log_text()


def test_open_datasets_are_bounded(root, tmp_path):
    d = tmp_path / "many"
    d.mkdir()
    for i in range(6):
        shutil.copy(root / "l7.tif", d / ("c%d.tif" % i))
    s = Server([d], "--cache-files", 2)
    try:
        for i in range(6):
            st, _, _ = s.get("/cog/tiles/12/1651/2139.png?url=c%d.tif" % i)
            assert st == 200
        st, h = s.json("GET", "/healthz")
        assert h["open_files"] <= 2 and h["open_handles"] <= 2 * 4
    finally:
        s.stop()


def _tasks(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def _burst(s, n):
    """n tile requests at once (each on its own connection)."""
    import concurrent.futures
    tiles = tiles_of(s.root / "l7.tif")
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        sts = list(ex.map(lambda i: s.get("/cog/tiles/%d/%d/%d.png?url=l7.tif&resampling=cubic"
                                          % tiles[i % len(tiles)])[0], range(4 * n)))
    assert sts == [200] * (4 * n)


@pytest.mark.parametrize("threads", [1, 3])
def test_request_threads_are_bounded(root, threads):
    # FastAPI's default pool would start a thread per concurrent request (up
    # to 40), each with its own malloc arena: --threads bounds them
    s = Server([root], "--threads", threads)
    s.root = root
    try:
        st, h = s.json("GET", "/healthz")
        assert st == 200 and h["threads"] == threads
        before = _tasks(s.proc.pid)
        _burst(s, 12)
        grown = _tasks(s.proc.pid) - before
        # healthz already ran on one of the request threads: the burst may
        # start the others, and no more
        assert grown <= threads - 1, grown
        assert threads == 1 or grown >= 1, grown
    finally:
        s.stop()


def test_gdal_block_cache_is_bounded(root):
    s = Server([root], "--gdal-cache-mb", 48)
    try:
        st, h = s.json("GET", "/healthz")
        assert st == 200 and h["gdal_cache_mb"] == 48
    finally:
        s.stop()
    s = Server([root], "--gdal-cache-mb", 0)  # GDAL's own default: 5% of RAM
    try:
        st, h = s.json("GET", "/healthz")
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        assert abs(h["gdal_cache_mb"] - ram * 0.05 / 2**20) < 2
    finally:
        s.stop()


def test_gdal_cache_setter_is_gdal_own(tmp_path):
    # the setter reaches the GDAL that osgeo (the same libgdal) reads back
    from eoproc.server._gdal import set_gdal_cache_mb
    old = gdal.GetCacheMax()
    try:
        set_gdal_cache_mb(37)
        assert gdal.GetCacheMax() == 37 << 20
    finally:
        gdal.SetCacheMax(old)
    with pytest.raises(ValueError, match="gdal_cache_mb 0"):
        set_gdal_cache_mb(0)


def test_bad_threads_is_a_usage_error(root):
    import subprocess
    import sys
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(pathlib_repo() / "bindings" / "python")] +
                                        [p for p in [env.get("PYTHONPATH")] if p])
    p = subprocess.run([sys.executable, "-m", "eoproc.server", "--root", str(root), "--threads",
                        "0", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1] == "eoproc.server: error: threads 0: at least 1"


def pathlib_repo():
    import pathlib
    return pathlib.Path(__file__).resolve().parents[2]
