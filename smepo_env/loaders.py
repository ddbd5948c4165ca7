"""Loaders of real math and code benchmarks, and of SMEPO's parquet files, as lists of :class:`Task`.

Every loader reads a local file when ``path`` is given (``.jsonl``, ``.json`` or ``.parquet``
with the benchmark's own columns) and otherwise downloads the benchmark from the Hugging Face
Hub through ``datasets`` (network; only when the user calls it). Nothing here is used by the
bundled benchmarks or the tests' default paths.

* :func:`load_gsm8k` (``openai/gsm8k``): the answer after ``####``; the worked solution,
  without its ``<<…>>`` calculator notes, becomes the expert trace.
* :func:`load_math500` (``HuggingFaceH4/MATH-500``): the ``answer`` column; the solution is
  the expert trace; ``question_type`` is the subject, ``metadata["level"]`` the level.
* :func:`load_mbpp` (``google-research-datasets/mbpp``, ``full`` or ``sanitized``): the
  question shows the first test (as the MBPP paper's prompt does); all tests are hidden tests.
* :func:`load_humaneval` (``openai/openai_humaneval``): the prompt is put before the
  submission (imports and helpers) and ``check(entry_point)`` is one hidden test.
* :func:`load_smepo_parquet`: SMEPO's released schema, ``question``, ``reward_model =
  {"style": "rule", "ground_truth": ...}`` and ``teacher_ds`` (the expert trace), raw or as
  its training rows (``prompt`` messages, ``extra_info``). For code the ground truth is the
  APPS-style ``{"inputs": [...], "outputs": [...], "fn_name"?: ...}`` (a dict or JSON text).

Math tasks play in ``smepo/Math-v0`` and code tasks in ``smepo/PythonExec-v0``, whose
docstring describes the test fields of ``metadata``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from smepo_env.errors import TaskFormatError
from smepo_env.tasks import Task

_CALCULATOR_NOTE = re.compile(r"<<[^<>]*>>")
_TEST_CALL = re.compile(
    r"assert\s+(?:not\s+)?\(?\s*(?:set\(|sorted\(|math\.isclose\()?\s*([A-Za-z_]\w*)\s*\("
)
_DEF_NAME = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


# ----- reading rows ------------------------------------------------------------------------------
def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a local ``.jsonl``, ``.json`` (a list of objects) or ``.parquet`` file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: another extension, or a line that is not a JSON object.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a JSON list of objects, got {type(rows).__name__}")
        return rows
    if suffix == ".jsonl":
        rows = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{path}:{number}: invalid JSON ({error.msg})") from None
        return rows
    raise ValueError(f"unsupported file type {suffix!r} for {path}; expected .jsonl, .json or .parquet")


def _hub_rows(repository: str, config: str | None, split: str) -> list[dict[str, Any]]:
    """Download a benchmark split from the Hugging Face Hub (network)."""
    import datasets

    return list(datasets.load_dataset(repository, config, split=split))


def _rows(
    path: str | os.PathLike[str] | None, repository: str, config: str | None, split: str, limit: int | None
) -> list[dict[str, Any]]:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    rows = read_rows(path) if path is not None else _hub_rows(repository, config, split)
    return rows[:limit] if limit is not None else rows


def _field(row: Mapping[str, Any], name: str, index: int, source: str) -> Any:
    if name not in row or row[name] is None:
        raise TaskFormatError(f"{source} row {index} has no {name!r} field; its fields are {sorted(row)}")
    return row[name]


def _submission_trace(code: str) -> str:
    """A reference solution written as the code environment's final action."""
    return f"<answer>\n```python\n{code.rstrip()}\n```\n</answer>"


