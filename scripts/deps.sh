#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages eoproc needs to build, test and
# demo, but only those that are missing: on a machine that has them all this
# does no network access. Idempotent; run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
    # toolchain and build
    build-essential g++ cmake make pkg-config binutils file
    # libraries
    libgdal-dev libgeos-dev libproj-dev libopenblas-dev libtiff-dev libzstd-dev
    libdeflate-dev libjson-c-dev libprotobuf-c-dev protobuf-c-compiler
    libpng-dev libjpeg62-turbo-dev libwebp-dev libsqlite3-dev
    # the CLI's fetcher of tile URLs (tools/cli_fetch.c; never linked into libeoproc)
    libcurl4-openssl-dev
    # tools used by the tests, scripts and demo
    gdal-bin python3 python3-gdal python3-numpy python3-pytest python3-shapely
    python3-onnx python3-affine python3-rasterio python3-venv python3-pip python3-setuptools python3-wheel
    python3-scipy python3-jsonschema
    abigail-tools clang-format ca-certificates
    # the HTTP server (bindings/python/eoproc/server) and its tests
    python3-fastapi python3-uvicorn
    # eoproc.distributed and its tests (a Dask LocalCluster, dask-scheduler, dask-worker)
    python3-distributed
    # the map page's browser test (tests/browser, driven by playwright-core from npm)
    chromium
    # node for the tests that read eoproc's outputs with npm packages (npm ci on first use)
    nodejs
    # ONNX's operator tests (tests/c/test_onnx_conformance.c)
    libonnx-testdata
    # the QGIS Processing provider's test (bindings/qgis, tests/python/test_qgis.py)
    qgis python3-qgis
    # the PostGIS test (tests/python/test_postgis.py starts its own cluster)
    postgresql postgresql-15-postgis-3
)
# npm: Debian's package unless an npm is already on PATH (e.g. one that came with node)
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(npm)
fi
# Optional, never needed by the tests or CI: regenerating the inference
# fixtures (tests/infer/make_fixtures.py) needs PyTorch and onnx.
#   scripts/deps.sh --optional
if [ "${1:-}" = "--optional" ]; then
    PACKAGES+=(python3-torch)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps: missing packages and not root (no sudo): ${missing[*]}" >&2
        exit 1
    fi
fi
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
