#!/usr/bin/env bash
# bench/polygonize.sh - eoproc polygonize against gdal_polygonize.py on the
# same 8192 x 8192 mask with ~20,000 buildings (made by make_buildings.py),
# both writing GeoJSON with 4-connectivity, then both writing FlatGeobuf
# (eoproc --format fgb, gdal_polygonize.py -f FlatGeobuf, each with its
# spatial index, the driver's default); then simplification: eoproc's
# topology-preserving simplification against shapely (GEOS) on the same
# polygons. Prints wall times, their ratio and peak memory (/usr/bin/time -v).
#
#   bash bench/polygonize.sh [BUILD_DIR]     (default build/release)
# Environment: BENCH_DIR (scratch folder, default /tmp/eoproc-bench-polygonize),
#   REPEAT (runs of each command, default 3: the best wall time is kept, and
#   the largest peak memory)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$(cd "${1:-$ROOT/build/release}" && pwd)
W=${BENCH_DIR:-/tmp/eoproc-bench-polygonize}
PY=/usr/bin/python3
mkdir -p "$W"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
MASK=$W/buildings.tif
[ -f "$MASK" ] || "$PY" "$ROOT/bench/make_buildings.py" "$MASK"

# run NAME OUT CMD... -> REPEAT runs of CMD (OUT removed before each); prints
# the best wall seconds and the largest peak RSS (MiB), sets T_NAME / M_NAME
run() {
    local name=$1 out=$2 wall rss
    shift 2
    bench_clean() { rm -f "$out"; }
    bench_best "${REPEAT:-3}" "$W" "$@"
    wall=$BEST
    rss=$(awk -v k="$RSS" 'BEGIN {printf "%.1f", k / 1024}')
    printf '%-34s %8.2f s %9s MiB peak\n' "$name" "$wall" "$rss"
    eval "T_$name=$wall; M_$name=$rss"
}

echo "mask: $MASK ($(gdalinfo "$MASK" | sed -n 's/^Size is //p'))"
rm -f "$W"/eoproc*.geojson "$W"/gdal.geojson "$W"/eoproc.fgb "$W"/gdal.fgb
# the same output: GeoJSON in the mask's CRS (what gdal_polygonize.py writes)
run eoproc "$W/eoproc.geojson" "$B/eoproc" polygonize "$MASK" "$W/eoproc.geojson" --connectivity 4 --native-crs --quiet
run gdal "$W/gdal.geojson" gdal_polygonize.py -q "$MASK" -f GeoJSON "$W/gdal.geojson"
# eoproc's default: RFC 7946 (EPSG:4326), with geodesic area and perimeter
run eoproc_rfc7946 "$W/eoproc4326.geojson" "$B/eoproc" polygonize "$MASK" "$W/eoproc4326.geojson" --quiet
n_e=$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['features']))" "$W/eoproc.geojson")
n_g=$(ogrinfo -ro -so "$W/gdal.geojson" -al | sed -n 's/^Feature Count: //p')
echo "polygons: eoproc $n_e, gdal_polygonize.py $n_g"
awk -v a="$T_eoproc" -v b="$T_gdal" 'BEGIN {printf "polygonize ratio eoproc / gdal_polygonize.py: %.3f (%.1fx faster)\n", a/b, b/a}'

echo
echo "FlatGeobuf output:"
run eoproc_fgb "$W/eoproc.fgb" "$B/eoproc" polygonize "$MASK" "$W/eoproc.fgb" --format fgb --connectivity 4 --native-crs --quiet
run gdal_fgb "$W/gdal.fgb" gdal_polygonize.py -q "$MASK" -f FlatGeobuf "$W/gdal.fgb"
# both files must really be FlatGeobuf, with every polygon
drv_e=$(ogrinfo -ro -so "$W/eoproc.fgb" 2>/dev/null | sed -n "s/.*using driver \`\(.*\)' successful.*/\1/p")
drv_g=$(ogrinfo -ro -so "$W/gdal.fgb" 2>/dev/null | sed -n "s/.*using driver \`\(.*\)' successful.*/\1/p")
nf_e=$(ogrinfo -ro -so -al "$W/eoproc.fgb" | sed -n 's/^Feature Count: //p')
nf_g=$(ogrinfo -ro -so -al "$W/gdal.fgb" | sed -n 's/^Feature Count: //p')
echo "drivers: eoproc.fgb $drv_e ($nf_e features), gdal.fgb $drv_g ($nf_g features)"
if [ "$drv_e" != FlatGeobuf ] || [ "$drv_g" != FlatGeobuf ] || [ "$nf_e" != "$n_e" ] || [ "$nf_g" != "$n_g" ]; then
    echo "bench: the FlatGeobuf outputs are not what was asked" >&2
    exit 1
fi
awk -v a="$T_eoproc_fgb" -v b="$T_gdal_fgb" 'BEGIN {printf "FlatGeobuf ratio eoproc / gdal_polygonize.py: %.3f (%.1fx faster)\n", a/b, b/a}'

echo
echo "simplification (topology-preserving, 1 m), on the same polygons:"
EOPROC_LIBRARY=$B/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python \
    "$PY" "$ROOT/bench/simplify_vs_shapely.py" "$MASK" "$W/gdal.geojson"

echo
REPEAT_N=${REPEAT:-3}
bench_row "polygonize an 8192² uint8 building mask (make_buildings.py: $n_g ragged buildings, 0.5 m, tiled + DEFLATE), 4-connected, GeoJSON in the mask's CRS; best of $REPEAT_N runs" \
    "$(bench_cmd polygonize.sh REPEAT)" "$(bench_calc '%.2f s (%d polygons)' "$T_eoproc" "$n_e")" \
    "$(bench_calc 'gdal_polygonize.py %.2f s (%d polygons)' "$T_gdal" "$n_g")" \
    "$(bench_calc '%.2fx' "$T_eoproc / $T_gdal")" "$(bench_calc '%.0f / %.0f MiB' "$M_eoproc" "$M_gdal")"
bench_row "polygonize an 8192² uint8 building mask (as above) to FlatGeobuf (both with the driver's spatial index), 4-connected, the mask's CRS; best of $REPEAT_N runs" \
    "$(bench_cmd polygonize.sh REPEAT)" "$(bench_calc '%.2f s (%d polygons)' "$T_eoproc_fgb" "$nf_e")" \
    "$(bench_calc 'gdal_polygonize.py -f FlatGeobuf %.2f s (%d polygons)' "$T_gdal_fgb" "$nf_g")" \
    "$(bench_calc '%.2fx' "$T_eoproc_fgb / $T_gdal_fgb")" "$(bench_calc '%.0f / %.0f MiB' "$M_eoproc_fgb" "$M_gdal_fgb")"
