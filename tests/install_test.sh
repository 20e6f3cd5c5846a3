#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR DATA_DIR C_COMPILER [EXTRA_FLAGS...]
#
# CTest "install.examples": install the build into a temporary prefix and check
# what a user of the library gets:
#  - libeoproc.so.1 exports only eo_* symbols (plus the EOPROC_1 version
#    node), all of them versioned EOPROC_1, and its SONAME is libeoproc.so.1;
#  - the static library, the headers, eoproc.pc and the CMake package are
#    installed, and no internal header is;
#  - examples/ builds against the prefix with CMake find_package(eoproc) and
#    with its Makefile through pkg-config, and both binaries run on
#    L7_ETMs.tif (printing its width, 349) and compute the area of an AOI.
# EXTRA_FLAGS are compiler+linker flags the library was built with that its
# users must also pass (the sanitizer flags of an EOPROC_SANITIZE build).
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR DATA_DIR C_COMPILER [EXTRA_FLAGS...]" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
DATA=${EOPROC_DATA:-$3}
CC_BIN=$4
shift 4
EXTRA="$*"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "--- $*"; }

for tool in cmake nm readelf make pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (run scripts/deps.sh)"
done
[ -s "$DATA/L7_ETMs.tif" ] || fail "no $DATA/L7_ETMs.tif (run scripts/fetch-data.sh)"

W=$BUILD/tests/install_test
rm -rf "$W"
mkdir -p "$W"
PREFIX=$W/prefix

step "cmake --install $BUILD --prefix $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$W/install.log" 2>&1 ||
    { cat "$W/install.log" >&2; fail "cmake --install failed"; }

LIB=$(find "$PREFIX" -name libeoproc.so.1 | head -n 1)
[ -n "$LIB" ] || fail "libeoproc.so.1 is not installed"
LIBDIR=$(dirname "$LIB")
echo "library: $LIB"

step "installed files"
for f in "$LIBDIR/libeoproc.so" "$LIBDIR/libeoproc.a" "$LIBDIR/pkgconfig/eoproc.pc" \
    "$LIBDIR/cmake/eoproc/eoprocConfig.cmake" \
    "$LIBDIR/cmake/eoproc/eoprocConfigVersion.cmake" \
    "$PREFIX/include/eoproc.h" "$PREFIX/include/eoproc/core.h"; do
    [ -e "$f" ] || fail "not installed: ${f#"$PREFIX"/}"
    echo "ok ${f#"$PREFIX"/}"
done
internal=$(find "$PREFIX/include" -name '*_int.h' -o -name 'eoi*.h' | head -n 5)
[ -z "$internal" ] || fail "internal headers installed: $internal"

step "SONAME"
soname=$(readelf -d "$LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libeoproc.so.1" ] || fail "SONAME is '$soname', want libeoproc.so.1"
echo "ok SONAME $soname"

step "exported symbols (nm -D --defined-only)"
nm -D --defined-only "$LIB" >"$W/nm.txt"
# Lines are "ADDRESS TYPE NAME[@@VERSION]"; the version node is "0 A EOPROC_1".
bad=$(awk '{ n = $NF; sub(/@.*/, "", n);
             if (n != "EOPROC_1" && n !~ /^eo_/) print $0 }' "$W/nm.txt")
[ -z "$bad" ] || fail "symbols other than eo_* are exported:
$bad"
unversioned=$(awk '$NF ~ /^eo_/ && $NF !~ /@@?EOPROC_1$/' "$W/nm.txt")
[ -z "$unversioned" ] || fail "eo_* symbols without the EOPROC_1 version:
$unversioned"
grep -q ' A EOPROC_1$' "$W/nm.txt" || fail "no EOPROC_1 version node"
internal=$(awk '$NF ~ /^eoi_/' "$W/nm.txt")
[ -z "$internal" ] || fail "internal eoi_* symbols exported: $internal"
count=$(grep -c ' eo_' "$W/nm.txt" || true)
[ "$count" -gt 0 ] || fail "no eo_* symbol exported"
echo "ok $count eo_* symbols, all EOPROC_1, nothing else"

