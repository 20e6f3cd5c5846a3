"""eoproc - Python bindings of the eoproc geoprocessing engine.

A thin ctypes layer over the C library ``libeoproc.so.1``: numpy arrays in
and out, GeoJSON as dicts, and one exception type, :class:`eoproc.Error`,
that carries the library's stable status id (``"geometry.Invalid"``,
``"io.NotFound"``, ...).

The shared library is found through the environment variable
``EOPROC_LIBRARY`` (full path to ``libeoproc.so.1``), then beside the package
or in the source checkout's build tree, then on the system's library path.

Every Python thread gets its own C context (``eo_ctx``), created on first use
and freed when the thread ends (or at interpreter exit for the main thread),
so the functions here may be called from several threads at once.

Example::

    import eoproc
    meta = eoproc.info("scene.tif")
    pixels, georef = eoproc.read("scene.tif", window=(0, 0, 256, 256), dtype="float32")
    km2 = eoproc.aoi_area({"type": "Polygon", "coordinates": [...]})
    result = eoproc.run("aoi_area", aoi=geojson_dict)
"""

import contextlib
import ctypes
import json
import logging
import operator
import os
import threading
import weakref
from ctypes import byref, c_double, c_int32, c_void_p

import numpy as np

from . import _fetch, _lib

__version__ = "1.0.0"

__all__ = [
    "BoundingBox",
    "CRS",
    "ColorInterp",
    "MaskFlags",
    "Resampling",
    "Window",
    "Dataset",
    "DatasetWriter",
    "GeoArray",
    "read_aoi",
    "write_features",
    "Error",
    "Job",
    "Model",
    "__version__",
    "aoi_area",
    "build_info",
    "get_threads",
    "set_threads",
    "set_url_fetcher",
    "calc",
    "change_detection",
    "clip",
    "index",
    "indices",
    "cog",
    "detect",
    "estimate",
    "info",
    "open",
    "open_tiles",
    "ops",
    "polygonize",
    "read",
    "run",
    "schema",
    "result_schema",
    "tile",
    "tile_bounds",
    "tiles_cover",
    "time_series",
    "version",
    "zonal_stats",
]

if _lib.eo_version() // 10000 != 1:
    raise ImportError(
        "eoproc: %s is version %s; this package needs ABI 1 (1.x)"
        % (_lib.path, _lib.eo_version_string().decode())
    )

_log = logging.getLogger("eoproc")

_EO_E_PARAM = 9 | (1 << 8)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
class Error(Exception):
    """A failure reported by the eoproc library.

    Attributes:
        id: the stable dotted status id, e.g. ``"geometry.Invalid"``,
            ``"io.NotFound"``, ``"param.Invalid"`` (see eo_status_id).
        code: the numeric status (eo_status).
        message: the library's message for this failure, naming the input
            and the problem.

    ``str(e)`` is ``"message [id]"``.
    """

    def __init__(self, message, id="unknown", code=-1):
        super().__init__(message)
        self.message = message
        self.id = id
        self.code = code

    def __str__(self):
        return "%s [%s]" % (self.message, self.id)

    def __repr__(self):
        return "eoproc.Error(%r, id=%r, code=%r)" % (self.message, self.id, self.code)

    def __reduce__(self):
        # keep id and code across pickling (multiprocessing, Dask workers)
        return (self.__class__, (self.message, self.id, self.code))


def _arg_error(message):
    """An Error for an argument rejected before reaching the library."""
    return Error(message, "arg.Invalid", _lib.EO_E_ARG)


def _status_error(ctx, st):
    """Build the Error for status st from the context's message, and clear it."""
    raw = _lib.eo_ctx_errmsg(ctx) if ctx else None
    msg = raw.decode("utf-8", "replace") if raw else ""
    sid = _lib.eo_status_id(st)
    sid = sid.decode("ascii", "replace") if sid else "unknown"
    if not msg:
        text = _lib.eo_status_str(st)
        msg = text.decode("utf-8", "replace") if text else "error %d" % st
    if ctx:
        _lib.eo_ctx_clear_error(ctx)
        if (st & 0xFF) == _lib.EO_E_CANCELLED:
            # a cancel flag stays set until reset; the next call starts afresh
            _lib.eo_ctx_reset_cancel(ctx)
    return Error(msg, sid, st)


def _check(ctx, st, progress=None):
    """Raise for a non-OK status (or the exception a progress callback raised)."""
    if progress is not None and progress.exc is not None:
        exc, progress.exc = progress.exc, None
        err = _status_error(ctx, st) if st != _lib.EO_OK else None
        raise exc from err
    if st != _lib.EO_OK:
        raise _status_error(ctx, st)


