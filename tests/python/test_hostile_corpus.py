"""A corpus of hostile inputs with their expected outcomes (issue 16).

Each case is generated here (no binary fixtures): a bad AOI over a good
raster, a bad raster under a good AOI, or a raster eoproc must refuse for
its type. Every one must give exactly one `eoproc: error: ... [ID]` line
with the expected id, exit status 1 (a crash is a signal, a negative
status), nothing on stdout, and leave no file in the output folder
(outputs go through a temporary name). Run by pytest, so in CI under
ASan and UBSan: a leak or undefined behaviour on any of these paths fails
there. New hostile inputs go in AOIS / RASTERS with the id they must get."""

import json

import numpy as np
import pytest
from osgeo import gdal, osr

from helpers import assert_cli_error, make_bad_rasters, run_cli

gdal.UseExceptions()

GOOD_AOI = {"type": "Polygon",
            "coordinates": [[[-34.9, -8.0], [-34.8, -8.0], [-34.8, -7.9], [-34.9, -8.0]]]}

# (name, GeoJSON text, expected id) over L7_ETMs.tif (EPSG:31985, Olinda)
AOIS = [
    ("empty object", "{}", "geometry.Invalid"),
    ("array", "[]", "geometry.Invalid"),
    ("no rings", '{"type":"Polygon","coordinates":[]}', "geometry.Invalid"),
    ("three positions", '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}',
     "geometry.Invalid"),
    ("unclosed ring", '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0.5]]]}',
     "geometry.Invalid"),
    ("string coordinate", '{"type":"Polygon","coordinates":[[[0,0],[1,"a"],[1,1],[0,0]]]}',
     "geometry.Invalid"),
    ("bow tie", '{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}',
     "geometry.Invalid"),
    ("point", '{"type":"Point","coordinates":[0,0]}', "geometry.Invalid"),
    ("infinite coordinate", '{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,0]]]}',
     "geometry.Invalid"),
    ("truncated JSON", '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]',
     "geometry.Invalid"),
    ("longitude 200", '{"type":"Polygon","coordinates":[[[0,0],[200,0],[200,1],[0,0]]]}',
     "geometry.Invalid"),
    ("empty collection", '{"type":"FeatureCollection","features":[]}', "geometry.Invalid"),
    ("disjoint", '{"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,10]]]}',
     "source.NoDataInAOI"),
    ("over the vertex limit",
     json.dumps({"type": "Polygon",
                 "coordinates": [[[-34.9 + 1e-6 * i, -8.0] for i in range(50001)]
                                 + [[-34.9, -7.9], [-34.9, -8.0]]]}),
     "aoi.TooLarge"),
]


@pytest.mark.parametrize("name,aoi,want", AOIS, ids=[a[0] for a in AOIS])
def test_hostile_aoi(cli, tmp_path, l7, name, aoi, want):
    outdir = tmp_path / "out"
    outdir.mkdir()
    path = tmp_path / "aoi.json"  # a file: the text form is tested elsewhere
    path.write_text(aoi)
    p = run_cli(cli, "--quiet", "clip", l7, path, outdir / "o.tif")
    assert_cli_error(p, want)
    assert list(outdir.iterdir()) == []


def complex_raster(path):
    mem = gdal.GetDriverByName("MEM").Create("", 8, 8, 2, gdal.GDT_CFloat32)
    mem.SetGeoTransform([500000, 10, 0, 4000080, 0, -10])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    mem.SetProjection(srs.ExportToWkt())
    for b in (1, 2):
        mem.GetRasterBand(b).WriteArray(np.ones((8, 8), np.complex64) * (1 + 2j))
    gdal.GetDriverByName("GTiff").CreateCopy(str(path), mem)


def test_hostile_rasters(cli, tmp_path, l7):
    bad = make_bad_rasters(tmp_path, l7)
    cases = [(bad["empty"], "source.Invalid"), (bad["html"], "source.Invalid"),
             (bad["truncated"], "source.Invalid"), (bad["truncated_pixels"], "io.Read"),
             (tmp_path / "missing.tif", "io.NotFound")]
    for src, want in cases:
        outdir = tmp_path / ("out_" + str(len(list(tmp_path.iterdir()))))
        outdir.mkdir()
        p = run_cli(cli, "--quiet", "clip", src, json.dumps(GOOD_AOI), outdir / "o.tif")
        assert_cli_error(p, want, names=str(src))
        assert list(outdir.iterdir()) == [], src
    # band math on a complex raster: refused, not read as its real part
    cplx = tmp_path / "complex.tif"
    complex_raster(cplx)
    for args in (("calc", cplx, "b1 + b2"), ("index", "--bands", "red=1,nir=2", cplx, "ndvi")):
        outdir = tmp_path / ("out_" + args[0])
        outdir.mkdir()
        p = run_cli(cli, "--quiet", *args, outdir / "o.tif")
        assert_cli_error(p, "unsupported", names="CFloat32")
        assert list(outdir.iterdir()) == []
