"""The QGIS Processing provider (bindings/qgis/eoproc_provider), run headless
through qgis_process: the provider lists the registry's operations, and
eoproc:clip / eoproc:zonal_stats give what the same eoproc call gives (the
clip's pixels read back with GDAL; the statistics exactly, and checked
against numpy over the clipped pixels).

The plug-in goes into a QGIS profile folder under the test's tmp dir
(QGIS_CUSTOM_CONFIG_PATH, QGIS_PLUGINPATH, HOME): nothing outside it changes.
"""
import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import eoproc

REPO = pathlib.Path(__file__).resolve().parents[2]
PLUGIN = REPO / "bindings" / "qgis" / "eoproc_provider"

# Debian's /usr/bin/qgis_process is a wrapper that passes qgis's own
# --noversioncheck (from /etc/default/qgis), which qgis_process refuses:
# run the binary it wraps when there is one
QGIS_PROCESS = shutil.which("qgis_process.bin") or shutil.which("qgis_process")

AOI = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
       "geometry": {"type": "Polygon", "coordinates": [[[-34.90, -7.96], [-34.85, -7.97],
                    [-34.86, -8.02], [-34.89, -8.01], [-34.90, -7.96]]]}}]}


@pytest.fixture(scope="module")
def qgis(tmp_path_factory):
    assert QGIS_PROCESS, "qgis_process not found: scripts/deps.sh installs qgis"
    tmp = tmp_path_factory.mktemp("qgis")
    tmp.chmod(0o700)
    plugins = tmp / "plugins"
    shutil.copytree(PLUGIN, plugins / "eoproc_provider")
    ini = tmp / "config" / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text("[PythonPlugins]\neoproc_provider=true\n")
    import eoproc as pkg

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "XDG_RUNTIME_DIR": str(tmp),
        "QT_QPA_PLATFORM": "offscreen",
        "QGIS_CUSTOM_CONFIG_PATH": str(tmp / "config"),
        "QGIS_PLUGINPATH": str(plugins),
        "PYTHONPATH": str(pathlib.Path(pkg.__file__).resolve().parents[1]),
        "EOPROC_LIBRARY": os.environ["EOPROC_LIBRARY"],
        # QGIS computes band statistics of the layers it loads and GDAL would
        # keep them in a .aux.xml beside the shared sample rasters, which
        # other tests (rasterio parity) then see: nothing beside the inputs
        "GDAL_PAM_ENABLED": "NO",
    }
    for k in ("LD_PRELOAD", "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]

    def run(*args):
        p = subprocess.run([QGIS_PROCESS, *args], env=env, cwd=tmp, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 0, "qgis_process %s failed:\n%s\n%s" % (args, p.stdout, p.stderr)
        return p.stdout

    run.tmp = tmp
    return run


def _run_json(qgis, alg, **params):
    out = qgis("run", alg, "--json", *["--%s=%s" % kv for kv in params.items()])
    return json.loads(out[out.index("{"):])


def test_list_shows_registry(qgis):
    out = qgis("list")
    listed = {ln.strip().split("\t")[0] for ln in out.splitlines() if ln.strip().startswith("eoproc:")}
    expected = {"eoproc:" + o["name"] for o in eoproc.ops() if not o["name"].startswith("job_")}
    assert listed == expected
    assert {"eoproc:clip", "eoproc:zonal_stats", "eoproc:detect", "eoproc:polygonize"} <= listed


def test_help_has_schema_parameters(qgis):
    out = qgis("help", "eoproc:clip")
    for name in eoproc.schema("clip")["properties"]:
        assert name in out, name
    assert "aoi_extent" in out


def test_clip_equals_eoproc(qgis, l7):
    aoi = qgis.tmp / "aoi.geojson"
    aoi.write_text(json.dumps(AOI))
    q_out = qgis.tmp / "clip_qgis.tif"
    res = _run_json(qgis, "eoproc:clip", src=l7, aoi=aoi, out=q_out)
    got = json.loads(res["results"]["RESULT"])
    ref_out = qgis.tmp / "clip_ref.tif"
    ref = eoproc.clip(str(l7), str(aoi), str(ref_out))
    ref = ref if isinstance(ref, dict) else eoproc.run("clip", src=str(l7), aoi=str(aoi), out=str(ref_out))
    assert got["pixels_inside"] == ref["pixels_inside"] > 0
    a, b = gdal.Open(str(q_out)), gdal.Open(str(ref_out))
    assert (a.RasterXSize, a.RasterYSize, a.RasterCount) == (b.RasterXSize, b.RasterYSize, b.RasterCount)
    assert a.GetGeoTransform() == b.GetGeoTransform()
    assert a.GetSpatialRef().IsSame(b.GetSpatialRef())
    np.testing.assert_array_equal(a.ReadAsArray(), b.ReadAsArray())
    # and the clip is really the source's pixels inside the AOI (GDAL's own read)
    x, y, w, h = ref["window"]
    src = gdal.Open(str(l7)).ReadAsArray(x, y, w, h)
    arr = a.ReadAsArray()
    inside = arr[0] != a.GetRasterBand(1).GetNoDataValue()
    assert inside.sum() == ref["pixels_inside"]
    np.testing.assert_array_equal(arr[:, inside], src[:, inside])


def test_aoi_layer_in_projected_crs(qgis, l7):
    """An AOI layer in another CRS (a GeoPackage in UTM 25S) gives the same
    clip as the GeoJSON in EPSG:4326 (the provider passes the layer's CRS)."""
    path = qgis.tmp / "aoi_utm.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(31985)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lyr = ds.CreateLayer("aoi", utm, ogr.wkbPolygon)
    g = ogr.CreateGeometryFromJson(json.dumps(AOI["features"][0]["geometry"]))
    g.AssignSpatialReference(wgs)
    g.TransformTo(utm)
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeometry(g)
    lyr.CreateFeature(f)
    ds = None
    q_out = qgis.tmp / "clip_utm.tif"
    got = json.loads(_run_json(qgis, "eoproc:clip", src=l7, aoi=path, out=q_out)["results"]["RESULT"])
    ref = eoproc.run("clip", src=str(l7), aoi=g.ExportToJson(), crs="EPSG:31985",
                     out=str(qgis.tmp / "clip_utm_ref.tif"))
    assert got["window"] == ref["window"] and got["pixels_inside"] == ref["pixels_inside"] > 0
    np.testing.assert_array_equal(gdal.Open(str(q_out)).ReadAsArray(),
                                  gdal.Open(str(qgis.tmp / "clip_utm_ref.tif")).ReadAsArray())


def test_zonal_stats_equals_eoproc(qgis, l7):
    aoi = qgis.tmp / "aoi_z.geojson"
    aoi.write_text(json.dumps(AOI))
    res = _run_json(qgis, "eoproc:zonal_stats", src=l7, aoi=aoi, band=2)
    got = json.loads(res["results"]["RESULT"])
    ref = eoproc.run("zonal_stats", src=str(l7), aoi=str(aoi), band=2)
    assert got == ref
    st = got["features"][0]["stats"]
    # numpy over the pixels a clip keeps (same centre rule) says the same
    out = qgis.tmp / "z_clip.tif"
    c = eoproc.run("clip", src=str(l7), aoi=str(aoi), out=str(out), bands=[2])
    arr = gdal.Open(str(out)).ReadAsArray()
    vals = arr[arr != c["nodata"]].astype(np.float64)
    assert st["count"] == vals.size
    assert st["min"] == vals.min() and st["max"] == vals.max() and st["sum"] == vals.sum()
    assert st["mean"] == pytest.approx(vals.mean(), rel=1e-12)


def test_bad_parameter_fails_with_id(qgis, l7, tmp_path):
    bad = qgis.tmp / "notpoly.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(AssertionError) as e:
        _run_json(qgis, "eoproc:zonal_stats", src=l7, aoi=bad)
    assert "aoi." in str(e.value)


def test_run_progress_and_cancel(l7, tmp_path):
    """What the provider binds to QGIS's feedback: eoproc.run(progress=)
    reports fractions, and a true return cancels with nothing written; the
    next call on the thread works again."""
    aoi = tmp_path / "aoi.geojson"
    aoi.write_text(json.dumps(AOI))
    seen = []
    eoproc.run("clip", src=str(l7), aoi=str(aoi), out=str(tmp_path / "a.tif"),
               progress=lambda f, s: seen.append(f))
    assert seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    with pytest.raises(eoproc.Error) as e:
        eoproc.run("clip", src=str(l7), aoi=str(aoi), out=str(tmp_path / "b.tif"),
                   progress=lambda f, s: True)
    assert e.value.id == "cancelled"
    assert not list(tmp_path.glob("b.tif*"))
    r = eoproc.run("clip", src=str(l7), aoi=str(aoi), out=str(tmp_path / "c.tif"))
    assert r["pixels_inside"] > 0


def test_polygonize_vector_output_equals_eoproc(qgis, data_dir):
    """A vector output (polygonize's out, a file destination) holds what
    eoproc.polygonize writes; the help lists the destination kinds."""
    src = data_dir / "lc.tif"
    q_out = qgis.tmp / "poly_qgis.geojson"
    _run_json(qgis, "eoproc:polygonize", src=src, out=q_out, min_area=100000)
    ref = qgis.tmp / "poly_ref.geojson"
    eoproc.polygonize(str(src), out=str(ref), min_area=100000)
    a, b = json.loads(q_out.read_text()), json.loads(ref.read_text())
    assert len(a["features"]) == len(b["features"]) > 0
    assert a == b
    assert "fileDestination" in qgis("help", "eoproc:polygonize")
    assert "folderDestination" in qgis("help", "eoproc:tiles")
