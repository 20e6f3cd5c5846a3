"""Spectral indices, band math, zonal statistics, change detection and time
series, against independent references: numpy float32 arithmetic on pixels
read by GDAL, GDAL's own rasterizer (osgeo.gdal.RasterizeLayer) for which
pixels an AOI holds, and exact polygon areas.

L7_ETMs.tif: bands 1-6 are Landsat 7 ETM+ bands 1, 2, 3, 4, 5, 7, i.e.
B, G, R, N, S1, S2 (the "landsat7" 6-band layout).
"""

import json
import os

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import eoproc
from helpers import assert_cli_error, run_cli

gdal.UseExceptions()
ND = np.float32(-9999)


def read_bands(path):
    return gdal.Open(str(path)).ReadAsArray().astype(np.float32)


def band_array(path, b):
    ds = gdal.Open(str(path))  # keep the dataset alive while its band is read
    return ds.GetRasterBand(b).ReadAsArray()


def nd_ratio(a, b):
    """numpy's (a - b) / (a + b) in float32, nodata where a + b == 0."""
    num, den = a - b, a + b
    with np.errstate(all="ignore"):
        out = num / den
    return np.where(den == 0, ND, out).astype(np.float32)


@pytest.fixture(scope="module")
def l7z(tmp_path_factory, l7):
    """L7 with a block where N and R (and G, S2) are 0: zero denominators."""
    path = tmp_path_factory.mktemp("l7z") / "l7z.tif"
    ds = gdal.GetDriverByName("GTiff").CreateCopy(str(path), gdal.Open(str(l7)))
    for b in (2, 3, 4, 6):
        band = ds.GetRasterBand(b)
        a = band.ReadAsArray()
        a[10:20, 30:45] = 0
        band.WriteArray(a)
    ds = None
    return path


def test_catalog_has_the_usual_indices():
    cat = {d["name"]: d for d in eoproc.indices()}
    assert len(cat) >= 40
    for name in ("NDVI NDWI MNDWI NDBI NDMI NBR NBR2 EVI EVI2 SAVI MSAVI OSAVI GNDVI NDRE CIre "
                 "CIg ARVI VARI GLI ExG NGRDI NDSI BSI").split():
        assert name in cat, name
        assert cat[name]["formula"] and cat[name]["reference"] and cat[name]["bands"]
    assert sorted(cat["NDVI"]["bands"]) == ["N", "R"]
    assert cat["EVI"]["constants"] == {"g": 2.5, "C1": 6, "C2": 7.5, "L": 1}
    assert cat["SAVI"]["constants"] == {"L": 0.5}
    one = eoproc.run("indices", name="nbr")
    assert one["name"] == "NBR" and one["formula"] == "(N - S2) / (N + S2)"


