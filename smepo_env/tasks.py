"""The task record every environment plays, and loaders for task files.

A task is one question with its verifiable target: ``{id, question, answers[...],
question_type, expert_trace?, critical_spans?, metadata}``. Search QA puts gold answers and
aliases in ``answers``; math puts the ground truth there; code tasks keep their hidden tests
in ``metadata``. Bundled benchmarks, JSONL files and SMEPO's parquet all become lists of
:class:`Task`.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smepo_env.errors import TaskFormatError
from smepo_env.files import atomic_file


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
            return validate_task(row)
        if not isinstance(row, Mapping):
            raise TaskFormatError(f"a task must be a dict, got {type(row).__name__}: {row!r:.80}")
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise TaskFormatError(f"task 'question' must be a non-empty string, got {question!r:.80}")
        if len(question) > MAX_QUESTION_CHARS:
            raise TaskFormatError(
                f"task 'question' has {len(question)} characters; the limit is {MAX_QUESTION_CHARS} "
                "(the prompt must fit the observation space)"
            )
        answers = row.get("answers", row.get("answer", row.get("golden_answers")))
        if isinstance(answers, bytes | bytearray):
            raise TaskFormatError(f"task 'answers' must be text, not bytes: {answers!r:.80}")
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
        raw_metadata = row.get("metadata") or {}
        if not isinstance(raw_metadata, Mapping):
            raise TaskFormatError(f"task 'metadata' must be a dict, got {type(raw_metadata).__name__}")
        spans = row.get("critical_spans") or ()
        if isinstance(spans, str | bytes) or not isinstance(spans, Sequence):
            raise TaskFormatError(
                "task 'critical_spans' must be a list of {'text', 'kind'} dicts, "
                f"got {type(spans).__name__}"
            )
        for index, span in enumerate(spans):
            if not isinstance(span, Mapping):
                raise TaskFormatError(
                    f"task 'critical_spans[{index}]' must be a {{'text', 'kind'}} dict, "
                    f"got {type(span).__name__}"
                )
        metadata = dict(raw_metadata)
        metadata.update({k: v for k, v in row.items() if k not in known})
        return validate_task(
            cls(
                id=str(row.get("id", default_id)),
                question=question.strip(),
                answers=tuple(str(a) for a in answers),
                question_type=str(row.get("question_type", "")),
                benchmark=str(row.get("benchmark", "")),
                expert_trace=row.get("expert_trace"),
                critical_spans=tuple(dict(s) for s in spans),
                metadata=metadata,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that :meth:`from_dict` reads back."""
        row = asdict(self)
        row["answers"] = list(self.answers)
        row["critical_spans"] = [dict(s) for s in self.critical_spans]
        row["metadata"] = dict(self.metadata)
        return row


MAX_QUESTION_CHARS = 100_000
"""Longest question a task may have: the prompt (instructions, question, guidance) must fit
the environments' observation space of 1,000,000 characters."""


def _fail(task: Task, field: str, expected: str, value: object) -> TaskFormatError:
    shown = f"{type(value).__name__} {value!r:.60}"
    return TaskFormatError(f"task {task.id!r}: '{field}' must be {expected}, got {shown}")


def _check_python(task: Task, field: str, source: object) -> None:
    if not isinstance(source, str):
        raise _fail(task, field, "Python source text", source)
    try:
        ast.parse(source)
    except SyntaxError as error:
        raise TaskFormatError(f"task {task.id!r}: '{field}' is not valid Python: {error}") from None


def validate_task(task: Task) -> Task:
    """Check the fields of a :class:`Task` an environment relies on; return it unchanged.

    Checks the types of every field, the question's length, the spans' ``text``/``kind``, and
    a code task's test fields in ``metadata`` (``tests``: a list of Python sources;
    ``test_setup``, ``solution_prefix``: Python source; ``stdio_tests``: a list of
    ``{"input": str, "output": str}``).

    Raises:
        TaskFormatError: naming the task, the field and what was expected.
    """
    if not isinstance(task.question, str) or not task.question.strip():
        raise _fail(task, "question", "a non-empty string", task.question)
    if len(task.question) > MAX_QUESTION_CHARS:
        raise _fail(
            task, "question", f"at most {MAX_QUESTION_CHARS} characters", f"{len(task.question)} characters"
        )
    if (
        not isinstance(task.answers, tuple)
        or not task.answers
        or not all(isinstance(a, str) for a in task.answers)
    ):
        raise _fail(task, "answers", "a non-empty tuple of strings", task.answers)
    for name in ("question_type", "benchmark"):
        if not isinstance(getattr(task, name), str):
            raise _fail(task, name, "a string", getattr(task, name))
    if task.expert_trace is not None and not isinstance(task.expert_trace, str):
        raise _fail(task, "expert_trace", "a string or None", task.expert_trace)
    if not isinstance(task.critical_spans, tuple):
        raise _fail(task, "critical_spans", "a tuple of {'text', 'kind'} dicts", task.critical_spans)
    for index, span in enumerate(task.critical_spans):
        if not isinstance(span, Mapping) or not all(
            isinstance(span.get(key), str) for key in ("text", "kind")
        ):
            raise _fail(task, f"critical_spans[{index}]", "a dict with string 'text' and 'kind'", span)
    if not isinstance(task.metadata, Mapping):
        raise _fail(task, "metadata", "a dict", task.metadata)
    metadata = task.metadata
    if metadata.get("tests") is not None:
        tests = metadata["tests"]
        if isinstance(tests, str | bytes) or not isinstance(tests, Sequence):
            raise _fail(task, "metadata.tests", "a list of test sources", tests)
        for index, test in enumerate(tests):
            _check_python(task, f"metadata.tests[{index}]", test)
    for name in ("test_setup", "solution_prefix"):
        if metadata.get(name) is not None:
            _check_python(task, f"metadata.{name}", metadata[name])
    if metadata.get("stdio_tests") is not None:
        cases = metadata["stdio_tests"]
        if isinstance(cases, str | bytes) or not isinstance(cases, Sequence):
            raise _fail(task, "metadata.stdio_tests", "a list of {'input', 'output'} dicts", cases)
        for index, case in enumerate(cases):
            if not isinstance(case, Mapping) or not all(
                isinstance(case.get(k), str) for k in ("input", "output")
            ):
                raise _fail(
                    task, f"metadata.stdio_tests[{index}]", "a dict with string 'input' and 'output'", case
                )
    return task


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
