"""LangChain runs as decision-trace steps: every chain, chat model / LLM, tool and retriever run
becomes a step (nested as LangChain nests them), with its input and output, and model runs
fill the step's LLM card (model, provider, prompt, completion, tokens, temperature).

Inside an open :func:`pathwise.trace` (or any recorded span) the runs nest under the current
span; otherwise each top-level LangChain run is a decision trace of its own, named after the
run (``run_name`` in the config) or ``trace_name``. A run that raises fails its step and the
trace, as a failing step always does.

Needs ``langchain-core`` (``pip install 'pathwise[langchain]'``).

Example::

    import pathwise
    from pathwise.integrations.langchain import PathwiseCallbackHandler

    pathwise.init(db="pathwise.db")
    handler = PathwiseCallbackHandler()
    chain = prompt | model | parser
    chain.invoke({"question": "Which mug?"}, config={"callbacks": [handler]})
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from .._context import _CURRENT, _TRACE
from .._xray import Step, Trace

__all__ = ["PathwiseCallbackHandler"]

# LangChain's message types, as the roles chat APIs (and the dashboard's card) use.
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
# Invocation parameters that are the request's knobs rather than its identity.
_PARAMS = ("max_tokens", "max_completion_tokens", "top_p", "top_k", "stop", "seed",
           "frequency_penalty", "presence_penalty", "n")


@dataclass
class _Run:
    scope: Union[Trace, Step]  # where this run's input, output and failure go
    trace: Optional[Trace]  # the decision trace it counts in (a failed step fails it)
    owned: Optional[Trace]  # a trace this run opened, closed when the run ends
    llm: Dict[str, Any] = field(default_factory=dict)  # the card, filled at start and end
    started: float = field(default_factory=time.perf_counter)
    streamed: bool = False  # a first token has arrived


def _message(message: Any) -> Dict[str, Any]:
    role = getattr(message, "type", None)
    return {"role": _ROLES.get(role, role), "content": getattr(message, "content", message)}


def _run_name(serialized: Optional[Mapping[str, Any]], kwargs: Mapping[str, Any],
              fallback: str) -> str:
    if kwargs.get("name"):
        return str(kwargs["name"])
    serialized = serialized or {}
    if serialized.get("name"):
        return str(serialized["name"])
    ids = serialized.get("id")
    if isinstance(ids, Sequence) and ids and not isinstance(ids, str):
        return str(ids[-1])
    return fallback


def _model_facts(serialized: Optional[Mapping[str, Any]], kwargs: Mapping[str, Any],
                 metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    params = kwargs.get("invocation_params") or {}
    metadata = metadata or {}
    model = (params.get("model") or params.get("model_name") or metadata.get("ls_model_name")
             or params.get("_type") or _run_name(serialized, kwargs, "llm"))
    temperature = params.get("temperature", metadata.get("ls_temperature"))
    facts: Dict[str, Any] = {
        "model": str(model),
        "provider": metadata.get("ls_provider"),
        "temperature": temperature if isinstance(temperature, (int, float)) else None,
    }
    facts.update({k: params[k] for k in _PARAMS if params.get(k) is not None})
    return facts


def _usage(response: Any) -> Dict[str, Optional[int]]:
    """Token counts from the first generation's ``usage_metadata`` (chat models), else from
    the provider's ``llm_output.token_usage``."""
    for generations in getattr(response, "generations", None) or []:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                return {"input_tokens": usage.get("input_tokens"),
                        "output_tokens": usage.get("output_tokens"),
                        "tokens_used": usage.get("total_tokens")}
    usage = (getattr(response, "llm_output", None) or {}).get("token_usage") or {}
    return {"input_tokens": usage.get("prompt_tokens"),
            "output_tokens": usage.get("completion_tokens"),
            "tokens_used": usage.get("total_tokens")}


def _completion(response: Any) -> Any:
    texts = [g.text for gs in getattr(response, "generations", None) or [] for g in gs]
    return texts[0] if len(texts) == 1 else texts


def _document(document: Any) -> Dict[str, Any]:
    return {"page_content": getattr(document, "page_content", document),
            "metadata": getattr(document, "metadata", None)}


