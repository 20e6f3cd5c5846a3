#!/usr/bin/env bash
# bench/clip.sh - eoproc clip against gdalwarp -cutline -crop_to_cutline on the
# same input and AOI, in one run: wall time, ratio, peak resident memory, and
# whether both outputs hold the same pixels.
#
# Input: an 8192 x 8192 RGB uint8 UTM raster (the Landsat scene's bands 3,2,1
# resampled, as bench/cog.sh makes it, with square pixels), uncompressed and tiled. AOI: a polygon
# with a hole in EPSG:4326 (lon/lat; 256 + 64 vertices), covering about half of
# the raster. Both tools read the same file and write the same format:
#   1. an uncompressed GeoTIFF with 512 x 512 tiles, no overviews (the main
#      figure: the work is the clip, not the compression);
#   2. a ZSTD (level 9) COG with overviews (gdalwarp -of COG).
#
#   bash bench/clip.sh [BUILD_DIR]       # default build/release
# Environment: BENCH_DIR (scratch folder, default /tmp/eoproc-bench-clip),
#   BENCH_SIZE (input side, default 8192), BENCH_COG=0 to skip the COG pair,
#   REPEAT (runs of each command, the best wall time counts; default 3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
EOPROC=$BUILD/eoproc
W=${BENCH_DIR:-/tmp/eoproc-bench-clip}
N=${BENCH_SIZE:-8192}
DATA=${EOPROC_DATA:-$ROOT/.cache/data}
VALIDATE=/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py
mkdir -p "$W"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
[ -x "$EOPROC" ] || { echo "no eoproc at $EOPROC: build first (scripts/test.sh)" >&2; exit 1; }

# the input, made as bench/cog.sh makes its own, but with square pixels: for
# non-square ones gdalwarp picks a square resolution and resamples
IN=$W/rgb_${N}_sq.tif
if [ ! -f "$IN" ]; then
    echo "making $IN"
    /usr/bin/python3 "$ROOT/bench/make_rgb.py" "$DATA/L7_ETMs.tif" "$IN" "$N" --square
fi

# the AOI: a wobbly ring around the centre with an off-centre hole, in lon/lat
AOI=$W/aoi_4326.geojson
/usr/bin/python3 - "$IN" "$AOI" <<'EOF'
import json, math, sys
from osgeo import gdal, osr
ds = gdal.Open(sys.argv[1])
gt, n = ds.GetGeoTransform(), ds.RasterXSize
srs = osr.SpatialReference(wkt=ds.GetProjection())
ll = osr.SpatialReference()
ll.ImportFromEPSG(4326)
for s in (srs, ll):
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(srs, ll)
def ring(cx, cy, r, k, wobble):
    pts = []
    for i in range(k):
        t = 2 * math.pi * i / k
        rr = r * (1 + wobble * math.sin(5 * t))
        c, l = n * (cx + rr * math.cos(t)), n * (cy + rr * math.sin(t))
        pts.append(list(ct.TransformPoint(gt[0] + c * gt[1], gt[3] + l * gt[5])[:2]))
    return pts + [pts[0]]
shell = ring(0.5, 0.5, 0.42, 256, 0.1)
hole = ring(0.58, 0.45, 0.12, 64, 0.0)[::-1]
json.dump({"type": "Polygon", "coordinates": [shell, hole]}, open(sys.argv[2], "w"))
EOF

# measure CMD... -> "wall_seconds max_rss_kib"
measure() {
    local log=$W/time.log
    sync
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; return 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s}' "$log")
    echo "$wall $rss $cpu"
}

row() { # row LABEL WALL RSS SIZE CPU
    printf '  %-8s wall %7.2f s   CPU %6.2f s   peak RSS %7.1f MiB   size %11d bytes\n' "$1" "$2" \
        "$5" "$(echo "$3 / 1024" | bc -l)" "$4"
}

