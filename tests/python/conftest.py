"""pytest configuration of the eoproc Python tests.

Environment:
  EOPROC_LIBRARY  full path to libeoproc.so.1 (required)
  EOPROC_CLI      full path to the eoproc executable (required by the CLI tests)
  EOPROC_DATA     folder with the r-cran-stars sample rasters
                  (default: <repo>/.cache/data)

Under AddressSanitizer, preload libstdc++ after libasan (scripts/test.sh
does): python is not linked with libstdc++, and without it ASan's
__cxa_throw interceptor aborts at the first C++ exception inside PROJ/GDAL.

Nothing is skipped: a missing library, CLI or data file is a failure with a
message saying what to set.
"""

import importlib.util
import os
import pathlib
import sys

import pytest


REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ("L7_ETMs.tif", "geomatrix.tif", "olinda_dem_utm25s.tif", "lc.tif", "na.tif")


def _data_dir():
    return pathlib.Path(os.environ.get("EOPROC_DATA") or REPO / ".cache" / "data")


def pytest_configure(config):
    lib = os.environ.get("EOPROC_LIBRARY")
    if not lib:
        raise pytest.UsageError(
            "EOPROC_LIBRARY is not set: set it to the full path of libeoproc.so.1 "
            "(e.g. EOPROC_LIBRARY=/tmp/build/libeoproc.so.1)"
        )
    if not os.path.isfile(lib):
        raise pytest.UsageError("EOPROC_LIBRARY=%s: no such file" % lib)
    data = _data_dir()
    missing = [n for n in SAMPLES if not (data / n).is_file()]
    if missing:
        raise pytest.UsageError(
            "sample rasters missing from %s: %s. Set EOPROC_DATA to the folder holding "
            "the tif/ files of the Debian package r-cran-stars (apt-get download "
            "r-cran-stars; dpkg -x ...)" % (data, ", ".join(missing))
        )
    if importlib.util.find_spec("eoproc") is None:
        # not on PYTHONPATH: use the package of this source tree
        sys.path.insert(0, str(REPO / "bindings" / "python"))


@pytest.fixture(scope="session")
def data_dir():
    """Folder of the sample rasters."""
    return _data_dir()


@pytest.fixture(scope="session")
def l7(data_dir):
    """The 6-band Landsat 7 scene (UTM 25S, 28.5 m, uint8)."""
    return data_dir / "L7_ETMs.tif"


@pytest.fixture(scope="session")
def geomatrix(data_dir):
    """A 20 x 20 raster with a rotated geotransform."""
    return data_dir / "geomatrix.tif"


@pytest.fixture(scope="session")
def dem(data_dir):
    """A float32 DEM (UTM 25S)."""
    return data_dir / "olinda_dem_utm25s.tif"


@pytest.fixture(scope="session")
def cli():
    """Path of the eoproc executable (EOPROC_CLI)."""
    path = os.environ.get("EOPROC_CLI")
    if not path:
        pytest.fail("EOPROC_CLI is not set: set it to the full path of the eoproc executable")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("EOPROC_CLI=%s is not an executable file" % path)
    return path