@pytest.mark.parametrize(
    "name,ref",
    [
        ("NDVI", lambda B, G, R, N, S1, S2: nd_ratio(N, R)),
        ("NDWI", lambda B, G, R, N, S1, S2: nd_ratio(G, N)),
        ("NBR", lambda B, G, R, N, S1, S2: nd_ratio(N, S2)),
    ],
)
def test_index_bit_exact_vs_numpy(l7z, tmp_path, cli, name, ref):
    B, G, R, N, S1, S2 = read_bands(l7z)
    want = ref(B, G, R, N, S1, S2)
    assert (want == ND).sum() >= 150  # the zero block is nodata
    got = eoproc.index(l7z, name, sensor="landsat7")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    # CLI: a float32 COG with the nodata value set
    out = tmp_path / ("%s.tif" % name)
    p = run_cli(cli, "index", l7z, name, out, "--bands", "B=1,G=2,R=3,N=4,S1=5,S2=6")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["index"] == name and res["dtype"] == "float32"
    ds = gdal.Open(str(out))
    band = ds.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Float32 and band.GetNoDataValue() == -9999
    assert band.GetBlockSize() == [512, 512]
    assert ds.GetMetadata("IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    assert ds.GetGeoTransform() == gdal.Open(str(l7z)).GetGeoTransform()
    np.testing.assert_array_equal(band.ReadAsArray(), want)


def test_expression_bit_exact_vs_numpy(l7z, tmp_path, cli):
    B, G, R, N, S1, S2 = read_bands(l7z)
    # EVI with its constants, in the same operation order as the formula
    with np.errstate(all="ignore"):
        den = N + np.float32(6) * R - np.float32(7.5) * B + np.float32(1)
        evi = np.float32(2.5) * (N - R) / den
    want = np.where(den == 0, ND, evi).astype(np.float32)
    np.testing.assert_array_equal(eoproc.index(l7z, "EVI", sensor="landsat7"), want)
    # a band-math expression with where, comparisons and a division by zero
    expr = "where(b4 > b3, (b4 - b3) / (b5 - b6), -b1)"
    with np.errstate(all="ignore"):
        d = S1 - S2
        v = np.where(N > R, np.where(d == 0, ND, (N - R) / d), -B).astype(np.float32)
    out = tmp_path / "calc.tif"
    p = run_cli(cli, "calc", l7z, expr, out)
    assert p.returncode == 0, p.stderr
    got = gdal.Open(str(out)).ReadAsArray()
    np.testing.assert_array_equal(got, v)
    assert not np.isnan(got).any() and np.isfinite(got).all()
    # a window, through Python
    np.testing.assert_array_equal(eoproc.calc(l7z, expr, window=(5, 7, 30, 20)), v[7:27, 5:35])


def test_nodata_input_gives_nodata(l7, tmp_path):
    src = tmp_path / "nd.tif"
    ds = gdal.GetDriverByName("GTiff").CreateCopy(str(src), gdal.Open(str(l7)))
    for b in range(1, 7):
        ds.GetRasterBand(b).SetNoDataValue(0)
    band = ds.GetRasterBand(3)
    a = band.ReadAsArray()
    a[0:5, 0:5] = 0
    band.WriteArray(a)
    ds = None
    got = eoproc.index(src, "NDVI", bands={"R": 3, "N": 4}, nodata=-1)
    assert (got[0:5, 0:5] == -1).all()
    B, G, R, N, S1, S2 = read_bands(src)
    valid = (R != 0) & (N != 0)
    np.testing.assert_array_equal(got[valid], nd_ratio(N, R)[valid])


def test_errors(l7, tmp_path, cli):
    out = tmp_path / "x.tif"
    p = run_cli(cli, "calc", l7, "(b4 - b3) / (b4 + b3", out)
    msg = assert_cli_error(p, "expr.Syntax")
    assert "position 21" in msg
    p = run_cli(cli, "index", l7, "NDVI", out)
    msg = assert_cli_error(p, "index.BandMissing")
    assert "band N" in msg
    p = run_cli(cli, "index", l7, "NOPE", out)
    assert_cli_error(p, "index.Invalid", names="NOPE")
    p = run_cli(cli, "index", l7, "NDVI", out, "--sensor", "spot5")
    assert_cli_error(p, "param.Invalid", exit_code=1, names="sensor")
    p = run_cli(cli, "calc", l7, "b7 * 2", out)
    assert_cli_error(p, "index.BandMissing", names="band 7")
    p = run_cli(cli, "index", l7, "NDVI", tmp_path / "no" / "dir" / "x.tif", "--sensor",
                "landsat7")
    assert_cli_error(p, "io.Write")
    assert os.listdir(tmp_path) == []  # nothing left behind
    with pytest.raises(eoproc.Error) as e:
        eoproc.calc(l7, "b1 +* 2")
    assert e.value.id == "expr.Syntax" and "position 5" in e.value.message


# ---------------------------------------------------------------------------
# zonal statistics
# ---------------------------------------------------------------------------
def gdal_mask(src, geojson):
    """Pixels GDAL's rasterizer burns for the AOI (centre rule)."""
    ds = gdal.Open(str(src))
    srs = osr.SpatialReference()
    srs.ImportFromWkt(ds.GetProjection())
    mds = ogr.GetDriverByName("Memory").CreateDataSource("m")
    lyr = mds.CreateLayer("a", srs, ogr.wkbMultiPolygon)
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(geojson)))
    lyr.CreateFeature(f)
    m = gdal.GetDriverByName("MEM").Create("", ds.RasterXSize, ds.RasterYSize, 1, gdal.GDT_Byte)
    m.SetGeoTransform(ds.GetGeoTransform())
    m.SetProjection(ds.GetProjection())
    gdal.RasterizeLayer(m, [1], lyr, burn_values=[1])
    return m.ReadAsArray() == 1


