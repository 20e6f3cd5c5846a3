#!/usr/bin/env bash
# test.sh - THE test command: installs what is missing, fetches the sample
# data, then builds and tests eoproc twice:
#   release: build/release, RelWithDebInfo (-g, for the ABI check), -Werror;
#            ctest (C tests, install/examples, headers, ABI, format), pytest
#   asan:    build/asan, the same with ASan + UBSan (-fno-sanitize-recover=all);
#            ctest with leak detection, pytest with libasan preloaded into
#            python and the sanitized CLI (leak detection on) for subprocesses
# and prints one summary line per stage and a final "total: N passed, N failed".
# Exits non-zero when anything failed.
#
#   scripts/test.sh                # everything
#   scripts/test.sh release        # only the release stages (or: asan)
# Environment: EOPROC_DATA (sample data folder, default .cache/data),
#   EOPROC_JOBS (build jobs, default 2), EOPROC_CTEST_JOBS (default 1).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
JOBS=${EOPROC_JOBS:-2}
CTEST_JOBS=${EOPROC_CTEST_JOBS:-1}
PY=/usr/bin/python3
VARIANTS=("$@")
[ ${#VARIANTS[@]} -eq 0 ] && VARIANTS=(release asan)
for v in "${VARIANTS[@]}"; do
    case "$v" in release | asan) ;; *)
        echo "usage: $0 [release] [asan]" >&2
        exit 2
        ;;
    esac
done

START=$(date +%s)
SUMMARY=()
TOTAL_PASS=0
TOTAL_FAIL=0
FAILED=0

banner() { printf '\n==================== %s ====================\n' "$*"; }
elapsed() { echo "$(($(date +%s) - $1))s"; }
record() { # record STAGE STATUS PASSED FAILED [NOTE]
    local line
    line=$(printf '%-15s %-4s %4d passed, %d failed' "$1:" "$2" "$3" "$4")
    [ -n "${5:-}" ] && line="$line  ($5)"
    SUMMARY+=("$line")
    TOTAL_PASS=$((TOTAL_PASS + $3))
    TOTAL_FAIL=$((TOTAL_FAIL + $4))
    [ "$2" = "PASS" ] || FAILED=1
}
record_build() { # record_build STAGE STATUS NOTE: a failed build counts as 1 failed
    SUMMARY+=("$(printf '%-15s %-4s  (%s)' "$1:" "$2" "$3")")
    if [ "$2" != "PASS" ]; then
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
        FAILED=1
    fi
}

banner "dependencies"
if ! bash "$ROOT/scripts/deps.sh"; then
    echo "test.sh: scripts/deps.sh failed" >&2
    exit 1
fi
banner "sample data"
export EOPROC_DATA=${EOPROC_DATA:-$ROOT/.cache/data}
mkdir -p "$EOPROC_DATA"
EOPROC_DATA=$(cd "$EOPROC_DATA" && pwd)
if ! bash "$ROOT/scripts/fetch-data.sh" "$EOPROC_DATA"; then
    echo "test.sh: scripts/fetch-data.sh failed" >&2
    exit 1
fi

# build VARIANT DIR CMAKE_ARGS... -> 0 built, 1 some target failed, 2 configure failed
build() {
    local name=$1 dir=$2 t0 log
    shift 2
    t0=$(date +%s)
    log=$dir/build.log
    mkdir -p "$dir"
    banner "$name: configure + build ($dir)"
    # Keep going past a failed target, so that one broken file does not hide
    # the results of every test that could still be built.
    local keep_going=(-k)
    if cmake -S "$ROOT" -B "$dir" -DEOPROC_DATA_DIR="$EOPROC_DATA" "$@" >"$log" 2>&1; then
        grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$dir/CMakeCache.txt" && keep_going=(-k 0)
    else
        tail -n 80 "$log"
        echo "$name configure: FAILED (full log: $log)"
        record_build "$name build" FAIL "configure failed, see $log"
        return 2
    fi
    if cmake --build "$dir" -j"$JOBS" -- "${keep_going[@]}" >>"$log" 2>&1; then
        grep -E 'warning:' "$log" | head -n 20
        echo "$name build: ok in $(elapsed "$t0")"
        record_build "$name build" PASS "$(elapsed "$t0")"
        return 0
    fi
    grep -E -B2 -A6 'error|Error [0-9]' "$log" | head -n 80
    echo "$name build: FAILED (full log: $log); running the tests that were built"
    record_build "$name build" FAIL "see $log"
    return 1
}

# run_ctest VARIANT DIR [ENV=VALUE...] -> records "VARIANT ctest"
run_ctest() {
    local name=$1 dir=$2 t0 log rc passed failed total line
    shift 2
    t0=$(date +%s)
    log=$dir/ctest.log
    banner "$name: ctest"
    (cd "$dir" && env "$@" ctest --output-on-failure -j"$CTEST_JOBS" --timeout 1800) 2>&1 |
        tee "$log"
    rc=${PIPESTATUS[0]}
    # the ONNX conformance driver's count (tests/c/test_onnx_conformance.c)
    line=$(grep -h '^onnx conformance:' "$dir/Testing/Temporary/LastTest.log" 2>/dev/null |
        tail -n 1)
    [ -n "$line" ] && SUMMARY+=("$name $line")
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
        passed=$((total - failed))
    elif grep -q 'No tests were found' "$log"; then
        passed=0 failed=0
    else
        passed=0 failed=1
    fi
    if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]; then
        record "$name ctest" PASS "$passed" 0 "$(elapsed "$t0")"
    else
        [ "$failed" -eq 0 ] && failed=1
        record "$name ctest" FAIL "$passed" "$failed" "exit $rc, $(elapsed "$t0")"
    fi
}

