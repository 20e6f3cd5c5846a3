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


def tile(src, z, x, y, size=256, resampling="bilinear", bands=None, scheme="xyz"):
    """Render web-mercator tile z/x/y of a raster (any CRS) in EPSG:3857.

    Reads from the overview just finer than the tile, as gdalwarp does.

    Args:
        src: path of the raster, or an open :class:`eoproc.Dataset` (kept
            open between tiles: no open per call, its overviews and
            transformations reused).
        size: 256 or 512 (any 1..4096).
        resampling: "nearest", "bilinear", "cubic", "average", "mode", "lanczos".
        bands: source bands to render (1-based; default 1, or 1, 2, 3).
        scheme: row order of y ("xyz" or "tms").

    Returns:
        (array of shape (bands + 1, size, size) in the source's data type, the
        last band the alpha mask: 255 where the source has data; georef dict).
    """
    from ctypes import byref, c_void_p

    from . import _check, _context, _cpath, _lib, _arg_error
    from ._dataset import Dataset

    z, x, y = int(z), int(x), int(y)
    if scheme == "tms":
        y = (1 << z) - 1 - y
    elif scheme != "xyz":
        raise _arg_error("scheme must be 'xyz' or 'tms', got %r" % (scheme,))
    method = _lib.eo_resampling_from_name(str(resampling).encode())
    if isinstance(src, Dataset):  # an open dataset: no open per tile
        with src._lock:
            return _tile_of(src._handle(), z, x, y, size, method, bands)
    path = _cpath(src, "src")
    with _context() as ctx:
        ds = c_void_p()
        try:
            _check(ctx, _lib.eo_dataset_open(ctx, byref(ds), path))
        except BaseException:
            _lib.eo_dataset_close(ds)
            raise
    try:
        return _tile_of(ds, z, x, y, size, method, bands)
    finally:
        _lib.eo_dataset_close(ds)


def _tile_of(ds, z, x, y, size, method, bands):
    """eo_tile_read of an open dataset handle -> (array, georef)."""
    from ctypes import byref, c_int32, c_void_p

    from . import _check, _context, _lib, _raster_to_numpy

    with _context() as ctx:
        opts, r = c_void_p(), c_void_p()
        try:
            _check(ctx, _lib.eo_tile_opts_new(ctx, byref(opts)))
            _check(ctx, _lib.eo_tile_opts_set_size(ctx, opts, int(size)))
            _check(ctx, _lib.eo_tile_opts_set_resampling(ctx, opts, method))
            if bands is not None:
                arr = (c_int32 * len(bands))(*[int(b) for b in bands])
                _check(ctx, _lib.eo_tile_opts_set_bands(ctx, opts, arr, len(bands)))
            _check(ctx, _lib.eo_tile_read(ctx, byref(r), ds, z, x, y, opts))
            return _raster_to_numpy(ctx, r)
        finally:
            _lib.eo_raster_free(r)
            _lib.eo_tile_opts_free(opts)