def l7_poly(l7, pts, holes=()):
    gt = gdal.Open(str(l7)).GetGeoTransform()

    def ring(p):
        r = [[gt[0] + x * gt[1], gt[3] + y * gt[5]] for x, y in p]
        return r + [r[0]]

    return {"type": "Polygon", "coordinates": [ring(pts)] + [ring(h) for h in holes]}


GENERAL = [(10.3, 12.7), (200.1, 9.2), (230.9, 240.4), (40.5, 280.8)]
HOLE = [(80.2, 80.3), (80.2, 140.9), (150.7, 140.9)]


def check_stats(got, v, exact=True):
    rel = 0 if exact else 1e-12
    assert got["count"] == v.size
    assert got["min"] == v.min() and got["max"] == v.max()
    assert got["sum"] == pytest.approx(v.sum(), rel=1e-12)
    assert got["mean"] == pytest.approx(v.mean(), rel=1e-12)
    assert got["std"] == pytest.approx(v.std(), rel=1e-9)
    assert got["median"] == pytest.approx(np.median(v), rel=rel)


def test_zonal_band_vs_numpy(l7, tmp_path, cli):
    aoi = l7_poly(l7, GENERAL, [HOLE])
    mask = gdal_mask(l7, aoi)
    v = band_array(l7, 4).astype(np.float64)[mask]
    got = eoproc.zonal_stats(l7, aoi, band=4, crs="EPSG:31985", percentiles=[10, 25, 90],
                             histogram=12)
    check_stats(got, v)
    assert got["nodata_count"] == 0 and got["pixels"] == v.size
    want_q = np.percentile(v, [10, 25, 90])
    assert [got["percentiles"][k] for k in ("10", "25", "90")] == list(want_q)
    counts, edges = np.histogram(v, bins=12)
    assert got["histogram"]["counts"] == list(counts)
    np.testing.assert_allclose(got["histogram"]["edges"], edges, rtol=1e-15)
    # the CLI, with a file and a selection of statistics
    f = tmp_path / "aoi.geojson"
    f.write_text(json.dumps(aoi))
    p = run_cli(cli, "zonal", l7, f, "--band", "4", "--crs", "EPSG:31985", "--stats",
                "mean,count")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["count"] == v.size and r["mean"] == got["mean"] and "min" not in r


def test_zonal_index_in_4326(l7):
    # an AOI in EPSG:4326 (reprojected to the raster's CRS by eoproc and by OGR)
    info = eoproc.info(l7)
    x0, y0, x1, y1 = info["bbox_4326"]
    aoi = {"type": "Polygon", "coordinates": [[
        [x0 + 0.2 * (x1 - x0), y0 + 0.2 * (y1 - y0)], [x0 + 0.8 * (x1 - x0), y0 + 0.3 * (y1 - y0)],
        [x0 + 0.6 * (x1 - x0), y0 + 0.9 * (y1 - y0)], [x0 + 0.2 * (x1 - x0), y0 + 0.2 * (y1 - y0)]]]}
    got = eoproc.zonal_stats(l7, aoi, index="NDVI", sensor="landsat7")
    # reference: the AOI projected with OGR (densified like eoproc: straight
    # lines in 4326 are nearly straight in UTM at this scale)
    g = ogr.CreateGeometryFromJson(json.dumps(aoi))
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(4326)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    dst.ImportFromWkt(gdal.Open(str(l7)).GetProjection())
    g.Segmentize(0.0005)
    g.Transform(osr.CoordinateTransformation(src, dst))
    mask = gdal_mask(l7, json.loads(g.ExportToJson()))
    B, G, R, N, S1, S2 = read_bands(l7)
    v = nd_ratio(N, R)[mask].astype(np.float64)
    assert abs(got["count"] - v.size) <= 2  # densification may move a boundary pixel
    assert got["mean"] == pytest.approx(v.mean(), abs=2e-4)


