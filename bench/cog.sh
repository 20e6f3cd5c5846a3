#!/usr/bin/env bash
# bench/cog.sh - eoproc cog against gdal_translate -of COG on the same input,
# in one run: wall time, ratio, file size, peak resident memory, for ZSTD
# and DEFLATE (same level, block size and overview resampling); then the
# memory check of the issue: a 32,768 x 32,768 x 3 uint8 source (a VRT of
# 4 x 4 copies of the input) written by eoproc, with its peak memory.
#
#   bash bench/cog.sh [BUILD_DIR]       # default build/release
# Environment: BENCH_DIR (scratch folder, default /tmp/eoproc-bench-cog),
#   BENCH_SIZE (input side, default 8192), BENCH_BIG=0 to skip the 32k run,
#   REPEAT (runs of each tool per input and codec, best kept; default 3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/release}
EOPROC=$BUILD/eoproc
W=${BENCH_DIR:-/tmp/eoproc-bench-cog}
N=${BENCH_SIZE:-8192}
DATA=${EOPROC_DATA:-$ROOT/.cache/data}
VALIDATE=/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py
mkdir -p "$W"
# shellcheck source=bench/bench_row.sh
. "$ROOT/bench/bench_row.sh"
[ -x "$EOPROC" ] || { echo "no eoproc at $EOPROC: build first (scripts/test.sh)" >&2; exit 1; }

# Input: the Landsat 7 scene's bands 3,2,1 as RGB, resampled (cubic) to N x N,
# plus a little noise so that it does not compress like a gradient; an
# uncompressed tiled GeoTIFF, so that both tools spend their time writing.
IN=$W/rgb_$N.tif
if [ ! -f "$IN" ]; then
    echo "making $IN"
    /usr/bin/python3 "$ROOT/bench/make_rgb.py" "$DATA/L7_ETMs.tif" "$IN" "$N"
fi

# The same pixels DEFLATE-compressed (how imagery usually arrives): reading
# them costs a decompression, which eoproc spreads over its threads.
IN_Z=$W/rgb_${N}_deflate.tif
if [ ! -f "$IN_Z" ]; then
    echo "making $IN_Z"
    gdal_translate -q -co TILED=YES -co BLOCKXSIZE=512 -co BLOCKYSIZE=512 -co COMPRESS=DEFLATE \
        -co NUM_THREADS=ALL_CPUS "$IN" "$IN_Z"
fi

# measure NAME CMD... -> "wall_seconds max_rss_kib"
measure() {
    local log=$W/time.log
    sync
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; return 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$wall $rss"
}

# best CMD... -> "wall_seconds max_rss_kib": the shortest wall time of REPEAT
# runs (default 3), with the largest peak memory of them
best() {
    local i t r bt="" br=0
    for ((i = 0; i < ${REPEAT:-3}; i++)); do
        read -r t r < <(measure "$@")
        if [ -z "$bt" ] || [ "$(echo "$t < $bt" | bc -l)" = 1 ]; then bt=$t; fi
        [ "$r" -gt "$br" ] && br=$r
    done
    echo "$bt $br"
}

row() { # row LABEL WALL RSS SIZE
    printf '  %-8s wall %7.2f s   peak RSS %7.1f MiB   size %11d bytes\n' "$1" "$2" \
        "$(echo "$3 / 1024" | bc -l)" "$4"
}

declare -A FIG # "input,codec" -> "eoproc_wall eoproc_rss gdal_wall gdal_rss"
declare -A FLOOR # input -> eoproc ZSTD 9 over its codec floor (median of the trials)
for SRC in "$IN" "$IN_Z"; do
echo
echo "input: $SRC (${N} x ${N} x 3 uint8), $(nproc) CPUs"
for C in ZSTD DEFLATE; do
    if [ $C = ZSTD ]; then LEVEL=9; else LEVEL=6; fi
    lc=$(echo $C | tr 'A-Z' 'a-z')
    OUT_E=$W/eoproc_$lc.tif
    OUT_G=$W/gdal_$lc.tif
    rm -f "$OUT_E" "$OUT_G"
    read -r te re < <(best "$EOPROC" cog "$SRC" "$OUT_E" --compress "$lc" --level $LEVEL \
        --blocksize 512 --resampling average --quiet)
    read -r tg rg < <(best gdal_translate -q -of COG -co COMPRESS=$C -co LEVEL=$LEVEL \
        -co BLOCKSIZE=512 -co RESAMPLING=AVERAGE -co NUM_THREADS=ALL_CPUS "$SRC" "$OUT_G")
    se=$(stat -c %s "$OUT_E")
    sg=$(stat -c %s "$OUT_G")
    echo "$C (level $LEVEL, 512 px tiles, average overviews):"
    echo "  eoproc: $EOPROC cog $SRC $OUT_E --compress $lc --level $LEVEL --blocksize 512 --resampling average"
    echo "  gdal:   gdal_translate -of COG -co COMPRESS=$C -co LEVEL=$LEVEL -co BLOCKSIZE=512 -co RESAMPLING=AVERAGE -co NUM_THREADS=ALL_CPUS $SRC $OUT_G"
    row eoproc "$te" "$re" "$se"
    row gdal "$tg" "$rg" "$sg"
    printf '  time ratio eoproc/gdal %.2f   size ratio %.4f\n' "$(echo "$te / $tg" | bc -l)" \
        "$(echo "$se / $sg" | bc -l)"
    /usr/bin/python3 "$VALIDATE" -q "$OUT_E" && echo "  eoproc output: valid COG"
    FIG["$SRC,$C"]="$te $re $tg $rg"
