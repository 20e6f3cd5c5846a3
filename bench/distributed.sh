#!/usr/bin/env bash
# bench/distributed.sh - eoproc.distributed's fan-outs (zonal statistics of
# many features, a time series of many dates, the detect job over a
# rendered zoom-18 pyramid) on a Dask LocalCluster of 1 and
# of 2 worker processes against the serial eoproc call, in one run: times,
# speed-up, overhead and peak memory (bench/dask_fanout.py says how).
#
#   bash bench/distributed.sh [BUILD_DIR]      # default build/release
# Environment: BENCH_DIR (default /tmp/eoproc-bench-distributed), BENCH_SIZE
#   (the raster's side, default 8192), FEATURES (default 5000), DATES (24).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
W=${BENCH_DIR:-/tmp/eoproc-bench-distributed}
N=${BENCH_SIZE:-8192}
DATA=${EOPROC_DATA:-$ROOT/.cache/data}
[ -f "$BUILD/libeoproc.so.1" ] || { echo "no library in $BUILD: build first" >&2; exit 1; }
mkdir -p "$W"
IN=$W/rgb_$N.tif
[ -f "$IN" ] || /usr/bin/python3 "$ROOT/bench/make_rgb.py" "$DATA/L7_ETMs.tif" "$IN" "$N"
EOPROC_LIBRARY=$BUILD/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python \
    /usr/bin/python3 "$ROOT/bench/dask_fanout.py" "$IN" "$W" "${FEATURES:-5000}" "${DATES:-24}"
