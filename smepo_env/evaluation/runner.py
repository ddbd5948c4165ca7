"""Running a policy over a benchmark split: one episode per task, every step recorded.

:func:`run_scripted` plays a :class:`~smepo_env.evaluation.policies.ScriptedPolicy` through
the real environment (no guidance: evaluation is always unguided) and returns one record per
episode: the task, the score, the answer, turns and tool calls, and the whole transcript.
Model policies go through :mod:`smepo_env.evaluation.model_policy`, which returns the same
:class:`~smepo_env.evaluation.records.EpisodeRecord`.
"""

from __future__ import annotations

import gymnasium as gym
from tqdm.auto import tqdm

from smepo_env.evaluation.policies import ScriptedPolicy
from smepo_env.evaluation.records import EpisodeRecord, episode_record
from smepo_env.tasks import Task


def run_scripted(
    env: gym.Env, tasks: list[Task], policy: ScriptedPolicy, *, show_progress: bool = True
) -> list[EpisodeRecord]:
    """Play ``policy`` once on each of ``tasks`` (given by index into the env's task list)."""
    records = []
    for index, task in enumerate(tqdm(tasks, desc=f"{policy.name}", disable=not show_progress, leave=False)):
        observation, info = env.reset(seed=index, options={"task_id": task.id})
        policy.start(task, observation)
        pieces = [observation]
        reward, terminated, truncated = 0.0, False, False
        while not (terminated or truncated):
            action = policy.act(observation)
            observation, reward, terminated, truncated, info = env.step(action)
            pieces += [action, observation]
        records.append(episode_record(task, "".join(pieces), reward, info, truncated))
    return records
