"""Nesting across await, asyncio.gather, create_task, TaskGroup, threads and executors."""

from __future__ import annotations

import asyncio
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import pathwise


@pathwise.monitor()
async def request(user: str, n: int) -> str:
    await asyncio.gather(*(lookup(user, i) for i in range(n)))
    return user


@pathwise.monitor()
async def lookup(user: str, i: int) -> int:
    await asyncio.sleep(0.001 * (3 - i % 3))  # interleave on purpose
    return await leaf(user)


@pathwise.monitor()
async def leaf(user: str) -> int:
    await asyncio.sleep(0)
    return len(user)


@pathwise.monitor()
def work(i: int) -> int:
    return i * 2


def _by_trace(spans):
    traces = {}
    for s in spans:
        traces.setdefault(s.trace_id, []).append(s)
    return traces


def test_gather_nests_every_child(recording):
    asyncio.run(request("ann", 3))
    assert recording.paths() == sorted(
        ["request"] + ["request → lookup"] * 3 + ["request → lookup → leaf"] * 3
    )


def test_two_concurrent_requests_on_one_loop_never_mix(recording):
    async def main():
        await asyncio.gather(request("ann", 4), request("bob", 2))

    asyncio.run(main())
    spans = recording.spans()
    traces = _by_trace(spans)
    assert len(traces) == 2
    by_id = {s.span_id: s for s in spans}
    for members in traces.values():
        root = next(s for s in members if s.name == "request")
        user = root.input["user"]
        expected = {"ann": 4, "bob": 2}[user]
        assert sum(1 for s in members if s.name == "lookup") == expected
        for s in members:
            if s.name != "request":
                assert s.input["user"] == user  # every descendant belongs to this request
                assert by_id[s.parent_id].trace_id == root.trace_id


def test_create_task_inherits_the_creating_span(recording):
    @pathwise.monitor()
    async def spawner():
        tasks = [asyncio.create_task(leaf("x" * i)) for i in range(3)]
        return sum(await asyncio.gather(*tasks))

    assert asyncio.run(spawner()) == 3
    assert recording.paths() == ["spawner"] + ["spawner → leaf"] * 3


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TaskGroup is new in 3.11")
def test_task_group(recording):
    @pathwise.monitor()
    async def grouped():
        async with asyncio.TaskGroup() as tg:
            for i in range(2):
                tg.create_task(lookup("tg", i))

    asyncio.run(grouped())
    assert recording.paths() == sorted(
        ["grouped"] + ["grouped → lookup"] * 2 + ["grouped → lookup → leaf"] * 2
    )


def test_threads_and_executors_with_context(recording):
    @pathwise.monitor()
    def fan_out():
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(pathwise.with_context(work), range(4)))
        t = threading.Thread(target=pathwise.with_context(work), args=(9,))
        t.start()
        t.join()
        return results

    assert fan_out() == [0, 2, 4, 6]
    assert recording.paths() == ["fan_out"] + ["fan_out → work"] * 5


def test_thread_without_helper_starts_its_own_trace(recording):
    @pathwise.monitor()
    def parent():
        t = threading.Thread(target=work, args=(1,))
        t.start()
        t.join()

    parent()
    # Python gives a new thread an empty context: the work is a trace of its own.
    assert recording.paths() == ["parent", "work"]


def test_run_in_executor_and_to_thread(recording):
    @pathwise.monitor()
    async def handler():
        loop = asyncio.get_running_loop()
        a = await loop.run_in_executor(None, pathwise.with_context(work), 1)
        b = await asyncio.to_thread(work, 2)  # to_thread copies the context itself
        return a + b

    assert asyncio.run(handler()) == 6
    assert recording.paths() == ["handler", "handler → work", "handler → work"]


def test_many_threads_concurrently(recording):
    def request_in_thread(i):
        @pathwise.monitor(name="thread.root")
        def root():
            for j in range(10):
                work(j)

        root()

    threads = [threading.Thread(target=request_in_thread, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans = recording.spans()
    assert len(spans) == 8 * 11
    for members in _by_trace(spans).values():
        assert sorted(s.path for s in members) == ["thread.root"] + ["thread.root → work"] * 10
