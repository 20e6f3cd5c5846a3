#!/usr/bin/env bash
# bench/indices.sh - NDVI of an 8192 x 8192 4-band uint16 GeoTIFF to float32,
# by eoproc, by gdal_calc.py and by numpy reading and writing through GDAL, in
# one run on the same input; prints each one's wall time, peak memory, the
# ratios, and the bytes moved per second beside a plain memory copy measured
# in the same run.
#
#   bash bench/indices.sh [BUILD_DIR] [SIZE]     (default build/release, 8192)
#
# The input is generated with GDAL (tiled 256 x 256, pixel-interleaved,
# uncompressed, random uint16 in 0..10000 for red and NIR). All three
# write a tiled (256 x 256) uncompressed float32 GeoTIFF with nodata -9999
# where red + NIR is 0. Runs are repeated (REPEAT, default 3) and the best
# wall time of each is kept; the page cache is warm for everyone.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
SIZE=${2:-8192}
REPEAT=${REPEAT:-3}
PY=/usr/bin/python3
WORK=${BENCH_DIR:-$(mktemp -d /tmp/eoproc-bench-indices.XXXXXX)}
trap 'rm -rf "$WORK"' EXIT
EOPROC=$BUILD/eoproc
[ -x "$EOPROC" ] || { echo "bench: build eoproc first ($EOPROC not found)" >&2; exit 1; }
command -v gdal_calc.py >/dev/null || { echo "bench: gdal_calc.py not found (gdal-bin)" >&2; exit 1; }

