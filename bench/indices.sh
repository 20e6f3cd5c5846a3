#!/usr/bin/env bash
# bench/indices.sh - NDVI and a band-math expression of a 4-band uint16
# GeoTIFF into a float32 Cloud-Optimized GeoTIFF (ZSTD, overviews,
# statistics), by eoproc and the way a GDAL user gets the same file today:
# gdal_calc.py, then gdal_translate -of COG -co COMPRESS=ZSTD. Same input,
# one run; prints each one's wall time, CPU time, peak memory, the ratio,
# and eoproc's time per pixel at every size with its ratio to the first
# size, wall and CPU (windows and buffers reused: the time per pixel should
# not grow; on a shared machine the CPU figure is the steadier one).
# Tasks: ndvi, ndvi_raw (the same uncompressed, on both sides: the
# pipeline's own cost without ZSTD's) and calc (three bands).
#
#   bash bench/indices.sh [BUILD_DIR] [SIZE...]   (default build/release, 8192)
#   bash bench/indices.sh build/release 8192 16384 32768
#
# The inputs are generated with GDAL (tiled 256 x 256, pixel-interleaved,
# uncompressed, random uint16 in 1..10000). Runs are repeated (REPEAT,
# default 3; sizes past 8192 once) and the best wall time of each is kept;
# the page cache is warm for everyone. GDAL=0 skips gdal_calc (long at the
# large sizes). The outputs are checked: eoproc's pixels equal numpy's
# float32 arithmetic on the input read by GDAL (bit for bit), gdal_calc's
# within 1e-6 (it computes in float64).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(8192)
REPEAT=${REPEAT:-3}
GDAL=${GDAL:-1}
PY=/usr/bin/python3
WORK=${BENCH_DIR:-$(mktemp -d /tmp/eoproc-bench-indices.XXXXXX)}
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
EOPROC=$BUILD/eoproc
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
[ -x "$EOPROC" ] || { echo "bench: build eoproc first ($EOPROC not found)" >&2; exit 1; }
command -v gdal_calc.py >/dev/null || { echo "bench: gdal_calc.py not found (gdal-bin)" >&2; exit 1; }

# run NAME CMD... -> best wall seconds in $BEST (user + system CPU seconds
# of that run in $CPU), peak RSS (KiB) in $RSS; a command given as one
# string to sh -c counts its children's peak
run() {
    local name=$1 n=$REPEAT
    shift
    [ "$SIZE" -gt 8192 ] && n=1
    bench_clean() { rm -f "$WORK"/out_"$name"*.tif; }
    bench_best "$n" "$WORK" "$@"
}

EXPR="(b4 - b3) / (b4 + b3 + b1)"
NP_EXPR="(B4 - B3) / (B4 + B3 + B1)"
REPORT=()
ROWS=()
declare -A FIRST_NS FIRST_CNS # per task: wall and CPU time per pixel at the first size
echo "runs: best of $REPEAT (once past 8192); threads: eoproc uses all CPUs ($(nproc))"
for SIZE in "${SIZES[@]}"; do
    SRC=$WORK/src.tif
    echo "generating $SIZE x $SIZE x 4 uint16 input"
    $PY - "$SRC" "$SIZE" <<'PYEOF'
import sys
import numpy as np
from osgeo import gdal
path, n = sys.argv[1], int(sys.argv[2])
ds = gdal.GetDriverByName("GTiff").Create(path, n, n, 4, gdal.GDT_UInt16,
                                          ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256",
                                           "BIGTIFF=IF_SAFER"])
ds.SetGeoTransform((500000, 10, 0, 6000000, 0, -10))
ds.SetProjection("EPSG:32633")
rng = np.random.default_rng(42)
for y in range(0, n, 1024):
    h = min(1024, n - y)
    ds.WriteRaster(0, y, n, h, rng.integers(1, 10001, (4, h, n), dtype=np.uint16).tobytes())
ds = None
PYEOF
    for task in ndvi ndvi_raw calc; do
        COMPRESS=ZSTD
        if [ $task = ndvi ] || [ $task = ndvi_raw ]; then
            # ndvi_raw: no compression, so that the window pipeline's own
            # cost (reading, arithmetic, tiling, overviews, statistics) shows
            [ $task = ndvi_raw ] && COMPRESS=NONE
            run eo "$EOPROC" --quiet index "$SRC" NDVI "$WORK/out_eo.tif" --bands R=3,N=4 \
                --compress "${COMPRESS,,}"
            CALC="(B.astype(float32)-A)/(B.astype(float32)+A)"
            ARGS="-A $SRC --A_band=3 -B $SRC --B_band=4"
        else
            run eo "$EOPROC" --quiet calc "$SRC" "$EXPR" "$WORK/out_eo.tif"
            CALC="(D.astype(float32)-C)/(D.astype(float32)+C+A)"
            ARGS="-A $SRC --A_band=1 -C $SRC --C_band=3 -D $SRC --D_band=4"
        fi
        T_EO=$BEST M_EO=$RSS C_EO=$CPU
        NS=$(awk -v t="$T_EO" -v s="$SIZE" 'BEGIN {printf "%.2f", t / (s * s) * 1e9}')
        CNS=$(awk -v t="$C_EO" -v s="$SIZE" 'BEGIN {printf "%.2f", t / (s * s) * 1e9}')
        [ -n "${FIRST_NS[$task]:-}" ] || FIRST_NS[$task]=$NS
        [ -n "${FIRST_CNS[$task]:-}" ] || FIRST_CNS[$task]=$CNS
        T_GC=0 M_GC=0 C_GC=0
        if [ "$GDAL" = 1 ]; then
            run gdal sh -c "gdal_calc.py --quiet $ARGS --type=Float32 --NoDataValue=-9999 \
                --calc='$CALC' --outfile=$WORK/out_gdal_tmp.tif &&
                gdal_translate -q -of COG -co COMPRESS=$COMPRESS -co STATISTICS=YES \
                $WORK/out_gdal_tmp.tif $WORK/out_gdal.tif && rm $WORK/out_gdal_tmp.tif"
            T_GC=$BEST M_GC=$RSS C_GC=$CPU
        fi
        # the outputs agree: eoproc bit for bit with numpy, gdal_calc within 1e-6
        $PY - "$WORK" "$SRC" "$task" "$GDAL" "$NP_EXPR" <<'PYEOF'
