"""smepo environments as TRL ``environment_factory`` tools: the second door into TRL's ``GRPOTrainer``.

::

    from trl import GRPOConfig, GRPOTrainer
    from smepo_env.integrations.trl import environment_factory, tool_dataset

    factory = environment_factory("smepo/SearchQA-v0", expert_guidance="masked")
    trainer = GRPOTrainer(model=..., args=GRPOConfig(...), train_dataset=tool_dataset("smepo/SearchQA-v0"),
                          environment_factory=factory, reward_funcs=[])

TRL (>= 0.29; ``get_reward`` from 1.8) calls the factory once per concurrent rollout and pools
the instances; each is a :class:`~smepo_env.integrations.tool_env.ToolCallingEnv` over its own
``gym.make`` environment, so guidance, masking, benchmarks, retrievers and the sandbox are the
ones the tag protocol uses. What is expensive is made once per process and shared: the
retrieval index (the environments' own shared-index cache), the benchmark's tasks (read once),
and a task file given as ``tasks=`` (read once here, then handed to every instance as a list).

TRL renders the tools in the model's chat template and parses its native tool calls; the
template must support tool calling (:func:`ensure_tool_chat_template` checks, and gives a
ChatML model such as SmolLM2 the Qwen2.5 template TRL recognises). The env's ``get_reward``
is the reward (TRL adds it to ``reward_funcs``, weight 1); tool-result tokens are masked out of
the loss by TRL; ``max_completion_length`` bounds the whole episode, the env's ``max_turns``
the number of tool calls.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.integrations.tool_env import ToolCallingEnv, tool_env_class

DATASET_COLUMNS: tuple[str, ...] = ("prompt", "task_id", "split", "question_type")
"""The columns of a :func:`tool_dataset` row; ``reset(**row)`` takes them all."""

NON_TASK_KWARGS: frozenset[str] = frozenset({"expert_guidance", "render_mode"})
"""``gym.make`` keywords that do not change which tasks an environment plays."""


def _make_env(env_id: str, kwargs: Mapping[str, Any]) -> Any:
    import gymnasium as gym

    import smepo_env  # noqa: F401  (registers the ids)

    return gym.make(env_id, **kwargs)


class SmepoEnvironmentFactory:
    """The zero-argument callable TRL's ``environment_factory`` takes; each call is a fresh
    :class:`~smepo_env.integrations.tool_env.ToolCallingEnv` over ``gym.make(env_id, **kwargs)``.

    Args:
        env_id: any registered ``smepo/*`` id.
        **gym_make_kwargs: what ``gym.make(env_id, ...)`` takes (``expert_guidance``,
            ``prefix_ratio``, ``split``, ``tasks``, ``retriever``, ``max_turns``...).

    Raises:
        gymnasium.error.Error: an unknown id (gymnasium names the closest one).
        ValueError: a bad keyword value, raised by the environment itself, here rather than
            inside the trainer.
        TypeError: ``env_id`` is not a smepo environment.
    """

    def __init__(self, env_id: str, **gym_make_kwargs: Any) -> None:
        self.env_id = env_id
        tasks = gym_make_kwargs.get("tasks")
        if isinstance(tasks, str | os.PathLike):  # read a task file once, not once per rollout
            from smepo_env.loaders import load_task_file

            gym_make_kwargs = {**gym_make_kwargs, "tasks": load_task_file(tasks)}
        self.gym_make_kwargs = gym_make_kwargs
        probe = _make_env(env_id, gym_make_kwargs)
        self.tool_env_class: type[ToolCallingEnv] = tool_env_class(probe)
        self._spare: Any = probe  # the probe becomes the first instance handed out

    def __call__(self) -> ToolCallingEnv:
        """A new environment for one rollout slot."""
        env, self._spare = self._spare, None
        if env is None:
            env = _make_env(self.env_id, self.gym_make_kwargs)
        return self.tool_env_class(env)

    def __repr__(self) -> str:
        return f"environment_factory({self.env_id!r}, **{self.gym_make_kwargs!r})"


def environment_factory(env_id: str, **gym_make_kwargs: Any) -> SmepoEnvironmentFactory:
    """The factory to pass as ``GRPOTrainer(environment_factory=...)`` for a smepo environment.

    Args:
        env_id: any registered ``smepo/*`` id.
        **gym_make_kwargs: keywords of ``gym.make(env_id, ...)``, guidance ones included
            (``expert_guidance="masked"``, ``prefix_ratio``...).

    Returns:
        A zero-argument callable; each call returns one environment whose public methods are
        the tools (``search``/``python`` and ``answer``) plus ``reset(**row)`` and ``get_reward()``.
    """
    return SmepoEnvironmentFactory(env_id, **gym_make_kwargs)


def tool_dataset(
    env_id: str,
    split: str = "train",
    *,
    question_types: list[str] | tuple[str, ...] | None = None,
    limit: int | None = None,
    environment: str | None = None,
    **gym_make_kwargs: Any,
) -> Any:
    """The training rows for :func:`environment_factory`: one per task of ``split``, in order.

    Each row is ``{"prompt": [{"role": "user", "content": ""}], "task_id", "split",
    "question_type"}``: TRL needs the conversational ``prompt``, to whose last message it appends
    what ``reset(**row)`` returns (the whole task text). Gold answers are not in the rows.

    Args:
        env_id: any registered ``smepo/*`` id.
        split: the benchmark split; make the factory with the same one.
        question_types: keep only tasks of these types (``None``: all).
        limit: keep at most this many tasks (the first ones of the split).
        environment: add an ``environment`` column with this name, for TRL's multi-environment
            routing (``environment_factory={"search": ..., "code": ...}`` and the datasets of
            each env concatenated).
        **gym_make_kwargs: the environment keywords that choose tasks (``benchmark``,
            ``tasks``...); guidance keywords are accepted and ignored, so the same dict can be
            passed to both functions.

    Returns:
        A ``datasets.Dataset``.

    Raises:
        ValueError: ``limit`` below 1, or no task left after the filter (naming the types there are).
    """
    from datasets import Dataset

    from smepo_env.guidance.wrapper import GUIDANCE_KWARGS

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    kwargs = {k: v for k, v in gym_make_kwargs.items() if k not in GUIDANCE_KWARGS | NON_TASK_KWARGS}
    env = _make_env(env_id, {**kwargs, "split": split})
    try:
        tasks = list(env.unwrapped.tasks)
    finally:
        env.close()
    if question_types is not None:
        wanted = set(question_types)
        kept = [task for task in tasks if task.question_type in wanted]
        if not kept:
            present = sorted({str(task.question_type) for task in tasks})
            raise ValueError(
                f"no {split!r} task has a question type in {sorted(wanted)}; types there: {present}"
            )
        tasks = kept
    if limit is not None:
        tasks = tasks[:limit]
    rows = task_rows(tasks, split)
    if environment is not None:
        rows = [{**row, "environment": environment} for row in rows]
    return Dataset.from_list(rows)


def task_rows(tasks: Sequence[Any], split: str) -> list[dict[str, Any]]:
    """The :func:`tool_dataset` rows of ``tasks`` (of an environment playing ``split``), in order.

    Args:
        tasks: :class:`~smepo_env.tasks.Task` objects, e.g. a seeded selection of a split.
        split: the split the environment plays (checked again by ``reset``).
    """
    return [
        {
            "prompt": [{"role": "user", "content": ""}],
            "task_id": task.id,
            "split": split,
            "question_type": task.question_type or "",
        }
        for task in tasks
    ]


def ensure_tool_chat_template(tokenizer: Any) -> Any:
    """Make sure ``tokenizer``'s chat template can render tool calls, as TRL's tool loop needs.

    A template that already renders a tool-calling conversation is kept. A ChatML tokenizer
    (``<|im_start|>``/``<|im_end|>`` tokens, e.g. SmolLM2) without one gets TRL's Qwen2.5
    template, which is ChatML with tools and which TRL knows how to parse. Anything else is an
    error: pick a model trained for tool calling, or use the tag protocol.

    Args:
        tokenizer: a ``transformers`` tokenizer (changed in place).

    Returns:
        ``tokenizer``.

    Raises:
        ValueError: the template has no tool calling and the tokenizer is not ChatML.
    """
    from trl.chat_template_utils import qwen2_5_chat_template, supports_tool_calling

    if supports_tool_calling(tokenizer):
        return tokenizer
    vocabulary = tokenizer.get_vocab()
    if "<|im_start|>" in vocabulary and "<|im_end|>" in vocabulary:
        tokenizer.chat_template = qwen2_5_chat_template
        return tokenizer
    raise ValueError(
        f"the chat template of {getattr(tokenizer, 'name_or_path', 'this tokenizer')!r} cannot render tool "
        "calls and the tokenizer is not ChatML; use a model trained for tool calling (e.g. "
        "Qwen/Qwen2.5-0.5B-Instruct) or the tag protocol (--protocol tags)"
    )
