"""Spectral indices, band math and analytics: index catalog, index and
expression rasters (numpy arrays or GeoTIFFs), zonal statistics, change
detection and time series.

Arrays come from the C API (``eo_expr_eval``); everything that returns a
dict goes through the operation registry, so the parameters, their checks
and their errors are the same as the command line's.
"""

import os
import sys
from ctypes import byref, c_char_p, c_double, c_void_p

import numpy as np

from . import _lib

_fn = _lib._fn
_eo_expr_parse = _fn("eo_expr_parse", _lib.status, [c_void_p, c_void_p, c_char_p])
_eo_expr_from_index = _fn("eo_expr_from_index", _lib.status, [c_void_p, c_void_p, c_char_p])
_eo_expr_free = _fn("eo_expr_free", None, [c_void_p])
_eo_opts_new = _fn("eo_analytics_opts_new", _lib.status, [c_void_p, c_void_p])
_eo_opts_free = _fn("eo_analytics_opts_free", None, [c_void_p])
_eo_opts_bands = _fn("eo_analytics_opts_set_bands", _lib.status, [c_void_p, c_void_p, c_char_p])
_eo_opts_sensor = _fn("eo_analytics_opts_set_sensor", _lib.status, [c_void_p, c_void_p, c_char_p])
_eo_opts_const = _fn(
    "eo_analytics_opts_set_constant", _lib.status, [c_void_p, c_void_p, c_char_p, c_double]
)
_eo_opts_scale = _fn(
    "eo_analytics_opts_set_scale", _lib.status, [c_void_p, c_void_p, c_double, c_double]
)
_eo_opts_nodata = _fn("eo_analytics_opts_set_nodata", _lib.status, [c_void_p, c_void_p, c_double])
_eo_expr_eval = _fn(
    "eo_expr_eval", _lib.status, [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p]
)


def _pkg():
    # the package itself (its context, errors and run()); imported lazily
    # because the package imports this module
    return sys.modules[__package__]


def _common(params, bands, sensor, constants, scale, offset):
    if bands is not None:
        if isinstance(bands, dict):
            bands = ",".join("%s=%d" % (k, int(v)) for k, v in bands.items())
        params["bands"] = bands
    if sensor is not None:
        params["sensor"] = sensor
    if constants is not None:
        params["constants"] = dict(constants)
    if scale != 1:
        params["scale"] = scale
    if offset != 0:
        params["offset"] = offset
    return params


def _path(p):
    return os.fspath(p) if isinstance(p, os.PathLike) else p


def indices():
    """The index catalog: a list of dicts with ``name``, ``long_name``,
    ``formula``, ``bands`` (the symbols it needs), ``constants`` (defaults)
    and ``reference``."""
    return _pkg().run("indices")


def _evaluate(src, text, is_index, window, bands, sensor, constants, scale, offset, nodata):
    eo = _pkg()
    p = eo._cpath(src)
    win = None
    if window is not None:
        vals = tuple(window)
        if len(vals) != 4:
            raise eo._arg_error("window must be (col, row, width, height), got %r" % (window,))
        win = _lib.eo_window(*[eo._int(v, "window") for v in vals])
    if isinstance(bands, dict):
        bands = ",".join("%s=%d" % (k, int(v)) for k, v in bands.items())
    with eo._context() as ctx:
        ds, e, o, r = c_void_p(), c_void_p(), c_void_p(), c_void_p()
        try:
            eo._check(ctx, _lib.eo_dataset_open(ctx, byref(ds), p))
            t = text.encode("utf-8")
            if is_index:
                eo._check(ctx, _eo_expr_from_index(ctx, byref(e), t))
            else:
                eo._check(ctx, _eo_expr_parse(ctx, byref(e), t))
            eo._check(ctx, _eo_opts_new(ctx, byref(o)))
            if bands is not None:
                eo._check(ctx, _eo_opts_bands(ctx, o, bands.encode("utf-8")))
            if sensor is not None:
                eo._check(ctx, _eo_opts_sensor(ctx, o, sensor.encode("utf-8")))
            for k, v in (constants or {}).items():
                eo._check(ctx, _eo_opts_const(ctx, o, str(k).encode("utf-8"), float(v)))
            eo._check(ctx, _eo_opts_scale(ctx, o, float(scale), float(offset)))
            eo._check(ctx, _eo_opts_nodata(ctx, o, float(nodata)))
            eo._check(
                ctx, _eo_expr_eval(ctx, byref(r), ds, e, byref(win) if win is not None else None, o)
            )
            h, w = _lib.eo_raster_height(r), _lib.eo_raster_width(r)
            arr = np.empty((h, w), dtype=np.float32)
            if arr.nbytes:
                eo._check(ctx, _lib.eo_raster_copy_to(ctx, r, arr.ctypes.data, arr.nbytes))
            return arr
        finally:
            _lib.eo_raster_free(r)
            _eo_opts_free(o)
            _eo_expr_free(e)
            _lib.eo_dataset_close(ds)


