"""eoproc's rasterio-style datasets against rasterio itself (Debian's
python3-rasterio) on the same files: the sample rasters and rasters made
here with GDAL for every data type, nodata (NaN too), rotated and south-up
grids, no CRS/geotransform, an alpha band, an internal mask, tiled +
compressed + overviews. Every attribute of the rasterio surface, and the
arrays of full, windowed, decimated, masked and boundless reads, must equal
rasterio's answers.
"""

import math
import warnings

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")  # listed in scripts/deps.sh: never skipped in CI
from osgeo import gdal, osr  # noqa: E402
from rasterio.enums import MaskFlags  # noqa: E402
from rasterio.windows import Window as RWindow  # noqa: E402

import eoproc  # noqa: E402

gdal.UseExceptions()
warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)

SAMPLES = ("L7_ETMs.tif", "geomatrix.tif", "olinda_dem_utm25s.tif", "lc.tif", "na.tif")

DTYPES = {
    "uint8": (gdal.GDT_Byte, 255),
    "int8": (gdal.GDT_Byte, -128),
    "uint16": (gdal.GDT_UInt16, 65535),
    "int16": (gdal.GDT_Int16, -9999),
    "uint32": (gdal.GDT_UInt32, 4000000000),
    "int32": (gdal.GDT_Int32, -2000000000),
    "float32": (gdal.GDT_Float32, -3.4e38),
    "float64": (gdal.GDT_Float64, -1e300),
}


def _srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    return s.ExportToWkt()


def _make(path, w, h, bands, gdt, gt=None, epsg=None, nodata=None, data=None, options=(),
          ci=None, mask=None, overviews=(), desc=None, tags=None, band_tags=None, scale=None):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, bands, gdt, list(options))
    if gt is not None:
        ds.SetGeoTransform(gt)
    if epsg is not None:
        ds.SetProjection(_srs(epsg))
    if tags:
        ds.SetMetadata(tags)
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if data is not None:
            band.WriteArray(data[b])
        if ci:
            band.SetColorInterpretation(ci[b])
        if desc:
            band.SetDescription(desc[b])
        if band_tags:
            band.SetMetadata(band_tags)
        if scale:
            band.SetScale(scale[0])
            band.SetOffset(scale[1])
    if mask is not None:
        ds.CreateMaskBand(gdal.GMF_PER_DATASET)
        ds.GetRasterBand(1).GetMaskBand().WriteArray(mask)
    if overviews:
        ds.BuildOverviews("NEAREST", list(overviews))
    ds = None
    return path


def _data(rng, dt, bands, h, w, nodata):
    info = np.iinfo(dt) if np.dtype(dt).kind in "iu" else None
    if info is not None:
        lo, hi = max(info.min, -1000), min(info.max, 1000)
        a = rng.integers(lo, hi, (bands, h, w)).astype(dt)
    else:
        a = (rng.standard_normal((bands, h, w)) * 100).astype(dt)
    if nodata is not None:
        a[rng.random((bands, h, w)) < 0.2] = nodata
    return a


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    d = tmp_path_factory.mktemp("rio")
    rng = np.random.default_rng(17)
    files = []
    gt = (500000.0, 30.0, 0.0, 4500000.0, 0.0, -30.0)
    for name, (gdt, nd) in DTYPES.items():
        opts = ["PIXELTYPE=SIGNEDBYTE"] if name == "int8" else []
        a = _data(rng, name, 2, 37, 53, nd)
        if name == "int8":
            a = a.view(np.uint8)  # GDAL 3.6 writes signed bytes as Byte + PIXELTYPE
        files.append(_make(d / ("%s.tif" % name), 53, 37, 2, gdt, gt, 32633, nd, a, opts))
    a = _data(rng, "float32", 1, 20, 30, None)
    a[0, 3:6, 4:9] = np.nan
    files.append(_make(d / "nan.tif", 30, 20, 1, gdal.GDT_Float32, gt, 32633, float("nan"), a))
    a = _data(rng, "int16", 1, 25, 31, -1)
    files.append(_make(d / "rotated.tif", 31, 25, 1, gdal.GDT_Int16,
                       (1000.0, 8.0, 3.0, 2000.0, 2.0, -9.0), 3857, -1, a))
    files.append(_make(d / "southup.tif", 31, 25, 1, gdal.GDT_Int16,
                       (10.0, 0.5, 0.0, -20.0, 0.0, 0.5), 4326, -1, a))
    files.append(_make(d / "nocrs.tif", 31, 25, 1, gdal.GDT_Int16, None, None, None, a))
    files.append(_make(d / "gt_nocrs.tif", 31, 25, 1, gdal.GDT_Int16, gt, None, None, a))
    rgba = rng.integers(0, 256, (4, 40, 50)).astype(np.uint8)
    rgba[3] = np.where(rng.random((40, 50)) < 0.3, 0, 255)
    rgba[3, :5, :5] = 128
    files.append(_make(d / "rgba.tif", 50, 40, 4, gdal.GDT_Byte, gt, 32633, None, rgba,
                       ci=[gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand,
                           gdal.GCI_AlphaBand]))
    rgb = rgba[:3].copy()
    m = np.where(rng.random((40, 50)) < 0.25, 0, 255).astype(np.uint8)
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES")
    try:
        files.append(_make(d / "mask.tif", 50, 40, 3, gdal.GDT_Byte, gt, 32633, None, rgb,
                           ci=[gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand],
                           mask=m))
    finally:
        gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", None)
    a = _data(rng, "int16", 3, 300, 260, -9999)
    files.append(_make(d / "tiled.tif", 260, 300, 3, gdal.GDT_Int16, gt, 32633, -9999, a,
                       ["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64", "COMPRESS=DEFLATE"],
                       overviews=(2, 4, 8), desc=["red", "nir", ""],
                       tags={"SOURCE": "test", "WHEN": "now"}, band_tags={"K": "v"},
                       scale=(0.5, 10.0)))
    a = _data(rng, "uint16", 2, 64, 48, None)
    files.append(_make(d / "band.tif", 48, 64, 2, gdal.GDT_UInt16, gt, 32633, None, a,
                       ["INTERLEAVE=BAND", "COMPRESS=LZW"]))
    return files


