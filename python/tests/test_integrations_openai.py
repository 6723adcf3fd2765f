"""The OpenAI wrapper with the real `openai` client, talking HTTP to a stub of the chat
completions endpoint on loopback (plain JSON, server-sent events, and a 500)."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest

import pathwise

openai = pytest.importorskip("openai")

from pathwise.integrations.openai import instrument  # noqa: E402

MODEL = "stub-gpt-2026-01-01"  # what the server says it ran, not what was asked for


def completion(body: Dict[str, Any]) -> Dict[str, Any]:
    asked = body["messages"][-1]["content"]
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": f"answer to {asked}"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def chunks(body: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    for part in ("str", "eam", "ed"):
        yield dict(base, choices=[{"index": 0, "delta": {"content": part},
                                   "finish_reason": None}])
    yield dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])
    yield dict(base, choices=[], usage={"prompt_tokens": 9, "completion_tokens": 3,
                                        "total_tokens": 12})


class Stub(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["messages"][-1]["content"] == "fail":
            self.reply(500, {"error": {"message": "stub failure", "type": "server_error"}})
        elif body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for chunk in chunks(body):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
        else:
            self.reply(200, completion(body))

    def reply(self, status: int, payload: Dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def stub_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def ask(text: str) -> List[Dict[str, str]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


def test_a_chat_call_is_a_step_with_the_llm_card(recording, stub_url):
    client = instrument(openai.OpenAI(base_url=stub_url, api_key="sk-test", max_retries=0))
    with pathwise.trace("answer"):
        response = client.chat.completions.create(
            model="gpt-4o-mini", messages=ask("mugs"), temperature=0.2, max_tokens=64)
    assert response.choices[0].message.content == "answer to mugs"  # unchanged for the caller

    step = recording.one("openai.chat")
    assert (step.path, step.kind, step.status) == ("answer → openai.chat", "step", "ok")
    llm = step.metadata["llm"]
    assert llm["model"] == MODEL
    assert llm["provider"] == "openai"
    assert (llm["input_tokens"], llm["output_tokens"], llm["total_tokens"]) == (12, 5, 17)
    assert llm["temperature"] == 0.2
    assert llm["params"] == {"max_tokens": 64}
    assert llm["prompt"] == ask("mugs")
    assert llm["completion"] == "answer to mugs"
    assert step.output == {"content": "answer to mugs", "finish_reason": "stop"}
    assert step.attrs["gen_ai.request.model"] == MODEL
    assert step.attrs["gen_ai.usage.input_tokens"] == 12


def test_a_streamed_call_ends_when_the_stream_is_read(recording, stub_url):
    client = instrument(openai.OpenAI(base_url=stub_url, api_key="sk-test", max_retries=0))
    with pathwise.trace("stream"):
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=ask("s"), stream=True,
            stream_options={"include_usage": True})
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "streamed"
    step = recording.one("openai.chat")
    llm = step.metadata["llm"]
    assert llm["completion"] == "streamed"
    assert (llm["input_tokens"], llm["output_tokens"], llm["total_tokens"]) == (9, 3, 12)
    assert step.attrs["llm.time_to_first_token_ms"] >= 0
    assert step.output["finish_reason"] == "stop"


def test_an_api_error_fails_the_step_and_the_trace_and_propagates(recording, stub_url):
    client = instrument(openai.OpenAI(base_url=stub_url, api_key="sk-test", max_retries=0))
    with pytest.raises(openai.InternalServerError):
        with pathwise.trace("broken"):
            client.chat.completions.create(model="gpt-4o-mini", messages=ask("fail"))
    step = recording.one("openai.chat")
    assert (step.status, step.error_type) == ("error", "openai.InternalServerError")
    assert step.metadata["llm"]["prompt"] == ask("fail")
    assert "completion" not in step.metadata["llm"]
    [(_, _, status, _, errors, _)] = recording.traces()
    assert status == "failed" and errors >= 1


def test_async_calls_in_concurrent_traces_never_mix(recording, stub_url):
    client = instrument(openai.AsyncOpenAI(base_url=stub_url, api_key="sk-test",
                                           max_retries=0))

    async def request(topic: str) -> str:
        with pathwise.trace(f"request-{topic}"):
            await asyncio.sleep(0.01)
            answer = await client.chat.completions.create(model="m", messages=ask(topic))
            stream = await client.chat.completions.create(model="m", messages=ask(topic),
                                                          stream=True)
            parts = [c.choices[0].delta.content async for c in stream if c.choices]
            return answer.choices[0].message.content + "/" + "".join(p or "" for p in parts)

    async def both() -> List[str]:
        return await asyncio.gather(request("a"), request("b"))

    assert asyncio.run(both()) == ["answer to a/streamed", "answer to b/streamed"]
    for topic in ("a", "b"):
        steps = [s for s in recording.spans() if s.path == f"request-{topic} → openai.chat"]
        assert len(steps) == 2
        assert all(s.metadata["llm"]["prompt"] == ask(topic) for s in steps)
        assert sorted(s.metadata["llm"]["completion"] for s in steps) == [
            f"answer to {topic}", "streamed"]


def test_instrumenting_twice_records_each_call_once(recording, stub_url):
    client = openai.OpenAI(base_url=stub_url, api_key="sk-test", max_retries=0)
    assert instrument(instrument(client)) is client
    client.chat.completions.create(model="m", messages=ask("once"))
    # Outside any trace the call is a trace of its own.
    assert recording.paths() == ["openai.chat"]
