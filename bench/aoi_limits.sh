#!/usr/bin/env bash
# bench/aoi_limits.sh - how fast and how small eoproc refuses (and accepts) a
# huge AOI, against GDAL's tools reading the same GeoJSON file.
#
# Input: bench/make_big_aoi.py's FeatureCollection (100,000 16-gons, ~44 MB,
# 1.7 M positions) in BENCH_DIR. Commands, each timed with /usr/bin/time -v:
#   0. eoproc area SMALL          a 1-feature AOI: the process's own baseline;
#   1. eoproc area BIG            refused: aoi.TooLarge (features or vertices),
#                                 reading stops in the first MiB pieces;
#   2. eoproc area --max-aoi-bytes 1000 BIG   refused from the file's size;
#   3. eoproc area --max-features 200000 --max-vertices 2000000 BIG
#                                 accepted: parsed whole, area computed;
#   4. ogrinfo -ro -al -so BIG    GDAL reading the file (its summary);
#   5. ogr2ogr -f GPKG OUT BIG    GDAL converting it (what a user does to
#                                 get an area or a clip layer from it).
# Prints wall time, peak RSS, and the ratios of GDAL's figures to eoproc's.
#
#   bash bench/aoi_limits.sh [BUILD_DIR]     # default build/release
# Environment: BENCH_DIR (default /tmp/eoproc-bench-aoi), FEATURES (100000).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
EOPROC=$BUILD/eoproc
W=${BENCH_DIR:-/tmp/eoproc-bench-aoi}
N=${FEATURES:-100000}
mkdir -p "$W"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
[ -x "$EOPROC" ] || { echo "no eoproc at $EOPROC: build first" >&2; exit 1; }
BIG=$W/big_$N.json
[ -s "$BIG" ] || /usr/bin/python3 "$ROOT/bench/make_big_aoi.py" "$BIG" "$N"
echo "input: $BIG, $(stat -c %s "$BIG") bytes, $N features"

# run NAME CMD...: wall seconds and peak RSS (KiB) into $W/NAME.time
run() {
    local name=$1
    shift
    set +e
    /usr/bin/time -v -o "$W/$name.time" "$@" >"$W/$name.out" 2>"$W/$name.err"
    local rc=$?
    set -e
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
        for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$W/$name.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/$name.time")
    eval "WALL_$name=$wall RSS_$name=$rss RC_$name=$rc"
    printf '%-16s exit %d  %8.2f s  %8.1f MiB   %s\n' "$name" "$rc" "$wall" \
        "$(echo "$rss / 1024" | bc -l)" "$*"
    if [ "$rc" != 0 ]; then sed 's/^/    /' "$W/$name.err" | head -2; fi
}

SMALL=$W/small.json
/usr/bin/python3 "$ROOT/bench/make_big_aoi.py" "$SMALL" 1
run small "$EOPROC" area "$SMALL"
run refuse "$EOPROC" area "$BIG"
run refuse_bytes "$EOPROC" area --max-aoi-bytes 1000 "$BIG"
run accept "$EOPROC" area --max-features 200000 --max-vertices 2000000 "$BIG"
run ogrinfo ogrinfo -ro -al -so "$BIG"
rm -f "$W/out.gpkg"
run ogr2ogr ogr2ogr -f GPKG "$W/out.gpkg" "$BIG"

ratio() { printf %.2f "$(echo "$1 / $2" | bc -l)"; }
echo
echo "ogrinfo / eoproc refusing:  time x$(ratio "$WALL_ogrinfo" "$WALL_refuse"), peak memory x$(ratio "$RSS_ogrinfo" "$RSS_refuse")"
echo "ogr2ogr / eoproc refusing:  time x$(ratio "$WALL_ogr2ogr" "$WALL_refuse"), peak memory x$(ratio "$RSS_ogr2ogr" "$RSS_refuse")"
echo "eoproc peak refusing: $(ratio "$RSS_refuse" 1024) MiB; on a 1-feature AOI: $(ratio "$RSS_small" 1024) MiB (the libraries' own)"
echo "ogrinfo / eoproc accepting: time x$(ratio "$WALL_ogrinfo" "$WALL_accept"), peak memory x$(ratio "$RSS_ogrinfo" "$RSS_accept")"

# the README's table row
positions=$(/usr/bin/python3 -c 'import json, sys
def n(c): return 1 if isinstance(c[0], (int, float)) else sum(n(x) for x in c)
print(sum(n(f["geometry"]["coordinates"]) for f in json.load(open(sys.argv[1]))["features"]))' "$BIG")
refused="refused with aoi.TooLarge"
if [ "$RC_refuse" = 0 ] || ! grep -q 'aoi.TooLarge' "$W/refuse.err"; then
    refused="NOT refused with aoi.TooLarge (exit $RC_refuse)"
fi
echo
bench_row "$(bench_calc "refuse a %.0f MB FeatureCollection (%d features, %.2f M positions; make_big_aoi.py 16-gons) by the default limits: \`eoproc area\` $refused" \
    "$(stat -c %s "$BIG") / 1e6" "$N" "$positions / 1e6")" \
    "$(bench_cmd aoi_limits.sh FEATURES)" "$(bench_calc '%.2f s' "$WALL_refuse")" \
    "$(bench_calc 'ogrinfo -ro -al -so reading it %.2f s; ogr2ogr to GPKG %.2f s' "$WALL_ogrinfo" "$WALL_ogr2ogr")" \
    "$(bench_calc '%.3fx / %.3fx' "$WALL_refuse / $WALL_ogrinfo" "$WALL_refuse / $WALL_ogr2ogr")" \
    "$(bench_calc "%.0f / %.0f, %.0f MiB (eoproc / ogrinfo, ogr2ogr; eoproc on a 1-feature AOI: %.0f MiB, the libraries' baseline)" \
        "$RSS_refuse / 1024" "$RSS_ogrinfo / 1024" "$RSS_ogr2ogr / 1024" "$RSS_small / 1024")"
