"""AOI clipping (eoproc.clip).

A thin layer over the registry operation ``clip`` (see
``eoproc.schema("clip")``): the same parameters, checked by the library.
"""

import os
import shutil
import tempfile


def clip(src, aoi, out=None, crop=True, all_touched=False, nodata=None, alpha=False,
         coverage=False, bands=None, crs=None, repair=False, transform=None, raster_crs=None,
         **cog_options):
    """Clip a raster to an area of interest, on its own pixel grid, into a COG.

    Args:
        src: path of the raster, or a list of paths opened as one mosaic, a
            dataset, or an :class:`eoproc.GeoArray` (a plain array takes
            ``transform=`` and ``raster_crs=``).
        aoi: GeoJSON (a dict, its text, or the path of a file): Polygon,
            MultiPolygon (holes allowed), Feature or FeatureCollection, in
            any CRS (EPSG:4326 unless the GeoJSON or ``crs`` names another).
        out: output path (a Cloud-Optimized GeoTIFF); None returns the
            clipped raster as a :class:`eoproc.GeoArray` instead.
        crop: crop to the AOI's extent (gdalwarp -crop_to_cutline's rule);
            False keeps the raster's extent.
        all_touched: include every pixel the AOI touches, not only those
            whose centre it contains.
        nodata: value outside the AOI (default: the source's nodata, else 0
            for integer data and NaN for float data); ``float("nan")`` works.
        alpha: add an alpha band (255 inside, 0 outside).
        coverage: add a band with the exact fraction of each pixel inside
            the AOI (the output's bands then become float32 or float64).
        bands: source bands to keep (1-based), e.g. ``[3, 2, 1]``.
        crs: CRS of the AOI's coordinates when the GeoJSON names none.
        repair: repair an invalid AOI instead of failing.
        cog_options: the COG writer's options (``compress``, ``level``,
            ``predictor``, ``blocksize``, ``overviews``, ``resampling``,
            ``bigtiff``, ``stats``), as for :func:`eoproc.cog`.

    Returns:
        dict: path, width, height, bands, dtype, geotransform, window (x, y,
        width, height in the source), nodata, pixels_inside, pixels_total,
        coverage_sum (with coverage), aoi_area (raster CRS units²), bytes;
        without ``out``: the :class:`eoproc.GeoArray` (bands, height, width).

    Raises:
        eoproc.Error: ``source.NoDataInAOI`` (the AOI misses the raster),
            ``geometry.Invalid``, ``io.NotFound``, ``arg.Invalid`` (a bad
            band or nodata value), ``param.Invalid``, ``io.Write``.
    """
    from . import _arrays

    if out is None:
        folder = tempfile.mkdtemp(prefix="eoproc-clip-")
        try:
            path = os.path.join(folder, "clip.tif")
            clip(src, aoi, path, crop, all_touched, nodata, alpha, coverage, bands, crs, repair,
                 transform, raster_crs, **dict(cog_options, overviews="none", stats=False))
            return _arrays.read_result(path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    with _arrays.raster_path(src, transform, raster_crs) as p:
        return _clip(p, aoi, out, crop, all_touched, nodata, alpha, coverage, bands, crs, repair,
                     cog_options)


def _clip(src, aoi, out, crop, all_touched, nodata, alpha, coverage, bands, crs, repair,
          cog_options):
    from . import run

    params = {
        "src": src,
        "aoi": os.fspath(aoi) if isinstance(aoi, os.PathLike) else aoi,
        "out": os.fspath(out),
        "no_crop": not crop,
        "all_touched": bool(all_touched),
        "alpha": bool(alpha),
        "coverage": bool(coverage),
        "repair": bool(repair),
    }
    if nodata is not None:
        nd = float(nodata)
        params["nodata"] = "nan" if nd != nd else nd
    if bands is not None:
        params["bands"] = [int(b) for b in bands]
    if crs is not None:
        params["crs"] = crs
    params.update(cog_options)
    return run("clip", **params)
