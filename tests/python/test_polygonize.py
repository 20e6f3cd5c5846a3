"""polygonize: eoproc against GDAL's polygonizer (osgeo.gdal.Polygonize, the
engine of gdal_polygonize.py) on generated masks and on lc.tif; validity and
areas with shapely (GEOS) and PROJ's geodesic area; RFC 7946 output;
GeoPackage / FlatGeobuf read back with OGR; regularization of rendered
rectangles and L-shapes; scores against numpy; errors through the CLI."""

import json
import math
import os
import subprocess
from collections import defaultdict

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from shapely.geometry import Polygon, shape
from shapely.ops import unary_union
from shapely import affinity

import eoproc
import helpers

gdal.UseExceptions()


def write_tif(path, arr, gt=(1000.0, 0.5, 0.0, 2000.0, 0.0, -0.5), epsg=32633, nodata=None):
    drv = gdal.GetDriverByName("GTiff")
    dt = gdal.GDT_Float32 if arr.dtype.kind == "f" else gdal.GDT_Byte
    ds = drv.Create(str(path), arr.shape[1], arr.shape[0], 1, dt)
    ds.SetGeoTransform(gt)
    if epsg:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    b = ds.GetRasterBand(1)
    if nodata is not None:
        b.SetNoDataValue(nodata)
    b.WriteArray(arr)
    ds = None
    return str(path)


def gdal_polygons(path, conn):
    """(class, shapely geometry) of GDAL's polygonizer, in the raster's CRS."""
    src = gdal.Open(str(path))
    band = src.GetRasterBand(1)
    mem = ogr.GetDriverByName("Memory").CreateDataSource("m")
    lyr = mem.CreateLayer("p", srs=src.GetSpatialRef())
    lyr.CreateField(ogr.FieldDefn("cls", ogr.OFTReal))
    opts = ["8CONNECTED=8"] if conn == 8 else []
    gdal.Polygonize(band, band.GetMaskBand(), lyr, 0, opts)
    out = []
    for f in lyr:
        out.append((f.GetField(0), shape(json.loads(f.GetGeometryRef().ExportToJson()))))
    return out


def ours(path, conn, **kw):
    g = eoproc.polygonize(path, connectivity=conn, native_crs=True, precision=6, **kw)
    return [(f["properties"]["class"], shape(f["geometry"]), f["properties"]) for f in g["features"]]


def compare_with_gdal(path, conn):
    a = ours(path, conn)
    b = gdal_polygons(path, conn)
    assert len(a) == len(b), "polygon count: eoproc %d, GDAL %d" % (len(a), len(b))
    area_a, area_b = defaultdict(float), defaultdict(float)
    for cls, g, _ in a:
        assert g.is_valid, "invalid polygon of class %s" % cls
        area_a[cls] += g.area
    for cls, g in b:
        area_b[cls] += g.area
    assert set(area_a) == set(area_b)
    for k in area_b:
        assert area_a[k] == pytest.approx(area_b[k], rel=1e-9, abs=1e-9), k
    return a


@pytest.mark.parametrize("conn", [4, 8])
def test_lc_against_gdal(data_dir, conn):
    a = compare_with_gdal(data_dir / "lc.tif", conn)
    ds = gdal.Open(str(data_dir / "lc.tif"))
    gt = ds.GetGeoTransform()
    px = abs(gt[1] * gt[5] - gt[2] * gt[4])
    for _, g, p in a:
        assert g.area == p["pixels"] * px  # exact: pixel count x pixel area