class PathwiseCallbackHandler(BaseCallbackHandler):
    """Records LangChain runs as Pathwise decision-trace steps; pass it in ``callbacks``.

    ``trace_name`` names the traces this handler opens for top-level runs (default: the run's
    name); ``metadata`` is put on each of them. One handler may serve many concurrent runs.

    Example::

        handler = PathwiseCallbackHandler(trace_name="qa", metadata={"team": "search"})
        await chain.ainvoke(inputs, config={"callbacks": [handler]})
    """

    # Called in the caller's context (not on an executor thread), so an open pathwise trace
    # is seen; the callbacks only record and never block.
    run_inline = True

    def __init__(self, trace_name: Optional[str] = None,
                 metadata: Optional[Mapping[str, Any]] = None) -> None:
        self.trace_name = trace_name
        self.metadata = dict(metadata or {})
        self._runs: Dict[UUID, _Run] = {}
        self._lock = threading.Lock()

    # --- bookkeeping ---------------------------------------------------------------------

    def _start(self, run_id: UUID, parent_run_id: Optional[UUID], name: str, run_type: str,
               value: Any) -> _Run:
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is not None:
            run = _Run(Step(name, parent.trace)._begin_detached(parent.scope.span),
                       parent.trace, None)
        elif _CURRENT.get() is not None:  # inside something pathwise records
            trace = _TRACE.get()
            run = _Run(Step(name, trace)._begin_detached(_CURRENT.get()), trace, None)
        else:
            trace = Trace(self.trace_name or name, self.metadata)._begin_detached()
            # A top-level chain is the trace itself; a model, tool or retriever called on
            # its own is a step of it, so that its card has a step to sit on.
            scope = trace if run_type == "chain" else Step(name, trace)._begin_detached(trace.span)
            run = _Run(scope, trace, trace)
        span = run.scope.span
        if span is not None:
            span.set_attribute("langchain.run_type", run_type)
            span.set_attribute("langchain.run_id", str(run_id))
            if value is not None:
                span.set_input(value)
        with self._lock:
            self._runs[run_id] = run
        return run

    def _end(self, run_id: UUID, output: Any = None,
             error: Optional[BaseException] = None) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None:  # started before this handler was attached, or ended twice
            return
        scope = run.scope
        if isinstance(scope, Step) and run.llm:
            scope.add_llm_metadata(**run.llm)
        if output is not None and scope.span is not None:
            scope.span.set_output(output)
        scope._close(error)
        if run.owned is not None and run.owned is not scope:
            run.owned._close(error)

    # --- chains ----------------------------------------------------------------------------

    def on_chain_start(self, serialized: Dict[str, Any], inputs: Any, *, run_id: UUID,
                       parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, _run_name(serialized, kwargs, "chain"), "chain",
                    inputs)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    # --- models ----------------------------------------------------------------------------

    def on_chat_model_start(self, serialized: Dict[str, Any], messages: List[List[Any]], *,
                            run_id: UUID, parent_run_id: Optional[UUID] = None,
                            metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        prompts = [[_message(m) for m in batch] for batch in messages]
        self._start_model(serialized, prompts, run_id, parent_run_id, metadata, kwargs)

    def on_llm_start(self, serialized: Dict[str, Any], prompts: List[str], *, run_id: UUID,
                     parent_run_id: Optional[UUID] = None,
                     metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._start_model(serialized, list(prompts), run_id, parent_run_id, metadata, kwargs)

    def _start_model(self, serialized: Dict[str, Any], prompts: List[Any], run_id: UUID,
                     parent_run_id: Optional[UUID], metadata: Optional[Dict[str, Any]],
                     kwargs: Dict[str, Any]) -> None:
        prompt = prompts[0] if len(prompts) == 1 else prompts
        run = self._start(run_id, parent_run_id, _run_name(serialized, kwargs, "llm"), "llm",
                          None)
        run.llm = dict(_model_facts(serialized, kwargs, metadata), prompt=prompt)

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            run = self._runs.get(run_id)
        if run is not None and not run.streamed and run.scope.span is not None:
            run.streamed = True
            waited = (time.perf_counter() - run.started) * 1000.0
            run.scope.span.set_attribute("llm.time_to_first_token_ms", round(waited, 3))

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            run = self._runs.get(run_id)
        if run is not None:
            model = (getattr(response, "llm_output", None) or {}).get("model_name")
            if model:
                run.llm["model"] = str(model)
            run.llm.update({k: v for k, v in _usage(response).items() if v is not None})
            run.llm["completion"] = _completion(response)
        self._end(run_id, run.llm.get("completion") if run is not None else None)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    # --- tools and retrievers --------------------------------------------------------------

    def on_tool_start(self, serialized: Dict[str, Any], input_str: str, *, run_id: UUID,
                      parent_run_id: Optional[UUID] = None,
                      inputs: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, _run_name(serialized, kwargs, "tool"), "tool",
                    inputs if inputs is not None else input_str)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, getattr(output, "content", output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def on_retriever_start(self, serialized: Dict[str, Any], query: str, *, run_id: UUID,
                           parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, _run_name(serialized, kwargs, "retriever"),
                    "retriever", {"query": query})

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID,
                         **kwargs: Any) -> None:
        with self._lock:
            run = self._runs.get(run_id)
        if run is not None and run.scope.span is not None:
            run.scope.span.set_attribute("retriever.documents", len(documents))
        self._end(run_id, [_document(d) for d in documents])

    def on_retriever_error(self, error: BaseException, *, run_id: UUID,
                           **kwargs: Any) -> None:
        self._end(run_id, error=error)
