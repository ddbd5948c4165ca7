"""Real math benchmarks as :class:`~smepo_env.tasks.Task` lists for ``smepo/Math-v0``.

* :func:`load_gsm8k` (``openai/gsm8k``): the answer after ``####``; the worked solution,
  without its ``<<…>>`` calculator notes, becomes the expert trace.
* :func:`load_math500` (``HuggingFaceH4/MATH-500``): the ``answer`` column; the solution is
  the expert trace; ``question_type`` is the subject, ``metadata["level"]`` the level.
"""

from __future__ import annotations

import os
import re

from smepo_env.errors import TaskFormatError
from smepo_env.loaders.rows import benchmark_rows, required_field
from smepo_env.tasks import Task

_CALCULATOR_NOTE = re.compile(r"<<[^<>]*>>")


def gsm8k_final_answer(solution: str) -> str:
    """The number after ``####`` in a GSM8K answer, without thousands separators."""
    if "####" not in solution:
        raise TaskFormatError(f"a GSM8K answer must end with '#### <number>', got {solution[-80:]!r}")
    return solution.rsplit("####", 1)[1].strip().replace(",", "")


def load_gsm8k(
    split: str = "test", path: str | os.PathLike[str] | None = None, limit: int | None = None
) -> list[Task]:
    """GSM8K as math tasks (columns ``question``, ``answer``)."""
    tasks = []
    for index, row in enumerate(benchmark_rows(path, "openai/gsm8k", "main", split, limit)):
        solution = str(required_field(row, "answer", index, "GSM8K"))
        final = gsm8k_final_answer(solution)
        reasoning = _CALCULATOR_NOTE.sub("", solution.rsplit("####", 1)[0]).strip()
        tasks.append(
            Task(
                id=f"gsm8k-{split}-{index:05d}",
                question=str(required_field(row, "question", index, "GSM8K")).strip(),
                answers=(final,),
                question_type="gsm8k",
                benchmark="gsm8k",
                expert_trace=f"<think>{reasoning}</think>\n<answer>\\boxed{{{final}}}</answer>",
            )
        )
    return tasks


def load_math500(path: str | os.PathLike[str] | None = None, limit: int | None = None) -> list[Task]:
    """MATH-500 as math tasks (columns ``problem``, ``solution``, ``answer``, ``subject``, ``level``)."""
    tasks = []
    for index, row in enumerate(benchmark_rows(path, "HuggingFaceH4/MATH-500", None, "test", limit)):
        answer = str(required_field(row, "answer", index, "MATH-500")).strip()
        solution = str(row.get("solution") or "").strip()
        trace = f"<think>{solution}</think>\n<answer>\\boxed{{{answer}}}</answer>" if solution else None
        tasks.append(
            Task(
                id=str(row.get("unique_id") or f"math500-{index:05d}"),
                question=str(required_field(row, "problem", index, "MATH-500")).strip(),
                answers=(answer,),
                question_type=str(row.get("subject") or "math"),
                benchmark="math-500",
                expert_trace=trace,
                metadata={"level": row.get("level")},
            )
        )
    return tasks
