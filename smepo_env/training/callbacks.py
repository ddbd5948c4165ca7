"""Trainer callbacks: per-step metrics to JSONL, and held-out unguided evaluation during training.

:class:`JsonlMetricsCallback` appends every log record (TRL's reward, reward std,
``frac_reward_zero_std`` (the share of groups whose rewards are all equal), completion
lengths, loss, plus the episode metrics the rollout function adds) with the step and the
seconds since the previous step to ``<output_dir>/metrics.jsonl``; on resume the records
after the checkpoint's step are dropped first, so the file stays one record per step.

:class:`HeldOutEvalCallback` evaluates the current policy greedily and unguided on the
held-out tasks every ``eval_steps`` steps and logs ``heldout/success`` (and the other summary
means) through the trainer (so it reaches ``report_to`` and the JSONL as well).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a metrics JSONL file (empty when missing)."""
    file = Path(path)
    if not file.is_file():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]


def truncate_metrics(path: str | os.PathLike[str], last_step: int) -> None:
    """Keep only records with ``step <= last_step`` (used when resuming)."""
    from smepo_env.files import atomic_file

    records = [r for r in read_metrics(path) if r.get("step", 0) <= last_step]
    if Path(path).is_file():
        with atomic_file(path) as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")


class JsonlMetricsCallback(TrainerCallback):
    """Appends each log record, with ``step`` and ``seconds_per_step``, to a JSONL file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._last_time: float | None = None
        self._last_step: int | None = None

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._last_time is None:
            self._last_time, self._last_step = time.perf_counter(), state.global_step

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        record: dict[str, Any] = {"step": state.global_step, **logs}
        now = time.perf_counter()
        if "loss" in logs and self._last_time is not None and state.global_step > (self._last_step or 0):
            record["seconds_per_step"] = (now - self._last_time) / (
                state.global_step - (self._last_step or 0)
            )
            self._last_time, self._last_step = now, state.global_step
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


class HeldOutEvalCallback(TrainerCallback):
    """Every ``eval_steps`` steps, run ``evaluate(model) -> dict`` and log it under ``heldout/``.

    Args:
        evaluate: plays the held-out tasks with the given model; returns summary numbers.
        eval_steps: the interval in steps (0 disables in-training evaluation).
    """

    def __init__(self, evaluate: Callable[[Any], dict[str, float]], eval_steps: int) -> None:
        self.evaluate = evaluate
        self.eval_steps = eval_steps
        self.trainer: Any = None

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not self.eval_steps or state.global_step % self.eval_steps or state.global_step >= state.max_steps:
            return
        summary = self.evaluate(model)
        if self.trainer is not None:
            self.trainer.log({f"heldout/{k}": v for k, v in summary.items()})
