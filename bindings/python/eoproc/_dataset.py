"""Datasets kept open: a raster file, a mosaic of files, or a tile pyramid
(a folder, an MBTiles file or a Python callable returning tile bytes) read
as a raster in EPSG:3857 at one zoom.

A :class:`Dataset` is ``os.PathLike``: its path is the name GDAL opens in
this process (the file itself, or an in-memory VRT for a mosaic or a tile
pyramid), so it can be passed wherever an eoproc function takes the path of
a raster (``eoproc.read``, ``eoproc.tile``, ``eoproc.cog``, ``eoproc.index``,
``eoproc.zonal_stats``, ``eoproc.run(...)``, ...) while it is open. Not across
processes: the CLI cannot open it.
"""

import json
import os
import threading
from ctypes import CFUNCTYPE, POINTER, byref, c_char_p, c_int, c_int32, c_int64, c_size_t, c_void_p

from . import _lib
from ._lib import ctx_p, dataset_p, opts_p, status

# int (*eo_tile_fetch_fn)(void *user, int32_t z, int32_t x, int32_t y, eo_tile_sink *sink)
FETCH_FN = CFUNCTYPE(c_int, c_void_p, c_int32, c_int32, c_int32, c_void_p)

_f = _lib._fn
eo_tilesrc_opts_new = _f("eo_tilesrc_opts_new", status, [ctx_p, POINTER(c_void_p)])
eo_tilesrc_opts_free = _f("eo_tilesrc_opts_free", None, [opts_p])
eo_tilesrc_opts_set_zoom = _f("eo_tilesrc_opts_set_zoom", status, [ctx_p, opts_p, c_int32])
eo_tilesrc_opts_set_bbox = _f(
    "eo_tilesrc_opts_set_bbox", status, [ctx_p, opts_p, POINTER(_lib.eo_bbox), c_char_p]
)
eo_tilesrc_opts_set_aoi = _f("eo_tilesrc_opts_set_aoi", status, [ctx_p, opts_p, c_void_p])
eo_tilesrc_opts_set_scheme = _f("eo_tilesrc_opts_set_scheme", status, [ctx_p, opts_p, c_int32])
eo_tilesrc_opts_set_tile_size = _f(
    "eo_tilesrc_opts_set_tile_size", status, [ctx_p, opts_p, c_int32]
)
eo_tilesrc_opts_set_bands = _f("eo_tilesrc_opts_set_bands", status, [ctx_p, opts_p, c_int32])
eo_tilesrc_opts_set_nodata = _f("eo_tilesrc_opts_set_nodata", status, [ctx_p, opts_p, c_int32])
eo_tilesrc_opts_set_cache_bytes = _f(
    "eo_tilesrc_opts_set_cache_bytes", status, [ctx_p, opts_p, c_int64]
)
eo_tilesrc_opts_set_corrupt_as_missing = _f(
    "eo_tilesrc_opts_set_corrupt_as_missing", status, [ctx_p, opts_p, c_int32]
)
eo_tile_sink_set = _f("eo_tile_sink_set", status, [c_void_p, c_char_p, c_size_t])
eo_tile_sink_set_error = _f("eo_tile_sink_set_error", None, [c_void_p, c_char_p])
eo_dataset_open_tiles = _f(
    "eo_dataset_open_tiles", status, [ctx_p, POINTER(c_void_p), c_char_p, opts_p]
)
eo_dataset_open_tiles_callback = _f(
    "eo_dataset_open_tiles_callback", status, [ctx_p, POINTER(c_void_p), FETCH_FN, c_void_p, opts_p]
)
eo_dataset_tiles_missing = _f("eo_dataset_tiles_missing", c_int64, [dataset_p])
eo_dataset_tiles_info = _f("eo_dataset_tiles_info", status, [ctx_p, POINTER(c_void_p), dataset_p])
eo_dataset_open_mosaic = _f(
    "eo_dataset_open_mosaic", status, [ctx_p, POINTER(c_void_p), POINTER(c_char_p), c_int32]
)
eo_dataset_gdal_path = _f("eo_dataset_gdal_path", c_char_p, [dataset_p])

_SCHEMES = {"auto": -1, "xyz": 0, "tms": 1, "quadkey": 2}


def _fetcher(fn):
    """Wrap a Python callable(z, x, y) -> bytes | None as an eo_tile_fetch_fn."""

    def call(user, z, x, y, sink):
        try:
            data = fn(z, x, y)
            if data is None:
                return 0
            data = bytes(data)
            return 0 if eo_tile_sink_set(sink, data, len(data)) == _lib.EO_OK else 1
        except BaseException as e:  # never let an exception cross into C
            msg = ("%s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")[:240]
            eo_tile_sink_set_error(sink, msg)
            return 1

    return FETCH_FN(call)


