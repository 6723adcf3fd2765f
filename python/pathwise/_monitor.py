"""``@pathwise.monitor``: timing, captured arguments and results, errors, sampling — for plain
functions, ``async def``, generators, async generators, methods, ``classmethod`` and
``staticmethod``.

The wrapper keeps the monitored function's identity (``functools.wraps``: name, docstring,
signature, ``__wrapped__``), and its kind: a coroutine function stays one, so do generator and
async generator functions. Exceptions mark the span failed and propagate unchanged; capture
never raises and never touches the value beyond reading it.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
import warnings
from typing import Any, Callable, Iterable, Optional

from . import _native
from ._context import _CURRENT

_get = _CURRENT.get
_set = _CURRENT.set
_reset = _CURRENT.reset


def monitor(
    fn: Optional[Callable[..., Any]] = None,
    *,
    name: Optional[str] = None,
    group: Optional[str] = None,
    sample_rate: float = 1.0,
    capture_args: bool = True,
    capture_result: bool = True,
    max_repr: Optional[int] = None,
    sensitive_fields: Iterable[str] = (),
    skip: Iterable[str] = (),
    process_group: Optional[str] = None,
) -> Any:
    """Records every call of the decorated function as a span.

    ``name`` defaults to the function's qualified name (``GEOCache.get``; for a function
    defined inside another, its name from its own scope); ``group`` is its
    component (``process_group`` is accepted as an alias). ``sample_rate`` is the share of
    calls recorded — failed calls are always recorded. ``max_repr`` caps captured strings,
    ``sensitive_fields`` adds names to mask (``password``, ``token``, ``api_key``, ... always
    are) and ``skip`` names parameters never captured.

    Example::

        @pathwise.monitor(group="search.cache", sample_rate=0.1, max_repr=200,
                          sensitive_fields=("token",))
        async def geo_get(conn, dataset_id: str) -> dict | None: ...
    """
    options = dict(
        name=name,
        group=group if group is not None else process_group,
        sample_rate=sample_rate,
        capture_args=capture_args,
        capture_result=capture_result,
        max_repr=max_repr,
        sensitive_fields=tuple(sensitive_fields),
        skip=tuple(skip),
    )
    if fn is not None:
        return _decorate(fn, **options)
    return lambda f: _decorate(f, **options)


def _decorate(fn: Any, **options: Any) -> Any:
    if isinstance(fn, classmethod):
        return classmethod(_decorate(fn.__func__, **options))
    if isinstance(fn, staticmethod):
        return staticmethod(_decorate(fn.__func__, **options))
    if getattr(fn, "__pathwise_monitored__", False):
        return fn  # already monitored: never record one call twice
    spec = _spec_for(fn, **options)
    if inspect.isasyncgenfunction(fn):
        wrapper = _async_generator_wrapper(fn, spec)
    elif inspect.iscoroutinefunction(fn):
        wrapper = _coroutine_wrapper(fn, spec)
    elif inspect.isgeneratorfunction(fn):
        wrapper = _generator_wrapper(fn, spec)
    else:
        wrapper = _function_wrapper(fn, spec)
    wrapper.__pathwise_monitored__ = True  # type: ignore[attr-defined]
    wrapper.__pathwise_spec__ = spec  # type: ignore[attr-defined]
    return wrapper


def _spec_for(
    fn: Callable[..., Any],
    name: Optional[str],
    group: Optional[str],
    sample_rate: float,
    capture_args: bool,
    capture_result: bool,
    max_repr: Optional[int],
    sensitive_fields: tuple,
    skip: tuple,
) -> _native.FunctionSpec:
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "function")
    # A function defined inside another is named from its own scope ("handler", "Cache.get"),
    # as the dashboard shows it, not through the function that happened to define it.
    span_name = name or qualname.rsplit(".<locals>.", 1)[-1]
    params: list = []
    var_args = None
    try:
        for p in inspect.signature(fn).parameters.values():
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                params.append(p.name)
            elif p.kind is p.VAR_POSITIONAL:
                var_args = p.name
    except (TypeError, ValueError):
        pass  # builtins without a signature: positional arguments are captured as "args"
    skipped = list(skip)
    if params and params[0] in ("self", "cls"):
        skipped.append(params[0])  # the receiver says nothing about this call
    spec = _native.FunctionSpec(
        span_name,
        group,
        float(sample_rate),
        bool(capture_args),
        bool(capture_result),
        max_repr,
        [str(f) for f in sensitive_fields],
        params,
        var_args,
        skipped,
    )
    _register(fn, span_name, group)
    return spec


def _register(fn: Callable[..., Any], span_name: str, group: Optional[str]) -> None:
    """Stores the function in the database's registry so "never executed" is exact."""
    code = getattr(fn, "__code__", None)
    try:
        _native.register_function(
            span_name,
            group,
            getattr(fn, "__module__", None) or "",
            code.co_filename if code else "",
            code.co_firstlineno if code else 0,
            inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn),
        )
    except Exception as exc:  # registration must never break an import
        warnings.warn(f"pathwise: cannot register {span_name}: {exc}", RuntimeWarning, 2)


