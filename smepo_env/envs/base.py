"""The multi-turn text environment every smepo environment is built on.

An episode is a conversation. :meth:`TextAgentEnv.reset` picks a task and returns the prompt
(the protocol and the question) as the observation; :meth:`TextAgentEnv.step` takes what the
model wrote, parses it with :mod:`smepo_env.protocol`, runs the tool it called and returns the
tool's observation, or scores the ``<answer>`` and ends the episode.

Rules every subclass inherits:

* Any action text is legal input. A malformed action gets a short observation naming the
  problem and the format, costs a turn and gives no reward; nothing raises out of ``step``
  (stepping before ``reset`` or after the episode ended is API misuse and raises
  :class:`gymnasium.error.ResetNeeded`).
* After ``max_turns`` actions without an answer the episode ends with ``truncated=True`` and
  reward 0.
* The observation after a tool call is the text to append to the model's context
  (``"\\n\\n<information>…</information>\\n\\n"``); the final observation is ``""``.
* ``info`` holds what a trainer needs: the chat ``messages`` so far (observations as
  ``user`` turns, so any chat template renders them), ``task_id``, ``turn``,
  ``tool_calls`` (counts by tool), ``tool_latency_s`` (this step) and, at the end, the
  parsed ``answer`` and the metrics. Gold answers are never put in observations or ``info``.
* All randomness comes from ``self.np_random``; seeded resets repeat exactly.

The expert-guidance wrapper changes only the prompt, through :meth:`TextAgentEnv.apply_guidance`.
"""

from __future__ import annotations

import abc
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
from gymnasium.error import ResetNeeded

from smepo_env.envs.text_space import LLMText
from smepo_env.protocol import MAX_ACTION_CHARS, parse_action, wrap_observation
from smepo_env.scoring.verdict import Verdict
from smepo_env.tasks import Task, coerce_tasks

MAX_OBSERVATION_CHARS = 1_000_000

RESET_OPTION_KEYS = ("task", "task_index", "task_id")


def env_tasks(
    benchmark: str, split: str, tasks: Sequence[Task | Mapping[str, Any]] | str | os.PathLike[str] | None
) -> list[Task]:
    """The tasks an environment plays: the user's own when given (a list, or a file in any format
    :func:`smepo_env.loaders.load_task_file` tells apart: task JSONL, FlashRAG JSONL or parquet,
    Search-R1 parquet, SMEPO parquet), else the split of a bundled benchmark (built on first use)."""
    if isinstance(tasks, str | os.PathLike):
        from smepo_env.loaders import load_task_file

        return load_task_file(tasks)
    if tasks is not None:
        return coerce_tasks(tasks)
    from smepo_env.benchmarks import load_benchmark

    return load_benchmark(benchmark).tasks(split)


@dataclass
class ToolOutcome:
    """What a tool call returned: the observation body and extra ``info`` entries."""

    text: str
    info: dict[str, Any] = field(default_factory=dict)


