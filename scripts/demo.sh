#!/usr/bin/env bash
# demo.sh - THE demo command: installs what is missing, fetches the sample
# data, builds the release build (build/release, reused when present) and
# shows the eoproc CLI on a real Landsat 7 scene of Olinda, Brazil.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DATA=$ROOT/.cache/data
DEMO=$ROOT/.cache/demo
B=$ROOT/build/release
SCENE=$DATA/L7_ETMs.tif
STEP=0

heading() {
    STEP=$((STEP + 1))
    printf '\n=== %d. %s ===\n' "$STEP" "$*"
}
show() { # print the command, then run it
    printf '$ %s\n' "$*"
    "$@"
}

heading "Dependencies (Debian packages; installs only what is missing)"
bash "$ROOT/scripts/deps.sh"

heading "Sample data (r-cran-stars rasters, without R)"
bash "$ROOT/scripts/fetch-data.sh" "$DATA"

heading "Build (release, $B)"
if [ ! -f "$B/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEOPROC_WERROR=ON \
        -DEOPROC_DATA_DIR="$DATA" >"$ROOT/.cache/demo-configure.log" 2>&1 || {
        cat "$ROOT/.cache/demo-configure.log"
        exit 1
    }
fi
cmake --build "$B" -j"${EOPROC_JOBS:-2}" >"$ROOT/.cache/demo-build.log" 2>&1 || {
    tail -n 60 "$ROOT/.cache/demo-build.log"
    exit 1
}
echo "built $B/eoproc (log: .cache/demo-build.log)"
EOPROC=$B/eoproc

heading "Version"
show "$EOPROC" --version

heading "Raster metadata: eoproc info L7_ETMs.tif (Landsat 7, 6 bands, UTM 25S)"
show "$EOPROC" info "$SCENE"

heading "An area of interest in Olinda (GeoJSON, EPSG:4326)"
mkdir -p "$DEMO"
AOI=$DEMO/aoi.geojson
cat >"$AOI" <<'EOF'
{
  "type": "Feature",
  "properties": {"name": "Olinda, Pernambuco, Brazil (inside the L7_ETMs.tif scene)"},
  "geometry": {
    "type": "Polygon",
    "coordinates": [[
      [-34.890, -8.020], [-34.860, -8.020], [-34.860, -7.990],
      [-34.875, -7.975], [-34.890, -7.990], [-34.890, -8.020]
    ]]
  }
}
EOF
cat "$AOI"
# The AOI must lie inside the scene: check it against GDAL's WGS84 footprint.
gdalinfo -json "$SCENE" | /usr/bin/python3 -c '
import json, sys
ext = json.load(sys.stdin)["wgs84Extent"]["coordinates"][0]
aoi = json.load(open(sys.argv[1]))["geometry"]["coordinates"][0]
def inside(x, y, ring):
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit
out = [p for p in aoi if not inside(p[0], p[1], ext)]
if out:
    sys.exit("AOI vertices outside the scene footprint %s: %s" % (ext, out))
print("AOI lies inside the scene footprint (gdalinfo wgs84Extent):", ext)
' "$AOI"

heading "Geodesic area of the AOI: eoproc area"
show "$EOPROC" area "$AOI"

heading "Spectral indices: the catalog (eoproc indices), NDVI of the scene"
"$EOPROC" indices | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d), "indices:", " ".join(i["name"] for i in d))'
show "$EOPROC" index "$SCENE" NDVI "$DEMO/ndvi.tif" --sensor landsat7

heading "Band math: eoproc calc (bands by number, where, division by zero -> nodata)"
show "$EOPROC" calc "$SCENE" "where(b4 > b3, (b4 - b3) / (b4 + b3), 0)" "$DEMO/calc.tif"

heading "Zonal statistics of NDVI over the AOI, exact coverage weights"
show "$EOPROC" zonal "$SCENE" "$AOI" --index NDVI --sensor landsat7 --coverage \
    --percentiles 10,90

heading "Change detection: the scene against a copy with a greened 20 x 30 pixel block"
/usr/bin/python3 - "$SCENE" "$DEMO/after.tif" <<'PYEOF'
import sys
from osgeo import gdal
ds = gdal.GetDriverByName("GTiff").CreateCopy(sys.argv[2], gdal.Open(sys.argv[1]))
for b, v in ((3, 1), (4, 200)):
    a = ds.GetRasterBand(b).ReadAsArray()
    a[100:120, 50:80] = v
    ds.GetRasterBand(b).WriteArray(a)
