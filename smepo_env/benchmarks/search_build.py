"""Building a bundled search benchmark: corpus, BM25 index, expert traces, task files.

The pipeline every search benchmark shares: write the corpus, index it, keep the questions
whose every hop the retriever supports at the default top-k, let the scripted expert play
each one in a real :class:`~smepo_env.envs.search_qa.SearchQAEnv`, and write one JSONL file of
tasks per split (question, answers, type, expert trace, critical spans, the expert's
actions).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from retrieval_index.base import Passage
from retrieval_index.corpus import write_corpus
from retrieval_index.store import build_index, load_index
from smepo_env.benchmarks.expert import choose_supported_queries, play_expert
from smepo_env.benchmarks.plans import QuestionPlan
from smepo_env.tasks import Task, save_tasks_jsonl

DEFAULT_TOP_K = 3


def build_search_benchmark(
    directory: Path,
    name: str,
    passages: list[Passage],
    plans_by_split: dict[str, list[QuestionPlan]],
    top_k: int = DEFAULT_TOP_K,
) -> dict[str, Any]:
    """Write corpus, index and task files into ``directory``; returns the manifest fields."""
    from smepo_env.envs.search_qa import SearchQAEnv

    write_corpus(passages, directory / "corpus.jsonl")
    build_index(passages, directory / "index-bm25", backend="bm25")
    retriever = load_index(directory / "index-bm25")
    counts: dict[str, Any] = {}
    for split, plans in plans_by_split.items():
        supported = choose_supported_queries(plans, retriever, top_k)
        placeholder = Task(id="placeholder", question="placeholder", answers=("placeholder",))
        env = SearchQAEnv(
            tasks=[placeholder],
            retriever=retriever,
            top_k=top_k,
            max_turns=len(max(plans, key=lambda p: len(p.hops)).hops) + 1,
        )
        tasks: list[Task] = []
        dropped = 0
        for plan in tqdm(supported, desc=f"{name} {split}: expert traces", leave=False):
            if plan is None:
                dropped += 1
                continue
            task = Task(
                id=f"{name}-{split}-{len(tasks):05d}",
                question=plan.question,
                answers=plan.answers,
                question_type=plan.question_type,
                benchmark=name,
            )
            episode = play_expert(env, task, plan)
            if not episode.supported:
                dropped += 1
                continue
            tasks.append(
                Task(
                    id=task.id,
                    question=plan.question,
                    answers=plan.answers,
                    question_type=plan.question_type,
                    benchmark=name,
                    expert_trace=episode.trace,
                    critical_spans=tuple(plan.critical_spans()),
                    metadata={
                        "expert_actions": episode.actions,
                        "gold_passage_ids": [h.gold_passage_id for h in plan.hops],
                    },
                )
            )
        save_tasks_jsonl(tasks, directory / f"{split}.jsonl")
        counts[split] = {
            "questions": len(tasks),
            "dropped_unsupported": dropped,
            "by_type": dict(sorted(Counter(t.question_type for t in tasks).items())),
        }
    return {"domain": "search", "num_passages": len(passages), "top_k": top_k, "splits": counts}


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` (the last file of a build: its presence marks a finished build)."""
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
