#!/usr/bin/env bash
# bench/tilesrc.sh - rasters out of a tile pyramid: reading a 4096 x 4096
# region of an MBTiles file into memory through eoproc (eoproc.open_tiles +
# Dataset.read, i.e. eo_dataset_open_tiles + eo_dataset_read) against GDAL's
# MBTiles driver (gdal.Open + ReadAsArray of the same pixel window), in one
# run, each in its own Python process: wall time, ratio, peak RSS; then the
# same region written as an uncompressed COG, `eoproc tiles-read` against
# `gdal_translate -of COG` of the MBTiles file. Then a local {z}/{x}/{y}
# folder: an 8192 x 8192 region at zoom 18 read by eoproc (open_tiles + read)
# against GDAL's WMS driver (a <GDAL_WMS> TMS service whose ServerUrl is the
# folder's file:// template, ReadAsArray of the same window), same way.
#
# Input (made once in bench/.data/): an MBTiles file of 18 x 18 RGBA PNG tiles
# (256 px) at zoom 16, made from the Landsat scene L7_ETMs.tif (bands 3, 2, 1
# resampled to 4608 x 4608, cubic); the region read is the 16 x 16 tiles in
# its middle. Both readers decode the same PNG bytes: GDAL with libpng, eoproc
# with its own decoder (src/tiles/png_decode.c, libdeflate); PNG_DECODER=libpng
# makes eoproc use libpng too (eo_exp_png_decoder), to measure the decoder.
#
# Folder input (made once in bench/.data/): z18_xyz/, the 8192 x 8192 RGB bench
# scene (bench/make_rgb.py: Landsat bands 3, 2, 1, cubic, +-2 noise) cut into
# 32 x 32 RGB PNG tiles by GDAL's PNG driver; the region read is all of it.
#
#   [PNG_DECODER=libpng|eoproc] bash bench/tilesrc.sh [build dir, default build/release] [runs, default 3]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
RUNS=${2:-3}
CLI=$BUILD/eoproc
DATA=${EOPROC_DATA:-$ROOT/.cache/data}
WORK=$ROOT/bench/.data
PY=/usr/bin/python3
# shellcheck source=bench/gdal_wms.sh
. "$ROOT/bench/gdal_wms.sh"
mkdir -p "$WORK"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
printf 'load at start: %s\n' "$(uptime)"
[ -x "$CLI" ] || { echo "no $CLI: build first (scripts/test.sh or cmake)" >&2; exit 1; }
export EOPROC_LIBRARY=$BUILD/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python

MB=$WORK/l7_z16.mbtiles
Z=16 X0=22000 Y0=34000 # top-left tile of the 18 x 18 block
if [ ! -f "$MB" ]; then
    echo "making $MB"
    $PY - "$DATA/L7_ETMs.tif" "$MB" $Z $X0 $Y0 <<'EOF'
import math, sqlite3, sys
from osgeo import gdal
gdal.UseExceptions()
src, out, z, x0, y0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
img = gdal.Translate("", src, format="MEM", bandList=[3, 2, 1], width=4608, height=4608,
                     resampleAlg="cubic").ReadAsArray()
mem = gdal.GetDriverByName("MEM")
png = gdal.GetDriverByName("PNG")
db = sqlite3.connect(out + ".tmp")
db.execute("CREATE TABLE metadata (name text, value text)")
db.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
def lonlat(x, y):
    n = 2 ** z
    return x / n * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
w, n = lonlat(x0, y0)
e, s = lonlat(x0 + 18, y0 + 18)
for k, v in (("name", "l7"), ("format", "png"), ("minzoom", str(z)), ("maxzoom", str(z)),
             ("bounds", "%.10f,%.10f,%.10f,%.10f" % (w, s, e, n))):
    db.execute("INSERT INTO metadata VALUES (?, ?)", (k, v))
