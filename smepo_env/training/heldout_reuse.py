"""Reuse of the held-out evaluation before training across runs that start from the same model.

Every run of a comparison (arms x seeds) starts from one checkpoint and evaluates it on the same
held-out questions, unguided and greedy, before its first step: the same number each time (all
16 runs of the guidance comparison recorded 0.007), at about a minute of CPU per run. With
``--heldout_before_file PATH`` the trainer saves that evaluation to ``PATH`` together with a key
of everything it depends on, and a later run whose key is equal reads it back instead of
playing the questions again. The key holds:

* the start model: its path and the size and modification time of each weight file, so a
  rebuilt checkpoint at the same path is evaluated afresh;
* the evaluated task ids (which already encode the benchmark, split, types and count) and the
  evaluation env's constructor kwargs (turns, top-k, ...);
* what decides the play: the protocol, token budgets, the batch size, the generation precision
  and whether it runs on vLLM (the numerics differ slightly between engines and batchings).

Arm and seed are not part of it: held-out evaluation is unguided and greedy, and its questions
are drawn with a fixed seed. A file whose key differs is ignored (and replaced by this run's
evaluation), so a stale file costs one evaluation, never a wrong figure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smepo_env.files import atomic_file

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


def model_fingerprint(model_location: str) -> dict[str, Any]:
    """The model's path, and the name, size and modification time of each weight file in it.

    A hub id (not a local directory) is fingerprinted by its name alone.
    """
    directory = Path(model_location)
    files = {}
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.is_file() and path.name.endswith(WEIGHT_SUFFIXES):
                stat = path.stat()
                files[path.name] = [stat.st_size, stat.st_mtime_ns]
    name = os.path.abspath(model_location) if directory.is_dir() else model_location
    return {"model": name, "files": files}


def evaluation_key(
    model_location: str,
    task_ids: Sequence[str],
    env_id: str,
    env_kwargs: dict[str, Any],
    play: dict[str, Any],
) -> dict[str, Any]:
    """Everything the before-training evaluation depends on, as a JSON-comparable dict.

    Args:
        model_location: the start model (a local directory or a hub id).
        task_ids: the held-out task ids, in order.
        env_id: the registered environment id.
        env_kwargs: the evaluation env's constructor kwargs.
        play: protocol, token budgets, precision, engine: whatever else decides the episodes.
    """
    key = {
        "start_model": model_fingerprint(model_location),
        "task_ids": list(task_ids),
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "play": play,
    }
    return json.loads(json.dumps(key, sort_keys=True, default=str))


def load_summary(path: str | os.PathLike[str], key: dict[str, Any]) -> dict[str, Any] | None:
    """The saved evaluation summary at ``path`` if its key equals ``key``, else ``None``."""
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key or not isinstance(saved.get("summary"), dict):
        return None
    return saved["summary"]


def save_summary(path: str | os.PathLike[str], key: dict[str, Any], summary: dict[str, Any]) -> None:
    """Write ``summary`` with its ``key`` to ``path`` (atomically)."""
    with atomic_file(path) as handle:
        handle.write(json.dumps({"key": key, "summary": summary}, indent=1, sort_keys=True) + "\n")


def evaluate_or_reuse(
    path: str | os.PathLike[str],
    key: dict[str, Any],
    evaluate: Callable[[], dict[str, Any]],
    *,
    save: bool = True,
    log: Any = print,
) -> dict[str, Any]:
    """The summary saved at ``path`` under ``key``; else ``evaluate()``, saved there if ``save``."""
    summary = load_summary(path, key)
    if summary is not None:
        log(f"[eval] held-out evaluation before GRPO reused from {path}")
        return summary
    summary = evaluate()
    if save:
        save_summary(path, key, summary)
    return summary
