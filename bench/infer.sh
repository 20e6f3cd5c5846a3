#!/usr/bin/env bash
# bench/infer.sh - the inference benchmark of issue 7, in one run on one
# ONNX file: a plain U-Net (tests/infer/make_fixtures.py UNet, base 32
# channels, 4 levels), input 1 x 3 x 512 x 512, batch 1, 2 threads:
#   eoproc (Python eoproc.Model)  vs  PyTorch (torch.set_num_threads(2))
#   vs  ONNX Runtime (onnxruntime-node, intraOpNumThreads 2),
# median latency of RUNS runs after a warm-up, each engine's peak memory
# (/usr/bin/time -v), eoproc's achieved GFLOP/s beside OpenBLAS sgemm's on a
# 2048^3 product; eoproc and sgemm with OPENBLAS_CORETYPE unset (OpenBLAS
# picks the kernel for this CPU) and set to Haswell (what this machine's
# environment exports); then each engine on 1 thread, with its median CPU
# time per run (steadier than wall time on a shared machine).
#
#   bash bench/infer.sh            # RUNS=10 SIZE=512 BASE=32 by default
# then the SegFormer-style network (bench/transformer.sh) in the same run,
# unless INFER_SEGFORMER=0.
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
BASE=${BASE:-32}
PY=/usr/bin/python3
mkdir -p "$WORK"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
MODEL=$WORK/unet${BASE}_${SIZE}.onnx
export UNET_BASE=$BASE UNET_SIZE=$SIZE OPENBLAS_NUM_THREADS=$THREADS
export EOPROC_LIBRARY=$BUILD/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python
[ -f "$EOPROC_LIBRARY" ] || { echo "bench: build first (no $EOPROC_LIBRARY)" >&2; exit 1; }

if [ ! -f "$MODEL" ]; then
    echo "bench: exporting the plain U-Net to $MODEL"
    "$PY" - "$MODEL" "$BASE" "$SIZE" "$ROOT" <<'PYEOF' 2>/dev/null
import os, sys, torch
sys.path.insert(0, os.path.join(sys.argv[4], "tests", "infer"))
from make_fixtures import UNet
path, base, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
net = UNet(base=base).eval()
torch.save(net.state_dict(), path[:-5] + ".pt")
torch.onnx.export(net, torch.zeros(1, 3, size, size), path, opset_version=17,
                  input_names=["x"], output_names=["y"])
PYEOF
fi
# shellcheck source=bench/infer_common.sh
source "$ROOT/bench/infer_common.sh"
ort_setup
cc -O2 "$ROOT/bench/sgemm.c" -o "$WORK/sgemm" $(pkg-config --cflags --libs openblas)
cc -O2 "$ROOT/bench/peak.c" -o "$WORK/peak" -lpthread
PEAK=$("$WORK/peak" "$THREADS")


RESULTS=$WORK/results.txt
: >"$RESULTS"
for core in unset Haswell; do
    if [ "$core" = unset ]; then E=(env -u OPENBLAS_CORETYPE); else E=(env OPENBLAS_CORETYPE=Haswell); fi
    "${E[@]}" "$WORK/sgemm" 2048 5 | sed "s/^/[$core] /"
    measure "eoproc[$core]" "${E[@]}" "$PY" "$ROOT/bench/infer_run.py" eoproc "$MODEL" "$RUNS" \
        "$THREADS" | tee -a "$RESULTS"
done
# eoproc's BF16 path needs AVX512_BF16 (infer_run.py refuses to time FP32 under its name)
if grep -qw avx512_bf16 /proc/cpuinfo; then
    measure "eoproc-bf16" env -u OPENBLAS_CORETYPE BENCH_PRECISION=bf16 "$PY" \
        "$ROOT/bench/infer_run.py" eoproc "$MODEL" "$RUNS" "$THREADS" | tee -a "$RESULTS"
else
    echo "eoproc-bf16: not run (this CPU has no AVX512_BF16)"
fi
measure "pytorch" env -u OPENBLAS_CORETYPE "$PY" "$ROOT/bench/infer_run.py" torch "$MODEL" \
    "$RUNS" "$THREADS" | tee -a "$RESULTS"
measure "onnxruntime" env -u OPENBLAS_CORETYPE node "$WORK/infer_ort.js" "$MODEL" "$RUNS" \
    "$THREADS" 3 "$SIZE" "$SIZE" | tee -a "$RESULTS"
# One thread each: the process CPU time per run is what the other jobs on a
# shared machine disturb least (no engine spins idle threads then).
RESULTS1=$WORK/results1.txt
: >"$RESULTS1"
measure "eoproc[unset]" env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 "$PY" \
    "$ROOT/bench/infer_run.py" eoproc "$MODEL" "$RUNS" 1 | tee -a "$RESULTS1"