import sys
import numpy as np
from osgeo import gdal
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate
w, src, task, with_gdal, expr = sys.argv[1:6]
errors, warnings = validate(w + "/out_eo.tif", full_check=False)[:2]
assert errors == [] and warnings == [], (errors, warnings)
ds = gdal.Open(src)
a = gdal.Open(w + "/out_eo.tif")
band = a.GetRasterBand(1)
g = gdal.Open(w + "/out_gdal.tif") if with_gdal == "1" else None
n, step = ds.RasterYSize, 4096
for y in range(0, n, step):  # in stripes: memory stays small at 32768
    h = min(step, n - y)
    B1, B3, B4 = (ds.GetRasterBand(b).ReadAsArray(0, y, None, h).astype(np.float32)
                  for b in (1, 3, 4))
    with np.errstate(all="ignore"):
        want = eval(expr) if task == "calc" else (B4 - B3) / (B4 + B3)
    got = band.ReadAsArray(0, y, None, h)
    assert np.array_equal(got, want.astype(np.float32)), "eoproc and numpy differ"
    if with_gdal == "1":
        c = g.GetRasterBand(1).ReadAsArray(0, y, None, h)
        assert np.allclose(got, c, rtol=1e-6, atol=1e-7), "eoproc and gdal_calc differ"
print("outputs: a valid COG; eoproc == numpy (bit for bit)%s"
      % (", gdal_calc within 1e-6" if with_gdal == "1" else ""))
PYEOF
        line=$(awk -v s="$SIZE" -v task="$task" -v teo="$T_EO" -v tgc="$T_GC" -v meo="$M_EO" \
            -v mgc="$M_GC" -v ceo="$C_EO" -v cgc="$C_GC" -v ns="$NS" -v first="${FIRST_NS[$task]}" \
            -v cns="$CNS" -v cfirst="${FIRST_CNS[$task]}" 'BEGIN {
            printf "%-8s %6d^2  eoproc %7.2f s (%6.2f s CPU, %6.0f MiB, %5.2f ns/px", task, s, teo,
                ceo, meo / 1024, ns
            printf " %.2fx, CPU %5.2f ns/px %.2fx of the first size", ns / first, cns, cns / cfirst
            printf ")"
            if (tgc > 0) printf "  gdal_calc+gdal_translate %7.2f s (%6.2f s CPU, %6.0f MiB)  ratio %.2fx",
                tgc, cgc, mgc / 1024, teo / tgc
        }')
        echo "$line"
        REPORT+=("$line")
        # the README's table rows: NDVI and the band-math expression (ndvi_raw
        # is a diagnosis of the pipeline's own cost)
        if [ $task != ndvi_raw ]; then
            runs="best of $REPEAT"
            [ "$SIZE" -gt 8192 ] && runs="one run"
            what="NDVI (bands 3, 4)"
            [ $task = calc ] && what="band math \`$EXPR\`"
            tool="not run (GDAL=0)" ratio="" mem=$(bench_calc '%.0f MiB' "$M_EO / 1024")
            if [ "$GDAL" = 1 ]; then
                tool=$(bench_calc 'gdal_calc.py + gdal_translate -of COG %.2f s (%.2f CPU-s)' "$T_GC" "$C_GC")
                ratio=$(bench_calc '%.2fx' "$T_EO / $T_GC")
                mem=$(bench_calc '%.0f / %.0f MiB' "$M_EO / 1024" "$M_GC / 1024")
            fi
            args=""
            [ "$SIZE" = 8192 ] || args=" BUILD_DIR $SIZE"
            ROWS+=("$(bench_row "$what of a ${SIZE}² 4-band uint16 GeoTIFF (tiled 256, uncompressed, random values) into a float32 COG (ZSTD 9, 512 px tiles, overviews, statistics), $runs" \
                "$(bench_cmd indices.sh REPEAT GDAL)$args" "$(bench_calc '%.2f s (%.2f CPU-s)' "$T_EO" "$C_EO")" \
                "$tool" "$ratio" "$mem")")
        fi
        rm -f "$WORK"/out_*.tif
    done
    rm -f "$SRC"
done
echo
echo "float32 COG (512 px tiles, overviews, statistics; ZSTD level 9 but ndvi_raw: none) of a 4-band uint16 input:"
printf '%s\n' "${REPORT[@]}"
echo
printf '%s\n' "${ROWS[@]}"
