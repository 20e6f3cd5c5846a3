"""PostGIS in and out, against a real PostgreSQL 15 + PostGIS 3 cluster the
test starts on loopback in a temporary folder (and stops): polygonize
writes into a PostGIS table through GDAL's PG driver, read back with OGR
equal to the GeoJSON output; a rerun does not duplicate rows; AOIs come
from a table or an SQL query with the same statistics as the GeoJSON file.
"""
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import eoproc

PGBIN = "/usr/lib/postgresql/15/bin"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, **kw):
    """PostgreSQL's and GDAL's tools without the ASan run's preload (postgres
    deadlocks at start with libasan preloaded) and with a time limit."""
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(k, None)
    kw.setdefault("env", env)
    kw.setdefault("timeout", 300)
    return subprocess.run(args, **kw)


@pytest.fixture(scope="module")
def pg():
    assert os.path.isfile(PGBIN + "/initdb"), "PostgreSQL 15 missing: scripts/deps.sh installs it"
    tmp = tempfile.mkdtemp(prefix="eoproc-pg-")
    data = os.path.join(tmp, "data")
    pre = []
    if os.getuid() == 0:
        # initdb refuses root: run the server as the postgres user
        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        pre = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    _run(pre + [PGBIN + "/initdb", "-D", data, "-U", "postgres", "--auth=trust",
                          "-E", "UTF8"], check=True, capture_output=True)
    opts = "-c listen_addresses=127.0.0.1 -c port=%d -k %s -c fsync=off" % (port, tmp)
    _run(pre + [PGBIN + "/pg_ctl", "-D", data, "-o", opts, "-l",
                          os.path.join(tmp, "log"), "-w", "start"], check=True, capture_output=True)
    try:
        base = "PG:host=127.0.0.1 port=%d user=postgres" % port
        psql = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v",
                "ON_ERROR_STOP=1", "-q"]
        _run(psql + ["-c", "CREATE DATABASE eo"], check=True)
        _run(psql + ["-d", "eo", "-c", "CREATE EXTENSION postgis"], check=True)
        yield {"conn": base + " dbname=eo", "psql": psql + ["-d", "eo", "-At"]}
    finally:
        stop = _run(pre + [PGBIN + "/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                              capture_output=True, text=True)
        shutil.rmtree(tmp, ignore_errors=True)
        assert stop.returncode == 0, "pg_ctl stop: %s%s" % (stop.stdout, stop.stderr)


@pytest.fixture(scope="module")
def mask(tmp_path_factory):
    """A class raster with blobs of classes 1 and 2 (UTM 25S, 30 m)."""
    path = str(tmp_path_factory.mktemp("pgmask") / "mask.tif")
    ds = gdal.GetDriverByName("GTiff").Create(path, 60, 50, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((290000, 30, 0, 9120000, 0, -30))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(31985)
    ds.SetProjection(srs.ExportToWkt())
    a = np.zeros((50, 60), np.uint8)
    a[5:15, 5:20] = 1
    a[20:40, 30:55] = 2
    a[25:30, 35:40] = 0  # a hole
    a[42:48, 2:9] = 1
    ds.GetRasterBand(1).WriteArray(a)
    ds.GetRasterBand(1).SetNoDataValue(0)
    ds = None
    return path


def _rows(conn, table):
    ds = ogr.Open(conn)
    lyr = ds.GetLayerByName(table)
    out = []
    for f in lyr:
        out.append((f.GetField("eo_key"), f.GetField("eo_partition"),
                    f.GetGeometryRef().Clone(), f.items()))
    return sorted(out, key=lambda r: (r[1], r[0]))


def test_polygonize_into_postgis_equals_geojson(pg, mask, tmp_path):
    gj = tmp_path / "poly.geojson"
    ref = eoproc.polygonize(mask, out=str(gj))
    dest = pg["conn"] + " tables=footprints"
    res = eoproc.polygonize(mask, out=dest)
    assert res["features"] == ref["features"] == 3
    rows = _rows(pg["conn"], "footprints")
    ref_ds = ogr.Open(str(gj))  # kept: its layer dies with it
    ref_feats = [f for f in ref_ds.GetLayer(0)]
    assert len(rows) == len(ref_feats)
    for (key, part, geom, props), f in zip(rows, ref_feats):
        g = f.GetGeometryRef()
        # same polygon (coordinates through PostGIS's binary geometry)
        assert geom.SymDifference(g).GetArea() < 1e-12 * g.GetArea(), (geom.ExportToWkt(), g.ExportToWkt())
        for k, v in f.items().items():
            assert props[k] == v
    # PostGIS itself sees valid EPSG:4326 multipolygons with the hole
    out = _run(pg["psql"] + ["-c", "SELECT count(*), bool_and(ST_IsValid(geom)), "
                                       "min(ST_SRID(geom)), sum(ST_NumInteriorRings(ST_GeometryN(geom,1))) "
                                       "FROM footprints"], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "3|t|4326|1"


def test_rerun_partition_does_not_duplicate(pg, mask):
    dest = pg["conn"] + " tables=jobrows"
    fc = eoproc.polygonize(mask)
    assert eoproc.write_features(fc, dest, partition="p1") == 3
    assert eoproc.write_features(fc, dest, partition="p2") == 3
    assert eoproc.write_features(fc, dest, partition="p1") == 3  # rerun of p1
    rows = _rows(pg["conn"], "jobrows")
    assert [(r[1], r[0]) for r in rows] == [("p1", 0), ("p1", 1), ("p1", 2),
                                            ("p2", 0), ("p2", 1), ("p2", 2)]
    # the key is unique in the database too
    dup = _run(pg["psql"] + ["-c", "INSERT INTO jobrows (eo_partition, eo_key) "
                                       "VALUES ('p1', 0)"], capture_output=True, text=True)
    assert dup.returncode != 0 and "unique" in dup.stderr.lower()


def test_aoi_from_table_and_query(pg, l7, tmp_path):
    poly = {"type": "Polygon", "coordinates": [[[-34.90, -7.96], [-34.85, -7.97], [-34.86, -8.02],
                                                [-34.89, -8.01], [-34.90, -7.96]]]}
    gj = tmp_path / "aoi.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": 1}, "geometry": poly}]}))
    # the AOI table is written by ogr2ogr (GDAL), in UTM 25S: eoproc reprojects it back
    _run(["ogr2ogr", "-f", "PostgreSQL", pg["conn"], str(gj), "-nln", "fields",
                    "-t_srs", "EPSG:31985", "-lco", "GEOMETRY_NAME=geom"], check=True)
    ref = eoproc.zonal_stats(str(l7), str(gj))
    by_table = eoproc.zonal_stats(str(l7), eoproc.read_aoi(pg["conn"] + " tables=fields"))
    by_sql = eoproc.zonal_stats(str(l7), eoproc.read_aoi(
        pg["conn"], sql="SELECT geom FROM fields WHERE id = 1"))
    st = lambda r: r["features"][0]["stats"] if isinstance(r, dict) else r[0]  # noqa: E731
    assert st(by_table)["count"] == st(ref)["count"] > 0
    assert st(by_table) == st(ref) == st(by_sql)


