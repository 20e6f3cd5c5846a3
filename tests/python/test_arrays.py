"""Arrays wherever a raster goes: an eoproc.GeoArray (or a plain array with
transform= and crs=, or a dataset opened on an array) is accepted by calc,
index, zonal_stats, segment, polygonize, clip and cog, and raster results
come back as GeoArrays (array + transform + CRS + nodata). References:
numpy formulas, rasterio reading the files eoproc writes from a path, and
the same call on the file."""

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")  # listed in scripts/deps.sh
from affine import Affine  # noqa: E402

import eoproc  # noqa: E402

L7_T = Affine(28.49999999927454, 0.0, 288776.25000080315, 0.0, -28.49999999927454,
              9120760.750028737)


@pytest.fixture(scope="module")
def l7_array(l7):
    with rasterio.open(l7) as r:
        return r.read(), r.transform, r.crs.to_wkt()


def _aoi(t, c0, r0, c1, r1):
    x0, y0 = t * (c0, r0)
    x1, y1 = t * (c1, r1)
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1],
                                                [x0, y0]]]}


def test_read_returns_a_geoarray(l7):
    a, georef = eoproc.read(l7)
    with rasterio.open(l7) as r:
        np.testing.assert_array_equal(a, r.read())
        assert isinstance(a, eoproc.GeoArray) and a.transform == r.transform
        assert a.crs.to_epsg() == r.crs.to_epsg() == 31985 and a.nodata is None
    assert georef["geotransform"] == a.transform.to_gdal()
    assert (a + 1).transform == a.transform  # arithmetic keeps the grid
    assert a[:, 10:20, :].transform is None  # another grid: dropped


def test_index_and_calc_of_arrays_equal_numpy(l7, l7_array):
    data, t, wkt = l7_array
    r, n = data[2].astype(np.float64), data[3].astype(np.float64)
    want = np.where(n + r == 0, -9999.0, (n - r) / np.where(n + r == 0, 1, n + r))
    for src in (eoproc.GeoArray(data, t, wkt), data):
        got = eoproc.index(src, "NDVI", bands={"R": 3, "N": 4})
        assert isinstance(got, eoproc.GeoArray) and got.dtype == np.float32
        np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6, atol=1e-6)
    got = eoproc.index(eoproc.GeoArray(data, t, wkt), "NDVI", bands={"R": 3, "N": 4})
    assert got.transform == t and got.crs.to_epsg() == 31985
    np.testing.assert_array_equal(got, eoproc.index(l7, "NDVI", bands={"R": 3, "N": 4}))
    got = eoproc.calc(data, "b1 * 2 + b6", transform=t, crs=wkt)
    np.testing.assert_array_equal(got, (data[0].astype(np.float32) * 2 + data[5]))
    assert got.transform == t


def test_zonal_stats_of_an_array_equal_numpy(l7, l7_array):
    data, t, wkt = l7_array
    aoi = _aoi(t, 10, 20, 110, 90)  # whole pixels: the centre rule takes exactly these
    got = eoproc.zonal_stats(eoproc.GeoArray(data, t, wkt), aoi, band=4, crs="EPSG:31985")
    block = data[3, 20:90, 10:110].astype(np.float64)
    assert got["count"] == block.size
    assert got["mean"] == pytest.approx(block.mean(), rel=1e-12)
    assert got["min"] == block.min() and got["max"] == block.max()
    assert got["std"] == pytest.approx(block.std(), rel=1e-9)
    assert got == pytest.approx(eoproc.zonal_stats(l7, aoi, band=4, crs="EPSG:31985"), rel=1e-12)
    with pytest.raises(eoproc.Error) as e:
        eoproc.zonal_stats(data, aoi, band=4, crs="EPSG:31985")  # no georeferencing
    assert e.value.id == "arg.Invalid" and "transform" in e.value.message


def test_clip_returns_a_geoarray_equal_to_the_file(l7, l7_array, tmp_path):
    data, t, wkt = l7_array
    aoi = _aoi(t, 30.5, 40.2, 200.7, 150.1)
    out = tmp_path / "clip.tif"
    eoproc.clip(l7, aoi, out, crs="EPSG:31985")
    got = eoproc.clip(eoproc.GeoArray(data, t, wkt), aoi, crs="EPSG:31985")
    with rasterio.open(out) as r:
        np.testing.assert_array_equal(got, r.read())
        assert got.transform == r.transform and got.crs.to_epsg() == r.crs.to_epsg()
    # the array's clip is the file's (which test_clip.py holds to gdalwarp's)
    assert got.shape[0] == 6 and 100 < got.shape[1] < 120 and 160 < got.shape[2] < 180
    assert list(tmp_path.iterdir()) == [out]


def test_polygonize_cog_and_open_take_arrays(tmp_path, data_dir):
    lc = data_dir / "lc.tif"
    with rasterio.open(lc) as r:
        data, t, wkt = r.read(), r.transform, r.crs.to_wkt()
    ga = eoproc.GeoArray(data, t, wkt)
    assert eoproc.polygonize(ga) == eoproc.polygonize(lc)
    out = tmp_path / "a.tif"
    eoproc.cog(ga, out)
    with rasterio.open(out) as r:
        np.testing.assert_array_equal(r.read(), data)
        assert r.transform == t and r.crs.to_epsg() == 5070
    with eoproc.open(ga) as ds:
        path = ds.__fspath__()
        assert ds.transform == t and ds.crs.to_epsg() == 5070
        np.testing.assert_array_equal(ds.read(), data)
        assert eoproc.info(ds)["width"] == data.shape[2]
    import os

    assert not os.path.exists(path)  # the temporary file goes with the dataset
    with eoproc.open(data, transform=t, crs="EPSG:5070", nodata=0) as ds:
        assert ds.nodata == 0 and ds.crs.to_epsg() == 5070
    with pytest.raises(eoproc.Error) as e:
        eoproc.cog(ga, out, crs=12345678)
    assert e.value.id == "crs.Invalid"
