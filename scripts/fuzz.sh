#!/usr/bin/env bash
# fuzz.sh - a libFuzzer campaign over the fuzz targets of tests/fuzz (NOT run
# by CI: CI replays the committed corpus through tests/fuzz/replay.c).
#
# Builds build/fuzz with clang, -DEOPROC_FUZZ=ON and ASan + UBSan (with
# float-cast-overflow, which gcc's -fsanitize=undefined leaves out), then runs
# each target for FUZZ_SECONDS (default 3600: an hour per target; the issue's
# minimum is 30 CPU-minutes) on FUZZ_JOBS processes, starting from the
# committed corpus, and merges (minimises) what it found back into
# tests/fuzz/corpus/TARGET. Crashing inputs are written to
# build/fuzz/crashers/TARGET/: fix the bug, then copy the input into
# tests/fuzz/crashers/TARGET so that CTest replays it for good.
#
# Targets: geojson, params, expr, onnx (text and model parsers), tiff
# (eo_dataset_open + window read + COG write over /vsimem/), tiledec (PNG,
# JPEG, WebP tiles through a callback tile source), mbtiles, jobstore (the
# detect job's SQLite store). Their seeds: tests/fuzz/make_seeds.py.
#
#   bash scripts/fuzz.sh                     # every target, an hour each
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh geojson expr   # five minutes each
#   FUZZ_CPU_SECONDS=1800 bash scripts/fuzz.sh           # 30 CPU-minutes each
#
# FUZZ_CPU_SECONDS budgets CPU time instead of wall time: on a machine shared
# with other work a wall-clock half hour can be a few CPU-minutes, so the
# target runs in rounds of at most FUZZ_ROUND wall seconds (300) until its
# CPU time reaches the budget.
#
# Prints per target: wall and CPU seconds, executions, corpus size before/after, crashes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD:-$ROOT/build/fuzz}
BIN=$BUILD/tests/fuzz # where CMake puts the fuzz_TARGET binaries
SECONDS_PER_TARGET=${FUZZ_SECONDS:-3600}
CPU_BUDGET=${FUZZ_CPU_SECONDS:-0}
ROUND=${FUZZ_ROUND:-300}
JOBS=${FUZZ_JOBS:-1}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(geojson params expr onnx tiff tiledec mbtiles jobstore)

mkdir -p "$(dirname "$BUILD")"
# (coverage for the whole library: CMake adds -fsanitize=fuzzer-no-link with EOPROC_FUZZ)
SAN="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEOPROC_FUZZ=ON -DEOPROC_TESTS=ON \
    -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
    -DCMAKE_EXE_LINKER_FLAGS="$SAN" -DCMAKE_SHARED_LINKER_FLAGS="$SAN" >"$BUILD.cmake.log" 2>&1 ||
    { echo "fuzz.sh: cmake failed, see $BUILD.cmake.log" >&2; exit 1; }
for t in "${TARGETS[@]}"; do
    cmake --build "$BUILD" -j"${FUZZ_BUILD_JOBS:-2}" --target "fuzz_$t" >>"$BUILD.cmake.log" 2>&1 ||
        { echo "fuzz.sh: building fuzz_$t failed, see $BUILD.cmake.log" >&2; exit 1; }
    [ -x "$BIN/fuzz_$t" ] || { echo "fuzz.sh: no $BIN/fuzz_$t after the build" >&2; exit 1; }
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${TARGETS[@]}"; do
    seeds=$ROOT/tests/fuzz/corpus/$t
    work=$BUILD/corpus/$t
    crash=$BUILD/crashers/$t
    mkdir -p "$work" "$crash"
    before=$(find "$seeds" -type f | wc -l)
    log=$BUILD/fuzz_$t.log
    start=$(date +%s)
    : >"$log"
    rm -f "$BUILD/fuzz_$t.cpu"
    cpu=0
    while :; do
        if [ "$CPU_BUDGET" -gt 0 ]; then
            round=$ROUND
        else
            round=$((SECONDS_PER_TARGET - ($(date +%s) - start)))
            [ "$round" -gt 0 ] || break
        fi
        # -fork: keep going past a crash, so one bug does not end the
        # campaign; /usr/bin/time -a sums the rounds' CPU time (the fork
        # children are waited for, so they are in it)
        echo "== round of ${round}s" >>"$log"
        /usr/bin/time -a -f "%U %S" -o "$BUILD/fuzz_$t.cpu" "$BIN/fuzz_$t" -fork="$JOBS" \
            -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -max_total_time="$round" \
            -rss_limit_mb=2048 -timeout=20 -max_len=65536 -artifact_prefix="$crash/" \
            "$work" "$seeds" >>"$log" 2>&1 || true
        prev=$cpu
        cpu=$(awk '{ s += $1 + $2 } END { printf "%d", s }' "$BUILD/fuzz_$t.cpu")
        if [ "$cpu" -le "$prev" ] && [ "$round" -gt 10 ]; then
            echo "fuzz.sh: fuzz_$t used no CPU in a round of ${round}s, see $log" >&2
            status=1
            break
        fi
        if [ "$CPU_BUDGET" -gt 0 ] && [ "$cpu" -ge "$CPU_BUDGET" ]; then
            break
        fi
    done
    secs=$(($(date +%s) - start))
    # into the committed corpus: only the found inputs that add coverage
    "$BIN/fuzz_$t" -merge=1 "$seeds" "$work" >>"$log" 2>&1 || true
    after=$(find "$seeds" -type f | wc -l)
    # the fork mode's status lines: "#EXECS: cov: ... exec/s N ...", counted
    # from 0 in each round: the last of each round, summed
    execs=$(awk '/^== round/ { s += last; last = 0 }
        /^#[0-9]+:/ { n = $1; gsub(/[#:]/, "", n); last = n; r = $0 }
        END { sub(/.* exec\/s /, "", r); sub(/ .*/, "", r); printf "%d execs, %s exec/s", s + last, r }' "$log")
    # crash-, leak-, oom- and timeout- files are failures; slow-unit- files
    # are inputs that took over 10 s once (a loaded machine makes those):
    # counted apart, to be timed alone
    crashes=$(find "$crash" -type f ! -name 'slow-unit-*' | wc -l)
    slow=$(find "$crash" -type f -name 'slow-unit-*' | wc -l)
    echo "fuzz_$t: ${secs}s wall, ${cpu} CPU-s, $execs, corpus $before -> $after, crashes/leaks/ooms/timeouts $crashes, slow units $slow (log $log)"
    [ "$crashes" -eq 0 ] || status=1
done
exit $status
