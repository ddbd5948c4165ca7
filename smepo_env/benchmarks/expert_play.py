"""Letting the scripted expert play each bundled task in the real environment of its domain.

Every bundled task carries an expert trace that is a transcript of the real environment (the
expert's actions and the observations the environment returned), and is kept only when the
environment's own reward accepts the expert's answer. What the three domains share for that:

* :func:`expert_env` builds a domain's environment through gymnasium's registry (the entry
  point registered for :data:`smepo_env.ENV_ID_BY_DOMAIN`). This package never imports
  :mod:`smepo_env.envs`: the environments import the benchmarks for their default tasks, so
  imports run one way.
* :class:`PerThreadEnv` gives each build thread its own environment.
* :func:`play_split` plays one split's problems, keeps the tasks the expert solved and numbers
  them; :func:`split_counts` summarises a split for the manifest.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator
from tqdm.auto import tqdm

from smepo_env import ENV_ID_BY_DOMAIN
from smepo_env.errors import check_choice
from smepo_env.tasks import Task
from smepo_env.vocabulary import DOMAINS

Problem = TypeVar("Problem")

PLACEHOLDER_TASK = Task(id="placeholder", question="placeholder", answers=("placeholder",))
"""The task an expert environment is built with; the expert passes each real task to ``reset``."""


def expert_env(domain: str, **env_kwargs: Any) -> gym.Env[str, str]:
    """The bare environment of ``domain``, for the expert to play tasks in.

    Args:
        domain: one of :data:`smepo_env.vocabulary.DOMAINS`.
        **env_kwargs: constructor arguments of the environment (``max_turns``, ``retriever``, ...).

    Raises:
        ValueError: unknown ``domain``; the message lists the valid ones.
    """
    check_choice("domain", domain, DOMAINS)
    # The registered entry point itself, not gym.make: gym.make deep-copies its keywords into the
    # env's spec, and a loaded retriever cannot be copied.
    make_env = load_env_creator(gym.spec(ENV_ID_BY_DOMAIN[domain]).entry_point)
    return make_env(tasks=[PLACEHOLDER_TASK], **env_kwargs).unwrapped  # type: ignore[no-any-return]


class PerThreadEnv:
    """One environment per thread, built on first use (an environment is not shared by threads).

    Args:
        make: builds a new environment (e.g. ``lambda: expert_env("code", max_turns=2)``).
    """

    def __init__(self, make: Callable[[], gym.Env[str, str]]) -> None:
        self._make = make
        self._local = threading.local()

    def get(self) -> gym.Env[str, str]:
        """This thread's environment."""
        if not hasattr(self._local, "env"):
            self._local.env = self._make()
        return self._local.env  # type: ignore[no-any-return]


def task_id(benchmark: str, split: str, index: int) -> str:
    """The id of a bundled task: ``"<benchmark>-<split>-00042"``."""
    return f"{benchmark}-{split}-{index:05d}"


def play_split(
    benchmark: str,
    split: str,
    problems: Sequence[Problem],
    play: Callable[[str, Problem], Task | None],
    threads: int = 1,
) -> tuple[list[Task], int]:
    """Let the expert play every problem of a split; the solved tasks, numbered, and the dropped count.

    Args:
        benchmark: the benchmark's name (the prefix of the task ids).
        split: the split's name.
        problems: the split's problems, in order.
        play: plays one problem under a task id; the finished task, or ``None`` to drop it.
        threads: worker threads (``play`` must then get its environment from a :class:`PerThreadEnv`).

    Returns:
        The kept tasks with ids numbered ``0, 1, ...`` in problem order, and how many were dropped.
    """
    ids = [task_id(benchmark, split, index) for index in range(len(problems))]
    progress = {"total": len(problems), "desc": f"{benchmark} {split}: expert traces", "leave": False}
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            played = list(tqdm(pool.map(play, ids, problems), **progress))
    else:
        played = [play(i, problem) for i, problem in tqdm(zip(ids, problems, strict=True), **progress)]
    kept = [task for task in played if task is not None]
    numbered = [dataclasses.replace(task, id=task_id(benchmark, split, i)) for i, task in enumerate(kept)]
    return numbered, len(played) - len(kept)


def split_counts(tasks: Sequence[Task], dropped: int, dropped_because: str) -> dict[str, Any]:
    """A split's manifest entry: its size, the dropped count and the count of each question type.

    Args:
        tasks: the split's tasks.
        dropped: problems the expert could not solve.
        dropped_because: names the count (``"unsupported"``: ``"dropped_unsupported"``).
    """
    return {
        "questions": len(tasks),
        f"dropped_{dropped_because}": dropped,
        "by_type": dict(sorted(Counter(task.question_type for task in tasks).items())),
    }
