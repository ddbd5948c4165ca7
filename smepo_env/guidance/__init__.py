"""Expert guidance: the expert's trace shown in the prompt, whole, cut, or semantically masked.

See :class:`smepo_env.guidance.wrapper.ExpertGuidanceWrapper`. ``gym.make`` applies it to every
``smepo/*`` id through the ``expert_guidance`` keyword. When a trainer shows it (always, on
failure, annealed) is :class:`smepo_env.guidance.schedules.GuidanceSchedule`.
"""

from smepo_env.guidance.schedules import GuidanceDecision, GuidanceSchedule, set_shown_share
from smepo_env.guidance.wrapper import (
    DEFAULT_INTRO,
    DEFAULT_MASKED_TAIL,
    DEFAULT_TAIL,
    GUIDANCE_KWARGS,
    GUIDANCE_MODES,
    ExpertGuidanceWrapper,
    cut_prefix,
    load_trace_file,
    make_guided_env,
    wrap_with_guidance,
)

__all__ = [
    "DEFAULT_INTRO",
    "DEFAULT_MASKED_TAIL",
    "DEFAULT_TAIL",
    "GUIDANCE_KWARGS",
    "GUIDANCE_MODES",
    "ExpertGuidanceWrapper",
    "GuidanceDecision",
    "GuidanceSchedule",
    "cut_prefix",
    "load_trace_file",
    "make_guided_env",
    "set_shown_share",
    "wrap_with_guidance",
]
