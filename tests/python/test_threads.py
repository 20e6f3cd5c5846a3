"""eoproc.set_threads / get_threads: the setting reaches the library (its
reported count and the OS threads it really starts, read from /proc), and the
result does not depend on it (pixels read back by GDAL equal the numpy input,
files byte-identical)."""

import os
import threading

import numpy as np
import pytest
from osgeo import gdal

import eoproc

gdal.UseExceptions()


@pytest.fixture
def restore_threads():
    yield
    eoproc.set_threads(0)


def _os_threads():
    return len(os.listdir("/proc/self/task"))


def _peak_threads_during(fn):
    """The most OS threads of this process seen while fn() runs, minus those
    alive before (the sampler thread itself excluded)."""
    base = _os_threads()
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _os_threads())

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        fn()
    finally:
        stop.set()
        t.join()
    return peak[0] - 1 - base


def test_reported_count_follows_the_setting(restore_threads):
    eoproc.set_threads(3)
    assert eoproc.get_threads() == 3
    eoproc.set_threads(1)
    assert eoproc.get_threads() == 1
    # another Python thread has its own context: it sees the setting too
    seen = []
    t = threading.Thread(target=lambda: seen.append(eoproc.get_threads()))
    t.start()
    t.join()
    assert seen == [1]
    eoproc.set_threads(0)
    assert eoproc.get_threads() == os.cpu_count()


@pytest.mark.parametrize("bad", [-1, 1025, 1.5, "2"])
def test_bad_count_is_rejected(bad, restore_threads):
    eoproc.set_threads(2)
    with pytest.raises(eoproc.Error) as e:
        eoproc.set_threads(bad)
    assert e.value.id == "arg.Invalid"
    assert eoproc.get_threads() == 2  # unchanged


def test_same_result_with_1_and_2_threads_and_threads_really_used(tmp_path, restore_threads):
    rng = np.random.default_rng(19)
    # smooth + noise so zstd has work to do; many tiles so the pool is busy
    y, x = np.mgrid[0:2048, 0:2048]
    base = ((x // 7 + y // 5) % 256).astype(np.uint8)
    arr = np.stack([base, base[::-1], rng.integers(0, 256, base.shape, dtype=np.uint8)])
    outs, extra = {}, {1: [], 2: []}
    # Alternating runs; workers live only while a strip compresses, so on a
    # loaded machine the sampler may miss them in one run: up to 6 runs each.
    for n in (1, 2) * 6:
        if n == 2 and extra[2] and max(extra[2]) >= 1 and len(extra[1]) >= 2:
            break
        eoproc.set_threads(n)
        out = tmp_path / ("t%d.tif" % n)
        extra[n].append(_peak_threads_during(
            lambda: eoproc.cog(arr, str(out), blocksize=256, overviews="none")))
        data = out.read_bytes()
        assert outs.setdefault(n, data) == data  # the same bytes every run
    # the library never started a worker with 1 thread, and did with 2
    assert max(extra[1]) == 0, extra
    assert max(extra[2]) >= 1, extra
    assert outs[1] == outs[2]
    ds = gdal.Open(str(tmp_path / "t1.tif"))
    np.testing.assert_array_equal(ds.ReadAsArray(), arr)