# run_pytest VARIANT ENV... -> records "VARIANT pytest"
run_pytest() {
    local name=$1 t0 log rc line passed failed errors skipped
    shift
    t0=$(date +%s)
    log=$ROOT/build/$name/pytest.log
    banner "$name: pytest tests/python"
    if [ ! -d "$ROOT/tests/python" ]; then
        echo "no tests/python folder"
        record "$name pytest" PASS 0 0 "no tests/python"
        return
    fi
    (env "$@" PYTHONPATH="$ROOT/bindings/python${PYTHONPATH:+:$PYTHONPATH}" \
        EOPROC_DATA="$EOPROC_DATA" PYTHONDONTWRITEBYTECODE=1 \
        "$PY" -m pytest -q -p no:cacheprovider "$ROOT/tests/python") 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^(=+ )?[0-9]+ [a-z]+.* in [0-9.]+s' "$log" | tail -n 1)
    count() { sed -nE "s/(^|.*[^0-9])([0-9]+) $1.*/\2/p" <<<"$line" | head -n 1; }
    passed=$(count passed)
    failed=$(count failed)
    errors=$(count 'errors?')
    skipped=$(count skipped)
    passed=${passed:-0}
    failed=$((${failed:-0} + ${errors:-0}))
    local note
    note=$(elapsed "$t0")
    [ -n "$skipped" ] && note="$skipped skipped, $note"
    if [ "$rc" -eq 0 ]; then
        record "$name pytest" PASS "$passed" 0 "$note"
    elif [ "$rc" -eq 5 ]; then
        echo "pytest collected no tests"
        record "$name pytest" PASS 0 0 "no tests collected"
    else
        [ "$failed" -eq 0 ] && failed=1
        record "$name pytest" FAIL "$passed" "$failed" "exit $rc, $note"
    fi
}

for v in "${VARIANTS[@]}"; do
    if [ "$v" = release ]; then
        B=$ROOT/build/release
        build release "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEOPROC_WERROR=ON \
            -DEOPROC_SANITIZE=OFF -DEOPROC_TESTS=ON
        if [ $? -ne 2 ]; then
            run_ctest release "$B"
            run_pytest release EOPROC_LIBRARY="$B/libeoproc.so.1" EOPROC_CLI="$B/eoproc"
        fi
    else
        B=$ROOT/build/asan
        build asan "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEOPROC_WERROR=ON \
            -DEOPROC_SANITIZE=ON -DEOPROC_TESTS=ON
        if [ $? -ne 2 ]; then
            LSAN_SUPP=$ROOT/scripts/lsan.supp
            ASAN_ON="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
            UBSAN="print_stacktrace=1:halt_on_error=1"
            LSAN="suppressions=$LSAN_SUPP:print_suppressions=0"
            run_ctest asan "$B" ASAN_OPTIONS="$ASAN_ON" UBSAN_OPTIONS="$UBSAN" LSAN_OPTIONS="$LSAN"
            # python itself leaks, so no leak detection inside pytest; the CLI
            # that the tests start runs through a wrapper with it back on.
            # libasan must come first in a process that was not linked with
            # it; libstdc++ too, or its __cxa_throw interceptor finds nothing
            # when GDAL/PROJ (C++) throw, and ASan aborts with "CHECK failed".
            PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
            # pytest captures fd 2 and loses it when ASan aborts the process:
            # reports from inside python go to files, printed afterwards.
            SANLOG=$B/sanitizer-pytest
            rm -f "$SANLOG".*
            CLI_WRAP=$B/eoproc-lsan
            cat >"$CLI_WRAP" <<EOF
#!/bin/sh
# The sanitized eoproc CLI with leak detection on (written by scripts/test.sh).
ASAN_OPTIONS='$ASAN_ON' LSAN_OPTIONS='$LSAN' UBSAN_OPTIONS='$UBSAN' \\
    exec '$B/eoproc' "\$@"
EOF
            chmod +x "$CLI_WRAP"
            run_pytest asan LD_PRELOAD="$PRELOAD" \
                ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$SANLOG" \
                UBSAN_OPTIONS="$UBSAN:log_path=$SANLOG" LSAN_OPTIONS="$LSAN" \
                EOPROC_LIBRARY="$B/libeoproc.so.1" EOPROC_CLI="$CLI_WRAP"
            for f in "$SANLOG".*; do
                [ -f "$f" ] || continue
                echo "---- sanitizer report from the pytest process: $f"
                cat "$f"
            done
        fi
    fi
done

banner "summary ($(elapsed "$START"))"
printf '%s\n' "${SUMMARY[@]}"
echo "total: $TOTAL_PASS passed, $TOTAL_FAIL failed"
exit "$FAILED"
