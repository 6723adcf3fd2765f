"""Decision traces ("X-Ray"): a trace of ordered steps, each with input, output, reasoning and
metadata. Steps are spans of kind ``step``: timed, counted in paths and alertable like any
other span. The helpers write the metadata shapes the dashboard recognises: ``evaluations``,
``llm`` and ``ranking``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Sequence, Union

from . import _native
from ._context import _CURRENT, _TRACE

FilterLike = Union[Mapping[str, Any], Sequence[Any]]


def _filter(entry: FilterLike) -> Dict[str, Any]:
    if isinstance(entry, Mapping):
        return {
            "name": str(entry.get("name", "")),
            "passed": bool(entry.get("passed", False)),
            "detail": str(entry.get("detail", "")),
        }
    name, passed, *rest = entry
    return {"name": str(name), "passed": bool(passed), "detail": str(rest[0]) if rest else ""}


class _Scope:
    """Shared context-manager and decorator behaviour of traces and steps."""

    _span: Optional[_native.Span] = None

    def _open(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _close(self, exc: Optional[BaseException]) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _fresh(self) -> "_Scope":  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._open()
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        self._close(exc)
        return False  # exceptions propagate unchanged

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        return self.__exit__(exc_type, exc, tb)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """As a decorator: every call of ``fn`` runs in a new trace or step of this name."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def traced_async(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await fn(*args, **kwargs)

            return traced_async

        @functools.wraps(fn)
        def traced(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return traced

    @property
    def trace_id(self) -> Optional[str]:
        """The trace id (32 hex digits) while recording, else ``None``."""
        return self._span.trace_id if self._span is not None else None

    @property
    def span(self) -> Optional[_native.Span]:
        """The underlying span (``None`` before entering or when not recording)."""
        return self._span


class Trace(_Scope):
    """A decision trace; see :func:`trace`."""

    def __init__(self, name: str, metadata: Optional[Mapping[str, Any]] = None) -> None:
        self.name = name
        self._metadata: Dict[str, Any] = dict(metadata or {})
        self._step_failed = False
        self._tokens: list = []

    def _fresh(self) -> "Trace":
        return Trace(self.name, self._metadata)

    def _open(self) -> None:
        self._span = _native.start_span(self.name, "trace")
        if self._span is not None:
            # Visible as running from now on, with its metadata.
            self._span.announce_trace(self._metadata or None)
            self._tokens.append((_CURRENT, _CURRENT.set(self._span)))
        self._tokens.append((_TRACE, _TRACE.set(self)))

    def _begin_detached(self) -> "Trace":
        """Opens this trace without making it the caller's current one: for integrations whose
        start and end callbacks may run in different contexts (``_close`` ends it)."""
        self._span = _native.start_span(self.name, "trace")
        if self._span is not None:
            self._span.announce_trace(self._metadata or None)
        return self

    def _close(self, exc: Optional[BaseException]) -> None:
        while self._tokens:
            var, token = self._tokens.pop()
            var.reset(token)
        span = self._span
        if span is None:
            return
        if exc is not None:
            span.fail(exc)
        elif self._step_failed:
            span.fail_with("step_failed", "a step of this trace failed")
        if self._metadata:
            span.set_metadata(self._metadata)
        span.end()

    def set_metadata(self, key: Union[str, Mapping[str, Any]], value: Any = None) -> None:
        """Adds trace-level metadata: ``set_metadata("user", "u1")`` or ``set_metadata({...})``."""
        if isinstance(key, Mapping):
            self._metadata.update(key)
        else:
            self._metadata[str(key)] = value

    def step(self, name: str) -> "Step":
        """The next step of this trace (a child of the trace's root).

        Example::

            with pathwise.trace("competitor-selection") as t:
                with t.step("apply_filters") as s:
                    s.set_input({"candidates": 50})
        """
        return Step(name, self)


class Step(_Scope):
    """A step of a decision trace; see :meth:`Trace.step`. Fails (and fails its trace) when
    its block raises."""

    def __init__(self, name: str, trace: Optional[Trace] = None) -> None:
        self.name = name
        self._trace = trace
        self._metadata: Dict[str, Any] = {}
        self._token: Any = None

    def _fresh(self) -> "Step":
        return Step(self.name, self._trace if self._trace is not None else _TRACE.get())

    def _open(self) -> None:
        trace = self._trace if self._trace is not None else _TRACE.get()
        self._trace = trace
        parent = trace._span if trace is not None and trace._span is not None else _CURRENT.get()
        self._span = _native.start_span(self.name, "step", parent)
        if self._span is not None:
            self._token = _CURRENT.set(self._span)

    def _begin_detached(self, parent: Optional[_native.Span]) -> "Step":
        """Opens this step under ``parent`` without making it the caller's current span: for
        integrations whose start and end callbacks may run in different contexts."""
        self._span = _native.start_span(self.name, "step", parent)
        return self

    def _close(self, exc: Optional[BaseException]) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None
        span = self._span
        if span is None:
            return
        if exc is not None:
            span.fail(exc)
        if span.failed and self._trace is not None:
            self._trace._step_failed = True
        if self._metadata:
            span.set_metadata(self._metadata)
        span.end()

    def set_input(self, value: Any) -> None:
        """The step's input (summarised, secrets masked)."""
        if self._span is not None:
            self._span.set_input(value)

    def set_output(self, value: Any) -> None:
        """The step's output."""
        if self._span is not None:
            self._span.set_output(value)

    def set_reasoning(self, text: str) -> None:
        """Why the step decided what it did."""
        if self._span is not None:
            self._span.set_reasoning(text)

    def set_metadata(self, key: Union[str, Mapping[str, Any]], value: Any = None) -> None:
        """Free-form metadata: ``set_metadata("k", v)`` or ``set_metadata({"k": v})``."""
        if isinstance(key, Mapping):
            self._metadata.update(key)
        else:
            self._metadata[str(key)] = value

    def add_evaluation(
        self,
        item_id: Any,
        item_data: Any = None,
        filters: Iterable[FilterLike] = (),
        qualified: bool = False,
        reasoning: Optional[str] = None,
    ) -> None:
        """How one item fared against each filter (appended to ``metadata.evaluations``).

        Example::

            s.add_evaluation("B0123", item, filters=[{"name": "price", "passed": True,
                             "detail": "< $30"}], qualified=True, reasoning="passed all")
        """
        self._metadata.setdefault("evaluations", []).append(
            {
                "item_id": str(item_id),
                "item_data": item_data,
                "filters": [_filter(f) for f in filters],
                "qualified": bool(qualified),
                "reasoning": reasoning,
            }
        )

    def add_llm_metadata(
        self,
        model: str,
        tokens_used: Optional[int] = None,
        temperature: Optional[float] = None,
        *,
        input_tokens: Optional[int] = None,
        output_tokens: Optional[int] = None,
        provider: Optional[str] = None,
        prompt: Any = None,
        completion: Any = None,
        **params: Any,
    ) -> None:
        """A model call: ``metadata.llm`` plus OpenTelemetry ``gen_ai.*`` attributes. ``prompt``
        is the text or the chat messages (``[{"role": ..., "content": ...}]``) sent, and
        ``completion`` what came back; both are summarised like any captured value (long text
        cut, secrets masked). Other keyword arguments are the request's parameters.

        Example::

            s.add_llm_metadata(model="gpt-4", tokens_used=876, temperature=0.7,
                               prompt=[{"role": "user", "content": "Pick one"}],
                               completion="B0123", max_tokens=256)
        """
        total = tokens_used
        if total is None and input_tokens is not None and output_tokens is not None:
            total = input_tokens + output_tokens
        self._metadata["llm"] = {
            "model": model,
            "provider": provider,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": total,
            "temperature": temperature,
            "params": params,
        }
        if prompt is not None:
            self._metadata["llm"]["prompt"] = prompt
        if completion is not None:
            self._metadata["llm"]["completion"] = completion
        span = self._span
        if span is None:
            return
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", model)
        for key, value in (
            ("gen_ai.provider.name", provider),
            ("gen_ai.usage.input_tokens", input_tokens),
            ("gen_ai.usage.output_tokens", output_tokens),
            ("gen_ai.request.temperature", temperature),
            ("gen_ai.request.max_tokens", params.get("max_tokens")),
            ("gen_ai.request.top_p", params.get("top_p")),
        ):
            if value is not None:
                span.set_attribute(key, value)

    def add_ranked_candidates(self, ranking: Iterable[Any]) -> None:
        """The final ranking (``metadata.ranking``): dicts with ``item_id``, ``score`` and
        ``reason`` (``rank`` defaults to the position), or ``(item_id, score, reason)`` tuples.

        Example::

            s.add_ranked_candidates([("B0456", 0.93, "best price-to-rating ratio")])
        """
        out = []
        for position, entry in enumerate(ranking, start=1):
            if isinstance(entry, Mapping):
                out.append(
                    {
                        "rank": int(entry.get("rank", position)),
                        "item_id": str(entry.get("item_id", "")),
                        "score": float(entry.get("score", 0.0)),
                        "reason": str(entry.get("reason", "")),
                    }
                )
            else:
                item_id, score, *rest = entry
                out.append(
                    {
                        "rank": position,
                        "item_id": str(item_id),
                        "score": float(score),
                        "reason": str(rest[0]) if rest else "",
                    }
                )
        self._metadata["ranking"] = out


def trace(name: str, metadata: Optional[Mapping[str, Any]] = None) -> Trace:
    """Starts a decision trace (a trace of its own, even inside another span): a sync or async
    context manager, or a decorator. Visible as running while it runs; failed if its block or
    any step raises.

    Example::

        with pathwise.trace("competitor-selection", metadata={"user": "u1"}) as t:
            with t.step("apply_filters") as s:
                s.set_reasoning("12 of 50 passed every filter")
    """
    return Trace(name, metadata)


def step(name: str) -> Step:
    """A step of the decision trace the caller runs in (under the current span if there is
    none): a context manager or a decorator.

    Example::

        @pathwise.step("rank")
        def rank(candidates): ...
    """
    return Step(name)
