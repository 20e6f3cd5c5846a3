"""rasterio-style value types: CRS, Window, BoundingBox, ColorInterp,
MaskFlags, and the pixel/world arithmetic of rasterio's dataset methods
(``index``, ``xy``, ``window``, ``window_transform``).

They follow rasterio 1.3's definitions (the documented behaviour, checked
against python3-rasterio by tests/python/test_rio_parity.py) so that code
written for rasterio reads the same answers from eoproc; rasterio itself is
not needed. Windows and transforms from rasterio are accepted wherever one
of these is (anything with ``col_off``, ``row_off``, ``width``, ``height``;
any ``affine.Affine``).
"""

import collections
import enum
import functools
import json
import math
import re
from ctypes import byref, c_char_p, c_void_p

from affine import Affine

from . import _lib

eo_crs_describe = _lib._fn("eo_crs_describe", _lib.status, [_lib.ctx_p, _lib.PCHAR_OUT, c_char_p])

BoundingBox = collections.namedtuple("BoundingBox", ("left", "bottom", "right", "top"))
BoundingBox.__doc__ = "Bounds of a dataset (left, bottom, right, top), as rasterio's."


class ColorInterp(enum.IntEnum):
    """Band color interpretation (GDAL's GDALColorInterp numbers)."""

    undefined = 0
    gray = 1
    grey = 1
    palette = 2
    red = 3
    green = 4
    blue = 5
    alpha = 6
    hue = 7
    saturation = 8
    lightness = 9
    cyan = 10
    magenta = 11
    yellow = 12
    black = 13
    Y = 14
    Cb = 15
    Cr = 16


# eoproc info's lower-cased GDAL names -> ColorInterp
_CI_NAMES = {"ycbcr_y": ColorInterp.Y, "ycbcr_cb": ColorInterp.Cb, "ycbcr_cr": ColorInterp.Cr}


def _colorinterp(name):
    name = (name or "undefined").lower()
    if name in _CI_NAMES:
        return _CI_NAMES[name]
    try:
        return ColorInterp[name]
    except KeyError:
        return ColorInterp.undefined


class MaskFlags(enum.IntEnum):
    """What a band's validity mask comes from (GDAL's GMF_* bits)."""

    all_valid = 1
    per_dataset = 2
    alpha = 4
    nodata = 8


def _mask_flag_enums(flags):
    return [f for f in MaskFlags if flags & f.value]


class Compression(enum.Enum):
    """GeoTIFF compressions, named as rasterio's profile names them."""

    jpeg = "JPEG"
    lzw = "LZW"
    packbits = "PACKBITS"
    deflate = "DEFLATE"
    ccittrle = "CCITTRLE"
    ccittfax3 = "CCITTFAX3"
    ccittfax4 = "CCITTFAX4"
    lzma = "LZMA"
    none = "NONE"
    zstd = "ZSTD"
    lerc = "LERC"
    lerc_deflate = "LERC_DEFLATE"
    lerc_zstd = "LERC_ZSTD"
    webp = "WEBP"
    jpeg2000 = "JPEG2000"


class Interleaving(enum.Enum):
    pixel = "PIXEL"
    line = "LINE"
    band = "BAND"


class Resampling(enum.IntEnum):
    """Resampling methods, numbered as rasterio's (GDAL's GRIORA order)."""

    nearest = 0
    bilinear = 1
    cubic = 2
    cubic_spline = 3
    lanczos = 4
    average = 5
    mode = 6
    gauss = 7


# ---------------------------------------------------------------------------
# CRS
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _describe(text):
    from . import _check, _context, _take_string

    with _context() as ctx:
        out = c_void_p()
        _check(ctx, eo_crs_describe(ctx, byref(out), text.encode("utf-8")))
        return json.loads(_take_string(out))


_PROJ_PARAM = re.compile(r"\+(?P<key>[a-z0-9_]+)(=(?P<value>\S+))?")


