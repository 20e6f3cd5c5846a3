"""/cog/...: tiles, info, statistics, preview, point values and TileJSON of
a raster, under the names TiTiler users know (WebMercatorQuad only)."""

import collections
import json
import math
import re
import threading
from typing import List, Optional

import numpy as np
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

import eoproc

from . import _render
from ._errors import ApiError, from_eoproc

MERC_HALF = eoproc.tile_bounds(0, 0, 0)["bounds_3857"][2]  # half the web-mercator grid, metres
RESAMPLING = ("nearest", "bilinear", "cubic", "average", "mode", "lanczos")
MAX_BIDX = 16
MAX_EXPR = 1000
MAX_PREVIEW = 2048
_TAIL = re.compile(r"^(\d{1,10})(?:@([1-4])x)?(?:\.([a-z]{1,5}))?$")

UrlQ = Query(..., description="raster: a name inside the served folders (or an allowed URL)")
BidxQ = Query(None, description="1-based band numbers (repeat: bidx=3&bidx=2&bidx=1)")
RescaleQ = Query(None, description="MIN,MAX mapped to 0..255 (once, or once per band)")
ExprQ = Query(None, description="band math (b4-b3)/(b4+b3), an index name (NDVI), "
                               "';' between the expressions of several bands")
NodataQ = Query(None, description="nodata value overriding the file's")
ResQ = Query("nearest", description="resampling: " + ", ".join(RESAMPLING))
BandsQ = Query(None, description="band symbols of an index, e.g. R=3,N=4")
SensorQ = Query(None, description="known sensor band layout of an index (landsat7, ...)")