@pytest.mark.parametrize(
    "kind", ["noise2", "noise4", "blobs", "checker", "nodata", "rotated", "checker_wide"]
)
@pytest.mark.parametrize("conn", [4, 8])
def test_generated_against_gdal(tmp_path, kind, conn):
    rng = np.random.default_rng(7)
    h, w = 67, 83
    gt = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.5)
    nodata = None
    if kind == "noise2":
        arr = rng.integers(0, 2, (h, w)).astype(np.uint8)
    elif kind == "noise4":
        arr = rng.integers(0, 4, (h, w)).astype(np.uint8)
    elif kind == "blobs":
        y, x = np.mgrid[0:h, 0:w]
        arr = ((np.sin(x / 5.0) + np.cos(y / 7.0 + x / 11.0)) * 2 + 4).astype(np.uint8) % 3
    elif kind.startswith("checker"):
        if kind == "checker_wide":  # 67,600 regions in one stripe: past 16-bit labels
            h, w = 260, 260
        y, x = np.mgrid[0:h, 0:w]
        arr = ((x + y) % 2).astype(np.uint8)
    elif kind == "nodata":
        arr = rng.integers(0, 3, (h, w)).astype(np.uint8)
        nodata = 0
    else:
        arr = rng.integers(0, 3, (h, w)).astype(np.uint8)
        gt = (500000.0, 0.8, 0.3, 4000000.0, 0.25, -0.9)  # rotated / sheared
    path = write_tif(tmp_path / "m.tif", arr, gt=gt, nodata=nodata)
    a = compare_with_gdal(path, conn)
    px = abs(gt[1] * gt[5] - gt[2] * gt[4])
    total = sum(g.area for _, g, _ in a)
    valid = (arr != nodata).sum() if nodata is not None else arr.size
    assert total == pytest.approx(valid * px, rel=1e-9)
    for cls, g, p in a:
        assert g.area == pytest.approx(p["pixels"] * px, rel=1e-9)
    if nodata is None:
        # neighbours share their edges: no gap, no overlap
        u = unary_union([g for _, g, _ in a])
        assert u.area == pytest.approx(arr.size * px, rel=1e-9)
        assert u.geom_type == "Polygon"
        # exactly none on an axis-aligned grid; a rotated grid's T-junctions
        # leave float-rounding slivers only
        assert sum(Polygon(r).area for r in u.interiors) < (1e-6 if kind == "rotated" else 1e-300)


def test_geojson_rfc7946(data_dir, tmp_path):
    out = tmp_path / "lc.geojson"
    res = eoproc.polygonize(data_dir / "lc.tif", out)
    assert res["features"] == 421 and os.path.exists(out)
    fc = json.load(open(out))
    assert "crs" not in fc
    for f in fc["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for rings in polys:
            assert Polygon(rings[0]).exterior.is_ccw
            for hole in rings[1:]:
                assert not Polygon(hole).exterior.is_ccw
            for lon, lat in rings[0]:
                assert -180 <= lon <= 180 and -90 <= lat <= 90
                assert round(lon, 7) == lon
        ref = sum(helpers.polygon_area_km2(r) for r in polys) * 1e6
        assert f["properties"]["area_m2"] == pytest.approx(ref, rel=1e-5)  # 7 decimals


def test_gpkg_fgb_roundtrip(data_dir, tmp_path):
    ref = eoproc.polygonize(data_dir / "lc.tif", native_crs=True)
    for fmt in ("gpkg", "fgb"):
        out = tmp_path / ("lc." + fmt)
        eoproc.polygonize(data_dir / "lc.tif", out, format=fmt, native_crs=True)
        ds = ogr.Open(str(out))
        lyr = ds.GetLayer(0)
        assert lyr.GetFeatureCount() == len(ref["features"])
        got = sorted(f.GetGeometryRef().GetArea() for f in lyr)
        want = sorted(shape(f["geometry"]).area for f in ref["features"])
        assert got == pytest.approx(want, rel=1e-9)
        assert [p for p in os.listdir(tmp_path) if ".tmp" in p] == []


def test_score_is_mean_probability(tmp_path):
    mask = np.zeros((40, 50), np.uint8)
    boxes = [(2, 3, 10, 12), (20, 5, 30, 25), (5, 30, 15, 45)]
    for y0, x0, y1, x1 in boxes:
        mask[y0:y1, x0:x1] = 1
    prob = np.random.default_rng(3).random((40, 50)).astype(np.float32)
    m = write_tif(tmp_path / "m.tif", mask, nodata=0)
    p = write_tif(tmp_path / "p.tif", prob)
    fc = eoproc.polygonize(m, prob=p, native_crs=True)
    assert len(fc["features"]) == 3
    want = sorted(float(prob[y0:y1, x0:x1].mean()) for y0, x0, y1, x1 in boxes)
    got = sorted(f["properties"]["score"] for f in fc["features"])
    assert got == pytest.approx(want, rel=1e-6)


def test_coverage_simplify_keeps_neighbours(data_dir):
    a = ours(data_dir / "lc.tif", 4, coverage_simplify=4000)
    b = ours(data_dir / "lc.tif", 4)
    assert len(a) == len(b)
    assert sum(len(g.exterior.coords) for _, g, _ in a) < sum(
        len(g.exterior.coords) for _, g, _ in b
    )
    assert all(g.is_valid for _, g, _ in a)
    u = unary_union([g for _, g, _ in a])
    total = sum(g.area for _, g, _ in a)
    assert u.area == pytest.approx(total, rel=1e-9)  # no overlap
    ub = unary_union([g for _, g, _ in b])
    assert u.area == pytest.approx(ub.area, rel=1e-9)  # no gap (the frame is kept)


# ---------------------------------------------------------------------------
# Regularization of rendered buildings
# ---------------------------------------------------------------------------
def render(polys, h, w, rng, noise=0.25):
    """Pixel-centre rasterization, then flip pixels next to the edges."""
    from shapely.vectorized import contains

    y, x = np.mgrid[0:h, 0:w]
    cx, cy = x + 0.5, y + 0.5
    arr = np.zeros((h, w), np.uint8)
    for p in polys:
        arr |= contains(p, cx, cy).astype(np.uint8)
    edge = np.zeros_like(arr, bool)
    edge[1:-1, 1:-1] = (arr[1:-1, 1:-1] != arr[:-2, 1:-1]) | (arr[1:-1, 1:-1] != arr[1:-1, :-2])
    flip = edge & (rng.random(arr.shape) < noise)
    arr[flip] ^= 1
    return arr


def corner_angles(g):
    c = np.array(g.exterior.coords)[:-1]
    out = []
    for i in range(len(c)):
        a, b, d = c[i - 1], c[i], c[(i + 1) % len(c)]
        v1, v2 = a - b, d - b
        cosang = np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2))
        out.append(math.degrees(math.acos(max(-1, min(1, cosang)))))
    return out