done
done

# The codec floor: both tools spend their time in the same codecs, so neither
# can be faster than running them once over the data on every CPU. For ZSTD 9
# output: zstd's own benchmark mode (`zstd -b9 -B<tile bytes> -T1`: one core,
# every tile compressed on its own) over the very tiles of every level that the
# COG holds, taken from the same COG written uncompressed in this run
# (cog_floor.py tiles), their bytes over that speed times the CPUs. For the
# DEFLATE-compressed input add inflating its tiles with libdeflate (GDAL's
# decoder; cog_floor.py inflate, one core) over the CPUs. The machine's speed
# drifts by a third over minutes (it is shared), so the floor is measured in
# REPEAT paired trials, each right beside an eoproc run on each input, and the
# median of the trials' ratios counts. Beside it, the uncompressed run's time:
# everything eoproc does but the codec.
if command -v zstd >/dev/null && [ "${BENCH_FLOOR:-1}" != 0 ]; then
    OUT_N=$W/eoproc_none.tif
    RAW=$W/tiles_${N}.raw
    read -r tn rn < <(measure "$EOPROC" cog "$IN" "$OUT_N" --compress none --blocksize 512 \
        --resampling average --quiet)
    tile_bytes=$(/usr/bin/python3 "$ROOT/bench/cog_floor.py" tiles "$OUT_N" "$RAW")
    raw_bytes=$(stat -c %s "$RAW")
    rm -f "$OUT_N"
    echo
    echo "codec floor (ZSTD 9): zstd -b9 -e9 -B$tile_bytes -T1 over the COG's $raw_bytes bytes of tiles"
    echo "  (all levels), on $(nproc) CPUs; + inflating the DEFLATE input's tiles with libdeflate"
    echo "  for that input; eoproc's ZSTD 9 runs beside each measurement:"
    ratios=()
    ratios_z=()
    for ((i = 0; i < ${REPEAT:-3}; i++)); do
        zline=$(zstd -b9 -e9 -B"$tile_bytes" -T1 "$RAW" 2>&1 | tr '\r' '\n' | grep 'MB/s' | tail -1)
        mbs=$(echo "$zline" | grep -o '[0-9.]* MB/s' | head -1 | cut -d' ' -f1)
        zbytes=$(echo "$zline" | sed -n 's/.*-> *\([0-9]*\) .*/\1/p')
        read -r tinf binf < <(/usr/bin/python3 "$ROOT/bench/cog_floor.py" inflate "$IN_Z" 1)
        read -r te _ < <(measure "$EOPROC" cog "$IN" "$W/eoproc_zstd.tif" --compress zstd --level 9 \
            --blocksize 512 --resampling average --quiet)
        read -r tz _ < <(measure "$EOPROC" cog "$IN_Z" "$W/eoproc_zstd.tif" --compress zstd \
            --level 9 --blocksize 512 --resampling average --quiet)
        floor=$(echo "$raw_bytes / ($mbs * 1000000) / $(nproc)" | bc -l)
        floor_z=$(echo "$floor + $tinf / $(nproc)" | bc -l)
        ratios+=("$(echo "$te / $floor" | bc -l)")
        ratios_z+=("$(echo "$tz / $floor_z" | bc -l)")
        printf '  trial %d: zstd %s MB/s -> floor %.2f s, eoproc %.2f s (%.2fx); inflate %.2f s -> %.2f s,' \
            $((i + 1)) "$mbs" "$floor" "$te" "${ratios[-1]}" "$tinf" "$floor_z"
        printf ' eoproc %.2f s (%.2fx)\n' "$tz" "${ratios_z[-1]}"
    done
    rm -f "$RAW"
    median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
    FLOOR["$IN"]=$(median "${ratios[@]}")
    FLOOR["$IN_Z"]=$(median "${ratios_z[@]}")
    printf '  (zstd packs them into %d bytes; eoproc'"'"'s ZSTD 9 COG of the input is %d bytes)\n' \
        "$zbytes" "$(stat -c %s "$W/eoproc_zstd.tif")"
    printf '  median ratio to the floor: %s %.2fx, %s %.2fx\n' "$(basename "$IN")" "${FLOOR[$IN]}" \
        "$(basename "$IN_Z")" "${FLOOR[$IN_Z]}"
    printf '  eoproc cog --compress none (everything but the codec): %.2f s\n' "$tn"
