"""Running a policy over a benchmark split: one episode per task, every step recorded.

:func:`run_scripted` plays a :class:`~smepo_env.evaluation.policies.ScriptedPolicy` through
the real environment (no guidance: evaluation is always unguided) and returns one record per
episode: the task, the score, the answer, turns and tool calls, and the whole transcript.
Model policies go through :mod:`smepo_env.rollout`, which returns records of the same shape.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from tqdm.auto import tqdm

from smepo_env.evaluation.policies import ScriptedPolicy
from smepo_env.tasks import Task

ENV_ID_BY_DOMAIN = {"search": "smepo/SearchQA-v0", "math": "smepo/Math-v0", "code": "smepo/PythonExec-v0"}


def episode_record(
    task: Task, transcript: str, reward: float, info: dict[str, Any], truncated: bool
) -> dict[str, Any]:
    """The record of one finished episode (the same shape for scripted and model policies)."""
    return {
        "task_id": task.id,
        "question": task.question,
        "question_type": task.question_type or "all",
        "answers": list(task.answers),
        "reward": float(reward),
        "exact_match": float(info.get("exact_match", reward)),
        "f1": float(info.get("f1", info.get("pass_fraction", reward))),
        "answer": info.get("answer"),
        "turns": int(info.get("turn", 0)),
        "tool_calls": dict(info.get("tool_calls", {})),
        "truncated": bool(truncated),
        "transcript": transcript,
    }


def run_scripted(
    env: gym.Env, tasks: list[Task], policy: ScriptedPolicy, *, show_progress: bool = True
) -> list[dict[str, Any]]:
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
