#!/usr/bin/env bash
# qgis-plugin.sh [OUT.zip] - the QGIS plug-in (bindings/qgis/eoproc_provider)
# as a zip for QGIS's "Plugins > Install from ZIP" (default: build/eoproc_provider.zip).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/build/eoproc_provider.zip}")
mkdir -p "$(dirname "$OUT")"
TMP="$OUT.tmp.$$"
trap 'rm -f "$TMP"' EXIT
(cd "$ROOT/bindings/qgis" && /usr/bin/python3 -m zipfile -c "$TMP" eoproc_provider)
mv "$TMP" "$OUT"
echo "$OUT"
