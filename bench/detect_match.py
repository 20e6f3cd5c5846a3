#!/usr/bin/python3
"""Agreement of two building-footprint GeoJSONs (bench/detect.sh): each
feature of A is matched to the feature of B it overlaps most; a match counts
when their intersection over union is at least 0.5 (shapely, in EPSG:3857).
Prints the feature counts, the share of A matched in B and of B in A, and
the total areas.

    detect_match.py A.geojson B.geojson [NAME_A NAME_B]
"""

import json
import math
import sys
import warnings

from shapely.geometry import shape
from shapely.ops import transform
from shapely.strtree import STRtree

R = 6378137.0


def merc(lon, lat):
    return (math.radians(lon) * R,
            math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * R)


def load(path):
    with open(path) as f:
        fc = json.load(f)
    return [transform(lambda x, y: tuple(zip(*(merc(a, b) for a, b in zip(x, y)))),
                      shape(ft["geometry"]).buffer(0)) for ft in fc["features"]]


def matched(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely 1.8: STRtree changes in 2.0
        tree = STRtree(b)
    n = 0
    for g in a:
        best = 0.0
        for h in tree.query(g):
            i = g.intersection(h).area
            if i > 0:
                best = max(best, i / g.union(h).area)
        n += best >= 0.5
    return n


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    na, nb = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("A", "B")
    ma, mb = matched(a, b), matched(b, a)
    print("features: %s %d, %s %d" % (na, len(a), nb, len(b)))
    print("IoU >= 0.5 match: %.1f%% of %s's in %s's, %.1f%% of %s's in %s's" %
          (100 * ma / max(len(a), 1), na, nb, 100 * mb / max(len(b), 1), nb, na))


if __name__ == "__main__":
    main()
