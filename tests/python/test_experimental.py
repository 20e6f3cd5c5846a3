"""The calls of eoproc/experimental.h (issue 13, point 6): the library's test
hooks are exported eo_exp_* functions, outside the ABI baseline, and no
longer internal globals that only the C tests could reach.

The fault injector, driven from Python through the shared library: for
n = 1, 2, ... the nth allocation of a geodesic-area call fails; every such
call fails with memory.Exhausted (nothing else, no crash) until one n
comes past the call's last allocation, and that call's area equals the
one computed with no fault (and pyproj's, the independent reference)."""

import ctypes
import os
import subprocess

import pytest

import eoproc
from eoproc import _lib

AOI = {"type": "Polygon", "coordinates": [[[10, 50], [10.5, 50], [10.5, 50.4], [10, 50.4], [10, 50]]]}


def fn(name, restype, argtypes):
    assert _lib.has(name), "the library does not export %s" % name
    f = getattr(_lib.lib, name)
    f.restype, f.argtypes = restype, argtypes
    return f


def test_exported_and_outside_the_abi_baseline():
    syms = subprocess.run(["nm", "-D", "--defined-only", _lib.path], capture_output=True,
                          text=True, check=True).stdout
    for name in ("eo_exp_fail_alloc", "eo_exp_force_kernels", "eo_exp_png_decoder"):
        assert (" T %s@" % name) in syms or (" T %s\n" % name) in syms, name
    abi = os.path.join(os.path.dirname(__file__), "..", "..", "abi", "libeoproc.abi")
    with open(abi) as f:
        assert "eo_exp_" not in f.read()
    # the internal hooks they replace are gone (they were never exported; now not even defined)
    assert "eoi_test_fail_alloc" not in syms and "eoi_kernels_force" not in syms


def test_fail_alloc_fault_loop():
    fail = fn("eo_exp_fail_alloc", ctypes.c_int64, [ctypes.c_int64])
    from pyproj import Geod
    lons = [p[0] for p in AOI["coordinates"][0]]
    lats = [p[1] for p in AOI["coordinates"][0]]
    ref = abs(Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)[0]) / 1e6
    clean = eoproc.aoi_area(AOI)
    assert clean == pytest.approx(ref, rel=1e-9)
    failures, ok_at = 0, 0
    try:
        for n in range(1, 400):
            fail(n)
            try:
                got = eoproc.aoi_area(AOI)
            except eoproc.Error as e:
                assert e.id == "memory.Exhausted", (n, e.id, str(e))
                failures += 1
                continue
            finally:
                fail(0)
            ok_at = n
            assert got == clean
            break
    finally:
        fail(0)
    assert failures >= 3 and ok_at == failures + 1, (failures, ok_at)
    # the count since the last call: an allocation-free call counts nothing
    fail(0)
    assert fail(0) == 0


def test_force_kernels():
    force = fn("eo_exp_force_kernels", ctypes.c_int32, [ctypes.c_char_p])
    try:
        assert force(b"portable") == 1
        assert force(b"no-such-isa") == 0
    finally:
        assert force(None) == 1
