#!/usr/bin/env bash
# bench/detect.sh - building footprints for an AOI from a zoom-18 tile folder
# (issue 12), in one run on the same tiles, AOI and weights:
#
#   eoproc detect FOLDER AOI OUT --zoom 18 --model M --threads T
#
# against the pipeline a Python user writes today with Debian's packages
# (bench/detect_py.py: python3-rasterio reading the tiles through GDAL's WMS
# driver over the folder's file:// template, a PyTorch sliding window of the
# same network, rasterio.features.shapes, shapely filters and simplification,
# pyproj, GeoJSON), with the same tile (512), overlap (64), batch (1), threads,
# threshold and post-processing (holes < 4 m2 filled, simplify 0.3, features
# < 4 m2 dropped: eoproc detect's defaults). Prints wall time and peak RSS
# (/usr/bin/time -v) of each, their ratios, feature counts and the IoU >= 0.5
# match rate between the two outputs (bench/detect_match.py); then where
# eoproc's time goes, from the same work run as three commands (tiles-read to
# an uncompressed raster, segment, polygonize: detect itself does it in memory
# per partition and reports no stage times) beside detect_py.py's own stages,
# and one more detect run under `perf record` (bench/perf_stages.py files
# each sample under fetch/decode, inference, vectorization or other).
#
# Two networks: "demo" (models/buildings.onnx, the demo U-Net, 0.47 M
# parameters) and "r34" (bench/make_unet_r34.py: a U-Net with a ResNet-34-style
# encoder, 24.4 M parameters, random weights, exported with torch.onnx).
#
# Input (made once in bench/.data/detect_z18, a few minutes):
# models/synth_pyramid.py with 19 x 19 rendered scenes of 512 px: 9728 x 9728
# px at zoom 18 near Moscow (1444 PNG tiles), the AOI 20 px inside the edge
# (10.6 km2).
#
#   bash bench/detect.sh [build dir, default build/release]
#   MODELS="demo r34" THREADS=2 R34_PX=3072 bash bench/detect.sh
# R34_PX: side in pixels of the square AOI (in the middle of the scene) the
# r34 network runs on (0: the whole 10.6 km2 AOI; 3072 px is about 1 km2 and
# takes a few minutes per tool on 2 cores).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
CLI=$BUILD/eoproc
WORK=$ROOT/bench/.data
PY=/usr/bin/python3
# shellcheck source=bench/gdal_wms.sh
. "$ROOT/bench/gdal_wms.sh"
THREADS=${THREADS:-2}
MODELS=${MODELS:-demo r34}
R34_PX=${R34_PX:-3072}
PROFILE=${PROFILE:-1} # 1: one more detect run under perf record, CPU time by stage
[ -x "$CLI" ] || { echo "no $CLI: build first (scripts/test.sh or cmake)" >&2; exit 1; }
mkdir -p "$WORK"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
ROWS=() # the README's table rows, printed at the end
export OPENBLAS_NUM_THREADS=$THREADS
printf 'load at start: %s\n' "$(uptime)"

D=${DETECT_DIR:-$WORK/detect_z18} # DETECT_DIR, DETECT_GRID: another scene (tests of the script)
if [ ! -f "$D/aoi.geojson" ]; then
    echo "rendering $D (19 x 19 scenes)"
    rm -rf "$D.tmp"
    $PY "$ROOT/models/synth_pyramid.py" "$D.tmp" "${DETECT_GRID:-19}"
    rm -rf "$D"
    mv "$D.tmp" "$D"
fi
gdal_wms_xml "$D/xyz" 18 3 >"$D/wms.xml"

# the r34 AOI: an R34_PX square in the middle of the scene
if [ "$R34_PX" -gt 0 ]; then
    $PY - "$D" "$R34_PX" <<'EOF'
import json, math, sys
from osgeo import gdal
d, n = sys.argv[1], int(sys.argv[2])
ds = gdal.Open(d + "/scene.tif")
gt, H = ds.GetGeoTransform(), ds.RasterXSize
o = (H - n) // 2
R = 6378137.0
def ll(px, py):
    X, Y = gt[0] + px * gt[1], gt[3] + py * gt[5]
    return [math.degrees(X / R), math.degrees(2 * math.atan(math.exp(Y / R)) - math.pi / 2)]
ring = [ll(o, o + n), ll(o + n, o + n), ll(o + n, o), ll(o, o), ll(o, o + n)]
open(d + "/aoi_r34.geojson", "w").write(json.dumps({"type": "Polygon", "coordinates": [ring]}))
EOF
fi

