#!/usr/bin/env bash
# abi-check.sh LIB [BASELINE] - fail when LIB (libeoproc.so.1 built with -g)
# removes or changes anything of the committed ABI baseline
# (default abi/libeoproc.abi); functions added since pass.
# abidiff's exit status is a bit set: 1 error, 2 usage, 4 ABI change,
# 8 incompatible change; any of them fails the check.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 path/to/libeoproc.so.1 [BASELINE.abi]" >&2
    exit 2
fi
LIB=$1
BASE=${2:-$ROOT/abi/libeoproc.abi}
command -v abidiff >/dev/null 2>&1 || {
    echo "abi-check: abidiff not found (apt-get install abigail-tools; scripts/deps.sh)" >&2
    exit 1
}
[ -f "$LIB" ] || { echo "abi-check: no such file: $LIB" >&2; exit 1; }
[ -f "$BASE" ] || {
    echo "abi-check: no baseline $BASE (make one: scripts/abi-update.sh $LIB)" >&2
    exit 1
}
if ! readelf -S "$LIB" | grep '\.debug_info' >/dev/null; then
    echo "abi-check: $LIB has no debug info; build with -DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2
    exit 1
fi
echo "abi-check: abidiff $BASE $LIB"
# The baseline holds only the public interface (abidw --headers-dir include
# --drop-private-types). No --headers-dir2 here: with it, abidiff 2.2 treats
# every type defined outside include/ as private, and so lets a parameter
# change from int32_t to int64_t (defined in <stdint.h>) pass unreported.
# The opaque handles stay declaration-only in the baseline, so changes inside
# the library's own structs are not reported.
rc=0
abidiff --no-added-syms --suppressions "$ROOT/abi/experimental.suppr" \
    "$BASE" "$LIB" || rc=$?
if [ "$rc" -ne 0 ]; then
    what="ABI changed"
    [ $((rc & 8)) -ne 0 ] && what="incompatible ABI change"
    [ $((rc & 3)) -ne 0 ] && what="abidiff error"
    echo "abi-check: FAILED ($what, abidiff exit $rc): a symbol of the baseline was" \
        "removed or changed. Restore it (add a new function instead, STYLE.md 1); only" \
        "for a new SONAME regenerate the baseline with scripts/abi-update.sh." >&2
    exit 1
fi
echo "abi-check: OK (nothing removed or changed; added functions are allowed)"