class Dataset(os.PathLike):
    """An open dataset (see :func:`open` and :func:`open_tiles`).

    Use as a context manager or call :meth:`close`; a dataset is closed when
    garbage-collected too. Methods may be called from several threads.
    """

    def __init__(self, handle, label, keep=None):
        self._h = handle
        self._label = label
        self._keep = keep  # the ctypes callback of a callable source
        self._lock = threading.Lock()
        self._path = eo_dataset_gdal_path(handle).decode("utf-8")
        self.width = _lib.eo_dataset_width(handle)
        self.height = _lib.eo_dataset_height(handle)
        self.band_count = _lib.eo_dataset_band_count(handle)

    # -- lifetime
    def close(self):
        """Close the dataset (idempotent); its path stops working."""
        with self._lock:
            if self._h is not None and self._h.value:
                _lib.eo_dataset_close(self._h)
            self._h = None
            self._keep = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def closed(self):
        return self._h is None

    def _handle(self):
        from . import Error

        if self._h is None:
            raise Error("dataset %s is closed" % self._label, "state.Invalid", 12)
        return self._h

    def _named(self, fn, *args, **kw):
        """Call fn; an Error's message names the dataset, not its VRT."""
        from . import Error

        try:
            return fn(*args, **kw)
        except Error as e:
            if self._path == self._label or self._path not in e.message:
                raise
            raise Error(e.message.replace(self._path, self._label), e.id, e.code) from None

    def __fspath__(self):
        self._handle()
        return self._path

    def __repr__(self):
        return "<eoproc.Dataset %s %dx%dx%d%s>" % (
            self._label,
            self.width,
            self.height,
            self.band_count,
            " closed" if self._h is None else "",
        )

    @property
    def path(self):
        """What the dataset was opened from (a label for a callable)."""
        return self._label

    @property
    def shape(self):
        """(bands, height, width)"""
        return (self.band_count, self.height, self.width)

    # -- contents
    def info(self):
        """Metadata as a dict (as :func:`eoproc.info`); a tile dataset adds
        ``"tiles"``: :meth:`tiles_info`."""
        from . import info

        with self._lock:
            d = self._named(info, self)
        d["path"] = self._label
        if self.is_tiles:
            d["tiles"] = self.tiles_info()
        return d

    @property
    def is_tiles(self):
        return self._path.startswith("/vsimem/eoproc/tiles-")

    def tiles_info(self):
        """Source, zoom, tile range and counters of a tile dataset (dict)."""
        from . import _check, _context, _take_string

        with self._lock, _context() as ctx:
            out = c_void_p()
            _check(ctx, eo_dataset_tiles_info(ctx, byref(out), self._handle()))
            return json.loads(_take_string(out))

    @property
    def missing_tiles(self):
        """Tiles found missing so far (each counted once); 0 for a file."""
        with self._lock:
            return int(eo_dataset_tiles_missing(self._handle()))

    def read(self, window=None, bands=None, out_shape=None, dtype=None, resampling="nearest"):
        """Pixels of a window ``(col, row, width, height)`` (None: all) as a
        ``(bands, height, width)`` numpy array; see :func:`eoproc.read`."""
        from . import read

        self._handle()
        return self._named(
            read, self, window=window, bands=bands, out_shape=out_shape, dtype=dtype,
            resampling=resampling,
        )[0]

    def read_georef(self, window=None, **kw):
        """Like :meth:`read`, returning ``(array, georef)``."""
        from . import read

        self._handle()
        return self._named(read, self, window=window, **kw)

    def tile(self, z, x, y, size=256, resampling="bilinear", bands=None, scheme="xyz"):
        """Web-mercator tile z/x/y of the dataset: ``(array, georef)`` as
        :func:`eoproc.tile`."""
        from . import tile

        self._handle()
        return self._named(
            tile, self, z, x, y, size=size, resampling=resampling, bands=bands, scheme=scheme
        )


def open(path_or_paths):
    """Open a raster file, or a list of files as one mosaic, as a
    :class:`Dataset`."""
    from . import _check, _context, _cpath

    if isinstance(path_or_paths, (list, tuple)):
        paths = [_cpath(p, "paths") for p in path_or_paths]
        label = "mosaic of %d files" % len(paths)
    else:
        paths = [_cpath(path_or_paths)]
        label = os.fsdecode(paths[0])
    with _context() as ctx:
        ds = c_void_p()
        if len(paths) == 1:
            _check(ctx, _lib.eo_dataset_open(ctx, byref(ds), paths[0]))
        else:
            arr = (c_char_p * len(paths))(*paths)
            _check(ctx, eo_dataset_open_mosaic(ctx, byref(ds), arr, len(paths)))
        return Dataset(ds, label)


