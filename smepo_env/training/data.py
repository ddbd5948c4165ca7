"""Training data: the tasks to play, the GRPO prompt dataset and the supervised warm-start examples.

GRPO's dataset holds one row per training task: ``prompt`` is the env's reset observation
for that task *with the chosen guidance* (the text the policy is conditioned on) and
``task_id`` names the task. TRL hands only the prompts to the rollout function, so
:class:`PromptIndex` maps a prompt back to its task; the rollout function then resets a
fresh env on that task id and uses the prompt the env itself returns.

The warm-start examples are expert episodes laid out exactly as a policy rollout is: the
chat-templated unguided prompt, then each expert action's ids (trained on) and each
observation's ids (not trained on), produced by replaying the expert's actions in the env.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.rollout.episodes import chat_prompt_ids


def make_env(env_id: str, env_kwargs: Mapping[str, Any], expert_guidance: str = "none") -> Any:
    """``gym.make(env_id, expert_guidance=..., **env_kwargs)`` with the smepo ids registered."""
    import gymnasium as gym

    import smepo_env  # noqa: F401  (registers the ids)

    return gym.make(env_id, expert_guidance=expert_guidance, **env_kwargs)


def select_tasks(env: Any, question_types: Sequence[str], limit: int = 0, seed: int = 0) -> list[Any]:
    """The env's tasks of the given types (all when empty), shuffled by ``seed``, at most ``limit``.

    Raises:
        ValueError: no task has any of the requested types (the message lists those present).
    """
    import random

    tasks = list(env.unwrapped.tasks)
    if question_types:
        present = sorted({t.question_type for t in tasks})
        tasks = [t for t in tasks if t.question_type in set(question_types)]
        if not tasks:
            raise ValueError(f"no task has question type {list(question_types)}; this split has {present}")
    random.Random(seed).shuffle(tasks)
    return tasks[:limit] if limit else tasks


def prompt_rows(env: Any, tasks: Sequence[Any]) -> list[dict[str, str]]:
    """One ``{"prompt", "task_id"}`` row per task, the prompt as the (guided) env shows it."""
    rows = []
    for task in tasks:
        prompt, _ = env.reset(options={"task_id": task.id})
        rows.append({"prompt": prompt, "task_id": task.id})
    return rows


def longest_prompt(tokenizer: Any, prompts: Sequence[str]) -> int:
    """The most tokens any of ``prompts`` takes as an episode's chat-templated start (0 for none)."""
    return max((len(chat_prompt_ids(tokenizer, prompt)) for prompt in dict.fromkeys(prompts)), default=0)


class PromptIndex:
    """Maps a prompt text back to its task id (TRL passes only prompts to the rollout function)."""

    def __init__(self, rows: Sequence[Mapping[str, str]]) -> None:
        self._task_by_prompt: dict[str, str] = {}
        for row in rows:
            self._task_by_prompt.setdefault(row["prompt"], row["task_id"])

    def task_id(self, prompt: Any) -> str:
        """The task id of ``prompt`` (a string, or a one-message conversation).

        Raises:
            KeyError: the prompt is not in the training dataset.
        """
        text = prompt[-1]["content"] if isinstance(prompt, list) else prompt
        try:
            return self._task_by_prompt[text]
        except KeyError:
            raise KeyError(f"prompt not found in the training dataset: {str(text)[:120]!r}") from None


def expert_example(env: Any, tokenizer: Any, task: Any) -> dict[str, list[int]] | None:
    """Replay ``task``'s expert actions in ``env`` (unguided) and lay the episode out as token ids.

    Returns:
        ``{"input_ids", "assistant_masks"}`` (mask 1 on expert-action tokens, 0 on the prompt
        and on observations), or ``None`` when the task has no expert actions or the replay
        does not end with the expert's reward.
    """
    actions = (task.metadata or {}).get("expert_actions")
    if not actions:
        return None
    prompt, _ = env.reset(options={"task_id": task.id})
    input_ids = chat_prompt_ids(tokenizer, prompt)
    masks = [0] * len(input_ids)
    reward = 0.0
    for action in actions:
        action_ids = list(tokenizer.encode(action, add_special_tokens=False))
        input_ids += action_ids
        masks += [1] * len(action_ids)
        observation, reward, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
        observation_ids = list(tokenizer.encode(observation, add_special_tokens=False))
        input_ids += observation_ids
        masks += [0] * len(observation_ids)
    if reward <= 0:
        return None
    return {"input_ids": input_ids, "assistant_masks": masks}
