#!/usr/bin/env bash
# bench/segment.sh - sliding-window segmentation of a large raster, in one
# run on one network: eoproc segment (ONNX export) against a PyTorch
# sliding-window script (bench/segment_torch.py: GDAL read, tiles, torch,
# the same blending weights, GDAL write), both with THREADS threads, tile
# 512, overlap 64, batch 2. The network is the demo model's architecture
# (scripts/train_demo_model.py UNet) with fixed random weights, so both
# tools run the very same weights. Prints each tool's wall time, ratio, peak
# memory (/usr/bin/time -v) and the largest difference between their
# probabilities.
#
#   bash bench/segment.sh          # SIZE=2048 THREADS=2 by default
# Needs: a release build (build/release or EOPROC_BUILD=dir), python3-torch
# (scripts/deps.sh --optional).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${EOPROC_BUILD:-$ROOT/build/release}
WORK=${BENCH_WORK:-$ROOT/.cache/bench-segment}
SIZE=${SIZE:-2048}
THREADS=${THREADS:-2}
PY=/usr/bin/python3
mkdir -p "$WORK"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
[ -x "$BUILD/eoproc" ] || { echo "bench: build first (no $BUILD/eoproc)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=$THREADS

SRC=$WORK/segment_scene_$SIZE.tif
MODEL=$WORK/segment_unet
"$PY" - "$ROOT" "$SRC" "$SIZE" "$MODEL" <<'PYEOF' 2>/dev/null
import os, sys
import numpy as np
import torch
from osgeo import gdal
root, src, size, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, os.path.join(root, "models"))
sys.path.insert(0, os.path.join(root, "scripts"))
import synth_scene
from train_demo_model import UNet
if not os.path.exists(src):
    tiles = [synth_scene.render_scene(synth_scene.HELD_OUT_SEED + 100 + k, 512)[0] for k in range(4)]
    row = [np.concatenate(tiles[:2], 1), np.concatenate(tiles[2:], 1)]
    block = np.concatenate(row, 0)
    img = np.tile(block, (size // 1024 + 1, size // 1024 + 1, 1))[:size, :size]
    ds = gdal.GetDriverByName("GTiff").Create(src, size, size, 3, gdal.GDT_Byte,
                                              ["TILED=YES", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform([500000, 0.5, 0, 9100000, 0, -0.5])
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(img[..., b])
    ds = None
torch.manual_seed(0)
net = UNet().eval()
torch.save(net.state_dict(), model + ".pt")
torch.onnx.export(net, torch.zeros(1, 3, 128, 128), model + ".onnx", opset_version=13,
                  input_names=["image"], output_names=["building"],
                  dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "building": {0: "n", 2: "h", 3: "w"}})
PYEOF

# measure LABEL CMD... -> wall seconds and peak RSS (MiB) of CMD
measure() {
    local label=$1 t0 t1 rss
    shift
    t0=$(date +%s.%N)
    /usr/bin/time -v "$@" >"$WORK/$label.out" 2>"$WORK/$label.time"
    t1=$(date +%s.%N)
    rss=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$WORK/$label.time")
    echo "$label $(echo "$t1 - $t0" | bc) $((rss / 1024))"
}

echo "input: $SIZE x $SIZE x 3 uint8, tile 512, overlap 64, batch 2, $THREADS threads"
echo "$ $BUILD/eoproc segment $MODEL.onnx $SRC $WORK/seg_eoproc.tif --tile 512 --overlap 64 --batch 2 --scale 1/255 --threads $THREADS --quiet"
E=$(measure eoproc "$BUILD/eoproc" segment "$MODEL.onnx" "$SRC" "$WORK/seg_eoproc.tif" \
    --tile 512 --overlap 64 --batch 2 --scale 1/255 --threads "$THREADS" --quiet)
echo "$ $PY bench/segment_torch.py $MODEL.pt $SRC $WORK/seg_torch.tif 512 64 $THREADS"
T=$(measure torch "$PY" "$ROOT/bench/segment_torch.py" "$MODEL.pt" "$SRC" "$WORK/seg_torch.tif" 512 64 \
    "$THREADS")
read -r _ ew er <<<"$E"
read -r _ tw tr <<<"$T"
printf 'eoproc segment : %6.1f s  peak RSS %5d MiB\n' "$ew" "$er"
printf 'PyTorch script : %6.1f s  peak RSS %5d MiB\n' "$tw" "$tr"
printf 'eoproc / PyTorch wall time: %.2fx, memory: %.2fx\n' "$(echo "$ew / $tw" | bc -l)" \
    "$(echo "$er / $tr" | bc -l)"
"$PY" -c '
import sys
import numpy as np
from osgeo import gdal
a = gdal.Open(sys.argv[1]).ReadAsArray()
b = gdal.Open(sys.argv[2]).ReadAsArray()
print("max |eoproc - PyTorch| probability difference: %.2e" % np.abs(a - b).max())
' "$WORK/seg_eoproc.tif" "$WORK/seg_torch.tif"

echo
bench_row "segment a ${SIZE}² RGB uint8 scene (tiled, DEFLATE; synthetic scenes) with the demo U-Net's architecture (fixed random weights), tile 512, overlap 64, batch 2, $THREADS threads, probability + class rasters out; one run" \
    "$(bench_cmd segment.sh SIZE THREADS)" "$(bench_calc 'eoproc segment %.1f s' "$ew")" \
    "$(bench_calc 'PyTorch sliding window (GDAL read/write) %.1f s' "$tw")" \
    "$(bench_calc '%.2fx' "$ew / $tw")" "$er / $tr MiB"
