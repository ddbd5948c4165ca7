"""Each guidance mode's success before RL: does a group of rollouts ever earn reward?

GRPO learns only from groups whose rewards differ, so an arm whose policy never succeeds on
its (guided) training prompts starts with no signal at all. Before the comparison runs, this
measures, per guidance mode, on questions of a ``dev`` split (never ``test``):

* ``greedy_success``: one greedy episode per question with the mode's guidance in the prompt
  (``none``: the unguided start, which the held-out evaluation also measures);
* ``sampled_success``: the mean reward of ``group_size`` sampled episodes per question
  (temperature 1, as GRPO samples);
* ``groups_with_success``: the share of questions whose sampled group has at least one
  success, and ``groups_all_equal``: the share whose group rewards are all equal (no learning
  signal: TRL's ``frac_reward_zero_std``);
* ``searches``: tool calls per episode (every tool), and ``copy_rate`` on guided episodes
  (:mod:`smepo_env.rollout.diagnostics`).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.rollout.diagnostics import copy_rate
from smepo_env.rollout.episodes import Episode, run_episodes
from smepo_env.rollout.generation import TransformersGenerator


def play_guided(
    model: Any,
    tokenizer: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any],
    mode: str,
    task_ids: Sequence[str],
    *,
    temperature: float,
    batch_size: int = 16,
    max_completion_tokens: int = 480,
    max_turn_tokens: int = 64,
    dtype: Any = None,
) -> list[tuple[Episode, tuple[str, ...]]]:
    """Play one episode per task id with guidance ``mode`` in the prompt.

    Returns:
        ``(episode, gold answers)`` per task id, in order.
    """
    from smepo_env.training.data import make_env

    generator = TransformersGenerator(
        model, tokenizer, temperature=temperature, batch_size=batch_size, dtype=dtype
    )
    envs = [make_env(env_id, env_kwargs, mode) for _ in range(min(batch_size, len(task_ids)))]
    played: list[tuple[Episode, tuple[str, ...]]] = []
    try:
        for start in range(0, len(task_ids), batch_size):
            chunk = list(task_ids[start : start + batch_size])
            episodes = run_episodes(
                generator,
                tokenizer,
                envs[: len(chunk)],
                [{"task_id": task} for task in chunk],
                max_completion_tokens=max_completion_tokens,
                max_turn_tokens=max_turn_tokens,
            )
            for env, episode in zip(envs, episodes, strict=False):
                played.append((episode, tuple(env.unwrapped.current_task.answers)))
    finally:
        for env in envs:
            env.close()
    return played


def _tool_calls(episodes: Sequence[Episode]) -> float:
    return statistics.fmean(sum(e.tool_calls.values()) for e in episodes) if episodes else 0.0


def summarize_mode(
    mode: str,
    greedy: Sequence[tuple[Episode, tuple[str, ...]]],
    sampled: Sequence[tuple[Episode, tuple[str, ...]]],
    group_size: int,
) -> dict[str, Any]:
    """One row of the starting-point table (see the module docstring) for ``mode``."""
    guided = mode != "none"
    row: dict[str, Any] = {"mode": mode, "n_questions": len(greedy)}
    if greedy:
        episodes = [e for e, _ in greedy]
        row["greedy_success"] = statistics.fmean(e.reward > 0 for e in episodes)
        row["greedy_searches"] = _tool_calls(episodes)
        if guided:
            row["greedy_copy_rate"] = copy_rate(
                [e.reward for e in episodes],
                [e.info.get("messages", []) for e in episodes],
                [a for _, a in greedy],
                [True] * len(episodes),
            )
    if sampled:
        rewards = [e.reward for e, _ in sampled]
        groups = [rewards[i : i + group_size] for i in range(0, len(rewards), group_size)]
        row["group_size"] = group_size
        row["sampled_success"] = statistics.fmean(r > 0 for r in rewards)
        row["groups_with_success"] = statistics.fmean(any(r > 0 for r in g) for g in groups)
        row["groups_all_equal"] = statistics.fmean(len(set(g)) == 1 for g in groups)
        row["sampled_searches"] = _tool_calls([e for e, _ in sampled])
    return row


def measure_starting_point(
    model_dir: str,
    env_id: str,
    env_kwargs: Mapping[str, Any],
    task_ids: Sequence[str],
    modes: Sequence[str],
    *,
    group_size: int = 0,
    batch_size: int = 16,
    max_completion_tokens: int = 480,
    max_turn_tokens: int = 64,
    precision: str = "auto",
    log: Any = print,
) -> list[dict[str, Any]]:
    """Measure every mode's starting success on ``task_ids`` (see the module docstring).

    Args:
        model_dir: the policy (a warm-started checkpoint).
        env_id: the environment id.
        env_kwargs: its constructor kwargs (``split`` should be ``dev``).
        task_ids: the questions.
        modes: guidance modes to measure.
        group_size: sampled episodes per question (0: greedy only).
        batch_size: episodes played together.
        max_completion_tokens: the episode budget.
        max_turn_tokens: the most tokens a turn may generate.
        precision: generation dtype (``auto``, ``bf16`` or ``fp32``).
        log: where a line per mode goes.

    Returns:
        One row per mode.
    """
    import torch

    from smepo_env.evaluation.model_policy import load_policy
    from smepo_env.models.precision import resolve_precision

    model, tokenizer = load_policy(model_dir)
    dtype = resolve_precision(precision, "cuda" if torch.cuda.is_available() else "cpu")
    play = {
        "batch_size": batch_size,
        "max_completion_tokens": max_completion_tokens,
        "max_turn_tokens": max_turn_tokens,
        "dtype": dtype,
    }
    rows = []
    for mode in modes:
        greedy = play_guided(model, tokenizer, env_id, env_kwargs, mode, task_ids, temperature=0.0, **play)
        sampled = []
        if group_size:
            repeated = [task for task in task_ids for _ in range(group_size)]
            torch.manual_seed(0)
            sampled = play_guided(
                model, tokenizer, env_id, env_kwargs, mode, repeated, temperature=1.0, **play
            )
        row = summarize_mode(mode, greedy, sampled, group_size)
        log(f"[start] {row}")
        rows.append(row)
    return rows
