"""OpenAI chat calls as decision-trace steps: :func:`instrument` wraps a client's
``chat.completions.create`` (sync ``OpenAI`` or ``AsyncOpenAI``, streamed or not) so that each
call is a step with the LLM card filled: model, prompt messages, completion, token counts,
temperature and the request's other parameters. A call that fails (an API error, a timeout)
fails its step and propagates unchanged.

The step sits under the current span (an open :func:`pathwise.trace`, a step, a monitored
function); outside any, the call is a trace of its own. Needs the ``openai`` package
(``pip install 'pathwise[openai]'``).

Example::

    import openai, pathwise
    from pathwise.integrations.openai import instrument

    client = instrument(openai.OpenAI())
    with pathwise.trace("answer"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
"""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any, Callable, Dict, List, Optional, TypeVar

from .._context import _CURRENT, _TRACE
from .._xray import Step

__all__ = ["instrument"]

Client = TypeVar("Client")
# Request parameters the card shows besides model, temperature and the messages.
_PARAMS = ("max_tokens", "max_completion_tokens", "top_p", "n", "seed", "stop",
           "frequency_penalty", "presence_penalty", "response_format", "tool_choice")


def instrument(client: Client, step_name: str = "openai.chat") -> Client:
    """Records every ``client.chat.completions.create`` call of this client as a step named
    ``step_name``; returns the client. Instrumenting twice changes nothing. (Clients derived
    with ``with_options`` are new objects: instrument the one you call.)

    Example::

        client = instrument(openai.AsyncOpenAI(), step_name="rerank.llm")
    """
    completions = client.chat.completions  # type: ignore[attr-defined]
    original = completions.create
    if getattr(original, "__pathwise_wrapped__", False):
        return client
    # The client's own decorators hide that the async client's `create` is a coroutine
    # function; the function they wrap says so.
    is_async = inspect.iscoroutinefunction(inspect.unwrap(original))
    wrapper = _async_create(original, step_name) if is_async else _sync_create(original, step_name)
    wrapper.__pathwise_wrapped__ = True  # type: ignore[attr-defined]
    completions.create = wrapper
    return client


class _Call:
    """One chat call's step and what its card needs, filled as the answer arrives."""

    def __init__(self, step_name: str, kwargs: Dict[str, Any]) -> None:
        trace = _TRACE.get()
        self.step = Step(step_name, trace)._begin_detached(_CURRENT.get())
        self.request = kwargs
        self.model: Optional[str] = None
        self.usage: Any = None
        self.parts: List[str] = []
        self.finish_reason: Optional[str] = None
        self.started = time.perf_counter()
        self.first_chunk = False
        self.done = False

    def answered(self, response: Any) -> None:
        self.model = getattr(response, "model", None)
        self.usage = getattr(response, "usage", None)
        choices = getattr(response, "choices", None) or []
        if choices:
            message = getattr(choices[0], "message", None)
            self.parts = [getattr(message, "content", None) or ""]
            self.finish_reason = getattr(choices[0], "finish_reason", None)
            calls = getattr(message, "tool_calls", None)
            if calls and self.step.span is not None:
                self.step.span.set_attribute("gen_ai.response.tool_calls", len(calls))

    def chunk(self, chunk: Any) -> None:
        if not self.first_chunk and self.step.span is not None:
            self.first_chunk = True
            waited = (time.perf_counter() - self.started) * 1000.0
            self.step.span.set_attribute("llm.time_to_first_token_ms", round(waited, 3))
        self.model = getattr(chunk, "model", None) or self.model
        self.usage = getattr(chunk, "usage", None) or self.usage
        for choice in getattr(chunk, "choices", None) or []:
            content = getattr(getattr(choice, "delta", None), "content", None)
            if content:
                self.parts.append(content)
            self.finish_reason = getattr(choice, "finish_reason", None) or self.finish_reason

    def finish(self, error: Optional[BaseException] = None) -> None:
        if self.done:
            return
        self.done = True
        request, usage = self.request, self.usage
        completion = "".join(self.parts) if self.parts else None
        self.step.add_llm_metadata(
            model=str(self.model or request.get("model") or "unknown"),
            tokens_used=getattr(usage, "total_tokens", None),
            temperature=request.get("temperature"),
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
            provider="openai",
            prompt=request.get("messages"),
            completion=completion,
            **{k: request[k] for k in _PARAMS if request.get(k) is not None},
        )
        if self.step.span is not None:
            if completion is not None:
                self.step.span.set_output({"content": completion,
                                           "finish_reason": self.finish_reason})
            if self.finish_reason:
                self.step.span.set_attribute("gen_ai.response.finish_reasons",
                                             self.finish_reason)
        self.step._close(error)


def _sync_create(original: Callable[..., Any], step_name: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def create(*args: Any, **kwargs: Any) -> Any:
        call = _Call(step_name, kwargs)
        try:
            response = original(*args, **kwargs)
        except BaseException as error:
            call.finish(error)
            raise
        if kwargs.get("stream"):
            return _Stream(response, call)
        call.answered(response)
        call.finish()
        return response

    return create


def _async_create(original: Callable[..., Any], step_name: str) -> Callable[..., Any]:
    @functools.wraps(original)
    async def create(*args: Any, **kwargs: Any) -> Any:
        call = _Call(step_name, kwargs)
        try:
            response = await original(*args, **kwargs)
        except BaseException as error:
            call.finish(error)
            raise
        if kwargs.get("stream"):
            return _AsyncStream(response, call)
        call.answered(response)
        call.finish()
        return response

    return create


class _Stream:
    """The client's stream, passed through chunk by chunk; the step ends when the stream is
    exhausted, fails or is closed."""

    def __init__(self, stream: Any, call: _Call) -> None:
        self._stream = stream
        self._call = call

    def __iter__(self) -> "_Stream":
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._stream)
        except StopIteration:
            self._call.finish()
            raise
        except BaseException as error:
            self._call.finish(error)
            raise
        self._call.chunk(chunk)
        return chunk

    def close(self) -> None:
        self._call.finish()
        self._stream.close()

    def __enter__(self) -> "_Stream":
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self._call.finish(exc)
        self._stream.close()

    def __getattr__(self, name: str) -> Any:  # response, etc.
        return getattr(self._stream, name)

    def __del__(self) -> None:  # abandoned half-read: the step ends with what arrived
        self._call.finish()


class _AsyncStream:
    """The async client's stream; see :class:`_Stream`."""

    def __init__(self, stream: Any, call: _Call) -> None:
        self._stream = stream
        self._call = call

    def __aiter__(self) -> "_AsyncStream":
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self._stream.__anext__()
        except StopAsyncIteration:
            self._call.finish()
            raise
        except BaseException as error:
            self._call.finish(error)
            raise
        self._call.chunk(chunk)
        return chunk

    async def close(self) -> None:
        self._call.finish()
        await self._stream.close()

    async def __aenter__(self) -> "_AsyncStream":
        return self

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self._call.finish(exc)
        await self._stream.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __del__(self) -> None:
        self._call.finish()