ds = None
PYEOF
rm -rf "$DEMO/change"
show "$EOPROC" change "$SCENE" "$DEMO/after.tif" --index NDVI --sensor landsat7 \
    --threshold 0.2 --out "$DEMO/change"
echo "expected changed area: 600 pixels x 28.5 m x 28.5 m = 487350 m2"

heading "Time series of NDVI at a point, two dates"
show "$EOPROC" series --index NDVI --sensor landsat7 --point=-34.87,-8.0 \
    "$SCENE@2002-07-01" "$DEMO/after.tif@2003-01-15"
heading "Cloud-Optimized GeoTIFF: eoproc cog (ZSTD, 256 px tiles, overviews, statistics)"
show "$EOPROC" cog "$SCENE" "$DEMO/L7_cog.tif" --blocksize 256 --quiet
show /usr/bin/python3 /usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py \
    "$DEMO/L7_cog.tif"
gdalinfo "$DEMO/L7_cog.tif" | grep -E 'LAYOUT|COMPRESSION|Band 1|Minimum=|Overviews' | head -n 6
heading "Land cover to polygons: eoproc polygonize (lc.tif, 8-connected, coverage-simplified)"
LC=$DATA/lc.tif

show "$EOPROC" polygonize "$LC" "$DEMO/lc.geojson" --connectivity 8 --coverage-simplify 1500 --quiet
/usr/bin/python3 -c '
import json, sys
fc = json.load(open(sys.argv[1]))
f = fc["features"][1]
print("%d features; the second: class %s, %d pixels, %.1f km2, perimeter %.1f km, %s" % (
    len(fc["features"]), f["properties"]["class"], f["properties"]["pixels"],
    f["properties"]["area_m2"] / 1e6, f["properties"]["perimeter_m"] / 1e3, f["geometry"]["type"]))
' "$DEMO/lc.geojson"
show "$EOPROC" polygonize "$LC" "$DEMO/lc.gpkg" --format gpkg --quiet
ogrinfo -ro -so "$DEMO/lc.gpkg" polygons | grep -E "Feature Count|Geometry"

heading "AOI clipping: eoproc clip (a polygon with a hole, in EPSG:4326, over the UTM scene)"
cat >"$DEMO/field.geojson" <<'JSONEOF'
{"type": "Polygon", "coordinates": [
  [[-34.905, -7.965], [-34.845, -7.960], [-34.840, -8.020], [-34.900, -8.030], [-34.905, -7.965]],
  [[-34.885, -7.990], [-34.865, -7.990], [-34.865, -8.005], [-34.885, -8.005], [-34.885, -7.990]]]}
JSONEOF
show "$EOPROC" clip "$SCENE" "$DEMO/field.geojson" "$DEMO/field.tif" --bands 3,2,1 --alpha \
    --coverage --quiet
show /usr/bin/python3 /usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py \
    "$DEMO/field.tif"

heading "Rasters from tile pyramids: write zoom-14 tiles, reopen them as a dataset (eoproc tiles-read, Python)"
rm -rf "$DEMO/pyramid"
show "$EOPROC" tiles "$SCENE" --zoom 14 --out "$DEMO/pyramid" --quiet
show "$EOPROC" tiles-read "$DEMO/pyramid" "$DEMO/from_tiles.tif" --zoom 14 \
    --bbox=-34.92,-8.03,-34.84,-7.96 --quiet
EOPROC_LIBRARY=$B/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python /usr/bin/python3 - \
    "$DEMO/pyramid" "$AOI" <<'PYEOF'
import sys
import eoproc
with eoproc.open_tiles(sys.argv[1], 14, aoi=sys.argv[2]) as ds:
    rgba = ds.read()
    st = eoproc.zonal_stats(ds, sys.argv[2], expr="(b2 - b1) / (b2 + b1)")  # green vs red
    print("zoom-14 tiles over the AOI: %d x %d px, %d missing tiles, %d decoded" % (
        ds.width, ds.height, ds.missing_tiles, ds.tiles_info()["decoded"]))
    print("mean (G - R) / (G + R) over the AOI from the tiles: %.4f (%d px)" % (st["mean"], st["count"]))
