"""smepo/SearchQA-v0: multi-turn question answering with a retrieval tool.

The agent searches with ``<search>query</search>`` and gets the top ``top_k`` passages in
``<information>`` (Search-R1's ``Doc i(Title: …) text`` lines); ``<answer>`` ends the
episode with reward 1.0 when the answer matches any gold answer after SQuAD normalisation,
else 0.0 (token F1 is reported in ``info``). By default it plays a bundled benchmark over
an in-process BM25 index of the benchmark's own corpus; ``retriever`` / ``index`` /
``corpus`` point it at any other backend (``"dense"``, ``"lucene"``, ``"http://host:port"``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from retrieval_index.base import Retriever
from smepo_env.envs.base import TextAgentEnv, ToolOutcome, env_tasks
from smepo_env.errors import check_choice
from smepo_env.protocol import PASSAGE_FORMATS
from smepo_env.scoring.qa import score_qa
from smepo_env.scoring.verdict import Verdict
from smepo_env.tasks import Task
from smepo_env.vocabulary import DEFAULT_BENCHMARKS
from tools.search import SearchTool

SEARCH_INSTRUCTIONS = (
    "Answer the question below. Think step by step inside <think> and </think>. "
    "If you need facts you do not know, call the search engine with <search> query </search>; "
    "it returns the top passages between <information> and </information>. "
    "You may search as many times as you need. When you know the answer, give it as a short phrase "
    "inside <answer> and </answer>, for example <answer> Paris </answer>."
)

DEFAULT_BENCHMARK = DEFAULT_BENCHMARKS["search"]


class SearchQAEnv(TextAgentEnv):
    """Question answering with a search tool (Search-R1 protocol).

    Args:
        benchmark: a bundled benchmark name (used when ``tasks`` is not given, and for its
            corpus when no ``index``/``corpus`` is given).
        split: the benchmark split to sample tasks from.
        tasks: the user's own tasks (dicts or :class:`Task`, or a JSONL path) instead.
        retriever: ``"bm25"`` (default), another backend name, an ``http(s)://`` URL of a
            Search-R1-compatible retrieval server, or a :class:`Retriever` instance.
        index: an index directory built by ``python -m retrieval_index build``.
        corpus: a JSONL corpus to search (a BM25 index is built once and cached).
        top_k: passages per search.
        passage_format: how passages are written in ``<information>``: ``"smepo"`` or
            ``"search-r1"`` (Search-R1's exact rendering; see :data:`smepo_env.protocol.PASSAGE_FORMATS`).
        max_turns: actions per episode.
        max_query_chars: longest query accepted.
        render_mode: ``None`` or ``"ansi"``.
    """

    tools = ("search",)

    def __init__(
        self,
        benchmark: str = DEFAULT_BENCHMARK,
        split: str = "train",
        tasks: Sequence[Task | Mapping[str, Any]] | str | os.PathLike[str] | None = None,
        retriever: str | Retriever = "bm25",
        index: str | os.PathLike[str] | None = None,
        corpus: str | os.PathLike[str] | None = None,
        top_k: int = 3,
        passage_format: str = "smepo",
        max_turns: int = 6,
        max_query_chars: int = 1000,
        render_mode: str | None = None,
    ) -> None:
        self.benchmark_name = benchmark
        self.split = split
        task_list = env_tasks(benchmark, split, tasks)
        super().__init__(
            task_list, max_turns=max_turns, max_tool_input_chars=max_query_chars, render_mode=render_mode
        )
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
        self.top_k = top_k
        self.passage_format = check_choice("passage_format", passage_format, PASSAGE_FORMATS)
        _check_retriever_spec(retriever, index, corpus)
        self._retriever_spec = (
            retriever,
            None if index is None else str(index),
            None if corpus is None else str(corpus),
        )
        self._search_tool: SearchTool | None = None
        if isinstance(retriever, Retriever):
            self._search_tool = SearchTool(retriever, top_k, self.passage_format)

    # The retriever is resolved lazily and shared per process; pickling drops it so a
    # pickled env is small and re-attaches to the process's shared index after loading.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if not isinstance(self._retriever_spec[0], Retriever):
            state["_search_tool"] = None
        return state

    @property
    def search_tool(self) -> SearchTool:
        """The search tool, resolving the retriever on first use."""
        if self._search_tool is None:
            self._search_tool = SearchTool(
                resolve_search_retriever(*self._retriever_spec, self.benchmark_name),
                self.top_k,
                self.passage_format,
            )
        return self._search_tool

    def instructions(self) -> str:
        return SEARCH_INSTRUCTIONS

    def call_tool(self, tool: str, content: str) -> ToolOutcome:
        result = self.search_tool(content)
        info: dict[str, Any] = {"search_query": content, "retrieved_ids": [h.passage.id for h in result.hits]}
        if result.error:
            info["tool_error"] = result.error
        return ToolOutcome(result.text, info)

    def score_answer(self, task: Task, answer: str) -> Verdict:
        return score_qa(answer, task.answers)

    def _info(self, tool_latency_s: float) -> dict[str, Any]:
        info = super()._info(tool_latency_s)
        info["num_searches"] = self._tool_calls.get("search", 0)
        return info


def _check_retriever_spec(retriever: object, index: object, corpus: object) -> None:
    """Fail at construction, not at the first search, on a retriever that cannot resolve."""
    if isinstance(retriever, Retriever):
        return
    if not isinstance(retriever, str):
        raise TypeError(
            f"retriever must be a backend name, a URL or a Retriever, got {type(retriever).__name__}"
        )
    if retriever.startswith(("http://", "https://")):
        return
    from retrieval_index.store import backend_class

    backend_class(retriever)  # unknown names raise, listing the valid ones
    if retriever != "bm25" and index is None:
        raise ValueError(
            f"retriever={retriever!r} needs index=DIR, built with "
            f"`python -m retrieval_index build --corpus CORPUS.jsonl --backend {retriever} --out DIR`"
        )


def resolve_search_retriever(
    retriever: str | Retriever, index: str | None, corpus: str | None, benchmark: str = DEFAULT_BENCHMARK
) -> Retriever:
    """Turn the env's ``retriever``/``index``/``corpus`` arguments into a shared retriever."""
    if isinstance(retriever, Retriever):
        return retriever
    if retriever == "bm25" and index is None:
        from retrieval_index.store import load_shared_index
        from smepo_env.benchmarks import corpus_index_dir, load_benchmark

        index_dir = corpus_index_dir(Path(corpus)) if corpus else load_benchmark(benchmark).index_dir()
        return load_shared_index(index_dir)
    if corpus is not None and index is None:
        raise ValueError(
            f"corpus= builds a BM25 index; for retriever={retriever!r} build an index and pass index="
        )
    from retrieval_index.resolve import resolve_retriever

    return resolve_retriever(retriever, index=index)


def make_search_qa_env(expert_guidance: str = "none", **kwargs: Any) -> Any:
    """The ``smepo/SearchQA-v0`` entry point: the env, wrapped for expert guidance."""
    from smepo_env.guidance import make_guided_env

    return make_guided_env(SearchQAEnv, "search", expert_guidance, **kwargs)
