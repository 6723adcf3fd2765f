"""The pipeline's guarantees from Python: error spans survive kill -9, overload spills and
drops nothing, atexit flushes, a forked child does not hang."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pathwise


def _run(code: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=60, **kw,
    )


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchone()[0]


def test_error_spans_survive_kill_9(tmp_path: Path):
    db = tmp_path / "crash.db"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time, pathwise
            # A long flush interval: only the error lane can save these spans.
            pathwise.init(db={str(db)!r}, flush_interval=60, resource_interval=None)

            @pathwise.monitor()
            def charge(card: str):
                raise ConnectionError("gateway down")

            for _ in range(3):
                try:
                    charge("4111")
                except ConnectionError:
                    pass
            print("failed", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout.readline().strip() == "failed"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    # The next process replays the lane before recording anything itself.
    replay = _run(f"""
        import pathwise
        pathwise.init(db={str(db)!r}, resource_interval=None)
        pathwise.shutdown()
    """)
    assert replay.returncode == 0, replay.stderr
    assert _count(db, "SELECT count(*) FROM spans_v WHERE name = 'charge' AND status = 'error'"
                      " AND error_type = 'ConnectionError'") == 3


def test_overload_ten_times_the_queue_drops_nothing(tmp_path: Path):
    db = tmp_path / "overload.db"
    pathwise.init(db=db, queue_capacity=1024, resource_interval=None)
    try:
        @pathwise.monitor()
        def unit(i: int) -> int:
            return i

        @pathwise.monitor()
        def batch(n: int) -> None:
            for i in range(n):
                unit(i)

        for _ in range(10):
            batch(1024)  # each batch fills the whole queue
    finally:
        stats = pathwise.shutdown()
    assert stats["dropped"] == 0
    assert stats["spilled"] > 0  # the overload really happened: records went to disk
    assert stats["recorded"] == stats["written"] == 10 * 1025
    assert _count(db, "SELECT count(*) FROM spans_v WHERE path = 'batch → unit'") == 10 * 1024


def test_atexit_flushes_without_shutdown(tmp_path: Path):
    db = tmp_path / "exit.db"
    result = _run(f"""
        import pathwise
        pathwise.init(db={str(db)!r}, flush_interval=60, resource_interval=None)

        @pathwise.monitor()
        def step(i):
            return i

        for i in range(100):
            step(i)
    """)
    assert result.returncode == 0, result.stderr
    assert _count(db, "SELECT count(*) FROM spans_v WHERE name = 'step'") == 100


def test_forked_child_stops_recording_and_exits(tmp_path: Path):
    db = tmp_path / "fork.db"
    result = _run(f"""
        import os, pathwise
        pathwise.init(db={str(db)!r}, resource_interval=None)

        @pathwise.monitor()
        def where(who):
            return who

        where("parent-before")
        pid = os.fork()
        if pid == 0:
            where("child")          # no writer thread here: not recorded, never blocks
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert status == 0
        where("parent-after")
    """)
    assert result.returncode == 0, result.stderr
    assert _count(db, "SELECT count(*) FROM spans_v WHERE name = 'where'") == 2


def test_init_errors_are_raised_not_crashes(tmp_path: Path):
    import pytest

    with pytest.raises(pathwise.InitError):
        pathwise.init(db=tmp_path / "x.db", sample_rate=2.0)
    with pytest.raises(pathwise.InitError):
        pathwise.init(db=tmp_path / "missing-dir" / "sub" / "x.db")
    pathwise.init(db=tmp_path / "ok.db", resource_interval=None)
    try:
        with pytest.raises(pathwise.InitError):
            pathwise.init(db=tmp_path / "again.db")
    finally:
        assert pathwise.shutdown()["dropped"] == 0
    assert pathwise.shutdown() is None


def test_reading_the_file_with_pythons_sqlite3_in_the_same_process_loses_nothing(tmp_path: Path):
    # Python's sqlite3 is a second copy of SQLite in the process: closing its connection
    # deletes the write-ahead log under Pathwise's writer, which must notice and write again.
    db = tmp_path / "same-process.db"
    result = _run(f"""
        import contextlib, sqlite3, pathwise
        pathwise.init(db={str(db)!r}, resource_interval=None)

        @pathwise.monitor()
        def step(i: int) -> int:
            return i

        def count():
            with contextlib.closing(sqlite3.connect({str(db)!r})) as conn:
                return conn.execute("SELECT count(*) FROM spans").fetchone()[0]

        counts = []
        for round in range(3):
            for i in range(500):
                step(i)
            assert pathwise.flush()
            counts.append(count())
        pathwise.shutdown()
        counts.append(count())
        print(counts)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[500, 1000, 1500, 1500]", result.stderr