PYEOF

heading "Building segmentation: eoproc segment with the demo model on a held-out synthetic scene"
# models/buildings.onnx: a compact U-Net trained by scripts/train_demo_model.py on synthetic
# aerial scenes (models/synth_scene.py); this scene's seed was never used in training.
SYN=$DEMO/synthetic_scene.tif
/usr/bin/python3 - "$ROOT/models" "$SYN" "$DEMO/synthetic_truth.npy" <<'PY'
import sys
import numpy as np
from osgeo import gdal, osr
sys.path.insert(0, sys.argv[1])
import synth_scene
rgb, truth = synth_scene.render_scene(synth_scene.HELD_OUT_SEED + 7, 640)
ds = gdal.GetDriverByName("GTiff").Create(sys.argv[2], 640, 640, 3, gdal.GDT_Byte)
ds.SetGeoTransform([500000, 0.5, 0, 9100000, 0, -0.5])  # 0.5 m pixels, UTM 25S
srs = osr.SpatialReference()
srs.ImportFromEPSG(32725)
ds.SetProjection(srs.ExportToWkt())
for b in range(3):
    ds.GetRasterBand(b + 1).WriteArray(rgb[..., b])
ds = None
np.save(sys.argv[3], truth)
print("rendered a 640 x 640 scene with %.1f %% building pixels" % (100 * truth.mean()))
PY
show "$EOPROC" segment "$ROOT/models/buildings.onnx" "$SYN" "$DEMO/buildings.tif" \
    --tile 256 --overlap 64 --scale 1/255 --quiet
/usr/bin/python3 - "$DEMO/buildings_classes.tif" "$DEMO/synthetic_truth.npy" <<'PY'
import sys
import numpy as np
from osgeo import gdal
pred = gdal.Open(sys.argv[1]).ReadAsArray() == 1
truth = np.load(sys.argv[2]) == 1
print("IoU against the rendered ground truth: %.3f" % (
    np.logical_and(pred, truth).sum() / np.logical_or(pred, truth).sum()))
seen = np.zeros_like(truth)  # buildings in the ground truth: 4-connected regions
count = 0
for y, x in zip(*np.nonzero(truth)):
    if seen[y, x]:
        continue
    count += 1
    stack = [(y, x)]
    seen[y, x] = True
    while stack:
        cy, cx = stack.pop()
        for ny, nx in ((cy - 1, cx), (cy + 1, cx), (cy, cx - 1), (cy, cx + 1)):
            if 0 <= ny < truth.shape[0] and 0 <= nx < truth.shape[1] and truth[ny, nx] \
                    and not seen[ny, nx]:
                seen[ny, nx] = True
                stack.append((ny, nx))
print("the scene holds %d buildings" % count)
PY
show "$EOPROC" polygonize "$DEMO/buildings_classes.tif" "$DEMO/buildings.geojson" \
    --prob "$DEMO/buildings.tif" --min-area 10 --regularize --quiet
/usr/bin/python3 -c '
import json, sys
fc = json.load(open(sys.argv[1]))
b = [f for f in fc["features"] if f["properties"]["class"] == 1]
print("%d buildings found, mean area %.0f m2, mean score %.2f" % (
    len(b), sum(f["properties"]["area_m2"] for f in b) / max(len(b), 1),
    sum(f["properties"].get("score", 0) for f in b) / max(len(b), 1)))
' "$DEMO/buildings.geojson"

heading "Buildings in a polygon from zoom-18 imagery, as GeoJSON: eoproc detect (the main job)"
# a rendered scene near Moscow as a {z}/{x}/{y} PNG pyramid (and as TMS), with an AOI
/usr/bin/python3 "$ROOT/models/synth_pyramid.py" "$DEMO/z18" 2
show "$EOPROC" detect "$DEMO/z18/xyz" "$DEMO/z18/aoi.geojson" --zoom 18 --estimate \
    --price-per-km2 2.5
show "$EOPROC" detect "$DEMO/z18/xyz" "$DEMO/z18/aoi.geojson" "$DEMO/z18/buildings.geojson" \
    --zoom 18 --job "$DEMO/z18/job" --quiet
