#!/usr/bin/env bash
# abi-update.sh LIB [OUT] - (re)write the committed ABI baseline
# (default abi/libeoproc.abi) from LIB, a libeoproc.so.1 built with -g
# (CMAKE_BUILD_TYPE=RelWithDebInfo or Debug, without EOPROC_SANITIZE).
# Run it only when a release deliberately adds functions; scripts/abi-check.sh
# then compares every later build against it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 path/to/libeoproc.so.1 [OUT.abi]" >&2
    exit 2
fi
LIB=$1
OUT=${2:-$ROOT/abi/libeoproc.abi}
command -v abidw >/dev/null 2>&1 || {
    echo "abi-update: abidw not found (apt-get install abigail-tools; scripts/deps.sh)" >&2
    exit 1
}
[ -f "$LIB" ] || { echo "abi-update: no such file: $LIB" >&2; exit 1; }
if ! readelf -S "$LIB" | grep '\.debug_info' >/dev/null; then
    echo "abi-update: $LIB has no debug info; build with -DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2
    exit 1
fi
mkdir -p "$(dirname "$OUT")"
# Paths, the build folder and DT_NEEDED are left out so that the baseline is
# the same whoever builds it, wherever.
abidw --headers-dir "$ROOT/include" --drop-private-types \
    --suppressions "$ROOT/abi/experimental.suppr" \
    --no-corpus-path --no-comp-dir-path --short-locs --no-elf-needed --drop-undefined-syms \
    --out-file "$OUT.tmp" "$LIB"
mv "$OUT.tmp" "$OUT"
fns=$(grep -c '<elf-symbol name=.*type=.func-type' "$OUT" || true)
echo "abi-update: wrote $OUT ($fns function symbols)"