def test_regularize_buildings(tmp_path):
    rng = np.random.default_rng(11)
    shapes = []
    H = W = 400
    k = 0
    for row in range(4):
        for col in range(4):
            cx, cy = 50 + col * 100, 50 + row * 100
            if k % 2 == 0:
                base = Polygon([(-22, -14), (22, -14), (22, 14), (-22, 14)])
            else:
                base = Polygon([(-22, -20), (22, -20), (22, -2), (0, -2), (0, 20), (-22, 20)])
            ang = rng.uniform(0, 90)
            shapes.append(affinity.translate(affinity.rotate(base, ang, origin=(0, 0)), cx, cy))
            k += 1
    arr = render(shapes, H, W, rng)
    gt = (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)  # pixel = unit, y down like the array
    path = write_tif(tmp_path / "b.tif", arr, gt=gt, nodata=0)
    fc = eoproc.polygonize(path, regularize=True, min_area=20, native_crs=True, precision=6)
    got = [shape(f["geometry"]) for f in fc["features"]]
    assert len(got) == len(shapes)
    angles = []
    for truth in shapes:
        g = max(got, key=lambda p: p.intersection(truth).area)
        assert g.is_valid
        iou = g.intersection(truth).area / g.union(truth).area
        assert iou >= 0.9, iou
        angles += corner_angles(g)
    good = sum(abs(a - 90) <= 5 for a in angles) / len(angles)
    assert good >= 0.95, (good, angles)


# ---------------------------------------------------------------------------
# CLI and errors
# ---------------------------------------------------------------------------
def run_cli(cli, *args):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True)


def test_cli_polygonize(cli, data_dir, tmp_path):
    out = tmp_path / "lc.geojson"
    r = run_cli(cli, "polygonize", data_dir / "lc.tif", out, "--connectivity", "8", "--quiet")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["features"] == 276
    assert len(json.load(open(out))["features"]) == 276


@pytest.mark.parametrize(
    "args,status",
    [
        (["missing.tif", "OUT"], "io.NotFound"),
        (["LC", "OUT", "--band", "2"], "arg.Invalid"),
        (["LC", "OUT", "--connectivity", "6"], "param.Invalid"),
        (["LC", "/nonexistent-dir/x.geojson"], "io.Write"),
        (["LC", "OUT", "--format", "shp"], "param.Invalid"),
        (["LC", "OUT", "--prob", "L7"], "source.Mismatch"),
        (["NOCRS", "OUT"], "crs.Invalid"),
    ],
)
def test_cli_errors(cli, data_dir, tmp_path, args, status):
    nocrs = write_tif(tmp_path / "nocrs.tif", np.ones((4, 4), np.uint8), epsg=None)
    out = tmp_path / "out.geojson"
    subst = {"LC": data_dir / "lc.tif", "OUT": out, "L7": data_dir / "L7_ETMs.tif", "NOCRS": nocrs}
    r = run_cli(cli, "polygonize", *[subst.get(a, a) for a in args])
    assert r.returncode != 0
    assert status in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()
    assert [p for p in os.listdir(tmp_path) if ".tmp" in p] == []


