#!/usr/bin/env bash
# bench/scaling.sh - does eoproc's cost grow with the pixels and no faster?
# Clip, an index (NDVI), band math and polygonize (of the whole mask, and of
# its buildings alone: "buildings", the background as nodata), each at several sizes of
# generated input (bench/make_scaling.py: 4-band uint16 and a uint8 building
# mask, 0.5 m, EPSG:32637) in two layouts (striped: one row per strip;
# tiled: 256 x 256), and GDAL's tool for the same job beside it up to
# GDAL_MAX. For every run: wall and CPU seconds, nanoseconds per pixel (wall
# and CPU), their ratio to the same task's figure at 8192² (the reference
# size), peak RSS and peak RSS per pixel of width (memory should be bounded
# by the width, not the area).
#
#   bash bench/scaling.sh [BUILD_DIR] [SIZE...]   (default build/release, 2048 8192 16384 32768)
#   LAYOUTS="tiled" TASKS="index calc" GDAL_MAX=8192 bash bench/scaling.sh
#
# eoproc writes its default outputs with the same settings at every size:
# clip, index and calc a ZSTD COG with overviews and statistics; polygonize
# GeoJSON in the raster's CRS. GDAL: gdalwarp -cutline -crop_to_cutline (ZSTD
# GTiff, then gdaladdo), gdal_calc.py (ZSTD GTiff), gdal_polygonize.py
# (GeoJSON). Inputs take 2 x 4 x SIZE² bytes per layout (8 GiB at 32768²):
# WORK (default a folder under /var/tmp) must have room; each size's inputs
# are removed when its runs are done. One run per task and size (at 2048²
# the best of 3); the page cache is warm for everyone (the input was just
# written). Prints the table and one ROW line for the README's table (the
# largest size's time per pixel against 8192²).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(2048 8192 16384 32768)
LAYOUTS=${LAYOUTS:-striped tiled}
TASKS=${TASKS:-clip index calc polygonize buildings}
GDAL_MAX=${GDAL_MAX:-8192}
REF=${REF:-8192}
PY=/usr/bin/python3
EOPROC=$BUILD/eoproc
[ -x "$EOPROC" ] || { echo "bench: build eoproc first ($EOPROC not found)" >&2; exit 1; }
WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/eoproc-bench-scaling.XXXXXX)}
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
RESULTS=$WORK/results.txt
: >"$RESULTS"

# run TOOL TASK LAYOUT SIZE CMD... -> a line "TOOL TASK LAYOUT SIZE wall cpu rss_kib" in RESULTS
run() {
    local tool=$1 task=$2 layout=$3 size=$4 n=1
    shift 4
    [ "$size" -le 2048 ] && n=3
    bench_best "$n" "$WORK" "$@"
    echo "$tool $task $layout $size $BEST $CPU $RSS" | tee -a "$RESULTS"
}
bench_clean() { rm -rf "$WORK"/out*; }

