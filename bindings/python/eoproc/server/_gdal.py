"""GDAL's block cache, which the server bounds: GDAL's default (5% of RAM,
1.2 GiB on a 24 GiB machine) lets a tile server's memory grow for as long as
requests touch new blocks of its rasters.

The cache is process-wide and belongs to the GDAL that libeoproc links, so
it is set through that library's own functions (GDALSetCacheMax64)."""

import ctypes
import ctypes.util

_gdal = None


def _loaded_gdal():
    """The path of the libgdal mapped into this process (libeoproc's), or None."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                path = line.rstrip("\n").split(" ")[-1]
                if "/libgdal.so" in path:
                    return path
    except OSError:
        pass
    return None


def _lib():
    global _gdal
    if _gdal is None:
        from eoproc import _lib as eolib  # noqa: F401  (loads libeoproc, hence its GDAL)
        name = _loaded_gdal() or ctypes.util.find_library("gdal")
        if name is None:
            raise ValueError("cannot find GDAL's library to set its block cache")
        g = ctypes.CDLL(name)
        g.GDALSetCacheMax64.argtypes = [ctypes.c_int64]
        g.GDALSetCacheMax64.restype = None
        g.GDALGetCacheMax64.argtypes = []
        g.GDALGetCacheMax64.restype = ctypes.c_int64
        _gdal = g
    return _gdal


def set_gdal_cache_mb(mb):
    """Bound GDAL's block cache to mb MiB (blocks beyond it are evicted)."""
    mb = int(mb)
    if not 1 <= mb <= 1 << 20:
        raise ValueError("gdal_cache_mb %d: expected 1..1048576" % mb)
    _lib().GDALSetCacheMax64(mb << 20)


def gdal_cache_mb():
    """GDAL's block cache bound in MiB."""
    return _lib().GDALGetCacheMax64() >> 20
