"""eoproc.distributed (issue 14, the fan-outs): on a LocalCluster of two
worker processes and on a scheduler and two workers started from the shell
(Debian's dask-scheduler and dask-worker) on loopback, the results equal the
serial eoproc calls on the same input exactly, in the same order; rasters are
compared pixel by pixel through GDAL."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from osgeo import gdal

import eoproc

distributed = pytest.importorskip("distributed", reason="python3-distributed is not installed")
import eoproc.distributed as ed  # noqa: E402
from helpers import footprints  # noqa: E402

gdal.UseExceptions()


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


@pytest.fixture(scope="module")
def local_client():
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1")
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def shell_client(tmp_path_factory):
    """dask-scheduler and dask-worker as separate processes on loopback."""
    sched_bin, worker_bin = shutil.which("dask-scheduler"), shutil.which("dask-worker")
    if not (sched_bin and worker_bin):
        pytest.fail("dask-scheduler/dask-worker not on PATH (Debian: python3-distributed)")
    from distributed import Client
    d = tmp_path_factory.mktemp("dask")
    sfile = d / "scheduler.json"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(d / "cluster.log", "w")
    procs = [subprocess.Popen([sched_bin, "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard", "--scheduler-file", str(sfile)],
                              env=_env(), stdout=log, stderr=log)]
    deadline = time.time() + 60
    while not sfile.exists() and time.time() < deadline:
        time.sleep(0.2)
    procs.append(subprocess.Popen([worker_bin, "--scheduler-file", str(sfile), "--nworkers", "2",
                                   "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                                   "--local-directory", str(d)],
                                  env=_env(), stdout=log, stderr=log))
    client = None
    try:
        client = Client(scheduler_file=str(sfile), timeout=60)
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        if client is not None:
            client.close()
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


@pytest.fixture(params=["local", "shell"])
def client(request):
    return request.getfixturevalue(request.param + "_client")


def _features(l7, n, rmax=300):
    """n squares of half-side 20 m to rmax (some overlapping, some partly
    outside) over the Landsat scene, in its CRS."""
    info = eoproc.info(l7)
    gt, w, h = info["geotransform"], info["width"], info["height"]
    rng = np.random.default_rng(7)
    feats = []
    for k in range(n):
        cx = gt[0] + rng.uniform(-5, w + 5) * gt[1]
        cy = gt[3] + rng.uniform(-5, h + 5) * gt[5]
        r = rng.uniform(20, rmax)
        ring = [[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r],
                [cx - r, cy - r]]
        feats.append({"type": "Feature", "properties": {"k": k},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": feats}, "EPSG:%d" % info["crs"]["epsg"]


def test_zonal_stats_of_1000_features_equal_serial(client, l7, tmp_path):
    # up to 210 pixels across: a feature spans several windows, whose partial
    # sums must merge in one order whatever the batch and the thread count
    fc, crs = _features(l7, 1000, rmax=3000)
    path = tmp_path / "fields.geojson"
    path.write_text(json.dumps(fc))
    kw = dict(band=2, percentiles=[10, 90], crs=crs)
    serial = eoproc.zonal_stats(l7, str(path), **kw)
    dist = ed.zonal_stats(client, l7, path, chunk_size=150, **kw)
    assert len(dist["features"]) == 1000
    assert [f["properties"]["k"] for f in dist["features"]] == list(range(1000))
    assert dist == serial
    # a dict and an index work as well (the coverage rule, weighted)
    kw = dict(index="ndvi", sensor="landsat7", coverage=True, crs=crs)
    assert ed.zonal_stats(client, l7, fc, chunk_size=333, **kw) == eoproc.zonal_stats(l7, fc, **kw)


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """20 single-band float32 rasters on one grid, each with its own values,
    and their dates given out of order (two on the same day)."""
    d = tmp_path_factory.mktemp("series")
    rng = np.random.default_rng(11)
    items = []
    drv = gdal.GetDriverByName("GTiff")
    for k in range(20):
        p = str(d / ("t%02d.tif" % k))
        ds = drv.Create(p, 64, 48, 1, gdal.GDT_Float32)
        ds.SetGeoTransform([500000, 10, 0, 7500000, 0, -10])
        ds.SetProjection("EPSG:32723")
        a = rng.normal(0.3 + 0.02 * k, 0.1, (48, 64)).astype(np.float32)
        a[rng.random((48, 64)) < 0.05] = -9999
        ds.GetRasterBand(1).WriteArray(a)
        ds.GetRasterBand(1).SetNoDataValue(-9999)
        ds = None
        day = 1 + (k * 7) % 28 if k != 5 else 1 + (3 * 7) % 28
        items.append((p, "2024-%02d-%02d" % (1 + k % 12, day)))
    rng.shuffle(items)
    return [tuple(i) for i in items]


def test_time_series_of_20_dates_equals_serial(client, dated):
    aoi = {"type": "Polygon", "coordinates": [[[500100, 7499900], [500500, 7499900],
                                               [500500, 7499600], [500100, 7499900]]]}
    kw = dict(expr="b1 * 2 - 0.1", aoi=aoi, crs="EPSG:32723", percentiles=[50])
    serial = eoproc.time_series(dated, **kw)
    dist = ed.time_series(client, dated, **kw)
    assert len(dist["series"]) == 20
    assert dist == serial
    kw = dict(expr="b1", point=(-45.0, -22.6))
    assert ed.time_series(client, dated, **kw) == eoproc.time_series(dated, **kw)


def _pixels(path):
    ds = gdal.Open(str(path))
    return ds.ReadAsArray(), ds.GetGeoTransform(), ds.GetProjection()


def _same_raster(a, b):
    pa, ga, ca = _pixels(a)
    pb, gb, cb = _pixels(b)
    assert ga == gb and ca == cb
    np.testing.assert_array_equal(pa, pb)


def _strip_path(r):
    return {k: v for k, v in r.items() if k not in ("path", "bytes")}


def test_index_calc_cog_of_many_files_equal_serial(client, dated, tmp_path):
    srcs = [p for p, _ in dated[:6]]
    for name, dist_fn, serial_fn, arg in (
            ("calc", ed.calc, eoproc.calc, "b1 * 10"),
            ("cog", ed.cog, eoproc.cog, None)):
        outs_s = [tmp_path / ("s_%s_%d.tif" % (name, i)) for i in range(len(srcs))]
        outs_d = [tmp_path / ("d_%s_%d.tif" % (name, i)) for i in range(len(srcs))]
        if arg is None:
            serial = [serial_fn(s, str(o)) for s, o in zip(srcs, outs_s)]
            dist = dist_fn(client, srcs, outs_d)
        else:
            serial = [serial_fn(s, arg, str(o)) for s, o in zip(srcs, outs_s)]
            dist = dist_fn(client, srcs, arg, outs_d)
        assert len(dist) == len(srcs)
        for src, rs, rd, os_, od in zip(srcs, serial, dist, outs_s, outs_d):
            if isinstance(rs, dict):
                assert _strip_path(rd) == _strip_path(rs)
            # each output against numpy on the source, then the two alike
            a = gdal.Open(src).ReadAsArray()
            want = a if arg is None else np.where(a == -9999, np.float32(-9999),
                                                  a * np.float32(10))
            for o in (os_, od):
                got = _pixels(o)[0]
                np.testing.assert_array_equal(got, want, err_msg=str(o))
            _same_raster(os_, od)


def test_index_of_many_files_equals_serial(client, l7, tmp_path):
    srcs = [l7, l7, l7]
    outs_s = [tmp_path / ("s%d.tif" % i) for i in range(3)]
    outs_d = [tmp_path / ("d%d.tif" % i) for i in range(3)]
    serial = [eoproc.index(l7, "ndvi", str(o), sensor="landsat7") for o in outs_s]
    dist = ed.index(client, srcs, "ndvi", outs_d, sensor="landsat7")
    for rs, rd, a, b in zip(serial, dist, outs_s, outs_d):
        assert _strip_path(rd) == _strip_path(rs)
        _same_raster(a, b)


def test_clip_one_item_to_many_aois_equals_serial(client, l7, tmp_path):
    fc, crs = _features(l7, 8)
    aois = []
    for f in fc["features"]:
        g = dict(f["geometry"])
        aois.append({"type": "Feature", "properties": {},
                     "geometry": g})
    # the features inside the scene (an AOI outside it is an error, tested below)
    info = eoproc.info(l7)
    inside = []
    for a in aois:
        try:
            eoproc.clip(l7, a, str(tmp_path / "probe.tif"), crs=crs)
            inside.append(a)
        except eoproc.Error:
            pass
    assert len(inside) >= 4, info
    outs_s = [tmp_path / ("s%d.tif" % i) for i in range(len(inside))]
    outs_d = [tmp_path / ("d%d.tif" % i) for i in range(len(inside))]
    serial = [eoproc.clip(l7, a, str(o), crs=crs) for a, o in zip(inside, outs_s)]
    dist = ed.clip(client, l7, inside, outs_d, crs=crs)
    for rs, rd, a, b in zip(serial, dist, outs_s, outs_d):
        assert _strip_path(rd) == _strip_path(rs)
        _same_raster(a, b)


def test_errors_keep_their_id_across_processes(local_client, l7, tmp_path):
    missing = str(tmp_path / "missing.tif")
    with pytest.raises(eoproc.Error) as serial:
        eoproc.zonal_stats(missing, {"type": "Point", "coordinates": [0, 0]})
    with pytest.raises(eoproc.Error) as dist:
        ed.zonal_stats(local_client, missing, {"type": "Point", "coordinates": [0, 0]})
    assert dist.value.id == serial.value.id and dist.value.code == serial.value.code
    assert dist.value.message == serial.value.message
    # an operation that fails on one file of many: the first error, with its id
    with pytest.raises(eoproc.Error) as e:
        ed.calc(local_client, [str(l7), missing], "b1", [tmp_path / "a.tif", tmp_path / "b.tif"])
    assert e.value.id == serial.value.id
    assert not (tmp_path / "b.tif").exists()


@pytest.mark.parametrize("call, msg", [
    (lambda c: ed.zonal_stats("not a client", "a.tif", {}), "client must be"),
    (lambda c: ed.calc(c, ["a.tif"], "b1", ["x.tif", "y.tif"]), "differ in length"),
    (lambda c: ed.calc(c, "a.tif", "b1", ["x.tif"]), "must be a list"),
    (lambda c: ed.cog(c, ["a.tif", "b.tif"], ["x.tif", "x.tif"]), "same file twice"),
    (lambda c: ed.time_series(c, []), "at least one"),
    (lambda c: ed.zonal_stats(c, "a.tif", {"type": "FeatureCollection", "features": []},
                              chunk_size=0), "chunk_size"),
])
def test_bad_arguments_are_clear_errors(local_client, call, msg):
    with pytest.raises(eoproc.Error) as e:
        call(local_client)
    assert msg in str(e.value)
    assert e.value.id in ("arg.Invalid", "param.Invalid")


def test_zonal_stats_do_not_depend_on_the_thread_count(cli, l7, tmp_path):
    """The CLI with 1, 2 and 3 threads gives the same bits (the windows'
    partial sums are merged in the windows' order, not the threads')."""
    fc, crs = _features(l7, 40, rmax=4000)
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(fc))
    outs = set()
    for t in ("1", "2", "3"):
        p = subprocess.run([cli, "--threads", t, "zonal", str(l7), str(path), "--crs", crs,
                            "--percentiles", "5,50,95"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        outs.add(p.stdout)
    assert len(outs) == 1


# ---- detect: partitions as tasks (issue 14's main point) ----------------------

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "models"))
from synth_pyramid import write_pyramid  # noqa: E402


@pytest.fixture(scope="module")
def z18(tmp_path_factory):
    return write_pyramid(tmp_path_factory.mktemp("z18"), grid=2, size=512)


@pytest.fixture(scope="module")
def z18_serial(z18, tmp_path_factory):
    """The serial single-pass run of z18's AOI: (result, output path)."""
    out = tmp_path_factory.mktemp("serial") / "serial.geojson"
    r = eoproc.detect(z18["dir"] / "xyz", z18["dir"] / "aoi.geojson", out, zoom=18,
                      partition_tiles=0, precision=15)
    return r, out


