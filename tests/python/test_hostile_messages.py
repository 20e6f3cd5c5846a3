"""Messages that name the problem (issue 16, point 11).

An unknown EPSG code is said to be one, naming the code, instead of
PROJ's "Unknown error (code 4096)". The reference for "unknown" is PROJ
itself through GDAL (osr refuses the same codes)."""

import pytest
from osgeo import osr

from helpers import assert_cli_error, run_cli

osr.UseExceptions()

AOI = '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'


@pytest.mark.parametrize("code", ["EPSG:999999", "epsg:4", "ESRI:1"])
def test_unknown_crs_code_named(cli, code):
    srs = osr.SpatialReference()
    with pytest.raises(RuntimeError):  # PROJ has no such code
        srs.SetFromUserInput(code)
    p = run_cli(cli, "area", "--crs", code, AOI)
    msg = assert_cli_error(p, "crs.Invalid", names=code)
    assert "unknown CRS code" in msg
    assert "code 4096" not in msg and "Unknown error" not in msg
    auth, num = code.split(":")
    assert ("%s code %s" % (auth, num)) in msg


def test_known_code_still_works(cli):
    p = run_cli(cli, "area", "--crs", "EPSG:4326", AOI)
    assert p.returncode == 0, p.stderr


def test_bad_definition_not_a_generic_code(cli):
    p = run_cli(cli, "area", "--crs", "+proj=foo", AOI)
    msg = assert_cli_error(p, "crs.Invalid", names="+proj=foo")
    assert "code 4096" not in msg