def peak_rss_mib(cmd, env, tmp_path):
    """Peak resident memory (MiB) of a command, as GNU time reports it (a
    child forked from this process would count this process's pages too)."""
    rep = tmp_path / "time.txt"
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rep), *cmd], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(rep.read_text().split()[-1]) / 1024


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="a peak-memory bound: ASan's shadow memory and quarantine of freed "
                    "blocks inflate the RSS it measures (the release stage checks it)")
def test_stripes_do_not_keep_the_raster_in_gdal_cache(cli, tmp_path):
    """An 8192^2 uint8 mask (64 MiB decoded; tiled, DEFLATE) in stripes of
    128 rows on one thread: GDAL's block cache, allowed 1 GiB here, must not
    keep the stripes already read, so the peak stays within a third of the
    raster's size above the same command's peak on a 256^2 crop of it (that
    would keep all 64 MiB; the stripe's own buffers are ~5 MiB)."""
    n = 8192
    a = np.zeros((n, n), np.uint8)
    for k in range(16):  # a few rectangles crossing stripes
        a[k * 500 + 10 : k * 500 + 400, k * 400 + 5 : k * 400 + 300] = 1 + k % 3
    big = tmp_path / "big.tif"
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(str(big), n, n, 1, gdal.GDT_Byte, ["TILED=YES", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform((1000.0, 0.5, 0.0, 2000.0, 0.0, -0.5))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).SetNoDataValue(0)
    ds.GetRasterBand(1).WriteArray(a)
    ds = None
    small = tmp_path / "small.tif"
    gdal.Translate(str(small), str(big), srcWin=[0, 0, 256, 256])
    env = dict(os.environ, GDAL_CACHEMAX="1024")
    args = ["--threads", "1", "polygonize", "--quiet", "--stripe-rows", "128", "--native-crs"]
    base = peak_rss_mib([cli, *args, str(small), str(tmp_path / "s.geojson")], env, tmp_path)
    peak = peak_rss_mib([cli, *args, str(big), str(tmp_path / "b.geojson")], env, tmp_path)
    got = json.load(open(tmp_path / "b.geojson"))["features"]
    assert len(got) == 16
    assert peak - base < n * n / 3 / 2**20, (peak, base)


def test_python_errors(data_dir):
    with pytest.raises(eoproc.Error) as e:
        eoproc.polygonize(data_dir / "lc.tif", connectivity=5)
    assert e.value.id == "param.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.polygonize(data_dir / "missing.tif")
    assert e.value.id == "io.NotFound"


# ---------------------------------------------------------------------------
# Clean-ups: topology-preserving simplification vs shapely, holes, staircases
# ---------------------------------------------------------------------------
def test_simplify_matches_shapely(data_dir):
    # the same GEOS algorithm through shapely on the unsimplified polygons:
    # the same vertex counts (lc.tif: 3000 m pixels, tolerance 4500 m)
    plain = ours(data_dir / "lc.tif", 4)
    simp = ours(data_dir / "lc.tif", 4, simplify=4500)
    assert len(plain) == len(simp)
    n0, n_ours, n_ref, diff, total = simplify_totals(plain, simp, 4500)
    assert n_ours < 0.9 * n0
    assert abs(n_ours - n_ref) <= 0.03 * n_ref
    assert diff < 0.05 * total


def simplify_totals(plain, simp, tol):
    """Vertex counts (before, ours, shapely's), the area where ours and
    shapely's topology-preserving simplification differ, and the total area.
    Ties between equally distant pixel corners may go either way (the rings
    start and turn differently), so tests compare these totals, not each
    vertex."""
    n0 = n_ours = n_ref = diff = total = 0
    for (_, g0, _), (_, g1, _) in zip(plain, simp):
        ref = g0.simplify(tol, preserve_topology=True)
        assert g1.is_valid
        n0 += len(g0.exterior.coords)
        n_ours += len(g1.exterior.coords)
        n_ref += len(ref.exterior.coords)
        diff += g1.symmetric_difference(ref).area
        total += g0.area
    return n0, n_ours, n_ref, diff, total


def test_simplify_on_threads_matches_shapely(tmp_path):
    """Thousands of blobs: simplification runs on both threads (chunks of
    features, a GEOS handle each); every feature is what shapely's GEOS
    gives for it and what one thread gives."""
    from scipy import ndimage
    rng = np.random.default_rng(7)
    a = (ndimage.gaussian_filter(rng.standard_normal((700, 700)), 2.5) > 0.12).astype(np.uint8)
    path = write_tif(tmp_path / "blobs.tif", a, nodata=0)
    plain = ours(path, 4)
    assert len(plain) > 1000
    eoproc.set_threads(2)
    try:
        simp = ours(path, 4, simplify=1.2)
        eoproc.set_threads(1)
        one = ours(path, 4, simplify=1.2)
    finally:
        eoproc.set_threads(0)
    assert len(simp) == len(plain) == len(one)
    for (_, g1, _), (_, g2, _) in zip(simp, one):
        assert g1.equals_exact(g2, 0), "threads changed a feature"
    n0, n1, nref, diff, total = simplify_totals(plain, simp, 1.2)
    assert n1 < 0.8 * n0
    assert abs(n1 - nref) <= 0.03 * nref
    assert diff < 0.05 * total


def test_properties_on_threads_match_proj(tmp_path):
    """Over 10,000 features (more than one batch of properties made on the
    threads): every feature's area_m2 in the GeoJSON is PROJ's geodesic area
    of its own rings (helpers, independent of eoproc), on 2 threads as on 1,
    and the FlatGeobuf's properties are the GeoJSON's, feature by feature."""
    a = np.zeros((1010, 1010), np.uint8)
    for y in range(0, 1000, 10):
        for x in range(0, 1000, 10):
            a[y + 2:y + 2 + 3 + (x // 10) % 5, x + 2:x + 8] = 1
    path = write_tif(tmp_path / "grid.tif", a, gt=(500000.0, 5.0, 0.0, 5000000.0, 0.0, -5.0),
                     nodata=0)
    eoproc.set_threads(2)
    try:  # 10 decimals: the reference's rounding stays far below the tolerance
        eoproc.polygonize(path, tmp_path / "t2.geojson", precision=10)
        eoproc.polygonize(path, tmp_path / "t2.fgb", format="fgb")
        eoproc.set_threads(1)
        eoproc.polygonize(path, tmp_path / "t1.geojson", precision=10)
    finally:
        eoproc.set_threads(0)
    feats = json.load(open(tmp_path / "t2.geojson"))["features"]
    assert len(feats) == 10000
    assert feats == json.load(open(tmp_path / "t1.geojson"))["features"]
    for f in feats:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        ref = sum(helpers.polygon_area_km2(r) for r in polys) * 1e6
        assert f["properties"]["area_m2"] == pytest.approx(ref, rel=1e-6, abs=1e-3), f["id"]
    ds = ogr.Open(str(tmp_path / "t2.fgb"))  # the layer lives as long as its dataset
    lyr = ds.GetLayer(0)
    got = {ft.GetField("id"): (ft.GetField("pixels"), ft.GetField("area_m2"),
                               ft.GetField("perimeter_m")) for ft in lyr}
    assert len(got) == len(feats)
    for f in feats:
        p = f["properties"]
        pix, area, per = got[p["id"]]
        assert pix == p["pixels"]
        assert area == pytest.approx(p["area_m2"], abs=1e-3)
        assert per == pytest.approx(p["perimeter_m"], abs=1e-3)


def test_fill_holes_and_min_area(tmp_path):
    a = np.zeros((60, 60), np.uint8)
    a[5:55, 5:55] = 1
    a[10:12, 10:12] = 0  # 4 pixels = 1 m2 at 0.5 m
    a[20:40, 20:40] = 0  # 400 pixels = 100 m2
    a[57:59, 57:59] = 1  # a 1 m2 speck
    path = write_tif(tmp_path / "h.tif", a, nodata=None)
    full = [f for f in ours(path, 4) if f[0] == 1]
    assert sorted(len(g.interiors) for _, g, _ in full) == [0, 2]
    got = [f for f in ours(path, 4, fill_holes=10, min_area=2) if f[0] == 1]
    assert len(got) == 1
    g = got[0][1]
    assert len(g.interiors) == 1
    assert g.area == pytest.approx((50 * 50 - 400) * 0.25)
    # geodesic vs planar: UTM scale factor far west of the zone's meridian
    assert got[0][2]["area_m2"] == pytest.approx(g.area, rel=1e-2)


def test_staircase_removed(tmp_path):
    y, x = np.mgrid[0:80, 0:80]
    a = ((x < 70) & (y < 70) & (x + 2 * y < 120) & (x > 5) & (y > 5)).astype(np.uint8)
    path = write_tif(tmp_path / "s.tif", a, nodata=0)
    (_, g0, _), = ours(path, 4)
    (_, g1, _), = ours(path, 4, staircase=True)
    assert g1.is_valid
    assert len(g1.exterior.coords) < len(g0.exterior.coords) / 4
    assert g1.hausdorff_distance(g0) <= 1.0 * 0.5 + 1e-9  # within a pixel (0.5 m)


def read_polygons(path):
    """(id, class, pixels, shapely geometry) of every feature of a file, by OGR."""
    ds = ogr.Open(str(path))
    out = []
    for f in ds.GetLayer(0):
        g = shape(json.loads(f.GetGeometryRef().ExportToJson()))
        out.append((f.GetField("id"), f.GetField("class"), f.GetField("pixels"), g))
    ds = None
    return out


def same_polygons(a, b):
    """a, b: lists of (class, shapely geometry); every geometry of a has a
    topologically equal one of the same class in b, one to one."""
    assert len(a) == len(b), "%d polygons against %d" % (len(a), len(b))
    key = lambda cg: (cg[0], tuple(round(v, 6) for v in cg[1].bounds), round(cg[1].area, 6))
    a, b = sorted(a, key=key), sorted(b, key=key)
    bad = [i for i, (x, y) in enumerate(zip(a, b)) if x[0] != y[0] or not x[1].equals(y[1])]
    assert not bad, "%d polygons differ, first %s" % (len(bad), a[bad[0]][1].wkt[:200])


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "fgb"])
@pytest.mark.parametrize("conn", [4, 8])
def test_file_written_as_stripes_finish_against_gdal(cli, tmp_path, fmt, conn):
    """To a file, polygonize writes each feature when the stripes below cannot
    change it (eo_polygonize_each): in 8-row stripes most regions here cross
    a seam and a background joins them all; the file holds GDAL's polygons,
    each once, whole, with ids 1..n."""
    rng = np.random.default_rng(11)
    h, w = 90, 70
    y, x = np.mgrid[0:h, 0:w]
    arr = ((np.sin(x / 4.0) + np.cos(y / 6.0 + x / 9.0)) * 2 + 4).astype(np.uint8) % 3
    arr[rng.random((h, w)) < 0.05] = 3  # specks, many inside other regions
    arr[:, 30:33] = 4  # a column from top to bottom: open at every seam
    path = write_tif(tmp_path / "m.tif", arr)
    out = tmp_path / ("o." + fmt)
    r = run_cli(cli, "polygonize", path, out, "--connectivity", conn, "--stripe-rows", 8,
                "--native-crs", "--format", fmt, "--quiet")
    assert r.returncode == 0, r.stderr
    got = read_polygons(out)
    assert json.loads(r.stdout)["features"] == len(got)
    assert sorted(i for i, _, _, _ in got) == list(range(1, len(got) + 1))
    same_polygons([(c, g) for _, c, _, g in got], gdal_polygons(path, conn))
    px = 0.25
    assert all(g.area == pytest.approx(p * px, rel=1e-12) for _, _, p, g in got)


def background_mask(conn, rng):
    """Buildings (1) on a background (0) that spans every stripe, a hole per
    building; for 8-connectivity the background's upper left and lower right
    quarters meet at one corner (class 2 fills the other two), so its union
    is two polygons."""
    h, w = 400, 300
    a = np.zeros((h, w), np.uint8)
    for y in range(4, h - 8, 9):
        for x in range(4, w - 8, 9):
            a[y:y + rng.integers(2, 6), x:x + rng.integers(2, 6)] = 1
    if conn == 8:
        a[:200, 150:] = 2
        a[200:, :150] = 2
    return a


@pytest.mark.parametrize("px", [0.5, 10.0])  # under and over 2 km across
@pytest.mark.parametrize("conn", [4, 8])
def test_file_background_holes_kept_on_disk(cli, tmp_path, px, conn):
    """Into a file, the holes of a region still open at a seam wait on disk
    (eo_polygonize_write): the background here, open at all 25 seams, holds
    a hole per building. The file holds GDAL's polygons (GeoJSON and
    FlatGeobuf), and each feature's area_m2 and perimeter_m are pyproj's
    geodesic measures of its polygon as written (the local measure under
    2 km across, the geodesic one over)."""
    from pyproj import Geod
    a = background_mask(conn, np.random.default_rng(3))
    path = write_tif(tmp_path / "m.tif", a, gt=(500000.0, px, 0.0, 5000000.0, 0.0, -px))
    ref = gdal_polygons(path, conn)
    holes = max(len(g.interiors) for c, g in ref if c == 0)
    assert holes > 500 // (2 if conn == 8 else 1)
    for fmt in ("geojson", "fgb"):
        out = tmp_path / ("n." + fmt)
        r = run_cli(cli, "polygonize", path, out, "--connectivity", conn, "--stripe-rows", 16,
                    "--native-crs", "--format", fmt, "--quiet")
        assert r.returncode == 0, r.stderr
        got = read_polygons(out)
        back = [g for _, c, _, g in got if c == 0]
        assert len(back) == 1 and len(getattr(back[0], "geoms", [0])) == (2 if conn == 8 else 1)
        same_polygons([(c, g) for _, c, _, g in got], ref)
    out = tmp_path / "ll.geojson"
    r = run_cli(cli, "polygonize", path, out, "--connectivity", conn, "--stripe-rows", 16,
                "--precision", 10, "--quiet")
    assert r.returncode == 0, r.stderr
    geod = Geod(ellps="WGS84")
    feats = json.load(open(out))["features"]
    assert len(feats) == len(ref)
    for f in feats:  # pyproj's perimeter is the shells'; eoproc's counts the holes too
        g = shape(f["geometry"])
        rings = [r for q in getattr(g, "geoms", [g]) for r in (q.exterior, *q.interiors)]
        p = f["properties"]
        area = abs(geod.geometry_area_perimeter(g)[0])
        assert p["area_m2"] == pytest.approx(area, rel=1e-5, abs=1e-3), f["id"]
        perim = sum(geod.geometry_length(r) for r in rings)
        assert p["perimeter_m"] == pytest.approx(perim, rel=1e-6, abs=1e-3), f["id"]


def test_file_temporary_folder_missing(cli, tmp_path):
    """The held holes' temporary file cannot be made: a one-line io.Write
    error naming the folder, and nothing at the output path."""
    a = background_mask(4, np.random.default_rng(4))
    path = write_tif(tmp_path / "m.tif", a)
    out = tmp_path / "o.geojson"
    env = dict(os.environ, TMPDIR=str(tmp_path / "absent"))
    r = subprocess.run([cli, "polygonize", str(path), str(out), "--quiet"], capture_output=True,
                       text=True, env=env)
    assert r.returncode != 0
    assert "temporary file" in r.stderr and str(tmp_path / "absent") in r.stderr, r.stderr
    assert "io.Write" in r.stderr or "io" in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "m.tif"]


