"""Tile sources: URL templates read as files, TMS recognised by
tilemapresource.xml, and eo_tilesrc_diagnose for an empty read.

References: the same tiles read from the XYZ folder (itself checked against
GDAL decoding the files in test_tilesrc.py) and the TMS row formula."""

import ctypes
import os

import numpy as np

import eoproc
from eoproc import _lib
from test_tilesrc import Z, block_bbox, make_tms, mosaic_of_files, pyr  # noqa: F401

_diag = _lib.lib.eo_tilesrc_diagnose
_diag.restype = ctypes.c_int
_diag.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_void_p]


def diagnose(ds):
    out = ctypes.c_void_p()
    with eoproc._context() as ctx:
        st = _diag(ctx, ctypes.byref(out), ds._h, None)
        assert st == 0
    msg = ctypes.string_at(out.value).decode()
    _lib.eo_free(out)
    return msg


def test_file_template_tms_rows_equal_folder(pyr, tmp_path):
    x0, y0 = pyr["block"]
    tms = tmp_path / "tms"
    make_tms(pyr["png"], tms)
    tmpl = str(tms) + "/{z}/{x}/{-y}.png"
    with eoproc.open_tiles(tmpl, Z, bbox=block_bbox(x0, y0, 2, 2), bbox_crs="EPSG:3857") as ds:
        arr = ds.read()
        assert ds.missing_tiles == 0
    np.testing.assert_array_equal(arr, mosaic_of_files(pyr["png"], "png", x0, y0, 2, 2))


def test_tms_folder_auto_and_diagnostic(pyr, tmp_path):
    x0, y0 = pyr["block"]
    tms = tmp_path / "tms"
    make_tms(pyr["png"], tms)
    (tms / "tilemapresource.xml").write_text("<TileMap version='1.0.0'></TileMap>")
    bbox = block_bbox(x0, y0, 2, 2)
    with eoproc.open_tiles(tms, Z, bbox=bbox, bbox_crs="EPSG:3857", scheme="auto") as ds:
        arr = ds.read()
        assert ds.missing_tiles == 0
    np.testing.assert_array_equal(arr, mosaic_of_files(pyr["png"], "png", x0, y0, 2, 2))
    # forced XYZ: the rows do not exist (the pyramid covers a small area, so
    # the flipped rows are far away) and the diagnostic says why
    with eoproc.open_tiles(tms, Z, bbox=bbox, bbox_crs="EPSG:3857", scheme="xyz") as ds:
        arr = ds.read()
        assert ds.missing_tiles == 4
        assert not arr[3].any()
        msg = diagnose(ds)
    assert "tilemapresource.xml" in msg and "TMS" in msg, msg
    assert "z%d" % Z in msg, msg
