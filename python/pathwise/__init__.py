"""Pathwise for Python: record every path through your code and every decision in it,
losslessly, through the same Rust pipeline and SQLite store as the Rust SDK.

Example::

    import pathwise
    pathwise.init(db="pathwise.db")

    @pathwise.monitor(group="search")
    def search(query: str, limit: int) -> list: ...

    with pathwise.trace("competitor-selection") as t:
        with t.step("apply_filters") as s:
            s.set_reasoning("12 of 50 passed every filter")

Recording stops (and everything is flushed) at interpreter exit or on :func:`shutdown`.
"""

from __future__ import annotations

import atexit
import os
from typing import Any, Dict, Iterable, Optional, Union

from . import _native
from ._auto import TraceTime, auto_instrument_class, auto_instrument_module
from ._context import current_span, with_context
from ._monitor import monitor
from ._xray import Step, Trace, step, trace

Span = _native.Span
InitError = _native.InitError

__all__ = [
    "InitError",
    "Span",
    "Step",
    "Trace",
    "TraceTime",
    "auto_instrument_class",
    "auto_instrument_module",
    "cache_hit",
    "cache_miss",
    "current_span",
    "flush",
    "init",
    "monitor",
    "record_operation",
    "shutdown",
    "sqlite_connect",
    "stats",
    "step",
    "summarize",
    "trace",
    "with_context",
]

_atexit_registered = False


def init(
    db: Union[str, "os.PathLike[str]", None] = None,
    *,
    sample_rate: Optional[float] = None,
    flush_interval: Optional[float] = None,
    queue_capacity: Optional[int] = None,
    retention_hours: Optional[int] = None,
    max_repr: Optional[int] = None,
    sensitive_fields: Iterable[str] = (),
    resource_interval: Optional[float] = 1.0,
    data_dir: Union[str, "os.PathLike[str]", None] = None,
    store: Optional[str] = None,
    remote: Optional[str] = None,
    key: Optional[str] = None,
    otlp_endpoint: Optional[str] = None,
    service: Optional[str] = None,
    keep_local: Optional[bool] = None,
    project: Optional[str] = None,
) -> None:
    """Starts recording. Unset options come from the ``PATHWISE_*`` environment variables
    (``PATHWISE_DB``, ``PATHWISE_STORE``, ``PATHWISE_REMOTE`` with ``PATHWISE_KEY``,
    ``PATHWISE_OTLP_ENDPOINT`` with ``PATHWISE_SERVICE``, ``PATHWISE_KEEP_LOCAL``,
    ``PATHWISE_SAMPLE_RATE``, ``PATHWISE_RETENTION_HOURS``), then the defaults
    (``./pathwise.db``, every trace, 7 days). Raises :class:`InitError` when recording cannot
    start; the application decides whether to run without it.

    Where records go:

    - ``db``: a SQLite file; or ``store``: a store URL as ``pathwise serve --store`` takes it
      (``"clickhouse://127.0.0.1:8123/pathwise?cluster=pathwise"``, ``"sqlite:app.db"``).
    - ``remote``: a Pathwise server (``pathwise serve``) that receives every record, with
      ``key`` its ingest key or token; ``otlp_endpoint``: an OpenTelemetry collector
      (OTLP/HTTP), spans reported as ``service``.
    - ``keep_local``: whether the local store is written too. Giving ``remote`` or
      ``otlp_endpoint`` without ``db`` or ``store`` records remotely only; naming a local
      store as well keeps both.
    - ``project``: the project of a server with several (``pathwise serve --projects``)
      that the records belong to (``PATHWISE_PROJECT``); sent with every export.

    ``flush_interval`` and ``resource_interval`` are in seconds (``resource_interval=None``
    turns resource sampling off); spill files and the error lane live in ``data_dir``
    (default ``<db>.spool``): a server that is down loses nothing, its records wait there.

    Example::

        pathwise.init(db="pathwise.db", sample_rate=0.25)
        # or: pathwise.init(remote="http://127.0.0.1:7070", key=os.environ["PATHWISE_KEY"])
    """
    global _atexit_registered
    _native.init(
        os.fspath(db) if db is not None else None,
        sample_rate,
        flush_interval,
        queue_capacity,
        retention_hours,
        max_repr,
        [str(f) for f in sensitive_fields],
        resource_interval,
        os.fspath(data_dir) if data_dir is not None else None,
        store,
        remote,
        key,
        otlp_endpoint,
        service,
        keep_local,
        project,
    )
    if not _atexit_registered:
        atexit.register(_native.shutdown)
        _atexit_registered = True


