"""Vectorization: masks and class rasters to polygons (eoproc.polygonize).

A thin layer over the registry operation ``polygonize`` (see
``eoproc.schema("polygonize")``): the same parameters, checked by the
library.
"""

import contextlib
import os

import numpy as np

_FORMATS = ("geojson", "gpkg", "fgb")


def polygonize(
    src,
    out=None,
    band=1,
    connectivity=4,
    simplify=None,
    coverage_simplify=None,
    staircase=False,
    regularize=False,
    min_area=None,
    fill_holes=None,
    prob=None,
    prob_band=1,
    format="geojson",
    precision=None,
    native_crs=False,
    no_mask=False,
    stripe_rows=0,
    transform=None,
    crs=None,
):
    """Polygons from a band of a mask or class raster.

    One feature per connected region of equal values (``connectivity`` 4 or
    8), boundaries along pixel edges, properties ``id``, ``class``,
    ``pixels``, ``area_m2`` (geodesic), ``perimeter_m`` and ``score`` (the
    mean of ``prob`` inside, when a probability raster is given).

    Args:
        src: path of the raster, a dataset, or an :class:`eoproc.GeoArray`
            (a plain array takes ``transform=`` and ``crs=``); ``prob`` too.
        out: output path; None returns the GeoJSON FeatureCollection as a dict;
            ``"PG:dbname=... tables=NAME"`` writes into that PostGIS table
            (EPSG:4326, columns eo_partition and eo_key; see
            :func:`eoproc.write_features`).
        simplify: topology-preserving simplification tolerance in metres.
        coverage_simplify: coverage-preserving tolerance in metres (shared
            edges between neighbours stay shared).
        staircase: remove pixel staircases.
        regularize: snap building outlines to right angles.
        min_area / fill_holes: drop polygons / fill holes below this area (m²).
        format: "geojson", "gpkg" or "fgb" (with ``out``).
        precision: GeoJSON coordinate decimals (default 7, 3 with native_crs).
        native_crs: coordinates in the raster's CRS instead of EPSG:4326.

    Returns:
        the GeoJSON dict without ``out``; else ``{"features": n, "out": path}``.

    Raises:
        eoproc.Error: ``io.NotFound``, ``arg.Invalid`` (a bad band),
            ``param.Invalid``, ``crs.Invalid`` (EPSG:4326 output of a raster
            without a CRS), ``io.Write``.
    """
    from . import _arrays

    with contextlib.ExitStack() as stack:
        src = stack.enter_context(_arrays.raster_path(src, transform, crs, need_georef=False))
        if prob is not None:
            prob = stack.enter_context(
                _arrays.raster_path(prob, transform if isinstance(prob, np.ndarray) else None,
                                    crs if isinstance(prob, np.ndarray) else None,
                                    need_georef=False, what="prob"))
        return _polygonize(src, out, band, connectivity, simplify, coverage_simplify, staircase,
                           regularize, min_area, fill_holes, prob, prob_band, format, precision,
                           native_crs, no_mask, stripe_rows)


def _polygonize(src, out, band, connectivity, simplify, coverage_simplify, staircase, regularize,
                min_area, fill_holes, prob, prob_band, format, precision, native_crs, no_mask,
                stripe_rows):
    from . import run

    params = {"src": os.fspath(src), "band": band, "connectivity": connectivity}
    if out is not None:
        params["out"] = os.fspath(out)
    for key, value in (
        ("simplify", simplify),
        ("coverage_simplify", coverage_simplify),
        ("min_area", min_area),
        ("fill_holes", fill_holes),
        ("precision", precision),
    ):
        if value is not None:
            params[key] = value
    if prob is not None:
        params["prob"] = os.fspath(prob)
        params["prob_band"] = prob_band
    params.update(
        staircase=bool(staircase),
        regularize=bool(regularize),
        format=format,
        native_crs=bool(native_crs),
        no_mask=bool(no_mask),
        stripe_rows=stripe_rows,
    )
    pg = isinstance(out, str) and out.startswith("PG:")
    if pg:
        # a PostGIS table (GDAL's PG driver): polygonize in memory, then one
        # transaction into the table named by the string's tables=NAME
        from ._postgis import split_table, write_features

        del params["out"]
        params["native_crs"] = False
    res = run("polygonize", **params)
    if pg:
        n = write_features(res["geojson"], out)
        return {"features": n, "out": out, "table": split_table(out)[1] or "eoproc_features"}
    return res["geojson"] if out is None else res