for j in range(18):
    for i in range(18):
        t = mem.Create("", 256, 256, 4)
        for b in range(3):
            t.GetRasterBand(b + 1).WriteArray(img[b, j * 256:(j + 1) * 256, i * 256:(i + 1) * 256])
        t.GetRasterBand(4).Fill(255)
        name = "/vsimem/t.png"
        png.CreateCopy(name, t)
        f = gdal.VSIFOpenL(name, "rb"); gdal.VSIFSeekL(f, 0, 2); size = gdal.VSIFTellL(f)
        gdal.VSIFSeekL(f, 0, 0); data = gdal.VSIFReadL(1, size, f); gdal.VSIFCloseL(f)
        gdal.Unlink(name)
        db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x0 + i, 2 ** z - 1 - (y0 + j), data))
db.commit()
db.close()
import os; os.replace(out + ".tmp", out)
EOF
fi

# the region: tiles X0+1..X0+16, Y0+1..Y0+16, in EPSG:3857
read -r XMIN YMIN XMAX YMAX <<<"$($PY -c "
import math
o = math.pi * 6378137; s = 2 * o / 2 ** $Z
print(-o + ($X0 + 1) * s, o - ($Y0 + 17) * s, -o + ($X0 + 17) * s, o - ($Y0 + 1) * s)")"

# the PNG decoder of the eoproc runs (the default: eoproc's own)
PICK_DECODER="import ctypes; from eoproc import _lib; _f = _lib.lib.eo_exp_png_decoder; _f.argtypes = [ctypes.c_char_p]; assert _f(b'${PNG_DECODER:-eoproc}') == 1"
printf 'eoproc PNG decoder: %s\n' "${PNG_DECODER:-eoproc}"
cat >"$WORK/tilesrc_eo.py" <<EOF
import time, eoproc
$PICK_DECODER
t = time.perf_counter()
with eoproc.open_tiles("$MB", $Z, bbox=($XMIN, $YMIN, $XMAX, $YMAX), bbox_crs="EPSG:3857") as ds:
    a = ds.read()
print("%.3f %d %d" % (time.perf_counter() - t, a.shape[1], int(a[:, ::7, ::7].sum())))
EOF
cat >"$WORK/tilesrc_gdal.py" <<EOF
import time
from osgeo import gdal
gdal.UseExceptions()
t = time.perf_counter()
d = gdal.Open("$MB")
gt = d.GetGeoTransform()
x = round(($XMIN - gt[0]) / gt[1]); y = round(($YMAX - gt[3]) / gt[5])
a = d.ReadAsArray(x, y, 4096, 4096)
print("%.3f %d %d" % (time.perf_counter() - t, a.shape[1], int(a[:, ::7, ::7].sum())))
EOF

