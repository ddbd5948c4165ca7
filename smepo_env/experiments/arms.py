"""Arms of the guidance comparison, named by their guidance mode and, when not ``always``, schedule.

``"masked"`` is masked guidance on every prompt; ``"masked-anneal"`` shows a
linearly shrinking share of the masked trace (all of it at step 0, 1/8 of it at the last of 8
steps); ``"masked-on_failure"`` is masked guidance on the prompts whose last unguided group
failed; ``"prefix"`` shows the first half of the trace (the partial-trace baseline).
:func:`parse_arm` turns a name into trainer options.

The fifth default arm is ``masked-anneal``: ``masked-on_failure`` was run first and never guided
in the comparison's setting (2 prompts a step from some 700 questions, 8 steps: no prompt comes
back, so every prompt stays unguided and the arm is vanilla GRPO); ``anneal`` acts in every step
and moves towards the unguided prompts that evaluation uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from smepo_env.errors import check_choice
from smepo_env.vocabulary import GUIDANCE_MODES, GUIDANCE_SCHEDULES

DEFAULT_ARMS: tuple[str, ...] = ("none", "prefix", "full", "masked", "masked-anneal")
"""The comparison's arms: vanilla GRPO, half the trace, the whole trace, SMEPO, SMEPO annealed."""

PREFIX_ARM_RATIO = 0.5
"""The share of the trace the ``prefix`` arm shows (the wrapper's default for ``prefix``)."""


@dataclass(frozen=True)
class Arm:
    """One arm: a guidance mode and schedule.

    Attributes:
        name: ``mode`` or ``mode-schedule``.
        mode: one of :data:`~smepo_env.vocabulary.GUIDANCE_MODES`.
        schedule: one of :data:`~smepo_env.vocabulary.GUIDANCE_SCHEDULES`.
    """

    name: str
    mode: str
    schedule: str = "always"

    def trainer_options(self) -> list[str]:
        """The trainer's command-line options that select this arm."""
        return ["--expert_guidance", self.mode, "--guidance_schedule", self.schedule]


def parse_arm(name: str) -> Arm:
    """The :class:`Arm` named ``name`` (``"masked"``, ``"masked-anneal"``, ...).

    Raises:
        ValueError: an unknown mode or schedule (naming the valid ones), or a schedule on ``none``.
    """
    mode, _, schedule = str(name).partition("-")
    check_choice("arm guidance mode", mode, GUIDANCE_MODES)
    if not schedule:
        return Arm(name=mode, mode=mode)
    check_choice("arm guidance schedule", schedule, GUIDANCE_SCHEDULES)
    if mode == "none":
        raise ValueError(f"arm {name!r}: the 'none' arm has no guidance to schedule")
    if schedule == "always":
        return Arm(name=mode, mode=mode)
    return Arm(name=f"{mode}-{schedule}", mode=mode, schedule=schedule)
