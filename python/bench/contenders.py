"""The contenders of the Python benchmark: Pathwise and the tracing libraries a Python team
would otherwise reach for, each set up to record for real but reach no network.

Every contender is a class with ``decorate(fn)`` (sync or async), ``open_trace()`` (a context
manager for the enclosing trace the calls run under), ``catch_up()`` (lets its background side
finish, outside the timing) and ``kept()`` (records that reached its end of the line:
an exporter for the OpenTelemetry-based peers, the SQLite file for Pathwise).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from typing import Any, Callable, Dict, Optional, Sequence


def _counting_exporter():
    """An OpenTelemetry exporter that counts what it gets and keeps nothing: the peers'
    recording and batching are measured, no transport."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Counting(SpanExporter):
        def __init__(self) -> None:
            self.count = 0
            self._lock = threading.Lock()

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            with self._lock:
                self.count += len(spans)
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    return Counting()


class Baseline:
    """The undecorated call."""

    name = "undecorated"

    def decorate(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn

    def open_trace(self):
        return contextlib.nullcontext()

    def catch_up(self) -> None:
        pass

    def kept(self) -> Optional[int]:
        return None

    def close(self) -> None:
        pass


class Pathwise(Baseline):
    """``@pathwise.monitor`` into a fresh SQLite file (the default store)."""

    def __init__(self, workdir: str, captured: bool = True) -> None:
        import pathwise

        self._pathwise = pathwise
        self.name = "pathwise" if captured else "pathwise-uncaptured"
        self._captured = captured
        self._db = os.path.join(workdir, f"{self.name}.db")
        # Resource sampling is a separate thread's work; it is off so the app thread's figure
        # is the monitor's alone.
        pathwise.init(db=self._db, resource_interval=None)

    def decorate(self, fn):
        return self._pathwise.monitor(capture_args=self._captured, capture_result=self._captured)(fn)

    def open_trace(self):
        return self._pathwise.trace("request")

    def catch_up(self) -> None:
        self._pathwise.flush()

    def close(self) -> None:
        self._pathwise.shutdown()

    def kept(self) -> Optional[int]:
        self._pathwise.flush()
        # Counted in another process: a second copy of SQLite in this one (Python's sqlite3
        # module) that opens and closes the file the pipeline is writing can reset the shared
        # memory under the writer's feet (POSIX locks are per process) and crash it.
        count = (
            "import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1])\n"
            # The enclosing traces are spans too (the roots); only the calls are counted.
            "print(db.execute('SELECT count(*) FROM spans WHERE parent_id != 0').fetchone()[0])\n"
        )
        out = subprocess.run([sys.executable, "-c", count, self._db], check=True,
                             capture_output=True, text=True)
        return int(out.stdout)


class _OtelBased(Baseline):
    """Shared by the peers built on the OpenTelemetry SDK: a provider with a
    BatchSpanProcessor (its defaults) into the counting exporter."""

    def _provider(self, provider_class=None):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.exporter = _counting_exporter()
        self.provider = (provider_class or TracerProvider)()
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        return self.provider

    def catch_up(self) -> None:
        self.provider.force_flush()

    def kept(self) -> Optional[int]:
        self.catch_up()
        # The enclosing traces are exported too.
        return self.exporter.count - self.traces_opened

    traces_opened = 0

    def _counted(self, cm):
        self.traces_opened += 1
        return cm


class OpenTelemetry(_OtelBased):
    """The OpenTelemetry SDK by hand: ``start_as_current_span`` and three attributes."""

    name = "opentelemetry"

    def __init__(self, workdir: str) -> None:
        self.tracer = self._provider().get_tracer("bench")

    def decorate(self, fn):
        import functools
        import inspect

        tracer = self.tracer
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def traced_async(query, limit):
                with tracer.start_as_current_span(fn.__name__) as span:
                    span.set_attribute("query", query)
                    span.set_attribute("limit", limit)
                    result = await fn(query, limit)
                    span.set_attribute("hits", len(result["hits"]))
                    return result

            return traced_async

        @functools.wraps(fn)
        def traced(query, limit):
            with tracer.start_as_current_span(fn.__name__) as span:
                span.set_attribute("query", query)
                span.set_attribute("limit", limit)
                result = fn(query, limit)
                span.set_attribute("hits", len(result["hits"]))
                return result

        return traced

    def open_trace(self):
        return self._counted(self.tracer.start_as_current_span("request"))


class OpenInference(_OtelBased):
    """Arize Phoenix's instrumentation: OpenInference's ``@tracer.chain`` (input and output
    captured as JSON attributes)."""

    name = "openinference"

    def __init__(self, workdir: str) -> None:
        from openinference.instrumentation import TracerProvider

        self.tracer = self._provider(TracerProvider).get_tracer("bench")

    def decorate(self, fn):
        return self.tracer.chain(fn)

    def open_trace(self):
        return self._counted(self.tracer.start_as_current_span("request"))


class Langfuse(_OtelBased):
    """Langfuse's ``@observe`` (input and output captured), its own client and batching,
    exporting into the counting exporter instead of a Langfuse server."""

    name = "langfuse"

    def __init__(self, workdir: str) -> None:
        from langfuse import Langfuse as Client
        from langfuse import observe

        self.exporter = _counting_exporter()
        self.client = Client(
            public_key="pk-lf-bench",
            secret_key="sk-lf-bench",
            host="http://127.0.0.1:9",
            span_exporter=self.exporter,
        )
        self._observe = observe

    def decorate(self, fn):
        return self._observe(fn)

    def open_trace(self):
        return self._counted(self.client.start_as_current_observation(name="request"))

    def catch_up(self) -> None:
        self.client.flush()


class Logfire(_OtelBased):
    """Pydantic Logfire's ``@logfire.instrument`` (arguments captured), sending nowhere; its
    spans go through a BatchSpanProcessor into the counting exporter."""

    name = "logfire"

    def __init__(self, workdir: str) -> None:
        import logfire
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.exporter = _counting_exporter()
        logfire.configure(
            send_to_logfire=False,
            console=False,
            additional_span_processors=[BatchSpanProcessor(self.exporter)],
        )
        self._logfire = logfire

    def decorate(self, fn):
        return self._logfire.instrument(extract_args=True, record_return=True)(fn)

    def open_trace(self):
        return self._counted(self._logfire.span("request"))

    def catch_up(self) -> None:
        self._logfire.force_flush()


class MLflow(Baseline):
    """MLflow's ``@mlflow.trace`` (inputs and outputs captured). Its span processor and trace
    manager run as they would; its exporter's transport (a tracking server) is replaced by a
    counter of the spans of each finished trace."""

    name = "mlflow"

    def __init__(self, workdir: str) -> None:
        # The local file store is what needs no server; MLflow refuses it unless told.
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        import mlflow
        from mlflow.tracing.export.mlflow_v3 import MlflowV3SpanExporter

        self.count = 0

        def export(exporter_self, spans):
            self.count += len(spans)

        MlflowV3SpanExporter.export = export
        mlflow.set_tracking_uri(f"file://{workdir}/mlruns")
        self._mlflow = mlflow
        self.traces_opened = 0

    def decorate(self, fn):
        return self._mlflow.trace(fn)

    def open_trace(self):
        self.traces_opened += 1
        return self._mlflow.start_span("request")

    def kept(self) -> Optional[int]:
        self._mlflow.flush_trace_async_logging()
        return self.count - self.traces_opened


CONTENDERS: Dict[str, Callable[[str], Baseline]] = {
    "undecorated": lambda workdir: Baseline(),
    "pathwise": lambda workdir: Pathwise(workdir),
    "pathwise-uncaptured": lambda workdir: Pathwise(workdir, captured=False),
    "opentelemetry": OpenTelemetry,
    "openinference": OpenInference,
    "langfuse": Langfuse,
    "logfire": Logfire,
    "mlflow": MLflow,
}