# An AOI inside the Landsat scene (EPSG:4326), for the area part of hello.
cat >"$W/aoi.geojson" <<'JSON'
{"type": "Polygon", "coordinates": [[[-34.89, -8.02], [-34.86, -8.02], [-34.86, -7.99],
 [-34.89, -7.99], [-34.89, -8.02]]]}
JSON

run_hello() { # run_hello BINARY LABEL
    local bin=$1 label=$2 out
    step "run $label: hello L7_ETMs.tif aoi.geojson"
    # The binary must pick the library of the prefix, not some other copy.
    local resolved
    resolved=$(LD_LIBRARY_PATH=$LIBDIR ldd "$bin" | awk '/libeoproc\.so/ { print $3 }')
    [ "$(readlink -f "$resolved")" = "$(readlink -f "$LIB")" ] ||
        fail "$label resolves libeoproc to '$resolved', not $LIB"
    if ! out=$(LD_LIBRARY_PATH=$LIBDIR "$bin" "$DATA/L7_ETMs.tif" "$W/aoi.geojson" 2>&1); then
        echo "$out" >&2
        fail "$label exited non-zero"
    fi
    cut -c1-240 <<<"$out"
    grep -q '349' <<<"$out" || fail "$label output lacks the width 349"
    grep -q '^eoproc 1\.' <<<"$out" || fail "$label did not print the version"
    grep -q '^area of ' <<<"$out" || fail "$label did not print the AOI area"
    echo "ok $label"
}

step "examples with CMake find_package(eoproc), CMAKE_PREFIX_PATH=$PREFIX"
cmake -S "$SRC/examples" -B "$W/ex-cmake" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_C_COMPILER="$CC_BIN" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror $EXTRA" \
    -DCMAKE_EXE_LINKER_FLAGS="$EXTRA" >"$W/ex-cmake.log" 2>&1 &&
    cmake --build "$W/ex-cmake" >>"$W/ex-cmake.log" 2>&1 ||
    { cat "$W/ex-cmake.log" >&2; fail "examples do not build with CMake"; }
run_hello "$W/ex-cmake/hello" "CMake-built hello"

step "examples with the Makefile (pkg-config), PKG_CONFIG_PATH=$LIBDIR/pkgconfig"
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
PKG_CONFIG=pkg-config
pc_prefix=$(pkg-config --variable=prefix eoproc)
if [ "$(readlink -f "$pc_prefix" 2>/dev/null)" != "$(readlink -f "$PREFIX")" ]; then
    # The .pc names the configure-time prefix, not where it was installed.
    echo "NOTE: eoproc.pc is not relocatable (prefix=$pc_prefix, installed in $PREFIX);"
    echo "NOTE: using 'pkg-config --define-prefix' (fix: prefix=\${pcfiledir}/../.. in eoproc.pc)"
    PKG_CONFIG="pkg-config --define-prefix"
fi
echo "cflags/libs: $($PKG_CONFIG --cflags --libs eoproc)"
mkdir -p "$W/ex-make"
cp "$SRC/examples/hello.c" "$SRC/examples/Makefile" "$W/ex-make/"
make -C "$W/ex-make" CC="$CC_BIN" PKG_CONFIG="$PKG_CONFIG" \
    CFLAGS="-O2 -g -Wall -Wextra -Werror $EXTRA" LDFLAGS="$EXTRA" >"$W/ex-make.log" 2>&1 ||
    { cat "$W/ex-make.log" >&2; fail "examples do not build with the Makefile"; }
cat "$W/ex-make.log"
run_hello "$W/ex-make/hello" "Makefile-built hello"

if [ -n "$EXTRA" ]; then
    echo "note: examples built with the library's sanitizer flags: $EXTRA"
fi
echo "install.examples: all checks passed"
