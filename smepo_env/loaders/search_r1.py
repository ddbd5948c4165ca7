"""Search-R1's processed parquet read back into search tasks.

Search-R1's data scripts (``scripts/data_process/qa_search_train_merge.py`` and
``qa_search_test_merge.py``) map FlashRAG rows to::

    {"data_source": "nq", "prompt": [{"role": "user", "content": <instruction> + "Question: q?\\n"}],
     "ability": "fact-reasoning", "reward_model": {"style": "rule", "ground_truth": {"target": [...]}},
     "extra_info": {"split": "train", "index": 0}}

keeping the original columns (``id``, ``question`` with a ``?`` appended, ``golden_answers``,
``metadata``). The question is taken from the row's ``question`` column when it has one, else
from the prompt text after its last ``Question:``; the gold answers from
``reward_model.ground_truth.target`` (``golden_answers`` when that is missing). Task ids,
question types and the kept metadata are those of :func:`smepo_env.loaders.flashrag.flashrag_task`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from smepo_env.errors import TaskFormatError
from smepo_env.loaders.flashrag import flashrag_task, infer_flashrag_dataset
from smepo_env.loaders.rows import check_limit, read_rows
from smepo_env.tasks import Task


def is_search_r1_row(row: Mapping[str, Any]) -> bool:
    """Whether a row has Search-R1's processed shape (a ``reward_model`` whose ground truth is a
    ``{"target": [...]}`` dict, beside ``data_source`` or ``prompt``)."""
    reward_model = row.get("reward_model")
    if isinstance(reward_model, str):
        try:
            reward_model = json.loads(reward_model)
        except json.JSONDecodeError:
            return False
    truth = reward_model.get("ground_truth") if isinstance(reward_model, Mapping) else None
    return isinstance(truth, Mapping) and "target" in truth and ("data_source" in row or "prompt" in row)


def _prompt_question(prompt: Any) -> str:
    users = [
        str(m.get("content") or "")
        for m in (prompt if isinstance(prompt, list | tuple) else [])
        if isinstance(m, Mapping) and m.get("role") == "user"
    ]
    text = users[-1] if users else ""
    return text.rsplit("Question:", 1)[1].strip() if "Question:" in text else ""


def search_r1_task(row: Mapping[str, Any], index: int, dataset: str | None = None) -> Task:
    """One Search-R1 processed row as a task.

    Raises:
        TaskFormatError: no question (neither the column nor the prompt) or no gold target.
    """
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        question = _prompt_question(row.get("prompt"))
    if not question:
        raise TaskFormatError(
            f"Search-R1 row {index} has no question (checked 'question' and the prompt's 'Question:')"
        )
    reward_model = row.get("reward_model")
    if isinstance(reward_model, str):
        reward_model = json.loads(reward_model)
    truth = (reward_model or {}).get("ground_truth") if isinstance(reward_model, Mapping) else None
    target = truth.get("target") if isinstance(truth, Mapping) else None
    golden = target if target is not None else row.get("golden_answers")
    if golden is None:
        raise TaskFormatError(
            f"Search-R1 row {index} has no reward_model.ground_truth.target; its fields are {sorted(row)}"
        )
    extra = row.get("extra_info") if isinstance(row.get("extra_info"), Mapping) else {}
    name = dataset or infer_flashrag_dataset(row)
    row_id = row.get("id")
    if row_id is None:
        row_id = f"{extra.get('split', 'row')}_{extra.get('index', index)}"
    flashrag_row = {"id": row_id, "question": question, "golden_answers": golden}
    flashrag_row["metadata"] = row.get("metadata")
    task = flashrag_task(flashrag_row, name, index)
    metadata = dict(task.metadata)
    metadata.update(
        ability=row.get("ability"), search_r1_prompt=row.get("prompt"), extra_info=dict(extra) or None
    )
    return Task(
        id=task.id,
        question=task.question,
        answers=task.answers,
        question_type=task.question_type,
        benchmark=task.benchmark,
        metadata=metadata,
    )


def load_search_r1_parquet(
    path: str | os.PathLike[str], dataset: str | None = None, limit: int | None = None
) -> list[Task]:
    """Tasks from a Search-R1 processed parquet (or JSONL) file, e.g. its ``train.parquet``.

    Args:
        path: the file.
        dataset: force the dataset name; by default each row's ``data_source``.
        limit: read only the first ``limit`` rows.

    Raises:
        TaskFormatError: a row without a question or gold target (the message names the row).
    """
    check_limit(limit)
    return [search_r1_task(row, index, dataset) for index, row in enumerate(read_rows(path)[:limit])]