def test_detect_partitions_as_tasks_equal_serial(client, z18, z18_serial, tmp_path):
    """Nine partitions run as Dask tasks on two worker processes (a
    LocalCluster, and a scheduler and workers started as separate processes),
    merged by a last task: the same footprints as the serial single-pass run."""
    src, aoi = z18["dir"] / "xyz", z18["dir"] / "aoi.geojson"
    serial, serial_out = z18_serial
    r = ed.detect(client, src, aoi, tmp_path / "dist.geojson", job=tmp_path / "job",
                  zoom=18, partition_tiles=1, precision=15)
    assert r["partitions"] == 9 and r["features"] == serial["features"] > 20
    assert r["tiles"]["missing"] == 0
    assert footprints(tmp_path / "dist.geojson") == footprints(serial_out)
    with eoproc.Job(tmp_path / "job") as j:
        st = j.status()
        parts = j.partitions()
    assert st["status"] == "OK" and st["percentCompleted"] == 100
    assert all(p["status"] == "OK" and p["attempts"] == 1 for p in parts)


def test_detect_failed_partitions_then_resume(local_client, z18, tmp_path):
    """A corrupt corner tile: its partitions fail on the workers, the merge
    is refused with the tile named; after the fix the same call resumes the
    failed partitions only and writes the serial output."""
    src = tmp_path / "xyz"
    shutil.copytree(z18["dir"] / "xyz", src)
    tile = src / "18" / str(z18["tx"]) / ("%d.png" % z18["ty"])
    good = tile.read_bytes()
    tile.write_bytes(good[:200])
    aoi, job, out = z18["dir"] / "aoi.geojson", tmp_path / "job", tmp_path / "o.geojson"
    with pytest.raises(eoproc.Error) as e:
        ed.detect(local_client, src, aoi, out, job=job, zoom=18, partition_tiles=1,
                  precision=15)
    assert e.value.id == "io.Read" and "18/%d/%d" % (z18["tx"], z18["ty"]) in str(e.value)
    assert not out.exists()
    with eoproc.Job(job) as j:
        before = {p["id"]: (p["status"], p["attempts"]) for p in j.partitions()}
    failed = {i for i, (s, _) in before.items() if s == "FAILED"}
    assert 0 < len(failed) < len(before)
    tile.write_bytes(good)
    r = ed.detect(local_client, src, aoi, out, job=job)  # the job folder: resume it
    assert r["partitions"] == 9
    with eoproc.Job(job) as j:
        after = {p["id"]: (p["status"], p["attempts"]) for p in j.partitions()}
    for i, (s, a) in before.items():
        assert after[i] == ("OK", a + 1 if i in failed else a)
    serial = tmp_path / "serial.geojson"
    eoproc.detect(src, aoi, serial, zoom=18, partition_tiles=0, precision=15)
    assert footprints(out) == footprints(serial)