class CRS:
    """A coordinate reference system, answering as rasterio's CRS does
    (``to_epsg``, ``to_wkt``, ``to_string``, ``to_authority``, ...).

    Make one with :meth:`from_user_input` (``"EPSG:32633"``, WKT, a PROJ
    string, PROJJSON, another CRS or anything with ``to_wkt()``),
    :meth:`from_epsg`, :meth:`from_wkt` or :meth:`from_string`.

    Raises:
        Error: ``crs.Invalid`` for text that is no CRS.
    """

    __slots__ = ("_text", "_d", "_epsg")

    def __init__(self, text, epsg=None):
        self._text = text
        self._d = _describe(text)
        self._epsg = epsg

    # -- construction
    @classmethod
    def from_user_input(cls, value):
        if isinstance(value, CRS):
            return value
        if isinstance(value, int):
            return cls.from_epsg(value)
        if isinstance(value, dict):
            return cls.from_dict(value)
        if hasattr(value, "to_wkt") and not isinstance(value, str):
            return cls.from_wkt(value.to_wkt())
        if not isinstance(value, str):
            from . import _arg_error

            raise _arg_error("crs must be a str, an int, a dict or a CRS, got %r" % (value,))
        s = value.strip()
        m = re.fullmatch(r"(?i)epsg:(\d+)", s)
        if m:
            return cls.from_epsg(int(m.group(1)))
        return cls(s)

    @classmethod
    def from_epsg(cls, code):
        from . import Error

        try:
            code = int(code)
        except (TypeError, ValueError):
            raise Error("not an EPSG code: %r" % (code,), "crs.Invalid", 7) from None
        if code <= 0:
            raise Error("EPSG codes are positive integers, got %d" % code, "crs.Invalid", 7)
        return cls("EPSG:%d" % code, epsg=code)

    @classmethod
    def from_wkt(cls, wkt):
        return cls(wkt)

    @classmethod
    def from_string(cls, text):
        return cls.from_user_input(text)

    @classmethod
    def from_proj4(cls, text):
        return cls(text)

    @classmethod
    def from_dict(cls, data=None, **kw):
        d = dict(data or {}, **kw)
        init = str(d.get("init", ""))
        if init.lower().startswith("epsg:"):
            return cls.from_epsg(int(init.split(":")[1]))
        parts = []
        for k, v in d.items():
            if v is True:
                parts.append("+%s" % k)
            elif v is False:
                continue
            else:
                parts.append("+%s=%s" % (k, v))
        return cls(" ".join(parts))

    # -- answers
    @property
    def wkt(self):
        return self.to_wkt()

    def to_wkt(self, morph_to_esri_dialect=False, version=None):
        """WKT1 as GDAL writes it (rasterio's default); ``version="WKT2_2019"``
        (or "WKT2") for WKT2."""
        if version is None:
            return self._d["wkt"] or ""
        v = getattr(version, "value", version)
        if str(v).upper().startswith("WKT2"):
            return self._d["wkt2"] or ""
        if str(v).upper() in ("WKT1", "WKT1_GDAL"):
            return self._d["wkt"] or ""
        from . import _arg_error

        raise _arg_error("WKT version %r is not supported (WKT1_GDAL or WKT2_2019)" % (version,))

    def _matches(self, confidence_threshold=70):
        out = collections.defaultdict(list)
        for m in self._d.get("matches") or []:
            if m["confidence"] >= confidence_threshold:
                out[m["authority"]].append(m["code"])
        return out

    def to_epsg(self, confidence_threshold=70):
        """The EPSG code (int) of the best match, or None."""
        if self._epsg is not None:
            return self._epsg
        m = self._matches(confidence_threshold)
        return int(m["EPSG"][0]) if "EPSG" in m else None

    def to_authority(self, confidence_threshold=70):
        """``(authority, code)`` of the best match (EPSG first, then OGC,
        then ESRI), or None."""
        if self._epsg is not None:
            return ("EPSG", str(self._epsg))
        m = self._matches(confidence_threshold)
        for auth in ("EPSG", "OGC", "ESRI"):
            if auth in m:
                return (auth, m[auth][0])
        return None

    def to_string(self):
        """``"EPSG:n"`` (or another authority) when one matches, else WKT."""
        auth = self.to_authority()
        if auth:
            return ":".join(auth)
        return self.to_wkt() or self.to_proj4()

    def to_dict(self):
        code = self.to_epsg()
        if code:
            return {"init": "epsg:%d" % code}
        out = {}
        for m in _PROJ_PARAM.finditer(self._d.get("proj4") or ""):
            k, v = m.group("key"), m.group("value")
            if v is None or v.lower() == "true":
                out[k] = True
            elif v.lower() == "false":
                continue
            else:
                for conv in (int, float):
                    try:
                        v = conv(v)
                        break
                    except ValueError:
                        pass
                out[k] = v
        return out

    @property
    def data(self):
        return self.to_dict()

    def to_proj4(self):
        return " ".join(
            "+%s" % k if v is True else "+%s=%s" % (k, v) for k, v in self.to_dict().items()
        )

    def to_json(self):
        """PROJJSON text."""
        return self._d.get("projjson") or ""

    @property
    def name(self):
        return self._d.get("name")

    @property
    def is_geographic(self):
        return bool(self._d.get("geographic"))

    @property
    def is_projected(self):
        return bool(self._d.get("projected"))

    @property
    def is_valid(self):
        return self.is_geographic or self.is_projected

    @property
    def is_epsg_code(self):
        return bool(self.to_epsg())

    @property
    def units_factor(self):
        return (self._d.get("units"), self._d.get("units_factor"))

    @property
    def linear_units(self):
        return self._d.get("units") if self.is_projected else "unknown"

    def __eq__(self, other):
        if other is None:
            return False
        if not isinstance(other, CRS):
            try:
                other = CRS.from_user_input(other)
            except Exception:
                return False
        return self._d["wkt2"] == other._d["wkt2"]

    def __hash__(self):
        return hash(self._d["wkt2"])

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        code = self.to_epsg()
        if code:
            return "CRS.from_epsg(%d)" % code
        return "CRS.from_wkt(%r)" % self.to_wkt()

    def __bool__(self):
        return bool(self._d.get("wkt") or self._d.get("wkt2"))


