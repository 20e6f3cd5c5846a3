#!/usr/bin/env bash
# bench/tiles.sh - web-mercator tiles out of a raster: eoproc against GDAL on
# the same input, in one run.
#
#  1. a pyramid at the raster's native zoom: `eoproc tiles` against
#     `gdal2tiles.py --processes=2` (same zoom, bilinear, XYZ, PNG):
#     tiles per second and peak memory of each;
#  2. single-tile latency from a COG: the median over N random tiles of the
#     raster's native zoom, eoproc.tile() against gdal.Warp into a MEM
#     dataset of the tile's bounds (both in one Python process): each opening
#     the file per tile, then each with the dataset kept open.
#
# Input: an 8192 x 8192 RGB uint8 COG (overviews, 512 px tiles) made from the
# Landsat scene L7_ETMs.tif (bands 3, 2, 1, cubic) in bench/.data/.
#
#   bash bench/tiles.sh [build dir, default build/release] [N tiles, default 1000]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
N=${2:-1000}
CLI=$BUILD/eoproc
DATA=${EOPROC_DATA:-$ROOT/.cache/data}
WORK=$ROOT/bench/.data
mkdir -p "$WORK"
[ -x "$CLI" ] || { echo "no $CLI: build first (scripts/test.sh or cmake)" >&2; exit 1; }

SRC=$WORK/rgb8192_cog.tif
if [ ! -f "$SRC" ]; then
    echo "making $SRC"
    gdal_translate -q -b 3 -b 2 -b 1 -outsize 8192 8192 -r cubic \
        -of COG -co COMPRESS=DEFLATE -co BLOCKSIZE=512 -co OVERVIEWS=AUTO \
        "$DATA/L7_ETMs.tif" "$SRC"
fi

ZOOM=$(EOPROC_LIBRARY=$BUILD/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python /usr/bin/python3 -c "
import eoproc
i = eoproc.info('$SRC')
lat = (i['bbox_4326'][1] + i['bbox_4326'][3]) / 2
# the zoom whose resolution is just finer than the raster's
from math import cos, radians, log2, ceil
res = i['pixel_size'][0]
print(ceil(log2(156543.03392804097 * cos(radians(lat)) / res)))
")
echo "input: $SRC (8192 x 8192 RGB), native zoom $ZOOM"

peak() { grep 'Maximum resident' "$1" | awk '{printf "%.0f MiB", $6/1024}'; }
count() { find "$1" -name '*.png' | wc -l; }

rm -rf "$WORK/eo_tiles" "$WORK/gdal_tiles"
t0=$(date +%s.%N)
/usr/bin/time -v "$CLI" tiles "$SRC" --zoom "$ZOOM" --out "$WORK/eo_tiles" --threads 2 --quiet \
    >/dev/null 2>"$WORK/eo.time"
t1=$(date +%s.%N)
/usr/bin/time -v gdal2tiles.py --processes=2 --xyz -r bilinear -z "$ZOOM" -w none -q \
    "$SRC" "$WORK/gdal_tiles" >/dev/null 2>"$WORK/gdal.time"
t2=$(date +%s.%N)
ne=$(count "$WORK/eo_tiles")
ng=$(count "$WORK/gdal_tiles")
te=$(echo "$t1 - $t0" | bc -l)
tg=$(echo "$t2 - $t1" | bc -l)
printf '\n== pyramid at zoom %s (2 threads / 2 processes)\n' "$ZOOM"
printf 'eoproc tiles     %5d tiles in %6.2f s = %7.1f tiles/s, peak %s\n' "$ne" "$te" \
    "$(echo "$ne / $te" | bc -l)" "$(peak "$WORK/eo.time")"
printf 'gdal2tiles.py    %5d tiles in %6.2f s = %7.1f tiles/s, peak %s (largest process)\n' \
    "$ng" "$tg" "$(echo "$ng / $tg" | bc -l)" "$(peak "$WORK/gdal.time")"
printf 'ratio            eoproc makes %.1fx the tiles per second\n' \
    "$(echo "($ne / $te) / ($ng / $tg)" | bc -l)"

printf '\n== single-tile latency from the COG, %s random tiles of zoom %s\n' "$N" "$ZOOM"
EOPROC_LIBRARY=$BUILD/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python /usr/bin/python3 - "$SRC" "$ZOOM" "$N" <<'PY'
import random, statistics, sys, time
from osgeo import gdal
import eoproc
src, z, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
gdal.UseExceptions()
i = eoproc.info(src)
lon0, lat0, lon1, lat1 = i["bbox_4326"]
aoi = {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}
tiles = eoproc.tiles_cover(aoi, z)
random.seed(1)
pick = [random.choice(tiles) for _ in range(n)]
eo, gd = [], []
png = gdal.GetDriverByName("PNG")
for (zz, x, y) in pick:
    t0 = time.perf_counter()
    eoproc.tile(src, zz, x, y)
    t1 = time.perf_counter()
    b = eoproc.tile_bounds(zz, x, y)["bounds_3857"]
    t2 = time.perf_counter()
    gdal.Warp("", src, format="MEM", dstSRS="EPSG:3857", outputBounds=b, width=256, height=256,
              resampleAlg="bilinear", dstAlpha=True)
    t3 = time.perf_counter()
    eo.append(t1 - t0)
    gd.append(t3 - t2)
me, mg = statistics.median(eo) * 1e3, statistics.median(gd) * 1e3
print("eoproc.tile (open + render)   median %.2f ms" % me)
print("gdal.Warp to MEM              median %.2f ms" % mg)
print("ratio                         %.2fx GDAL's latency" % (me / mg))
# a tile server keeps its datasets open: the same tiles from an eoproc.Dataset
# and from a gdal.Dataset opened once
eo2, gd2 = [], []
with eoproc.open(src) as ds:
    g = gdal.Open(src)
    for (zz, x, y) in pick:
        t0 = time.perf_counter()
        eoproc.tile(ds, zz, x, y)
        t1 = time.perf_counter()
        b = eoproc.tile_bounds(zz, x, y)["bounds_3857"]
        t2 = time.perf_counter()
        gdal.Warp("", g, format="MEM", dstSRS="EPSG:3857", outputBounds=b, width=256,
                  height=256, resampleAlg="bilinear", dstAlpha=True)
        t3 = time.perf_counter()
        eo2.append(t1 - t0)
        gd2.append(t3 - t2)
    g = None
me2, mg2 = statistics.median(eo2) * 1e3, statistics.median(gd2) * 1e3
print("kept open: eoproc.tile(Dataset) median %.2f ms, gdal.Warp(gdal.Dataset) median %.2f ms, "
      "ratio %.2fx" % (me2, mg2, me2 / mg2))
PY