def _wait_for_ok(job, at_least, timeout=120):
    """Poll the job store until at least that many partitions are OK; the
    partitions then, as {id: (status, attempts)}."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (job / "job.sqlite").exists():
            with eoproc.Job(job) as j:
                parts = {p["id"]: (p["status"], p["attempts"]) for p in j.partitions()}
            if sum(s == "OK" for s, _ in parts.values()) >= at_least:
                return parts
        time.sleep(0.02)
    pytest.fail("no partition of %s finished in %d s" % (job, timeout))


def test_detect_survives_a_killed_worker(z18, z18_serial, tmp_path):
    """SIGKILL one of the two worker processes while partitions run: Dask
    reschedules its task on the other (or the restarted) worker and the job
    completes with the serial run's footprints."""
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1")
    client = Client(cluster)
    try:
        src, aoi, job, out = (z18["dir"] / "xyz", z18["dir"] / "aoi.geojson",
                              tmp_path / "job", tmp_path / "o.geojson")
        fut = ed.detect(client, src, aoi, out, job=job, zoom=18, partition_tiles=1,
                        precision=15, compute=False)
        pids = client.run(os.getpid)
        at_kill = _wait_for_ok(job, 1)
        os.kill(pids[sorted(pids)[0]], signal.SIGKILL)
        r = fut.result(timeout=300)
        # the kill came in the middle: partitions were left to run
        assert sum(s == "OK" for s, _ in at_kill.values()) < len(at_kill) == 9
        assert r["features"] == z18_serial[0]["features"]
        assert footprints(out) == footprints(z18_serial[1])
    finally:
        client.close()
        cluster.close()


