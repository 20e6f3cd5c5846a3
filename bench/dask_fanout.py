"""The fan-outs of eoproc.distributed against the serial eoproc call on the
same input, in one run: zonal statistics of many features over an 8192 x 8192
RGB raster, a time series over many dated files, and the detect job over a
rendered zoom-18 XYZ pyramid (models/synth_pyramid.py, 2048 x 2048 px, one
model tile per partition: eoproc.distributed.detect runs each partition as a
task; serial is eoproc.detect's single process).

    /usr/bin/python3 bench/dask_fanout.py IN.tif WORKDIR [N_FEATURES] [N_DATES]

Prints, per task: serial eoproc (one process, all cores), eoproc.distributed
on a LocalCluster of 1 worker process and of 2 worker processes (1 thread
each), the speed-up of 2 workers over 1, the overhead of the 2-worker run
against the serial one on the same cores, and peak resident memory (the
driver; the largest worker process). Results are checked equal to the serial
ones before any figure is printed.
"""
import os
import resource
import sys
import time

import numpy as np
from osgeo import gdal

import eoproc
import eoproc.distributed as ed

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from synth_pyramid import write_pyramid  # noqa: E402

_runs = [0]


def _fresh(work, name):
    """A new job folder / output path per run (a job folder resumes)."""
    _runs[0] += 1
    return os.path.join(work, "%s%d" % (name, _runs[0]))


def footprints(path):
    """Features as sorted (pixels, area, geometry text): order-free."""
    import json
    with open(path) as f:
        fc = json.load(f)
    return sorted((ft["properties"]["pixels"], round(ft["properties"]["area_m2"], 6),
                   json.dumps(ft["geometry"]["coordinates"]))
                  for ft in fc["features"])


def features(src, n):
    info = eoproc.info(src)
    gt, w, h = info["geotransform"], info["width"], info["height"]
    rng = np.random.default_rng(3)
    feats = []
    for k in range(n):
        cx = gt[0] + rng.uniform(0, w) * gt[1]
        cy = gt[3] + rng.uniform(0, h) * gt[5]
        r = rng.uniform(5, 60) * gt[1]
        ring = [[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r],
                [cx - r, cy - r]]
        feats.append({"type": "Feature", "properties": {"k": k},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": feats}, "EPSG:%d" % info["crs"]["epsg"]


def dated_files(work, n):
    rng = np.random.default_rng(5)
    items = []
    drv = gdal.GetDriverByName("GTiff")
    for k in range(n):
        p = os.path.join(work, "d%03d.tif" % k)
        if not os.path.exists(p):
            ds = drv.Create(p, 2048, 2048, 2, gdal.GDT_UInt16, ["TILED=YES"])
            ds.SetGeoTransform([500000, 10, 0, 7500000, 0, -10])
            ds.SetProjection("EPSG:32723")
            for b in (1, 2):
                ds.GetRasterBand(b).WriteArray(
                    rng.integers(100 * b, 3000 * b, (2048, 2048), dtype=np.uint16))
            ds = None
        items.append((p, "2024-%02d-%02d" % (1 + k % 12, 1 + k % 28)))
    return items


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def mib(kb):
    return kb / 1024.0


def main():
    src, work = sys.argv[1], sys.argv[2]
    nfeat = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    ndates = int(sys.argv[4]) if len(sys.argv) > 4 else 24
    os.makedirs(work, exist_ok=True)
    fc, crs = features(src, nfeat)
    items = dated_files(work, ndates)
    aoi = {"type": "Polygon", "coordinates": [[[500200, 7499800], [517000, 7499800],
                                               [517000, 7482000], [500200, 7482000],
                                               [500200, 7499800]]]}
    scene = os.path.join(work, "z18")
    if not os.path.exists(os.path.join(scene, "aoi.geojson")):
        write_pyramid(scene, grid=4, size=512)
    xyz, zaoi = os.path.join(scene, "xyz"), os.path.join(scene, "aoi.geojson")

    def det_serial():
        out = _fresh(work, "serial") + ".geojson"
        r = eoproc.detect(xyz, zaoi, out, zoom=18, partition_tiles=0, precision=15)
        return (r["features"], footprints(out))

    def det_dist(c):
        out = _fresh(work, "dist") + ".geojson"
        r = ed.detect(c, xyz, zaoi, out, job=_fresh(work, "job"), zoom=18, partition_tiles=1,
                      precision=15)
        return (r["features"], footprints(out))

    tasks = {
        "zonal_stats %d features" % nfeat: (
            lambda: eoproc.zonal_stats(src, fc, band=1, crs=crs, percentiles=[50]),
            lambda c: ed.zonal_stats(c, src, fc, band=1, crs=crs, percentiles=[50])),
        "time_series %d dates (2048^2)" % ndates: (
            lambda: eoproc.time_series(items, expr="(b2 - b1) / (b2 + b1)", aoi=aoi,
                                       crs="EPSG:32723"),
            lambda c: ed.time_series(c, items, expr="(b2 - b1) / (b2 + b1)", aoi=aoi,
                                     crs="EPSG:32723")),
        "detect z18 2048^2 px": (det_serial, det_dist),
    }
    from distributed import Client, LocalCluster

    print("cores: %d" % os.cpu_count())
    print("%-32s %9s %9s %9s %8s %9s" % ("task", "serial s", "1 wkr s", "2 wkr s", "speedup",
                                          "overhead"))
    serial_res = {}
    serial_t = {}
    for name, (serial, _) in tasks.items():
        best = None
        for _ in range(2):
            t, r = timed(serial)
            best = t if best is None else min(best, t)
        serial_t[name], serial_res[name] = best, r
    dist_t = {}
    for nw in (1, 2):
        with LocalCluster(n_workers=nw, threads_per_worker=1, processes=True,
                          dashboard_address=None, host="127.0.0.1") as cluster, \
                Client(cluster) as client:
            for name, (_, dist) in tasks.items():
                best = None
                for _ in range(2):
                    t, r = timed(lambda: dist(client))
                    best = t if best is None else min(best, t)
                    if r != serial_res[name]:
                        print("MISMATCH: %s on %d workers differs from serial" % (name, nw))
                        sys.exit(1)
                dist_t[(name, nw)] = best
    for name in tasks:
        s, d1, d2 = serial_t[name], dist_t[(name, 1)], dist_t[(name, 2)]
        print("%-32s %9.2f %9.2f %9.2f %7.2fx %8.2fx" % (name, s, d1, d2, d1 / d2, d2 / s))
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("peak RSS: driver %.0f MiB, largest worker %.0f MiB" % (mib(me), mib(kids)))
    print("speedup = 1 worker / 2 workers; overhead = 2 workers / serial eoproc on %d cores"
          % os.cpu_count())


if __name__ == "__main__":
    main()