# ---------------------------------------------------------------------------
# Contexts: one per thread
# ---------------------------------------------------------------------------
_LOG_LEVELS = ((40, logging.ERROR), (30, logging.WARNING), (20, logging.INFO))


def _log_sink(user, level, msg):
    try:
        pylevel = logging.DEBUG
        for c_level, py in _LOG_LEVELS:
            if level >= c_level:
                pylevel = py
                break
        _log.log(pylevel, "%s", msg.decode("utf-8", "replace") if msg else "")
    except Exception:  # never let an exception cross into C
        pass


_LOG_CFUNC = _lib.LOG_FN(_log_sink)


def _free_ctx(ptr):
    _lib.eo_ctx_set_log(ptr, _lib.LOG_FN(), None, 0)
    _lib.eo_ctx_set_progress(ptr, _lib.PROGRESS_FN(), None)
    _lib.eo_ctx_free(ptr)


class _Ctx:
    """Owns one eo_ctx; freed when this object dies or at interpreter exit."""

    __slots__ = ("ptr", "busy", "threads_gen", "_finalizer", "__weakref__")

    def __init__(self, free_at_exit):
        ptr = c_void_p()
        st = _lib.eo_ctx_new(byref(ptr))
        if st != _lib.EO_OK or not ptr.value:
            raise _status_error(None, st or 2)
        self.ptr = ptr
        self.busy = False
        _lib.eo_ctx_set_log(ptr, _LOG_CFUNC, None, 30)
        _fetch.register(ptr)  # URL templates ("https://host/{z}/{x}/{y}.png") as sources
        self._finalizer = weakref.finalize(self, _free_ctx, ptr)
        # A context of another thread may still be in use by a daemon thread
        # when the interpreter exits: only the main thread's is freed then.
        self._finalizer.atexit = free_at_exit

    def close(self):
        self._finalizer()


_tls = threading.local()
# Thread count set by set_threads() (0 = one per CPU), applied to every
# thread's context before its next call; _threads_gen tells a context that
# the setting changed since it last applied it.
_threads = 0
_threads_gen = 0


@contextlib.contextmanager
def _context():
    """The calling thread's eo_ctx (a fresh one for a re-entrant call), with
    the thread count of set_threads."""
    h = getattr(_tls, "ctx", None)
    if h is None:
        h = _Ctx(threading.current_thread() is threading.main_thread())
        h.threads_gen = -1
        _tls.ctx = h
    if h.threads_gen != _threads_gen:
        gen, n = _threads_gen, _threads
        if _lib.eo_ctx_set_threads(h.ptr, n) == _lib.EO_OK:
            h.threads_gen = gen
    if h.busy:
        # called again from inside a callback of this thread's running call
        tmp = _Ctx(False)
        _lib.eo_ctx_set_threads(tmp.ptr, _threads)
        try:
            yield tmp.ptr
        finally:
            tmp.close()
        return
    h.busy = True
    try:
        yield h.ptr
    finally:
        h.busy = False


class _Progress:
    """Adapts a Python progress callable to eo_progress_fn."""

    def __init__(self, fn):
        self.fn = fn
        self.exc = None
        self.cfunc = _lib.PROGRESS_FN(self._call)

    def _call(self, user, fraction, stage):
        try:
            stop = self.fn(fraction, stage.decode("utf-8", "replace") if stage else "")
            return 1 if stop else 0
        except BaseException as e:  # stop the work, re-raise after the call
            self.exc = e
            return 1


@contextlib.contextmanager
def _progress(ctx, fn):
    if fn is None:
        yield None
        return
    if not callable(fn):
        raise _arg_error("progress must be callable(fraction, stage), got %r" % (fn,))
    p = _Progress(fn)
    _lib.eo_ctx_set_progress(ctx, p.cfunc, None)
    try:
        yield p
    finally:
        _lib.eo_ctx_set_progress(ctx, _lib.PROGRESS_FN(), None)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def _cpath(path, what="path"):
    """A path (str, bytes or os.PathLike) as bytes for C."""
    try:
        b = os.fsencode(path)
    except TypeError:
        raise _arg_error("%s must be a str or os.PathLike, got %s" % (what, type(path).__name__))
    if b"\0" in b:
        raise _arg_error("%s contains a NUL character: %r" % (what, path))
    return b