peak() { grep 'Maximum resident' "$1" | awk '{printf "%.0f", $6/1024}'; }
wall() { awk '/Elapsed \(wall/ {n = split($NF, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$1"; }
cpu() { awk '/(User|System) time/ {s += $NF} END {printf "%.2f", s}' "$1"; }
best() { sort -n | head -n 1; }

# race TAG EO_SCRIPT GDAL_SCRIPT GDAL_LABEL: RUNS alternating runs of both
# scripts, each in its own process; the best process wall time of each, with
# the read time and peak RSS of that run; the pixel checksums must agree
race() {
    local tag=$1 eo=$2 gd=$3 label=$4 ew er em ec gw gr gm gc
    : >"$WORK/eo$tag.walls"
    : >"$WORK/gdal$tag.walls"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -v $PY "$eo" >"$WORK/eo$tag.out" 2>"$WORK/eo$tag.time"
        /usr/bin/time -v $PY "$gd" >"$WORK/gdal$tag.out" 2>"$WORK/gdal$tag.time"
        for k in eo gdal; do
            echo "$(wall "$WORK/$k$tag.time") $(cut -d' ' -f1 "$WORK/$k$tag.out") $(peak "$WORK/$k$tag.time") $(cpu "$WORK/$k$tag.time")" \
                >>"$WORK/$k$tag.walls"
        done
        [ "$(cut -d' ' -f2- "$WORK/eo$tag.out")" = "$(cut -d' ' -f2- "$WORK/gdal$tag.out")" ] ||
            { echo "the pixels differ: eoproc $(cat "$WORK/eo$tag.out"), GDAL $(cat "$WORK/gdal$tag.out")" >&2; exit 1; }
    done
    read -r ew er em ec <<<"$(best <"$WORK/eo$tag.walls")"
    read -r gw gr gm gc <<<"$(best <"$WORK/gdal$tag.walls")"
    printf '%-40s %8s %10s %10s %9s\n' "" "process" "read only" "peak RSS" "CPU"
    printf '%-40s %7.2fs %9.3fs %7s MiB %8.2fs\n' "eoproc (open_tiles + read)" "$ew" "$er" "$em" "$ec"
    printf '%-40s %7.2fs %9.3fs %7s MiB %8.2fs\n' "$label" "$gw" "$gr" "$gm" "$gc"
    printf 'ratio eoproc / GDAL: %.2fx (process), %.2fx (read only), %.2fx (CPU); same pixels (checksum)\n' \
        "$(echo "$ew / $gw" | bc -l)" "$(echo "$er / $gr" | bc -l)" "$(echo "$ec / $gc" | bc -l)"
    printf -v "RACE$tag" '%s' "$ew $er $em $ec $gw $gr $gm $gc" # for the table rows at the end
}

printf '\n== read a 4096 x 4096 RGBA region of %s (zoom %s), best of %s\n' "$(basename "$MB")" $Z "$RUNS"
race "" "$WORK/tilesrc_eo.py" "$WORK/tilesrc_gdal.py" "GDAL MBTiles driver (ReadAsArray)"

printf '\n== the same region to an uncompressed COG (CLI), one run\n'
rm -f "$WORK/eo_region.tif" "$WORK/gdal_region.tif"
/usr/bin/time -v "$CLI" tiles-read "$MB" "$WORK/eo_region.tif" --zoom $Z --crs EPSG:3857 \
    --bbox "$XMIN,$YMIN,$XMAX,$YMAX" --compress none --quiet >/dev/null 2>"$WORK/eo_cog.time"
/usr/bin/time -v gdal_translate -q -of COG -co COMPRESS=NONE -co BLOCKSIZE=512 \
    -projwin "$XMIN" "$YMAX" "$XMAX" "$YMIN" "$MB" "$WORK/gdal_region.tif" 2>"$WORK/gdal_cog.time"
ecw=$(wall "$WORK/eo_cog.time")
gcw=$(wall "$WORK/gdal_cog.time")
printf '%-44s %7.2fs %7s MiB\n' "eoproc tiles-read --compress none" "$ecw" "$(peak "$WORK/eo_cog.time")"
printf '%-44s %7.2fs %7s MiB\n' "gdal_translate -of COG -co COMPRESS=NONE" "$gcw" "$(peak "$WORK/gdal_cog.time")"
printf 'ratio eoproc / GDAL: %.2fx\n' "$(echo "$ecw / $gcw" | bc -l)"

# ---- a local XYZ folder at zoom 18 against GDAL's WMS driver ----------------
FOLDER=$WORK/z18_xyz
FZ=18 FX0=158400 FY0=81900 FN=32 # top-left tile and tiles per side
if [ ! -f "$FOLDER/done" ]; then
    echo "making $FOLDER"
    rm -rf "$FOLDER"
    [ -f "$WORK/rgb_8192.tif" ] ||
        $PY "$ROOT/bench/make_rgb.py" "$DATA/L7_ETMs.tif" "$WORK/rgb_8192.tif" 8192
    $PY - "$WORK/rgb_8192.tif" "$FOLDER" $FZ $FX0 $FY0 $FN <<'EOF'
import os, sys
from osgeo import gdal
gdal.UseExceptions()
src, out, z, x0, y0, n = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
ds = gdal.Open(src)
mem, png = gdal.GetDriverByName("MEM"), gdal.GetDriverByName("PNG")
for i in range(n):
    d = os.path.join(out, str(z), str(x0 + i))
    os.makedirs(d, exist_ok=True)
    for j in range(n):
        a = ds.ReadAsArray(i * 256, j * 256, 256, 256)
        t = mem.Create("", 256, 256, 3)
        for b in range(3):
            t.GetRasterBand(b + 1).WriteArray(a[b])
        png.CreateCopy(os.path.join(d, "%d.png" % (y0 + j)), t)
open(os.path.join(out, "done"), "w").close()
EOF
fi
gdal_wms_xml "$FOLDER" $FZ 3 >"$WORK/z18_wms.xml"
read -r FXMIN FYMIN FXMAX FYMAX <<<"$($PY -c "
import math
o = math.pi * 6378137; s = 2 * o / 2 ** $FZ
print(repr(-o + $FX0 * s), repr(o - ($FY0 + $FN) * s), repr(-o + ($FX0 + $FN) * s), repr(o - $FY0 * s))")"
FPX=$((FN * 256))
cat >"$WORK/tilesrc_folder_eo.py" <<EOF
import time, eoproc
$PICK_DECODER
t = time.perf_counter()
with eoproc.open_tiles("$FOLDER", $FZ, bbox=($FXMIN, $FYMIN, $FXMAX, $FYMAX), bbox_crs="EPSG:3857") as ds:
    a = ds.read()
print("%.3f %d %d %d" % (time.perf_counter() - t, a.shape[1], a.shape[2], int(a[:3, ::7, ::7].sum())))
EOF
cat >"$WORK/tilesrc_folder_gdal.py" <<EOF
import time
from osgeo import gdal
gdal.UseExceptions()
t = time.perf_counter()
d = gdal.Open("$WORK/z18_wms.xml")
a = d.ReadAsArray($FX0 * 256, $FY0 * 256, $FPX, $FPX)
print("%.3f %d %d %d" % (time.perf_counter() - t, a.shape[1], a.shape[2], int(a[:3, ::7, ::7].sum())))
EOF
printf '\n== read a %d x %d RGB region of a zoom-%d XYZ folder (%d PNG tiles), best of %s\n' \
    $FPX $FPX $FZ $((FN * FN)) "$RUNS"
race _f "$WORK/tilesrc_folder_eo.py" "$WORK/tilesrc_folder_gdal.py" "GDAL WMS driver, file:// (ReadAsArray)"
printf 'load: %s\n' "$(uptime)"

# the README's table rows: the read time (open included) in a fresh process,
# the process's wall time beside it
# tilesrc_row WHAT RACE_FIGURES TOOL
tilesrc_row() {
    local ew er em ec gw gr gm gc
    read -r ew er em ec gw gr gm gc <<<"$2"
    bench_row "$1, best of $RUNS" "$(bench_cmd tilesrc.sh)$([ "$RUNS" = 3 ] || echo " BUILD_DIR $RUNS")" \
        "$(bench_calc '%.2f s read (process %.2f s), %.2f CPU-s' "$er" "$ew" "$ec")" \
        "$(bench_calc "$3 %.2f s read (process %.2f s), %.2f CPU-s" "$gr" "$gw" "$gc")" \
        "$(bench_calc '%.2fx (process %.2fx, CPU %.2fx)' "$er / $gr" "$ew / $gw" "$ec / $gc")" "$em / $gm MiB"
}
echo
tilesrc_row "read a 4096² RGBA region of an MBTiles pyramid (16 x 16 PNG tiles of zoom 16 from the Landsat scene) into a numpy array" \
    "$RACE" "GDAL's MBTiles driver (ReadAsArray)"
tilesrc_row "read an ${FPX}² RGB region of a zoom-$FZ XYZ folder ($((FN * FN)) PNG tiles of the 8192² RGB bench scene) into a numpy array" \
    "$RACE_f" "GDAL's WMS driver over \`file://\` (ReadAsArray)"