fi

if [ "${BENCH_BIG:-1}" != 0 ]; then
    # 32768 x 32768 x 3: a VRT of 4 x 4 copies of the input
    VRT=$W/big_32768.vrt
    {
        echo "<VRTDataset rasterXSize=\"$((4 * N))\" rasterYSize=\"$((4 * N))\">"
        for b in 1 2 3; do
            echo "  <VRTRasterBand dataType=\"Byte\" band=\"$b\">"
            for i in 0 1 2 3; do
                for j in 0 1 2 3; do
                    echo "    <SimpleSource><SourceFilename relativeToVRT=\"0\">$IN</SourceFilename>"
                    echo "      <SourceBand>$b</SourceBand>"
                    echo "      <SrcRect xOff=\"0\" yOff=\"0\" xSize=\"$N\" ySize=\"$N\"/>"
                    echo "      <DstRect xOff=\"$((j * N))\" yOff=\"$((i * N))\" xSize=\"$N\" ySize=\"$N\"/>"
                    echo "    </SimpleSource>"
                done
            done
            echo "  </VRTRasterBand>"
        done
        echo "</VRTDataset>"
    } >"$VRT"
    OUT_B=$W/eoproc_big.tif
    rm -f "$OUT_B"
    # DEFLATE level 1 keeps this run short; memory does not depend on it
    read -r tb rb < <(measure "$EOPROC" cog "$VRT" "$OUT_B" --compress deflate --level 1 --quiet)
    echo "memory: $((4 * N)) x $((4 * N)) x 3 uint8 VRT -> COG (deflate level 1):"
    echo "  eoproc: $EOPROC cog $VRT $OUT_B --compress deflate --level 1"
    row eoproc "$tb" "$rb" "$(stat -c %s "$OUT_B")"
    /usr/bin/python3 "$VALIDATE" -q "$OUT_B" && echo "  eoproc output: valid COG"
    rm -f "$OUT_B"
fi

# the README's table rows: per input, ZSTD 9 / DEFLATE 6 side by side; peak
# memory the larger of the two codecs' runs; the codec floor beside ZSTD
for SRC in "$IN" "$IN_Z"; do
    read -r zte zre ztg zrg <<<"${FIG["$SRC,ZSTD"]}"
    read -r dte dre dtg drg <<<"${FIG["$SRC,DEFLATE"]}"
    if [ "$SRC" = "$IN" ]; then kind="uncompressed"; else kind="DEFLATE-compressed"; fi
    floor=""
    [ -n "${FLOOR[$SRC]:-}" ] && floor=$(bench_calc '; ZSTD 9 at %.2fx the codec floor (median of %d trials, each beside its floor measured in this run)' \
        "${FLOOR[$SRC]}" "${REPEAT:-3}")
    bench_row "COG writing of an ${N}² RGB uint8 input ($kind, 512 px tiles; Landsat bands 3,2,1 resampled + noise), ZSTD 9 / DEFLATE 6, 512 px tiles, average overviews, all CPUs, best of ${REPEAT:-3} runs" \
        "$(bench_cmd cog.sh BENCH_SIZE BENCH_BIG BENCH_FLOOR REPEAT)" "$(bench_calc '%.2f s / %.2f s' "$zte" "$dte")" \
        "$(bench_calc 'gdal_translate -of COG %.2f s / %.2f s' "$ztg" "$dtg")" \
        "$(bench_calc '%.2fx / %.2fx' "$zte / $ztg" "$dte / $dtg")$floor" \
        "$(bench_calc '%.0f / %.0f MiB' "($zre > $dre ? $zre : $dre) / 1024" "($zrg > $drg ? $zrg : $drg) / 1024")"
done
