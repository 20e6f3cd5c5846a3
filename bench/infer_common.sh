# bench/infer_common.sh - sourced by bench/infer.sh and bench/transformer.sh
# (with ROOT and WORK set): onnxruntime-node in WORK, and measure.

# onnxruntime-node into $WORK (npm install --ignore-scripts), infer_ort.js beside it
ort_setup() {
    if [ ! -d "$WORK/node_modules/onnxruntime-node" ]; then
        (cd "$WORK" && { [ -f package.json ] || echo '{"name": "eoproc-bench", "private": true}' >package.json; } &&
            npm install --ignore-scripts --no-audit --no-fund onnxruntime-node >/dev/null 2>&1)
    fi
    cp "$ROOT/bench/infer_ort.js" "$WORK/infer_ort.js"
}

# measure LABEL CMD... -> "LABEL median_ms ... rss_mb N" (stdout of CMD + peak RSS)
measure() {
    local label=$1 out rss
    shift
    out=$(cd "$ROOT" && /usr/bin/time -v "$@" 2>"$WORK/time.log" | tail -n 1)
    rss=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$WORK/time.log")
    printf '%s %s rss_mb %d\n' "$label" "$out" $((rss / 1024))
}
