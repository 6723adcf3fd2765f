"""OTLP/HTTP ingest with a real client: the OpenTelemetry Python SDK and its OTLP/HTTP exporter
send to `pathwise serve`, and what they sent is read back through the API.

The Rust tests build their OTLP requests by hand; this module checks that what the official
SDK actually sends (random W3C ids, exception events, typed and list attributes, gzip, remote
parents) maps as documented.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest
from opentelemetry import trace as otel
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import pathwise
from conftest import Serving, start_serving

PROTOBUF = "application/x-protobuf"


@dataclass
class Server:
    """A `pathwise serve` subprocess and a small HTTP client for it."""

    serving: Serving
    token: str
    db: Path

    @property
    def base(self) -> str:
        return self.serving.base

    def stop(self) -> Tuple[int, str]:
        """SIGINT (the documented way to stop it), then its exit code and output."""
        return self.serving.stop()

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                content_type: Optional[str] = None, token: Optional[str] = "default"):
        headers = {"Content-Type": content_type} if content_type else {}
        token = self.token if token == "default" else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def trace(self, root: str, spans: int) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
        """The trace named `root` and its spans by name, once all `spans` of it are readable."""
        deadline = time.monotonic() + 30
        while True:
            listed = self.get(f"/api/traces?q={urllib.parse.quote(root)}&limit=10")["traces"]
            found = [t for t in listed if t["name"] == root]
            if found:
                detail = self.get(f"/api/traces/{found[0]['trace_id']}")
                if len(detail["spans"]) == spans:
                    return detail, {s["name"]: s for s in detail["spans"]}
            assert time.monotonic() < deadline, f"no trace {root!r} with {spans} spans: {listed}"
            time.sleep(0.1)

    def stored(self, sql: str) -> list:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture
def server(tmp_path: Path):
    db, token = tmp_path / "otlp.db", secrets.token_hex(12)
    # `serve` opens an existing database only: create an empty one with the package itself.
    pathwise.init(db=db, resource_interval=None)
    pathwise.shutdown()
    srv = Server(start_serving(db, tmp_path / "serve.log", "--token", token), token, db)
    try:
        yield srv
    finally:
        srv.stop()


def _provider(srv: Server, memory: Optional[InMemorySpanExporter] = None, **exporter: Any):
    provider = TracerProvider(resource=Resource.create({"service.name": "search-api"}))
    if memory is not None:  # a copy of what the SDK sends, to compare with what came back
        provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
        endpoint=f"{srv.base}/v1/traces", headers={"authorization": f"Bearer {srv.token}"},
        **exporter,
    )))
    return provider


def assert_typed(got: Dict[str, Any], expected: Dict[str, Any]) -> None:
    """Equal values of equal types (in Python, 1 == 1.0 == True)."""
    assert {k: (type(v), v) for k, v in got.items()} == {k: (type(v), v) for k, v in expected.items()}


PROMPT = "Rerank the datasets for: rna-seq liver"
LLM_INPUT = {"query": "rna-seq liver", "candidates": ["E-MTAB-1", "GSE100"]}


def _search(tracer: otel.Tracer) -> int:
    """search → {geo → cache.get, llm.rerank}; geo raises. Returns the SDK's trace id."""
    with tracer.start_as_current_span("search", kind=otel.SpanKind.SERVER, attributes={
        "http.response.status_code": 200, "search.score": 0.875, "search.cached": False,
        "search.query": "rna-seq liver", "search.sources": ["arrayexpress", "geo"],
    }) as root:
        with pytest.raises(ValueError):
            with tracer.start_as_current_span("geo"):
                with tracer.start_as_current_span("cache.get", kind=otel.SpanKind.CLIENT) as c:
                    c.set_attribute("cache.hit", True)
                raise ValueError("geo returned 503 for E-MTAB-1")
        with tracer.start_as_current_span("llm.rerank", attributes={
            "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 256,
            "gen_ai.prompt": PROMPT, "input.value": json.dumps(LLM_INPUT),
        }) as llm:
            llm.set_attributes({"gen_ai.usage.input_tokens": 812, "gen_ai.usage.output_tokens": 64})
            llm.set_attribute("output.value", "E-MTAB-1 first")
        return root.get_span_context().trace_id


