"""The one result type every scorer returns.

A scorer turns a final answer into a :class:`Verdict`: the terminal reward, whether the answer
is correct, and the scorer's own metrics for ``info`` (F1 for QA, the parsed answer for math,
the pass fraction for code). Environments put ``correct`` and the metrics into ``info`` and the
reward into ``step``'s return, so every consumer (training, evaluation, reports) reads success
from ``info["correct"]`` whatever the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """A scored final answer.

    Attributes:
        reward: the terminal reward (1.0 or 0.0 for every bundled scorer).
        correct: the answer solves the task.
        metrics: scorer-specific entries for ``info`` (never the gold answers or the tests).
    """

    reward: float
    correct: bool
    metrics: Mapping[str, Any] = field(default_factory=dict)