def _take_string(p):
    """Read a library-allocated C string (c_void_p) and release it with eo_free."""
    if not p.value:
        return None
    try:
        return ctypes.string_at(p.value).decode("utf-8")
    finally:
        _lib.eo_free(p)


def _json_default(o):
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return list(o)
    raise TypeError("%s is not JSON serializable" % type(o).__name__)


_DTYPES = {
    ("u", 1): _lib.EO_DT_U8,
    ("i", 1): _lib.EO_DT_I8,
    ("u", 2): _lib.EO_DT_U16,
    ("i", 2): _lib.EO_DT_I16,
    ("u", 4): _lib.EO_DT_U32,
    ("i", 4): _lib.EO_DT_I32,
    ("u", 8): _lib.EO_DT_U64,
    ("i", 8): _lib.EO_DT_I64,
    ("f", 4): _lib.EO_DT_F32,
    ("f", 8): _lib.EO_DT_F64,
}
_NUMPY = {dt: np.dtype("%s%d" % key) for key, dt in _DTYPES.items()}


def _eo_dtype(dtype):
    """numpy dtype, type or name -> EO_DT_*.

    A str is first looked up among eoproc's names ("uint8", "f32", and
    "byte" = uint8 as in GDAL), then as a numpy dtype string ("f4", "<u2")."""
    if isinstance(dtype, str):
        code = _lib.eo_dtype_from_name(dtype.encode("ascii", "replace"))
        if code in _NUMPY:
            return code
    try:
        d = np.dtype(dtype)
    except Exception:
        d = None
    if d is not None:
        code = _DTYPES.get((d.kind, d.itemsize))
        if code is not None:
            return code
    raise _arg_error(
        "dtype %r is not supported (use one of uint8, int8, uint16, int16, uint32, "
        "int32, uint64, int64, float32, float64)" % (dtype,)
    )


def _int(v, what):
    try:
        return operator.index(v)
    except TypeError:
        raise _arg_error("%s must be an integer, got %r" % (what, v)) from None


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
def version():
    """Version of the loaded C library, e.g. ``"1.0.0"``."""
    return _lib.eo_version_string().decode("ascii")


def set_threads(n):
    """Number of worker threads the library uses for parallel work (tiling,
    compression, window loops, inference), for every Python thread from its
    next call on; 0 (the default) means one per online CPU. Functions with
    their own ``threads=`` argument (e.g. :func:`cog`) override it for that
    call.

    Raises:
        Error: ``arg.Invalid`` if n is not an integer in 0..1024.
    """
    global _threads, _threads_gen
    if n is None:
        n = 0
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1024:
        raise _arg_error("threads must be an integer from 0 (one per CPU) to 1024, got %r" % (n,))
    _threads = n
    _threads_gen += 1


def get_threads():
    """The number of worker threads the library will use (0 resolved to the
    CPU count), as the calling thread's context reports it."""
    with _context() as ctx:
        return int(_lib.eo_ctx_get_threads(ctx))


def build_info():
    """Build information of the loaded C library as a dict.

    Keys include ``version``, the versions of the dependencies (``gdal``,
    ``geos``, ``proj``, ...) and ``simd``, the SIMD code path in use.
    """
    return json.loads(_lib.eo_build_info().decode("utf-8"))


def info(path):
    """Metadata of a raster file as a dict.

    Opens ``path`` read-only (nothing is ever written beside it) and returns
    the library's description: size, bands (type, nodata, overviews, ...),
    CRS (EPSG code and WKT), geotransform, pixel size, rotation and the
    footprint in EPSG:4326.

    Raises:
        Error: ``io.NotFound`` for a missing file, ``io.Read`` or
            ``source.Invalid`` for a file that is not a readable raster.
    """
    p = _cpath(path)
    with _context() as ctx:
        ds = c_void_p()
        _check(ctx, _lib.eo_dataset_open(ctx, byref(ds), p))
        try:
            out = c_void_p()
            _check(ctx, _lib.eo_dataset_info(ctx, byref(out), ds))
            return json.loads(_take_string(out))
        finally:
            _lib.eo_dataset_close(ds)