def test_file_filters_equal_collected(tmp_path):
    """The per-feature filters (fill_holes, staircase, simplify, min_area) run
    on each streamed batch: the file holds what the collection returned
    without a file holds."""
    rng = np.random.default_rng(5)
    arr = np.zeros((120, 100), np.uint8)
    for _ in range(60):
        r0, c0 = rng.integers(0, 110), rng.integers(0, 90)
        arr[r0:r0 + rng.integers(2, 14), c0:c0 + rng.integers(2, 14)] = 1
    arr[rng.random(arr.shape) < 0.02] = 0  # holes in the buildings
    path = write_tif(tmp_path / "b.tif", arr, nodata=None)
    kw = dict(connectivity=8, fill_holes=1.0, staircase=True, simplify=0.6, min_area=2.0,
              native_crs=True, precision=6, stripe_rows=7)
    coll = eoproc.polygonize(path, **kw)
    out = tmp_path / "b.geojson"
    res = eoproc.polygonize(path, out=out, **kw)
    got = json.load(open(out))["features"]
    assert res["features"] == len(got) == len(coll["features"])
    assert 10 < len(got)
    same_polygons([(f["properties"]["class"], shape(f["geometry"])) for f in got],
                  [(f["properties"]["class"], shape(f["geometry"])) for f in coll["features"]])
    # properties go with their geometries
    props = lambda fs: sorted((f["properties"]["pixels"], f["properties"]["area_m2"]) for f in fs)
    assert props(got) == props(coll["features"])
