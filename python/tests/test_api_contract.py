"""The OpenAPI document is the contract: schemathesis, run against a real `pathwise serve`
over a database the demo workload recorded, finds no server error, no undocumented status,
no answer that breaks its schema, and no schema-violating request accepted.

Three runs: a server without a token; a server with one, called with it; and the same
server called without it (every guarded route must then answer the documented 401). Cases
are generated with a fixed seed and a bounded number of examples per operation, so a run is
reproducible and the module stays within a few minutes on two cores. A failure prints
schemathesis' report, which holds a `curl` command reproducing each case. Schemathesis
sends nothing anywhere but the server under test.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from conftest import Serving, installed_command, start_serving

# The checks the contract is held to; negative_data_rejection is what makes the document's
# constraints (patterns, ranges, required parameters) binding.
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,negative_data_rejection"
SEED = "20261123"

# Alerting on, so the alert routes answer with real alerts: one rule that fires at once and
# one whose query fails, so rule errors are shown too.
RULES = """check_interval = "1s"

[[rule]]
name = "stored-spans"
kind = "sql"
query = "SELECT count(*) FROM spans"
op = ">"
threshold = 0

[[rule]]
name = "errors"
kind = "threshold"
signal = "error_rate"
op = ">"
threshold = 0.001
severity = "critical"

[[rule]]
name = "broken"
kind = "sql"
query = "SELECT count(*) FROM no_such_table"
op = ">"
threshold = 0
"""

# The frames endpoint reads a media type schemathesis has no serializer for: bytes as given.
HOOKS = '''import schemathesis


@schemathesis.serializer("application/x-pathwise-frames")
def frames(ctx, value):
    return value if isinstance(value, bytes) else str(value).encode()
'''


def _get(base: str, path: str, token: Optional[str] = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the demo workload and the alert rules beside it."""
    root = tmp_path_factory.mktemp("contract")
    demo = subprocess.run(
        [installed_command("pathwise"), "demo", "--iterations", "300", "--no-serve",
         "--db", str(root / "demo.db")],
        capture_output=True, text=True, timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    (root / "alerts.toml").write_text(RULES)
    (root / "contract_hooks.py").write_text(HOOKS)
    return root


def _serve(root: Path, name: str, *options: str) -> Iterator[Serving]:
    # Two servers share the database, each with its own spool (a spool has one owner).
    serving = start_serving(root / "demo.db", root / f"{name}.log", "--alerts",
                            str(root / "alerts.toml"), "--spool", str(root / f"{name}.spool"),
                            *options)
    try:
        yield serving
    finally:
        code, output = serving.stop()
        assert "panicked" not in output, output


@pytest.fixture(scope="module")
def open_server(workdir: Path) -> Iterator[Serving]:
    yield from _serve(workdir, "open")


@pytest.fixture(scope="module")
def token() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="module")
def guarded_server(workdir: Path, token: str) -> Iterator[Serving]:
    yield from _serve(workdir, "guarded", "--token", token)


def _config(root: Path, base: str, token: Optional[str], name: str) -> Path:
    """A schemathesis config that mixes real identifiers (traces, spans, firing alerts) into
    the generated ones, so the answers for things that exist are checked too."""
    traces = _get(base, "/api/traces?limit=20", token)["traces"]
    trace_ids = [t["trace_id"] for t in traces]
    span_ids = [s["span_id"] for s in _get(base, f"/api/traces/{trace_ids[0]}", token)["spans"]]
    deadline = time.monotonic() + 30
    while not (active := _get(base, "/api/alerts", token)["active"]):
        assert time.monotonic() < deadline, "no alert fired"
        time.sleep(0.2)
    dictionaries: Dict[str, List[str]] = {
        "trace_ids": trace_ids,
        "span_ids": span_ids,
        "fingerprints": [a["fingerprint"] for a in active],
        "rules": sorted({a["rule"] for a in active}),
    }
    lines = ['hooks = "contract_hooks"', ""]
    for dictionary, values in dictionaries.items():
        lines += [f"[dictionaries.{dictionary}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for parameter, dictionary in [("path.id", "trace_ids"), ("query.trace", "trace_ids"),
                                  ("query.a", "trace_ids"), ("query.b", "trace_ids"),
                                  ("query.parent", "span_ids"),
                                  ("path.fingerprint", "fingerprints"),
                                  ("query.rule", "rules")]:
        lines.append(f'"{parameter}" = {{ dictionary = "{dictionary}", probability = 0.5 }}')
    path = root / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _schemathesis(root: Path, config: Path, schema: str, *options: str,
                  examples: int) -> None:
    command = [
        installed_command("schemathesis"), "--config-file", str(config), "run", schema,
        "--checks", CHECKS, "--mode", "all", "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(examples), "--seed", SEED, "--generation-database", "none",
        "--max-redirects", "0", "--request-timeout", "30", "--workers", "1",
        "--no-color", "--output-truncate", "false",
        # The live tail is a stream that stays open by design: no answer to check ever ends.
        # Its events are tested in crates/pathwise-server/tests/live.rs.
        "--exclude-path", "/api/traces/live", *options,
    ]
    environment = {**os.environ, "PYTHONPATH": str(root)}
    started = time.monotonic()
    run = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True,
                         timeout=600)
    report = run.stdout + run.stderr
    print(f"schemathesis ({time.monotonic() - started:.0f} s): {report[-3000:]}")
    assert run.returncode == 0, f"{' '.join(command)}\n{report}"


def test_open_server_keeps_the_contract(workdir: Path, open_server: Serving):
    config = _config(workdir, open_server.base, None, "open")
    _schemathesis(workdir, config, f"{open_server.base}/api/openapi.json", examples=80)


def test_guarded_server_keeps_the_contract_with_and_without_the_token(
        workdir: Path, guarded_server: Serving, token: str):
    config = _config(workdir, guarded_server.base, token, "guarded")
    # The document is itself guarded: fetched once with the token for the run without it.
    document = workdir / "openapi.json"
    document.write_text(json.dumps(_get(guarded_server.base, "/api/openapi.json", token)))
    _schemathesis(workdir, config, f"{guarded_server.base}/api/openapi.json",
                  "--header", f"Authorization: Bearer {token}", examples=40)
    _schemathesis(workdir, config, str(document), "--url", guarded_server.base, examples=5)