def _raster_to_numpy(ctx, r, cls=np.ndarray):
    """Copy an eo_raster into a new (bands, height, width) array owned by
    numpy (of class cls: an ndarray subclass), with its georeferencing as a
    dict."""
    width = _lib.eo_raster_width(r)
    height = _lib.eo_raster_height(r)
    nb = _lib.eo_raster_band_count(r)
    rdt = _lib.eo_raster_dtype(r)
    if rdt not in _NUMPY:
        raise Error("raster has an unknown data type %d" % rdt, "internal", 14)
    arr = np.ndarray.__new__(cls, (nb, height, width), dtype=_NUMPY[rdt])
    nbytes = _lib.eo_raster_nbytes(r)
    if nbytes != arr.nbytes:
        raise Error(
            "raster holds %d bytes, expected %d for %d x %d x %d %s"
            % (nbytes, arr.nbytes, nb, height, width, arr.dtype),
            "internal",
            14,
        )
    if arr.nbytes:
        _check(ctx, _lib.eo_raster_copy_to(ctx, r, arr.ctypes.data, arr.nbytes))

    gt = (c_double * 6)()
    _lib.eo_raster_get_geotransform(r, gt)
    wkt = _lib.eo_raster_crs_wkt(r)
    nodata = c_double()
    has_nodata = c_int32()
    _lib.eo_raster_get_nodata(r, byref(nodata), byref(has_nodata))
    georef = {
        "geotransform": tuple(gt),
        "crs": wkt.decode("utf-8", "replace") if wkt else None,
        "nodata": float(nodata.value) if has_nodata.value else None,
        "width": int(width),
        "height": int(height),
    }
    return arr, georef


def read(
    path,
    window=None,
    out_shape=None,
    bands=None,
    dtype=None,
    resampling="nearest",
    progress=None,
):
    """Read pixels of a raster file into a numpy array.

    Args:
        path: the raster file (str or os.PathLike).
        window: ``(col, row, width, height)`` in pixels of the source, or
            None for the whole raster. It must lie inside the raster.
        out_shape: ``(height, width)`` of the output, or None for the
            window's size. A smaller size reads from the overview whose
            resolution is just finer than the output.
        bands: list of 1-based band numbers, in the order wanted; None for
            all bands.
        dtype: output data type (numpy dtype, type or name such as
            ``"float32"``; ``"byte"`` means uint8, as in GDAL); None keeps
            the type of the first band read. Conversions round and clamp
            as GDAL does.
        resampling: ``"nearest"`` (default), ``"bilinear"``, ``"cubic"``,
            ``"average"``, ``"mode"`` or ``"lanczos"``, used when out_shape
            differs from the window's size.
        progress: optional ``callable(fraction, stage)``; return True to
            cancel the read, which then raises Error with id ``"cancelled"``.
            An exception raised by the callable stops the read and is
            re-raised.

    Returns:
        ``(array, georef)``: a C-contiguous array of shape
        ``(bands, height, width)`` owned by numpy, and a dict with
        ``"geotransform"`` (tuple of 6, GDAL order, of the output pixels),
        ``"crs"`` (WKT or None), ``"nodata"`` (float or None), ``"width"``
        and ``"height"``.

    Raises:
        Error: e.g. ``io.NotFound``, ``source.Invalid``, ``arg.Invalid``
            (window outside the raster, bad band number), ``cancelled``.
    """
    p = _cpath(path)
    win = None
    if window is not None:
        try:
            vals = tuple(window)
        except TypeError:
            raise _arg_error("window must be (col, row, width, height), got %r" % (window,))
        if len(vals) != 4:
            raise _arg_error("window must be (col, row, width, height), got %r" % (window,))
        win = _lib.eo_window(*[_int(v, "window") for v in vals])
    out_size = None
    if out_shape is not None:
        try:
            shp = tuple(out_shape)
        except TypeError:
            shp = ()
        if len(shp) != 2:
            raise _arg_error("out_shape must be (height, width), got %r" % (out_shape,))
        out_size = (_int(shp[1], "out_shape"), _int(shp[0], "out_shape"))
    band_arr = None
    if bands is not None:
        if isinstance(bands, (int, np.integer)):
            bands = [bands]
        blist = [_int(b, "bands") for b in bands]
        if not blist:
            raise _arg_error("bands must name at least one band")
        for b in blist:
            if not -(2**31) <= b < 2**31:
                raise _arg_error("band number %d is out of range" % b)
        band_arr = (c_int32 * len(blist))(*blist)
    dt = _eo_dtype(dtype) if dtype is not None else None
    method = _lib.EO_RESAMPLE_NEAREST
    if resampling is not None:
        if not isinstance(resampling, str):
            raise _arg_error("resampling must be a name such as 'nearest', got %r" % (resampling,))
        method = _lib.eo_resampling_from_name(resampling.encode("ascii", "replace"))
        if method < 0:
            raise _arg_error("unknown resampling method %r" % (resampling,))

    with _context() as ctx, _progress(ctx, progress) as prog:
        ds = c_void_p()
        opts = c_void_p()
        r = c_void_p()
        try:
            _check(ctx, _lib.eo_dataset_open(ctx, byref(ds), p))
            _check(ctx, _lib.eo_read_opts_new(ctx, byref(opts)))
            if dt is not None:
                _check(ctx, _lib.eo_read_opts_set_dtype(ctx, opts, dt))
            if band_arr is not None:
                _check(ctx, _lib.eo_read_opts_set_bands(ctx, opts, band_arr, len(band_arr)))
            if out_size is not None:
                _check(ctx, _lib.eo_read_opts_set_out_size(ctx, opts, *out_size))
            _check(ctx, _lib.eo_read_opts_set_resampling(ctx, opts, method))
            st = _lib.eo_dataset_read(
                ctx, byref(r), ds, byref(win) if win is not None else None, opts
            )
            _check(ctx, st, prog)

            arr, georef = _raster_to_numpy(ctx, r, _arrays.GeoArray)
            return _arrays.from_georef(arr, georef), georef
        finally:
            _lib.eo_raster_free(r)
            _lib.eo_read_opts_free(opts)
            _lib.eo_dataset_close(ds)


