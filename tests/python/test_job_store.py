"""A damaged detect job store (job.sqlite edited or written by something
else) gives a clean state.Invalid naming the partition, never a crash or
undefined behaviour (issue 16, point 12: found by the jobstore fuzz target
and its seeds, tests/fuzz/crashers/jobstore)."""
import json
import sqlite3

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
