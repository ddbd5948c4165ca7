"""Greedy, unguided evaluation of a model that calls the environments' tools natively.

The counterpart of :mod:`smepo_env.evaluation.model_policy` for the tool-calling protocol
(``--protocol tools``): the same tasks, the same unguided environments (made through
:func:`smepo_env.integrations.trl.environment_factory` with ``expert_guidance="none"``), the
same :class:`~smepo_env.evaluation.records.EpisodeRecord`, with the episode loop of
:mod:`smepo_env.integrations.tool_episodes`, which is TRL's tool loop.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.evaluation.records import EpisodeRecord, episode_record


def evaluate_tool_policy(
    model: Any,
    tokenizer: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any] | None,
    reset_options_list: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 16,
    max_completion_tokens: int = 512,
    max_turn_tokens: int = 128,
) -> list[EpisodeRecord]:
    """Play each task once, greedily and unguided, calling tools natively.

    Args:
        model: a causal LM in memory.
        tokenizer: its tokenizer; a ChatML one without tool calling gets the Qwen2.5 template
            (:func:`~smepo_env.integrations.trl.ensure_tool_chat_template`).
        env_id: a registered ``smepo/*`` id.
        env_kwargs: its constructor kwargs (``expert_guidance`` is ignored: always none).
        reset_options_list: one ``{"task_id": ...}`` per task.
        batch_size: episodes played together.
        max_completion_tokens: budget of one episode after the prompt.
        max_turn_tokens: most tokens one model turn may generate.

    Returns:
        One record per task, in order; its transcript is the whole decoded conversation.
    """
    from smepo_env.integrations.tool_episodes import play_tool_episodes
    from smepo_env.integrations.trl import ensure_tool_chat_template, environment_factory

    ensure_tool_chat_template(tokenizer)
    kwargs = {k: v for k, v in (env_kwargs or {}).items() if k != "expert_guidance"}
    factory = environment_factory(env_id, expert_guidance="none", **kwargs)
    envs = [factory() for _ in range(min(batch_size, len(reset_options_list)))]
    records: list[EpisodeRecord] = []
    try:
        for start in range(0, len(reset_options_list), batch_size):
            rows = [dict(options) for options in reset_options_list[start : start + batch_size]]
            episodes = play_tool_episodes(
                model,
                tokenizer,
                envs[: len(rows)],
                rows,
                max_completion_tokens=max_completion_tokens,
                max_turn_tokens=max_turn_tokens,
            )
            for episode in episodes:
                records.append(
                    episode_record(
                        episode.task, episode.transcript, episode.reward, episode.info, not episode.answered
                    )
                )
    finally:
        for env in envs:
            env.env.close()
    return records


def evaluate_tool_model_policy(
    model_dir: str | os.PathLike[str],
    env_id: str,
    env_kwargs: Mapping[str, Any] | None,
    reset_options_list: Sequence[Mapping[str, Any]],
    batch_size: int = 16,
    **kwargs: Any,
) -> list[EpisodeRecord]:
    """Load ``model_dir`` and evaluate it with :func:`evaluate_tool_policy`."""
    from smepo_env.evaluation.model_policy import load_policy

    model, tokenizer = load_policy(model_dir)
    return evaluate_tool_policy(
        model, tokenizer, env_id, env_kwargs, reset_options_list, batch_size=batch_size, **kwargs
    )
