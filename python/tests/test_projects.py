"""Projects with real senders: one `pathwise serve --projects` with a default project and a
`billing` project, each its own SQLite file. The OpenTelemetry Python SDK files a resource
under the project its `service.namespace` names; the Pathwise Python SDK files its records
under `init(project=...)`. Each file ends up with its own senders' traces, and nothing else.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import List

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import pathwise
from conftest import start_serving


def _names(db: Path) -> List[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return sorted(row[0] for row in conn.execute(
            "SELECT n.name FROM traces t JOIN names n ON n.id = t.name_id"))


def _api(base: str, path: str, token: str):
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_senders_reach_the_project_they_name(tmp_path: Path) -> None:
    web, billing = tmp_path / "web.db", tmp_path / "billing.db"
    for db in (web, billing):
        pathwise.init(db=db, resource_interval=None)
        pathwise.shutdown()
    projects = tmp_path / "projects.toml"
    projects.write_text('default = "web"\n\n[[project]]\nname = "billing"\nstore = "billing.db"\n')
    token = secrets.token_hex(12)
    serving = start_serving(web, tmp_path / "serve.log", "--token", token, "--projects", str(projects))
    try:
        # The OpenTelemetry SDK: two providers, one per namespace.
        for namespace, root in (("billing", "charge-card"), (None, "render-page")):
            attributes = {"service.name": "svc"}
            if namespace:
                attributes["service.namespace"] = namespace
            provider = TracerProvider(resource=Resource.create(attributes))
            provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(
                endpoint=f"{serving.base}/v1/traces", headers={"authorization": f"Bearer {token}"})))
            with provider.get_tracer("t").start_as_current_span(root):
                with provider.get_tracer("t").start_as_current_span("child"):
                    pass
            provider.shutdown()
        # The Pathwise SDK, in a process of its own, sending to billing.
        script = (
            "import pathwise\n"
            f"pathwise.init(remote={serving.base!r}, key={token!r}, project='billing', "
            "resource_interval=None)\n"
            "with pathwise.trace('refund') as t:\n"
            "    with t.step('check') as s:\n"
            "        s.set_output({'ok': True})\n"
            "pathwise.shutdown()\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            listed = _api(serving.base, "/api/traces?project=billing", token)["traces"]
            if len(listed) == 2:
                break
            assert time.monotonic() < deadline, listed
            time.sleep(0.1)
        assert sorted(t["name"] for t in listed) == ["charge-card", "refund"]
        assert [t["name"] for t in _api(serving.base, "/api/traces", token)["traces"]] == ["render-page"]
    finally:
        code, log = serving.stop()
    assert code == 0, log
    assert _names(billing) == ["charge-card", "refund"]
    assert _names(web) == ["render-page"]