def shutdown() -> Optional[Dict[str, int]]:
    """Flushes everything and stops recording; returns the final pipeline counters
    (``recorded``, ``written``, ``spilled``, ``dropped``, ...), or ``None`` if not recording.

    Example::

        stats = pathwise.shutdown()
        assert stats is None or stats["dropped"] == 0
    """
    return _native.shutdown()


def flush(timeout: float = 10.0) -> bool:
    """Waits until everything recorded so far is in the database; ``False`` on timeout.

    Example::

        pathwise.flush()
    """
    return _native.flush(timeout)


def stats() -> Optional[Dict[str, int]]:
    """The running pipeline's counters, or ``None`` when not recording.

    Example::

        pathwise.stats()["recorded"]
    """
    return _native.stats()


def record_operation(component: str, operation: str, duration: float, success: bool = True) -> None:
    """Records an operation the code timed itself (``duration`` in seconds) as a span of kind
    ``operation`` under the current span.

    Example::

        pathwise.record_operation("geo.client", "http_get", 0.087, True)
    """
    _native.record_operation(component, operation, duration, success, current_span())


def cache_hit(component: str) -> None:
    """Counts a cache hit for ``component``.

    Example::

        pathwise.cache_hit("geo.cache")
    """
    _native.cache_hit(component)


def cache_miss(component: str) -> None:
    """Counts a cache miss for ``component``.

    Example::

        pathwise.cache_miss("geo.cache")
    """
    _native.cache_miss(component)


def summarize(value: Any, max_repr: Optional[int] = None, sensitive_fields: Iterable[str] = ()) -> str:
    """The JSON summary ``@monitor`` stores for ``value`` (bounded, secrets masked).

    Example::

        pathwise.summarize({"user": "ann", "password": "x"})  # '{"user":"ann","password":"***"}'
    """
    return _native.summarize(value, max_repr, [str(f) for f in sensitive_fields])


def sqlite_connect(db: Union[str, "os.PathLike[str]"], readonly: bool = True, **kwargs: Any) -> "sqlite3.Connection":
    """A ``sqlite3`` connection to a Pathwise file that reads its compressed payload columns.

    The file keeps captured input and output, metadata, reasoning and error chains compressed;
    this connection has ``pw_text(column)`` (and so the ``span_details_v`` view) to read them.
    Read-only unless ``readonly=False``; other arguments go to ``sqlite3.connect``.

    Python's ``sqlite3`` is a second copy of SQLite beside the one Pathwise records with, and
    POSIX file locks belong to the process, not the copy: opening and closing such a
    connection on the file *this* process is recording into can reset the file's shared
    memory under the recorder. Read a file that is being recorded from another process (or
    after :func:`shutdown`); the dashboard, ``pathwise sql`` and ``pathwise traces`` are safe.

    Example::

        with pathwise.sqlite_connect("pathwise.db") as conn:
            conn.execute("SELECT input, output FROM span_details_v LIMIT 5").fetchall()
    """
    import sqlite3
    from pathlib import Path

    path = Path(db)
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, **kwargs)
    else:
        conn = sqlite3.connect(str(path), **kwargs)
    conn.create_function("pw_text", 1, _native.PayloadText(str(path)), deterministic=True)
    return conn


# A forked child has no writer thread: it stops recording instead of writing into a pipeline
# that nobody drains (and never waits for the parent's threads at exit).
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_native.after_fork_in_child)
