"""Multi-turn rollouts shared by training and evaluation.

* :func:`run_episodes` plays a batch of episodes, each one assistant completion with the
  environment's observations spliced in as tokens, ``env_mask`` 0 on them.
* :class:`TransformersGenerator` generates the turns with plain ``model.generate``.
"""

from smepo_env.rollout.episodes import Episode, chat_prompt_ids, run_episodes
from smepo_env.rollout.generation import (
    STOP_STRINGS,
    GeneratedTurn,
    TransformersGenerator,
    TurnGenerator,
    cut_at_stop,
)

__all__ = [
    "STOP_STRINGS",
    "Episode",
    "GeneratedTurn",
    "TransformersGenerator",
    "TurnGenerator",
    "chat_prompt_ids",
    "cut_at_stop",
    "run_episodes",
]
