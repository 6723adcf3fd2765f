"""Shared fixtures: a real pipeline recording into a real SQLite file per test, and a real
`pathwise serve` on a loopback port."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import pathwise


@dataclass
class SpanRow:
    trace_id: str
    span_id: int
    parent_id: int
    name: str
    path: str
    group: Optional[str]
    kind: str
    status: str
    error_type: Optional[str]
    duration_ns: int
    input: Optional[Any]
    output: Optional[Any]
    reasoning: Optional[str]
    metadata: Optional[Any]
    attrs: Dict[str, Any]
    error_message: Optional[str]
    error_chain: Optional[List[str]]


def _json(text: Optional[str]) -> Any:
    return json.loads(text) if text is not None else None


class Recording:
    """The database of one test; read with plain sqlite3 through the store's views."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def connect(self) -> sqlite3.Connection:
        return pathwise.sqlite_connect(self.db)

    def spans(self) -> List[SpanRow]:
        pathwise.flush()
        with self.connect() as conn:
            rows = conn.execute(
                """SELECT v.trace_id, v.span_id, v.parent_id, v.name, v.path, v.group_name,
                          v.kind, v.status, v.error_type, v.duration_ns, d.input, d.output,
                          d.reasoning, d.metadata, d.attrs, d.error_message, d.error_chain
                   FROM spans_v v
                   LEFT JOIN span_details_v d
                     ON d.trace_id = v.trace_id AND d.span_id = v.span_id
                   ORDER BY v.start_ns"""
            ).fetchall()
        return [
            SpanRow(
                *r[:10], _json(r[10]), _json(r[11]), r[12], _json(r[13]), _json(r[14]) or {},
                r[15], _json(r[16]),
            )
            for r in rows
        ]

    def paths(self) -> List[str]:
        return sorted(s.path for s in self.spans())

    def one(self, name: str) -> SpanRow:
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, found {len(found)}"
        return found[0]

    def traces(self) -> List[tuple]:
        pathwise.flush()
        with self.connect() as conn:
            return conn.execute(
                "SELECT trace_id, name, status, span_count, error_count, metadata FROM traces_v"
            ).fetchall()

    def query(self, sql: str, *args: Any) -> List[tuple]:
        pathwise.flush()
        with self.connect() as conn:
            return conn.execute(sql, args).fetchall()


@pytest.fixture
def recording(tmp_path: Path):
    db = tmp_path / "pathwise.db"
    pathwise.init(db=db, resource_interval=None, flush_interval=0.02)
    try:
        yield Recording(db)
    finally:
        pathwise.shutdown()


def installed_command(name: str) -> str:
    """A console script of this environment (`pathwise`, `schemathesis`)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"the `{name}` console script is not installed")
    return found


@dataclass
class Serving:
    """A `pathwise serve` subprocess on 127.0.0.1."""

    base: str
    proc: subprocess.Popen
    log: Path

    def stop(self, how: int = signal.SIGINT) -> Tuple[int, str]:
        """SIGINT (Ctrl-C; SIGTERM is what `docker stop` and systemd send), then its exit
        code and output."""
        if self.proc.poll() is None:
            self.proc.send_signal(how)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"serve did not stop on {how!r}: {self.log.read_text()}")
        return self.proc.returncode, self.log.read_text(errors="replace")


def start_serving(db: Path, log: Path, *options: str, port: Optional[int] = None) -> Serving:
    """Starts `pathwise serve --db DB OPTIONS` on `port` (a free loopback port if None) and
    waits until its `/health` answers (it needs no token)."""
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [installed_command("pathwise"), "serve", "--db", str(db),
             "--listen", f"127.0.0.1:{port}", *options],
            stdout=out, stderr=subprocess.STDOUT,
        )
    serving = Serving(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(serving.base + "/health", timeout=5) as answer:
                if answer.status == 200:
                    return serving
        except OSError:
            pass
        if time.monotonic() > deadline:
            serving.stop()
            pytest.fail(f"serve did not answer /health: {log.read_text()}")
        time.sleep(0.1)
