"""Independent references and small utilities shared by the eoproc tests.

Nothing here calls eoproc: references come from PROJ (geodesic areas through
libproj's geod_* API), GDAL (osgeo, gdalinfo) and plain arithmetic.
"""

import ctypes
import ctypes.util
import json
import math
import os
import re
import shutil
import subprocess

import pytest

# ---------------------------------------------------------------------------
# Geodesic polygon area on WGS84, from PROJ's geodesic library (Karney).
# ---------------------------------------------------------------------------
_proj = ctypes.CDLL(ctypes.util.find_library("proj") or "libproj.so.25")
_proj.geod_init.argtypes = [ctypes.c_void_p, ctypes.c_double, ctypes.c_double]
_proj.geod_init.restype = None
_proj.geod_polygonarea.argtypes = [
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_double),
    ctypes.c_int,
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_double),
]
_proj.geod_polygonarea.restype = None
# struct geod_geodesic is 51 doubles; leave room.
_WGS84 = (ctypes.c_double * 128)()
_proj.geod_init(_WGS84, 6378137.0, 1 / 298.257223563)


def ring_area_km2(ring):
    """Unsigned geodesic area (km²) of a closed or open lon/lat ring."""
    pts = list(ring)
    if len(pts) > 1 and tuple(pts[0]) == tuple(pts[-1]):
        pts = pts[:-1]
    n = len(pts)
    lats = (ctypes.c_double * n)(*[p[1] for p in pts])
    lons = (ctypes.c_double * n)(*[p[0] for p in pts])
    area = ctypes.c_double()
    perim = ctypes.c_double()
    _proj.geod_polygonarea(_WGS84, lats, lons, n, ctypes.byref(area), ctypes.byref(perim))
    return abs(area.value) / 1e6


def polygon_area_km2(rings):
    """Area of a GeoJSON Polygon's coordinates: shell minus holes."""
    return ring_area_km2(rings[0]) - sum(ring_area_km2(r) for r in rings[1:])


def box(x0, y0, x1, y1, clockwise=False):
    """A closed rectangular ring (counter-clockwise unless asked)."""
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return ring[::-1] if clockwise else ring


# ---------------------------------------------------------------------------
# eoproc info JSON (eo_dataset_info): the keys the tests rely on.
# ---------------------------------------------------------------------------
def _key(d, *path):
    cur = d
    for k in path:
        if not isinstance(cur, (dict, list)) or (isinstance(cur, dict) and k not in cur):
            pytest.fail("info JSON has no %s (keys: %s)" % (".".join(map(str, path)), sorted(d)))
        cur = cur[k]
    return cur


def info_size(d):
    """(width, height) from an info dict."""
    return _key(d, "width"), _key(d, "height")


def info_bands(d):
    """The per-band list of an info dict."""
    bands = _key(d, "bands")
    assert isinstance(bands, list)
    assert _key(d, "band_count") == len(bands)
    return bands


def band_dtype(b):
    return _key(b, "dtype")


def info_epsg(d):
    return _key(d, "crs", "epsg")


def info_pixel_size(d):
    """(x, y) pixel size, both positive."""
    px, py = _key(d, "pixel_size")
    return abs(px), abs(py)


def info_rotated(d):
    return _key(d, "rotated")


def info_geotransform(d):
    return list(_key(d, "geotransform"))


def info_footprint_ring(d):
    """The outer ring of the EPSG:4326 footprint polygon."""
    fp = _key(d, "footprint")
    assert fp["type"] == "Polygon"
    return fp["coordinates"][0]