SRC=$WORK/src.tif
echo "generating $SIZE x $SIZE x 4 uint16 input: $SRC"
$PY - "$SRC" "$SIZE" <<'PYEOF'
import sys
import numpy as np
from osgeo import gdal
path, n = sys.argv[1], int(sys.argv[2])
ds = gdal.GetDriverByName("GTiff").Create(path, n, n, 4, gdal.GDT_UInt16,
                                          ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
ds.SetGeoTransform((500000, 10, 0, 6000000, 0, -10))
ds.SetProjection("EPSG:32633")
rng = np.random.default_rng(42)
for y in range(0, n, 1024):
    h = min(1024, n - y)
    for b in range(1, 5):
        ds.GetRasterBand(b).WriteArray(rng.integers(0, 10001, (h, n), dtype=np.uint16), 0, y)
ds = None
PYEOF

cat >"$WORK/np_ndvi.py" <<'PYEOF'
import sys
import numpy as np
from osgeo import gdal
src, out = sys.argv[1], sys.argv[2]
ds = gdal.Open(src)
r = ds.GetRasterBand(3).ReadAsArray().astype(np.float32)
n = ds.GetRasterBand(4).ReadAsArray().astype(np.float32)
den = n + r
with np.errstate(divide="ignore", invalid="ignore"):
    v = (n - r) / den
v[den == 0] = -9999
o = gdal.GetDriverByName("GTiff").Create(out, ds.RasterXSize, ds.RasterYSize, 1, gdal.GDT_Float32,
                                         ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
o.SetGeoTransform(ds.GetGeoTransform())
o.SetProjection(ds.GetProjection())
o.GetRasterBand(1).SetNoDataValue(-9999)
o.GetRasterBand(1).WriteArray(v)
o = None
PYEOF

# run NAME CMD... -> best wall seconds in $BEST (user + system CPU seconds
# of that run in $CPU), peak RSS (KiB) in $RSS
run() {
    local name=$1 best="" rss=0 i t m c cpu=""
    shift
    for ((i = 0; i < REPEAT; i++)); do
        rm -f "$WORK/out_$name.tif"
        /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err.txt" ||
            { cat "$WORK/err.txt" >&2; exit 1; }
        t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(k=1;k<=n;k++) s=s*60+a[k]; print s}' "$WORK/time.txt")
        m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
        c=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$WORK/time.txt")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then
            best=$t
            cpu=$c
        fi
        [ "$m" -gt "$rss" ] && rss=$m
    done
    BEST=$best
    CPU=$cpu
    RSS=$rss
}

echo "runs: best of $REPEAT; threads: eoproc uses all CPUs ($(nproc))"
run eoproc "$EOPROC" --quiet index "$SRC" NDVI "$WORK/out_eoproc.tif" --bands R=3,N=4
T_EO=$BEST M_EO=$RSS C_EO=$CPU
run numpy $PY "$WORK/np_ndvi.py" "$SRC" "$WORK/out_numpy.tif"
T_NP=$BEST M_NP=$RSS C_NP=$CPU
run gdal_calc gdal_calc.py --quiet -A "$SRC" --A_band=3 -B "$SRC" --B_band=4 --type=Float32 \
    --NoDataValue=-9999 --co=TILED=YES --co=BLOCKXSIZE=256 --co=BLOCKYSIZE=256 \
    --calc="where((A.astype(float32)+B)==0, -9999, (B.astype(float32)-A)/(B.astype(float32)+A))" \
    --outfile="$WORK/out_gdal_calc.tif"
T_GC=$BEST M_GC=$RSS C_GC=$CPU

# the three outputs agree (eoproc and numpy bit for bit)
$PY - "$WORK" <<'PYEOF'
import sys
import numpy as np
from osgeo import gdal
w = sys.argv[1]
a = gdal.Open(w + "/out_eoproc.tif").ReadAsArray()
b = gdal.Open(w + "/out_numpy.tif").ReadAsArray()
c = gdal.Open(w + "/out_gdal_calc.tif").ReadAsArray()
assert np.array_equal(a, b), "eoproc and numpy differ"
assert np.allclose(a, c, rtol=1e-6, atol=1e-7), "eoproc and gdal_calc differ"
print("outputs: eoproc == numpy (bit for bit), gdal_calc within 1e-6")
PYEOF

# memory copy bandwidth in this run (numpy copyto = memcpy), 512 MiB, best of 5
MEMCPY=$($PY -c "
import time, numpy as np
a = np.ones(1 << 27, np.float32); b = np.empty_like(a); best = 1e9
for _ in range(5):
    t = time.perf_counter(); np.copyto(b, a); best = min(best, time.perf_counter() - t)
print(a.nbytes * 2 / best)")  # bytes read + written

BYTES=$((SIZE * SIZE * (2 * 2 + 4)))  # two uint16 bands read, one float32 band written
awk -v s="$SIZE" -v teo="$T_EO" -v tnp="$T_NP" -v tgc="$T_GC" -v meo="$M_EO" -v mnp="$M_NP" \
    -v mgc="$M_GC" -v bytes="$BYTES" -v mc="$MEMCPY" -v ceo="$C_EO" -v cnp="$C_NP" \
    -v cgc="$C_GC" 'BEGIN {
    printf "\nNDVI of %d x %d (uint16 -> float32): wall time, CPU time (user + sys), peak RSS\n", s, s
    printf "  %-10s %8.2f s  %8.2f s CPU  %8.0f MiB\n", "eoproc", teo, ceo, meo / 1024
    printf "  %-10s %8.2f s  %8.2f s CPU  %8.0f MiB\n", "numpy", tnp, cnp, mnp / 1024
    printf "  %-10s %8.2f s  %8.2f s CPU  %8.0f MiB\n", "gdal_calc", tgc, cgc, mgc / 1024
    printf "ratio eoproc / numpy: %.2fx   eoproc / gdal_calc: %.2fx\n", teo / tnp, teo / tgc
    printf "bytes moved (R + N read, NDVI written): %.0f MiB\n", bytes / 1048576
    printf "  eoproc %.2f GB/s, numpy %.2f GB/s, gdal_calc %.2f GB/s; memcpy %.2f GB/s (read + write)\n",
        bytes / teo / 1e9, bytes / tnp / 1e9, bytes / tgc / 1e9, mc / 1e9
}'
