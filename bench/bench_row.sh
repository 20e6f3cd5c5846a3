# bench/bench_row.sh - sourced by the benchmark scripts that feed the README's
# table: the machine-readable line each prints at its end, one per table row,
# which bench/all.sh collects into the markdown table.

# bench_row WHAT COMMAND EOPROC TOOL RATIO MEMORY
#   -> ROW|what (input and settings)|command|eoproc's figure|the tool and its figure|ratio|peak memory
bench_row() {
    local f out=ROW
    for f in "$@"; do out="$out|${f//|//}"; done
    echo "$out"
}

# bench_cmd SCRIPT [VAR...] -> the command that reproduces a row: those of the
# given knobs that came from the environment, then `bash bench/SCRIPT`
bench_cmd() {
    local s=$1 v val out=""
    shift
    for v in "$@"; do
        if val=$(printenv "$v"); then out="$out$v=$val "; fi
    done
    echo "${out}bash bench/$s"
}

# bench_calc FORMAT EXPR... -> awk's printf of the expressions (floating point)
bench_calc() {
    local fmt=$1 args="" e
    shift
    for e in "$@"; do args="$args, ($e)"; done
    awk "BEGIN { printf \"$fmt\"$args }"
}

# bench_time TIMEFILE -> "WALL_S CPU_S RSS_KIB" from a /usr/bin/time -v report
# (CPU: user + system)
bench_time() {
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + a[k]; w = s}
        /User time|System time/ {c += $2}
        /Maximum resident set size/ {m = $2}
        END {print w, c, m}' "$1"
}

# bench_best N DIR CMD... -> the best wall time of N runs of CMD in BEST, that
# run's CPU seconds in CPU, the largest peak RSS (KiB) in RSS; DIR holds the
# time report; a function bench_clean, when the caller defines one, runs
# before each run (removing the last run's output); a failing run prints its
# stderr and exits
bench_best() {
    local n=$1 dir=$2 i t c m
    shift 2
    BEST="" CPU="" RSS=0
    for ((i = 0; i < n; i++)); do
        if declare -F bench_clean >/dev/null; then bench_clean; fi
        /usr/bin/time -v -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/err.txt" ||
            { echo "bench: failed: $*" >&2; tail -5 "$dir/err.txt" >&2; exit 1; }
        read -r t c m < <(bench_time "$dir/time.txt")
        if [ -z "$BEST" ] || awk "BEGIN{exit !($t < $BEST)}"; then
            BEST=$t
            CPU=$c
        fi
        if [ "$m" -gt "$RSS" ]; then RSS=$m; fi
    done
    return 0
}
