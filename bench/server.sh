#!/usr/bin/env bash
# bench/server.sh - the eoproc server's tile endpoint under load, against a
# reference endpoint in the same framework doing it the rio-tiler way
# (bench/server_ref.py: FastAPI + uvicorn, rasterio's WarpedVRT of an open
# dataset per tile, GDAL's PNG driver), in one run:
#
#  1. wrk, 30 s with 16 connections (2 threads), on each server in turn,
#     over the same tiles (the raster's native zoom and the two above it,
#     nearest resampling, RGBA PNG): tiles/s, p50 and p99 latency, errors;
#  2. a fresh eoproc server's RSS after about 1,000 requests, then after each
#     CHUNK seconds of wrk (default 60) until REQUESTS in all (100,000).
#
# Input: the 8192 x 8192 RGB uint8 COG of bench/tiles.sh (bench/.data).
#
#   bash bench/server.sh [build dir, default build/release]
# Environment: DURATION (30), CONNECTIONS (16), REQUESTS (100000), CHUNK (60).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
DURATION=${DURATION:-30}
CONNECTIONS=${CONNECTIONS:-16}
REQUESTS=${REQUESTS:-100000}
DATA=${EOPROC_DATA:-$ROOT/.cache/data}
WORK=$ROOT/bench/.data
PY=/usr/bin/python3
mkdir -p "$WORK"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
[ -f "$BUILD/libeoproc.so.1" ] || { echo "no $BUILD/libeoproc.so.1: build first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
$PY -c "import rasterio" 2>/dev/null || {
    echo "rasterio is needed (apt-get install python3-rasterio)" >&2
    exit 1
}
export EOPROC_LIBRARY=$BUILD/libeoproc.so.1 PYTHONPATH=$ROOT/bindings/python

SRC=$WORK/rgb8192_cog.tif
if [ ! -f "$SRC" ]; then
    echo "making $SRC"
    gdal_translate -q -b 3 -b 2 -b 1 -outsize 8192 8192 -r cubic \
        -of COG -co COMPRESS=DEFLATE -co BLOCKSIZE=512 -co OVERVIEWS=AUTO \
        "$DATA/L7_ETMs.tif" "$SRC"
fi

free_port() { $PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_up() { # URL PID
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "$1" && return 0
        kill -0 "$2" 2>/dev/null || { echo "server $2 exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "no answer from $1" >&2
    exit 1
}

EO_PORT=$(free_port)
$PY -m eoproc.server --root "$WORK" --port "$EO_PORT" >"$WORK/server_eo.log" 2>&1 &
EO_PID=$!
PIDS+=("$EO_PID")
REF_PORT=$(free_port)
$PY "$ROOT/bench/server_ref.py" "$SRC" --port "$REF_PORT" >"$WORK/server_ref.log" 2>&1 &
REF_PID=$!
PIDS+=("$REF_PID")
wait_up "http://127.0.0.1:$EO_PORT/healthz" "$EO_PID"

# the tiles: native zoom and the two above it, in a shuffled order
$PY - "$SRC" "$WORK/tiles_eo.txt" "$WORK/tiles_ref.txt" <<'PYEOF'
import math, random, sys
import eoproc
src, eo_out, ref_out = sys.argv[1:]
i = eoproc.info(src)
lon0, lat0, lon1, lat1 = i["bbox_4326"]
lat = (lat0 + lat1) / 2
native = math.ceil(math.log2(156543.03392804097 * math.cos(math.radians(lat)) / i["pixel_size"][0]))
aoi = {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}
tiles = [t for z in range(native - 2, native + 1) for t in eoproc.tiles_cover(aoi, z)]
random.Random(0).shuffle(tiles)
with open(eo_out, "w") as f:
    for z, x, y in tiles:
        f.write("/cog/tiles/%d/%d/%d.png?url=rgb8192_cog.tif&resampling=nearest\n" % (z, x, y))
with open(ref_out, "w") as f:
    for z, x, y in tiles:
        f.write("/tiles/%d/%d/%d.png\n" % (z, x, y))
print("tiles: %d at zooms %d-%d (native %d)" % (len(tiles), native - 2, native, native))
PYEOF
# both servers answer the same tiles with the same pixels
$PY - "http://127.0.0.1:$EO_PORT" "http://127.0.0.1:$REF_PORT" "$WORK/tiles_eo.txt" \
    "$WORK/tiles_ref.txt" <<'PYEOF'
import sys, urllib.request, numpy as np
from osgeo import gdal
eo, ref, fe, fr = sys.argv[1:]
pe, pr = open(fe).read().split(), open(fr).read().split()
diff = []
for a, b in list(zip(pe, pr))[:20]:
    imgs = []
    for url in (eo + a, ref + b):
        gdal.FileFromMemBuffer("/vsimem/t.png", urllib.request.urlopen(url).read())
        imgs.append(gdal.Open("/vsimem/t.png").ReadAsArray().astype(int))
    both = (imgs[0][3] == 255) & (imgs[1][3] == 255)
    diff.append((imgs[0][:3][:, both] != imgs[1][:3][:, both]).mean() if both.any() else 0)
print("pixels differing between the two servers over 20 tiles: %.2f %%" % (100 * np.mean(diff)))
PYEOF

run_wrk() { # NAME URL LIST -> prints a summary line, returns the log
    local log=$WORK/wrk_$1.log
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency --timeout 30s \
        -s "$ROOT/bench/server_tiles.lua" "$2" -- "$3" >"$log" 2>&1
    local rps p50 p99 non2xx errs
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$log")
    p50=$(awk '$1 == "50%" {print $2}' "$log")
    p99=$(awk '$1 == "99%" {print $2}' "$log")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$log")
    errs=$(awk '/Socket errors/ {print $0}' "$log")
    printf '%-28s %8.1f tiles/s  p50 %8s  p99 %8s  non-2xx %s  %s\n' "$1" "$rps" "$p50" "$p99" \
        "${non2xx:-0}" "${errs:-socket errors 0}"
    echo "$rps" >"$WORK/rps_$1"
    echo "$rps $p50 $p99" >"$WORK/wrkfig_$1" # for the table row at the end
}

echo
echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s over the same tile list (2 cores, both on this machine)"
run_wrk "eoproc server" "http://127.0.0.1:$EO_PORT" "$WORK/tiles_eo.txt"
run_wrk "rasterio WarpedVRT (ref)" "http://127.0.0.1:$REF_PORT" "$WORK/tiles_ref.txt"
echo "ratio: $(echo "$(cat "$WORK/rps_eoproc server") / $(cat "$WORK/rps_rasterio WarpedVRT (ref)")" | bc -l | xargs printf '%.2f')x the reference's tiles/s"
kill "$REF_PID"

rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# a fresh server: RSS after 1,000 requests, then after REQUESTS in all
kill "$EO_PID"
wait "$EO_PID" 2>/dev/null || true
$PY -m eoproc.server --root "$WORK" --port "$EO_PORT" >"$WORK/server_eo2.log" 2>&1 &
EO_PID=$!
PIDS+=("$EO_PID")
wait_up "http://127.0.0.1:$EO_PORT/healthz" "$EO_PID"
# wrk runs for a time, not a count: chunks of CHUNK seconds until the
# server has answered REQUESTS in all, with its RSS after each chunk (a
# leak grows with every chunk; a cache filling up grows, then stays)
rate=$(cat "$WORK/rps_eoproc server")
d1=$(echo "1000 / $rate + 1" | bc)
wrk -t2 -c"$CONNECTIONS" -d"${d1}s" -s "$ROOT/bench/server_tiles.lua" \
    "http://127.0.0.1:$EO_PORT" -- "$WORK/tiles_eo.txt" >"$WORK/wrk_rss1.log" 2>&1
r1=$(rss "$EO_PID")
n1=$(awk '/requests in/ {print $1}' "$WORK/wrk_rss1.log")
bad=$(awk '/Non-2xx/ {s += $NF} END {print s + 0}' "$WORK/wrk_rss1.log")
total=$n1
series="$n1:$r1"
t0=$(date +%s)
CHUNK=${CHUNK:-60}
while [ "$total" -lt "$REQUESTS" ]; do
    wrk -t2 -c"$CONNECTIONS" -d"${CHUNK}s" -s "$ROOT/bench/server_tiles.lua" \
        "http://127.0.0.1:$EO_PORT" -- "$WORK/tiles_eo.txt" >"$WORK/wrk_rss2.log" 2>&1
    n=$(awk '/requests in/ {print $1}' "$WORK/wrk_rss2.log")
    [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "wrk answered nothing: see $WORK/wrk_rss2.log" >&2; exit 1; }
    total=$((total + n))
    bad=$((bad + $(awk '/Non-2xx/ {s += $NF} END {print s + 0}' "$WORK/wrk_rss2.log")))
    series="$series $total:$(rss "$EO_PID")"
done
r2=$(rss "$EO_PID")
echo
echo "eoproc server RSS (requests:MiB): $series"
echo "eoproc server RSS: $r1 MiB after $n1 requests, $r2 MiB after $total ($(echo "($r2 - $r1) * 100 / $r1" | bc -l | xargs printf '%+.1f') %), peak $(hwm "$EO_PID") MiB; non-2xx responses: $bad; $(($(date +%s) - t0)) s"

# the README's table row
read -r erps ep50 ep99 <"$WORK/wrkfig_eoproc server"
read -r rrps rp50 rp99 <"$WORK/wrkfig_rasterio WarpedVRT (ref)"
echo
bench_row "tile server under load: \`wrk -t2 -c$CONNECTIONS -d${DURATION}s\` over $(wc -l <"$WORK/tiles_eo.txt") tiles (zooms native-2..native) of the 8192² RGB COG (DEFLATE, 512 px blocks), nearest, RGBA PNG, the server's default threads and GDAL cache; memory: a fresh server soaked with $REQUESTS requests" \
    "$(bench_cmd server.sh DURATION CONNECTIONS REQUESTS CHUNK)" \
    "$(printf '%.1f tiles/s, p50 %s, p99 %s' "$erps" "$ep50" "$ep99")" \
    "$(printf 'FastAPI + rasterio WarpedVRT per tile %.1f tiles/s, p50 %s, p99 %s' "$rrps" "$rp50" "$rp99")" \
    "$(bench_calc '%.2fx the rate' "$erps / $rrps")" \
    "$(printf '%s MiB after %s requests, %s MiB after %s (%s %%), peak %s MiB; %s non-2xx' "$r1" "$n1" "$r2" "$total" \
        "$(bench_calc '%+.1f' "($r2 - $r1) * 100 / $r1")" "$(hwm "$EO_PID")" "$bad")"
