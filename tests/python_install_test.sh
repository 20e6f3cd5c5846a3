#!/usr/bin/env bash
# python_install_test.sh BUILD_DIR SOURCE_DIR DATA_DIR [SANITIZER_FLAGS...]
#
# CTest "install.python": the two ways a user installs the Python package,
# each followed by `import eoproc; eoproc.info(...)` in a new process with an
# empty environment (no EOPROC_LIBRARY, no LD_LIBRARY_PATH, no PYTHONPATH),
# run from a folder outside the source tree:
#  1. cmake --install into a temporary prefix: the package lands in the
#     prefix's site folder and loads the prefix's libeoproc.so.1 (the site
#     folder of a temporary prefix is put on sys.path by the -c code itself);
#  2. pip install --no-build-isolation --no-index . at the repository root,
#     in a fresh virtual environment (--system-site-packages, for numpy and
#     affine): CMake builds the library and the wheel bundles it.
# Under sanitizers (SANITIZER_FLAGS given) step 1 preloads libasan, which a
# sanitized library needs in a python process, and step 2 is left to the
# release run (it builds its own unsanitized library: the same test twice).
set -euo pipefail

BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
DATA=${EOPROC_DATA:-$3}
shift 3
SAN="$*"
PY=/usr/bin/python3

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "--- $*"; }

[ -s "$DATA/L7_ETMs.tif" ] || fail "no $DATA/L7_ETMs.tif (run scripts/fetch-data.sh)"
W=$BUILD/tests/python_install_test
rm -rf "$W"
mkdir -p "$W/elsewhere"
cd "$W/elsewhere"

# check PYTHON LIB_PREFIX [SYS_PATH_DIR] [ENV...]: import in an empty environment
check() {
    local py=$1 want=$2 site=${3:-}
    shift 3
    env -i PATH=/usr/bin:/bin "$@" "$py" -c "
import sys
if '$site':
    sys.path.insert(0, '$site')
import eoproc
lib = eoproc._lib.path
assert lib.startswith('$want'), 'loaded %s, not the installed library under $want' % lib
assert eoproc.__file__.startswith('$want'), 'imported %s' % eoproc.__file__
width = eoproc.info('$DATA/L7_ETMs.tif')['width']
assert width == 349, width
with eoproc.open('$DATA/L7_ETMs.tif') as ds:
    assert ds.read(1).shape == (352, 349) and ds.crs.to_epsg() == 31985
print('ok', eoproc.__file__, lib)
" || fail "import eoproc after install ($py, $want)"
}

step "cmake --install $BUILD --prefix $W/prefix"
cmake --install "$BUILD" --prefix "$W/prefix" >"$W/install.log" 2>&1 ||
    { cat "$W/install.log" >&2; fail "cmake --install failed"; }
SITE=$(find "$W/prefix" -path '*/dist-packages/eoproc/__init__.py' | head -n 1)
[ -n "$SITE" ] || fail "cmake --install did not install the Python package"
SITE=$(dirname "$(dirname "$SITE")")
[ -z "$(find "$SITE/eoproc" -name '__pycache__' -o -name 'libeoproc.so*')" ] ||
    fail "the installed package holds build leftovers"
PRE=()
if [ -n "$SAN" ]; then
    PRE=(LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
        ASAN_OPTIONS=detect_leaks=0)
fi
check "$PY" "$W/prefix" "$SITE" "${PRE[@]}"

if [ -n "$SAN" ]; then
    echo "pip install: covered by the release run (it builds its own library)"
    exit 0
fi
step "pip install --no-build-isolation --no-index $SRC (fresh venv)"
"$PY" -m venv --system-site-packages "$W/venv" || fail "python3 -m venv failed (python3-venv)"
# a copy of the tree, so that the test leaves nothing in the checkout
mkdir -p "$W/src"
# (the checkout's files, tracked or not, that exist: a file deleted but not
# yet committed is still in git's index)
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard 2>/dev/null |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    xargs -0 cp --parents -t "$W/src" 2>/dev/null) ||
    cp -a "$SRC/." "$W/src"
"$W/venv/bin/python" -m pip install --no-build-isolation --no-index "$W/src" \
    >"$W/pip.log" 2>&1 || { tail -n 40 "$W/pip.log" >&2; fail "pip install . failed"; }
check "$W/venv/bin/python" "$W/venv" ""
echo "PASS"