class CogRoutes:
    def __init__(self, state):
        self.s = state
        self._info = collections.OrderedDict()
        self._info_lock = threading.Lock()
        self._indices = None
        r = APIRouter(prefix="/cog", tags=["cog"])
        for pat in ("/tiles/{z}/{x}/{tail}", "/tiles/{tms}/{z}/{x}/{tail}"):
            r.add_api_route(pat, self.tile, methods=["GET"], response_class=Response,
                            summary="A web-mercator tile of the raster",
                            responses={200: {"content": {"image/png": {}, "image/jpeg": {},
                                                         "image/webp": {}}}})
        r.add_api_route("/info", self.info, methods=["GET"], summary="Metadata of the raster")
        r.add_api_route("/statistics", self.statistics, methods=["GET"],
                        summary="Statistics of each band over the whole raster")
        r.add_api_route("/statistics", self.statistics_aoi, methods=["POST"],
                        summary="Zonal statistics over a GeoJSON Feature or FeatureCollection")
        for pat in ("/preview", "/preview.{fmt}"):
            r.add_api_route(pat, self.preview, methods=["GET"], response_class=Response,
                            summary="A thumbnail of the whole raster")
        r.add_api_route("/point/{lon},{lat}", self.point, methods=["GET"],
                        summary="Values of each band at a point (EPSG:4326)")
        r.add_api_route("/tilejson.json", self.tilejson, methods=["GET"], summary="TileJSON 2.2")
        self.router = r

    # -- helpers -----------------------------------------------------------
    def _info_of(self, path):
        key = self.s.pool._key(path)
        with self._info_lock:
            d = self._info.get(key)
            if d is not None:
                self._info.move_to_end(key)
                return d
        with self.s.pool.get(path) as ds:
            d = ds.info()
        with self._info_lock:
            self._info[key] = d
            while len(self._info) > 256:
                self._info.popitem(last=False)
        return d

    def _index_names(self):
        if self._indices is None:
            self._indices = {d["name"].upper() for d in eoproc.indices()}
        return self._indices

    def _bidx(self, bidx, count, default_rgb=True):
        if bidx:
            if len(bidx) > MAX_BIDX:
                raise ApiError(422, "param.Invalid", "bidx lists %d bands (at most %d)" %
                               (len(bidx), MAX_BIDX), field="bidx")
            for b in bidx:
                if not 1 <= b <= count:
                    raise ApiError(422, "param.Invalid", "bidx %d: the raster has bands 1..%d" %
                                   (b, count), field="bidx")
            return list(bidx)
        return [1, 2, 3] if default_rgb and count >= 3 else [1]

    def _open_checked(self, url, resampling, expression):
        """(path, info) of url once the rendering parameters are checked."""
        if resampling not in RESAMPLING:
            raise ApiError(422, "param.Invalid", "resampling %r: use one of %s" %
                           (resampling[:30], ", ".join(RESAMPLING)), field="resampling")
        self._check_expr(expression)
        path = self.s.roots.resolve(url)
        return path, self._info_of(path)

    @staticmethod
    def _check_expr(expression):
        if expression is not None and len(expression) > MAX_EXPR:
            raise ApiError(422, "param.Invalid", "expression of %d characters (at most %d)" %
                           (len(expression), MAX_EXPR), field="expression")

    def _image(self, data, valid, nodata, fmt, rescale, expression, bands, sensor, quality):
        """(n, h, w) source values + validity -> encoded image bytes."""
        if nodata is not None:
            valid = valid & _render.nodata_mask(data, nodata)
        if expression:
            data = _render.expression(data, expression, self._index_names(), bands, sensor)
            valid = valid & ~np.any(np.isnan(data), axis=0)
        pairs = _render.parse_rescale(rescale, data.shape[0])
        img = _render.to_image(data, valid, fmt, pairs)
        return _render.encode(img, fmt, quality)

    @staticmethod
    def _format(ext):
        f = _render.FORMATS.get((ext or "png").lower())
        if f is None:
            raise ApiError(422, "param.Invalid", "format %r: use png, jpg or webp" % ext,
                           field="format")
        return f

    # -- endpoints ---------------------------------------------------------
    def tile(self, z: int, x: int, tail: str, url: str = UrlQ, tms: Optional[str] = None,
             bidx: Optional[List[int]] = BidxQ, rescale: Optional[List[str]] = RescaleQ,
             resampling: str = ResQ, nodata: Optional[float] = NodataQ,
             expression: Optional[str] = ExprQ, bands: Optional[str] = BandsQ,
             sensor: Optional[str] = SensorQ, tilesize: Optional[int] = Query(None),
             quality: int = Query(0, ge=0, le=100), format: Optional[str] = Query(None)):
        if tms is not None and tms != "WebMercatorQuad":
            raise ApiError(404, "route.NotFound", "tile matrix set %r: only WebMercatorQuad is "
                           "served" % tms[:60], field="tms")
        m = _TAIL.match(tail)
        if not m:
            raise ApiError(422, "param.Invalid", "tile %r: expected Y, Y.FORMAT or Y@2x.FORMAT" %
                           tail[:60], field="y")
        y, scale, ext = int(m.group(1)), int(m.group(2) or 1), m.group(3) or format
        if not 0 <= z <= 30:
            raise ApiError(422, "param.Invalid", "z %d: zoom must be 0..30" % z, field="z")
        n = 1 << z
        for name, v in (("x", x), ("y", y)):
            if not 0 <= v < n:
                raise ApiError(422, "param.Invalid", "%s %d: at zoom %d it must be 0..%d" %
                               (name, v, z, n - 1), field=name)
        size = tilesize if tilesize is not None else 256 * scale
        if size not in (256, 512, 1024):
            raise ApiError(422, "param.Invalid", "tilesize %d: use 256, 512 or 1024" % size,
                           field="tilesize")
        fmt, mime = self._format(ext)
        path, info = self._open_checked(url, resampling, expression)
        lon0, lat0, lon1, lat1 = info["bbox_4326"]
        t0, t1, t2, t3 = eoproc.tile_bounds(z, x, y)["bounds_4326"]  # the library's tile math
        if t2 <= lon0 or t0 >= lon1 or t3 <= lat0 or t1 >= lat1:
            raise ApiError(404, "source.NoDataInAOI", "tile %d/%d/%d is outside the raster's "
                           "bounds" % (z, x, y))
        count = info["band_count"]
        read = list(range(1, count + 1)) if expression else self._bidx(bidx, count)
        try:
            parts = []
            with self.s.pool.get(path) as ds:
                for i in range(0, len(read), 4):  # a tile read renders up to 4 bands
                    arr, _ = ds.tile(z, x, y, size=size, resampling=resampling,
                                     bands=read[i:i + 4])
                    parts.append(arr)
            data = np.concatenate([a[:-1] for a in parts]) if len(parts) > 1 else parts[0][:-1]
            valid = parts[0][-1] > 0
            body = self._image(data, valid, nodata, fmt, rescale, expression, bands, sensor,
                               quality)
        except eoproc.Error as e:
            raise from_eoproc(e)
        return Response(body, media_type=mime)

    def info(self, url: str = UrlQ):
        path = self.s.roots.resolve(url)
        try:
            d = dict(self._info_of(path))
        except eoproc.Error as e:
            raise from_eoproc(e)
        d["path"] = url
        minz, maxz = zooms(d)
        d.update({
            "bounds": d["bbox_4326"], "minzoom": minz, "maxzoom": maxz,
            "count": d["band_count"], "dtype": d["bands"][0]["dtype"],
            "nodata_type": "Nodata" if d["bands"][0].get("nodata") is not None else "None",
            "band_descriptions": [["b%d" % b["band"], b.get("description", "")]
                                  for b in d["bands"]],
            "colorinterp": [b.get("color_interp") for b in d["bands"]],
            "overviews": [round(d["width"] / o["width"]) for o in d["bands"][0]["overviews"]],
        })
        return d

    def _stats(self, path, aoi, crs, bidx, expression, bands, sensor, percentiles, bins,
               coverage):
        info = self._info_of(path)
        kw = dict(percentiles=percentiles, histogram=bins, coverage=coverage, crs=crs)
        if expression:
            self._check_expr(expression)
            runs = []
            for e in expression.split(";"):
                e = e.strip()
                key = "index" if e.upper() in self._index_names() else "expr"
                runs.append((e, {key: e.upper() if key == "index" else e, "bands": bands,
                                 "sensor": sensor}))
        else:
            runs = [("b%d" % b, {"band": b}) for b in self._bidx(bidx, info["band_count"], False)
                    ] if bidx else [("b%d" % b, {"band": b}) for b in
                                    range(1, info["band_count"] + 1)]
        out = {}
        try:
            for name, extra in runs:
                out[name] = eoproc.zonal_stats(path, aoi, **kw, **extra)
        except eoproc.Error as e:
            raise from_eoproc(e)
        return out

    def statistics(self, url: str = UrlQ, bidx: Optional[List[int]] = BidxQ,
                   expression: Optional[str] = ExprQ, bands: Optional[str] = BandsQ,
                   sensor: Optional[str] = SensorQ,
                   p: Optional[List[float]] = Query(None, description="percentiles (2, 98)"),
                   histogram_bins: int = Query(10, ge=0, le=1000)):
        """Statistics over every pixel of the raster (the footprint in the
        raster's own CRS, so no pixel is lost to reprojection)."""
        path = self.s.roots.resolve(url)
        info = self._info_of(path)
        gt, w, h = info["geotransform"], info["width"], info["height"]
        corner = lambda c, r: [gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5]]  # noqa
        ring = [corner(0, 0), corner(w, 0), corner(w, h), corner(0, h), corner(0, 0)]
        crs = "EPSG:%d" % info["crs"]["epsg"] if info["crs"].get("epsg") else info["crs"]["wkt"]
        res = self._stats(path, {"type": "Polygon", "coordinates": [ring]}, crs, bidx, expression,
                          bands, sensor, _pcts(p), histogram_bins, False)
        return {k: titiler_stats(v) for k, v in res.items()}

    def statistics_aoi(self, url: str = UrlQ, body: dict = Body(...),
                       bidx: Optional[List[int]] = BidxQ, expression: Optional[str] = ExprQ,
                       bands: Optional[str] = BandsQ, sensor: Optional[str] = SensorQ,
                       p: Optional[List[float]] = Query(None), coverage: bool = False,
                       histogram_bins: int = Query(10, ge=0, le=1000)):
        """Zonal statistics of a GeoJSON Feature, FeatureCollection or
        geometry (EPSG:4326): the features come back with
        properties.statistics."""
        path = self.s.roots.resolve(url)
        res = self._stats(path, body, None, bidx, expression, bands, sensor, _pcts(p),
                          histogram_bins, coverage)
        kind = body.get("type")
        if kind == "FeatureCollection":
            feats = []
            for i, f in enumerate(body.get("features") or []):
                f = dict(f)
                props = dict(f.get("properties") or {})
                props["statistics"] = {k: titiler_stats(v["features"][i]["stats"])
                                       for k, v in res.items()}
                f["properties"] = props
                feats.append(f)
            return {"type": "FeatureCollection", "features": feats}
        if kind == "Feature":
            f = dict(body)
        else:
            f = {"type": "Feature", "geometry": body, "properties": {}}
        props = dict(f.get("properties") or {})
        props["statistics"] = {k: titiler_stats(v) for k, v in res.items()}
        f["properties"] = props
        return f

    def preview(self, url: str = UrlQ, fmt: Optional[str] = None,
                bidx: Optional[List[int]] = BidxQ, rescale: Optional[List[str]] = RescaleQ,
                nodata: Optional[float] = NodataQ, expression: Optional[str] = ExprQ,
                bands: Optional[str] = BandsQ, sensor: Optional[str] = SensorQ,
                max_size: int = Query(1024, ge=1, le=MAX_PREVIEW), resampling: str = ResQ,
                quality: int = Query(0, ge=0, le=100), format: Optional[str] = Query(None)):
        """The whole raster, its longest side max_size (never enlarged),
        read from the overviews."""
        fmt, mime = self._format(fmt or format)
        path, info = self._open_checked(url, resampling, expression)
        w, h = info["width"], info["height"]
        f = min(1.0, max_size / max(w, h))
        ow, oh = max(1, round(w * f)), max(1, round(h * f))
        count = info["band_count"]
        read = list(range(1, count + 1)) if expression else self._bidx(bidx, count)
        try:
            with self.s.pool.get(path) as ds:
                data, georef = ds.read_georef(bands=read, out_shape=(oh, ow),
                                              resampling=resampling)
            valid = _render.nodata_mask(data, georef["nodata"])
            body = self._image(data, valid, nodata, fmt, rescale, expression, bands, sensor,
                               quality)
        except eoproc.Error as e:
            raise from_eoproc(e)
        return Response(body, media_type=mime)

    def point(self, lon: float, lat: float, url: str = UrlQ,
              bidx: Optional[List[int]] = BidxQ):
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ApiError(422, "param.Invalid", "point %g,%g: longitude must be -180..180 and "
                           "latitude -90..90" % (lon, lat), field="lon")
        path = self.s.roots.resolve(url)
        info = self._info_of(path)
        bl = self._bidx(bidx, info["band_count"], False) if bidx else list(
            range(1, info["band_count"] + 1))
        try:
            s = eoproc.time_series(["%s@2000-01-01" % path], expr="b1", point=(lon, lat))
            px = s["series"][0].get("pixel")
            if px is None:
                raise ApiError(422, "source.NoDataInAOI", "point %g,%g is outside the raster" %
                               (lon, lat))
            with self.s.pool.get(path) as ds:
                arr, georef = ds.read_georef(window=(px[0], px[1], 1, 1), bands=bl)
        except eoproc.Error as e:
            raise from_eoproc(e)
        nd = georef["nodata"]
        vals = []
        for v in arr[:, 0, 0].tolist():
            vals.append(None if (nd is not None and (v == nd or (nd != nd and v != v))) else v)
        return {"coordinates": [lon, lat], "pixel": px, "values": vals,
                "band_names": ["b%d" % b for b in bl]}

    def tilejson(self, request: Request, url: str = UrlQ, tile_format: str = Query("png"),
                 tile_scale: int = Query(1, ge=1, le=4), minzoom: Optional[int] = None,
                 maxzoom: Optional[int] = None):
        self._format(tile_format)
        path = self.s.roots.resolve(url)
        info = self._info_of(path)
        minz, maxz = zooms(info)
        minz = minz if minzoom is None else minzoom
        maxz = maxz if maxzoom is None else maxzoom
        q = [(k, v) for k, v in request.query_params.multi_items()
             if k not in ("tile_format", "tile_scale", "minzoom", "maxzoom")]
        from urllib.parse import urlencode
        base = str(request.base_url).rstrip("/")
        sfx = "@%dx" % tile_scale if tile_scale > 1 else ""
        b = info["bbox_4326"]
        return {
            "tilejson": "2.2.0", "name": url, "version": "1.0.0", "scheme": "xyz",
            "tiles": ["%s/cog/tiles/WebMercatorQuad/{z}/{x}/{y}%s.%s?%s" %
                      (base, sfx, tile_format, urlencode(q))],
            "minzoom": minz, "maxzoom": maxz, "bounds": b,
            "center": [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, minz],
        }


