"""Instrumenting whole modules and classes, and the shims for decorators being migrated."""

from __future__ import annotations

import functools
import inspect
import re
import types
import warnings
from typing import Any, Iterable, Optional

from ._monitor import monitor


def _selected(name: str, include: Optional["re.Pattern[str]"], exclude: Iterable[str]) -> bool:
    if include is not None and not include.search(name):
        return False
    return not any(part in name for part in exclude)


def auto_instrument_module(
    module: types.ModuleType,
    include_regex: Optional[str] = None,
    exclude: Iterable[str] = (),
    group: Optional[str] = None,
    **monitor_options: Any,
) -> list:
    """Monitors the functions defined in ``module`` whose names match ``include_regex`` and
    contain none of the ``exclude`` substrings; returns their names. Functions imported from
    elsewhere are left alone.

    Example::

        pathwise.auto_instrument_module(pnl, include_regex=r"^(process_|calculate_|fetch_)",
                                        exclude=("test_", "_helper"), group="trading.pnl")
    """
    include = re.compile(include_regex) if include_regex else None
    exclude = tuple(exclude)
    done = []
    for name, value in list(vars(module).items()):
        if not inspect.isfunction(value) or value.__module__ != module.__name__:
            continue
        if _selected(name, include, exclude):
            setattr(module, name, monitor(group=group, **monitor_options)(value))
            done.append(name)
    return done


def auto_instrument_class(
    cls: type,
    include_regex: Optional[str] = None,
    exclude: Iterable[str] = (),
    group: Optional[str] = None,
    **monitor_options: Any,
) -> list:
    """Monitors the methods (plain, ``classmethod``, ``staticmethod``, async, generators)
    defined on ``cls`` itself whose names match ``include_regex`` and contain none of the
    ``exclude`` substrings; dunder methods are skipped. Returns their names.

    Example::

        pathwise.auto_instrument_class(GEOCache, include_regex=r"^(get|put)$", group="search.cache")
    """
    include = re.compile(include_regex) if include_regex else None
    exclude = tuple(exclude)
    done = []
    for name, value in list(vars(cls).items()):
        if name.startswith("__") and name.endswith("__"):
            continue
        func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if not inspect.isfunction(func):
            continue
        if _selected(name, include, exclude):
            setattr(cls, name, monitor(group=group, **monitor_options)(value))
            done.append(name)
    return done


def TraceTime(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the legacy name
    """Deprecated: the legacy timing decorator, now ``monitor(group="legacy.time")``.

    Works bare (``@TraceTime``) and with options (``@TraceTime(sample_rate=0.5)``); issues a
    ``DeprecationWarning`` at decoration time.

    Example::

        @TraceTime
        def settle(): ...   # recorded as a span in component "legacy.time"
    """
    warnings.warn(
        "TraceTime is deprecated; use @pathwise.monitor(group=...)",
        DeprecationWarning,
        stacklevel=2,
    )
    kwargs.setdefault("group", "legacy.time")
    if len(args) == 1 and callable(args[0]) and not kwargs.keys() - {"group"}:
        return monitor(**kwargs)(args[0])
    return functools.partial(_legacy, **kwargs)


def _legacy(fn: Any, **kwargs: Any) -> Any:
    return monitor(**kwargs)(fn)
