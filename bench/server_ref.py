"""The reference tile server of bench/server.sh: the same framework
(FastAPI + uvicorn) serving the same tiles the way rio-tiler does, with
Debian's rasterio: the dataset kept open (one per worker thread, as rasterio
datasets are not shared between threads), a WarpedVRT onto the tile's
EPSG:3857 grid per request, read with an alpha band, encoded by GDAL's PNG
driver through a MemoryFile.

    /usr/bin/python3 bench/server_ref.py SRC.tif --port 8081
"""
import argparse
import threading

import rasterio
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response
from rasterio.enums import Resampling
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds
from rasterio.vrt import WarpedVRT

HALF = 20037508.342789244


def make_app(src_path):
    app = FastAPI()
    local = threading.local()

    def dataset():
        ds = getattr(local, "ds", None)
        if ds is None:
            ds = local.ds = rasterio.open(src_path)
        return ds

    @app.get("/tiles/{z}/{x}/{y}.png")
    def tile(z: int, x: int, y: int):
        n = 2 ** z
        size = 2 * HALF / n
        bounds = (-HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size,
                  HALF - y * size)
        src = dataset()
        with WarpedVRT(src, crs="EPSG:3857", transform=from_bounds(*bounds, 256, 256),
                       width=256, height=256, resampling=Resampling.nearest,
                       add_alpha=True) as vrt:
            arr = vrt.read()
        with MemoryFile() as mem:
            with mem.open(driver="PNG", width=256, height=256, count=arr.shape[0],
                          dtype=arr.dtype) as dst:
                dst.write(arr)
            return Response(mem.read(), media_type="image/png")

    return app


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("--port", type=int, default=8081)
    a = ap.parse_args()
    uvicorn.run(make_app(a.src), host="127.0.0.1", port=a.port, log_level="warning",
                access_log=False)
