"""Greedy evaluation of a model policy, always without expert guidance.

Evaluation measures what the policy does on its own: every env is made with
``expert_guidance="none"`` whatever the caller's env kwargs say, and turns are decoded
greedily. Episodes are played ``batch_size`` at a time through :func:`run_episodes`, so
evaluation and training share one episode loop.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.evaluation.records import EpisodeRecord, episode_record
from smepo_env.rollout.episodes import run_episodes
from smepo_env.rollout.generation import TransformersGenerator, TurnGenerator


def load_policy(model_dir: str | os.PathLike[str], device: str | None = None) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer for generation (float32 on CPU).

    Args:
        model_dir: a bundled alias, a checkpoint directory or a hub id (see
            :func:`smepo_env.models.resolve_model`).
        device: ``"cpu"``, ``"cuda"``...; default: CUDA when available.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smepo_env.models import resolve_model

    location = resolve_model(model_dir)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(location)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype).to(device)
    model.eval()
    return model, tokenizer


def make_unguided_envs(env_id: str, env_kwargs: Mapping[str, Any] | None, count: int) -> list[Any]:
    """``count`` envs of ``env_id`` with guidance switched off."""
    import gymnasium as gym

    import smepo_env  # noqa: F401  (registers the ids)

    kwargs = {k: v for k, v in (env_kwargs or {}).items() if k != "expert_guidance"}
    return [gym.make(env_id, expert_guidance="none", **kwargs) for _ in range(count)]


def evaluate_policy(
    model: Any,
    tokenizer: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any] | None,
    reset_options_list: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 16,
    max_completion_tokens: int = 512,
    max_turn_tokens: int = 128,
    dtype: Any = None,
    generator: TurnGenerator | None = None,
) -> list[EpisodeRecord]:
    """Play each task once, greedily and unguided, with an in-memory model.

    ``dtype`` (a torch dtype) generates from a copy of the model cast to it (bf16 on CPUs
    that have it; see :class:`~smepo_env.rollout.generation.TransformersGenerator`).
    ``generator`` plays with another greedy generator instead of ``model.generate`` (the
    trainer's vLLM engine, for one); ``batch_size`` is then the number of episodes per call.

    Returns:
        One :class:`~smepo_env.evaluation.records.EpisodeRecord` per task, in order; its
        transcript is the prompt followed by the decoded completion.
    """
    if generator is None:
        generator = TransformersGenerator(
            model, tokenizer, temperature=0.0, batch_size=batch_size, dtype=dtype
        )
    envs = make_unguided_envs(env_id, env_kwargs, min(batch_size, len(reset_options_list)))
    results: list[EpisodeRecord] = []
    try:
        for start in range(0, len(reset_options_list), batch_size):
            chunk = list(reset_options_list[start : start + batch_size])
            episodes = run_episodes(
                generator,
                tokenizer,
                envs[: len(chunk)],
                chunk,
                max_completion_tokens=max_completion_tokens,
                max_turn_tokens=max_turn_tokens,
            )
            for env, episode in zip(envs, episodes, strict=False):
                task = env.unwrapped.current_task
                transcript = episode.prompt + episode.transcript(tokenizer)
                truncated = episode.end_reason != "terminated"
                results.append(episode_record(task, transcript, episode.reward, episode.info, truncated))
    finally:
        for env in envs:
            env.close()
    return results


def evaluate_model_policy(
    model_dir: str | os.PathLike[str],
    env_id: str,
    env_kwargs: Mapping[str, Any] | None,
    reset_options_list: Sequence[Mapping[str, Any]],
    batch_size: int = 16,
    **kwargs: Any,
) -> list[EpisodeRecord]:
    """Load ``model_dir`` and evaluate it with :func:`evaluate_policy` (greedy, unguided).

    Args:
        model_dir: a bundled alias, a checkpoint directory or a hub id.
        env_id: a registered ``smepo/*`` id.
        env_kwargs: constructor kwargs of the env (``expert_guidance`` is ignored: always none).
        reset_options_list: one ``reset`` options dict per task, e.g. ``{"task_id": ...}``.
        batch_size: episodes played together.
        **kwargs: ``max_completion_tokens`` / ``max_turn_tokens``.
    """
    model, tokenizer = load_policy(model_dir)
    return evaluate_policy(
        model, tokenizer, env_id, env_kwargs, reset_options_list, batch_size=batch_size, **kwargs
    )
