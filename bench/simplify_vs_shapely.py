"""Simplification time: eoproc (topology-preserving and coverage-preserving,
inside polygonize: time with simplification minus time without) against
shapely's simplify(preserve_topology=True) (GEOS) on the same polygons (the
GeoJSON gdal_polygonize.py wrote, in the mask's CRS, loaded untimed).
Usage: simplify_vs_shapely.py MASK.tif POLYGONS.geojson"""

import json
import shutil
import os
import sys
import tempfile
import time

from shapely.geometry import shape

import eoproc

mask, polys = sys.argv[1], sys.argv[2]
TOL = 1.0  # metres


def best(fn, n=3):
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


geoms = [shape(f["geometry"]) for f in json.load(open(polys))["features"]]
t_shapely = best(lambda: [g.simplify(TOL, preserve_topology=True) for g in geoms])
v0 = sum(len(g.exterior.coords) for g in geoms)
v1 = sum(len(g.simplify(TOL, preserve_topology=True).exterior.coords) for g in geoms)

# a scratch file, not /dev/null: outputs are renamed into place, and eoproc
# refuses to rename over a device
scratch = os.path.join(tempfile.mkdtemp(prefix="eoproc-simplify-"), "out.geojson")
t_plain = best(lambda: eoproc.run("polygonize", src=mask, out=scratch, native_crs=True))
t_topo = best(lambda: eoproc.run("polygonize", src=mask, out=scratch, native_crs=True,
                                 simplify=TOL))
t_cov = best(lambda: eoproc.run("polygonize", src=mask, out=scratch, native_crs=True,
                                coverage_simplify=TOL))
t_e = max(t_topo - t_plain, 1e-9)
t_c = max(t_cov - t_plain, 1e-9)
print("polygons %d, vertices %d -> %d (shapely)" % (len(geoms), v0, v1))
print("%-34s %8.3f s" % ("shapely simplify (topology)", t_shapely))
print("%-34s %8.3f s" % ("eoproc simplify (topology)", t_e))
print("%-34s %8.3f s" % ("eoproc coverage-preserving", t_c))
print("simplify ratio eoproc / shapely: %.3f" % (t_e / t_shapely))
shutil.rmtree(os.path.dirname(scratch), ignore_errors=True)