_COG_KEYS = ("compress", "level", "predictor", "blocksize", "overviews", "resampling", "bigtiff",
             "stats")


def _cog_params(params, cog, out):
    """The COG options (keyword arguments) of an output into params."""
    bad = sorted(k for k in cog if k not in _COG_KEYS)
    if bad:
        raise TypeError("unexpected keyword argument(s) %s (COG options: %s)"
                        % (", ".join(bad), ", ".join(_COG_KEYS)))
    if cog and out is None:
        raise _pkg()._arg_error("COG options (%s) need out" % ", ".join(sorted(cog)))
    params.update(cog)
    return params


def index(src, name, out=None, bands=None, sensor=None, constants=None, scale=1, offset=0,
          nodata=-9999.0, window=None, **cog):
    """A catalog index (``"NDVI"``, ``"NBR"``, ...) of the raster ``src``.

    Without ``out``: a float32 numpy array (height, width) of the window
    (``(col, row, width, height)``, default the whole raster), with
    ``nodata`` where an input is nodata or the formula is undefined (e.g.
    a zero denominator). With ``out``: writes a float32 Cloud-Optimized
    GeoTIFF, streamed window by window, and returns the registry's result
    dict; the COG options are keyword arguments (``compress``, ``level``,
    ``predictor``, ``blocksize``, ``overviews``, ``resampling``,
    ``bigtiff``, ``stats``, as in :func:`cog`).

    ``bands`` maps symbols to band numbers (``"R=3,N=4"`` or
    ``{"R": 3, "N": 4}``); ``sensor`` names a known layout (``"landsat7"``,
    ``"sentinel2"``, ...); ``constants`` overrides named constants
    (``{"L": 0.5}``); inputs become ``value * scale + offset`` first.

    Raises:
        Error: ``index.Invalid`` (unknown index), ``index.BandMissing``
            (a band the index needs is not mapped), I/O errors.
    """
    if out is not None:
        params = _common({"src": _path(src), "index": name, "out": _path(out), "nodata": nodata},
                         bands, sensor, constants, scale, offset)
        return _pkg().run("index", **_cog_params(params, cog, out))
    _cog_params({}, cog, out)
    return _evaluate(src, name, True, window, bands, sensor, constants, scale, offset, nodata)


def calc(src, expr, out=None, bands=None, sensor=None, constants=None, scale=1, offset=0,
         nodata=-9999.0, window=None, **cog):
    """Band math over ``src``: ``expr`` uses ``b1``, ``b2``, ... (1-based band
    numbers), band symbols (``R``, ``N``, ``S1``, ...), numbers, ``+ - * /
    ^``, comparisons, ``and or not``, ``where(c, a, b)``, ``min``, ``max``,
    ``abs``, ``sqrt``, ``log``, ``exp``, ``clamp(x, lo, hi)``. Same
    arguments and results as :func:`index`; a syntax error raises Error
    ``expr.Syntax`` naming the position."""
    if out is not None:
        params = _common({"src": _path(src), "expr": expr, "out": _path(out), "nodata": nodata},
                         bands, sensor, constants, scale, offset)
        return _pkg().run("band_math", **_cog_params(params, cog, out))
    _cog_params({}, cog, out)
    return _evaluate(src, expr, False, window, bands, sensor, constants, scale, offset, nodata)


