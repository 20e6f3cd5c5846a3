"""Pixels to image bytes for the server: rescaling, nodata masks, band math
on a tile, and encoding through the C library (eo_raster_encode).

The tile and preview endpoints get a (bands, height, width) array and a
validity mask from eoproc, turn it into 1 or 3 display bands plus alpha
here, and hand the result to the library's PNG / JPEG / WebP encoder.
"""

import ctypes
import os
import tempfile
import uuid
from ctypes import byref, c_char_p, c_double, c_int32, c_int64, c_size_t, c_void_p

import numpy as np

import eoproc
from eoproc import _lib

from ._errors import ApiError

_fn = _lib._fn
_raster_new = _fn(
    "eo_raster_new", _lib.status, [c_void_p, ctypes.POINTER(c_void_p), c_int64, c_int64, c_int32,
                                   c_int32]
)
_raster_data = _fn("eo_raster_data", c_void_p, [c_void_p])
_raster_encode = _fn(
    "eo_raster_encode", _lib.status,
    [c_void_p, ctypes.POINTER(c_void_p), ctypes.POINTER(c_size_t), c_void_p, c_char_p, c_int32],
)
_raster_write = _fn("eo_raster_write", _lib.status, [c_void_p, c_void_p, c_char_p, c_void_p])
_raster_set_gt = _fn("eo_raster_set_geotransform", _lib.status,
                     [c_void_p, c_void_p, ctypes.POINTER(c_double)])

FORMATS = {"png": ("png", "image/png"), "jpg": ("jpeg", "image/jpeg"),
           "jpeg": ("jpeg", "image/jpeg"), "webp": ("webp", "image/webp")}

# Band math on tiles is evaluated by the library on a small GeoTIFF in a
# folder in memory when one exists.
# the value marking undefined results (NaN afterwards)
_UNDEF = -3.0e38
_SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _to_raster(ctx, arr):
    """A new eo_raster holding a copy of a C-contiguous (bands, h, w) array."""
    code = eoproc._eo_dtype(arr.dtype)
    r = c_void_p()
    eoproc._check(ctx, _raster_new(ctx, byref(r), arr.shape[2], arr.shape[1], arr.shape[0], code))
    ctypes.memmove(_raster_data(r), arr.ctypes.data, arr.nbytes)
    return r


def encode(arr, fmt, quality=0):
    """Encode a (bands, h, w) uint8 / uint16 array (gray, gray+alpha, RGB or
    RGBA) as fmt ("png", "jpeg", "webp") with the library's encoder."""
    arr = np.ascontiguousarray(arr)
    with eoproc._context() as ctx:
        r, out, size = c_void_p(), c_void_p(), c_size_t()
        try:
            r = _to_raster(ctx, arr)
            eoproc._check(ctx, _raster_encode(ctx, byref(out), byref(size), r, fmt.encode(),
                                              int(quality)))
            return ctypes.string_at(out.value, size.value)
        finally:
            if out.value:
                _lib.eo_free(out)
            _lib.eo_raster_free(r)


def parse_rescale(values, nbands):
    """rescale=min,max (once for all bands, or once per band) -> list of
    (min, max) pairs, one per band, or None."""
    if not values:
        return None
    pairs = []
    for v in values:
        parts = v.split(",")
        try:
            lo, hi = float(parts[0]), float(parts[1])
            if len(parts) != 2:
                raise ValueError
        except (ValueError, IndexError):
            raise ApiError(422, "param.Invalid", "rescale must be MIN,MAX, got %r" % v[:60],
                           field="rescale")
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi == lo:
            raise ApiError(422, "param.Invalid",
                           "rescale %r: MIN and MAX must be finite and differ" % v[:60],
                           field="rescale")
        pairs.append((lo, hi))
    if len(pairs) == 1:
        return pairs * nbands
    if len(pairs) != nbands:
        raise ApiError(422, "param.Invalid", "rescale is given %d times for %d bands: give it "
                       "once or once per band" % (len(pairs), nbands), field="rescale")
    return pairs


def rescale(data, pairs):
    """Linear stretch of each band from [min, max] to 0..255: (v - min) *
    255 / (max - min), rounded half to even and clipped (uint8)."""
    out = np.empty(data.shape, np.uint8)
    for i, (lo, hi) in enumerate(pairs):
        v = (data[i].astype(np.float64) - lo) * 255.0 / (hi - lo)
        np.clip(np.rint(v), 0, 255, out=v)
        out[i] = v
    return out


def to_image(data, valid, fmt, pairs):
    """Display bands + alpha ready for the encoder.

    data: (n, h, w) with n of 1 or 3; valid: (h, w) bool. Without a rescale
    uint8 goes out as it is, and uint16 as 16-bit PNG; anything else needs
    a rescale (a float or a wide integer has no natural 0..255 mapping)."""
    n = data.shape[0]
    if n not in (1, 3):
        raise ApiError(422, "param.Invalid", "an image shows 1 band (gray) or 3 (RGB), got %d: "
                       "choose them with bidx" % n, field="bidx")
    if pairs is not None:
        img = rescale(data, pairs)
    elif data.dtype == np.uint8:
        img = data
    elif data.dtype == np.uint16 and fmt == "png":
        img = data
    else:
        raise ApiError(422, "param.Invalid", "%s values cannot be shown as %s as they are: give "
                       "rescale=MIN,MAX" % (data.dtype, fmt), field="rescale")
    full = np.iinfo(img.dtype).max
    alpha = np.where(valid, full, 0).astype(img.dtype)[None]
    if fmt == "webp" and n == 1:
        img = np.concatenate([img, img, img])
    return np.concatenate([img, alpha])


def nodata_mask(data, nodata):
    """True where a pixel is not nodata in every band."""
    if nodata is None:
        return np.ones(data.shape[1:], bool)
    if np.isnan(nodata):
        return ~np.all(np.isnan(data), axis=0)
    return ~np.all(data == nodata, axis=0)


def expression(data, expr, index_names, bands=None, sensor=None):
    """Band math (or a catalog index) over a (n, h, w) array, evaluated by
    the library; ';' separates the expressions of several output bands.
    Returns float32 (k, h, w) with NaN where undefined or nodata."""
    arr = np.ascontiguousarray(data)
    path = os.path.join(_SCRATCH or tempfile.gettempdir(), "eoproc-expr-%s.tif" % uuid.uuid4().hex)
    out = []
    with eoproc._context() as ctx:
        r = c_void_p()
        try:
            r = _to_raster(ctx, arr)
            gt = (c_double * 6)(0, 1, 0, 0, 0, -1)
            eoproc._check(ctx, _raster_set_gt(ctx, r, gt))
            eoproc._check(ctx, _raster_write(ctx, r, path.encode(), None))
        finally:
            _lib.eo_raster_free(r)
    try:
        for e in expr.split(";"):
            e = e.strip()
            if not e:
                raise ApiError(422, "expr.Syntax", "empty expression in %r" % expr[:100],
                               field="expression")
            if e.upper() in index_names:
                v = eoproc.index(path, e.upper(), bands=bands, sensor=sensor, nodata=_UNDEF)
            else:
                v = eoproc.calc(path, e, bands=bands, sensor=sensor, nodata=_UNDEF)
            v[v == np.float32(_UNDEF)] = np.nan
            out.append(v)
    except eoproc.Error as e:  # name the tile, not the scratch file
        raise eoproc.Error(e.message.replace(path, "tile"), e.id, e.code) from None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return np.stack(out)
