"""The eoproc command-line tool's contract, checked against gdalinfo -json,
osgeo and exact arithmetic.

Conventions: results are JSON on stdout; a failure is exactly one line on
stderr, `eoproc: error: MESSAGE [ID]`, with exit status 1 for a failed
operation and 2 for a usage error; `--quiet` silences progress."""

import json
import os
import re
import shutil

import pytest
from osgeo import gdal, osr

from helpers import (
    assert_cli_error,
    assert_corners_in,
    band_dtype,
    box,
    gdalinfo_json,
    info_bands,
    info_epsg,
    info_footprint_ring,
    info_geotransform,
    info_pixel_size,
    info_rotated,
    info_size,
    make_bad_rasters,
    run_cli,
)

gdal.UseExceptions()

UTM_SQUARE_KM2 = 1.0 / 0.9996**2


def ok_json(proc):
    """A successful run: exit 0, JSON on stdout."""
    assert proc.returncode == 0, "exit %d; stderr: %r" % (proc.returncode, proc.stderr)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        pytest.fail("stdout is not JSON: %r" % proc.stdout[:500])


def utm_square_geojson():
    src = osr.SpatialReference()
    src.ImportFromEPSG(32631)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    ring = [list(tr.TransformPoint(x, y)[:2]) for x, y in box(500000, 100000, 501000, 101000)]
    ring[-1] = ring[0]
    return {"type": "Polygon", "coordinates": [ring]}


# ---------------------------------------------------------------------------
# version, help, ops
# ---------------------------------------------------------------------------
def test_version(cli):
    proc = run_cli(cli, "--version")
    assert proc.returncode == 0, proc.stderr
    assert "1.0.0" in proc.stdout
    # the build info JSON object is part of the output
    start = proc.stdout.index("{")
    info, _ = json.JSONDecoder().raw_decode(proc.stdout[start:])
    assert info["version"] == "1.0.0"
    assert info["gdal"] == gdal.__version__
    assert info["simd"] in ("portable", "avx2", "avx512")


def test_help_lists_commands(cli):
    proc = run_cli(cli, "--help")
    assert proc.returncode == 0, proc.stderr
    for cmd in ("info", "area", "run", "ops"):
        assert re.search(r"\b%s\b" % cmd, proc.stdout), "--help does not list %r" % cmd


def test_ops(cli):
    ops = ok_json(run_cli(cli, "ops"))
    assert isinstance(ops, list)
    names = [o["name"] if isinstance(o, dict) else o for o in ops]
    assert "info" in names and "aoi_area" in names


@pytest.mark.parametrize("cmd,options", [("info", ()), ("area", ("--crs", "--repair"))])
def test_subcommand_help(cli, cmd, options):
    proc = run_cli(cli, cmd, "--help")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert re.search(r"\busage\b", text, re.I), text
    assert cmd in text
    assert "--" in text, "no options listed: %r" % text
    for opt in options:
        assert opt in text, "%s --help does not list %s" % (cmd, opt)


# ---------------------------------------------------------------------------
# info
# ---------------------------------------------------------------------------
def test_info_l7(cli, l7):
    d = ok_json(run_cli(cli, "info", l7))
    ref = gdalinfo_json(l7)
    assert info_size(d) == tuple(ref["size"]) == (349, 352)
    bands = info_bands(d)
    assert len(bands) == len(ref["bands"]) == 6
    assert [band_dtype(b) for b in bands] == ["uint8"] * 6
    assert info_epsg(d) == 31985
    px, py = info_pixel_size(d)
    assert px == pytest.approx(28.5, abs=1e-6) and py == pytest.approx(28.5, abs=1e-6)
    assert info_geotransform(d) == pytest.approx(ref["geoTransform"], rel=1e-15)
    assert info_rotated(d) is False
    assert_corners_in(info_footprint_ring(d), ref["wgs84Extent"]["coordinates"][0])


def test_info_geomatrix_rotated(cli, geomatrix):
    d = ok_json(run_cli(cli, "info", geomatrix))
    assert info_rotated(d) is True
    assert info_geotransform(d) == list(gdal.Open(str(geomatrix)).GetGeoTransform())


@pytest.mark.parametrize("where", ["command", "global"])
def test_info_quiet(cli, l7, where):
    args = ("info", "--quiet", l7) if where == "command" else ("--quiet", "info", l7)
    proc = run_cli(cli, *args)
    d = ok_json(proc)
    assert info_size(d) == (349, 352)
    assert proc.stderr == ""


@pytest.mark.parametrize("kind", ["truncated", "truncated_pixels", "html", "empty", "missing"])
def test_info_bad_files(cli, tmp_path, l7, kind):
    folder = tmp_path / "in"
    folder.mkdir()
    if kind == "missing":
        path = str(folder / "missing.tif")
        ids = ("io.NotFound",)
    else:
        path = make_bad_rasters(folder, l7)[kind]
        ids = ("io.Read", "source.Invalid")
    before = sorted(os.listdir(folder))
    proc = run_cli(cli, "info", path, cwd=tmp_path)
    assert_cli_error(proc, ids, exit_code=1, names=os.path.basename(path))
    assert sorted(os.listdir(folder)) == before, "files appeared beside the input"
    assert sorted(os.listdir(tmp_path)) == ["in"], "files appeared in the working directory"


def test_info_leaves_no_sidecar(cli, tmp_path, l7):
    shutil.copy(l7, tmp_path / "scene.tif")
    before = sorted(os.listdir(tmp_path))
    ok_json(run_cli(cli, "info", tmp_path / "scene.tif"))
    assert sorted(os.listdir(tmp_path)) == before


def test_info_without_file_is_usage_error(cli):
    proc = run_cli(cli, "info")
    assert_cli_error(proc, None, exit_code=2)


