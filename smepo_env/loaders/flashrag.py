"""FlashRAG QA rows as search tasks: the format Search-R1 and most search-RL papers train and test on.

A row is ``{"id", "question", "golden_answers": [...], "metadata": {...}}`` (FlashRAG's
``dataset.py`` reads exactly these keys), one JSONL line or one parquet row. The datasets the
search-agent community reports on, with the splits FlashRAG publishes:

==================  ================  ==========================================
dataset             splits            question type kept
==================  ================  ==========================================
nq                  train, dev, test  ``nq``
triviaqa            train, dev, test  ``triviaqa``
popqa               test              ``popqa``
hotpotqa            train, dev        metadata ``type`` (bridge / comparison)
2wikimultihopqa     train, dev        metadata ``type`` (compositional, ...)
musique             train, dev        hop count (``2-hop``, ``3-hop``, ``4-hop``)
bamboogle           test              ``bamboogle``
==================  ================  ==========================================

:func:`load_flashrag` reads a local file (``path=``) or, only when called without one, the
hub copy (``datasets.load_dataset("RUC-NLPIR/FlashRAG_datasets", name, split=split)``, as
Search-R1's data scripts do). Every gold alias becomes an answer; the row's metadata is kept
unwrapped under ``metadata["flashrag"]`` so the gold route (:mod:`smepo_env.loaders.multihop`)
and the distractor-setting corpus (:mod:`smepo_env.loaders.distractor`) can be read from tasks.
Task ids are ``"<dataset>-<row id>"``: the same question read from FlashRAG rows or from
Search-R1's processed parquet gets the same id, so traces keyed by id apply to both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smepo_env.errors import TaskFormatError, check_choice
from smepo_env.loaders.multihop import musique_hop_count, unwrap_metadata
from smepo_env.loaders.rows import benchmark_rows
from smepo_env.loaders.smepo_parquet import search_answers
from smepo_env.tasks import Task

FLASHRAG_REPOSITORY = "RUC-NLPIR/FlashRAG_datasets"
"""The hub dataset repository (one config per dataset)."""

FLASHRAG_SPLITS: dict[str, tuple[str, ...]] = {
    "nq": ("train", "dev", "test"),
    "triviaqa": ("train", "dev", "test"),
    "popqa": ("test",),
    "hotpotqa": ("train", "dev"),
    "2wikimultihopqa": ("train", "dev"),
    "musique": ("train", "dev"),
    "bamboogle": ("test",),
}
"""The seven QA sets Search-R1 trains and tests on, and the splits FlashRAG publishes for each."""

FLASHRAG_DATASETS: tuple[str, ...] = tuple(FLASHRAG_SPLITS)


def infer_flashrag_dataset(row: Mapping[str, Any], path: str | os.PathLike[str] | None = None) -> str:
    """The dataset a row belongs to: its ``data_source`` (Search-R1 keeps one), the folder of a
    FlashRAG-layout path (``hotpotqa/dev.jsonl``), else the shape of its metadata; ``"flashrag"``
    when nothing tells."""
    source = str(row.get("data_source") or "").strip().lower()
    if source in FLASHRAG_SPLITS:
        return source
    if path is not None:
        folder = Path(path).parent.name.lower()
        if folder in FLASHRAG_SPLITS:
            return folder
    metadata = unwrap_metadata(row.get("metadata"))
    if metadata.get("question_decomposition") or re.match(r"\d+hop__", str(row.get("id", ""))):
        return "musique"
    if metadata.get("evidences") is not None:
        return "2wikimultihopqa"
    if isinstance(metadata.get("context"), Mapping | list) and metadata.get("supporting_facts") is not None:
        return "hotpotqa"
    return source or "flashrag"


def flashrag_question_type(dataset: str, metadata: Mapping[str, Any], row_id: str = "") -> str:
    """HotpotQA / 2Wiki ``type``, MuSiQue ``"<n>-hop"``, else the dataset name."""
    if dataset in ("hotpotqa", "2wikimultihopqa") and metadata.get("type"):
        return str(metadata["type"])
    if dataset == "musique":
        hops = musique_hop_count(metadata, row_id)
        return f"{hops}-hop" if hops else "musique"
    return dataset


def flashrag_task(row: Mapping[str, Any], dataset: str, index: int) -> Task:
    """One FlashRAG row as a task (see the module docstring).

    Raises:
        TaskFormatError: the row has no question or no gold answer (the message names the row).
    """
    if not isinstance(row, Mapping):
        raise TaskFormatError(f"{dataset} row {index} is not an object: {row!r:.80}")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise TaskFormatError(f"{dataset} row {index} has no 'question' string; its fields are {sorted(row)}")
    if row.get("golden_answers") is None:
        raise TaskFormatError(f"{dataset} row {index} has no 'golden_answers'; its fields are {sorted(row)}")
    try:
        answers = search_answers(row["golden_answers"], index)
    except TaskFormatError:
        raise TaskFormatError(
            f"{dataset} row {index}: 'golden_answers' must be a non-empty list of answers, "
            f"got {row['golden_answers']!r:.80}"
        ) from None
    row_id = str(row["id"]) if row.get("id") is not None else f"{index}"
    metadata = unwrap_metadata(row.get("metadata"))
    return Task(
        id=f"{dataset}-{row_id}",
        question=question.strip(),
        answers=answers,
        question_type=flashrag_question_type(dataset, metadata, row_id),
        benchmark=dataset,
        metadata={"dataset": dataset, "source_id": row_id, "flashrag": metadata},
    )


def flashrag_tasks(
    rows: list[dict[str, Any]], dataset: str | None = None, path: str | os.PathLike[str] | None = None
) -> list[Task]:
    """Tasks from FlashRAG rows; ``dataset`` is inferred per row when not given."""
    tasks = []
    for index, row in enumerate(rows):
        name = dataset or infer_flashrag_dataset(row, path)
        tasks.append(flashrag_task(row, name, index))
    return tasks


def load_flashrag(
    dataset: str | None = None,
    split: str | None = None,
    path: str | os.PathLike[str] | None = None,
    limit: int | None = None,
) -> list[Task]:
    """A FlashRAG QA set as search tasks for ``smepo/SearchQA-v0``.

    Args:
        dataset: one of :data:`FLASHRAG_DATASETS`; with ``path`` it may be left out (inferred
            from the rows' ``data_source``, the file's folder, or the metadata's shape).
        split: the hub split (default: ``dev`` where FlashRAG has one, else ``test``); ignored
            with ``path``.
        path: a local ``.jsonl`` / ``.json`` / ``.parquet`` file of FlashRAG rows. Without it the
            hub is read (network).
        limit: read only the first ``limit`` rows.

    Raises:
        ValueError: an unknown dataset or split (naming the valid ones), or neither
            ``dataset`` nor ``path``.
        TaskFormatError: a row without a question or gold answers.
    """
    if dataset is not None:
        dataset = check_choice("dataset", dataset, FLASHRAG_DATASETS)
    if path is None:
        if dataset is None:
            raise ValueError(
                f"load_flashrag needs a dataset name (one of {list(FLASHRAG_DATASETS)}) or a local path="
            )
        splits = FLASHRAG_SPLITS[dataset]
        split = check_choice(f"split of {dataset}", split or ("dev" if "dev" in splits else "test"), splits)
    rows = benchmark_rows(path, FLASHRAG_REPOSITORY, dataset, split or "", limit)
    return flashrag_tasks(rows, dataset, path)