for size in "${SIZES[@]}"; do
    for layout in $LAYOUTS; do
        IN=$WORK/in_${size}_$layout
        echo "bench: generating $layout ${size}² inputs"
        "$PY" "$ROOT/bench/make_scaling.py" "$size" "$layout" "$IN"
        for task in $TASKS; do
            case $task in
            clip)
                run eoproc clip "$layout" "$size" "$EOPROC" --quiet clip "$IN/img.tif" \
                    "$IN/aoi.geojson" "$WORK/out.tif"
                [ "$size" -le "$GDAL_MAX" ] && run gdal clip "$layout" "$size" sh -c \
                    "gdalwarp -q -cutline '$IN/aoi.geojson' -crop_to_cutline -multi \
                     -wo NUM_THREADS=ALL_CPUS -co TILED=YES -co COMPRESS=ZSTD -co BIGTIFF=IF_SAFER \
                     '$IN/img.tif' '$WORK/out.tif' && gdaladdo -q '$WORK/out.tif'"
                ;;
            index)
                run eoproc index "$layout" "$size" "$EOPROC" --quiet index "$IN/img.tif" NDVI \
                    "$WORK/out.tif" --bands R=1,N=4
                [ "$size" -le "$GDAL_MAX" ] && run gdal index "$layout" "$size" gdal_calc.py \
                    --quiet -A "$IN/img.tif" --A_band 1 -B "$IN/img.tif" --B_band 4 \
                    --calc "(B.astype(float32) - A) / (B.astype(float32) + A)" --type Float32 \
                    --co TILED=YES --co COMPRESS=ZSTD --co BIGTIFF=IF_SAFER --outfile "$WORK/out.tif"
                ;;
            calc)
                run eoproc calc "$layout" "$size" "$EOPROC" --quiet calc "$IN/img.tif" \
                    "(b4 - b1) / (b4 + b1 + 0.5 * b2)" "$WORK/out.tif"
                [ "$size" -le "$GDAL_MAX" ] && run gdal calc "$layout" "$size" gdal_calc.py \
                    --quiet -A "$IN/img.tif" --A_band 1 -B "$IN/img.tif" --B_band 4 \
                    -C "$IN/img.tif" --C_band 2 \
                    --calc "(B.astype(float32) - A) / (B.astype(float32) + A + 0.5 * C)" \
                    --type Float32 --co TILED=YES --co COMPRESS=ZSTD --co BIGTIFF=IF_SAFER \
                    --outfile "$WORK/out.tif"
                ;;
            polygonize)
                run eoproc polygonize "$layout" "$size" "$EOPROC" --quiet polygonize \
                    "$IN/mask.tif" "$WORK/out.geojson" --native-crs
                [ "$size" -le "$GDAL_MAX" ] && run gdal polygonize "$layout" "$size" \
                    gdal_polygonize.py -q "$IN/mask.tif" -f GeoJSON "$WORK/out.geojson"
                ;;
            buildings)
                # the same mask with its background as nodata (a VRT saying
                # so): the buildings alone, as building extraction asks for
                # them; with nothing spanning the raster, every polygon is
                # written once the stripes below cannot change it
                gdal_translate -q -of VRT -a_nodata 0 "$IN/mask.tif" "$IN/buildings.vrt"
                run eoproc buildings "$layout" "$size" "$EOPROC" --quiet polygonize \
                    "$IN/buildings.vrt" "$WORK/out.geojson" --native-crs
                [ "$size" -le "$GDAL_MAX" ] && run gdal buildings "$layout" "$size" \
                    gdal_polygonize.py -q "$IN/buildings.vrt" -f GeoJSON "$WORK/out.geojson"
                ;;
            *) echo "bench: unknown task $task" >&2; exit 2 ;;
            esac
        done
        rm -rf "$IN"
    done
done

"$PY" - "$RESULTS" "$REF" "$(bench_cmd scaling.sh LAYOUTS TASKS GDAL_MAX)" <<'PYEOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ref = int(sys.argv[2])
data = {}
for tool, task, layout, size, wall, cpu, rss in rows:
    data[(tool, task, layout, int(size))] = (float(wall), float(cpu), int(rss) / 1024.0)
print("\n%-8s %-11s %-8s %6s %8s %8s %8s %8s %7s %7s %9s %9s" % (
    "tool", "task", "layout", "size", "wall s", "CPU s", "ns/px", "CPU ns", "xref", "CPUxref",
    "RSS MiB", "KiB/col"))
for (tool, task, layout, size), (w, c, r) in sorted(data.items()):
    px = float(size) * size
    base = data.get((tool, task, layout, ref))
    xr = "%.2f" % ((w / px) / (base[0] / ref / ref)) if base else "-"
    cr = "%.2f" % ((c / px) / (base[1] / ref / ref)) if base else "-"
    print("%-8s %-11s %-8s %6d %8.2f %8.2f %8.2f %8.2f %7s %7s %9.0f %9.1f" % (
        tool, task, layout, size, w, c, w / px * 1e9, c / px * 1e9, xr, cr, r, r * 1024 / size))
big = max(s for (_, _, _, s) in data)
worst = []
for (tool, task, layout, size), (w, c, r) in data.items():
    if tool == "eoproc" and size == big and (tool, task, layout, ref) in data and big != ref:
        b = data[(tool, task, layout, ref)]
        worst.append(((w / b[0]) / (big / ref) ** 2, (c / b[1]) / (big / ref) ** 2, task, layout,
                      r, b[2]))
if worst:
    worst.sort(reverse=True)
    parts = ", ".join("%s %s %.2fx (CPU %.2fx)" % (t, l, x, cx) for x, cx, t, l, _, _ in worst)
    mem = ", ".join("%s %s %.0f / %.0f MiB" % (t, l, r, rb) for _, _, t, l, r, rb in worst)
    print("\nROW|time per pixel at %d² against %d² (eoproc: clip, NDVI, band math, polygonize, "
          "polygonize of the buildings alone; "
          "generated 4-band uint16 and uint8 mask, striped and tiled)|%s|%s|target 1.2x|worst %.2fx|%s "
          "(at %d² / %d²)" % (big, ref, sys.argv[3], parts, worst[0][0], mem, big, ref))
PYEOF
