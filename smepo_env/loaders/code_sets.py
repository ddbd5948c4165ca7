"""Real code benchmarks as :class:`~smepo_env.tasks.Task` lists for ``smepo/PythonExec-v0``.

* :func:`load_mbpp` (``google-research-datasets/mbpp``, ``full`` or ``sanitized``): the
  question shows the first test (as the MBPP paper's prompt does); all tests are hidden tests.
* :func:`load_humaneval` (``openai/openai_humaneval``): the prompt is put before the
  submission (imports and helpers) and ``check(entry_point)`` is one hidden test.

The code environment's docstring describes the test fields of ``metadata``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from smepo_env.errors import TaskFormatError
from smepo_env.loaders.rows import benchmark_rows, required_field
from smepo_env.tasks import Task

_TEST_CALL = re.compile(
    r"assert\s+(?:not\s+)?\(?\s*(?:set\(|sorted\(|math\.isclose\()?\s*([A-Za-z_]\w*)\s*\("
)
_DEF_NAME = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


def submission_trace(code: str) -> str:
    """A reference solution written as the code environment's final action."""
    return f"<answer>\n```python\n{code.rstrip()}\n```\n</answer>"


def entry_point_of(tests: Iterable[str], code: str = "") -> str:
    """The function a test list calls (``assert name(...)``), else the first ``def`` of ``code``."""
    for test in tests:
        match = _TEST_CALL.search(test)
        if match:
            return match.group(1)
    match = _DEF_NAME.search(code)
    return match.group(1) if match else ""


def load_mbpp(
    split: str = "test",
    path: str | os.PathLike[str] | None = None,
    config: str = "full",
    limit: int | None = None,
) -> list[Task]:
    """MBPP as code tasks (``full``: ``text``, ``code``, ``test_list``, ``test_setup_code``;
    ``sanitized``: ``prompt``, ``code``, ``test_list``, ``test_imports``)."""
    if config not in ("full", "sanitized"):
        raise ValueError(f"config must be 'full' or 'sanitized', got {config!r}")
    tasks = []
    for index, row in enumerate(benchmark_rows(path, "google-research-datasets/mbpp", config, split, limit)):
        tests = [str(t) for t in required_field(row, "test_list", index, "MBPP")]
        if not tests:
            raise TaskFormatError(f"MBPP row {index} has an empty test_list")
        text = str(row.get("text") or row.get("prompt") or "").strip()
        if not text:
            raise TaskFormatError(f"MBPP row {index} has neither 'text' nor 'prompt'")
        code = str(row.get("code") or "")
        setup = str(row.get("test_setup_code") or "") or "\n".join(row.get("test_imports") or ())
        task_id = row.get("task_id", index)
        tasks.append(
            Task(
                id=f"mbpp-{task_id}",
                question=f"{text}\nYour code should pass this test:\n{tests[0]}",
                answers=(code or "pass",),
                question_type="mbpp",
                benchmark="mbpp",
                expert_trace=submission_trace(code) if code else None,
                metadata={"tests": tests, "test_setup": setup, "entry_point": entry_point_of(tests, code)},
            )
        )
    return tasks


def load_humaneval(path: str | os.PathLike[str] | None = None, limit: int | None = None) -> list[Task]:
    """HumanEval as code tasks (``task_id``, ``prompt``, ``canonical_solution``, ``test``,
    ``entry_point``)."""
    tasks = []
    for index, row in enumerate(benchmark_rows(path, "openai/openai_humaneval", None, "test", limit)):
        prompt = str(required_field(row, "prompt", index, "HumanEval"))
        entry_point = str(required_field(row, "entry_point", index, "HumanEval"))
        solution = prompt + str(row.get("canonical_solution") or "")
        tasks.append(
            Task(
                id=str(row.get("task_id") or f"humaneval-{index}"),
                question=f"Implement `{entry_point}` as its docstring describes.\n\n"
                f"```python\n{prompt.rstrip()}\n```",
                answers=(solution,),
                question_type="humaneval",
                benchmark="humaneval",
                expert_trace=submission_trace(solution) if row.get("canonical_solution") else None,
                metadata={
                    "tests": [f"{required_field(row, 'test', index, 'HumanEval')}\n\ncheck({entry_point})\n"],
                    "solution_prefix": prompt,
                    "entry_point": entry_point,
                },
            )
        )
    return tasks
