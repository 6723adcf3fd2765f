"""Decision traces: trace()/step() as context managers and decorators, with the helpers."""

from __future__ import annotations

import asyncio
import json

import pytest

import pathwise


def test_trace_with_steps_helpers_and_nested_calls(recording):
    @pathwise.monitor()
    def price_filter(item: dict) -> bool:
        return item["price"] < 30

    item = {"price": 25, "title": "mug"}
    with pathwise.trace("competitor-selection", metadata={"user": "u1"}) as t:
        with t.step("apply_filters") as s:
            s.set_input({"candidates": 50})
            assert price_filter(item)
            s.add_evaluation("B0123", item, filters=[{"name": "price", "passed": True, "detail": "< $30"}],
                             qualified=True, reasoning="passed all")
            s.add_llm_metadata(model="gpt-4", tokens_used=876, temperature=0.7)
            s.set_reasoning("12 of 50 passed every filter")
            s.set_output({"kept": 12})
        with t.step("rank") as s:
            s.add_ranked_candidates([("B0123", 0.93, "best price"), {"item_id": "B0456", "score": 0.5}])

    assert recording.paths() == sorted([
        "competitor-selection",
        "competitor-selection → apply_filters",
        "competitor-selection → apply_filters → price_filter",
        "competitor-selection → rank",
    ])
    step = recording.one("apply_filters")
    assert step.kind == "step"
    assert step.input == {"candidates": 50}
    assert step.output == {"kept": 12}
    assert step.reasoning == "12 of 50 passed every filter"
    assert step.metadata["evaluations"] == [{
        "item_id": "B0123", "item_data": item, "qualified": True, "reasoning": "passed all",
        "filters": [{"name": "price", "passed": True, "detail": "< $30"}],
    }]
    assert step.metadata["llm"]["total_tokens"] == 876
    assert step.attrs["gen_ai.request.model"] == "gpt-4"
    assert step.attrs["gen_ai.request.temperature"] == 0.7
    ranking = recording.one("rank").metadata["ranking"]
    assert [(r["rank"], r["item_id"], r["score"]) for r in ranking] == [(1, "B0123", 0.93), (2, "B0456", 0.5)]
    [(trace_id, name, status, span_count, errors, metadata)] = recording.traces()
    assert (name, status, span_count, errors) == ("competitor-selection", "completed", 4, 0)
    assert json.loads(metadata) == {"user": "u1"}


def test_running_trace_is_visible_while_it_runs(recording):
    with pathwise.trace("long-running") as t:
        with t.step("first"):
            pass
        [(_, name, status, *_)] = recording.traces()
        assert (name, status) == ("long-running", "running")
    [(_, _, status, *_)] = recording.traces()
    assert status == "completed"


def test_failing_step_fails_step_and_trace(recording):
    with pytest.raises(ZeroDivisionError):
        with pathwise.trace("doomed") as t:
            with t.step("ok"):
                pass
            with t.step("divide"):
                1 / 0
    assert recording.one("divide").status == "error"
    assert recording.one("divide").error_type == "ZeroDivisionError"
    assert recording.one("ok").status == "ok"
    [(_, _, status, _, errors, _)] = recording.traces()
    assert status == "failed" and errors >= 1


def test_caught_step_failure_still_fails_trace(recording):
    with pathwise.trace("recovering") as t:
        try:
            with t.step("flaky"):
                raise TimeoutError("slow upstream")
        except TimeoutError:
            pass
    assert recording.one("recovering").status == "error"
    assert recording.one("recovering").error_type == "step_failed"
    [(_, _, status, *_)] = recording.traces()
    assert status == "failed"


def test_async_trace_and_decorators(recording):
    @pathwise.trace("pipeline")
    async def pipeline(n: int) -> int:
        return await score(n) + await score(n)

    @pathwise.step("score")
    async def score(n: int) -> int:
        await asyncio.sleep(0)
        return n

    async def main():
        async with pathwise.trace("manual") as t:
            async with t.step("inside"):
                await asyncio.sleep(0)
        return await asyncio.gather(pipeline(1), pipeline(2))

    assert asyncio.run(main()) == [2, 4]
    assert recording.paths() == sorted(
        ["manual", "manual → inside"] + ["pipeline", "pipeline → score", "pipeline → score"] * 2
    )
    traces = recording.traces()
    assert sorted(name for _, name, *_ in traces) == ["manual", "pipeline", "pipeline"]


def test_trace_inside_span_starts_a_trace_of_its_own(recording):
    @pathwise.monitor()
    def handler():
        with pathwise.trace("decision") as t:
            with t.step("only"):
                pass

    handler()
    assert recording.paths() == ["decision", "decision → only", "handler"]
    assert len({s.trace_id for s in recording.spans()}) == 2


def test_current_span_attributes(recording):
    @pathwise.monitor()
    def tagged():
        span = pathwise.current_span()
        span.set_attribute("hits", 3)
        span.set_attribute("ratio", 0.5)
        span.set_attribute("label", "x")
        span.set_attribute("flag", True)
        span.set_attribute("odd", {"password": "p", "n": 1})

    tagged()
    attrs = recording.one("tagged").attrs
    assert attrs["hits"] == 3 and attrs["ratio"] == 0.5 and attrs["label"] == "x"
    assert attrs["flag"] is True
    assert json.loads(attrs["odd"]) == {"password": "***", "n": 1}
    assert pathwise.current_span() is None
