"""The task record every environment plays, and loaders for task files.

A task is one question with its verifiable target: ``{id, question, answers[...],
question_type, expert_trace?, critical_spans?, metadata}``. Search QA puts gold answers and
aliases in ``answers``; math puts the ground truth there; code tasks keep their hidden tests
in ``metadata``. Bundled benchmarks, JSONL files and SMEPO's parquet all become lists of
:class:`Task`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smepo_env.files import atomic_file
from smepo_env.errors import TaskFormatError


@dataclass(frozen=True)
class Task:
    """One episode's question and its verifiable target.

    Attributes:
        id: unique within its benchmark split.
        question: the text shown to the policy.
        answers: gold answers and aliases; any one counts as correct.
        question_type: a label for per-type reporting (``"single-hop"``, ``"two-hop"``, ...).
        benchmark: the benchmark the task came from, if any.
        expert_trace: the expert's transcript in the environment's own format, if any.
        critical_spans: ground-truth critical-path spans of the trace, ``{"text", "kind"}``
            each (bundled benchmarks only; used to measure the masker, never shown).
        metadata: anything else a specific environment needs (hidden tests, difficulty, ...).
    """

    id: str
    question: str
    answers: tuple[str, ...]
    question_type: str = ""
    benchmark: str = ""
    expert_trace: str | None = None
    critical_spans: tuple[Mapping[str, str], ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any], default_id: str = "task") -> Task:
        """Build a task from a dict, checking the fields a user is likely to get wrong.

        Raises:
            TaskFormatError: ``question`` is not a non-empty string, or ``answers`` is not a
                string or a non-empty list of strings.
        """
        if isinstance(row, Task):
            return row
        if not isinstance(row, Mapping):
            raise TaskFormatError(f"a task must be a dict, got {type(row).__name__}: {row!r:.80}")
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise TaskFormatError(f"task 'question' must be a non-empty string, got {question!r:.80}")
        answers = row.get("answers", row.get("answer", row.get("golden_answers")))
        if isinstance(answers, str):
            answers = [answers]
        if (
            not isinstance(answers, Sequence)
            or not answers
            or not all(isinstance(a, str | int | float) and not isinstance(a, bool) for a in answers)
        ):
            raise TaskFormatError(
                f"task 'answers' must be a string or a non-empty list of strings, got {answers!r:.80}"
            )
        known = {"id", "question", "answers", "answer", "golden_answers", "question_type", "benchmark"}
        known |= {"expert_trace", "critical_spans", "metadata"}
        metadata = dict(row.get("metadata") or {})
        metadata.update({k: v for k, v in row.items() if k not in known})
        return cls(
            id=str(row.get("id", default_id)),
            question=question.strip(),
            answers=tuple(str(a) for a in answers),
            question_type=str(row.get("question_type", "")),
            benchmark=str(row.get("benchmark", "")),
            expert_trace=row.get("expert_trace"),
            critical_spans=tuple(dict(s) for s in row.get("critical_spans") or ()),
            metadata=metadata,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that :meth:`from_dict` reads back."""
        row = asdict(self)
        row["answers"] = list(self.answers)
        row["critical_spans"] = [dict(s) for s in self.critical_spans]
        row["metadata"] = dict(self.metadata)
        return row


def load_tasks_jsonl(path: str | os.PathLike[str]) -> list[Task]:
    """Read tasks from a JSONL file, one task dict per line.

    Raises:
        FileNotFoundError: no such file.
        TaskFormatError: a line is not JSON or not a task; the message names the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"task file not found: {path}")
    tasks = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise TaskFormatError(f"{path}:{line_number}: invalid JSON ({error.msg})") from None
            try:
                tasks.append(Task.from_dict(row, default_id=f"{path.stem}-{line_number}"))
            except TaskFormatError as error:
                raise TaskFormatError(f"{path}:{line_number}: {error}") from None
    return tasks


def save_tasks_jsonl(tasks: Iterable[Task], path: str | os.PathLike[str]) -> None:
    """Write tasks as JSONL, atomically."""
    with atomic_file(path) as handle:
        for task in tasks:
            handle.write(json.dumps(task.to_dict(), ensure_ascii=False) + "\n")


def coerce_tasks(tasks: Iterable[Task | Mapping[str, Any]] | str | os.PathLike[str]) -> list[Task]:
    """Accept a list of tasks or dicts, or a JSONL path, and return a list of :class:`Task`."""
    if isinstance(tasks, str | os.PathLike):
        return load_tasks_jsonl(tasks)
    result = [Task.from_dict(t, default_id=f"task-{i}") for i, t in enumerate(tasks)]
    if not result:
        raise TaskFormatError("the task list is empty")
    return result
