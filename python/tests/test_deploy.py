"""Deployment files: the Dockerfile passes hadolint, the systemd unit passes
`systemd-analyze verify` (where systemd's tools are installed), and the server stops the
graceful way on SIGTERM, the signal `docker stop` and systemd send."""

import json
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import installed_command, start_serving

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_passes_hadolint():
    lint = subprocess.run(
        [installed_command("hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True, text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2, "a multi-stage build"
    final_stage = text.rsplit("FROM ", 1)[1]
    assert "\nUSER " in final_stage and "USER root" not in final_stage, "runs unprivileged"


def test_systemd_unit_verifies(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    unit = (ROOT / "deploy" / "pathwise.service").read_text()
    assert "ExecStart=/usr/local/bin/pathwise serve" in unit
    # verify checks that ExecStart's program exists: point it at this build's command.
    copy = tmp_path / "pathwise.service"
    copy.write_text(unit.replace("/usr/local/bin/pathwise", installed_command("pathwise")))
    verify = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stderr.strip() == "", f"no warnings either: {verify.stderr}"


def _otlp_json_orphan(trace_id: str) -> bytes:
    """One span whose parent never arrives: the server holds it, waiting, until it gives
    up or stops."""
    now = time.time_ns()
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "deploy-check"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": trace_id, "spanId": "00f067aa0ba902b7",
            "parentSpanId": "00f067aa0ba90200", "name": "held-child", "kind": 1,
            "startTimeUnixNano": str(now - 5_000_000), "endTimeUnixNano": str(now),
        }]}],
    }]}).encode()


def test_sigterm_stops_the_server_gracefully(tmp_path: Path):
    db = tmp_path / "pathwise.db"
    serving = start_serving(db, tmp_path / "serve.log", "--ack-timeout-ms", "0")
    request = urllib.request.Request(
        serving.base + "/v1/traces", data=_otlp_json_orphan("4bf92f3577b34da6a3ce929d0e0e4736"),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    code, log = serving.stop(signal.SIGTERM)
    assert code == 0, log
    # A graceful stop roots the held span and writes it; a killed server would have lost it.
    with sqlite3.connect(db) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM spans_v")]
    assert names == ["held-child"], log
