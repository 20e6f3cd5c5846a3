"""PostGIS (any OGR vector source, in fact) in and out: AOIs read from a
"PG:..." connection (a table or an SQL query) and footprints written into a
PostGIS table, idempotently per partition.

GDAL's PG driver does the talking: a PostGIS source is written as GDAL
writes it, ``"PG:dbname=eo host=127.0.0.1 port=5432 user=me"``.
"""
import contextlib
import json
import re

_TABLES = re.compile(r"\s*\btables=([^\s]+)")


def split_table(conn, table=None):
    """(connection string without ``tables=``, table): the table named by the
    argument or by the connection string's ``tables=NAME``."""
    m = _TABLES.search(conn)
    if m:
        conn = conn[:m.start()] + conn[m.end():]
        table = table or m.group(1)
    return conn.strip(), table


@contextlib.contextmanager
def _exceptions():
    """GDAL raising exceptions inside the block (GDAL 3.6 has no ExceptionMgr)."""
    from osgeo import gdal

    was = gdal.GetUseExceptions()
    gdal.UseExceptions()
    try:
        yield
    finally:
        if not was:
            gdal.DontUseExceptions()


def _error(msg, eid="io.Read"):
    from . import Error

    return Error(msg, eid, -1)


def read_aoi(source, table=None, sql=None):
    """The polygons of an OGR source (e.g. ``"PG:dbname=eo tables=fields"``
    or ``"PG:dbname=eo", sql="SELECT geom FROM fields WHERE id = 3"``) as a
    GeoJSON FeatureCollection in EPSG:4326 (longitude first), to pass as any
    operation's ``aoi``.

    Raises:
        eoproc.Error: ``io.Read`` (no such source, table or a failing
            query), ``aoi.Empty`` (no polygon).
    """
    from osgeo import gdal, ogr, osr

    conn, table = split_table(source, table)
    with _exceptions():
        try:
            ds = gdal.OpenEx(conn, gdal.OF_VECTOR)
            if sql is not None:
                lyr = ds.ExecuteSQL(sql)
            elif table:
                lyr = ds.GetLayerByName(table)
            else:
                lyr = ds.GetLayer(0)
        except RuntimeError as e:
            raise _error("AOI from %s: %s" % (conn, e)) from None
        if lyr is None:
            raise _error("AOI from %s: no table %r" % (conn, table))
        wgs = osr.SpatialReference()
        wgs.ImportFromEPSG(4326)
        wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        srs = lyr.GetSpatialRef()
        ct = None
        if srs is not None:
            srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            if not srs.IsSame(wgs):
                ct = osr.CoordinateTransformation(srs, wgs)
        feats = []
        for f in lyr:
            g = f.GetGeometryRef()
            if g is None or g.IsEmpty():
                continue
            g = g.Clone()
            if ct is not None:
                g.Transform(ct)
            if ogr.GT_Flatten(g.GetGeometryType()) not in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
                continue
            feats.append({"type": "Feature", "properties": {},
                          "geometry": json.loads(g.ExportToJson())})
        if sql is not None:
            ds.ReleaseResultSet(lyr)
    if not feats:
        raise _error("AOI from %s: no polygon" % conn, "aoi.Empty")
    return {"type": "FeatureCollection", "features": feats}


def write_features(fc, dest, table=None, partition="", overwrite=False):
    """Write a GeoJSON FeatureCollection (a dict, EPSG:4326) into the table
    of an OGR destination such as ``"PG:dbname=eo tables=buildings"``.

    Each row gets ``eo_partition`` (the ``partition`` argument, e.g. a job's
    partition id) and ``eo_key`` (the feature's index in it), unique
    together: writing a partition again replaces its rows, so a rerun does
    not duplicate them. One transaction; returns the rows written.
    """
    from osgeo import gdal, ogr, osr

    conn, table = split_table(dest, table)
    table = table or "eoproc_features"
    feats = fc.get("features", []) if isinstance(fc, dict) else []
    with _exceptions():
        try:
            ds = gdal.OpenEx(conn, gdal.OF_VECTOR | gdal.OF_UPDATE)
        except RuntimeError as e:
            raise _error("output %s: %s" % (conn, e), "io.Write") from None
        lyr = ds.GetLayerByName(table)
        if lyr is not None and overwrite:
            ds.DeleteLayer(table)
            lyr = None
        if lyr is None:
            srs = osr.SpatialReference()
            srs.ImportFromEPSG(4326)
            lyr = ds.CreateLayer(table, srs, ogr.wkbMultiPolygon,
                                 ["GEOMETRY_NAME=geom", "FID=fid"])
            lyr.CreateField(ogr.FieldDefn("eo_partition", ogr.OFTString))
            lyr.CreateField(ogr.FieldDefn("eo_key", ogr.OFTInteger64))
            props = {}
            for f in feats:
                for k, v in (f.get("properties") or {}).items():
                    props.setdefault(k, ogr.OFTReal if isinstance(v, float) else
                                     ogr.OFTInteger64 if isinstance(v, int) and not isinstance(v, bool)
                                     else ogr.OFTString)
            for k, t in props.items():
                lyr.CreateField(ogr.FieldDefn(k, t))
            ds.ExecuteSQL('CREATE UNIQUE INDEX IF NOT EXISTS "%s_eo_key" ON "%s" (eo_partition, eo_key)'
                          % (table, table))
        defn = lyr.GetLayerDefn()
        names = {defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())}
        lyr.StartTransaction()
        try:
            lyr.SetAttributeFilter("eo_partition = '%s'" % str(partition).replace("'", "''"))
            old = [f.GetFID() for f in lyr]
            lyr.SetAttributeFilter(None)
            for fid in old:
                lyr.DeleteFeature(fid)
            for i, f in enumerate(feats):
                o = ogr.Feature(defn)
                o.SetField("eo_partition", str(partition))
                o.SetField("eo_key", i)
                for k, v in (f.get("properties") or {}).items():
                    if k in names and v is not None:
                        o.SetField(k, v if isinstance(v, (int, float, str)) else json.dumps(v))
                g = ogr.CreateGeometryFromJson(json.dumps(f["geometry"]))
                o.SetGeometry(ogr.ForceToMultiPolygon(g))
                lyr.CreateFeature(o)
            lyr.CommitTransaction()
        except Exception:
            lyr.RollbackTransaction()
            raise
        ds = None
    return len(feats)
