"""Arms of the guidance comparison, named by their guidance mode and, when not ``always``, schedule.

``"masked"`` is masked guidance on every prompt; ``"masked-on_failure"`` is masked guidance on
the prompts whose last unguided group failed; ``"prefix"`` shows the first half of the trace
(the partial-trace baseline). :func:`parse_arm` turns a name into trainer options.
"""

from __future__ import annotations

from dataclasses import dataclass

from smepo_env.errors import check_choice
from smepo_env.vocabulary import GUIDANCE_MODES, GUIDANCE_SCHEDULES

DEFAULT_ARMS: tuple[str, ...] = ("none", "prefix", "full", "masked", "masked-on_failure")
"""The comparison's arms: vanilla GRPO, half the trace, the whole trace, SMEPO, SMEPO on failure."""

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
