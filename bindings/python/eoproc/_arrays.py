"""Arrays wherever a raster goes.

:class:`GeoArray` is a numpy array that carries its georeferencing
(``transform``, ``crs``, ``nodata``): what eoproc's raster results are
(``eoproc.read``, ``calc``, ``index``, ``clip(..., out=None)``, ...), and what
every operation taking a raster accepts besides a path or a dataset. A plain
array is accepted too, with ``transform=`` and ``crs=`` given to the call.

An array reaches the C library as a temporary GeoTIFF (uncompressed, in a
private temporary folder removed right after the call); ``eoproc.open(array,
transform=..., crs=...)`` keeps one open as a :class:`eoproc.Dataset` until
it is closed.
"""

import contextlib
import os
import shutil
import tempfile
from ctypes import byref, c_char_p, c_double, c_int32, c_int64, c_void_p, POINTER

import numpy as np
from affine import Affine

from . import _lib, _rio

_f = _lib._fn
eo_raster_new = _f("eo_raster_new", _lib.status,
                   [_lib.ctx_p, POINTER(c_void_p), c_int64, c_int64, c_int32, c_int32])
eo_raster_data = _f("eo_raster_data", c_void_p, [_lib.raster_p])
eo_raster_set_geotransform = _f("eo_raster_set_geotransform", _lib.status,
                                [_lib.ctx_p, _lib.raster_p, POINTER(c_double)])
eo_raster_set_crs = _f("eo_raster_set_crs", _lib.status, [_lib.ctx_p, _lib.raster_p, c_char_p])
eo_raster_set_nodata = _f("eo_raster_set_nodata", _lib.status,
                          [_lib.ctx_p, _lib.raster_p, c_double])
eo_raster_write = _f("eo_raster_write", _lib.status,
                     [_lib.ctx_p, _lib.raster_p, c_char_p, c_void_p])


def _transform(t):
    """An Affine from an Affine, a GDAL 6-tuple or None."""
    if t is None or isinstance(t, Affine):
        return t
    vals = tuple(float(v) for v in t)
    if len(vals) == 6:
        return Affine.from_gdal(*vals)
    if len(vals) == 9:
        return Affine(*vals[:6])
    from . import _arg_error

    raise _arg_error("transform must be an affine.Affine or a GDAL geotransform, got %r" % (t,))


def _crs(c):
    if c is None or isinstance(c, _rio.CRS):
        return c
    return _rio.CRS.from_user_input(c)


class GeoArray(np.ndarray):
    """A numpy array (``(bands, height, width)`` or ``(height, width)``) with
    ``transform`` (``affine.Affine``), ``crs`` (:class:`eoproc.CRS`) and
    ``nodata``. Arithmetic keeps them; a slice that changes the height or
    width drops them (its grid is another one)."""

    def __new__(cls, data, transform=None, crs=None, nodata=None):
        obj = np.asarray(data).view(cls)
        obj.transform = _transform(transform)
        obj.crs = _crs(crs)
        obj.nodata = None if nodata is None else float(nodata)
        return obj

    def __array_finalize__(self, obj):
        same_grid = obj is not None and getattr(obj, "shape", ())[-2:] == self.shape[-2:]
        self.transform = getattr(obj, "transform", None) if same_grid else None
        self.crs = getattr(obj, "crs", None) if same_grid else None
        self.nodata = getattr(obj, "nodata", None) if same_grid else None

    def __reduce__(self):  # pickling keeps the georeferencing
        fn, args, state = super().__reduce__()
        return fn, args, (state, (self.transform, self.crs and self.crs.to_wkt(), self.nodata))

    def __setstate__(self, state):
        base, (t, crs, nodata) = state
        super().__setstate__(base)
        self.transform, self.crs, self.nodata = t, _crs(crs), nodata

    @property
    def georef(self):
        """``{"transform", "crs", "nodata", "width", "height"}``."""
        return {"transform": self.transform, "crs": self.crs, "nodata": self.nodata,
                "width": int(self.shape[-1]), "height": int(self.shape[-2])}

    @property
    def profile(self):
        """A rasterio-style profile: ``eoproc.open(path, "w", **a.profile)``."""
        return {"driver": "GTiff", "dtype": self.dtype.name, "nodata": self.nodata,
                "width": int(self.shape[-1]), "height": int(self.shape[-2]),
                "count": int(self.shape[0]) if self.ndim == 3 else 1, "crs": self.crs,
                "transform": self.transform or Affine.identity()}

    @property
    def bounds(self):
        return _rio.bounds_of(self.transform or Affine.identity(), self.shape[-1], self.shape[-2])


