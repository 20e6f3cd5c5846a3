"""Web-mercator tile math: thin wrappers over the tile_bounds and
tiles_cover operations of the registry."""

import os


def tile_bounds(z, x=None, y=None, scheme="xyz"):
    """Bounds of a web-mercator tile.

    Args:
        z: the zoom, or a QuadKey string (then x and y are not given).
        x, y: column and row; y in ``scheme`` order ("xyz": row 0 at the
            north, "tms": row 0 at the south).

    Returns:
        dict with ``z``, ``x``, ``y`` (XYZ), ``tms_y``, ``quadkey``,
        ``bounds_3857`` and ``bounds_4326`` ([xmin, ymin, xmax, ymax]) and
        ``resolution_m`` (metres per pixel of a 256-pixel tile at the equator).
    """
    from . import run

    if isinstance(z, str) and x is None and y is None:
        tile = z
    else:
        tile = "%d/%d/%d" % (int(z), int(x), int(y))
    return run("tile_bounds", tile=tile, scheme=scheme)


def tiles_cover(aoi, zoom, max_zoom=None, crs=None, scheme="xyz"):
    """The tiles whose interior meets the AOI's interior, at a zoom or a
    range of zooms.

    Args:
        aoi: GeoJSON as a dict, JSON text, or a path to a file.
        zoom: the zoom (or the first of a range up to ``max_zoom``).
        crs: CRS of the AOI's coordinates when the GeoJSON names none.
        scheme: row order of the returned y ("xyz" or "tms").

    Returns:
        list of (z, x, y) tuples in row-major order, zoom by zoom.
    """
    from . import run

    params = {"aoi": os.fspath(aoi) if isinstance(aoi, os.PathLike) else aoi, "zoom": int(zoom)}
    if max_zoom is not None:
        params["max_zoom"] = int(max_zoom)
    if crs is not None:
        params["crs"] = crs
    params["scheme"] = scheme
    return [tuple(t) for t in run("tiles_cover", **params)["tiles"]]
