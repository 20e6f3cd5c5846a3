#!/usr/bin/env bash
# fetch-data.sh [DIR] - put the real sample rasters that the tests and the demo
# use into DIR (default: .cache/data under the repository), without installing
# R: the Debian package r-cran-stars ships them; we download the .deb and
# unpack only its tif/ folder. Does nothing when the files are already there.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/.cache/data}
FILES=(L7_ETMs.tif geomatrix.tif olinda_dem_utm25s.tif lc.tif na.tif)
PKG=r-cran-stars

have_all() {
    local f
    for f in "${FILES[@]}"; do
        [ -s "$DIR/$f" ] || return 1
    done
}

verify() {
    if ! command -v gdalinfo >/dev/null 2>&1; then
        echo "fetch-data: gdalinfo not found (install gdal-bin: scripts/deps.sh)" >&2
        return 1
    fi
    local f
    for f in "${FILES[@]}"; do
        if ! gdalinfo "$DIR/$f" >/dev/null 2>&1; then
            echo "fetch-data: GDAL cannot open $DIR/$f" >&2
            return 1
        fi
    done
}

if have_all && verify; then
    echo "fetch-data: sample rasters present in $DIR"
    exit 0
fi

mkdir -p "$DIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eoproc-data.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# apt-get download drops root privileges to the _apt user, which must be able
# to write the folder; otherwise it warns and downloads unsandboxed.
chmod 755 "$TMP"
if id _apt >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    chown _apt "$TMP"
fi

deb=""
# Reuse a copy apt already has in its cache.
for cand in /var/cache/apt/archives/${PKG}_*.deb; do
    [ -f "$cand" ] && deb=$cand
done
if [ -z "$deb" ]; then
    if ! (cd "$TMP" && apt-get download -q "$PKG"); then
        echo "fetch-data: apt-get download failed; refreshing the package lists"
        if [ "$(id -u)" -eq 0 ]; then
            apt-get update -q
        else
            sudo apt-get update -q
        fi
        (cd "$TMP" && apt-get download -q "$PKG")
    fi
    deb=$(ls "$TMP"/${PKG}_*.deb | head -n 1)
fi
echo "fetch-data: unpacking $(basename "$deb")"
mkdir -p "$TMP/x"
dpkg -x "$deb" "$TMP/x"
SRC="$TMP/x/usr/lib/R/site-library/stars/tif"
for f in "${FILES[@]}"; do
    if [ ! -f "$SRC/$f" ]; then
        echo "fetch-data: $f is not in $(basename "$deb")" >&2
        exit 1
    fi
    cp "$SRC/$f" "$DIR/$f.tmp"
    mv "$DIR/$f.tmp" "$DIR/$f"
done
verify
echo "fetch-data: ${#FILES[@]} sample rasters in $DIR"