# ----- math --------------------------------------------------------------------------------------
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
    for index, row in enumerate(_rows(path, "openai/gsm8k", "main", split, limit)):
        solution = str(_field(row, "answer", index, "GSM8K"))
        final = gsm8k_final_answer(solution)
        reasoning = _CALCULATOR_NOTE.sub("", solution.rsplit("####", 1)[0]).strip()
        tasks.append(
            Task(
                id=f"gsm8k-{split}-{index:05d}",
                question=str(_field(row, "question", index, "GSM8K")).strip(),
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
    for index, row in enumerate(_rows(path, "HuggingFaceH4/MATH-500", None, "test", limit)):
        answer = str(_field(row, "answer", index, "MATH-500")).strip()
        solution = str(row.get("solution") or "").strip()
        trace = f"<think>{solution}</think>\n<answer>\\boxed{{{answer}}}</answer>" if solution else None
        tasks.append(
            Task(
                id=str(row.get("unique_id") or f"math500-{index:05d}"),
                question=str(_field(row, "problem", index, "MATH-500")).strip(),
                answers=(answer,),
                question_type=str(row.get("subject") or "math"),
                benchmark="math-500",
                expert_trace=trace,
                metadata={"level": row.get("level")},
            )
        )
    return tasks


# ----- code --------------------------------------------------------------------------------------
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
    for index, row in enumerate(_rows(path, "google-research-datasets/mbpp", config, split, limit)):
        tests = [str(t) for t in _field(row, "test_list", index, "MBPP")]
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
                expert_trace=_submission_trace(code) if code else None,
                metadata={"tests": tests, "test_setup": setup, "entry_point": entry_point_of(tests, code)},
            )
        )
    return tasks


def load_humaneval(path: str | os.PathLike[str] | None = None, limit: int | None = None) -> list[Task]:
    """HumanEval as code tasks (``task_id``, ``prompt``, ``canonical_solution``, ``test``,
    ``entry_point``)."""
    tasks = []
    for index, row in enumerate(_rows(path, "openai/openai_humaneval", None, "test", limit)):
        prompt = str(_field(row, "prompt", index, "HumanEval"))
        entry_point = str(_field(row, "entry_point", index, "HumanEval"))
        solution = prompt + str(row.get("canonical_solution") or "")
        tasks.append(
            Task(
                id=str(row.get("task_id") or f"humaneval-{index}"),
                question=f"Implement `{entry_point}` as its docstring describes.\n\n"
                f"```python\n{prompt.rstrip()}\n```",
                answers=(solution,),
                question_type="humaneval",
                benchmark="humaneval",
                expert_trace=_submission_trace(solution) if row.get("canonical_solution") else None,
                metadata={
                    "tests": [f"{_field(row, 'test', index, 'HumanEval')}\n\ncheck({entry_point})\n"],
                    "solution_prefix": prompt,
                    "entry_point": entry_point,
                },
            )
        )
    return tasks


# ----- SMEPO parquet ------------------------------------------------------------------------------
def _smepo_question(row: Mapping[str, Any]) -> str:
    extra = row.get("extra_info") or {}
    question = row.get("question") or extra.get("question")
    if not question:
        users = [
            m.get("content")
            for m in row.get("prompt") or ()
            if isinstance(m, Mapping) and m.get("role") == "user"
        ]
        question = users[-1] if users else None
    return str(question or "")


def _ground_truth(row: Mapping[str, Any], index: int) -> Any:
    reward_model = row.get("reward_model")
    if isinstance(reward_model, str):
        reward_model = json.loads(reward_model)
    if isinstance(reward_model, Mapping) and reward_model.get("ground_truth") is not None:
        return reward_model["ground_truth"]
    extra = row.get("extra_info") or {}
    if extra.get("answer") is not None:
        return extra["answer"]
    raise TaskFormatError(f"SMEPO row {index} has no reward_model.ground_truth; its fields are {sorted(row)}")


