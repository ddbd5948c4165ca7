"""Building a bundled search benchmark: corpus, BM25 index, expert traces, task files.

The pipeline every search benchmark shares: write the corpus, index it, keep the questions
whose every hop the retriever supports at the default top-k, let the scripted expert play
each one in a real ``smepo/SearchQA-v0`` environment (see
:func:`~smepo_env.benchmarks.expert_play.expert_env`), and write one JSONL file of tasks per
split (question, answers, type, expert trace, critical spans, the expert's actions).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import gymnasium as gym

from retrieval_index.base import Passage
from retrieval_index.corpus import write_corpus
from retrieval_index.store import build_index, load_index
from smepo_env.benchmarks.expert_play import expert_env, play_split, split_counts
from smepo_env.benchmarks.search.expert import choose_supported_queries, play_expert
from smepo_env.benchmarks.search.plans import QuestionPlan
from smepo_env.tasks import Task, save_tasks_jsonl

DEFAULT_TOP_K = 3
"""Passages per search, as the search environment returns by default: a question is kept only
if the expert finds every hop's passage in that many results."""


def build_search_benchmark(
    directory: Path,
    name: str,
    passages: list[Passage],
    plans_by_split: dict[str, list[QuestionPlan]],
    top_k: int = DEFAULT_TOP_K,
) -> dict[str, Any]:
    """Write corpus, index and task files into ``directory``; returns the manifest fields."""
    directory = Path(directory)
    write_corpus(passages, directory / "corpus.jsonl")
    build_index(passages, directory / "index-bm25", backend="bm25")
    retriever = load_index(directory / "index-bm25")
    counts: dict[str, Any] = {}
    for split, plans in plans_by_split.items():
        routes = choose_supported_queries(plans, retriever, top_k)  # None: a hop no query supports
        env = expert_env(
            "search", retriever=retriever, top_k=top_k, max_turns=max(len(plan.hops) for plan in plans) + 1
        )
        tasks, dropped = play_split(name, split, routes, functools.partial(_play_route, env, name))
        save_tasks_jsonl(tasks, directory / f"{split}.jsonl")
        counts[split] = split_counts(tasks, dropped, "unsupported")
    return {"domain": "search", "num_passages": len(passages), "top_k": top_k, "splits": counts}


def _play_route(env: gym.Env[str, str], name: str, task_id: str, route: QuestionPlan | None) -> Task | None:
    """Let the expert play ``route``; the finished task, or ``None`` if unsupported."""
    if route is None:
        return None
    task = Task(
        id=task_id,
        question=route.question,
        answers=route.answers,
        question_type=route.question_type,
        benchmark=name,
    )
    episode = play_expert(env, task, route)
    if not episode.supported:
        return None
    return Task(
        id=task_id,
        question=route.question,
        answers=route.answers,
        question_type=route.question_type,
        benchmark=name,
        expert_trace=episode.trace,
        critical_spans=tuple(route.critical_spans()),
        metadata={
            "expert_actions": episode.actions,
            "gold_passage_ids": [hop.gold_passage_id for hop in route.hops],
        },
    )