def test_coverage_on_pixel_corners_equals_centre(l7):
    aoi = l7_poly(l7, [(20, 30), (120, 30), (120, 90), (60, 90), (60, 140), (20, 140)],
                  [[(30, 40), (40, 40), (40, 50), (30, 50)]])
    centre = eoproc.zonal_stats(l7, aoi, band=3, crs="EPSG:31985", percentiles=[5, 50, 95])
    exact = eoproc.zonal_stats(l7, aoi, band=3, crs="EPSG:31985", percentiles=[5, 50, 95],
                               coverage=True)
    assert exact["coverage"] == "exact" and centre["coverage"] == "centre"
    for k in ("count", "pixels", "min", "max", "sum", "median", "percentiles"):
        assert exact[k] == centre[k], k
    for k in ("mean", "std"):
        assert exact[k] == pytest.approx(centre[k], rel=1e-13), k
    mask = gdal_mask(l7, aoi)
    check_stats(centre, band_array(l7, 3)[mask].astype(float))
    assert centre["count"] == 100 * 60 + 40 * 50 - 100


def test_coverage_weights_sum_to_area(l7):
    aoi = l7_poly(l7, GENERAL, [HOLE])
    exact = eoproc.zonal_stats(l7, aoi, band=1, crs="EPSG:31985", coverage=True)
    area_px = ogr.CreateGeometryFromJson(json.dumps(aoi)).GetArea() / 28.5**2
    # the raster's pixel is 28.49999999927 m: use its exact size
    gt = gdal.Open(str(l7)).GetGeoTransform()
    area_px = ogr.CreateGeometryFromJson(json.dumps(aoi)).GetArea() / abs(gt[1] * gt[5])
    assert exact["count"] == pytest.approx(area_px, rel=1e-6)
    touched = eoproc.zonal_stats(l7, aoi, band=1, crs="EPSG:31985", all_touched=True)
    centre = eoproc.zonal_stats(l7, aoi, band=1, crs="EPSG:31985")
    assert touched["count"] == exact["pixels"] > centre["count"]


def test_zonal_feature_collection(l7):
    a = l7_poly(l7, [(10, 10), (50, 10), (50, 50), (10, 50)])
    b = l7_poly(l7, [(100.3, 100.2), (150.1, 100.7), (149.6, 170.9)])
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "properties": {"name": "A"}, "geometry": a},
        {"type": "Feature", "properties": {"name": "B"}, "geometry": b}]}
    r = eoproc.zonal_stats(l7, fc, index="NDWI", sensor="landsat7", crs="EPSG:31985")
    assert [f["properties"]["name"] for f in r["features"]] == ["A", "B"]
    assert r["features"][0]["id"] == "a"
    B, G, R, N, S1, S2 = read_bands(l7)
    ndwi = nd_ratio(G, N)
    for f, geom in zip(r["features"], (a, b)):
        v = ndwi[gdal_mask(l7, geom)].astype(np.float64)
        check_stats(f["stats"], v, exact=False)


def test_zonal_errors(l7, cli, tmp_path):
    f = tmp_path / "bow.geojson"
    f.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1],
                                                                 [0, 0]]]}))
    assert_cli_error(run_cli(cli, "zonal", l7, f), "geometry.Invalid")
    assert_cli_error(run_cli(cli, "zonal", l7, tmp_path / "none.geojson"), "io.NotFound")
    p = run_cli(cli, "zonal", l7, f, "--coverage", "--all-touched")
    assert_cli_error(p, "param.Invalid")
    p = run_cli(cli, "zonal", l7, f, "--percentiles", "120")
    assert_cli_error(p, "param.Invalid", names="percentiles[0]")
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("zonal_stats", src=str(l7), aoi={"type": "Point", "coordinates": [0, 0]})
    assert e.value.id == "geometry.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("zonal_stats", src=str(l7), aoi="x.json", percentiles=[101])
    assert e.value.id == "param.Invalid" and "percentiles[0]" in e.value.message


# ---------------------------------------------------------------------------
# change detection
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def altered(tmp_path_factory, l7):
    """L7 with a 20 x 30 block made strongly vegetated (N up, R down)."""
    path = tmp_path_factory.mktemp("chg") / "after.tif"
    ds = gdal.GetDriverByName("GTiff").CreateCopy(str(path), gdal.Open(str(l7)))
    n, r = ds.GetRasterBand(4), ds.GetRasterBand(3)
    a, b = n.ReadAsArray(), r.ReadAsArray()
    a[100:120, 50:80] = 200
    b[100:120, 50:80] = 1
    n.WriteArray(a)
    r.WriteArray(b)
    ds = None
    return path