if grep -qw avx512_bf16 /proc/cpuinfo; then
    measure "eoproc-bf16" env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 BENCH_PRECISION=bf16 \
        "$PY" "$ROOT/bench/infer_run.py" eoproc "$MODEL" "$RUNS" 1 | tee -a "$RESULTS1"
fi
measure "pytorch" env -u OPENBLAS_CORETYPE "$PY" "$ROOT/bench/infer_run.py" torch "$MODEL" \
    "$RUNS" 1 | tee -a "$RESULTS1"
measure "onnxruntime" env -u OPENBLAS_CORETYPE node "$WORK/infer_ort.js" "$MODEL" "$RUNS" 1 3 \
    "$SIZE" "$SIZE" | tee -a "$RESULTS1"

"$PY" - "$RESULTS" "$RESULTS1" "$PEAK" "$(bench_cmd infer.sh RUNS SIZE BASE)" "$RUNS" <<'PYEOF'
import sys
def load(path):
    rows = {}
    for line in open(path):
        f = line.split()
        rows[f[0]] = dict(zip(f[1::2], map(float, f[2::2])))
    return rows
rows, rows1 = load(sys.argv[1]), load(sys.argv[2])
gflop = rows["eoproc[unset]"]["gflop"]
print("\nplain U-Net 1x3x%s, %.1f GFLOP per run, 2 threads (median latency):" % (
    __import__("os").environ.get("UNET_SIZE", "512") + "^2", gflop))
for k, r in rows.items():
    print("  %-18s %9.1f ms  %6.1f GFLOP/s  peak RSS %5d MB  (CPU %.1f ms)" % (
        k, r["median_ms"], gflop / r["median_ms"] * 1e3, r["rss_mb"], r["cpu_ms"]))
peak = sys.argv[3].split()
print("  this CPU's peaks on 2 threads (bench/peak.c): FP32 FMA %s GFLOP/s, BF16 dot %s GFLOP/s, "
      "AMX-BF16 tiles %s GFLOP/s" % (peak[1], peak[3], peak[5] if len(peak) > 5 else "0"))
for k in ("eoproc[unset]", "eoproc[Haswell]", "eoproc-bf16"):
    if k not in rows:
        continue
    print("  %s / onnxruntime = %.2fx   %s / pytorch = %.2fx" % (
        k, rows[k]["median_ms"] / rows["onnxruntime"]["median_ms"],
        k, rows[k]["median_ms"] / rows["pytorch"]["median_ms"]))
print("\n1 thread, median CPU time per run (user + system):")
for k, r in rows1.items():
    print("  %-18s %9.1f ms  %6.1f GFLOP/s   (wall %.1f ms)" % (
        k, r["cpu_ms"], gflop / r["cpu_ms"] * 1e3, r["median_ms"]))
for k in ("eoproc[unset]", "eoproc-bf16"):
    if k in rows1:
        print("  %s / onnxruntime = %.2fx   %s / pytorch = %.2fx" % (
            k, rows1[k]["cpu_ms"] / rows1["onnxruntime"]["cpu_ms"],
            k, rows1[k]["cpu_ms"] / rows1["pytorch"]["cpu_ms"]))
# the README's table row (bench/all.sh): 2 threads, OPENBLAS_CORETYPE unset
e, o, t = rows["eoproc[unset]"], rows["onnxruntime"], rows["pytorch"]
env = __import__("os").environ
size = env.get("UNET_SIZE", "512")
print("\nROW|plain U-Net (%s base channels, 4 levels) inference, 1x3x%sx%s, batch 1, 2 threads, median of %d "
      "runs after a warm-up|%s|%.0f ms|ONNX Runtime (onnxruntime-node) %.0f ms, PyTorch %.0f ms|%.2fx / %.2fx"
      "|%d / %d / %d MiB (eoproc / ONNX Runtime / PyTorch processes)" % (
          env.get("UNET_BASE", "32"), size, size, int(sys.argv[5]), sys.argv[4],
          e["median_ms"], o["median_ms"], t["median_ms"], e["median_ms"] / o["median_ms"],
          e["median_ms"] / t["median_ms"], e["rss_mb"], o["rss_mb"], t["rss_mb"]))
PYEOF

# The SegFormer-style network in the same run (bench/transformer.sh: the same
# engines, FP32 and BF16, its own ROW line); INFER_SEGFORMER=0 skips it
# (bench/all.sh runs transformer.sh as a row of its own).
if [ "${INFER_SEGFORMER:-1}" != 0 ]; then
    echo
    EOPROC_BUILD=$BUILD BENCH_WORK=$WORK bash "$ROOT/bench/transformer.sh"
fi