@pytest.mark.parametrize("compression", [None, Compression.Gzip], ids=["protobuf", "gzip"])
def test_sdk_trace_is_recorded_with_paths_errors_types_and_llm_step(server, compression):
    memory = InMemorySpanExporter()
    provider = _provider(server, memory, **({"compression": compression} if compression else {}))
    otel_trace_id = _search(provider.get_tracer("search-service"))
    assert provider.force_flush(30_000)
    provider.shutdown()
    sent = {s.name: s for s in memory.get_finished_spans()}

    detail, spans = server.trace("search", spans=4)
    trace = detail["trace"]
    assert (trace["status"], trace["span_count"], trace["error_count"]) == ("completed", 4, 1)
    assert trace["duration_ns"] == spans["search"]["duration_ns"]
    assert {name: s["path"] for name, s in spans.items()} == {
        "search": "search", "geo": "search → geo", "cache.get": "search → geo → cache.get",
        "llm.rerank": "search → llm.rerank"}
    assert {s["group"] for s in spans.values()} == {"search-api"}
    assert {n: s["duration_ns"] for n, s in spans.items()} == {
        n: s.end_time - s.start_time for n, s in sent.items()}

    # A random W3C id is re-based on the start time; the client's id is kept on the root.
    root = spans["search"]
    attrs = dict(root["attrs"])
    assert attrs.pop("otel.trace_id", trace["trace_id"]) == f"{otel_trace_id:032x}"
    # Typed attributes keep their types; a list becomes JSON text of the list.
    assert_typed(attrs, {
        "http.response.status_code": 200, "search.score": 0.875, "search.cached": False,
        "search.query": "rna-seq liver", "search.sources": '["arrayexpress","geo"]',
        "otel.kind": "server",
    })
    assert_typed(spans["cache.get"]["attrs"], {"cache.hit": True, "otel.kind": "client"})
    assert (root["status"], spans["cache.get"]["status"]) == ("ok", "ok")

    # The SDK records the exception as an event (exception.type is the class name for builtins,
    # `module.QualName` otherwise) and sets status ERROR "ValueError: <message>".
    [event] = sent["geo"].events
    assert event.name == "exception" and event.attributes["exception.type"] == "ValueError"
    assert sent["geo"].status.description == "ValueError: geo returned 503 for E-MTAB-1"
    geo = spans["geo"]
    assert (geo["status"], geo["error_type"]) == ("error", "ValueError")
    assert geo["error_message"] == "geo returned 503 for E-MTAB-1"
    assert list(geo["attrs"]) == ["exception.stacktrace"]
    stack = geo["attrs"]["exception.stacktrace"]
    assert stack.startswith("Traceback") and "ValueError: geo returned 503 for E-MTAB-1" in stack

    llm = spans["llm.rerank"]
    assert (llm["kind"], llm["status"]) == ("step", "ok")
    assert llm["metadata"] == {"llm": {
        "model": "gpt-4o-mini", "provider": "openai", "temperature": 0.2,
        "input_tokens": 812, "output_tokens": 64, "total_tokens": 876,
        "params": {"max_tokens": 256}, "prompt": PROMPT,
    }}
    assert (llm["input"], llm["output"]) == (LLM_INPUT, "E-MTAB-1 first")
    # Small attributes stay queryable; payloads moved into the step's fields.
    assert_typed(llm["attrs"], {
        "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 256,
        "gen_ai.usage.input_tokens": 812, "gen_ai.usage.output_tokens": 64,
    })


UPSTREAM = otel.SpanContext(0x5B8EFFF798038103D269B633813FC60C, 0xEEE19B7EC3C1B174,
                            is_remote=True, trace_flags=otel.TraceFlags(otel.TraceFlags.SAMPLED))