def test_change_reports_the_altered_area(l7, altered, tmp_path, cli):
    out = tmp_path / "out"
    p = run_cli(cli, "change", l7, altered, "--index", "NDVI", "--sensor", "landsat7",
                "--threshold", "0.2", "--out", out)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    gt = gdal.Open(str(l7)).GetGeoTransform()
    px = abs(gt[1] * gt[5])
    # independent check: the NDVI change of the altered block exceeds 0.2 everywhere
    B, G, R, N, S1, S2 = read_bands(l7)
    B2, G2, R2, N2, S12, S22 = read_bands(altered)
    before, after = nd_ratio(N, R), nd_ratio(N2, R2)
    d = (after - before).astype(np.float32)
    assert (d[100:120, 50:80] > 0.2).all() and (d != 0).sum() == 600
    assert r["changed"]["pixels"] == 600
    assert r["changed"]["area_m2"] == pytest.approx(600 * px, rel=1e-12)
    assert r["classes"]["gain"]["area_m2"] == pytest.approx(600 * px, rel=1e-12)
    assert r["classes"]["loss"]["pixels"] == 0
    assert r["classes"]["gain"]["mean_change"] == pytest.approx(
        d[100:120, 50:80].astype(float).mean(), rel=1e-6)
    assert r["valid_pixels"] == 349 * 352
    assert r["changed"]["percent"] == pytest.approx(100 * 600 / (349 * 352), rel=1e-9)
    change = gdal.Open(str(out / "change.tif")).ReadAsArray()
    np.testing.assert_array_equal(change, d)
    cls = gdal.Open(str(out / "class.tif")).ReadAsArray()
    want = np.zeros_like(cls)
    want[100:120, 50:80] = 1
    np.testing.assert_array_equal(cls, want)
    # with an AOI covering half the block: half the area
    aoi = l7_poly(l7, [(65, 90), (100, 90), (100, 130), (65, 130)])
    r2 = eoproc.change_detection(l7, altered, tmp_path / "out2", index="NDVI", sensor="landsat7",
                                 aoi=aoi, crs="EPSG:31985")
    assert r2["changed"]["pixels"] == 300
    assert r2["valid_pixels"] == 35 * 40
    assert gdal.Open(str(tmp_path / "out2" / "class.tif")).RasterXSize == 35


def test_change_on_another_grid(l7, altered, tmp_path):
    # the after raster warped to EPSG:4326: resampled back onto the before's grid
    warped = tmp_path / "after4326.tif"
    gdal.Warp(str(warped), str(altered), dstSRS="EPSG:4326", resampleAlg="near")
    r = eoproc.change_detection(l7, warped, tmp_path / "o", index="NDVI", sensor="landsat7",
                                threshold=0.3)
    assert r["resampled"] is True
    gt = gdal.Open(str(l7)).GetGeoTransform()
    # resampling blurs the block's edges: the changed area is close to 600 pixels
    assert 450 * abs(gt[1] * gt[5]) < r["classes"]["gain"]["area_m2"] < 750 * abs(gt[1] * gt[5])


def test_change_errors(l7, altered, tmp_path, cli):
    out = tmp_path / "o"
    p = run_cli(cli, "change", l7, altered, "--out", out)
    assert_cli_error(p, "param.Invalid", names="index")
    p = run_cli(cli, "change", l7, altered, "--index", "NDVI", "--threshold", "-1", "--out", out)
    assert_cli_error(p, "param.Invalid", names="threshold")
    p = run_cli(cli, "change", l7, altered, "--index", "NBR2", "--bands", "N=4", "--out", out)
    assert_cli_error(p, "index.BandMissing")
    assert not out.exists()
    # an unreadable after raster: a clean failure, no folder
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\0 not really a TIFF")
    p = run_cli(cli, "change", l7, bad, "--index", "NDVI", "--sensor", "landsat7", "--out", out)
    assert p.returncode == 1 and not out.exists()
    far = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    with pytest.raises(eoproc.Error) as e:
        eoproc.change_detection(l7, altered, out, index="NDVI", sensor="landsat7", aoi=far)
    assert e.value.id == "source.NoDataInAOI"


