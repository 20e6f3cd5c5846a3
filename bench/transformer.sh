#!/usr/bin/env bash
# bench/transformer.sh - a SegFormer-style segmentation network (tests/infer/
# make_transformer_fixtures.py SegFormer: overlapping patch embedding,
# efficient self-attention, Mix-FFN, all-MLP decoder; ONNX opset 17 with
# LayerNormalization), input 1 x 3 x SIZE x SIZE, batch 1, in one run on one
# ONNX file:
#   eoproc (Python eoproc.Model)  vs  ONNX Runtime (onnxruntime-node,
#   intraOpNumThreads 2)  vs  PyTorch (torch.set_num_threads(2)),
# median latency of RUNS runs after a warm-up and each engine's peak memory
# (/usr/bin/time -v), then the ratios.
#
#   bash bench/transformer.sh          # RUNS=10 SIZE=512 by default
# Needs: a release build (build/release, or EOPROC_BUILD=dir), python3-torch
# and python3-onnx (scripts/deps.sh --optional), node + npm (onnxruntime-node
# is installed into bench/.work with npm install --ignore-scripts).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${EOPROC_BUILD:-$ROOT/build/release}
WORK=${BENCH_WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-10}
THREADS=2
SIZE=${SIZE:-512}
PY=/usr/bin/python3
# SegFormer-B0-like widths for the two stages kept here
export SEGFORMER_ARGS=${SEGFORMER_ARGS:-"dict(dims=(32, 64), heads=(1, 2), srs=(8, 4), classes=4)"}
mkdir -p "$WORK"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
MODEL=$WORK/segformer_${SIZE}.onnx
export BENCH_NET=segformer OPENBLAS_NUM_THREADS=$THREADS
export EOPROC_LIBRARY=$BUILD/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python
[ -f "$EOPROC_LIBRARY" ] || { echo "bench: build first (no $EOPROC_LIBRARY)" >&2; exit 1; }

if [ ! -f "$MODEL" ]; then
    echo "bench: exporting the SegFormer-style network to $MODEL"
    "$PY" - "$MODEL" "$SIZE" "$ROOT" <<'PYEOF' 2>/dev/null
import os, sys, torch
sys.path.insert(0, os.path.join(sys.argv[3], "tests", "infer"))
from make_transformer_fixtures import SegFormer
path, size = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
net = SegFormer(**eval(os.environ["SEGFORMER_ARGS"])).eval()
torch.save(net.state_dict(), path[:-5] + ".pt")
torch.onnx.export(net, torch.zeros(1, 3, size, size), path, opset_version=17,
                  input_names=["x"], output_names=["y"])
PYEOF
fi
# shellcheck source=bench/infer_common.sh
source "$ROOT/bench/infer_common.sh"
ort_setup
cc -O2 "$ROOT/bench/peak.c" -o "$WORK/peak" -lpthread
PEAK=$("$WORK/peak" "$THREADS")


RESULTS=$WORK/results_transformer.txt
: >"$RESULTS"
measure "eoproc" env -u OPENBLAS_CORETYPE "$PY" "$ROOT/bench/infer_run.py" eoproc "$MODEL" \
    "$RUNS" "$THREADS" | tee -a "$RESULTS"
# eoproc's BF16 path needs AVX512_BF16 (infer_run.py refuses to time FP32 under its name)
if grep -qw avx512_bf16 /proc/cpuinfo; then
    measure "eoproc-bf16" env -u OPENBLAS_CORETYPE BENCH_PRECISION=bf16 "$PY" \
        "$ROOT/bench/infer_run.py" eoproc "$MODEL" "$RUNS" "$THREADS" | tee -a "$RESULTS"
else
    echo "eoproc-bf16: not run (this CPU has no AVX512_BF16)"
fi
measure "onnxruntime" env -u OPENBLAS_CORETYPE node "$WORK/infer_ort.js" "$MODEL" "$RUNS" \
    "$THREADS" 3 "$SIZE" "$SIZE" | tee -a "$RESULTS"
measure "pytorch" env -u OPENBLAS_CORETYPE "$PY" "$ROOT/bench/infer_run.py" torch "$MODEL" \
    "$RUNS" "$THREADS" | tee -a "$RESULTS"

"$PY" - "$RESULTS" "$SIZE" "$PEAK" "$(bench_cmd transformer.sh RUNS SIZE)" "$RUNS" <<'PYEOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows[f[0]] = dict(zip(f[1::2], map(float, f[2::2])))
gflop = rows["eoproc"]["gflop"]
print("\nSegFormer-style 1x3x%s^2, %.2f GFLOP per run (convolutions and products), "
      "2 threads (median latency):" % (sys.argv[2], gflop))
for k, r in rows.items():
    print("  %-12s %9.1f ms  %6.1f GFLOP/s  peak RSS %5d MB  (CPU %.1f ms)" % (
        k, r["median_ms"], gflop / r["median_ms"] * 1e3, r["rss_mb"], r["cpu_ms"]))
peak = sys.argv[3].split()
print("  this CPU's peaks on 2 threads (bench/peak.c): FP32 FMA %s GFLOP/s, BF16 dot %s GFLOP/s"
      % (peak[1], peak[3]))
for k in ("eoproc", "eoproc-bf16"):
    if k not in rows:
        continue
    print("  %s / onnxruntime = %.2fx   %s / pytorch = %.2fx" % (
        k, rows[k]["median_ms"] / rows["onnxruntime"]["median_ms"],
        k, rows[k]["median_ms"] / rows["pytorch"]["median_ms"]))
# the README's table row (bench/all.sh): fp32, 2 threads
e, o, t = rows["eoproc"], rows["onnxruntime"], rows["pytorch"]
print("\nROW|SegFormer-style network (%s) inference, 1x3x%sx%s, batch 1, 2 threads, median of %d runs after "
      "a warm-up|%s|%.0f ms|ONNX Runtime (onnxruntime-node) %.0f ms, PyTorch %.0f ms|%.2fx / %.2fx"
      "|%d / %d / %d MiB (eoproc / ONNX Runtime / PyTorch processes)" % (
          __import__("os").environ["SEGFORMER_ARGS"], sys.argv[2], sys.argv[2], int(sys.argv[5]),
          sys.argv[4], e["median_ms"], o["median_ms"], t["median_ms"], e["median_ms"] / o["median_ms"],
          e["median_ms"] / t["median_ms"], e["rss_mb"], o["rss_mb"], t["rss_mb"]))
PYEOF