def _all(data_dir, generated):
    return [data_dir / n for n in SAMPLES] + list(generated)


def _eq(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b))
    return a == b


def _profile(p):
    p = dict(p)
    p["crs"] = p["crs"].to_wkt() if p.get("crs") else None
    p["transform"] = tuple(p["transform"])
    if isinstance(p.get("nodata"), float) and math.isnan(p["nodata"]):
        p["nodata"] = "nan"
    return p


def _same_array(ours, theirs, what):
    what = str(what)
    assert type(ours) is type(theirs) or (
        isinstance(ours, np.ma.MaskedArray) == isinstance(theirs, np.ma.MaskedArray)
    ), what
    assert ours.dtype == theirs.dtype, what
    assert ours.shape == theirs.shape, what
    if isinstance(theirs, np.ma.MaskedArray):
        assert (np.ma.getmask(ours) is np.ma.nomask) == (np.ma.getmask(theirs) is np.ma.nomask), what
        np.testing.assert_array_equal(np.ma.getmaskarray(ours), np.ma.getmaskarray(theirs), what)
        assert _eq(float(ours.fill_value), float(theirs.fill_value)), what
        ours, theirs = ours.data, theirs.data
    np.testing.assert_array_equal(ours, theirs, what)  # NaN == NaN here


def _windows(w, h):
    return [
        RWindow(0, 0, w, h),
        RWindow(1, 2, max(w // 3, 1), max(h // 4, 1)),
        RWindow(w // 2, h // 2, w - w // 2, h - h // 2),
        RWindow(w - 3, h - 2, 10, 10),  # reaches outside: cropped when not boundless
    ]


def test_attributes_equal_rasterio(data_dir, generated):
    for path in _all(data_dir, generated):
        with eoproc.open(path) as ours, rasterio.open(path) as ref:
            what = str(path)
            for attr in ("count", "width", "height", "shape", "dtypes", "indexes",
                         "descriptions", "block_shapes", "units", "scales", "offsets",
                         "driver"):
                assert _eq(getattr(ours, attr), getattr(ref, attr)), (what, attr)
            assert _eq(ours.nodata, ref.nodata), what
            assert _eq(ours.nodatavals, ref.nodatavals), what
            assert tuple(ours.transform) == tuple(ref.transform), what
            assert isinstance(ours.transform, type(ref.transform)), what
            assert tuple(ours.bounds) == tuple(ref.bounds), what
            assert ours.res == ref.res, what
            assert [c.name for c in ours.colorinterp] == [c.name for c in ref.colorinterp], what
            assert [[f.name for f in e] for e in ours.mask_flag_enums] == [
                [f.name for f in e] for e in ref.mask_flag_enums], what
            assert ours.tags() == ref.tags(), what
            for b in ref.indexes:
                assert ours.tags(b) == ref.tags(b), (what, b)
                assert ours.overviews(b) == ref.overviews(b), (what, b)
            assert ours.tags(ns="IMAGE_STRUCTURE") == ref.tags(ns="IMAGE_STRUCTURE"), what
            assert _profile(ours.profile) == _profile(ref.profile), what
            assert _profile(ours.meta) == _profile(ref.meta), what
            if ref.crs is None:
                assert ours.crs is None, what
            else:
                assert ours.crs.to_epsg() == ref.crs.to_epsg(), what
                assert ours.crs.to_wkt() == ref.crs.to_wkt(), what
                assert ours.crs.to_string() == ref.crs.to_string(), what
                assert ours.crs.to_dict() == ref.crs.to_dict(), what
                assert ours.crs.is_geographic == ref.crs.is_geographic, what
                assert ours.crs == ref.crs.to_wkt(), what
            # pixel/world arithmetic
            t = ref.transform
            for row, col in ((0, 0), (3, 5), (ref.height - 1, ref.width - 1)):
                for off in ("center", "ul", "lr"):
                    assert ours.xy(row, col, offset=off) == ref.xy(row, col, offset=off), what
                x, y = t * (col + 0.3, row + 0.7)
                assert ours.index(x, y) == ref.index(x, y), what
            bw = ours.window(*ref.bounds)
            rw = ref.window(*ref.bounds)
            assert bw.flatten() == rw.flatten(), what
            for win in _windows(ref.width, ref.height)[:3]:
                assert tuple(ours.window_transform(win)) == tuple(ref.window_transform(win)), what
            assert [(ij, w.flatten()) for ij, w in ours.block_windows(1)] == [
                (ij, w.flatten()) for ij, w in ref.block_windows(1)], what


def test_reads_equal_rasterio(data_dir, generated):
    for path in _all(data_dir, generated):
        with eoproc.open(path) as ours, rasterio.open(path) as ref:
            w, h = ref.width, ref.height
            _same_array(ours.read(), ref.read(), path)
            _same_array(ours.read(1), ref.read(1), path)
            _same_array(ours.read([ref.count, 1]), ref.read([ref.count, 1]), path)
            for win in _windows(w, h):
                what = (str(path), win)
                _same_array(ours.read(window=win), ref.read(window=win), what)
                _same_array(ours.read(1, window=win, masked=True),
                            ref.read(1, window=win, masked=True), what)
                _same_array(ours.read(window=win, fill_value=3),
                            ref.read(window=win, fill_value=3), what)
                _same_array(ours.read_masks(window=win), ref.read_masks(window=win), what)
                _same_array(ours.dataset_mask(window=win), ref.dataset_mask(window=win), what)
            # the rasterio tuple-of-ranges window
            rng = ((1, h - 1), (2, w))
            _same_array(ours.read(1, window=rng), ref.read(1, window=rng), path)
            # decimated (overviews when the file has them)
            for shape in ((max(h // 2, 1), max(w // 2, 1)), (max(h // 8, 1), max(w // 8, 1)),
                          (h // 3 + 1, w // 5 + 1)):
                what = (str(path), shape)
                _same_array(ours.read(out_shape=shape), ref.read(out_shape=shape), what)
                _same_array(ours.read(1, out_shape=shape, masked=True),
                            ref.read(1, out_shape=shape, masked=True), what)
                _same_array(ours.read_masks(1, out_shape=shape), ref.read_masks(1, out_shape=shape),
                            what)
            # whole masked reads
            _same_array(ours.read(masked=True), ref.read(masked=True), path)
            _same_array(ours.read_masks(), ref.read_masks(), path)
            _same_array(ours.dataset_mask(), ref.dataset_mask(), path)


def _padded(full, win, fill):
    """Exact reference of a boundless read at full resolution: the full
    array placed into a window-sized array of fill."""
    nb, h, w = full.shape
    out = np.full((nb, win.height, win.width), fill, dtype=full.dtype)
    r0, c0 = max(win.row_off, 0), max(win.col_off, 0)
    r1, c1 = min(win.row_off + win.height, h), min(win.col_off + win.width, w)
    if r1 > r0 and c1 > c0:
        out[:, r0 - win.row_off:r1 - win.row_off, c0 - win.col_off:c1 - win.col_off] = \
            full[:, r0:r1, c0:c1]
    return out


def test_boundless_reads_equal_rasterio(data_dir, generated):
    for path in _all(data_dir, generated):
        with eoproc.open(path) as ours, rasterio.open(path) as ref:
            w, h = ref.width, ref.height
            full = ref.read()
            # rasterio 1.3.5 places a boundless window of a rotated grid wrongly
            # (its VRT is not aligned with the source): there only the exact
            # numpy reference applies
            rotated = ref.transform.b != 0 or ref.transform.d != 0
            for win in (RWindow(-3, -2, w + 5, h + 4), RWindow(w - 4, h - 5, 9, 8),
                        RWindow(w + 2, 1, 4, 4)):
                what = (str(path), win)
                nd = ref.nodata if ref.nodata is not None else 0
                _same_array(ours.read(window=win, boundless=True),
                            _padded(full, win, nd), what)
                # fill_value also replaces the invalid pixels inside (rasterio does)
                masks = _padded(ref.read_masks(), win, 0)
                expect = _padded(full, win, 7)
                expect[masks == 0] = 7
                _same_array(ours.read(window=win, boundless=True, fill_value=7), expect, what)
                _same_array(ours.read_masks(window=win, boundless=True), masks, what)
                # rasterio 1.3.5's boundless reads ignore an alpha band or a mask
                # band inside the raster, and read signed bytes as unsigned
                # (its VRT drops them): compare the others only
                if rotated or MaskFlags.per_dataset in ref.mask_flag_enums[0] or \
                        "int8" in ref.dtypes:
                    continue
                _same_array(ours.read(window=win, boundless=True),
                            ref.read(window=win, boundless=True), what)
                _same_array(ours.read(1, window=win, boundless=True, fill_value=7),
                            ref.read(1, window=win, boundless=True, fill_value=7), what)
                _same_array(ours.read(window=win, boundless=True, masked=True),
                            ref.read(window=win, boundless=True, masked=True), what)
                # rasterio 1.3.5 hands back a bool array here (uint8 elsewhere);
                # eoproc keeps uint8 0/255, so compare what the masks say
                theirs = ref.read_masks(window=win, boundless=True)
                if theirs.dtype == bool:
                    theirs = np.where(theirs, 255, 0).astype(np.uint8)
                _same_array(ours.read_masks(window=win, boundless=True), theirs, what)
            # a decimated boundless read whose raster part falls on whole
            # output pixels (an edge that splits an output pixel is placed
            # to the nearest pixel): rasterio's decimated read of the raster
            # part, placed in the fill (rasterio's own boundless VRT differs
            # near nodata and with overviews)
            if w % 2 == 0 and h % 2 == 0 and not rotated:
                win = RWindow(-4, -6, w + 8, h + 12)
                part = ref.read(out_shape=(ref.count, h // 2, w // 2))
                fill = ref.nodata if ref.nodata is not None else 0
                expect = np.full((ref.count, win.height // 2, win.width // 2), fill, part.dtype)
                expect[:, 3:3 + h // 2, 2:2 + w // 2] = part
                _same_array(ours.read(window=win, out_shape=expect.shape[1:], boundless=True),
                            expect, str(path))


def test_crs_from_user_input_equals_rasterio():
    from rasterio.crs import CRS as RCRS

    for text in ("EPSG:4326", "EPSG:32633", "EPSG:3857", "+proj=longlat +datum=WGS84 +no_defs",
                 "+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs"):
        ours, ref = eoproc.CRS.from_user_input(text), RCRS.from_user_input(text)
        assert ours.to_epsg() == ref.to_epsg(), text
        assert ours.to_wkt() == ref.to_wkt(), text
        assert ours.to_string() == ref.to_string(), text
        assert ours.to_dict() == ref.to_dict(), text
    with pytest.raises(eoproc.Error) as e:
        eoproc.CRS.from_user_input("not a crs")
    assert e.value.id == "crs.Invalid"
    with pytest.raises(eoproc.Error) as e:
        eoproc.CRS.from_user_input("/etc/passwd")  # never opened as a file
    assert e.value.id == "crs.Invalid"


def test_old_style_calls_warn_and_still_work(data_dir):
    with eoproc.open(data_dir / "L7_ETMs.tif") as ds, rasterio.open(data_dir / "L7_ETMs.tif") as ref:
        with pytest.warns(DeprecationWarning, match="Window"):
            a = ds.read(window=(5, 6, 7, 8))
        np.testing.assert_array_equal(a, ref.read(window=RWindow(5, 6, 7, 8)))
        with pytest.warns(DeprecationWarning, match="indexes"):
            b = ds.read(bands=2)
        assert b.shape == (1, ref.height, ref.width)  # the old 3-D result
        with pytest.warns(DeprecationWarning, match="count"):
            assert ds.band_count == 6


def test_bad_reads_are_errors(data_dir):
    with eoproc.open(data_dir / "L7_ETMs.tif") as ds:
        for kw in ({"indexes": 7}, {"indexes": 0}, {"indexes": []},
                   {"window": RWindow(400, 400, 5, 5)}, {"out_shape": (2, 10, 10)},
                   {"window": "x"}, {"resampling": "bogus"}):
            with pytest.raises(eoproc.Error) as e:
                ds.read(**kw)
            assert e.value.id == "arg.Invalid", kw
    ds.close()
    with pytest.raises(eoproc.Error) as e:
        ds.read(1)
    assert e.value.id == "state.Invalid"
