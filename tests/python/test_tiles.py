"""Web-mercator tile math, checked against the slippy-map formulas written
out here, PROJ (through osgeo.osr) for EPSG:3857 coordinates, and OGR
geometry predicates for the tiles that cover an AOI."""

import json
import math

import pytest
from osgeo import ogr, osr

import eoproc
from helpers import assert_cli_error, run_cli

ORIGIN = math.pi * 6378137.0


def ref_lonlat_bounds(z, x, y):
    n = 2**z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return [x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)]


def ref_quadkey(z, x, y):
    digits = []
    for i in range(z, 0, -1):
        mask = 1 << (i - 1)
        digits.append(str((1 if x & mask else 0) + (2 if y & mask else 0)))
    return "".join(digits)


def to_3857(lon, lat):
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(4326)
    dst.ImportFromEPSG(3857)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x, y, _ = osr.CoordinateTransformation(src, dst).TransformPoint(lon, lat)
    return x, y


TILES = [(0, 0, 0), (1, 1, 0), (3, 5, 3), (12, 1525, 2110), (18, 101000, 134000), (22, 0, 4194303)]


@pytest.mark.parametrize("z,x,y", TILES)
def test_tile_bounds(z, x, y):
    got = eoproc.tile_bounds(z, x, y)
    want = ref_lonlat_bounds(z, x, y)
    assert got["bounds_4326"] == pytest.approx(want, abs=1e-12)
    # mercator bounds: PROJ's projection of the lon/lat corners
    x0, y0 = to_3857(want[0], want[1])
    x1, y1 = to_3857(want[2], want[3])
    assert got["bounds_3857"] == pytest.approx([x0, y0, x1, y1], abs=1e-6)
    assert got["quadkey"] == ref_quadkey(z, x, y)
    assert got["tms_y"] == 2**z - 1 - y
    assert got["resolution_m"] == pytest.approx(2 * ORIGIN / 256 / 2**z, rel=1e-12)
    # the same tile by QuadKey and in TMS order
    assert eoproc.tile_bounds(got["quadkey"]) == got if z > 0 else True
    assert eoproc.tile_bounds(z, x, 2**z - 1 - y, scheme="tms") == got


def ref_cover(aoi, z):
    """Tiles whose interior meets the AOI's: OGR predicates on lon/lat boxes
    (tile edges are lines of constant longitude or latitude)."""
    g = ogr.CreateGeometryFromJson(json.dumps(aoi))
    x0, x1, y0, y1 = g.GetEnvelope()
    n = 2**z

    def col(lon):
        return min(n - 1, max(0, int((lon + 180) / 360 * n)))

    def row(lat):
        r = math.asinh(math.tan(math.radians(lat)))
        return min(n - 1, max(0, int((1 - r / math.pi) / 2 * n)))

    out = []
    for ty in range(row(y1), row(y0) + 1):
        for tx in range(col(x0), col(x1) + 1):
            b = ref_lonlat_bounds(z, tx, ty)
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for px, py in [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3]), (b[0], b[1])]:
                ring.AddPoint_2D(px, py)
            t = ogr.Geometry(ogr.wkbPolygon)
            t.AddGeometry(ring)
            if g.Intersects(t) and not g.Touches(t):
                out.append((z, tx, ty))
    return out


# an irregular polygon with a hole over Recife / Olinda (Brazil)
AOI = {
    "type": "Polygon",
    "coordinates": [
        [[-34.97, -8.13], [-34.83, -8.11], [-34.81, -7.96], [-34.90, -7.93], [-34.99, -8.02],
         [-34.97, -8.13]],
        [[-34.93, -8.07], [-34.88, -8.08], [-34.87, -8.02], [-34.92, -8.01], [-34.93, -8.07]],
    ],
}


@pytest.mark.parametrize("z", [8, 10, 12, 13, 14])
def test_tiles_cover_matches_ogr(z):
    got = eoproc.tiles_cover(AOI, z)
    want = ref_cover(AOI, z)
    assert got == sorted(want, key=lambda t: (t[2], t[1]))
    if z == 14:
        assert len(got) > 50  # the hole excludes interior tiles
        full = ref_cover({"type": "Polygon", "coordinates": [AOI["coordinates"][0]]}, z)
        assert len(full) > len(got)


def test_tiles_cover_range_and_tms():
    got = eoproc.tiles_cover(AOI, 10, max_zoom=12, scheme="tms")
    want = []
    for z in (10, 11, 12):
        want += [(z, x, 2**z - 1 - y) for (z, x, y) in sorted(ref_cover(AOI, z), key=lambda t: (t[2], t[1]))]
    assert got == want


def test_cli_tiles(cli, tmp_path):
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps(AOI))
    proc = run_cli(cli, "cover", path, "--zoom", "12", "--quadkeys")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    want = sorted(ref_cover(AOI, 12), key=lambda t: (t[2], t[1]))
    assert [tuple(t) for t in res["tiles"]] == want
    assert res["quadkeys"] == [ref_quadkey(*t) for t in want]
    assert res["count"] == len(want)

    proc = run_cli(cli, "tile-bounds", "12/1525/2110")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["bounds_4326"] == pytest.approx(ref_lonlat_bounds(12, 1525, 2110))


@pytest.mark.parametrize(
    "tile,ids",
    [("12/5000/1", "arg.Invalid"), ("12/a/b", "param.Invalid"), ("0124", "arg.Invalid"),
     ("31/0/0", "arg.Invalid")],
)
def test_cli_bad_tiles(cli, tile, ids):
    assert_cli_error(run_cli(cli, "tile-bounds", tile), ids)


def test_cover_needs_zoom(cli, tmp_path):
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps(AOI))
    # a missing required option is a usage error (2), as a missing argument is
    assert_cli_error(run_cli(cli, "cover", path), "arg.Invalid", exit_code=2, names="--zoom")
    assert_cli_error(run_cli(cli, "cover", path, "--zoom", "31"), "param.Invalid")
    assert_cli_error(run_cli(cli, "cover", path, "--zoom", "12", "--max-zoom", "11"),
                     "param.Invalid")
