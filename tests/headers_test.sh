#!/usr/bin/env bash
# headers_test.sh INCLUDE_DIR WORK_DIR COMPILER FLAGS...
#
# CTest "headers.c11" / "headers.cxx": a translation unit including only
# <eoproc.h> must compile warning-free with the given compiler and flags
# (-std=c11 -pedantic ... or -std=c++11 -pedantic ...), and so must one for
# each layer header include/eoproc/*.h on its own (each is self-contained).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 INCLUDE_DIR WORK_DIR COMPILER [FLAGS...]" >&2
    exit 2
fi
INC=$1
WORK=$2
COMPILER=$3
shift 3
command -v "$COMPILER" >/dev/null 2>&1 || {
    echo "FAIL: compiler $COMPILER not found (run scripts/deps.sh)" >&2
    exit 1
}
ext=c
case "$*" in *c++*) ext=cpp ;; esac
mkdir -p "$WORK"

headers=("eoproc.h")
for h in "$INC"/eoproc/*.h; do
    [ -e "$h" ] && headers+=("eoproc/$(basename "$h")")
done

failed=0
for h in "${headers[@]}"; do
    tu=$WORK/only_$(echo "$h" | tr '/.' '__').$ext
    if [ "$h" = "eoproc.h" ]; then
        # Use a little of the API so that the declarations are really parsed.
        cat >"$tu" <<'SRC'
#include <eoproc.h>

int main(void) {
    eo_bbox box = {0.0, 0.0, 1.0, 1.0};
    eo_window win = {0, 0, 1, 1};
    eo_status st = EO_OK;
    eo_ctx *ctx = 0;
    (void)box;
    (void)win;
    (void)ctx;
    return st == EO_OK && EO_AT_LEAST_VERSION(1, 0, 0) && EO_STATUS_CATEGORY(EO_E_IO_READ) == EO_E_IO
               ? 0
               : 1;
}
SRC
    else
        printf '#include <%s>\nint eoproc_header_test_dummy(void);\nint eoproc_header_test_dummy(void) { return 0; }\n' \
            "$h" >"$tu"
    fi
    if "$COMPILER" "$@" -I"$INC" -c "$tu" -o "${tu%.*}.o"; then
        echo "ok   $h"
    else
        echo "FAIL $h: $COMPILER $* does not compile a file including only <$h>"
        failed=$((failed + 1))
    fi
done
echo "$COMPILER $*: ${#headers[@]} header(s), $failed failing"
[ "$failed" -eq 0 ]
