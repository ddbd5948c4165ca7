"""Complete checkpoints only: marking them, finding the last one to resume from.

``transformers.Trainer`` writes ``checkpoint-N`` folders in several steps (weights, optimizer,
scheduler, RNG state, ``trainer_state.json``), not atomically. :class:`CheckpointMarkerCallback`
writes a ``COMPLETE`` marker (atomically) after the trainer has finished saving a checkpoint,
and :func:`last_complete_checkpoint` picks the newest folder that has the marker and every
file a resume needs, so a run killed while saving resumes from the previous checkpoint
instead of a half-written one.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from smepo_env.files import atomic_file

COMPLETE_MARKER = "COMPLETE"
REQUIRED_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt", "config.json")
_CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")


def is_complete_checkpoint(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` has the marker, the resume files, model weights and an RNG state."""
    folder = Path(path)
    if not (folder / COMPLETE_MARKER).is_file():
        return False
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    has_weights = any(folder.glob("*.safetensors")) or any(folder.glob("pytorch_model*.bin"))
    has_rng = any(folder.glob("rng_state*.pth"))
    return has_weights and has_rng


def last_complete_checkpoint(output_dir: str | os.PathLike[str]) -> Path | None:
    """The newest complete ``checkpoint-N`` in ``output_dir``, or ``None``."""
    root = Path(output_dir)
    if not root.is_dir():
        return None
    found = []
    for child in root.iterdir():
        match = _CHECKPOINT_DIR.match(child.name)
        if match and child.is_dir() and is_complete_checkpoint(child):
            found.append((int(match.group(1)), child))
    return max(found)[1] if found else None


def checkpoint_step(path: str | os.PathLike[str]) -> int:
    """The global step stored in a checkpoint's ``trainer_state.json``."""
    return int(json.loads((Path(path) / "trainer_state.json").read_text())["global_step"])


class CheckpointMarkerCallback(TrainerCallback):
    """Writes the ``COMPLETE`` marker into each checkpoint once the trainer has saved it."""

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            with atomic_file(folder / COMPLETE_MARKER) as handle:
                handle.write(json.dumps({"global_step": state.global_step}) + "\n")