# measure LABEL CMD... -> "wall_s peak_MiB" of CMD, its stdout in $WORK/LABEL.out
measure() {
    local label=$1 t0 t1 rss
    shift
    t0=$(date +%s.%N)
    /usr/bin/time -v "$@" >"$WORK/$label.out" 2>"$WORK/$label.time" ||
        { echo "failed: $*" >&2; tail -5 "$WORK/$label.time" >&2; exit 1; }
    t1=$(date +%s.%N)
    rss=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$WORK/$label.time")
    echo "$(echo "$t1 - $t0" | bc) $((rss / 1024))"
}
ratio() { echo "$1 / $2" | bc -l; }

run() { # NAME MODEL AOI
    local name=$1 model=$2 aoi=$3 E P S
    local eo=$WORK/det_${name}_eoproc.geojson py=$WORK/det_${name}_python.geojson
    printf '\n== %s: %s\n' "$name" "$(basename "$model")"
    local est match
    est=$("$CLI" detect "$D/xyz" "$aoi" "$WORK/est.geojson" --zoom 18 --model "$model" --estimate \
        --threads "$THREADS" --quiet | $PY -c '
import json, sys
r = json.load(sys.stdin)
r = r.get("estimate", r)
keys = ("aoi_km2", "tiles", "pixels", "partitions", "model_tiles", "gflop", "expected_seconds")
print("AOI:", ", ".join("%s %s" % (k, r[k] if not isinstance(r[k], float) else round(r[k], 2))
                        for k in keys if k in r))')
    echo "$est"
    echo "\$ eoproc detect $D/xyz $aoi $eo --zoom 18 --model $model --threads $THREADS --quiet"
    E=$(measure "det_${name}_eoproc" "$CLI" detect "$D/xyz" "$aoi" "$eo" --zoom 18 --model "$model" \
        --threads "$THREADS" --quiet)
    # the same post-processing as eoproc detect: the model card's values, else detect's defaults
    local pp
    pp=$("$CLI" model-card show "$model" 2>/dev/null | $PY -c '
import json, sys
try:
    c = (json.load(sys.stdin) or {}).get("postprocess", {})
except ValueError:
    c = {}
print("--min-area %s --fill-holes %s --simplify %s" % (c.get("min_area_m2", 4),
      c.get("fill_holes_m2", 4), c.get("simplify_m", 0.3)))')
    echo "\$ $PY bench/detect_py.py $D/wms.xml $aoi $model $py --threads $THREADS $pp"
    # shellcheck disable=SC2086 # pp is three options
    P=$(measure "det_${name}_python" $PY "$ROOT/bench/detect_py.py" "$D/wms.xml" "$aoi" "$model" "$py" \
        --threads "$THREADS" $pp)
    read -r ew em <<<"$E"
    read -r pw pm <<<"$P"
    printf '%-44s %8.1f s %7d MiB\n' "eoproc detect" "$ew" "$em"
    printf '%-44s %8.1f s %7d MiB\n' "rasterio + PyTorch + shapely (detect_py.py)" "$pw" "$pm"
    printf 'eoproc / Python: wall time %.2fx (target 0.2x), peak memory %.2fx (target 0.5x)\n' \
        "$(ratio "$ew" "$pw")" "$(ratio "$em" "$pm")"
    match=$($PY "$ROOT/bench/detect_match.py" "$eo" "$py" eoproc Python)
    echo "$match"
    detect_row "$name" "$est" "$match" "$ew" "$em" "$pw" "$pm"
    grep -o '"warnings": *\[[^]]*\]' "$WORK/det_${name}_eoproc.out" || true

    # where the time goes: the same work as three eoproc commands
    local img=$WORK/st_${name}_img.tif prob=$WORK/st_${name}_prob.tif
    local A B C
    A=$(measure "st_${name}_read" "$CLI" tiles-read "$D/xyz" "$img" --zoom 18 --aoi "$aoi" \
        --bands 3 --compress none --overviews none --threads "$THREADS" --quiet)
    B=$(measure "st_${name}_segment" "$CLI" segment "$model" "$img" "$prob" --tile 512 \
        --overlap 64 --batch 1 --scale 1/255 --compress none --overviews none \
        --threads "$THREADS" --quiet)
    # class 0 (background) to nodata, as detect does: polygonize would outline it too
    $PY -c 'import sys; from osgeo import gdal
d = gdal.Open(sys.argv[1], gdal.GA_Update); b = d.GetRasterBand(1); a = b.ReadAsArray()
a[a == 0] = b.GetNoDataValue(); b.WriteArray(a)' "${prob%.tif}_classes.tif"
    C=$(measure "st_${name}_polygonize" "$CLI" polygonize "${prob%.tif}_classes.tif" \
        "$WORK/st_${name}.geojson" --min-area 4 --fill-holes 4 --simplify 0.3 --prob "$prob" \
        --threads "$THREADS" --quiet)
    S=$($PY -c 'import json, sys; s = json.loads(open(sys.argv[1]).read().splitlines()[-1])["seconds"]
print(s["read"], s["infer"], s["vectorize"])' "$WORK/det_${name}_python.out")
    read -r pr pi pv <<<"$S"
    printf 'stages (s)        fetch/decode  inference  vectorization\n'
    printf 'eoproc commands   %12.1f %10.1f %14.1f   (tiles-read, segment, polygonize; uncompressed rasters between)\n' \
        "${A% *}" "${B% *}" "${C% *}"
    printf 'Python pipeline   %12.1f %10.1f %14.1f   (rasterio read, torch window + blend, shapes + shapely + write)\n' \
        "$pr" "$pi" "$pv"
    rm -f "$img" "$prob" "${prob%.tif}_classes.tif"
    # and inside detect itself: a profiled run (not timed), CPU time by stage
    if [ "$PROFILE" = 1 ] && command -v perf >/dev/null; then
        perf record -q -o "$WORK/det_$name.perf" -F 49 --call-graph dwarf,8192 -- "$CLI" detect \
            "$D/xyz" "$aoi" "$WORK/det_${name}_perf.geojson" --zoom 18 --model "$model" \
            --threads "$THREADS" --quiet >/dev/null 2>"$WORK/det_${name}_perf.log" &&
            $PY "$ROOT/bench/perf_stages.py" "$WORK/det_$name.perf" 49 ||
            echo "(no profile: perf record failed, see $WORK/det_${name}_perf.log)"
        rm -f "$WORK/det_$name.perf"
    fi
}

# detect_row NAME ESTIMATE MATCH EO_WALL EO_MIB PY_WALL PY_MIB: the table row of one network
detect_row() {
    local km2 tiles net counts rate
    km2=$(sed -n 's/.*aoi_km2 \([0-9.]*\).*/\1/p' <<<"$2")
    tiles=$(sed -n 's/.*, tiles \([0-9]*\).*/\1/p' <<<"$2")
    counts=$(sed -n 's/^features: eoproc \([0-9]*\), Python \([0-9]*\)/\1 \/ \2 features/p' <<<"$3")
    rate=$(sed -n 's/^IoU >= 0.5 match: \([0-9.]*%\) of .*, \([0-9.]*%\) of .*/\1 \/ \2 matched at IoU >= 0.5/p' <<<"$3")
    net="the demo U-Net (models/buildings.onnx)"
    [ "$1" = r34 ] && net="a U-Net with a ResNet-34-style encoder (24.4 M parameters, random weights)"
    ROWS+=("$(bench_row "buildings in a $km2 km² AOI from $tiles zoom-18 PNG tiles (synthetic scenes), $net, tile 512, overlap 64, batch 1, $THREADS threads; $counts (eoproc / Python), $rate; one run" \
        "MODELS=$1 $(bench_cmd detect.sh THREADS R34_PX PROFILE)" "$(bench_calc '`eoproc detect` %.1f s' "$4")" \
        "$(bench_calc 'rasterio (GDAL WMS) + PyTorch window + rasterio.features.shapes + shapely %.1f s' "$6")" \
        "$(bench_calc '%.2fx' "$4 / $6")" "$(bench_calc '%d / %d MiB (%.2fx)' "$5" "$7" "$5 / $7")")")
}

for m in $MODELS; do
    case $m in
    demo) run demo "$ROOT/models/buildings.onnx" "$D/aoi.geojson" ;;
    r34)
        [ -f "$WORK/unet_r34.onnx" ] ||
            $PY "$ROOT/bench/make_unet_r34.py" "$WORK/unet_r34.onnx" "$D/scene.tif" 2>/dev/null
        aoi=$D/aoi.geojson
        [ "$R34_PX" -gt 0 ] && aoi=$D/aoi_r34.geojson
        run r34 "$WORK/unet_r34.onnx" "$aoi"
        ;;
    *) echo "unknown model $m (demo, r34)" >&2; exit 2 ;;
    esac
done
printf '\nload at end: %s\n' "$(uptime)"
echo
printf '%s\n' "${ROWS[@]}"
