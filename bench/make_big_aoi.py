#!/usr/bin/env python3
"""bench/make_big_aoi.py OUT [FEATURES] - write a GeoJSON FeatureCollection of
FEATURES (default 100,000) disjoint 16-gons over Europe, about 44 MB with
the default, for bench/aoi_limits.sh. Coordinates with 6 decimals; each feature
carries a small properties object, as exported parcels do."""
import json
import math
import sys

import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
k = 16
ang = 2 * np.pi * np.arange(k) / k
ux, uy = np.cos(ang) * 0.004, np.sin(ang) * 0.004
side = int(math.ceil(math.sqrt(n)))
with open(out, "w") as f:
    f.write('{"type":"FeatureCollection","features":[\n')
    for i in range(n):
        cx, cy = 5 + (i % side) * 0.01, 45 + (i // side) * 0.01
        ring = [[round(float(cx + x), 6), round(float(cy + y), 6)] for x, y in zip(ux, uy)]
        ring.append(ring[0])
        feat = {"type": "Feature", "properties": {"id": i, "name": "parcel %d" % i},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}
        f.write(("," if i else "") + json.dumps(feat, separators=(",", ":")) + "\n")
    f.write("]}\n")