# ---------------------------------------------------------------------------
# time series
# ---------------------------------------------------------------------------
def test_series_point_and_aoi(l7, altered, cli):
    info = eoproc.info(l7)
    x0, y0, x1, y1 = info["bbox_4326"]
    lon, lat = x0 + 0.4 * (x1 - x0), y0 + 0.6 * (y1 - y0)
    p = run_cli(cli, "series", "--index", "NDVI", "--sensor", "landsat7", "--point",
                "%r,%r" % (lon, lat), "%s@2020-06-01" % altered, "%s@2020-01-01" % l7)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert [s["date"] for s in r["series"]] == ["2020-01-01", "2020-06-01"]
    # reference pixel: the point projected by OSR, through the inverse geotransform
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(4326)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    dst.ImportFromWkt(gdal.Open(str(l7)).GetProjection())
    x, y, _ = osr.CoordinateTransformation(src, dst).TransformPoint(lon, lat)
    gt = gdal.Open(str(l7)).GetGeoTransform()
    col, row = int((x - gt[0]) / gt[1]), int((y - gt[3]) / gt[5])
    B, G, R, N, S1, S2 = read_bands(l7)
    assert r["series"][0]["pixel"] == [col, row]
    assert r["series"][0]["value"] == float(nd_ratio(N, R)[row, col])
    # over an AOI: zonal statistics per date, equal to zonal_stats
    aoi = l7_poly(l7, [(40, 90), (90, 90), (90, 130), (40, 130)])
    s = eoproc.time_series([(altered, "2021-02-03"), (l7, "2021-01-01")], index="NDVI",
                           sensor="landsat7", aoi=aoi, crs="EPSG:31985")
    z0 = eoproc.zonal_stats(l7, aoi, index="NDVI", sensor="landsat7", crs="EPSG:31985")
    z1 = eoproc.zonal_stats(altered, aoi, index="NDVI", sensor="landsat7", crs="EPSG:31985")
    assert s["series"][0]["stats"]["mean"] == z0["mean"]
    assert s["series"][1]["stats"]["mean"] == z1["mean"] > z0["mean"]
    # outside the raster: null
    out = eoproc.time_series(["%s@2020-01-01" % l7], index="NDVI", sensor="landsat7",
                             point=(10, 10))
    assert out["series"][0]["value"] is None


def test_series_errors(l7, cli):
    p = run_cli(cli, "series", "--index", "NDVI", "--point", "0,0", "%s@2020-13-01" % l7)
    assert_cli_error(p, "arg.Invalid", names="2020-13-01")
    p = run_cli(cli, "series", "--index", "NDVI", "--point", "0,0", str(l7))
    assert_cli_error(p, "param.Invalid", names="FILE@DATE")
    p = run_cli(cli, "series", "--index", "NDVI", "%s@2020-01-01" % l7)
    assert_cli_error(p, "param.Invalid", names="point")
    p = run_cli(cli, "series", "--index", "NDVI", "--point", "0,0")
    assert_cli_error(p, "arg.Invalid", exit_code=2, names="ITEMS")


@pytest.mark.parametrize("dtype,gdt", [(np.uint16, gdal.GDT_UInt16), (np.int16, gdal.GDT_Int16),
                                       (np.float32, gdal.GDT_Float32)])
def test_wide_raster_in_windows(tmp_path, dtype, gdt):
    # wider than one window (columns are split) with partial edge tiles, each
    # sample type on its read path, nodata 7 (a GeoTIFF's nodata is the
    # same for all its bands)
    w, h = 17000, 300
    rng = np.random.default_rng(1)
    a = rng.integers(-50 if dtype == np.int16 else 0, 300, (2, h, w)).astype(dtype)
    src = tmp_path / "wide.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), w, h, 2, gdt, ["TILED=YES"])
    ds.SetGeoTransform((0, 1, 0, 0, 0, -1))
    for b in (1, 2):
        ds.GetRasterBand(b).WriteArray(a[b - 1])
    ds.GetRasterBand(2).SetNoDataValue(7)
    ds = None
    out = tmp_path / "out.tif"
    res = eoproc.calc(src, "(b1 - b2) / (b1 + b2)", out=out)
    assert res["width"] == w
    x, y = a[0].astype(np.float32), a[1].astype(np.float32)
    want = nd_ratio(x, y)
    assert gdal.Open(str(src)).GetRasterBand(1).GetNoDataValue() == 7
    want[(a[0] == 7) | (a[1] == 7)] = ND
    got = gdal.Open(str(out)).ReadAsArray()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(eoproc.calc(src, "(b1 - b2) / (b1 + b2)"), want)
