"""The LangChain callback handler against real langchain-core runnables, offline: its fake chat
model (answers fixed in advance, token usage included), a real `@tool` and a real retriever."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest

import pathwise

langchain_core = pytest.importorskip("langchain_core")

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

from pathwise.integrations.langchain import PathwiseCallbackHandler  # noqa: E402


class FakeGPT(GenericFakeChatModel):
    """The fake chat model, reporting a model name and temperature as a provider's does."""

    @property
    def _identifying_params(self) -> Dict[str, Any]:
        return {"model": "fake-gpt-1", "temperature": 0.3, "max_tokens": 64}


def answers(*texts: str) -> FakeGPT:
    return FakeGPT(messages=iter([
        AIMessage(content=t, usage_metadata={"input_tokens": 20 + i, "output_tokens": 5,
                                             "total_tokens": 25 + i})
        for i, t in enumerate(texts)
    ]))


PROMPT = ChatPromptTemplate.from_messages([
    ("system", "You pick products."),
    ("user", "Which {thing}?"),
])


class Shelf(BaseRetriever):
    """A retriever over three fixed documents."""

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> List[Document]:
        return [Document(page_content=f"{query} #{i}", metadata={"rank": i}) for i in range(3)]


def test_a_chain_inside_a_trace_becomes_steps_with_the_llm_card(recording):
    handler = PathwiseCallbackHandler()
    chain = PROMPT | answers("The blue mug.") | StrOutputParser()
    with pathwise.trace("pick"):
        assert chain.invoke({"thing": "mug"}, config={"callbacks": [handler]}) == "The blue mug."

    paths = recording.paths()
    assert paths == sorted([
        "pick",
        "pick → RunnableSequence",
        "pick → RunnableSequence → ChatPromptTemplate",
        "pick → RunnableSequence → FakeGPT",
        "pick → RunnableSequence → StrOutputParser",
    ])
    model = recording.one("FakeGPT")
    assert model.kind == "step" and model.status == "ok"
    llm = model.metadata["llm"]
    assert llm["model"] == "fake-gpt-1"
    assert llm["temperature"] == 0.3
    assert llm["params"] == {"max_tokens": 64}
    assert (llm["input_tokens"], llm["output_tokens"], llm["total_tokens"]) == (20, 5, 25)
    assert llm["prompt"] == [
        {"role": "system", "content": "You pick products."},
        {"role": "user", "content": "Which mug?"},
    ]
    assert llm["completion"] == "The blue mug."
    assert model.attrs["gen_ai.request.model"] == "fake-gpt-1"
    assert model.attrs["langchain.run_type"] == "llm"
    sequence = recording.one("RunnableSequence")
    assert sequence.input == {"thing": "mug"}
    assert sequence.output == "The blue mug."
    [(_, name, status, span_count, errors, _)] = recording.traces()
    assert (name, status, span_count, errors) == ("pick", "completed", 5, 0)


def test_a_top_level_run_is_a_trace_of_its_own_named_after_the_run(recording):
    handler = PathwiseCallbackHandler(metadata={"team": "search"})
    chain = PROMPT | answers("A red one.")
    chain.invoke({"thing": "pen"}, config={"callbacks": [handler], "run_name": "pick-pen"})
    assert recording.paths() == sorted([
        "pick-pen", "pick-pen → ChatPromptTemplate", "pick-pen → FakeGPT"])
    [(_, name, status, span_count, _, metadata)] = recording.traces()
    assert (name, status, span_count) == ("pick-pen", "completed", 3)
    assert '"team":"search"' in metadata.replace(" ", "")

    # A model called on its own: a trace named after it, the card on a step.
    answers("Yes.").invoke("Is it blue?", config={"callbacks": [handler]})
    model_steps = [s for s in recording.spans() if s.name == "FakeGPT" and s.kind == "step"]
    alone = [s for s in model_steps if s.path == "FakeGPT → FakeGPT"]
    assert len(alone) == 1
    assert alone[0].metadata["llm"]["prompt"] == [{"role": "user", "content": "Is it blue?"}]
    assert alone[0].metadata["llm"]["completion"] == "Yes."


def test_tools_and_retrievers_are_steps_with_their_input_and_output(recording):
    @tool
    def stock(sku: str) -> int:
        """Units in stock for a SKU."""
        return len(sku)

    handler = PathwiseCallbackHandler()
    with pathwise.trace("restock"):
        assert stock.invoke({"sku": "B0123"}, config={"callbacks": [handler]}) == 5
        docs = Shelf().invoke("mugs", config={"callbacks": [handler]})
    assert len(docs) == 3
    used = recording.one("stock")
    assert used.path == "restock → stock"
    assert used.input == {"sku": "B0123"}
    assert used.output == 5
    assert used.attrs["langchain.run_type"] == "tool"
    shelf = recording.one("Shelf")
    assert shelf.input == {"query": "mugs"}
    assert shelf.attrs["retriever.documents"] == 3
    assert shelf.output[0] == {"page_content": "mugs #0", "metadata": {"rank": 0}}


def test_a_failing_tool_fails_its_step_and_the_trace_and_propagates(recording):
    @tool
    def reserve(sku: str) -> str:
        """Reserves one unit."""
        raise LookupError(f"no unit of {sku}")

    handler = PathwiseCallbackHandler()
    with pytest.raises(LookupError, match="no unit of B9"):
        with pathwise.trace("checkout"):
            reserve.invoke({"sku": "B9"}, config={"callbacks": [handler]})
    failed = recording.one("reserve")
    assert (failed.status, failed.error_type) == ("error", "LookupError")
    assert failed.error_message == "no unit of B9"
    [(_, name, status, _, errors, _)] = recording.traces()
    assert (name, status) == ("checkout", "failed")
    assert errors >= 1


def test_concurrent_async_runs_never_mix(recording):
    handler = PathwiseCallbackHandler()

    async def both() -> List[str]:
        first = PROMPT | answers("first answer")
        second = PROMPT | answers("second answer")
        return await asyncio.gather(
            first.ainvoke({"thing": "mug"}, config={"callbacks": [handler], "run_name": "a"}),
            second.ainvoke({"thing": "pen"}, config={"callbacks": [handler], "run_name": "b"}),
        )

    results = asyncio.run(both())
    assert [r.content for r in results] == ["first answer", "second answer"]
    traces = {name: (trace_id, span_count) for trace_id, name, _, span_count, _, _
              in recording.traces()}
    assert set(traces) == {"a", "b"}
    for name, thing, answer in (("a", "mug", "first answer"), ("b", "pen", "second answer")):
        trace_id, span_count = traces[name]
        spans = [s for s in recording.spans() if s.trace_id == trace_id]
        assert span_count == 3 and len(spans) == 3
        [model] = [s for s in spans if s.name == "FakeGPT"]
        assert model.metadata["llm"]["prompt"][1]["content"] == f"Which {thing}?"
        assert model.metadata["llm"]["completion"] == answer
    assert not handler._runs, "every run that started has ended"


def test_without_recording_the_handler_is_harmless(tmp_path):
    handler = PathwiseCallbackHandler()
    chain = PROMPT | answers("ok") | StrOutputParser()
    assert chain.invoke({"thing": "x"}, config={"callbacks": [handler]}) == "ok"
    assert not handler._runs
