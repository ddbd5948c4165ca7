"""smepo/Math-v0: math problems rewarded by symbolic equivalence, with an optional Python tool.

The agent reasons (``<think>``) and submits ``<answer>…</answer>``; the answer may be a plain
value (``3/4``, ``0.75``, ``12 dollars``) or hold ``\\boxed{…}``, whose last occurrence is the
final answer. An action with no call tag at all but a ``\\boxed{…}`` outside ``<think>`` is taken
as its answer too (the usual output of math models). The reward is 1.0 when math-verify finds
the answer equivalent to the ground truth (see :mod:`smepo_env.scoring.math`), else 0.0;
``info`` has ``correct``, the extracted and ``parsed_answer`` text and ``verify_error``.

With ``python_tool=True`` (tool-integrated reasoning) the agent may also run code with
``<python>…</python>`` in the sandbox (:mod:`tools.python_sandbox`) and read what it printed
in ``<output>…</output>``. By default the env plays the bundled ``math-word`` benchmark.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.envs.base import TextAgentEnv, ToolOutcome, env_tasks
from smepo_env.envs.python_exec import make_sandbox, run_python_tool
from smepo_env.protocol import MAX_ACTION_CHARS, OPEN_CALL_TAG, THINK_BLOCK
from smepo_env.scoring.math import DEFAULT_TIMEOUT_S, last_boxed_content, score_math
from smepo_env.scoring.verdict import Verdict
from smepo_env.tasks import Task
from smepo_env.vocabulary import DEFAULT_BENCHMARKS

MATH_INSTRUCTIONS = (
    "Solve the math problem below. Think step by step inside <think> and </think>. "
    "Give the final answer inside <answer> and </answer>, either as a plain value or as \\boxed{...}, "
    "for example <answer> \\boxed{42} </answer>."
)
PYTHON_TOOL_INSTRUCTIONS = (
    " You may run Python code with <python> code </python>; what it prints comes back between "
    "<output> and </output>. Use print() to see values."
)
DEFAULT_BENCHMARK = DEFAULT_BENCHMARKS["math"]


class MathEnv(TextAgentEnv):
    """Math problems with a symbolic-equivalence reward.

    Args:
        benchmark: a bundled benchmark name (used when ``tasks`` is not given).
        split: the benchmark split to sample tasks from.
        tasks: the user's own tasks (dicts or :class:`Task`, or a JSONL path); ``answers``
            hold the ground truth.
        python_tool: enable the ``<python>`` tool.
        sandbox: a :class:`tools.python_sandbox.SandboxConfig` for the tool (default limits
            when ``None``).
        max_turns: actions per episode (default 3 without the tool, 6 with it).
        max_tool_input_chars: longest ``<python>`` or ``<answer>`` body accepted.
        answer_timeout_s: math-verify's limit for each parse and comparison.
        render_mode: ``None`` or ``"ansi"``.
    """

    def __init__(
        self,
        benchmark: str = DEFAULT_BENCHMARK,
        split: str = "train",
        tasks: Sequence[Task | Mapping[str, Any]] | str | os.PathLike[str] | None = None,
        python_tool: bool = False,
        sandbox: Any = None,
        max_turns: int | None = None,
        max_tool_input_chars: int = 8000,
        answer_timeout_s: float = DEFAULT_TIMEOUT_S,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(python_tool, bool):
            raise ValueError(f"python_tool must be True or False, got {python_tool!r}")
        if not answer_timeout_s > 0:
            raise ValueError(f"answer_timeout_s must be positive, got {answer_timeout_s!r}")
        self.benchmark_name = benchmark
        self.split = split
        task_list = env_tasks(benchmark, split, tasks)
        if max_turns is None:
            max_turns = 6 if python_tool else 3
        super().__init__(
            task_list, max_turns=max_turns, max_tool_input_chars=max_tool_input_chars, render_mode=render_mode
        )
        self.python_tool = python_tool
        self.tools = ("python",) if python_tool else ()
        self.answer_timeout_s = answer_timeout_s
        self.sandbox = make_sandbox(sandbox) if python_tool else None

    def instructions(self) -> str:
        return MATH_INSTRUCTIONS + (PYTHON_TOOL_INSTRUCTIONS if self.python_tool else "")

    def render_question(self, task: Task) -> str:
        return f"Problem: {task.question}"

    def call_tool(self, tool: str, content: str) -> ToolOutcome:
        return run_python_tool(self.sandbox, content)

    def score_answer(self, task: Task, answer: str) -> Verdict:
        return score_math(answer, task.answers, timeout_s=self.answer_timeout_s)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """As :meth:`TextAgentEnv.step`, plus: a tagless action with a ``\\boxed{}`` answers."""
        boxed = _untagged_boxed_answer(action)
        if boxed is None:
            return super().step(action)
        index = len(self._messages)
        observation, reward, terminated, truncated, info = super().step(
            f"<answer>\\boxed{{{boxed}}}</answer>"
        )
        # The transcript keeps what the model wrote, not the rewritten action.
        self._messages[index]["content"] = action
        info["messages"][index]["content"] = action
        info["answer_from_boxed"] = True
        return observation, reward, terminated, truncated, info


def _untagged_boxed_answer(action: object) -> str | None:
    """The last boxed content of an action that has no call tag outside ``<think>``."""
    if not isinstance(action, str) or len(action) > MAX_ACTION_CHARS:
        return None  # the protocol's length limit applies before any parsing
    visible = THINK_BLOCK.sub(" ", action)
    if OPEN_CALL_TAG.search(visible):
        return None
    boxed = last_boxed_content(visible)
    return boxed if boxed else None


def make_math_env(expert_guidance: str = "none", **kwargs: Any) -> Any:
    """The ``smepo/Math-v0`` entry point: the env, wrapped for expert guidance."""
    from smepo_env.guidance import make_guided_env

    return make_guided_env(MathEnv, "math", expert_guidance, **kwargs)
