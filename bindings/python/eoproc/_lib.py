"""ctypes declarations of the eoproc C API (include/eoproc.h).

This module finds and loads ``libeoproc.so.1`` and declares the argument and
result types of every C function the package calls. Nothing here is public:
use the functions of the :mod:`eoproc` package instead.

The library is looked for, in this order:

1. the full path in the environment variable ``EOPROC_LIBRARY``;
2. ``libeoproc.so.1`` beside this package (bundled by ``pip install .``),
   the library ``cmake --install`` installed with it (``_install.py``), or
   one in a build tree of the source checkout (``build/``, ``build-*/``);
3. ``ctypes.util.find_library("eoproc")`` (the system's library path).
"""

import ctypes
import ctypes.util
import glob
import os

from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_void_p,
)

SONAME = "libeoproc.so.1"

# ---------------------------------------------------------------------------
# Constants mirrored from the headers. Numbers never change once released.
# ---------------------------------------------------------------------------
EO_OK = 0
EO_E_ARG = 1
EO_E_CANCELLED = 11

EO_DT_UNKNOWN = 0
EO_DT_U8 = 1
EO_DT_I8 = 2
EO_DT_U16 = 3
EO_DT_I16 = 4
EO_DT_U32 = 5
EO_DT_I32 = 6
EO_DT_U64 = 7
EO_DT_I64 = 8
EO_DT_F32 = 9
EO_DT_F64 = 10

EO_RESAMPLE_NEAREST = 0


class eo_window(Structure):
    """struct eo_window: a pixel window (column, row, width, height)."""

    _fields_ = [
        ("x", c_int64),
        ("y", c_int64),
        ("width", c_int64),
        ("height", c_int64),
    ]


class eo_bbox(Structure):
    """struct eo_bbox: an axis-aligned box."""

    _fields_ = [
        ("xmin", c_double),
        ("ymin", c_double),
        ("xmax", c_double),
        ("ymax", c_double),
    ]


# int (*eo_progress_fn)(void *user, double fraction, const char *stage)
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_double, c_char_p)
# void (*eo_log_fn)(void *user, int level, const char *msg)
LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p)

# Opaque handles are plain void pointers on the Python side.
ctx_p = c_void_p
dataset_p = c_void_p
raster_p = c_void_p
geom_p = c_void_p
opts_p = c_void_p
status = c_int


def _candidates():
    """Paths to try, in order, when EOPROC_LIBRARY is not set."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = [os.path.join(here, SONAME)]  # bundled by `pip install .`
    try:  # written by `cmake --install`: the installed library
        from . import _install

        out.append(_install.LIBRARY)
    except ImportError:
        pass
    # the source checkout: bindings/python/eoproc -> the repository root
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    for pattern in ("build", "build-*", "_build", "cmake-build-*"):
        for d in sorted(glob.glob(os.path.join(root, pattern))):
            out.append(os.path.join(d, SONAME))
    return out


def _load():
    env = os.environ.get("EOPROC_LIBRARY")
    if env:
        try:
            return ctypes.CDLL(env), env
        except OSError as e:
            raise ImportError(
                "eoproc: cannot load the library named by EOPROC_LIBRARY=%r: %s" % (env, e)
            ) from e
    tried = []
    for path in _candidates():
        if os.path.exists(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as e:
                tried.append("%s (%s)" % (path, e))
    name = ctypes.util.find_library("eoproc")
    if name:
        try:
            return ctypes.CDLL(name), name
        except OSError as e:
            tried.append("%s (%s)" % (name, e))
    raise ImportError(
        "eoproc: cannot find the shared library %s%s. Build the C library "
        "(cmake -S . -B build && cmake --build build) and set the environment "
        "variable EOPROC_LIBRARY to the full path of %s, e.g. "
        "EOPROC_LIBRARY=/path/to/build/%s"
        % (SONAME, (" (tried: %s)" % "; ".join(tried)) if tried else "", SONAME, SONAME)
    )


lib, path = _load()


class _Missing:
    """Stands in for a C function the loaded library does not export."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        raise NotImplementedError(
            "eoproc: the loaded library %s does not export %s()" % (path, self.name)
        )