def _pcts(p):
    vals = [2.0, 98.0] if not p else p
    if len(vals) > 100 or any(not 0 <= v <= 100 for v in vals):
        raise ApiError(422, "param.Invalid", "p: up to 100 percentiles within 0..100", field="p")
    return vals


def titiler_stats(z):
    """eoproc's zonal statistics under TiTiler's names (and eoproc's)."""
    d = dict(z)
    count, pixels = z.get("count") or 0, z.get("pixels") or 0
    d["valid_pixels"] = count
    d["masked_pixels"] = z.get("nodata_count", 0)
    d["valid_percent"] = round(100.0 * count / pixels, 2) if pixels else 0.0
    for k, v in (z.get("percentiles") or {}).items():
        d["percentile_%s" % k] = v
    hist = z.get("histogram")
    if isinstance(hist, dict):
        d["histogram"] = [hist.get("counts", []), hist.get("edges", [])]
    return d


def zooms(info):
    """(minzoom, maxzoom) of a raster: the zoom whose resolution is closest
    to the pixel size, and the zoom where the whole raster fits one tile."""
    px = info.get("pixel_size") or [info["geotransform"][1], abs(info["geotransform"][5])]
    res = min(abs(px[0]), abs(px[1]))
    b = info["bbox_4326"]
    lat = (b[1] + b[3]) / 2
    if info.get("crs", {}).get("geographic"):
        res *= 111319.49079327357
    elif (info.get("crs", {}).get("units") or "metre") not in ("metre", "meter", "m"):
        res = (b[2] - b[0]) * 111319.49079327357 * math.cos(math.radians(lat)) / info["width"]
    res_merc = res / max(math.cos(math.radians(lat)), 1e-6)
    maxz = int(round(math.log2(2 * MERC_HALF / 256 / res_merc))) if res_merc > 0 else 0
    maxz = max(0, min(24, maxz))
    levels = math.ceil(math.log2(max(info["width"], info["height"]) / 256)) if max(
        info["width"], info["height"]) > 256 else 0
    return max(0, maxz - levels), maxz