def open_tiles(
    source,
    zoom,
    bbox=None,
    bbox_crs="EPSG:4326",
    aoi=None,
    aoi_crs=None,
    scheme="xyz",
    tile_size=256,
    bands=4,
    nodata=0,
    cache_bytes=None,
    corrupt_as_missing=False,
):
    """Open a tile pyramid as a raster in EPSG:3857 at one zoom's resolution.

    Args:
        source: a folder of tiles (``{z}/{x}/{y}.png|jpg|jpeg|webp``, or
            ``{quadkey}.ext`` with scheme "quadkey"), an MBTiles file, or a
            callable ``fn(z, x, y) -> bytes | None`` returning the encoded
            tile (XYZ rows), None for a missing tile. The callable may be
            called from several threads at once (never for the same tile).
        zoom: the zoom whose tiles are read.
        bbox: ``(xmin, ymin, xmax, ymax)`` in ``bbox_crs`` ("EPSG:4326",
            the default, or "EPSG:3857"); or give ``aoi`` (GeoJSON dict,
            text or file, in ``aoi_crs`` or as the GeoJSON says).
        scheme: "xyz", "tms" or "quadkey" (folders only).
        tile_size: pixels of a tile side (256); a tile of another size is an error.
        bands: 4 (RGBA, default), 3 (RGB), 2 (gray + alpha) or 1 (gray).
        nodata: value of missing pixels without an alpha band (0..255).
        cache_bytes: bound of the decoded-tile cache (default 128 MiB).
        corrupt_as_missing: read tiles that cannot be decoded as missing.

    Returns:
        :class:`Dataset` (``missing_tiles``, ``tiles_info()``, ``read()``...).

    Raises:
        Error: io.NotFound, source.Invalid (not an MBTiles file, truncated,
            no folder for the zoom), arg.Invalid; reads raise io.Read naming
            a corrupt tile.
    """
    from . import _arg_error, _check, _context, _cpath

    if scheme not in _SCHEMES:
        raise _arg_error("scheme must be 'auto', 'xyz', 'tms' or 'quadkey', got %r" % (scheme,))
    if (bbox is None) == (aoi is None):
        raise _arg_error("give exactly one of bbox and aoi")
    keep = None
    with _context() as ctx:
        o, g, ds = c_void_p(), c_void_p(), c_void_p()
        try:
            _check(ctx, eo_tilesrc_opts_new(ctx, byref(o)))
            _check(ctx, eo_tilesrc_opts_set_zoom(ctx, o, int(zoom)))
            if bbox is not None:
                vals = [float(v) for v in bbox]
                if len(vals) != 4:
                    raise _arg_error("bbox must be (xmin, ymin, xmax, ymax), got %r" % (bbox,))
                b = _lib.eo_bbox(*vals)
                crs = bbox_crs.encode() if bbox_crs else None
                _check(ctx, eo_tilesrc_opts_set_bbox(ctx, o, byref(b), crs))
            else:
                g = _parse_aoi(ctx, aoi, aoi_crs)
                _check(ctx, eo_tilesrc_opts_set_aoi(ctx, o, g))
            _check(ctx, eo_tilesrc_opts_set_scheme(ctx, o, _SCHEMES[scheme]))
            _check(ctx, eo_tilesrc_opts_set_tile_size(ctx, o, int(tile_size)))
            _check(ctx, eo_tilesrc_opts_set_bands(ctx, o, int(bands)))
            _check(ctx, eo_tilesrc_opts_set_nodata(ctx, o, int(nodata)))
            if cache_bytes is not None:
                _check(ctx, eo_tilesrc_opts_set_cache_bytes(ctx, o, int(cache_bytes)))
            _check(ctx, eo_tilesrc_opts_set_corrupt_as_missing(ctx, o, 1 if corrupt_as_missing else 0))
            if callable(source) and not isinstance(source, (str, bytes, os.PathLike)):
                keep = _fetcher(source)
                _check(ctx, eo_dataset_open_tiles_callback(ctx, byref(ds), keep, None, o))
                label = "callable %s" % getattr(source, "__name__", type(source).__name__)
            else:
                p = _cpath(source, "source")
                _check(ctx, eo_dataset_open_tiles(ctx, byref(ds), p, o))
                label = os.fsdecode(p)
            return Dataset(ds, label, keep)
        finally:
            eo_tilesrc_opts_free(o)
            if g.value:
                _lib.eo_geom_free(g)


def _parse_aoi(ctx, aoi, crs):
    """An eo_geom from GeoJSON (dict, text or a file path)."""
    from . import _check, _looks_like_json

    from . import _cpath

    o, g = c_void_p(), c_void_p()
    try:
        if crs is not None:
            _check(ctx, _lib.eo_geom_opts_new(ctx, byref(o)))
            _check(ctx, _lib.eo_geom_opts_set_crs(ctx, o, crs.encode()))
        if isinstance(aoi, dict):
            _check(ctx, _lib.eo_geom_from_geojson(ctx, byref(g), json.dumps(aoi).encode(), o))
        elif isinstance(aoi, (str, bytes)) and _looks_like_json(aoi):
            text = aoi.encode() if isinstance(aoi, str) else aoi
            _check(ctx, _lib.eo_geom_from_geojson(ctx, byref(g), text, o))
        else:
            _check(ctx, _lib.eo_geom_from_geojson_file(ctx, byref(g), _cpath(aoi, "aoi"), o))
    except BaseException:
        if g.value:
            _lib.eo_geom_free(g)
        raise
    finally:
        if o.value:
            _lib.eo_geom_opts_free(o)
    return g
