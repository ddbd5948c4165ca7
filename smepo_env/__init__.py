"""smepo-env: gymnasium environments for LLM agents with SMEPO expert guidance.

Importing this package registers every ``smepo/*`` environment id, all in this one place::

    import gymnasium as gym
    import smepo_env
    env = gym.make("smepo/SearchQA-v0", expert_guidance="masked")

``gym.make("smepo_env:smepo/SearchQA-v0")`` works without the import. Every id accepts the
``expert_guidance`` keyword (``"none"``, ``"full"``, ``"prefix"``, ``"masked"``) and the other
guidance options; see :mod:`smepo_env.guidance`.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

ENV_IDS: tuple[str, ...] = ("smepo/SearchQA-v0", "smepo/Math-v0", "smepo/PythonExec-v0")
"""Every environment id this package registers."""

ENV_ID_BY_DOMAIN: dict[str, str] = {
    "search": "smepo/SearchQA-v0",
    "math": "smepo/Math-v0",
    "code": "smepo/PythonExec-v0",
}
"""The environment that plays each domain's tasks (see :data:`smepo_env.vocabulary.DOMAINS`)."""

_ENTRY_POINTS = {
    "smepo/SearchQA-v0": "smepo_env.envs.search_qa:make_search_qa_env",
    "smepo/Math-v0": "smepo_env.envs.math_env:make_math_env",
    "smepo/PythonExec-v0": "smepo_env.envs.python_exec:make_python_exec_env",
}

for _env_id in ENV_IDS:
    if _env_id not in registry:
        # max_episode_steps is left unset: each env ends its own episode after ``max_turns``
        # with truncated=True, so a gymnasium TimeLimit would only duplicate it.
        register(id=_env_id, entry_point=_ENTRY_POINTS[_env_id])