same_pixels() { # same_pixels A B: prints whether size, geotransform and pixels agree
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
a, b = gdal.Open(sys.argv[1]), gdal.Open(sys.argv[2])
same = (a.RasterXSize, a.RasterYSize, a.RasterCount) == (b.RasterXSize, b.RasterYSize, b.RasterCount)
same = same and max(abs(x - y) for x, y in zip(a.GetGeoTransform(), b.GetGeoTransform())) < 1e-6
diff = -1
if same:
    diff = 0
    for y in range(0, a.RasterYSize, 1024):
        h = min(1024, a.RasterYSize - y)
        diff += int((a.ReadAsArray(0, y, a.RasterXSize, h) != b.ReadAsArray(0, y, b.RasterXSize, h)).any(0).sum())
print("  outputs: %d x %d, %s" % (a.RasterXSize, a.RasterYSize,
      "same size and geotransform, %d pixels differ" % diff if diff >= 0 else "DIFFERENT size or geotransform"))
EOF
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $IN (${N} x ${N} x 3 uint8, UTM), AOI: $AOI (EPSG:4326, polygon with a hole), $(nproc) CPUs"
gdalinfo "$IN" >/dev/null # warm the page cache
cat "$IN" >/dev/null

# best CMD...: the run with the least wall time of REPEAT runs -> "wall rss cpu"
best() {
    local i r b=""
    for ((i = 0; i < ${REPEAT:-3}; i++)); do
        r=$(measure "$@")
        if [ -z "$b" ] || [ "$(echo "${r%% *} < ${b%% *}" | bc -l)" = 1 ]; then b=$r; fi
    done
    echo "$b"
}

# pair TITLE: runs CMD_E and CMD_G (writing OUT_E and OUT_G) and prints the
# figures of the best run of each
pair() {
    rm -f "$OUT_E" "$OUT_G"
    read -r te re ce < <(best "${CMD_E[@]}")
    read -r tg rg cg < <(best "${CMD_G[@]}")
    echo "$1:"
    echo "  eoproc: ${CMD_E[*]}"
    echo "  gdal:   ${CMD_G[*]}"
    row eoproc "$te" "$re" "$(stat -c %s "$OUT_E")" "$ce"
    row gdalwarp "$tg" "$rg" "$(stat -c %s "$OUT_G")" "$cg"
    printf '  time ratio eoproc/gdalwarp %.3f   CPU ratio %.3f\n' "$(echo "$te / $tg" | bc -l)" \
        "$(echo "$ce / $cg" | bc -l)"
    same_pixels "$OUT_E" "$OUT_G"
}

OUT_E=$W/eoproc_clip.tif
OUT_G=$W/gdalwarp_clip.tif
CMD_E=("$EOPROC" clip "$IN" "$AOI" "$OUT_E" --compress none --overviews none --stats=false --quiet)
CMD_G=(gdalwarp -q -overwrite -cutline "$AOI" -crop_to_cutline -multi -wo NUM_THREADS=ALL_CPUS
    -co TILED=YES -co BLOCKXSIZE=512 -co BLOCKYSIZE=512 "$IN" "$OUT_G")
pair "uncompressed tiled GeoTIFF (512 px tiles, no overviews)"
ROW_CLIP=("$te" "$re" "$ce" "$tg" "$rg" "$cg")

if [ "${BENCH_COG:-1}" != 0 ]; then
    rm -f "$OUT_E" "$OUT_G"
    OUT_E=$W/eoproc_clip_cog.tif
    OUT_G=$W/gdalwarp_clip_cog.tif
    CMD_E=("$EOPROC" clip "$IN" "$AOI" "$OUT_E" --compress zstd --level 9 --quiet)
    CMD_G=(gdalwarp -q -overwrite -cutline "$AOI" -crop_to_cutline -multi -wo NUM_THREADS=ALL_CPUS
        -of COG -co COMPRESS=ZSTD -co LEVEL=9 -co NUM_THREADS=ALL_CPUS "$IN" "$OUT_G")
    pair "ZSTD level 9 COG (512 px tiles, overviews)"
    /usr/bin/python3 "$VALIDATE" -q "$OUT_E" && echo "  eoproc output: valid COG"
fi
rm -f "$W"/eoproc_clip*.tif "$W"/gdalwarp_clip*.tif

# the README's table row: the uncompressed pair (the clip's own work)
read -r te re ce tg rg cg <<<"${ROW_CLIP[*]}"
bench_row "AOI clip of an ${N}² RGB uint8 raster (UTM, uncompressed, 512 px tiles) by a polygon with a hole in EPSG:4326 (256 + 64 vertices, about half the raster) into an uncompressed tiled GeoTIFF, best of ${REPEAT:-3}" \
    "$(bench_cmd clip.sh BENCH_SIZE REPEAT)" "$(bench_calc '%.2f s (%.2f CPU-s)' "$te" "$ce")" \
    "$(bench_calc 'gdalwarp -cutline -crop_to_cutline -multi %.2f s (%.2f CPU-s)' "$tg" "$cg")" \
    "$(bench_calc '%.2fx' "$te / $tg")" "$(bench_calc '%.0f / %.0f MiB' "$re / 1024" "$rg / 1024")"
