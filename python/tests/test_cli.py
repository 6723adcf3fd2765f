"""The `pathwise` console script installed with the package: the Rust command line."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from conftest import installed_command


def _command() -> str:
    return installed_command("pathwise")


def test_demo_then_traces(tmp_path: Path):
    db = tmp_path / "demo.db"
    demo = subprocess.run(
        [_command(), "demo", "--iterations", "20", "--no-serve", "--db", str(db)],
        capture_output=True, text=True, timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM traces_v").fetchone()[0] > 0
    listing = subprocess.run(
        [_command(), "traces", "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.strip()


def test_usage_errors_exit_2():
    bad = subprocess.run([_command(), "no-such-command"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "no-such-command" in bad.stderr
    shown = subprocess.run([_command(), "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "demo" in shown.stdout
