"""eoproc.open(path, "w", **profile): the rasterio way of writing, producing
a COG. Checked by reading the file back with rasterio (pixels, CRS,
transform, nodata equal to what rasterio itself writes from the same
profile) and GDAL's COG validator."""

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")  # listed in scripts/deps.sh
from affine import Affine  # noqa: E402
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate  # noqa: E402
from rasterio.windows import Window as RWindow  # noqa: E402

import eoproc  # noqa: E402


def test_copy_of_a_sample_equals_rasterio_copy(l7, tmp_path):
    with rasterio.open(l7) as src:
        profile, data = src.profile, src.read()
    ref = tmp_path / "rio.tif"
    with rasterio.open(ref, "w", **profile) as dst:
        dst.write(data)
    out = tmp_path / "eo.tif"
    with eoproc.open(l7) as src, eoproc.open(out, "w", **src.profile) as dst:
        for _, win in src.block_windows(1):  # a window at a time, as rasterio users do
            dst.write(src.read(window=win), window=win)
    errors = validate(str(out), full_check=True)[0]
    assert errors == []
    with rasterio.open(out) as a, rasterio.open(ref) as b:
        np.testing.assert_array_equal(a.read(), b.read())
        assert a.crs == b.crs and a.transform == b.transform and a.nodata == b.nodata
        assert a.dtypes == b.dtypes and a.count == b.count


@pytest.mark.parametrize("dtype,nodata", [("uint8", 0), ("int16", -9999), ("uint16", None),
                                          ("float32", float("nan")), ("float64", -1e30),
                                          ("int32", -2147483648)])
def test_band_and_window_writes(tmp_path, dtype, nodata):
    rng = np.random.default_rng(3)
    h, w = 70, 90
    full = (rng.random((2, h, w)) * 100).astype(dtype)
    t = Affine(10.0, 0.0, 600000.0, 0.0, -10.0, 5000000.0)
    prof = dict(driver="GTiff", width=w, height=h, count=2, dtype=dtype, crs="EPSG:32631",
                transform=t, nodata=nodata, compress="deflate", predictor=2 if dtype[0] != "f"
                else 3)
    out = tmp_path / "w.tif"
    with eoproc.open(out, "w", **prof) as dst:
        assert dst.profile["crs"].to_epsg() == 32631 and dst.shape == (h, w)
        dst.write(full[0], 1)
        dst.write(full[1, :30, :40], indexes=2, window=RWindow(0, 0, 40, 30))
        dst.write(full[1:, 30:, :], indexes=[2], window=((30, h), (0, w)))
        dst.write(full[1, :30, 40:], 2, window=eoproc.Window(40, 0, w - 40, 30))
    assert not out.with_name(out.name + ".tmp").exists()
    with rasterio.open(out) as r:
        np.testing.assert_array_equal(r.read(), full)
        assert r.crs.to_epsg() == 32631 and r.transform == t
        if nodata is None:
            assert r.nodata is None
        elif np.isnan(nodata):
            assert np.isnan(r.nodata)
        else:
            assert r.nodata == nodata
    assert validate(str(out), full_check=True)[0] == []


def test_bad_writes_are_errors_and_leave_nothing(tmp_path):
    out = tmp_path / "bad.tif"
    base = dict(width=10, height=10, count=1, dtype="uint8")
    for kw in (dict(base, driver="PNG"), dict(base, width=0), dict(base, dtype="complex64"),
               dict(base, nodata=300), dict(base, compress="jpeg"), {"width": 10}):
        with pytest.raises(eoproc.Error) as e:
            eoproc.open(out, "w", **kw)
        assert e.value.id == "arg.Invalid", kw
    with pytest.raises(eoproc.Error) as e:
        eoproc.open(out, "x")
    assert e.value.id == "arg.Invalid"
    with eoproc.open(out, "w", **base) as dst:
        for args, kw in (((np.zeros((10, 10)), 2), {}), ((np.zeros((5, 5)),), {}),
                         ((np.zeros((10, 10)), 1), {"window": RWindow(5, 5, 10, 10)})):
            with pytest.raises(eoproc.Error) as e:
                dst.write(*args, **kw)
            assert e.value.id == "arg.Invalid"
        dst.discard()
    assert not out.exists()
    # an exception inside the with block writes nothing
    with pytest.raises(RuntimeError):
        with eoproc.open(out, "w", **base) as dst:
            dst.write(np.ones((1, 10, 10), np.uint8))
            raise RuntimeError("stop")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
