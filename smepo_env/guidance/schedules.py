"""Guidance schedules: which training prompts carry the expert trace, and how much of it.

The guidance mode (:data:`smepo_env.vocabulary.GUIDANCE_MODES`) says *how* the trace is shown;
the schedule (:data:`smepo_env.vocabulary.GUIDANCE_SCHEDULES`) says *when*:

* ``always``: every training prompt is guided, with the mode's own share of the trace
  (``prefix_ratio``: 0.5 for ``prefix``, 1.0 otherwise). This is the behaviour without a schedule.
* ``on_failure``: a task is guided only when its *last unguided group* earned no reward (every
  episode of the group scored ``<= 0``): the hard problems, as hint-based methods do. A task
  never yet played unguided is played unguided first (that group is the probe); once its last
  unguided group failed, it stays guided until an unguided group of it is recorded again (in a
  plain GRPO run that does not happen: the schedule does not re-probe).
* ``anneal``: every prompt is guided, but the shown share of the trace decays linearly with
  the training step ``t`` (0-based, as the trainer counts before the step runs)::

      share(t) = prefix_ratio * max(0, 1 - t / anneal_steps)

  so step 0 shows the mode's whole share and steps ``>= anneal_steps`` show none (the prompt is
  then unguided). The share is cut on characters, back to a line boundary, by
  :func:`smepo_env.guidance.cut_prefix`, so the shown text shrinks as the share does.

A :class:`GuidanceSchedule` decides per task and step (:meth:`GuidanceSchedule.decide`), learns
from each finished group (:meth:`GuidanceSchedule.record`), and round-trips its memory through
:meth:`~GuidanceSchedule.state_dict`, so a resumed run decides as the killed one would have.
:func:`set_shown_share` points a guided env at the decided share before its ``reset``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from smepo_env.errors import check_choice
from smepo_env.guidance.wrapper import DEFAULT_PREFIX_RATIO, ExpertGuidanceWrapper
from smepo_env.vocabulary import GUIDANCE_MODES, GUIDANCE_SCHEDULES


@dataclass(frozen=True)
class GuidanceDecision:
    """How one task's prompts are shown at one step.

    Attributes:
        guided: whether the prompt carries the expert trace.
        shown_share: the share of the trace shown when guided (the wrapper's ``prefix_ratio``);
            0.0 when unguided.
    """

    guided: bool
    shown_share: float


UNGUIDED = GuidanceDecision(guided=False, shown_share=0.0)


class GuidanceSchedule:
    """Decides, per task and training step, whether and how much of the expert trace is shown.

    Args:
        schedule: one of :data:`~smepo_env.vocabulary.GUIDANCE_SCHEDULES` (see the module docstring).
        mode: the guidance mode; with ``"none"`` every decision is unguided and only ``always``
            is accepted.
        prefix_ratio: the share of the trace a guided prompt shows (``None``: the mode's
            default, 0.5 for ``prefix`` and 1.0 otherwise); ``anneal`` decays from it.
        anneal_steps: with ``anneal``, the step at which the shown share reaches 0 (>= 1).

    Raises:
        ValueError: an unknown schedule or mode (naming the valid ones), a schedule other than
            ``always`` with mode ``none``, a ratio outside (0, 1], or ``anneal`` without
            ``anneal_steps >= 1``.
    """

    def __init__(
        self,
        schedule: str = "always",
        mode: str = "masked",
        *,
        prefix_ratio: float | None = None,
        anneal_steps: int = 0,
    ) -> None:
        self.schedule = check_choice("guidance_schedule", schedule, GUIDANCE_SCHEDULES)
        self.mode = check_choice("expert_guidance", mode, GUIDANCE_MODES)
        if mode == "none" and schedule != "always":
            raise ValueError(
                f"guidance_schedule {schedule!r} needs a guidance mode other than 'none' "
                f"(one of {[m for m in GUIDANCE_MODES if m != 'none']})"
            )
        ratio = DEFAULT_PREFIX_RATIO[mode] if prefix_ratio is None else prefix_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
            raise ValueError(f"prefix_ratio must be a number in (0, 1], got {prefix_ratio!r}")
        self.prefix_ratio = float(ratio)
        if schedule == "anneal" and (isinstance(anneal_steps, bool) or anneal_steps < 1):
            raise ValueError(f"the anneal schedule needs anneal_steps >= 1, got {anneal_steps!r}")
        self.anneal_steps = int(anneal_steps)
        self._last_unguided_failed: dict[str, bool] = {}

    def shown_share(self, step: int) -> float:
        """The share of the trace a guided prompt shows at ``step`` (before any on_failure choice)."""
        if self.mode == "none":
            return 0.0
        if self.schedule != "anneal":
            return self.prefix_ratio
        return self.prefix_ratio * max(0.0, 1.0 - step / self.anneal_steps)

    def decide(self, task_id: str, step: int) -> GuidanceDecision:
        """Whether ``task_id``'s prompts are guided at ``step``, and with which share of the trace."""
        share = self.shown_share(step)
        if share <= 0.0:
            return UNGUIDED
        if self.schedule == "on_failure" and not self._last_unguided_failed.get(str(task_id), False):
            return UNGUIDED
        return GuidanceDecision(guided=True, shown_share=share)

    def record(self, task_id: str, guided: bool, rewards: Iterable[float]) -> None:
        """Learn from one finished group of ``task_id`` (its episodes' rewards).

        Only unguided groups count: a task's memory is whether its last unguided group earned no
        reward. Guided groups leave it unchanged.
        """
        values = [float(r) for r in rewards]
        if guided or not values:
            return
        self._last_unguided_failed[str(task_id)] = all(r <= 0.0 for r in values)

    def failed_tasks(self) -> list[str]:
        """The tasks whose last unguided group earned no reward, sorted."""
        return sorted(task for task, failed in self._last_unguided_failed.items() if failed)

    def state_dict(self) -> dict[str, Any]:
        """The schedule's settings and memory, JSON-serializable."""
        return {
            "schedule": self.schedule,
            "mode": self.mode,
            "prefix_ratio": self.prefix_ratio,
            "anneal_steps": self.anneal_steps,
            "last_unguided_failed": dict(sorted(self._last_unguided_failed.items())),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the memory saved by :meth:`state_dict`.

        The share and ``anneal_steps`` stay this schedule's own (a resumed run may train longer
        than the killed one planned); the memory is only taken from the same schedule and mode.

        Raises:
            ValueError: the state was saved by a schedule of another kind or mode.
        """
        mine = self.state_dict()
        for key in ("schedule", "mode"):
            if state.get(key) != mine[key]:
                raise ValueError(
                    f"saved guidance schedule has {key}={state.get(key)!r}, this run has {mine[key]!r}"
                )
        self._last_unguided_failed = {str(k): bool(v) for k, v in state["last_unguided_failed"].items()}


def guidance_wrapper(env: gym.Env) -> ExpertGuidanceWrapper:
    """The :class:`ExpertGuidanceWrapper` inside ``env`` (``gym.make`` adds wrappers around it).

    Raises:
        ValueError: ``env`` has no guidance wrapper.
    """
    current: Any = env
    while True:
        if isinstance(current, ExpertGuidanceWrapper):
            return current
        if not isinstance(current, gym.Wrapper):
            raise ValueError(f"{env!r} has no ExpertGuidanceWrapper; make it with gym.make('smepo/...')")
        current = current.env


def set_shown_share(env: gym.Env, share: float) -> None:
    """Make ``env``'s next ``reset`` show ``share`` of the trace (in (0, 1]).

    Raises:
        ValueError: ``share`` outside (0, 1], or ``env`` has no guidance wrapper.
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"shown share must be in (0, 1], got {share!r}")
    guidance_wrapper(env).prefix_ratio = float(share)
