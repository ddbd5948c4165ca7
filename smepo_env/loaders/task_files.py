"""Any task file an environment's ``tasks=`` takes, its format told from its rows.

``gym.make("smepo/SearchQA-v0", tasks="hotpotqa/dev.jsonl", corpus="corpus.jsonl")`` reads the
file with :func:`load_task_file`, which looks at the first row and picks the reader:

==============  =====================================================  ===============================
format          how it is recognised                                   read by
==============  =====================================================  ===============================
``smepo``       a ``teacher_ds`` column (SMEPO's released schema)      :func:`load_smepo_parquet`
``search-r1``   ``reward_model.ground_truth.target`` beside            :func:`load_search_r1_parquet`
                ``data_source`` or ``prompt``
``flashrag``    ``question`` and ``golden_answers``                    :func:`load_flashrag`
``tasks``       ``question`` and ``answers`` (or ``answer``)           :meth:`Task.from_dict`
==============  =====================================================  ===============================

Each may be ``.jsonl``, ``.json`` or ``.parquet``. A SMEPO file's domain is read from its ground
truth: ``{"inputs", "outputs"}`` is code, ``{"target": [...]}`` or a list is search, anything
else math. A file none of these fits gets a :class:`~smepo_env.errors.TaskFormatError` naming the
file, the fields of its first row and the formats known.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smepo_env.errors import TaskFormatError
from smepo_env.loaders.flashrag import flashrag_tasks
from smepo_env.loaders.rows import ROW_FILE_SUFFIXES, read_rows
from smepo_env.loaders.search_r1 import is_search_r1_row, search_r1_task
from smepo_env.loaders.smepo_parquet import load_smepo_parquet
from smepo_env.tasks import Task, load_tasks_jsonl

TASK_FILE_FORMATS: dict[str, str] = {
    "tasks": "smepo task rows {id, question, answers[...]}",
    "flashrag": "FlashRAG rows {id, question, golden_answers[...], metadata}",
    "search-r1": "Search-R1 processed rows {data_source, prompt, reward_model.ground_truth.target, ...}",
    "smepo": "SMEPO rows {question, reward_model.ground_truth, teacher_ds}",
}
"""The formats :func:`load_task_file` tells apart, with the fields that identify each."""


def detect_task_format(row: Mapping[str, Any]) -> str | None:
    """The format of one row (a key of :data:`TASK_FILE_FORMATS`), or ``None`` when none fits."""
    if not isinstance(row, Mapping):
        return None
    if "teacher_ds" in row and "reward_model" in row:
        return "smepo"
    if is_search_r1_row(row):
        return "search-r1"
    if "question" in row and row.get("golden_answers") is not None:
        return "flashrag"
    if "question" in row and ("answers" in row or "answer" in row):
        return "tasks"
    return None


def smepo_domain(row: Mapping[str, Any]) -> str:
    """The domain of a SMEPO row, read from its ground truth (see the module docstring)."""
    reward_model = row.get("reward_model")
    if isinstance(reward_model, str):
        reward_model = json.loads(reward_model)
    truth = reward_model.get("ground_truth") if isinstance(reward_model, Mapping) else None
    if isinstance(truth, str) and truth.lstrip().startswith("{"):
        try:
            truth = json.loads(truth)
        except json.JSONDecodeError:
            return "math"
    if isinstance(truth, Mapping):
        return "code" if "inputs" in truth and "outputs" in truth else "search"
    return "search" if isinstance(truth, list | tuple) else "math"


def _unknown_format(path: Path, row: Any) -> TaskFormatError:
    fields = sorted(row) if isinstance(row, Mapping) else type(row).__name__
    known = "; ".join(f"{name}: {fields_}" for name, fields_ in TASK_FILE_FORMATS.items())
    return TaskFormatError(
        f"{path}: cannot tell the format of its rows (first row fields: {fields}); the formats known "
        f"are {known}"
    )


def load_task_file(path: str | os.PathLike[str]) -> list[Task]:
    """Read a task file in any of :data:`TASK_FILE_FORMATS` (format told from its first row).

    Raises:
        FileNotFoundError: no such file.
        TaskFormatError: an empty file, a file of unknown format (naming the formats known),
            or a bad row (naming it).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"task file not found: {path}")
    if path.suffix.lower() not in ROW_FILE_SUFFIXES:
        raise TaskFormatError(
            f"{path}: task files are {', '.join(ROW_FILE_SUFFIXES)}; the formats known are "
            + "; ".join(TASK_FILE_FORMATS.values())
        )
    try:
        rows = read_rows(path)
    except ValueError as error:
        raise TaskFormatError(str(error)) from None
    if not rows:
        raise TaskFormatError(f"{path} holds no rows")
    kind = detect_task_format(rows[0])
    if kind is None:
        raise _unknown_format(path, rows[0])
    if kind == "tasks" and path.suffix.lower() == ".jsonl":
        return load_tasks_jsonl(path)  # its errors name the file and the line
    try:
        if kind == "smepo":
            return load_smepo_parquet(path, domain=smepo_domain(rows[0]))
        if kind == "search-r1":
            return [search_r1_task(row, index) for index, row in enumerate(rows)]
        if kind == "flashrag":
            return flashrag_tasks(rows, path=path)
        return [Task.from_dict(row, default_id=f"{path.stem}-{i}") for i, row in enumerate(rows)]
    except TaskFormatError as error:
        raise TaskFormatError(f"{path} ({kind} format): {error}") from None