_DRIVER = """
import sys
from distributed import Client
import eoproc.distributed as ed
client = Client(sys.argv[1], timeout=60)
ed.detect(client, sys.argv[2], sys.argv[3], sys.argv[4], job=sys.argv[5], zoom=18,
          partition_tiles=1, precision=15)
"""


def test_detect_driver_killed_then_resumed(shell_client, z18, z18_serial, tmp_path):
    """SIGKILL the driver (the process holding the Dask client) in the middle
    of a run on the separate-process cluster: a new client resumes the job
    folder, the partitions finished before the kill do not run again, and
    the output is the serial run's."""
    src, aoi, job, out = (z18["dir"] / "xyz", z18["dir"] / "aoi.geojson", tmp_path / "job",
                          tmp_path / "o.geojson")
    addr = shell_client.scheduler.address
    driver = subprocess.Popen([sys.executable, "-c", _DRIVER, addr, str(src), str(aoi), str(out),
                               str(job)], env=_env())
    try:
        at_kill = _wait_for_ok(job, 1)
    finally:
        driver.kill()
        driver.wait()
    done = {i for i, (s, _) in at_kill.items() if s == "OK"}
    assert 0 < len(done) < 9 and not out.exists()
    # tasks the dead client left running finish on their workers; wait for them
    deadline = time.time() + 120
    while any(shell_client.processing().values()) and time.time() < deadline:
        time.sleep(0.1)
    r = ed.detect(shell_client, src, aoi, out, job=job)
    assert r["features"] == z18_serial[0]["features"]
    with eoproc.Job(job) as j:
        after = {p["id"]: (p["status"], p["attempts"]) for p in j.partitions()}
    assert all(s == "OK" for s, _ in after.values())
    for i in done:
        assert after[i] == at_kill[i]  # not run again
    assert footprints(out) == footprints(z18_serial[1])