def test_bad_sources_fail_with_id(pg):
    with pytest.raises(eoproc.Error) as e:
        eoproc.read_aoi(pg["conn"] + " tables=no_such_table")
    assert e.value.id == "io.Read"
    with pytest.raises(eoproc.Error) as e:
        eoproc.read_aoi(pg["conn"], sql="SELECT 1 AS x WHERE false")
    assert e.value.id in ("aoi.Empty", "io.Read")
    with pytest.raises(eoproc.Error) as e:
        eoproc.read_aoi("PG:host=127.0.0.1 port=1 dbname=nope")
    assert e.value.id == "io.Read"


def test_detect_into_postgis_equals_geojson(pg, tmp_path):
    """detect's footprints into PostGIS equal its GeoJSON file; a rerun of
    the same partition keeps the row count."""
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "models"))
    from synth_pyramid import write_pyramid

    scene = write_pyramid(tmp_path, grid=1, size=512)
    gj = tmp_path / "det.geojson"
    ref = eoproc.detect(scene["dir"] / "scene.tif", scene["aoi"], str(gj))
    assert ref["features"] > 5
    dest = pg["conn"] + " tables=buildings"
    for _ in range(2):
        res = eoproc.detect(scene["dir"] / "scene.tif", scene["aoi"], dest, pg_partition="scene")
        assert res["features"] == ref["features"]
    rows = _rows(pg["conn"], "buildings")
    ref_ds = ogr.Open(str(gj))
    ref_feats = list(ref_ds.GetLayer(0))
    assert len(rows) == len(ref_feats)
    for (key, part, geom, props), f in zip(rows, ref_feats):
        assert part == "scene"
        g = f.GetGeometryRef()
        assert geom.SymDifference(g).GetArea() < 1e-9 * g.GetArea()
        assert props["pixels"] == f.GetField("pixels")
        assert props["class_name"] == f.GetField("class_name") == "building"