def _looks_like_json(text):
    # the registry's aoi_area decides the same way: JSON text starts with "{" or "["
    s = text.lstrip()
    return s[:1] in (("{", "[") if isinstance(s, str) else (b"{", b"["))


def aoi_area(geojson, crs=None, repair=False, allow_z=True, strict=False, max_vertices=None,
             max_features=None, max_aoi_bytes=None):
    """Geodesic area, in km² on the WGS84 ellipsoid, of an area of interest.

    Args:
        geojson: the AOI as a GeoJSON geometry, Feature or FeatureCollection
            of Polygons / MultiPolygons, given as a dict, as JSON text (a
            str or bytes whose first non-blank character is ``{`` or ``[``), or as
            the path (any other str, or an os.PathLike) of a file holding it.
        crs: CRS of the coordinates (e.g. ``"EPSG:32631"``); default
            EPSG:4326, longitude first.
        repair: repair an invalid geometry instead of failing.
        allow_z: accept 3D positions and drop the third value (the default,
            as RFC 7946 allows an altitude).
        strict: refuse 3D positions (``geometry.Invalid``).
        max_vertices, max_features, max_aoi_bytes: this call's limits
            (default 50,000 vertices, 10,000 features, 64 MiB of text); a file
            is read in pieces and reading stops past a limit.

    Raises:
        Error: ``geometry.Invalid`` for anything that is not a valid polygonal
            AOI (the message says what and where), ``aoi.TooLarge`` past a
            limit, ``crs.Invalid`` for a bad crs, ``io.NotFound`` for a
            missing file.
    """
    text = None
    fpath = None
    if isinstance(geojson, os.PathLike):
        fpath = _cpath(geojson, "geojson")
    elif isinstance(geojson, (str, bytes)):
        if _looks_like_json(geojson):
            text = geojson.encode("utf-8") if isinstance(geojson, str) else bytes(geojson)
        else:
            fpath = _cpath(geojson, "geojson")
    elif isinstance(geojson, (dict, list)):
        # allow_nan: a NaN coordinate must reach the C parser and be refused there
        text = json.dumps(geojson, allow_nan=True, default=_json_default).encode("utf-8")
    else:
        raise _arg_error(
            "geojson must be a dict, JSON text or a path, got %s" % type(geojson).__name__
        )
    if text is not None and b"\0" in text:
        raise Error("GeoJSON text contains a NUL character", "geometry.Invalid", 4)

    with _context() as ctx:
        opts = c_void_p()
        g = c_void_p()
        try:
            _check(ctx, _lib.eo_geom_opts_new(ctx, byref(opts)))
            if crs is not None:
                if not isinstance(crs, str):
                    raise _arg_error("crs must be a str, got %r" % (crs,))
                _check(ctx, _lib.eo_geom_opts_set_crs(ctx, opts, crs.encode("utf-8")))
            _check(ctx, _lib.eo_geom_opts_set_repair(ctx, opts, 1 if repair else 0))
            _check(ctx, _lib.eo_geom_opts_set_allow_z(ctx, opts, 1 if allow_z and not strict else 0))
            for setter, value, name in ((_lib.eo_geom_opts_set_max_vertices, max_vertices,
                                         "max_vertices"),
                                        (_lib.eo_geom_opts_set_max_features, max_features,
                                         "max_features"),
                                        (_lib.eo_geom_opts_set_max_bytes, max_aoi_bytes,
                                         "max_aoi_bytes")):
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise _arg_error("%s must be a positive int, got %r" % (name, value))
                _check(ctx, setter(ctx, opts, value))
            if text is not None:
                _check(ctx, _lib.eo_geom_from_geojson(ctx, byref(g), text, opts))
            else:
                _check(ctx, _lib.eo_geom_from_geojson_file(ctx, byref(g), fpath, opts))
            km2 = c_double()
            _check(ctx, _lib.eo_geom_area_km2(ctx, g, byref(km2)))
            return km2.value
        finally:
            _lib.eo_geom_free(g)
            _lib.eo_geom_opts_free(opts)