def gdalinfo_json(path):
    """gdalinfo -json of path, run as a subprocess (the reference tool)."""
    exe = shutil.which("gdalinfo")
    assert exe, "gdalinfo (package gdal-bin) is needed by the tests"
    out = subprocess.run([exe, "-json", str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def assert_corners_in(footprint_ring, extent_ring, tol=1e-7):
    """Every corner of gdalinfo's wgs84Extent is a vertex of the footprint."""
    for cx, cy in extent_ring[:4]:
        best = min(math.hypot(x - cx, y - cy) for x, y in footprint_ring)
        assert best <= tol * math.sqrt(2), (
            "corner (%r, %r) of gdalinfo's wgs84Extent is %g deg from the footprint %r"
            % (cx, cy, best, footprint_ring)
        )


# ---------------------------------------------------------------------------
# Broken rasters
# ---------------------------------------------------------------------------
HTML = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n" \
       b"<body><h1>Not Found</h1><p>The requested URL was not found.</p></body></html>\n"


def make_bad_rasters(folder, good_tif):
    """Write a zero-byte .tif, an HTML page named .tif, a TIFF cut inside
    its first directory and a TIFF cut halfway through its pixels (an
    interrupted download) into folder; return {kind: path}."""
    folder = str(folder)
    paths = {
        "empty": os.path.join(folder, "empty.tif"),
        "html": os.path.join(folder, "page.tif"),
        "truncated": os.path.join(folder, "truncated.tif"),
        "truncated_pixels": os.path.join(folder, "half.tif"),
    }
    open(paths["empty"], "wb").close()
    with open(paths["html"], "wb") as f:
        f.write(HTML)
    with open(good_tif, "rb") as f:
        head = f.read(120)  # header + part of the first IFD (which starts at 8)
    with open(paths["truncated"], "wb") as f:
        f.write(head)
    with open(good_tif, "rb") as f:
        data = f.read()
    with open(paths["truncated_pixels"], "wb") as f:
        f.write(data[: len(data) // 2])
    return paths


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
ERROR_LINE = re.compile(r"^eoproc: error: (.+) \[([A-Za-z][A-Za-z0-9_.]*)\]$")


def run_cli(cli, *args, input=None, cwd=None):
    """Run the eoproc executable; returns the CompletedProcess (text)."""
    return subprocess.run(
        [cli, *[str(a) for a in args]],
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def assert_cli_error(proc, ids, exit_code=1, names=None):
    """A failed run: exit_code, nothing on stdout, exactly one stderr line
    `eoproc: error: MESSAGE [ID]` with ID in ids (any ID when ids is None),
    naming names when given. Returns MESSAGE."""
    if isinstance(ids, str):
        ids = (ids,)
    assert proc.returncode == exit_code, (
        "exit status %d, expected %d; stderr: %r" % (proc.returncode, exit_code, proc.stderr)
    )
    assert proc.stdout == "", "stdout should be empty on failure, got %r" % proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, "expected exactly one line on stderr, got %r" % proc.stderr
    m = ERROR_LINE.match(lines[0])
    assert m, "stderr line does not read 'eoproc: error: MESSAGE [ID]': %r" % lines[0]
    assert ids is None or m.group(2) in ids, "error id %r, expected one of %r (%r)" % (
        m.group(2),
        ids,
        lines[0],
    )
    if names:
        assert names in lines[0], "error line should name %r: %r" % (names, lines[0])
    return m.group(1)


# ---- detect outputs: footprints compared free of vertex order -------------


def norm_ring(ring):
    """A closed ring from its least vertex, counter-clockwise (the last,
    repeated vertex dropped): two rings of the same shape compare equal
    whatever vertex they start at and whichever way they turn."""
    pts = [tuple(p) for p in ring[:-1]]
    a2 = sum(pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1]
             for i in range(len(pts)))
    if a2 < 0:
        pts = pts[::-1]
    k = pts.index(min(pts))
    return pts[k:] + pts[:k]


def norm_geom(g):
    """A Polygon or MultiPolygon as sorted lists of normalised rings."""
    polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
    return sorted([norm_ring(p[0])] + sorted(norm_ring(h) for h in p[1:]) for p in polys)


def footprints(path):
    """A GeoJSON file's features as sorted (class, pixels, rings): order-free."""
    with open(path) as f:
        fc = json.load(f)
    return sorted((ft["properties"]["class"], ft["properties"]["pixels"], norm_geom(ft["geometry"]))
                  for ft in fc["features"])


def detect_features(path):
    """The features of a GeoJSON FeatureCollection file, in file order."""
    with open(path) as f:
        return json.load(f)["features"]


def same_features(a, b):
    """Two detect outputs (lists of building features) are the same run's:
    same order, classes, pixel counts, areas to 1e-9 and normalised rings."""
    assert len(a) == len(b) and len(a) > 20
    for fa, fb in zip(a, b):
        pa, pb = fa["properties"], fb["properties"]
        assert pa["class"] == pb["class"] and pa["class_name"] == pb["class_name"] == "building"
        assert pa["area_m2"] == pytest.approx(pb["area_m2"], rel=1e-9)
        assert pa["pixels"] == pb["pixels"]
        assert norm_geom(fa["geometry"]) == norm_geom(fb["geometry"])


def run_model_threads(path, x, threads=(1, 2)):
    """eoproc.Model(path).run(x) on each thread count (the context's count
    restored after), as a list of outputs."""
    import eoproc
    from eoproc import _lib

    outs = []
    try:
        for t in threads:
            with eoproc._context() as ctx:
                _lib.eo_ctx_set_threads(ctx, t)
            outs.append(eoproc.Model(path).run(x))
    finally:
        with eoproc._context() as ctx:
            _lib.eo_ctx_set_threads(ctx, 0)
    return outs
