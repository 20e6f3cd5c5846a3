"""An independent reader agrees with GDAL on eoproc's COGs: geotiff.js (npm
package "geotiff", pinned in tests/node/package-lock.json, installed with
`npm ci` on first use) reads windows of the full resolution and of an
overview."""

import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest
from osgeo import gdal

import eoproc
from test_cog import random_array, write_gtiff

NODE_DIR = pathlib.Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="module")
def node_reader():
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are needed (Debian: nodejs)"
    if not (NODE_DIR / "node_modules" / "geotiff").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True,
                       capture_output=True, timeout=600)
    return [node, str(NODE_DIR / "read_window.mjs")]


def node_read(reader, path, image, window):
    p = subprocess.run(reader + [str(path), str(image)] + [str(v) for v in window],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parametrize(
    "dtype,bands,compress,predictor",
    [
        ("uint8", 3, "zstd", "none"),
        ("uint16", 3, "deflate", "horizontal"),
        ("int16", 5, "lzw", "horizontal"),
        ("float32", 2, "zstd", "float"),
        ("uint8", 1, "none", "none"),
    ],
)
def test_geotiff_js_reads_windows(tmp_path, node_reader, dtype, bands, compress, predictor):
    arr = random_array(dtype, bands, 700, 1100, seed=3)
    src = tmp_path / "src.tif"
    write_gtiff(src, arr)
    out = tmp_path / "out.tif"
    eoproc.cog(src, out, compress=compress, predictor=predictor, blocksize=256)
    ds = gdal.Open(str(out))
    for image, (x0, y0, x1, y1) in [(0, (250, 240, 300, 275)), (0, (1090, 690, 1100, 700)),
                                   (1, (100, 120, 140, 150)), (2, (0, 0, 20, 10))]:
        got = node_read(node_reader, out, image, (x0, y0, x1, y1))
        ref = []
        for b in range(bands):
            band = ds.GetRasterBand(b + 1)
            if image:
                band = band.GetOverview(image - 1)
            ref.append(band.ReadAsArray(x0, y0, x1 - x0, y1 - y0).ravel())
        assert got["tileWidth"] == 256
        np.testing.assert_array_equal(np.array(got["bands"], dtype=np.float64),
                                      np.array(ref, dtype=np.float64))