def _stats_params(params, coverage, all_touched, percentiles, histogram, stats):
    if coverage:
        params["coverage"] = True
    if all_touched:
        params["all_touched"] = True
    if percentiles is not None:
        params["percentiles"] = [float(q) for q in percentiles]
    if histogram:
        params["histogram"] = int(histogram)
    if stats is not None:
        params["stats"] = list(stats)
    return params


def zonal_stats(src, aoi, index=None, expr=None, band=None, coverage=False, all_touched=False,
                percentiles=None, histogram=0, stats=None, crs=None, bands=None, sensor=None,
                constants=None, scale=1, offset=0):
    """Statistics of a band (default 1), an index or an expression over an
    AOI (GeoJSON dict, text or file path; a FeatureCollection gives one
    result per feature under ``"features"``): count, nodata_count, pixels,
    min, max, mean, std, sum, median, ``percentiles`` and a ``histogram`` of
    that many bins. Pixels count by the centre rule, or ``all_touched``, or
    weighted by the exact share of their area inside (``coverage=True``).
    ``crs`` is the AOI's CRS when the GeoJSON names none (EPSG:4326)."""
    params = {"src": _path(src), "aoi": _path(aoi) if not isinstance(aoi, dict) else aoi}
    if index is not None:
        params["index"] = index
    if expr is not None:
        params["expr"] = expr
    if band is not None:
        params["band"] = int(band)
    if crs is not None:
        params["crs"] = crs
    _stats_params(params, coverage, all_touched, percentiles, histogram, stats)
    return _pkg().run("zonal_stats", **_common(params, bands, sensor, constants, scale, offset))


def change_detection(before, after, out, index=None, expr=None, threshold=0.2, aoi=None,
                     crs=None, bands=None, sensor=None, constants=None, scale=1, offset=0,
                     **cog):
    """Change of an index between ``before`` and ``after`` (resampled onto
    the before's grid when they differ). Writes ``out/change.tif`` (after
    minus before) and ``out/class.tif`` (0 no change, 1 gain, 2 loss, 255
    nodata; a colour table and the class names in its metadata), both COGs
    (COG options as keyword arguments, as for :func:`index`; the class
    raster's overviews are nearest, or mode), and returns the statistics:
    area in m², percent and mean change per class. ``aoi`` restricts the
    comparison."""
    params = {"before": _path(before), "after": _path(after), "out": _path(out),
              "threshold": float(threshold)}
    if index is not None:
        params["index"] = index
    if expr is not None:
        params["expr"] = expr
    if aoi is not None:
        params["aoi"] = _path(aoi) if not isinstance(aoi, dict) else aoi
    if crs is not None:
        params["crs"] = crs
    params = _common(params, bands, sensor, constants, scale, offset)
    return _pkg().run("change_detection", **_cog_params(params, cog, out))


def time_series(items, index=None, expr=None, point=None, aoi=None, crs=None, coverage=False,
                percentiles=None, stats=None, bands=None, sensor=None, constants=None, scale=1,
                offset=0):
    """An index per date: ``items`` is a list of ``(path, date)`` pairs or
    ``"path@YYYY-MM-DD"`` strings; ``point=(lon, lat)`` gives the value at
    that point (None where nodata or outside), ``aoi`` its zonal statistics.
    Returns ``{"series": [...]}`` sorted by date."""
    its = []
    for it in items:
        if isinstance(it, (tuple, list)) and len(it) == 2:
            its.append({"path": _path(it[0]), "date": str(it[1])})
        else:
            its.append(it)
    params = {"items": its}
    if index is not None:
        params["index"] = index
    if expr is not None:
        params["expr"] = expr
    if point is not None:
        params["point"] = [float(point[0]), float(point[1])]
    if aoi is not None:
        params["aoi"] = _path(aoi) if not isinstance(aoi, dict) else aoi
    if crs is not None:
        params["crs"] = crs
    _stats_params(params, coverage, False, percentiles, 0, stats)
    return _pkg().run("time_series", **_common(params, bands, sensor, constants, scale, offset))