def _callback(server: Server, name: str) -> None:
    """`name → notify` under a caller that propagated its context but exports elsewhere."""
    provider = _provider(server)
    tracer = provider.get_tracer("callbacks")
    with tracer.start_as_current_span(name, context=otel.set_span_in_context(
            otel.NonRecordingSpan(UPSTREAM))):
        with tracer.start_as_current_span("notify"):
            pass
    assert provider.force_flush(30_000)
    provider.shutdown()


def test_span_whose_parent_never_arrives_is_rooted_and_marked(server):
    _callback(server, "late.callback")
    assert server.get("/api/traces?q=late.callback&limit=10")["traces"] == []  # held
    _, spans = server.trace("late.callback", spans=2)  # rooted by the sweep after 10 s
    orphan = spans["late.callback"]
    assert orphan["path"] == "late.callback"
    # The trace's root never comes, so the orphan becomes it; the caller's span id is kept.
    assert orphan["attrs"] == {"pathwise.orphan": True, "otel.trace_id": f"{UPSTREAM.trace_id:032x}",
                               "pathwise.missing_parent": f"{UPSTREAM.span_id:016x}"}
    assert orphan["parent_id"] == "0"
    assert spans["notify"]["path"] == "late.callback → notify"
    assert {s["group"] for s in spans.values()} == {"search-api"}
    # What is still held when the server stops is rooted and written before it exits.
    _callback(server, "drained.callback")
    server.stop()
    assert server.stored("SELECT path FROM spans_v WHERE path LIKE 'drained.callback%' "
                         "ORDER BY path") == [("drained.callback",), ("drained.callback → notify",)]


def test_trace_of_a_rooted_orphan_is_completed(server):
    _callback(server, "drained.callback")
    server.stop()
    [(duration_ns,)] = server.stored("SELECT duration_ns FROM spans_v WHERE name = 'drained.callback'")
    assert server.stored("SELECT status, duration_ns FROM traces_v") == [("completed", duration_ns)]


def test_serve_exits_0_on_sigint(server):
    code, output = server.stop()
    assert "Traceback" not in output and code == 0, (code, output)


def test_missing_token_is_401_and_garbage_is_400(server, caplog):
    memory = InMemorySpanExporter()  # finished SDK spans, encoded exactly as the exporter does
    probe = TracerProvider(resource=Resource.create({"service.name": "search-api"}))
    probe.add_span_processor(SimpleSpanProcessor(memory))
    with probe.get_tracer("probe").start_as_current_span("auth.probe"):
        pass
    spans = memory.get_finished_spans()
    body = encode_spans(spans).SerializeToString()

    # The exporter without the header: a non-retryable failure, reported with the 401.
    exporter = OTLPSpanExporter(endpoint=f"{server.base}/v1/traces", timeout=10)
    with caplog.at_level(logging.ERROR):
        assert exporter.export(spans) is SpanExportResult.FAILURE
    exporter.shutdown()
    assert "401" in caplog.text
    for token in (None, "wrong-" + server.token):
        status, _ = server.request("POST", "/v1/traces", body, PROTOBUF, token=token)
        assert status == 401, token
    assert server.get("/api/traces?q=auth.probe&limit=10")["traces"] == []

    # The same body with the token is accepted whole: the refusal was the token's.
    status, reply = server.request("POST", "/v1/traces", body, PROTOBUF)
    assert status == 200
    assert not ExportTraceServiceResponse.FromString(reply).HasField("partial_success")
    server.trace("auth.probe", spans=1)

    for payload, content_type, problem in [
        (b"\x0a\xff\xff\xff", PROTOBUF, "protobuf body is not an OTLP trace export request"),
        (b"this is not json", "application/json", "JSON body is not an OTLP trace export request"),
    ]:
        status, reply = server.request("POST", "/v1/traces", payload, content_type)
        assert status == 400, reply
        error = json.loads(reply)["error"]
        assert error["status"] == 400 and problem in error["message"], error


