#!/usr/bin/env bash
# format_check.sh SOURCE_DIR [CLANG_FORMAT]
#
# CTest "format.check": every C source and header under include/ src/ tools/
# examples/ tests/c must already be formatted as .clang-format says
# (clang-format --dry-run --Werror). To fix: clang-format -i FILE...
set -euo pipefail
SRC=${1:?usage: $0 SOURCE_DIR [CLANG_FORMAT]}
CF=${2:-clang-format}
command -v "$CF" >/dev/null 2>&1 || {
    echo "FAIL: $CF not found (apt-get install clang-format; scripts/deps.sh)" >&2
    exit 1
}
cd "$SRC"
[ -f .clang-format ] || { echo "FAIL: no .clang-format in $SRC" >&2; exit 1; }
mapfile -t files < <(find include src tools examples tests/c -type f \
    \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then
    echo "format.check: no source files found"
    exit 0
fi
bad=()
for f in "${files[@]}"; do
    if ! "$CF" --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done
if [ ${#bad[@]} -ne 0 ]; then
    echo "format.check: ${#bad[@]} of ${#files[@]} files are not clang-format clean:"
    printf '  %s\n' "${bad[@]}"
    echo "first differences:"
    "$CF" --dry-run --Werror "${bad[0]}" 2>&1 | head -n 30 || true
    echo "fix with: clang-format -i ${bad[*]}"
    exit 1
fi
echo "format.check: ${#files[@]} files clean ($("$CF" --version))"