def _function_wrapper(fn: Callable[..., Any], spec: _native.FunctionSpec) -> Callable[..., Any]:
    # Start, context switch, call, end and capture all happen in `spec.call` (Rust): each
    # step done from here would be one more crossing, costing as much as the step itself.
    call = spec.call

    @functools.wraps(fn)
    def monitored(*args: Any, **kwargs: Any) -> Any:
        return call(fn, args, kwargs)

    return monitored


def _coroutine_wrapper(fn: Callable[..., Any], spec: _native.FunctionSpec) -> Callable[..., Any]:
    # `enter` starts the span and makes it current; `end`/`end_failed` restore the caller's.
    enter, end, end_failed = spec.enter, spec.end, spec.end_failed

    @functools.wraps(fn)
    async def monitored(*args: Any, **kwargs: Any) -> Any:
        span = enter(args, kwargs)
        if span is None:
            return await fn(*args, **kwargs)
        try:
            result = await fn(*args, **kwargs)
        except asyncio.CancelledError:
            # Cancellation is the caller's decision, not a failure of this call.
            span.set_attribute("cancelled", True)
            end(span, None)
            raise
        except BaseException as exc:
            end_failed(span, exc)
            raise
        end(span, result)
        return result

    return monitored


def _iteration_attributes(span: _native.Span, began: int, first: Optional[int], items: int) -> None:
    span.set_attribute("generator.items", items)
    if first is not None:
        span.set_attribute("generator.first_item_ns", first - began)


def _generator_wrapper(fn: Callable[..., Any], spec: _native.FunctionSpec) -> Callable[..., Any]:
    start, end, end_failed = spec.start, spec.end, spec.end_failed

    @functools.wraps(fn)
    def monitored(*args: Any, **kwargs: Any) -> Any:
        span = start(_get(), args, kwargs or None)
        if span is None:
            return (yield from fn(*args, **kwargs))
        began = time.perf_counter_ns()
        first: Optional[int] = None
        items = 0
        gen = fn(*args, **kwargs)  # creating a generator runs none of its code
        sent: Any = None
        pending: Optional[BaseException] = None
        try:
            while True:
                # The body runs with the span current; between items the caller's context is.
                token = _set(span)
                try:
                    if pending is None:
                        item = gen.send(sent)
                    else:
                        item, pending = gen.throw(pending), None
                except StopIteration as stop:
                    result = stop.value
                    break
                finally:
                    _reset(token)
                items += 1
                if first is None:
                    first = time.perf_counter_ns()
                try:
                    sent = yield item
                except GeneratorExit:
                    token = _set(span)
                    try:
                        gen.close()
                    finally:
                        _reset(token)
                    raise
                except BaseException as exc:
                    pending, sent = exc, None
        except GeneratorExit:
            span.set_attribute("generator.closed", True)
            _iteration_attributes(span, began, first, items)
            end(span, None)
            raise
        except BaseException as exc:
            _iteration_attributes(span, began, first, items)
            end_failed(span, exc)
            raise
        _iteration_attributes(span, began, first, items)
        end(span, result)
        return result

    return monitored


def _async_generator_wrapper(
    fn: Callable[..., Any], spec: _native.FunctionSpec
) -> Callable[..., Any]:
    start, end, end_failed = spec.start, spec.end, spec.end_failed

    @functools.wraps(fn)
    async def monitored(*args: Any, **kwargs: Any) -> Any:
        span = start(_get(), args, kwargs or None)
        began = time.perf_counter_ns()
        first: Optional[int] = None
        items = 0
        agen = fn(*args, **kwargs)
        sent: Any = None
        pending: Optional[BaseException] = None
        try:
            while True:
                token = _set(span) if span is not None else None
                try:
                    if pending is None:
                        item = await agen.asend(sent)
                    else:
                        item, pending = await agen.athrow(pending), None
                except StopAsyncIteration:
                    break
                finally:
                    if token is not None:
                        _reset(token)
                items += 1
                if first is None:
                    first = time.perf_counter_ns()
                try:
                    sent = yield item
                except GeneratorExit:
                    await agen.aclose()
                    raise
                except BaseException as exc:
                    pending, sent = exc, None
        except GeneratorExit:
            if span is not None:
                span.set_attribute("generator.closed", True)
                _iteration_attributes(span, began, first, items)
                end(span, None)
            raise
        except BaseException as exc:
            if span is not None:
                _iteration_attributes(span, began, first, items)
                end_failed(span, exc)
            raise
        if span is not None:
            _iteration_attributes(span, began, first, items)
            end(span, None)

    return monitored