def smepo_code_tests(ground_truth: Any) -> dict[str, Any]:
    """Hidden-test metadata from an APPS-style ground truth (call-based with ``fn_name``, else stdio).

    Raises:
        TaskFormatError: not a dict (or JSON text of one) with equally long ``inputs`` and ``outputs``.
    """
    cases = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    if not isinstance(cases, Mapping) or "inputs" not in cases or "outputs" not in cases:
        raise TaskFormatError(
            f"code ground_truth must hold 'inputs' and 'outputs', got {str(ground_truth)[:80]!r}"
        )
    inputs, outputs = list(cases["inputs"]), list(cases["outputs"])
    if len(inputs) != len(outputs) or not inputs:
        raise TaskFormatError(
            f"code ground_truth needs as many outputs as inputs (>0), got {len(inputs)} and {len(outputs)}"
        )
    name = cases.get("fn_name")
    if name:
        tests = [
            f"_function = globals().get({name!r}) or getattr(globals()['Solution'](), {name!r})\n"
            f"_result = _function(*{arguments!r})\n_expected = {expected!r}\n"
            "if isinstance(_result, tuple):\n    _result = list(_result)\n"
            "assert _result == _expected or [_result] == _expected\n"
            for arguments, expected in zip(inputs, outputs, strict=True)
        ]
        return {"tests": tests, "entry_point": str(name)}

    def text(value: Any) -> str:
        return "\n".join(map(str, value)) if isinstance(value, list) else str(value)

    return {
        "stdio_tests": [{"input": text(i), "output": text(o)} for i, o in zip(inputs, outputs, strict=True)]
    }


def _search_answers(truth: Any, index: int) -> tuple[str, ...]:
    if isinstance(truth, dict):
        truth = truth.get("target", truth.get("answers"))
    if isinstance(truth, str):
        truth = [truth]
    answers = (
        tuple(str(a) for a in (truth if isinstance(truth, list | tuple) else [])) if truth is not None else ()
    )
    if hasattr(truth, "tolist"):  # numpy arrays from parquet
        answers = tuple(str(a) for a in truth.tolist())
    if not answers:
        raise TaskFormatError(
            f"SMEPO row {index}: search ground truth must be an answer or a list, got {truth!r:.80}"
        )
    return answers


def load_smepo_parquet(
    path: str | os.PathLike[str], domain: str = "math", limit: int | None = None
) -> list[Task]:
    """Tasks from a SMEPO parquet (or JSONL) file; ``teacher_ds`` becomes the expert trace.

    Args:
        path: the file.
        domain: ``"math"`` (ground truth = the answer), ``"code"`` (ground truth = tests) or
            ``"search"`` (ground truth = an answer, a list of aliases, or Search-R1's
            ``{"target": [...]}``).
        limit: read only the first ``limit`` rows.

    Raises:
        ValueError: unknown ``domain``.
        TaskFormatError: a row without a question or ground truth (the message names the row).
    """
    if domain not in ("math", "code", "search"):
        raise ValueError(f"domain must be 'math', 'code' or 'search', got {domain!r}")
    tasks = []
    for index, row in enumerate(_rows(path, "", None, "", limit)):
        question = _smepo_question(row)
        if not question.strip():
            raise TaskFormatError(
                f"SMEPO row {index} has no question (checked 'question', extra_info and prompt)"
            )
        truth = _ground_truth(row, index)
        trace = row.get("teacher_ds") or (row.get("extra_info") or {}).get("teacher_ds") or None
        source = str(row.get("data_source") or f"smepo-{domain}")
        if domain == "search":
            answers, metadata = _search_answers(truth, index), {}
        elif domain == "math":
            answers, metadata = (str(truth),), {}
        else:
            metadata = smepo_code_tests(truth)
            answers = ("pass",)  # the tests decide; no reference solution is released
        tasks.append(
            Task(
                id=f"{source}-{index:06d}",
                question=question.strip(),
                answers=answers,
                question_type=source,
                benchmark=source,
                expert_trace=trace,
                metadata=metadata,
            )
        )
    return tasks