def from_georef(arr, georef):
    """A GeoArray from an array and eoproc.read's georef dict (arr itself
    when it is a GeoArray already, so that it keeps owning its data)."""
    gt = georef.get("geotransform")
    if not isinstance(arr, GeoArray):
        arr = arr.view(GeoArray)
    arr.transform = Affine.from_gdal(*gt) if gt else None
    arr.crs = _crs(georef.get("crs") or None)
    nd = georef.get("nodata")
    arr.nodata = None if nd is None else float(nd)
    return arr


def raster_from_array(ctx, arr, transform=None, crs=None, nodata=None):
    """A new eo_raster (c_void_p, caller frees) holding a copy of arr
    ((bands, h, w) or (h, w)) with the georeferencing given."""
    from . import _arg_error, _check, _eo_dtype

    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or 0 in arr.shape:
        raise _arg_error("array must have shape (bands, height, width), got %r" % (arr.shape,))
    dt = _eo_dtype(arr.dtype)
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
    nb, h, w = arr.shape
    r = c_void_p()
    try:
        _check(ctx, eo_raster_new(ctx, byref(r), w, h, nb, dt))
        dst = eo_raster_data(r)
        np.copyto(np.ctypeslib.as_array((np.ctypeslib.ctypes.c_uint8 * arr.nbytes).from_address(dst)),
                  arr.reshape(-1).view(np.uint8))
        if transform is not None:
            gt = _transform(transform).to_gdal()
            _check(ctx, eo_raster_set_geotransform(ctx, r, (c_double * 6)(*gt)))
        if crs is not None:
            wkt = _crs(crs).to_wkt(version="WKT2_2019")
            _check(ctx, eo_raster_set_crs(ctx, r, wkt.encode("utf-8")))
        if nodata is not None:
            _check(ctx, eo_raster_set_nodata(ctx, r, float(nodata)))
        return r
    except BaseException:
        _lib.eo_raster_free(r)
        raise


def georef_of(arr, transform=None, crs=None, nodata=None):
    """The georeferencing of an array: the arguments, else its own."""
    return (
        transform if transform is not None else getattr(arr, "transform", None),
        crs if crs is not None else getattr(arr, "crs", None),
        nodata if nodata is not None else getattr(arr, "nodata", None),
    )


def write_temp(arr, transform=None, crs=None, nodata=None, need_georef=True, what="src"):
    """Write arr to a GeoTIFF in a new private temporary folder: (folder, path)."""
    from . import _arg_error, _check, _context

    transform, crs, nodata = georef_of(arr, transform, crs, nodata)
    if need_georef and (transform is None or crs is None):
        raise _arg_error(
            "%s is an array without georeferencing: give transform= and crs= (or pass an "
            "eoproc.GeoArray, as eoproc.read and eoproc.calc return)" % what)
    folder = tempfile.mkdtemp(prefix="eoproc-array-")
    path = os.path.join(folder, "array.tif")
    try:
        with _context() as ctx:
            r = raster_from_array(ctx, np.asarray(arr), transform, crs, nodata)
            try:
                _check(ctx, eo_raster_write(ctx, r, path.encode(), None))
            finally:
                _lib.eo_raster_free(r)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, path


@contextlib.contextmanager
def raster_path(src, transform=None, crs=None, nodata=None, need_georef=True, what="src"):
    """The path GDAL opens for src: a path or dataset as it is, a list of
    them (a mosaic) as a list, an array as a temporary GeoTIFF."""
    if isinstance(src, np.ndarray):
        folder, path = write_temp(src, transform, crs, nodata, need_georef, what)
        try:
            yield path
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if transform is not None or crs is not None:
        from . import _arg_error

        raise _arg_error("transform and crs are for an array %s only" % what)
    if isinstance(src, (list, tuple)):
        yield [os.fspath(p) for p in src]
    else:
        yield os.fspath(src) if isinstance(src, os.PathLike) else src


def read_result(path):
    """A raster file read whole as a GeoArray (bands, height, width)."""
    from . import read

    arr, georef = read(path)
    return from_georef(arr, georef)
