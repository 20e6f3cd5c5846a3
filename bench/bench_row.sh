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
