"""Writing as rasterio writes: ``eoproc.open(path, "w", **profile)`` gives a
:class:`DatasetWriter`; ``write()`` fills it and closing it writes a
Cloud-Optimized GeoTIFF (eoproc's own COG writer, through a temporary name,
so nothing is left at ``path`` when anything fails)."""

import math
import operator
import os
import warnings

import numpy as np
from affine import Affine

from . import _rio

# Creation options of a profile copied from another file that describe a
# layout the COG writer chooses itself: accepted and not used.
_LAYOUT_KEYS = {"tiled", "blockysize", "interleave", "photometric", "sparse_ok", "num_threads"}
_PREDICTORS = {1: "none", 2: "horizontal", 3: "float", "1": "none", "2": "horizontal",
               "3": "float", "none": "none", "horizontal": "horizontal", "float": "float"}
_COMPRESS = ("zstd", "deflate", "lzw", "none")


class DatasetWriter:
    """A raster being written (see :func:`eoproc.open` with mode ``"w"``).

    The pixels are kept in memory (``count x height x width`` of ``dtype``)
    until :meth:`close`, which writes the COG; an exception inside a
    ``with`` block writes nothing.
    """

    mode = "w"

    def __init__(self, path, driver="GTiff", width=None, height=None, count=None, dtype=None,
                 crs=None, transform=None, nodata=None, **options):
        from . import _arg_error, _cpath, _eo_dtype

        self._path = os.fsdecode(_cpath(path))
        if str(driver).upper() not in ("GTIFF", "COG"):
            raise _arg_error("driver %r cannot be written: eoproc writes GeoTIFF (COG), give "
                             "driver='GTiff' or 'COG'" % (driver,))
        for key, v in (("width", width), ("height", height), ("count", count)):
            if v is None:
                raise _arg_error("open(..., 'w') needs %s" % key)
            try:
                ok = operator.index(v) >= 1
            except TypeError:
                ok = False
            if not ok:
                raise _arg_error("%s must be a positive integer, got %r" % (key, v))
        if dtype is None:
            raise _arg_error("open(..., 'w') needs dtype")
        _eo_dtype(dtype)  # refuses what the COG writer cannot write
        self.driver = "GTiff"
        self.width, self.height, self.count = int(width), int(height), int(count)
        self._dtype = np.dtype(dtype)
        self._crs = _rio.CRS.from_user_input(crs) if crs is not None else None
        if transform is None:
            self._transform = None
        elif isinstance(transform, Affine):
            self._transform = transform
        else:
            vals = tuple(float(v) for v in transform)
            if len(vals) == 6:  # a GDAL geotransform
                self._transform = Affine.from_gdal(*vals)
            elif len(vals) == 9:
                self._transform = Affine(*vals[:6])
            else:
                raise _arg_error("transform must be an affine.Affine, got %r" % (transform,))
        if nodata is not None:
            nodata = float(nodata)
            if not math.isnan(nodata) and self._dtype.kind in "iu":
                info = np.iinfo(self._dtype)
                if not (info.min <= nodata <= info.max and nodata == int(nodata)):
                    raise _arg_error("nodata %r does not fit %s" % (nodata, self._dtype.name))
            elif math.isnan(nodata) and self._dtype.kind != "f":
                raise _arg_error("nodata NaN needs a floating-point dtype")
        self._nodata = nodata
        self._cog = self._cog_options(options)
        fill = 0 if nodata is None else nodata
        self._data = np.full((self.count, self.height, self.width), fill, dtype=self._dtype)
        self.closed = False

    @staticmethod
    def _cog_options(options):
        from . import _arg_error

        out = {}
        unknown = []
        for k, v in options.items():
            key = k.lower()
            if key == "compress":
                c = str(v).lower()
                if c not in _COMPRESS:
                    raise _arg_error("compress=%r is not supported (one of %s)"
                                     % (v, ", ".join(_COMPRESS)))
                out["compress"] = c
            elif key in ("zstd_level", "zlevel", "level"):
                out["level"] = int(v)
            elif key == "predictor":
                if v not in _PREDICTORS and str(v).lower() not in _PREDICTORS:
                    raise _arg_error("predictor=%r is not supported (1, 2 or 3)" % (v,))
                out["predictor"] = _PREDICTORS.get(v, _PREDICTORS.get(str(v).lower()))
            elif key in ("blockxsize", "blocksize"):
                if int(v) in (256, 512):
                    out["blocksize"] = int(v)
            elif key == "bigtiff":
                out["bigtiff"] = {"yes": "yes", "no": "no", "if_needed": "auto",
                                  "if_safer": "auto", "auto": "auto"}.get(str(v).lower(), "auto")
            elif key == "overviews":
                out["overviews"] = v
            elif key == "resampling":
                out["resampling"] = getattr(v, "name", v)
            elif key in _LAYOUT_KEYS:
                continue
            else:
                unknown.append(k)
        if unknown:
            warnings.warn("creation options not used by eoproc's COG writer: %s"
                          % ", ".join(sorted(unknown)), stacklevel=4)
        return out

    # -- rasterio's attributes
    @property
    def name(self):
        return self._path

    @property
    def crs(self):
        return self._crs

    @property
    def transform(self):
        return self._transform if self._transform is not None else Affine.identity()

    @property
    def nodata(self):
        return self._nodata

    @property
    def nodatavals(self):
        return (self._nodata,) * self.count

    @property
    def dtypes(self):
        return (self._dtype.name,) * self.count

    @property
    def indexes(self):
        return tuple(range(1, self.count + 1))

    @property
    def shape(self):
        return (self.height, self.width)

    @property
    def bounds(self):
        return _rio.bounds_of(self.transform, self.width, self.height)

    @property
    def res(self):
        return _rio.res_of(self.transform)

    @property
    def meta(self):
        return {"driver": self.driver, "dtype": self._dtype.name, "nodata": self._nodata,
                "width": self.width, "height": self.height, "count": self.count,
                "crs": self._crs, "transform": self.transform}

    @property
    def profile(self):
        p = self.meta
        p.update(blockxsize=self._cog.get("blocksize", 512),
                 blockysize=self._cog.get("blocksize", 512), tiled=True,
                 compress=self._cog.get("compress", "zstd"), interleave="band")
        return p

    def window_transform(self, window):
        w = _rio.as_window(window, self.height, self.width)
        return _rio.window_transform(self.transform, w)

    def _bidx(self, i):
        from . import _arg_error

        try:
            i = operator.index(i)
        except TypeError:
            raise _arg_error("band index must be an integer, got %r" % (i,)) from None
        if not 1 <= i <= self.count:
            raise _arg_error("band index %d out of range (the dataset has %d bands)"
                             % (i, self.count))
        return i

    # -- writing
    def write(self, arr, indexes=None, window=None):
        """Write ``arr`` to bands ``indexes`` (None: all, ``arr`` 3-D; an int:
        ``arr`` 2-D; a list: 3-D) in ``window`` (default the whole raster).
        Values are cast to the dataset's dtype as numpy casts them (use an
        array of that dtype to be exact)."""
        from . import Error, _arg_error

        if self.closed:
            raise Error("dataset %s is closed" % self._path, "state.Invalid", 12)
        arr = np.asarray(arr)
        if indexes is None:
            idx = list(self.indexes)
            if arr.ndim == 2 and self.count == 1:
                arr = arr[np.newaxis]
        elif isinstance(indexes, (int, np.integer)):
            idx = [self._bidx(indexes)]
            if arr.ndim != 2:
                raise _arg_error("writing one band needs a 2-D array, got shape %r" % (arr.shape,))
            arr = arr[np.newaxis]
        else:
            idx = [self._bidx(i) for i in indexes]
        win = _rio.as_window(window, self.height, self.width)
        vals = win.flatten()
        if any(float(v) != int(v) for v in vals):
            raise _arg_error("window %r is not on whole pixels" % (win,))
        c0, r0, w, h = (int(v) for v in vals)
        if c0 < 0 or r0 < 0 or w < 1 or h < 1 or c0 + w > self.width or r0 + h > self.height:
            raise _arg_error("window %r does not lie inside the raster (%d x %d)"
                             % (win, self.width, self.height))
        if arr.ndim != 3 or arr.shape != (len(idx), h, w):
            raise _arg_error("array of shape %r does not fit %d band(s) of %d x %d"
                             % (arr.shape, len(idx), h, w))
        for k, b in enumerate(idx):
            self._data[b - 1, r0:r0 + h, c0:c0 + w] = arr[k]

    def close(self):
        """Write the COG (once); later calls do nothing."""
        if self.closed:
            return
        self.closed = True
        from . import cog

        data, self._data = self._data, None
        kw = dict(self._cog)
        cog(data, self._path, nodata=self._nodata,
            geotransform=self._transform.to_gdal() if self._transform is not None else None,
            crs=self._crs.to_wkt(version="WKT2_2019") if self._crs is not None else None, **kw)

    def discard(self):
        """Close without writing anything."""
        self.closed = True
        self._data = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:
            self.discard()  # nothing half-done is written
        else:
            self.close()

    def __repr__(self):
        return "<%s eoproc.DatasetWriter %r mode 'w'>" % (
            "closed" if self.closed else "open", self._path)
