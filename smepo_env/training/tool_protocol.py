"""``--protocol tools``: what ``train_agent`` hands TRL for native tool calling instead of the tag rollouts.

With ``--protocol tags`` (the default, the reference) the trainer generates episodes itself
through ``rollout_func`` in the Search-R1 tag protocol. With ``--protocol tools`` TRL's own
tool loop plays them: :func:`tool_trainer_kwargs` gives ``GRPOTrainer`` the training rows, an
:func:`~smepo_env.integrations.trl.environment_factory` of the same env, benchmark split,
guidance mode and env kwargs, and no reward function (the env's ``get_reward`` is the reward).
Held-out evaluation plays the same tool loop, greedy and unguided
(:func:`smepo_env.evaluation.tool_policy.evaluate_tool_policy`).

What differs from the tag path, by TRL's design: there is no per-turn token cap
(``max_completion_length`` bounds the whole episode; the env's ``max_turns`` the calls); the
guidance mode is fixed for the run (no guidance schedule); the supervised warm start, which
trains tag transcripts, is not run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["tool_trainer_kwargs"]


def tool_trainer_kwargs(
    env_id: str,
    env_kwargs: Mapping[str, Any],
    expert_guidance: str,
    tasks: Sequence[Any],
    tokenizer: Any,
) -> dict[str, Any]:
    """``GRPOTrainer`` keywords for training ``tasks`` through native tool calls.

    Args:
        env_id: a registered ``smepo/*`` id.
        env_kwargs: its constructor kwargs (with ``split``), guidance excluded.
        expert_guidance: the guidance mode of the training prompts.
        tasks: the training tasks (of ``env_kwargs["split"]``).
        tokenizer: the policy's tokenizer; given a tool-calling chat template if it is ChatML
            without one (see :func:`~smepo_env.integrations.trl.ensure_tool_chat_template`).

    Returns:
        ``{"train_dataset", "environment_factory", "reward_funcs"}``.
    """
    from datasets import Dataset

    from smepo_env.integrations.trl import ensure_tool_chat_template, environment_factory, task_rows

    ensure_tool_chat_template(tokenizer)
    split = str(env_kwargs.get("split", "train"))
    return {
        "train_dataset": Dataset.from_list(task_rows(tasks, split)),
        "environment_factory": environment_factory(env_id, expert_guidance=expert_guidance, **env_kwargs),
        "reward_funcs": [],
    }
