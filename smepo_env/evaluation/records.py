"""The one record of a finished evaluation episode, for scripted and model policies alike.

Every consumer (the report tables, ``results.json``, the trainer's held-out metric) reads the
same fields: success is ``correct`` (the env's scorer decided it, see
:mod:`smepo_env.scoring`), tool use is ``tool_calls`` counted per tool, and the scorer's own
metrics (``exact_match``/``f1`` for QA, ``pass_fraction`` for code) are kept when the env
reported them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

SCORER_METRICS: tuple[str, ...] = ("exact_match", "f1", "pass_fraction")
"""Scorer metrics copied from the final ``info`` into the record when the env reports them."""


class EpisodeRecord(TypedDict, total=False):
    """One finished episode (``exact_match``, ``f1``, ``pass_fraction``: only where reported)."""

    task_id: str
    question: str
    question_type: str
    answers: list[str]
    reward: float
    correct: bool
    answer: str | None
    turns: int
    tool_calls: dict[str, int]
    truncated: bool
    transcript: str
    exact_match: float
    f1: float
    pass_fraction: float


def episode_record(
    task: Any, transcript: str, reward: float, info: Mapping[str, Any], truncated: bool
) -> EpisodeRecord:
    """The record of one finished episode from its task and the env's last ``info``."""
    record = EpisodeRecord(
        task_id=task.id,
        question=task.question,
        question_type=task.question_type or "all",
        answers=list(task.answers),
        reward=float(reward),
        correct=bool(info.get("correct", False)),
        answer=info.get("answer"),
        turns=int(info.get("turn", 0)),
        tool_calls={str(k): int(v) for k, v in dict(info.get("tool_calls", {})).items()},
        truncated=bool(truncated),
        transcript=transcript,
    )
    for name in SCORER_METRICS:
        if name in info:
            record[name] = float(info[name])  # type: ignore[literal-required]
    return record