def ops():
    """The registered operations: a list of dicts with ``name``, ``summary``
    and ``cli`` (the command-line name)."""
    with _context() as ctx:
        out = c_void_p()
        _check(ctx, _lib.eo_ops_list(ctx, byref(out)))
        return json.loads(_take_string(out))


def _op_name(op):
    if not isinstance(op, str):
        raise _arg_error("operation name must be a str, got %r" % (op,))
    b = op.encode("utf-8")
    if b"\0" in b:
        raise Error("unknown operation %r" % op, "op.Unknown", 9)
    return b


def schema(op):
    """JSON Schema (as a dict) of the parameters of operation ``op``.

    Raises:
        Error: ``op.Unknown`` for an unknown operation.
    """
    return _op_json(_lib.eo_op_schema, op)


def result_schema(op):
    """JSON Schema (as a dict) of the result object operation ``op`` returns:
    its fields, their types and meaning.

    Raises:
        Error: ``op.Unknown`` for an unknown operation.
    """
    return _op_json(_lib.eo_op_result_schema, op)


def _op_json(fn, op):
    """The JSON fn(ctx, name, &out) gives for operation op."""
    name = _op_name(op)
    with _context() as ctx:
        out = c_void_p()
        _check(ctx, fn(ctx, name, byref(out)))
        return json.loads(_take_string(out))


def run(op, progress=None, **params):
    """Run a registered operation and return its JSON result as a dict.

    ``progress``, if given, is called as ``progress(fraction, stage)`` while
    the operation works; a true return value cancels it (``op.Cancelled``).

    The keyword arguments are the operation's parameters, checked by the
    library against its schema (see :func:`schema`); os.PathLike values and
    numpy scalars/arrays are converted to JSON.

    Example: ``run("aoi_area", aoi={"type": "Polygon", ...})["area_km2"]``.

    Raises:
        Error: ``op.Unknown`` for an unknown operation, ``param.Invalid``
            (the message names the field) for a bad parameter, or the
            operation's own errors.
    """
    name = _op_name(op)
    try:
        text = json.dumps(params, allow_nan=True, default=_json_default)
    except (TypeError, ValueError) as e:
        raise Error("parameters of %s: %s" % (op, e), "param.Invalid", _EO_E_PARAM) from None
    data = text.encode("utf-8")
    with _context() as ctx, _progress(ctx, progress) as prog:
        out = c_void_p()
        _check(ctx, _lib.eo_op_run(ctx, name, data, byref(out)), prog)
        return json.loads(_take_string(out))


from ._tiles import tile, tile_bounds, tiles_cover  # noqa: E402
from ._analytics import calc, change_detection, index, indices, time_series, zonal_stats  # noqa: E402
from ._cog import cog  # noqa: E402
from ._clip import clip  # noqa: E402
from ._infer import Model  # noqa: E402  (uses the helpers above)
from ._vector import polygonize  # noqa: E402
from ._dataset import Dataset, open, open_tiles  # noqa: E402,A004
from ._rio import CRS, BoundingBox, ColorInterp, MaskFlags, Resampling, Window  # noqa: E402
from ._io import DatasetWriter  # noqa: E402
from ._detect import Job, detect, estimate  # noqa: E402
from ._fetch import set_url_fetcher  # noqa: E402
from . import _arrays  # noqa: E402
from ._arrays import GeoArray  # noqa: E402
from ._postgis import read_aoi, write_features  # noqa: E402

# Every registered operation not written above becomes a function here, from
# its schema (see _ops): eoproc.preview, eoproc.tiles, eoproc.segment, ...
from . import _ops  # noqa: E402

__all__ += _ops.install(globals(), ops, schema, result_schema, run)
