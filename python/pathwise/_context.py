"""The current span, kept in a ``contextvars.ContextVar`` so it follows ``await``, asyncio
tasks (each task starts with a copy of its creator's context) and ``asyncio.to_thread``.

Plain threads, ``ThreadPoolExecutor.submit`` and ``loop.run_in_executor`` start with an empty
context; :func:`with_context` carries the caller's context into them.
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable, Optional, TypeVar

from . import _native

_CURRENT: contextvars.ContextVar[Optional[_native.Span]] = contextvars.ContextVar(
    "pathwise_current_span", default=None
)
# Plain monitored functions read and set it from Rust (one crossing per call).
_native.bind_current_span(_CURRENT)
#: The decision trace the current code runs in (for module-level :func:`pathwise.step`).
_TRACE: contextvars.ContextVar[Optional[Any]] = contextvars.ContextVar(
    "pathwise_current_trace", default=None
)

F = TypeVar("F", bound=Callable[..., Any])


def current_span() -> Optional[_native.Span]:
    """The span the calling code runs in, or ``None``.

    Example::

        @pathwise.monitor()
        def rank(hits):
            pathwise.current_span().set_attribute("hits", len(hits))
    """
    return _CURRENT.get()


def with_context(fn: F) -> F:
    """``fn`` bound to the caller's current span, for code Python starts without it: threads,
    ``ThreadPoolExecutor.submit`` and ``loop.run_in_executor``.

    Every call runs in a fresh copy of the captured context, so the wrapper may run in many
    threads at once.

    Example::

        with pathwise.trace("batch") as t, t.step("fan-out"):
            pool.submit(pathwise.with_context(load), 3)  # spans in load() nest under the step
    """
    captured = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_captured_context(*args: Any, **kwargs: Any) -> Any:
        return captured.copy().run(fn, *args, **kwargs)

    return run_in_captured_context  # type: ignore[return-value]