def _fn(name, restype, argtypes):
    """Declare one C function; a missing one raises NotImplementedError when called."""
    try:
        f = getattr(lib, name)
    except AttributeError:
        return _Missing(name)
    f.restype = restype
    f.argtypes = argtypes
    return f


def has(name):
    """True when the loaded library exports the C function name."""
    return hasattr(lib, name)


PCHAR_OUT = POINTER(c_void_p)  # char **out_json, released with eo_free

# core.h
eo_version = _fn("eo_version", c_int, [])
eo_version_string = _fn("eo_version_string", c_char_p, [])
eo_build_info = _fn("eo_build_info", c_char_p, [])
eo_status_id = _fn("eo_status_id", c_char_p, [status])
eo_status_str = _fn("eo_status_str", c_char_p, [status])
eo_free = _fn("eo_free", None, [c_void_p])
eo_ctx_new = _fn("eo_ctx_new", status, [POINTER(ctx_p)])
eo_ctx_free = _fn("eo_ctx_free", None, [ctx_p])
eo_ctx_set_threads = _fn("eo_ctx_set_threads", status, [ctx_p, c_int32])
eo_ctx_get_threads = _fn("eo_ctx_get_threads", c_int32, [ctx_p])
eo_ctx_set_log = _fn("eo_ctx_set_log", None, [ctx_p, LOG_FN, c_void_p, c_int32])
eo_ctx_set_progress = _fn("eo_ctx_set_progress", None, [ctx_p, PROGRESS_FN, c_void_p])
eo_ctx_cancel = _fn("eo_ctx_cancel", None, [ctx_p])
eo_ctx_reset_cancel = _fn("eo_ctx_reset_cancel", None, [ctx_p])
eo_ctx_status = _fn("eo_ctx_status", status, [ctx_p])
eo_ctx_errmsg = _fn("eo_ctx_errmsg", c_char_p, [ctx_p])
eo_ctx_clear_error = _fn("eo_ctx_clear_error", None, [ctx_p])
eo_ctx_set_limit = _fn("eo_ctx_set_limit", status, [ctx_p, c_int32, c_int64])
eo_ctx_get_limit = _fn("eo_ctx_get_limit", c_int64, [ctx_p, c_int32])

# raster.h
eo_dtype_size = _fn("eo_dtype_size", c_size_t, [c_int32])
eo_dtype_name = _fn("eo_dtype_name", c_char_p, [c_int32])
eo_dtype_from_name = _fn("eo_dtype_from_name", c_int32, [c_char_p])
eo_resampling_name = _fn("eo_resampling_name", c_char_p, [c_int32])
eo_resampling_from_name = _fn("eo_resampling_from_name", c_int32, [c_char_p])

eo_raster_free = _fn("eo_raster_free", None, [raster_p])
eo_raster_width = _fn("eo_raster_width", c_int64, [raster_p])
eo_raster_height = _fn("eo_raster_height", c_int64, [raster_p])
eo_raster_band_count = _fn("eo_raster_band_count", c_int32, [raster_p])
eo_raster_dtype = _fn("eo_raster_dtype", c_int32, [raster_p])
eo_raster_nbytes = _fn("eo_raster_nbytes", c_size_t, [raster_p])
eo_raster_copy_to = _fn("eo_raster_copy_to", status, [ctx_p, raster_p, c_void_p, c_size_t])
eo_raster_get_geotransform = _fn("eo_raster_get_geotransform", None, [raster_p, POINTER(c_double)])
eo_raster_has_geotransform = _fn("eo_raster_has_geotransform", c_int32, [raster_p])
eo_raster_crs_wkt = _fn("eo_raster_crs_wkt", c_char_p, [raster_p])
eo_raster_get_nodata = _fn(
    "eo_raster_get_nodata", None, [raster_p, POINTER(c_double), POINTER(c_int32)]
)

eo_dataset_open = _fn("eo_dataset_open", status, [ctx_p, POINTER(dataset_p), c_char_p])
eo_dataset_close = _fn("eo_dataset_close", None, [dataset_p])
eo_dataset_info = _fn("eo_dataset_info", status, [ctx_p, PCHAR_OUT, dataset_p])
eo_dataset_width = _fn("eo_dataset_width", c_int64, [dataset_p])
eo_dataset_height = _fn("eo_dataset_height", c_int64, [dataset_p])
eo_dataset_band_count = _fn("eo_dataset_band_count", c_int32, [dataset_p])