# ---------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------
class Window:
    """A window of a raster: ``col_off``, ``row_off``, ``width``, ``height``
    (pixels; may be fractional or reach outside the raster), as rasterio's."""

    __slots__ = ("col_off", "row_off", "width", "height")

    def __init__(self, col_off, row_off, width, height):
        self.col_off, self.row_off, self.width, self.height = col_off, row_off, width, height

    @classmethod
    def from_slices(cls, rows, cols, height=-1, width=-1, boundless=False):
        """A window from ``(row_start, row_stop)`` and ``(col_start,
        col_stop)`` pairs or slices; negative values count from the end
        (given height/width) unless boundless."""

        def span(s, size, what):
            if isinstance(s, slice):
                start, stop = s.start, s.stop
            else:
                start, stop = s
            start = 0 if start is None else start
            if stop is None:
                if size < 0:
                    from . import _arg_error

                    raise _arg_error("%s stop is None: give the raster's size" % what)
                stop = size
            if not boundless:
                if start < 0 and size >= 0:
                    start += size
                if stop < 0 and size >= 0:
                    stop += size
            return start, stop

        r0, r1 = span(rows, height, "row")
        c0, c1 = span(cols, width, "column")
        return cls(c0, r0, max(c1 - c0, 0), max(r1 - r0, 0))

    def flatten(self):
        return (self.col_off, self.row_off, self.width, self.height)

    def todict(self):
        return dict(zip(self.__slots__, self.flatten()))

    def toranges(self):
        return (
            (self.row_off, self.row_off + self.height),
            (self.col_off, self.col_off + self.width),
        )

    def toslices(self):
        return tuple(slice(a, b) for a, b in self.toranges())

    def round_offsets(self, op="floor", pixel_precision=None):
        f = math.floor if op == "floor" else math.ceil
        return Window(int(f(self.col_off)), int(f(self.row_off)), self.width, self.height)

    def round_lengths(self, op="floor", pixel_precision=None):
        f = math.floor if op == "floor" else math.ceil
        return Window(self.col_off, self.row_off, int(f(self.width)), int(f(self.height)))

    def __iter__(self):
        return iter(self.flatten())

    def __eq__(self, other):
        if hasattr(other, "col_off"):
            other = (other.col_off, other.row_off, other.width, other.height)
        try:
            return tuple(self.flatten()) == tuple(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.flatten())

    def __repr__(self):
        return "Window(col_off=%r, row_off=%r, width=%r, height=%r)" % self.flatten()


