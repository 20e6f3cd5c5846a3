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
import math
import operator
import os
import threading
import warnings
from ctypes import CFUNCTYPE, POINTER, byref, c_char_p, c_int, c_int32, c_int64, c_size_t, c_void_p

import numpy as np
from affine import Affine

from . import _fetch, _lib, _rio
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
eo_read_opts_set_masks = _f("eo_read_opts_set_masks", status, [ctx_p, opts_p, c_int32])

_SCHEMES = {"auto": -1, "xyz": 0, "tms": 1, "quadkey": 2}


def _fetcher(fn):
    """Wrap a Python callable(z, x, y) -> bytes | None as an eo_tile_fetch_fn."""

    def call(user, z, x, y, sink):
        return _fetch.deliver(sink, lambda: fn(z, x, y))

    return FETCH_FN(call)


class Dataset(os.PathLike):
    """An open dataset, read as rasterio reads one (see :func:`open` and
    :func:`open_tiles`).

    Metadata: ``count``, ``width``, ``height``, ``shape`` (height, width),
    ``dtypes``, ``nodata``, ``nodatavals``, ``crs`` (:class:`CRS`),
    ``transform`` (``affine.Affine``), ``bounds``, ``res``, ``descriptions``,
    ``colorinterp``, ``tags()``, ``profile``, ``meta``, ``block_shapes``,
    ``mask_flag_enums``, ``overviews()``; pixel/world arithmetic: ``index()``,
    ``xy()``, ``window()``, ``window_transform()``, ``block_windows()``;
    pixels: ``read()``, ``read_masks()``, ``dataset_mask()``.

    Use as a context manager or call :meth:`close`; a dataset is closed when
    garbage-collected too. Methods may be called from several threads.
    """

    mode = "r"

    def __init__(self, handle, label, keep=None):
        self._h = handle
        self._label = label
        self._keep = keep  # the ctypes callback of a callable source
        self._lock = threading.RLock()
        self._path = eo_dataset_gdal_path(handle).decode("utf-8")
        self.width = int(_lib.eo_dataset_width(handle))
        self.height = int(_lib.eo_dataset_height(handle))
        self.count = int(_lib.eo_dataset_band_count(handle))
        self._meta_cache = None
        self._crs_cache = False

    # -- lifetime
    def close(self):
        """Close the dataset (idempotent); its path stops working."""
        with self._lock:
            if self._h is not None and self._h.value:
                _lib.eo_dataset_close(self._h)
            self._h = None
            self._keep = None
            folder, self._cleanup = getattr(self, "_cleanup", None), None
            if folder:  # the temporary file of a dataset opened on an array
                import shutil

                shutil.rmtree(folder, ignore_errors=True)

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
        return "<%s eoproc.Dataset %r mode %r>" % (
            "closed" if self._h is None else "open",
            self._label,
            self.mode,
        )

    @property
    def path(self):
        """What the dataset was opened from (a label for a callable)."""
        return self._label

    @property
    def name(self):
        return self._label

    @property
    def band_count(self):
        """Deprecated: use ``count``."""
        warnings.warn("Dataset.band_count is deprecated: use Dataset.count", DeprecationWarning,
                      stacklevel=2)
        return self.count

    @property
    def shape(self):
        """(height, width), as rasterio's."""
        return (self.height, self.width)

    # -- metadata
    def _info(self):
        """eo_dataset_info of the open handle, cached (it does not change)."""
        from . import _check, _context, _take_string

        with self._lock:
            if self._meta_cache is None:
                h = self._handle()
                with _context() as ctx:
                    out = c_void_p()
                    self._named(_check, ctx, _lib.eo_dataset_info(ctx, byref(out), h))
                    self._meta_cache = json.loads(_take_string(out))
            return self._meta_cache

    def info(self):
        """Metadata as a dict (as :func:`eoproc.info`); a tile dataset adds
        ``"tiles"``: :meth:`tiles_info`."""
        d = json.loads(json.dumps(self._info()))
        d["path"] = self._label
        if self.is_tiles:
            d["tiles"] = self.tiles_info()
        return d

    def _bands(self):
        return self._info()["bands"]

    @property
    def driver(self):
        return self._info().get("driver")

    @property
    def indexes(self):
        return tuple(range(1, self.count + 1))

    @property
    def dtypes(self):
        return tuple(b["dtype"] for b in self._bands())

    @property
    def nodatavals(self):
        return tuple(_nodata_value(b.get("nodata")) for b in self._bands())

    @property
    def nodata(self):
        v = self.nodatavals
        return v[0] if v else None

    @property
    def descriptions(self):
        return tuple(b.get("description") or None for b in self._bands())

    @property
    def colorinterp(self):
        return tuple(_rio._colorinterp(b.get("color_interp")) for b in self._bands())

    @property
    def units(self):
        return tuple(b.get("units") or None for b in self._bands())

    @property
    def scales(self):
        return tuple(float(b.get("scale", 1.0)) for b in self._bands())

    @property
    def offsets(self):
        return tuple(float(b.get("offset", 0.0)) for b in self._bands())

    @property
    def block_shapes(self):
        """[(rows, cols)] of each band's blocks."""
        return [(b["block"][1], b["block"][0]) for b in self._bands()]

    @property
    def mask_flag_enums(self):
        return tuple(_rio._mask_flag_enums(b.get("mask_flags", 1)) for b in self._bands())

    @property
    def crs(self):
        """The :class:`CRS`, or None for a raster without one."""
        with self._lock:
            if self._crs_cache is False:
                c = self._info().get("crs") or {}
                wkt = (c.get("wkt1") or c.get("wkt")) if isinstance(c, dict) else None
                self._crs_cache = _rio.CRS.from_wkt(wkt) if wkt else None
            return self._crs_cache

    @property
    def transform(self):
        """The ``affine.Affine`` of the pixel grid (identity without one)."""
        gt = self._info().get("geotransform")
        return Affine.from_gdal(*gt) if gt else Affine.identity()

    @property
    def bounds(self):
        return _rio.bounds_of(self.transform, self.width, self.height)

    @property
    def res(self):
        return _rio.res_of(self.transform)

    def tags(self, bidx=0, ns=None):
        """Metadata items (dict of str): the dataset's (bidx 0) or a band's;
        ``ns="IMAGE_STRUCTURE"`` for the dataset's image structure."""
        from . import _arg_error

        bidx = self._bidx(bidx, allow_zero=True)
        if ns in (None, ""):
            d = self._info().get("metadata") if bidx == 0 else self._bands()[bidx - 1].get("metadata")
        elif ns == "IMAGE_STRUCTURE" and bidx == 0:
            d = self._info().get("image_structure")
        else:
            raise _arg_error("tags: namespace %r of band %d is not available" % (ns, bidx))
        return dict(d or {})

    @property
    def compression(self):
        v = self.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION")
        try:
            return _rio.Compression(v) if v else None
        except ValueError:
            return None

    @property
    def interleaving(self):
        v = self.tags(ns="IMAGE_STRUCTURE").get("INTERLEAVE")
        try:
            return _rio.Interleaving(v) if v else None
        except ValueError:
            return None

    @property
    def is_tiled(self):
        shapes = self.block_shapes
        return bool(shapes) and shapes[0][1] < self.width and shapes[0][1] <= 1024

    @property
    def meta(self):
        return {
            "driver": self.driver,
            "dtype": self.dtypes[0] if self.count else None,
            "nodata": self.nodata,
            "width": self.width,
            "height": self.height,
            "count": self.count,
            "crs": self.crs,
            "transform": self.transform,
        }

    @property
    def profile(self):
        """``meta`` plus the block layout, compression and interleaving, as
        rasterio's ``profile`` (the creation options for a copy)."""
        p = self.meta
        shapes = self.block_shapes
        if shapes:
            if self.is_tiled:
                p.update(blockxsize=shapes[0][1], blockysize=shapes[0][0], tiled=True)
            else:
                p.update(blockysize=shapes[0][0], tiled=False)
        if self.compression:
            p["compress"] = self.compression.name
        if self.interleaving:
            p["interleave"] = self.interleaving.name
        return p

    def overviews(self, bidx=1):
        """Decimation factors of a band's overviews (e.g. [2, 4, 8])."""
        b = self._bands()[self._bidx(bidx) - 1]
        return [int(round(float(self.width) / float(o["width"]))) for o in b.get("overviews", [])]

    def _bidx(self, bidx, allow_zero=False):
        from . import _arg_error

        try:
            i = operator.index(bidx)
        except TypeError:
            raise _arg_error("band index must be an integer, got %r" % (bidx,)) from None
        if (i == 0 and allow_zero) or 1 <= i <= self.count:
            return i
        raise _arg_error("band index %d out of range (the dataset has %d bands)" % (i, self.count))

    # -- pixel / world arithmetic
    def index(self, x, y, z=None, op=math.floor, precision=None):
        """(row, col) of the pixel holding world point (x, y)."""
        return _rio.rowcol(self.transform, x, y, op=op, precision=precision)

    def xy(self, row, col, z=None, offset="center"):
        """World (x, y) of a pixel's centre (or corner: "ul", "ur", "ll", "lr")."""
        return _rio.xy(self.transform, row, col, offset=offset)

    def window(self, left, bottom, right, top, precision=None):
        """The :class:`Window` covering world bounds."""
        return _rio.from_bounds(left, bottom, right, top, self.transform, precision=precision)

    def window_transform(self, window):
        """The affine transform of a window's pixels."""
        w = _rio.as_window(window, self.height, self.width)
        return _rio.window_transform(self.transform, w)

    def window_bounds(self, window):
        w = _rio.as_window(window, self.height, self.width)
        t = _rio.window_transform(self.transform, w)
        return _rio.bounds_of(t, w.width, w.height)

    def block_windows(self, bidx=0):
        """Yield ``((block_row, block_col), Window)`` of every block, row by row."""
        bh, bw = self.block_shapes[(self._bidx(bidx, allow_zero=True) or 1) - 1]
        for j in range((self.height + bh - 1) // bh):
            for i in range((self.width + bw - 1) // bw):
                c, r = i * bw, j * bh
                yield (j, i), _rio.Window(c, r, min(bw, self.width - c), min(bh, self.height - r))

    # -- pixels
    def _raw(self, win, out_hw, idx, dt, method, masks=False):
        """eo_dataset_read of an integer window inside the raster:
        (len(idx), oh, ow) array of dt (None: the first band's type)."""
        from . import _check, _context, _raster_to_numpy

        band_arr = (c_int32 * len(idx))(*idx)
        with self._lock, _context() as ctx:
            opts, r = c_void_p(), c_void_p()
            try:
                _check(ctx, _lib.eo_read_opts_new(ctx, byref(opts)))
                if dt is not None:
                    _check(ctx, _lib.eo_read_opts_set_dtype(ctx, opts, dt))
                _check(ctx, _lib.eo_read_opts_set_bands(ctx, opts, band_arr, len(idx)))
                _check(ctx, _lib.eo_read_opts_set_out_size(ctx, opts, out_hw[1], out_hw[0]))
                _check(ctx, _lib.eo_read_opts_set_resampling(ctx, opts, method))
                if masks:
                    _check(ctx, eo_read_opts_set_masks(ctx, opts, 1))
                w = _lib.eo_window(*win)
                self._named(_check, ctx, _lib.eo_dataset_read(ctx, byref(r), self._handle(),
                                                              byref(w), opts))
                return _raster_to_numpy(ctx, r)[0]
            finally:
                _lib.eo_raster_free(r)
                _lib.eo_read_opts_free(opts)

    def _plan(self, indexes, window, out_shape, boundless, out=None):
        """Bands, the window, the output size and where the readable part
        lands: (idx, single, (oh, ow), src_window or None, (r0, c0, r1, c1))."""
        from . import _arg_error

        single = False
        if indexes is None:
            idx = list(self.indexes)
        elif isinstance(indexes, (int, np.integer)):
            idx, single = [self._bidx(indexes)], True
        else:
            idx = [self._bidx(i) for i in indexes]
            if not idx:
                raise _arg_error("indexes must name at least one band")
        win = _rio.as_window(window, self.height, self.width, boundless)
        if out is not None:
            out_shape = out.shape
        if not boundless:
            # rasterio crops a window reaching outside to the raster
            c0 = max(win.col_off, 0)
            r0 = max(win.row_off, 0)
            c1 = min(win.col_off + win.width, self.width)
            r1 = min(win.row_off + win.height, self.height)
            win = _rio.Window(c0, r0, max(c1 - c0, 0), max(r1 - r0, 0))
        if out_shape is not None:
            shp = tuple(int(v) for v in out_shape)
            if len(shp) == 3:
                if shp[0] != len(idx):
                    raise _arg_error(
                        "out_shape %r does not match the %d bands read" % (tuple(out_shape), len(idx))
                    )
                shp = shp[1:]
            if len(shp) != 2 or shp[0] < 1 or shp[1] < 1:
                raise _arg_error("out_shape must be (height, width) or (bands, height, width), "
                                 "got %r" % (out_shape,))
            oh, ow = shp
        else:
            oh, ow = int(round(win.height)), int(round(win.width))
        if oh < 1 or ow < 1 or win.width <= 0 or win.height <= 0:
            raise _arg_error("window %r is empty%s" % (
                win, "" if boundless else " inside the raster (use boundless=True to read outside)"))
        # the part of the window inside the raster, in source pixels
        c0 = max(win.col_off, 0)
        r0 = max(win.row_off, 0)
        c1 = min(win.col_off + win.width, self.width)
        r1 = min(win.row_off + win.height, self.height)
        if c1 <= c0 or r1 <= r0:
            return idx, single, (oh, ow), None, None
        sx, sy = ow / win.width, oh / win.height
        oc0 = int(round((c0 - win.col_off) * sx))
        oc1 = int(round((c1 - win.col_off) * sx))
        or0 = int(round((r0 - win.row_off) * sy))
        or1 = int(round((r1 - win.row_off) * sy))
        if oc1 <= oc0 or or1 <= or0:
            return idx, single, (oh, ow), None, None
        ic0, ir0 = int(round(c0)), int(round(r0))
        src = (ic0, ir0, max(int(round(c1)) - ic0, 1), max(int(round(r1)) - ir0, 1))
        return idx, single, (oh, ow), src, (or0, oc0, or1, oc1)

    @staticmethod
    def _method(resampling):
        from . import _arg_error

        if resampling is None:
            return _lib.EO_RESAMPLE_NEAREST
        name = getattr(resampling, "name", resampling)
        if not isinstance(name, str):
            raise _arg_error("resampling must be a name such as 'nearest', got %r" % (resampling,))
        m = _lib.eo_resampling_from_name(name.encode("ascii", "replace"))
        if m < 0:
            raise _arg_error("unknown resampling method %r" % (resampling,))
        return m

    def read(self, indexes=None, out=None, window=None, masked=False, out_shape=None,
             boundless=False, resampling="nearest", fill_value=None, out_dtype=None,
             bands=None, dtype=None):
        """Read pixels as rasterio's ``DatasetReader.read`` does.

        Args:
            indexes: a band number (a 2-D array comes back), a list of them,
                or None for all bands (3-D arrays).
            out: an array to fill (its shape is the output shape).
            window: :class:`Window` (or rasterio's), or ``((row_start,
                row_stop), (col_start, col_stop))``; None for the whole
                raster. Without boundless it is cropped to the raster.
            masked: return a ``numpy.ma.MaskedArray`` masked where the
                bands' validity masks (nodata, alpha, mask band) say invalid.
            out_shape: ``(height, width)`` or ``(bands, height, width)``: a
                decimated (or enlarged) read, from the best overview.
            boundless: the window may reach outside the raster; pixels there
                are ``fill_value``, else the nodata value, else 0 (masked
                when ``masked``).
            resampling: "nearest" (default), "bilinear", "cubic", "average",
                "mode", "lanczos" (a name or a rasterio ``Resampling``).
            fill_value: see boundless; also the masked array's fill value.
            out_dtype: the output data type (GDAL's rounding and clamping).
            bands, dtype: deprecated spellings of ``indexes`` and
                ``out_dtype`` (``bands`` keeps the old 3-D result).
        """
        from . import _eo_dtype

        if bands is not None:
            warnings.warn("Dataset.read(bands=...) is deprecated: use read(indexes=...)",
                          DeprecationWarning, stacklevel=2)
            if indexes is None:
                indexes = [bands] if isinstance(bands, (int, np.integer)) else list(bands)
        if dtype is not None:
            out_dtype = dtype if out_dtype is None else out_dtype
        idx, single, (oh, ow), src, dst = self._plan(indexes, window, out_shape, boundless, out)
        dt = _eo_dtype(out_dtype) if out_dtype is not None else (
            _eo_dtype(out.dtype) if out is not None else None)
        method = self._method(resampling)
        if dt is not None:
            npdt = np.dtype(out_dtype if out_dtype is not None else out.dtype)
        else:
            npdt = np.dtype(_numpy_dtype(self.dtypes[idx[0] - 1]))
        full = src is not None and dst == (0, 0, oh, ow)
        if full:
            data = self._raw(src, (oh, ow), idx, dt, method)
        else:
            fill = fill_value if fill_value is not None else (
                self.nodatavals[idx[0] - 1] if self.nodatavals[idx[0] - 1] is not None else 0)
            data = np.full((len(idx), oh, ow), fill, dtype=npdt)
            if src is not None:
                r0, c0, r1, c1 = dst
                data[:, r0:r1, c0:c1] = self._raw(src, (r1 - r0, c1 - c0), idx, dt, method)
        all_valid = all(_rio.MaskFlags.all_valid in self.mask_flag_enums[i - 1] for i in idx)
        valid = None
        if (masked or fill_value is not None) and not (all_valid and full):
            valid = self._masks(idx, (oh, ow), src, dst, method) != 0
        if fill_value is not None and valid is not None:
            data[~valid] = fill_value  # as rasterio: invalid pixels take the fill value
        if masked:
            data = np.ma.array(data, mask=np.ma.nomask if valid is None else ~valid)
            fv = fill_value if fill_value is not None else self.nodatavals[idx[0] - 1]
            if fv is not None:
                data.fill_value = fv
        if single:
            data = data[0]
        if out is not None:
            if masked:
                out[...] = data.filled() if hasattr(data, "filled") else data
            else:
                out[...] = data
                return out
        return data

    def _masks(self, idx, out_hw, src, dst, method):
        oh, ow = out_hw
        if src is not None and dst == (0, 0, oh, ow):
            return self._raw(src, (oh, ow), idx, None, method, masks=True)
        m = np.zeros((len(idx), oh, ow), dtype=np.uint8)
        if src is not None:
            r0, c0, r1, c1 = dst
            m[:, r0:r1, c0:c1] = self._raw(src, (r1 - r0, c1 - c0), idx, None, method, masks=True)
        return m

    def read_masks(self, indexes=None, out=None, out_shape=None, window=None, boundless=False,
                   resampling="nearest"):
        """The bands' validity masks as uint8 (0 invalid, 255 valid), as
        rasterio's ``read_masks``: from nodata, an alpha band, a mask band,
        or all valid; 0 outside the raster in a boundless read."""
        idx, single, (oh, ow), src, dst = self._plan(indexes, window, out_shape, boundless, out)
        m = self._masks(idx, (oh, ow), src, dst, self._method(resampling))
        if single:
            m = m[0]
        if out is not None:
            out[...] = m
            return out
        return m

    def dataset_mask(self, out=None, out_shape=None, window=None, boundless=False,
                     resampling="nearest"):
        """One uint8 mask for the whole dataset, as rasterio's
        ``dataset_mask``: the per-dataset mask or alpha band when there is
        one, else valid where any band is valid."""
        kw = dict(out=out, out_shape=out_shape, window=window, boundless=boundless,
                  resampling=resampling)
        flags = self.mask_flag_enums
        if flags and _rio.MaskFlags.per_dataset in flags[0]:
            return self.read_masks(1, **kw)
        if self.count == 4 and self.colorinterp[0] == _rio.ColorInterp.red:
            return self.read_masks(4, **kw)
        if out_shape is not None and len(out_shape) == 3:
            kw["out_shape"] = (self.count,) + tuple(out_shape)[1:]
        kw.pop("out")
        m = np.logical_or.reduce(self.read_masks(**kw)) * np.uint8(255)
        if out is not None:
            out[...] = m
            return out
        return m

    def read_georef(self, window=None, **kw):
        """Like :func:`eoproc.read` on this dataset: ``(array, georef)``
        with a ``(col, row, width, height)`` window (deprecated style: use
        :meth:`read` and :meth:`window_transform`)."""
        from . import read

        self._handle()
        return self._named(read, self, window=window, **kw)

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

    def tile(self, z, x, y, size=256, resampling="bilinear", bands=None, scheme="xyz"):
        """Web-mercator tile z/x/y of the dataset: ``(array, georef)`` as
        :func:`eoproc.tile`."""
        from . import tile

        self._handle()
        return self._named(
            tile, self, z, x, y, size=size, resampling=resampling, bands=bands, scheme=scheme
        )


def _nodata_value(v):
    if v is None:
        return None
    if isinstance(v, str):
        return float(v)  # "nan", "inf", "-inf"
    return float(v)


def _numpy_dtype(name):
    try:
        return np.dtype(name)
    except TypeError:
        return np.dtype("float64")


def open(path_or_paths, mode="r", **kwargs):
    """Open a raster as rasterio's ``open`` does.

    ``open(path)`` (or a list of files, read as one mosaic; or a numpy array
    with ``transform=``, ``crs=``, ``nodata=``, or an :class:`eoproc.GeoArray`)
    gives a :class:`Dataset` to read; ``open(path, "w", driver="GTiff", width=...,
    height=..., count=..., dtype=..., crs=..., transform=..., nodata=...,
    **creation_options)`` gives a :class:`DatasetWriter` whose ``close()``
    writes a Cloud-Optimized GeoTIFF (``compress`` zstd/deflate/lzw/none,
    ``predictor``, ``blockxsize`` 256/512 are used; layout options of a
    copied profile such as ``tiled`` or ``interleave`` are accepted).
    """
    from . import _arg_error, _check, _context, _cpath

    if mode == "w":
        from ._io import DatasetWriter

        return DatasetWriter(path_or_paths, **kwargs)
    if mode != "r":
        raise _arg_error("mode must be 'r' or 'w', got %r" % (mode,))
    if isinstance(path_or_paths, np.ndarray):
        return _open_array(path_or_paths, **kwargs)
    if kwargs:
        raise _arg_error("open(..., 'r') takes no %s" % ", ".join(sorted(kwargs)))

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


def _open_array(arr, transform=None, crs=None, nodata=None):
    """A Dataset over an in-memory array (a temporary GeoTIFF removed when
    the dataset is closed)."""
    import shutil

    from . import _arrays, _check, _context

    folder, path = _arrays.write_temp(arr, transform, crs, nodata, need_georef=False)
    try:
        with _context() as ctx:
            ds = c_void_p()
            _check(ctx, _lib.eo_dataset_open(ctx, byref(ds), path.encode()))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    d = Dataset(ds, "array %s %s" % ("x".join(str(v) for v in arr.shape), arr.dtype.name))
    d._cleanup = folder
    return d


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
            ``{quadkey}.ext`` with scheme "quadkey"), an MBTiles file, a URL
            template (``"https://host/{z}/{x}/{y}.png"``, ``{-y}`` for TMS
            rows, ``{q}`` for QuadKeys; fetched with urllib: 404/204 a
            missing tile, 429/5xx/timeouts retried; see
            :func:`eoproc.set_url_fetcher`), or a
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
