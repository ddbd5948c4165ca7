"""The guidance schedule's memory in checkpoints, so a resumed run guides as the killed one would.

``on_failure`` remembers, per task, whether its last unguided group earned no reward; that
memory is training state like the optimizer's. :class:`GuidanceScheduleCheckpointCallback`
writes it (atomically) as ``guidance_schedule.json`` into each checkpoint the trainer saves,
before :class:`~smepo_env.training.checkpoints.CheckpointMarkerCallback` marks the checkpoint
complete (it must come first in the trainer's callback list), and
:func:`restore_schedule` reads it back when a run resumes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from smepo_env.files import atomic_file
from smepo_env.guidance.schedules import GuidanceSchedule

SCHEDULE_STATE_FILE = "guidance_schedule.json"


class GuidanceScheduleCheckpointCallback(TrainerCallback):
    """Saves ``schedule.state_dict()`` into every checkpoint folder on save."""

    def __init__(self, schedule: GuidanceSchedule) -> None:
        self.schedule = schedule

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            with atomic_file(folder / SCHEDULE_STATE_FILE) as handle:
                handle.write(json.dumps(self.schedule.state_dict()) + "\n")


def restore_schedule(schedule: GuidanceSchedule, checkpoint: str | os.PathLike[str]) -> bool:
    """Load the memory saved in ``checkpoint`` into ``schedule``.

    Returns:
        ``True`` when the checkpoint held a saved schedule (a checkpoint written before
        schedules existed has none; the schedule then starts empty).

    Raises:
        ValueError: the saved schedule has other settings than ``schedule``.
    """
    path = Path(checkpoint) / SCHEDULE_STATE_FILE
    if not path.is_file():
        return False
    schedule.load_state_dict(json.loads(path.read_text()))
    return True