def as_window(window, height, width, boundless=False):
    """A Window from a Window-like object (rasterio's too) or ``((row_start,
    row_stop), (col_start, col_stop))``; an old-style eoproc 4-tuple
    ``(col, row, width, height)`` still works, with a DeprecationWarning."""
    import warnings

    from . import _arg_error

    if window is None:
        return Window(0, 0, width, height)
    if all(hasattr(window, k) for k in Window.__slots__):
        return Window(window.col_off, window.row_off, window.width, window.height)
    try:
        items = tuple(window)
    except TypeError:
        items = ()
    if len(items) == 2:
        return Window.from_slices(items[0], items[1], height, width, boundless)
    if len(items) == 4 and all(isinstance(v, (int, float)) for v in items):
        warnings.warn(
            "window=(col, row, width, height) is deprecated: use "
            "eoproc.Window(col_off, row_off, width, height) or "
            "((row_start, row_stop), (col_start, col_stop)), as in rasterio",
            DeprecationWarning,
            stacklevel=4,
        )
        return Window(*items)
    raise _arg_error(
        "window must be a Window or ((row_start, row_stop), (col_start, col_stop)), got %r"
        % (window,)
    )


# ---------------------------------------------------------------------------
# Transforms (rasterio.transform / rasterio.windows arithmetic)
# ---------------------------------------------------------------------------
def rowcol(transform, xs, ys, op=math.floor, precision=None):
    """Row and column of the pixels holding world points, as rasterio 1.3's
    ``rowcol``: the inverse transform, then ``op`` (floor by default;
    ``precision`` is ignored, as there)."""
    single = not hasattr(xs, "__iter__")
    if single:
        xs, ys = [xs], [ys]
    inv = ~transform
    rows, cols = [], []
    for x, y in zip(xs, ys):
        fcol, frow = inv * (x, y)
        cols.append(op(fcol))
        rows.append(op(frow))
    if single:
        return rows[0], cols[0]
    return rows, cols


def xy(transform, rows, cols, offset="center"):
    """World coordinates of pixels (their centre, or a corner: "ul", "ur",
    "ll", "lr")."""
    offs = {"center": (0.5, 0.5), "ul": (0, 0), "ur": (1, 0), "ll": (0, 1), "lr": (1, 1)}
    if offset not in offs:
        from . import _arg_error

        raise _arg_error("offset must be one of %s, got %r" % (", ".join(offs), offset))
    dc, dr = offs[offset]
    single = not hasattr(rows, "__iter__")
    if single:
        rows, cols = [rows], [cols]
    xs, ys = [], []
    for r, c in zip(rows, cols):
        x, y = transform * (c + dc, r + dr)
        xs.append(x)
        ys.append(y)
    if single:
        return xs[0], ys[0]
    return xs, ys


def from_bounds(left, bottom, right, top, transform, precision=None):
    """The window covering world bounds on a grid (rasterio's
    ``windows.from_bounds``)."""
    rows, cols = rowcol(
        transform, [left, right, right, left], [top, top, bottom, bottom], op=float,
        precision=precision,
    )
    r0, r1 = min(rows), max(rows)
    c0, c1 = min(cols), max(cols)
    return Window(c0, r0, max(c1 - c0, 0.0), max(r1 - r0, 0.0))


def window_transform(transform, window):
    """The affine transform of a window's own pixels."""
    x, y = transform * (window.col_off or 0.0, window.row_off or 0.0)
    return Affine.translation(x - transform.c, y - transform.f) * transform


def bounds_of(transform, width, height):
    """rasterio's ``DatasetBase.bounds``: the corners' box (bottom > top for
    a south-up grid, as rasterio gives it)."""
    a, b, c, d, e, f = transform[:6]
    if b == d == 0:
        return BoundingBox(c, f + e * height, c + a * width, f)
    xs, ys = [], []
    for col, row in ((0, 0), (0, height), (width, height), (width, 0)):
        x, y = transform * (col, row)
        xs.append(x)
        ys.append(y)
    return BoundingBox(min(xs), min(ys), max(xs), max(ys))


def res_of(transform):
    a, b, c, d, e, f = transform[:6]
    if b == d == 0:
        return (abs(a), abs(e))
    return (math.sqrt(a * a + d * d), math.sqrt(b * b + e * e))