def test_metrics_parse_with_prometheus_client(server):
    """`/metrics` read by Prometheus' own parser: node calls, errors and a histogram whose
    buckets add up, and the ingest counters, for a trace sent by the SDK."""
    from prometheus_client.parser import text_string_to_metric_families

    provider = _provider(server)
    _search(provider.get_tracer("metrics"))
    assert provider.force_flush(30_000)
    provider.shutdown()
    server.trace("search", spans=4)
    status, body = server.request("GET", "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}

    def value(family: str, sample: str, **labels: str) -> float:
        found = [s.value for s in families[family].samples if s.name == sample and s.labels == labels]
        assert len(found) == 1, (family, sample, labels, families[family].samples)
        return found[0]

    assert families["pathwise_node_calls"].type == "counter"
    assert value("pathwise_node_calls", "pathwise_node_calls_total", node="geo") == 1
    assert value("pathwise_node_errors", "pathwise_node_errors_total", node="geo") == 1
    assert value("pathwise_node_errors", "pathwise_node_errors_total", node="search") == 0
    histogram = families["pathwise_node_duration_seconds"]
    assert histogram.type == "histogram"
    buckets = [(float(s.labels["le"]), s.value) for s in histogram.samples
               if s.name.endswith("_bucket") and s.labels["node"] == "search"]
    assert [c for _, c in sorted(buckets)] == sorted(c for _, c in buckets), "cumulative buckets"
    assert max(buckets)[1] == value("pathwise_node_duration_seconds",
                                    "pathwise_node_duration_seconds_count", node="search") == 1
    assert value("pathwise_ingest_spans", "pathwise_ingest_spans_total", outcome="accepted") == 4
    assert value("pathwise_alerts_firing", "pathwise_alerts_firing", severity="critical") == 0


def test_privacy_flags_hash_and_drop_what_is_received_before_it_is_written(tmp_path: Path):
    db, token = tmp_path / "private.db", secrets.token_hex(12)
    pathwise.init(db=db, resource_interval=None)
    pathwise.shutdown()
    srv = Server(start_serving(
        db, tmp_path / "serve.log", "--token", token,
        "--privacy-hash", "user.email", "--privacy-hash", "recommended",
        "--privacy-drop", "card.number",
    ), token, db)
    try:
        provider = _provider(srv)
        tracer = provider.get_tracer("privacy-test")
        for email in ["alice@example.com", "alice@example.com", "bob@example.com"]:
            with tracer.start_as_current_span("checkout", attributes={
                "user.email": email, "card.number": "4111111111111111",
                "client.address": "203.0.113.7", "order.items": 3,
            }):
                pass
        provider.shutdown()
        deadline = time.monotonic() + 30
        while len(srv.stored("SELECT 1 FROM spans_v WHERE name = 'checkout'")) < 3:
            assert time.monotonic() < deadline, "the spans did not arrive"
            time.sleep(0.1)
    finally:
        code, log = srv.stop()
    assert code == 0, log
    rows = srv.stored(
        "SELECT d.attrs FROM span_details d JOIN spans_v s "
        "ON lower(hex(d.trace_id)) = s.trace_id AND d.span_id = s.span_id "
        "WHERE s.name = 'checkout'")
    attrs = [json.loads(r[0]) for r in rows]
    emails = sorted(a["user.email"] for a in attrs)
    assert all(e.startswith("hmac:") and len(e) == 21 for e in emails), emails
    assert len(set(emails)) == 2, "equal values hash equal: alice twice, bob once"
    assert all("card.number" not in a for a in attrs), attrs
    assert all(a["client.address"].startswith("hmac:") for a in attrs), "the recommended list"
    assert all(a["order.items"] == 3 for a in attrs), "the rest is kept as it was"
    raw = db.read_bytes() + (db.with_name(db.name + "-wal").read_bytes()
                             if db.with_name(db.name + "-wal").exists() else b"")
    assert b"example.com" not in raw and b"4111111111111111" not in raw
