"""Operations, cache counters, auto-instrumentation and the legacy shim."""

from __future__ import annotations

import sys
import types
import warnings

import pytest

import pathwise


def test_record_operation_under_current_span(recording):
    @pathwise.monitor()
    def handler():
        pathwise.record_operation("geo.client", "http_get", 0.087, True)
        pathwise.record_operation("geo.client", "http_post", 0.5, False)

    handler()
    pathwise.record_operation("geo.client", "standalone", 0.001)
    ops = {s.name: s for s in recording.spans() if s.kind == "operation"}
    assert ops["http_get"].path == "handler → http_get" and ops["http_get"].group == "geo.client"
    assert ops["http_get"].duration_ns == 87_000_000
    assert ops["http_post"].status == "error"
    assert ops["standalone"].path == "standalone"


def test_cache_counters(recording):
    for _ in range(3):
        pathwise.cache_hit("geo.cache")
    pathwise.cache_miss("geo.cache")
    pathwise.shutdown()
    rows = recording.query("SELECT sum(hits), sum(misses) FROM cache_stats WHERE component = 'geo.cache'")
    assert rows == [(3, 1)]


def _module():
    module = types.ModuleType("pnl")
    exec(
        "import os\n"
        "def process_trades(n): return calculate_pnl(n) + 1\n"
        "def calculate_pnl(n): return _helper_fmt(n)\n"
        "def _helper_fmt(n): return n\n"
        "def fetch_prices_helper(): return 0\n"
        "def test_process(): return 0\n"
        "def unrelated(): return 0\n",
        module.__dict__,
    )
    module.__dict__["imported"] = warnings.warn  # not defined here: left alone
    return module


def test_auto_instrument_module(recording):
    pnl = _module()
    sys.modules["pnl"] = pnl
    try:
        done = pathwise.auto_instrument_module(
            pnl, include_regex=r"^(process_|calculate_|fetch_)", exclude=("test_", "_helper"),
            group="trading.pnl",
        )
        assert sorted(done) == ["calculate_pnl", "process_trades"]
        assert pnl.process_trades(2) == 3
    finally:
        del sys.modules["pnl"]
    spans = recording.spans()
    assert sorted(s.path for s in spans) == ["process_trades", "process_trades → calculate_pnl"]
    assert {s.group for s in spans} == {"trading.pnl"}


def test_auto_instrument_class(recording):
    class Geo:
        def get(self, key):
            return self._load(key)

        def _load(self, key):
            return key

        @classmethod
        def create(cls):
            return cls()

        @staticmethod
        def norm(key):
            return key.lower()

        async def aget(self, key):
            return key

    done = pathwise.auto_instrument_class(Geo, exclude=("_load",), group="geo")
    assert sorted(done) == ["aget", "create", "get", "norm"]
    geo = Geo.create()
    assert geo.get(Geo.norm("K")) == "k"
    import inspect
    assert inspect.iscoroutinefunction(Geo.aget)
    assert sorted(s.name for s in recording.spans()) == ["Geo.create", "Geo.get", "Geo.norm"]


def test_trace_time_shim_warns_and_maps_to_legacy_group(recording):
    with pytest.warns(DeprecationWarning):
        @pathwise.TraceTime
        def settle(x):
            return x

    with pytest.warns(DeprecationWarning):
        @pathwise.TraceTime(name="legacy.settle2")
        def settle2():
            return 2

    assert settle(1) == 1 and settle2() == 2
    spans = {s.name: s for s in recording.spans()}
    assert spans["settle"].group == spans["legacy.settle2"].group == "legacy.time"