def test_info_extra_argument_is_usage_error(cli, l7):
    proc = run_cli(cli, "info", l7, l7)
    assert_cli_error(proc, None, exit_code=2)


def test_unknown_option_is_usage_error(cli, l7):
    proc = run_cli(cli, "info", "--no-such-option", l7)
    assert_cli_error(proc, None, exit_code=2, names="--no-such-option")


def test_option_missing_value_is_usage_error(cli, tmp_path):
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [box(0, 0, 1, 1)]}))
    proc = run_cli(cli, "area", path, "--crs")
    assert_cli_error(proc, None, exit_code=2, names="--crs")


def test_unknown_command(cli):
    proc = run_cli(cli, "no-such-command")
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "no-such-command" in proc.stderr


# ---------------------------------------------------------------------------
# area
# ---------------------------------------------------------------------------
def test_area_square(cli, tmp_path):
    path = tmp_path / "square.geojson"
    path.write_text(json.dumps(utm_square_geojson()))
    proc = run_cli(cli, "area", path)
    out = ok_json(proc)
    assert proc.stderr == ""
    assert out["area_km2"] == pytest.approx(UTM_SQUARE_KM2, rel=1e-3)


def test_area_crs_option(cli, tmp_path):
    path = tmp_path / "square_utm.geojson"
    path.write_text(
        json.dumps({"type": "Polygon", "coordinates": [box(500000, 100000, 501000, 101000)]})
    )
    out = ok_json(run_cli(cli, "area", "--crs", "EPSG:32631", path))
    assert out["area_km2"] == pytest.approx(UTM_SQUARE_KM2, rel=1e-3)


def test_area_missing_file(cli, tmp_path):
    proc = run_cli(cli, "area", tmp_path / "none.geojson")
    assert_cli_error(proc, "io.NotFound", exit_code=1, names="none.geojson")


def test_area_without_file_is_usage_error(cli):
    proc = run_cli(cli, "area")
    assert_cli_error(proc, None, exit_code=2)


def test_run_without_op_is_usage_error(cli):
    proc = run_cli(cli, "run")
    assert_cli_error(proc, None, exit_code=2)


# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------
def test_run_aoi_area_file(cli, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"aoi": utm_square_geojson()}))
    out = ok_json(run_cli(cli, "run", "aoi_area", params))
    assert out["area_km2"] == pytest.approx(UTM_SQUARE_KM2, rel=1e-3)


def test_run_aoi_area_stdin(cli):
    proc = run_cli(cli, "run", "aoi_area", "-", input=json.dumps({"aoi": utm_square_geojson()}))
    out = ok_json(proc)
    assert out["area_km2"] == pytest.approx(UTM_SQUARE_KM2, rel=1e-3)


def test_run_info_file_and_stdin(cli, tmp_path, l7):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"path": str(l7)}))
    ref = gdalinfo_json(l7)
    a = ok_json(run_cli(cli, "run", "info", params))
    b = ok_json(run_cli(cli, "run", "info", "-", input=json.dumps({"path": str(l7)})))
    for d in (a, b):
        assert info_size(d) == tuple(ref["size"])
        assert len(info_bands(d)) == len(ref["bands"])
        assert info_epsg(d) == 31985


def test_run_unknown_op(cli, tmp_path):
    params = tmp_path / "params.json"
    params.write_text("{}")
    proc = run_cli(cli, "run", "no_such_op", params)
    assert_cli_error(proc, "op.Unknown", exit_code=1, names="no_such_op")


@pytest.mark.parametrize(
    "params,field",
    [({}, "path"), ({"path": 7}, "path"), ({"path": "x.tif", "colour": 1}, "colour")],
)
def test_run_bad_params(cli, params, field):
    proc = run_cli(cli, "run", "info", "-", input=json.dumps(params))
    msg = assert_cli_error(proc, "param.Invalid", exit_code=1)
    assert field in msg


def test_run_params_not_json(cli):
    proc = run_cli(cli, "run", "info", "-", input="{not json")
    assert_cli_error(proc, "param.Invalid", exit_code=1)


def test_run_operation_failure(cli, tmp_path):
    proc = run_cli(cli, "run", "info", "-", input=json.dumps({"path": str(tmp_path / "no.tif")}))
    assert_cli_error(proc, "io.NotFound", exit_code=1, names="no.tif")


@pytest.mark.parametrize("flag", ["--no-stats", "--stats=false", "--stats=no"])
def test_boolean_option_turned_off(cli, tmp_path, l7, flag):
    # the cog op embeds statistics by default; each spelling turns them off,
    # as gdalinfo of the output shows
    out = tmp_path / "out.tif"
    p = run_cli(cli, "cog", l7, out, flag, "--quiet")
    assert p.returncode == 0, p.stderr
    md = gdal.Info(str(out), format="json")["bands"][0].get("metadata", {}).get("", {})
    assert not any(k.startswith("STATISTICS_") for k in md)
    p = run_cli(cli, "cog", l7, out, "--quiet")
    md = gdal.Info(str(out), format="json")["bands"][0]["metadata"][""]
    assert "STATISTICS_MEAN" in md


def test_no_prefix_only_for_booleans(cli, tmp_path, l7):
    out = tmp_path / "out.tif"
    assert_cli_error(run_cli(cli, "cog", l7, out, "--no-compress"), "arg.Invalid", exit_code=2)
    assert_cli_error(run_cli(cli, "cog", l7, out, "--no-stats=1"), "arg.Invalid", exit_code=2)
    assert not out.exists()
    p = run_cli(cli, "cog", "--help")
    assert "--[no-]stats" in p.stdout and "(default: on)" in p.stdout
    assert "(one of: zstd, deflate, lzw, none)" in p.stdout