eo_read_opts_new = _fn("eo_read_opts_new", status, [ctx_p, POINTER(opts_p)])
eo_read_opts_free = _fn("eo_read_opts_free", None, [opts_p])
eo_read_opts_set_dtype = _fn("eo_read_opts_set_dtype", status, [ctx_p, opts_p, c_int32])
eo_read_opts_set_bands = _fn(
    "eo_read_opts_set_bands", status, [ctx_p, opts_p, POINTER(c_int32), c_int32]
)
eo_read_opts_set_out_size = _fn(
    "eo_read_opts_set_out_size", status, [ctx_p, opts_p, c_int64, c_int64]
)
eo_read_opts_set_resampling = _fn("eo_read_opts_set_resampling", status, [ctx_p, opts_p, c_int32])
eo_dataset_read = _fn(
    "eo_dataset_read", status, [ctx_p, POINTER(raster_p), dataset_p, POINTER(eo_window), opts_p]
)

# geom.h
eo_geom_opts_new = _fn("eo_geom_opts_new", status, [ctx_p, POINTER(opts_p)])
eo_geom_opts_free = _fn("eo_geom_opts_free", None, [opts_p])
eo_geom_opts_set_crs = _fn("eo_geom_opts_set_crs", status, [ctx_p, opts_p, c_char_p])
eo_geom_opts_set_repair = _fn("eo_geom_opts_set_repair", status, [ctx_p, opts_p, c_int32])
eo_geom_opts_set_allow_z = _fn("eo_geom_opts_set_allow_z", status, [ctx_p, opts_p, c_int32])
eo_geom_opts_set_max_vertices = _fn(
    "eo_geom_opts_set_max_vertices", status, [ctx_p, opts_p, c_int64]
)
eo_geom_opts_set_max_features = _fn(
    "eo_geom_opts_set_max_features", status, [ctx_p, opts_p, c_int64]
)
eo_geom_opts_set_max_bytes = _fn("eo_geom_opts_set_max_bytes", status, [ctx_p, opts_p, c_int64])
eo_geom_from_geojson = _fn(
    "eo_geom_from_geojson", status, [ctx_p, POINTER(geom_p), c_char_p, opts_p]
)
eo_geom_from_geojson_file = _fn(
    "eo_geom_from_geojson_file", status, [ctx_p, POINTER(geom_p), c_char_p, opts_p]
)
eo_geom_free = _fn("eo_geom_free", None, [geom_p])
eo_geom_area_km2 = _fn("eo_geom_area_km2", status, [ctx_p, geom_p, POINTER(c_double)])

# ops.h
eo_ops_list = _fn("eo_ops_list", status, [ctx_p, PCHAR_OUT])
eo_op_schema = _fn("eo_op_schema", status, [ctx_p, c_char_p, PCHAR_OUT])
eo_op_result_schema = _fn("eo_op_result_schema", status, [ctx_p, c_char_p, PCHAR_OUT])
eo_op_run = _fn("eo_op_run", status, [ctx_p, c_char_p, c_char_p, PCHAR_OUT])

# tiles.h
eo_tile_opts_new = _fn("eo_tile_opts_new", status, [ctx_p, POINTER(opts_p)])
eo_tile_opts_free = _fn("eo_tile_opts_free", None, [opts_p])
eo_tile_opts_set_size = _fn("eo_tile_opts_set_size", status, [ctx_p, opts_p, c_int32])
eo_tile_opts_set_resampling = _fn("eo_tile_opts_set_resampling", status, [ctx_p, opts_p, c_int32])
eo_tile_opts_set_bands = _fn(
    "eo_tile_opts_set_bands", status, [ctx_p, opts_p, POINTER(c_int32), c_int32]
)
eo_tile_read = _fn(
    "eo_tile_read", status, [ctx_p, POINTER(raster_p), dataset_p, c_int32, c_int32, c_int32, opts_p]
)