show "$EOPROC" job status "$DEMO/z18/job"
/usr/bin/python3 -c '
import json, sys
fc = json.load(open(sys.argv[1]))
p = fc["features"][0]["properties"]
print("%d buildings; the first: %s" % (len(fc["features"]), json.dumps(p)))
' "$DEMO/z18/buildings.geojson"
echo "# the same folder read with the wrong row order, then an AOI with latitude and longitude swapped:"
"$EOPROC" detect "$DEMO/z18/tms" "$DEMO/z18/aoi.geojson" "$DEMO/z18/x.geojson" --zoom 18 \
    --scheme xyz --quiet || true
/usr/bin/python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
a["coordinates"] = [[[y, x] for x, y in a["coordinates"][0]]]
json.dump(a, open(sys.argv[2], "w"))
' "$DEMO/z18/aoi.geojson" "$DEMO/z18/swapped.geojson"
"$EOPROC" detect "$DEMO/z18/xyz" "$DEMO/z18/swapped.geojson" "$DEMO/z18/x.geojson" --zoom 18 \
    --quiet || true

heading "The same job behind a tile and processing server: python3 -m eoproc.server"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rm -rf "$DEMO/server-jobs"
printf '$ python3 -m eoproc.server --root %s --jobs %s --port %s &\n' "$DEMO/z18" "$DEMO/server-jobs" "$PORT"
EOPROC_LIBRARY=$B/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python /usr/bin/python3 -m eoproc.server \
    --root "$DEMO/z18" --jobs "$DEMO/server-jobs" --port "$PORT" --log-level warning \
    >"$DEMO/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
/usr/bin/python3 - "http://127.0.0.1:$PORT" "$DEMO/z18/aoi.geojson" "$DEMO/z18/buildings.geojson" <<'PYEOF'
import json, math, sys, time, urllib.request
base, aoi, cli = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def call(path, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.headers.get("Content-Type"), r.read()
deadline = time.time() + 60
while True:
    try:
        call("/healthz")
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("the server did not start: see server.log")
        time.sleep(0.2)
info = json.loads(call("/cog/info?url=scene.tif")[2])
print("GET /cog/info?url=scene.tif: %d x %d, %d bands, zooms %d-%d" % (
    info["width"], info["height"], info["count"], info["minzoom"], info["maxzoom"]))
tj = json.loads(call("/cog/tilejson.json?url=scene.tif")[2])
lon, lat, z = tj["center"][0], tj["center"][1], info["maxzoom"]
x = int((lon + 180) / 360 * 2 ** z)
y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2 ** z)
st, ct, png = call("/cog/tiles/WebMercatorQuad/%d/%d/%d.png?url=scene.tif" % (z, x, y))
print("GET /cog/tiles/WebMercatorQuad/%d/%d/%d.png: %d, %s, %d bytes" % (z, x, y, st, ct, len(png)))
body = {"name": "demo", "source": "xyz", "geometry": aoi, "zoom": 18}
cost = json.loads(call("/processing/cost", body)[2])
print("POST /processing/cost: %.4f km2, %d tiles, %d partitions, cost %s" % (
    cost["area"], cost["tiles"], cost["partitions"], cost["cost"]))
p = json.loads(call("/processings", body)[2])
print("POST /processings: id %s, %s" % (p["id"], p["status"]))
seen = None
while p["status"] not in ("OK", "FAILED", "CANCELLED"):
    time.sleep(0.5)
    p = json.loads(call("/processings/" + p["id"])[2])
    if (p["status"], p["percentCompleted"]) != seen:  # each change once
        seen = (p["status"], p["percentCompleted"])
        print("  GET /processings/%s: %s %d%%" % (p["id"][:8], *seen))
fc = json.loads(call("/processings/%s/result" % p["id"])[2])
print("GET /processings/%s/result: %d buildings (eoproc detect found %d)" % (
    p["id"][:8], len(fc["features"]), len(cli["features"])))
st, _, b = call("/processings/" + p["id"], method="DELETE")
print("DELETE /processings/%s: %d" % (p["id"][:8], st))
print("the map page, while the server runs: %s/" % base)
PYEOF
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
trap - EXIT

printf '\n=== done ===\n'
