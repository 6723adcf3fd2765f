"""@monitor on every kind of callable, with exact paths, captured values and errors."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import pathwise


@pathwise.monitor(group="search")
def search(query: str, limit: int) -> list:
    return [rank(query) for _ in range(limit)]


@pathwise.monitor()
def rank(query: str) -> int:
    return len(query)


def test_nested_calls_give_exact_paths_and_captures(recording):
    assert search("brca1", 2) == [5, 5]
    spans = recording.spans()
    assert sorted(s.path for s in spans) == ["search", "search → rank", "search → rank"]
    root = recording.one("search")
    assert root.group == "search" and root.kind == "function" and root.status == "ok"
    assert root.input == {"query": "brca1", "limit": 2}
    assert root.output == [5, 5]
    children = [s for s in spans if s.name == "rank"]
    assert {c.parent_id for c in children} == {root.span_id}
    assert {c.trace_id for c in children} == {root.trace_id}


class Boom(ValueError):
    pass


@pathwise.monitor()
def outer_fails():
    try:
        inner_fails()
    except KeyError as e:
        raise Boom("wrapped") from e


@pathwise.monitor()
def inner_fails():
    raise KeyError("missing")


def test_exception_fails_span_and_propagates_unchanged(recording):
    with pytest.raises(Boom) as info:
        outer_fails()
    assert isinstance(info.value.__cause__, KeyError)
    outer = recording.one("outer_fails")
    inner = recording.one("inner_fails")
    assert outer.status == inner.status == "error"
    assert outer.error_type == f"{__name__}.Boom"
    assert outer.error_message == "wrapped"
    assert outer.error_chain == ["KeyError: 'missing'"]
    assert "raise Boom" in outer.attrs["exception.stacktrace"]
    assert inner.error_type == "KeyError" and inner.parent_id == outer.span_id


def test_wraps_semantics_and_kinds_preserved():
    @pathwise.monitor()
    async def coro(a: int, b: str = "x") -> int:
        """Doc of coro."""
        return a

    @pathwise.monitor()
    async def agen():
        yield 1

    @pathwise.monitor()
    def gen():
        yield 1

    assert coro.__name__ == "coro" and coro.__doc__ == "Doc of coro."
    async def same(a: int, b: str = "x") -> int:
        return a

    assert inspect.signature(coro) == inspect.signature(same)
    assert coro.__wrapped__.__name__ == "coro"
    assert inspect.iscoroutinefunction(coro)
    assert inspect.isasyncgenfunction(agen)
    assert inspect.isgeneratorfunction(gen)


def test_async_functions_nest_across_await(recording):
    @pathwise.monitor()
    async def handler(n: int) -> int:
        await asyncio.sleep(0)
        return await fetch(n)

    @pathwise.monitor()
    async def fetch(n: int) -> int:
        await asyncio.sleep(0.001)
        return n + 1

    assert asyncio.run(handler(1)) == 2
    assert recording.paths() == ["handler", "handler → fetch"]
    assert recording.one("handler").output == 2


def test_generator_counts_items_and_ends_when_exhausted(recording):
    @pathwise.monitor()
    def numbers(n: int):
        for i in range(n):
            rank("x" * i)
            yield i
        return "done"

    @pathwise.monitor()
    def consume():
        return sum(numbers(4))

    assert consume() == 6
    assert recording.paths() == ["consume", "consume → numbers"] + ["consume → numbers → rank"] * 4
    gen_span = recording.one("numbers")
    assert gen_span.attrs["generator.items"] == 4
    assert gen_span.attrs["generator.first_item_ns"] >= 0
    assert gen_span.output == "done"


def test_generator_closed_early_and_send_throw(recording):
    @pathwise.monitor()
    def echo():
        received = []
        try:
            while True:
                try:
                    value = yield len(received)
                except KeyError:
                    value = "thrown"
                received.append(value)
        finally:
            pass

    g = echo()
    assert next(g) == 0
    assert g.send("a") == 1
    assert g.throw(KeyError("k")) == 2
    g.close()
    span = recording.one("echo")
    assert span.status == "ok"
    assert span.attrs["generator.closed"] is True
    assert span.attrs["generator.items"] == 3


def test_failing_generator_fails_span(recording):
    @pathwise.monitor()
    def broken():
        yield 1
        raise RuntimeError("second item")

    with pytest.raises(RuntimeError, match="second item"):
        list(broken())
    span = recording.one("broken")
    assert span.status == "error" and span.attrs["generator.items"] == 1


def test_async_generator(recording):
    @pathwise.monitor()
    async def stream(n: int):
        for i in range(n):
            await asyncio.sleep(0)
            yield await fetch_one(i)

    @pathwise.monitor()
    async def fetch_one(i: int) -> int:
        return i * 10

    async def main():
        out = [x async for x in stream(3)]
        early = stream(5)
        first = await early.__anext__()
        await early.aclose()
        return out, first

    assert asyncio.run(main()) == ([0, 10, 20], 0)
    spans = recording.spans()
    streams = [s for s in spans if s.name == "stream"]
    assert sorted(s.attrs["generator.items"] for s in streams) == [1, 3]
    assert sorted(s.path for s in spans if s.name == "fetch_one") == ["stream → fetch_one"] * 4


class Cache:
    def __init__(self):
        self.data = {"k": 1}

    @pathwise.monitor(group="cache")
    def get(self, key: str):
        return self.data.get(key)

    @pathwise.monitor()
    @classmethod
    def build(cls, size: int):
        return cls()

    @pathwise.monitor()
    @staticmethod
    def normalize(key: str) -> str:
        return key.lower()


def test_methods_classmethods_staticmethods(recording):
    cache = Cache.build(3)
    assert cache.get(Cache.normalize("K")) == 1
    assert recording.one("Cache.get").input == {"key": "k"}  # self is never captured
    assert recording.one("Cache.build").input == {"size": 3}
    assert recording.one("Cache.normalize").output == "k"
    assert recording.one("Cache.get").group == "cache"


def test_sampling_keeps_every_failure(recording):
    @pathwise.monitor(sample_rate=0.0)
    def sometimes(fail: bool):
        if fail:
            raise ValueError("kept")
        return rank("abc")

    for i in range(20):
        try:
            sometimes(i % 4 == 0)
        except ValueError:
            pass
    spans = recording.spans()
    failed = [s for s in spans if s.name == "sometimes"]
    assert len(failed) == 5 and all(s.status == "error" for s in failed)
    # Calls that lost the draw are invisible: their children attach to the caller (a root).
    assert sorted(s.path for s in spans if s.name == "rank") == ["rank"] * 15


def test_registered_at_decoration_time_never_executed(recording):
    @pathwise.monitor(name="never.called", group="cold")
    def never_called():
        pass

    rows = recording.query("SELECT group_name, is_async FROM functions WHERE name = 'never.called'")
    assert rows == [("cold", 0)]
    assert not [s for s in recording.spans() if s.name == "never.called"]


def test_masking_and_max_repr_in_arguments(recording):
    @pathwise.monitor(max_repr=5, sensitive_fields=("ssn",), skip=("conn",))
    def login(conn, user: str, password: str, profile: dict):
        return {"token": "abc", "ok": True}

    login(object(), "annabelle", "hunter2", {"ssn": "123", "nested": {"api_key": "k"}})
    span = recording.one("login")
    assert span.input == {
        "user": "annab…(+4 chars)",
        "password": "***",
        "profile": {"ssn": "***", "nested": {"api_key": "***"}},
    }
    assert span.output == {"token": "***", "ok": True}


def test_keyword_and_extra_positional_arguments(recording):
    @pathwise.monitor(skip=("conn",))
    def call(conn, a, *rest, flag=False, **extra):
        return (a, rest, flag, extra)

    assert call(None, 1, 2, 3, flag=True, token="t", note="n") == (1, (2, 3), True, {"token": "t", "note": "n"})
    call("c", a=5)
    first, second = sorted(recording.spans(), key=lambda s: s.input["a"])
    assert first.input == {"a": 1, "rest": [2, 3], "flag": True, "token": "***", "note": "n"}
    assert second.input == {"a": 5}
    assert first.output == [1, [2, 3], True, {"token": "***", "note": "n"}]


def test_caller_span_is_current_again_after_return_raise_and_await(recording):
    @pathwise.monitor()
    def ok():
        return pathwise.current_span().span_id

    @pathwise.monitor()
    def fails():
        raise KeyError("k")

    @pathwise.monitor()
    async def later():
        await asyncio.sleep(0)
        return pathwise.current_span().span_id

    with pathwise.trace("outer"):
        outer = pathwise.current_span().span_id
        inner = ok()
        assert inner != outer and pathwise.current_span().span_id == outer
        with pytest.raises(KeyError):
            fails()
        assert pathwise.current_span().span_id == outer
        assert asyncio.run(later()) != outer
        assert pathwise.current_span().span_id == outer
    assert pathwise.current_span() is None
    spans = recording.spans()
    root = next(s for s in spans if s.name == "outer")
    assert {s.name for s in spans if s.parent_id == root.span_id} == {"ok", "fails", "later"}


def test_deep_recursion_nests_and_overflow_propagates(recording):
    @pathwise.monitor()
    def depth(n):
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(200) == 200
    spans = recording.spans()
    assert len(spans) == 201
    by_id = {s.span_id: s for s in spans}
    deepest = next(s for s in spans if s.input == {"n": 0})
    chain = 0
    while deepest.parent_id in by_id:
        deepest, chain = by_id[deepest.parent_id], chain + 1
    assert chain == 200

    @pathwise.monitor()
    def forever(n):
        return forever(n + 1)

    with pytest.raises(RecursionError):
        forever(0)
    failed = [s for s in recording.spans() if s.name == "forever"]
    assert failed and all(s.status == "error" and s.error_type == "RecursionError" for s in failed)


def test_not_recording_is_transparent():
    @pathwise.monitor()
    def plain(x):
        return x + 1

    assert plain(1) == 2  # no init: the call runs unchanged
