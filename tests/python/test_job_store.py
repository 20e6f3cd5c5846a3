"""A damaged detect job store (job.sqlite edited or written by something
else) gives a clean state.Invalid naming the partition, never a crash or
undefined behaviour (issue 16, point 12: found by the jobstore fuzz target
and its seeds, tests/fuzz/crashers/jobstore)."""
import json
import sqlite3
from contextlib import closing

import pytest

import eoproc

# the store's schema (src/jobs/job.c) without its NOT NULL constraints, as a
# foreign or damaged store may have it
SCHEMA = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE partitions(id INTEGER PRIMARY KEY, x INTEGER, y INTEGER, w INTEGER,"
    " h INTEGER, status TEXT, attempts INTEGER, started REAL, finished REAL, seconds REAL,"
    " code INTEGER, error TEXT, aoi_px INTEGER, valid_px INTEGER, tiles_run INTEGER,"
    " fetched INTEGER, missing INTEGER, corrupt INTEGER, hist BLOB, features INTEGER);"
)


def store(tmp_path, rows):
    db = sqlite3.connect(tmp_path / "job.sqlite")
    db.executescript(SCHEMA)
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("version", "1"), ("params", json.dumps({"tile": 256})), ("status", "IN_PROGRESS")],
    )
    db.executemany(
        "INSERT INTO partitions(id, x, y, w, h, status, attempts, fetched, missing, corrupt)"
        " VALUES (?, 0, 0, 256, 256, ?, 1, ?, 0, 0)",
        rows,
    )
    db.commit()
    db.close()
    return tmp_path


def test_partition_without_status_is_state_invalid(tmp_path):
    job = eoproc.Job(store(tmp_path, [(0, "OK", 1), (1, None, 1)]))
    with pytest.raises(eoproc.Error) as e:
        job.partitions()
    assert e.value.id == "state.Invalid"
    assert "partition 1 has no status" in str(e.value) and str(tmp_path) in str(e.value)
    job.close()


@pytest.mark.parametrize("counts", [[2**62, 2**62], [5, -1]])
def test_tile_counts_that_overflow_or_are_negative_are_state_invalid(tmp_path, counts):
    rows = [(i, "OK", n) for i, n in enumerate(counts)]
    job = eoproc.Job(store(tmp_path, rows))
    with pytest.raises(eoproc.Error) as e:
        job.status()
    assert e.value.id == "state.Invalid"
    assert "partition 1: its tile counts are not counts" in str(e.value)
    job.close()


def test_sound_store_lists_its_partitions(tmp_path):
    job = eoproc.Job(store(tmp_path, [(0, "OK", 3), (1, "FAILED", 4)]))
    st = job.status()
    assert st["partitions"]["total"] == 2 and st["partitions"]["done"] == 1
    assert st["tiles"]["fetched"] == 7
    assert [p["status"] for p in job.partitions()] == ["OK", "FAILED"]
    job.close()


@pytest.fixture(scope="module")
def failed_job(tmp_path_factory, cli):
    """A real job whose partitions reading one truncated tile failed."""
    import pathlib
    import subprocess
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "models"))
    from synth_pyramid import write_pyramid
    d = tmp_path_factory.mktemp("failed_job")
    s = write_pyramid(d, grid=1, size=512)
    tile = d / "xyz" / "18" / str(s["tx"]) / ("%d.png" % s["ty"])
    tile.write_bytes(tile.read_bytes()[:200])
    job = d / "job"
    p = subprocess.run([cli, "--quiet", "detect", str(d / "xyz"), str(d / "aoi.geojson"),
                        str(d / "o.geojson"), "--zoom", "18", "--partition-tiles", "1", "--job",
                        str(job)], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.strip().endswith("[io.Read]"), p.stderr
    # closing(): a Python 3.11 sqlite3 connection is in a reference cycle
    # (its statement cache), so the with block alone leaves it open until a
    # garbage collection, whose close then deletes job.sqlite-wal/-shm under
    # a test's copytree of this directory (seen once under ASan in CI)
    with closing(sqlite3.connect(job / "job.sqlite")) as db, db:
        codes = [c for (c,) in db.execute("SELECT code FROM partitions WHERE status = 'FAILED'")]
    assert codes and all(c == 3 | 1 << 8 for c in codes), codes  # EO_E_IO_READ (core.h)
    return job


@pytest.mark.parametrize("code", [0, 12345, -3])
def test_stored_failure_code_that_is_no_status_is_state_invalid(failed_job, tmp_path, cli, code):
    """The store's code column becomes the call's status only when it is one
    eoproc defines: 0 read as success (the failure would pass as OK), 12345
    as an unknown id."""
    import shutil
    import subprocess
    job = tmp_path / "job"
    shutil.copytree(failed_job, job)
    with closing(sqlite3.connect(job / "job.sqlite")) as db, db:
        db.execute("UPDATE partitions SET code = ? WHERE status = 'FAILED'", (code,))
    p = subprocess.run([cli, "--quiet", "job", "resume", str(job)], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.strip().endswith("[state.Invalid]"), p.stderr
    with eoproc.Job(job) as j, pytest.raises(eoproc.Error) as e:
        j.run()
    assert e.value.id == "state.Invalid" and "partitions failed" in str(e.value)
    assert "status code %d for it is no status eoproc defines" % code in str(e.value)


def test_status_query_leaves_the_store_as_it_was(failed_job, tmp_path, cli):
    """`eoproc job status` and Job.status() read the store without changing
    it: a store in rollback-journal mode (as another tool may leave it) keeps
    its bytes, where opening it used to switch it to WAL."""
    import hashlib
    import shutil
    import subprocess
    job = tmp_path / "job"
    shutil.copytree(failed_job, job)
    with closing(sqlite3.connect(job / "job.sqlite")) as db, db:
        assert db.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    before = hashlib.sha256((job / "job.sqlite").read_bytes()).hexdigest()
    p = subprocess.run([cli, "job", "status", str(job)], capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout)["status"] == "FAILED", p.stderr
    with eoproc.Job(job) as j:
        assert j.status()["status"] == "FAILED"
    assert hashlib.sha256((job / "job.sqlite").read_bytes()).hexdigest() == before
    with closing(sqlite3.connect(job / "job.sqlite")) as db, db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
