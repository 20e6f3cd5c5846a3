"""AOI clipping (eoproc.clip).

A thin layer over the registry operation ``clip`` (see
``eoproc.schema("clip")``): the same parameters, checked by the library.
"""

import os


def clip(src, aoi, out, crop=True, all_touched=False, nodata=None, alpha=False, coverage=False,
         bands=None, crs=None, repair=False, **cog_options):
    """Clip a raster to an area of interest, on its own pixel grid, into a COG.

    Args:
        src: path of the raster, or a list of paths opened as one mosaic.
        aoi: GeoJSON (a dict, its text, or the path of a file): Polygon,
            MultiPolygon (holes allowed), Feature or FeatureCollection, in
            any CRS (EPSG:4326 unless the GeoJSON or ``crs`` names another).
        out: output path (a Cloud-Optimized GeoTIFF).
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
        coverage_sum (with coverage), aoi_area (raster CRS units²), bytes.

    Raises:
        eoproc.Error: ``source.NoDataInAOI`` (the AOI misses the raster),
            ``geometry.Invalid``, ``io.NotFound``, ``arg.Invalid`` (a bad
            band or nodata value), ``param.Invalid``, ``io.Write``.
    """
    from . import run

    params = {
        "src": [os.fspath(p) for p in src] if isinstance(src, (list, tuple)) else os.fspath(src),
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
