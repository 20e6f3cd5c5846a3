"""eoproc.cog: write a Cloud-Optimized GeoTIFF from a file or a numpy array."""

from ctypes import POINTER, byref, c_char_p, c_double, c_int32, c_void_p

import numpy as np

from . import _lib

_fn = _lib._fn
_ctx = _lib.ctx_p
_opts = _lib.opts_p
_st = _lib.status

eo_cog_opts_new = _fn("eo_cog_opts_new", _st, [_ctx, POINTER(c_void_p)])
eo_cog_opts_free = _fn("eo_cog_opts_free", None, [_opts])
eo_cog_opts_set_compress = _fn("eo_cog_opts_set_compress", _st, [_ctx, _opts, c_char_p])
eo_cog_opts_set_level = _fn("eo_cog_opts_set_level", _st, [_ctx, _opts, c_int32])
eo_cog_opts_set_predictor = _fn("eo_cog_opts_set_predictor", _st, [_ctx, _opts, c_char_p])
eo_cog_opts_set_blocksize = _fn("eo_cog_opts_set_blocksize", _st, [_ctx, _opts, c_int32])
eo_cog_opts_set_overviews = _fn("eo_cog_opts_set_overviews", _st, [_ctx, _opts, c_int32])
eo_cog_opts_set_resampling = _fn("eo_cog_opts_set_resampling", _st, [_ctx, _opts, c_int32])
eo_cog_opts_set_nodata = _fn("eo_cog_opts_set_nodata", _st, [_ctx, _opts, c_double])
eo_cog_opts_set_bigtiff = _fn("eo_cog_opts_set_bigtiff", _st, [_ctx, _opts, c_char_p])
eo_cog_opts_set_threads = _fn("eo_cog_opts_set_threads", _st, [_ctx, _opts, c_int32])
eo_cog_opts_set_stats = _fn("eo_cog_opts_set_stats", _st, [_ctx, _opts, c_int32])
eo_cog_write = _fn("eo_cog_write", _st, [_ctx, c_char_p, _lib.dataset_p, _opts])
eo_cog_write_raster = _fn("eo_cog_write_raster", _st, [_ctx, c_char_p, _lib.raster_p, _opts])


def _apply_options(pkg, ctx, o, compress, level, predictor, blocksize, overviews, resampling,
                   nodata, bigtiff, threads, stats):
    chk = pkg._check
    chk(ctx, eo_cog_opts_set_compress(ctx, o, str(compress).encode("ascii", "replace")))
    chk(ctx, eo_cog_opts_set_level(ctx, o, pkg._int(level, "level")))
    chk(ctx, eo_cog_opts_set_predictor(ctx, o, str(predictor).encode("ascii", "replace")))
    chk(ctx, eo_cog_opts_set_blocksize(ctx, o, pkg._int(blocksize, "blocksize")))
    if overviews in (None, "auto"):
        levels = -1
    elif overviews == "none":
        levels = 0
    else:
        levels = pkg._int(overviews, "overviews")
    chk(ctx, eo_cog_opts_set_overviews(ctx, o, levels))
    if resampling not in (None, "auto"):
        if not isinstance(resampling, str):
            raise pkg._arg_error("resampling must be a name such as 'average', got %r" % (resampling,))
        m = _lib.eo_resampling_from_name(resampling.encode("ascii", "replace"))
        chk(ctx, eo_cog_opts_set_resampling(ctx, o, m))
    if nodata is not None:
        chk(ctx, eo_cog_opts_set_nodata(ctx, o, float(nodata)))
    chk(ctx, eo_cog_opts_set_bigtiff(ctx, o, str(bigtiff).encode("ascii", "replace")))
    chk(ctx, eo_cog_opts_set_threads(ctx, o, pkg._int(threads, "threads")))
    chk(ctx, eo_cog_opts_set_stats(ctx, o, 1 if stats else 0))


def cog(
    src,
    path,
    compress="zstd",
    level=0,
    predictor="none",
    blocksize=512,
    overviews="auto",
    resampling="auto",
    nodata=None,
    bigtiff="auto",
    threads=0,
    stats=True,
    geotransform=None,
    crs=None,
    progress=None,
):
    """Write a Cloud-Optimized GeoTIFF.

    Args:
        src: a raster file path (any format GDAL reads), or a numpy array of
            shape (bands, height, width) or (height, width).
        path: the output .tif; written to a temporary name beside it and
            renamed at the end (nothing is left there on failure).
        compress: "zstd" (default), "deflate", "lzw" or "none".
        level: compression level (0 = default: zstd 9, deflate 6).
        predictor: "none", "horizontal" or "float".
        blocksize: 256 or 512.
        overviews: "auto" (down to one tile), "none", or a number of levels.
        resampling: "auto" (nearest for categorical data, else average),
            "nearest", "average" or "mode".
        nodata: nodata value to write (NaN allowed for floats); for an
            array source, also the nodata of the data.
        bigtiff: "auto", "yes" or "no".
        threads: compression threads (0 = all CPUs).
        stats: embed per-band statistics.
        geotransform, crs: georeferencing of an array source (a GDAL
            6-tuple or an ``affine.Affine``; any CRS definition, e.g.
            "EPSG:32633", or a CRS); an :class:`eoproc.GeoArray` brings its own.
        progress: optional callable(fraction, stage); return True to cancel.

    Raises:
        Error: io.Write (full disk, ...), io.NotFound, arg.Invalid,
            unsupported, cancelled.
    """
    import eoproc as pkg

    from . import _arrays

    out = pkg._cpath(path)
    arr = None
    if isinstance(src, np.ndarray):
        arr = src
        geotransform, crs, nodata = _arrays.georef_of(src, geotransform, crs, nodata)
    else:
        if geotransform is not None or crs is not None:
            raise pkg._arg_error("geotransform and crs are for an array source only")
        spath = pkg._cpath(src, "src")

    with pkg._context() as ctx, pkg._progress(ctx, progress) as prog:
        o = c_void_p()
        ds = c_void_p()
        r = c_void_p()
        try:
            pkg._check(ctx, eo_cog_opts_new(ctx, byref(o)))
            _apply_options(pkg, ctx, o, compress, level, predictor, blocksize, overviews,
                           resampling, nodata, bigtiff, threads, stats)
            if arr is None:
                pkg._check(ctx, _lib.eo_dataset_open(ctx, byref(ds), spath))
                pkg._check(ctx, eo_cog_write(ctx, out, ds, o), prog)
                return
            r = _arrays.raster_from_array(ctx, arr, geotransform, crs, nodata)
            pkg._check(ctx, eo_cog_write_raster(ctx, out, r, o), prog)
        finally:
            _lib.eo_raster_free(r)
            _lib.eo_dataset_close(ds)
            eo_cog_opts_free(o)
