"""SMEPO's released parquet schema read back as tasks: ``question``, ``reward_model``, ``teacher_ds``.

The rows are ``{"question", "reward_model": {"style": "rule", "ground_truth": ...},
"teacher_ds"}`` (the expert trace as text), raw or as its training rows (``prompt`` messages,
``extra_info``). The ground truth is the answer for math, a list of aliases (or Search-R1's
``{"target": [...]}``) for search, and the APPS-style ``{"inputs": [...], "outputs": [...],
"fn_name"?: ...}`` (a dict or JSON text) for code. :mod:`smepo_env.traces.smepo_parquet` writes
this schema.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from smepo_env.errors import TaskFormatError
from smepo_env.loaders.rows import check_limit, read_rows
from smepo_env.tasks import Task

SMEPO_DOMAINS: tuple[str, ...] = ("math", "code", "search")


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


def smepo_ground_truth(row: Mapping[str, Any], index: int) -> Any:
    """``reward_model.ground_truth`` of a row (``reward_model`` may be JSON text), else
    ``extra_info.answer``.

    Raises:
        TaskFormatError: the row has neither.
    """
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


def search_answers(truth: Any, index: int) -> tuple[str, ...]:
    """Gold answers from a search ground truth: an answer, a list of aliases or ``{"target": [...]}``.

    Raises:
        TaskFormatError: no answer can be read from it.
    """
    if isinstance(truth, Mapping):
        truth = truth.get("target", truth.get("answers"))
    if hasattr(truth, "tolist"):  # numpy arrays, from a pandas-written parquet read elsewhere
        truth = truth.tolist()
    if isinstance(truth, str | int | float) and not isinstance(truth, bool):
        truth = [truth]
    answers = tuple(str(a) for a in truth if str(a).strip()) if isinstance(truth, list | tuple) else ()
    if not answers:
        raise TaskFormatError(
            f"row {index}: search ground truth must be an answer or a list, got {truth!r:.80}"
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
    if domain not in SMEPO_DOMAINS:
        raise ValueError(f"domain must be 'math', 'code' or 'search', got {domain!r}")
    check_limit(limit)
    tasks = []
    for index, row in enumerate(read_rows(path)[:limit]):
        question = _smepo_question(row)
        if not question.strip():
            raise TaskFormatError(
                f"SMEPO row {index} has no question (checked 'question', extra_info and prompt)"
            )
        truth = smepo_ground_truth(row, index)
        trace = row.get("teacher_ds") or (row.get("extra_info") or {}).get("teacher_ds") or None
        source = str(row.get("data_source") or f"smepo-{domain}")
        if domain == "search":
            answers, metadata = search_answers(truth, index), {}
        elif domain == "math":
            answers, metadata = (str(truth),), {}
        else:
            metadata = smepo_code_tests(truth)
            answers = ("pass",)  # the tests decide; no reference solution is released
        tasks.append(
            Task(
                id=str(row.get("id") or f"{source}-{index:06d}"),
                question=question.strip(),
                answers=answers,
                question_type=str(row.get("question_type") or source),
                benchmark=source,
                expert_trace=trace,
                metadata=metadata,
            )
        )
    return tasks