class TextAgentEnv(gym.Env[str, str], abc.ABC):
    """Base class: tasks, turns, the protocol, the messages, the reward hook.

    Args:
        tasks: the tasks to sample from at ``reset``.
        max_turns: actions per episode before truncation.
        max_tool_input_chars: longest tag body accepted (longer ones are invalid actions).
        render_mode: ``None`` or ``"ansi"`` (the transcript as text).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}
    tools: tuple[str, ...] = ()
    """The call tags this environment answers, besides ``answer``."""

    def __init__(
        self,
        tasks: Sequence[Task],
        *,
        max_turns: int = 6,
        max_tool_input_chars: int = 2000,
        render_mode: str | None = None,
    ) -> None:
        if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
            raise ValueError(f"max_turns must be a positive integer, got {max_turns!r}")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        if not tasks:
            raise ValueError("the environment needs at least one task")
        self.tasks = list(tasks)
        self._task_by_id = {task.id: i for i, task in enumerate(self.tasks)}
        self.max_turns = max_turns
        self.max_tool_input_chars = max_tool_input_chars
        self.render_mode = render_mode
        self.observation_space = LLMText(MAX_OBSERVATION_CHARS)
        self.action_space = LLMText(MAX_ACTION_CHARS)
        self.current_task: Task | None = None
        self.guidance: str | None = None
        self._messages: list[dict[str, str]] = []
        self._turn = 0
        self._tool_calls: Counter[str] = Counter()
        self._active = False

    # ----- hooks for subclasses -------------------------------------------------------------
    @abc.abstractmethod
    def instructions(self) -> str:
        """The protocol description that opens every prompt."""

    @abc.abstractmethod
    def call_tool(self, tool: str, content: str) -> ToolOutcome:
        """Run ``tool`` (one of :attr:`tools`) on the tag body. Must not raise."""

    @abc.abstractmethod
    def score_answer(self, task: Task, answer: str) -> Verdict:
        """Score the final ``answer`` (a scorer of :mod:`smepo_env.scoring`). Must not raise."""

    def render_question(self, task: Task) -> str:
        """The question part of the prompt."""
        return f"Question: {task.question}"

    # ----- prompt -----------------------------------------------------------------------------
    def build_prompt(self, task: Task, guidance: str | None = None) -> str:
        """The user prompt: instructions, question and, when given, the guidance block last."""
        parts = [self.instructions(), self.render_question(task)]
        if guidance:
            parts.append(guidance)
        return "\n\n".join(parts)

    def apply_guidance(self, guidance: str | None) -> str:
        """Rebuild the current episode's prompt with a guidance block; returns the new prompt.

        Only valid right after ``reset`` (before the first step): guidance is shown once, in
        the prompt, and never changes the episode after it started.
        """
        if self.current_task is None or self._turn != 0:
            raise RuntimeError("apply_guidance() must be called right after reset(), before any step()")
        self.guidance = guidance
        prompt = self.build_prompt(self.current_task, guidance)
        self._messages = [{"role": "user", "content": prompt}]
        return prompt

    # ----- gymnasium API ----------------------------------------------------------------------
    def _select_task(self, options: dict[str, Any] | None) -> Task:
        options = options if options is not None else {}
        if not isinstance(options, Mapping):
            raise TypeError(f"reset 'options' must be a dict, got {type(options).__name__}: {options!r:.80}")
        unknown = sorted(set(options) - set(RESET_OPTION_KEYS))
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; expected some of {list(RESET_OPTION_KEYS)}")
        if options.get("task") is not None:
            return Task.from_dict(options["task"], default_id="custom")
        if options.get("task_id") is not None:
            task_id = str(options["task_id"])
            if task_id not in self._task_by_id:
                raise ValueError(
                    f"task_id {task_id!r} is not among this environment's {len(self.tasks)} tasks"
                )
            return self.tasks[self._task_by_id[task_id]]
        if options.get("task_index") is not None:
            index = options["task_index"]
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.tasks):
                raise ValueError(f"task_index must be an int in [0, {len(self.tasks)}), got {index!r}")
            return self.tasks[index]
        return self.tasks[int(self.np_random.integers(len(self.tasks)))]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Start an episode. ``options``: ``task`` (a task dict), ``task_index`` or ``task_id``."""
        super().reset(seed=seed)
        self.current_task = self._select_task(options)
        self.guidance = None
        self._turn = 0
        self._tool_calls = Counter()
        self._active = True
        prompt = self.build_prompt(self.current_task)
        self._messages = [{"role": "user", "content": prompt}]
        return prompt, self._info(tool_latency_s=0.0)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Apply one model turn; see the module docstring for the rules."""
        if not self._active or self.current_task is None:
            raise ResetNeeded("call reset() before step(); the previous episode has ended")
        self._turn += 1
        action_text = action if isinstance(action, str) else repr(action)
        parsed = parse_action(
            action, allowed=(*self.tools, "answer"), max_content_chars=self.max_tool_input_chars
        )
        self._messages.append({"role": "assistant", "content": action_text})
        reward, terminated, extra, latency = 0.0, False, {"action_kind": parsed.kind}, 0.0
        if parsed.kind == "answer":
            verdict = self.score_answer(self.current_task, parsed.content)
            reward = verdict.reward
            extra.update(verdict.metrics, correct=verdict.correct, answer=parsed.content)
            terminated, observation = True, ""
        elif parsed.kind == "invalid":
            extra["format_error"] = parsed.error
            observation = f"\n\nInvalid action: {parsed.error}\n\n"
        else:
            started = time.perf_counter()
            outcome = self.call_tool(parsed.kind, parsed.content)
            latency = time.perf_counter() - started
            self._tool_calls[parsed.kind] += 1
            extra.update(outcome.info)
            observation = wrap_observation(parsed.kind, outcome.text)
        truncated = not terminated and self._turn >= self.max_turns
        if observation and not truncated:
            self._messages.append({"role": "user", "content": observation.strip()})
        if truncated:
            observation = ""
        self._active = not (terminated or truncated)
        info = self._info(tool_latency_s=latency)
        info.update(extra)
        return observation, float(reward), terminated, truncated, info

    def _info(self, tool_latency_s: float) -> dict[str, Any]:
        assert self.current_task is not None
        return {
            "task_id": self.current_task.id,
            "question_type": self.current_task.question_type,
            "turn": self._turn,
            "messages": [dict(m) for m in self._messages],
            "tool_calls": dict(self._tool_calls),
            "tool_latency_s": tool_latency_s,
        }

    def render(self) -> str | None:
        """With ``render_mode="ansi"``, the transcript so far as text."""
        if self.render_mode != "ansi":
            return None
        return "\n".join(f"[{m['role']}] {m['content']}" for m in self._messages)
