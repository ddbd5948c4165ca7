"""smepo/PythonExec-v0: write a function with a Python interpreter at hand; hidden tests score it.

The agent may run code any number of turns with ``<python>…</python>``; the sandbox
(:mod:`tools.python_sandbox`) runs it and the env answers with ``<output>…</output>`` (stdout,
the end of stderr, and a line for a timeout or crash). The agent submits its solution in
``<answer>…</answer>``: a fenced (```` ```python ````) or bare code block defining the function.
The last fenced block counts when there are several. The reward is 1.0 when every hidden test
passes, else 0.0; ``info`` has ``pass_fraction``, ``tests_passed``, ``tests_total`` and the
exception types of the failures (never the tests themselves). Model code, tool calls and
tests alike, only ever runs in the sandbox, never in the env's process.

A code task keeps its tests in ``metadata``:

* ``tests``: test sources, each one test (``assert f(2) == 4``, or a HumanEval
  ``check(candidate)`` block), run after the solution in a fresh process per test;
* ``test_setup``: code run before each test (imports, helpers), optional;
* ``solution_prefix``: code put before the submission (a HumanEval prompt's imports and
  helpers), optional;
* ``stdio_tests``: ``[{"input": ..., "output": ...}]`` for whole programs that read stdin
  and print (SMEPO's APPS-style code data); the output is compared token by token;
* ``entry_point``: the function's name (shown in the question; informational).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.envs.base import TextAgentEnv, ToolOutcome, env_tasks
from smepo_env.scoring.code import score_code
from smepo_env.scoring.verdict import Verdict
from smepo_env.tasks import Task
from smepo_env.vocabulary import DEFAULT_BENCHMARKS

CODE_INSTRUCTIONS = (
    "Write a Python function for the task below. Think step by step inside <think> and </think>. "
    "You can run Python code with <python> code </python>; what it prints, and any error, comes back "
    "between <output> and </output>. Run code as often as you need, for example to test your function "
    "on the examples. When you are done, submit the complete function, with any imports it needs, inside "
    "<answer> and </answer> as a ```python code block. Hidden tests check your submission."
)
DEFAULT_BENCHMARK = DEFAULT_BENCHMARKS["code"]
DEFAULT_TEST_TIMEOUT_S = 3.0


def make_sandbox(config: Any = None) -> Any:
    """A :class:`tools.python_sandbox.PythonSandbox` from a config, a dict of its fields, or ``None``.

    Raises:
        TypeError: ``config`` is none of those.
    """
    from tools.python_sandbox import PythonSandbox, SandboxConfig

    if config is None:
        return PythonSandbox()
    if isinstance(config, PythonSandbox):
        return config
    if isinstance(config, SandboxConfig):
        return PythonSandbox(config)
    if isinstance(config, Mapping):
        return PythonSandbox(SandboxConfig(**config))
    raise TypeError(
        f"sandbox must be a SandboxConfig, a dict of its fields or None, got {type(config).__name__}"
    )


def run_python_tool(sandbox: Any, code: str) -> ToolOutcome:
    """Run a ``<python>`` body in the sandbox; the ``<output>`` text and info. Never raises."""
    from tools.python_sandbox import format_result

    try:
        result = sandbox.run(code)
    except Exception as error:  # a sandbox that cannot start must not end the episode with a crash
        return ToolOutcome(f"[Sandbox error: {error}]", {"tool_error": str(error)})
    info: dict[str, Any] = {
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "isolation": result.isolation_summary,
    }
    if result.error_kind:
        info["tool_error"] = result.error_kind
    return ToolOutcome(format_result(result), info)


class PythonExecEnv(TextAgentEnv):
    """Function-writing tasks with a sandboxed interpreter and a hidden-test reward.

    Args:
        benchmark: a bundled benchmark name (used when ``tasks`` is not given).
        split: the benchmark split to sample tasks from.
        tasks: the user's own tasks (dicts or :class:`Task`, or a JSONL path), with their tests
            in ``metadata`` as described in the module docstring.
        sandbox: a :class:`tools.python_sandbox.SandboxConfig` (or a dict of its fields) for
            both the tool and the tests; default limits when ``None``.
        max_turns: actions per episode.
        max_tool_input_chars: longest ``<python>`` or ``<answer>`` body accepted.
        test_timeout_s: wall-clock limit per hidden test (``None``: the sandbox's ``timeout_s``).
            The tests of one submission run one after another, so a submission that hangs costs
            about ``test_timeout_s`` times the number of tests.
        render_mode: ``None`` or ``"ansi"``.
    """

    tools = ("python",)

    def __init__(
        self,
        benchmark: str = DEFAULT_BENCHMARK,
        split: str = "train",
        tasks: Sequence[Task | Mapping[str, Any]] | str | os.PathLike[str] | None = None,
        sandbox: Any = None,
        max_turns: int = 8,
        max_tool_input_chars: int = 12_000,
        test_timeout_s: float | None = DEFAULT_TEST_TIMEOUT_S,
        render_mode: str | None = None,
    ) -> None:
        if test_timeout_s is not None and not test_timeout_s > 0:
            raise ValueError(f"test_timeout_s must be positive or None, got {test_timeout_s!r}")
        self.benchmark_name = benchmark
        self.split = split
        task_list = env_tasks(benchmark, split, tasks)
        super().__init__(
            task_list, max_turns=max_turns, max_tool_input_chars=max_tool_input_chars, render_mode=render_mode
        )
        self.sandbox = make_sandbox(sandbox)
        self.test_timeout_s = test_timeout_s

    def instructions(self) -> str:
        return CODE_INSTRUCTIONS

    def render_question(self, task: Task) -> str:
        return f"Task: {task.question}"

    def call_tool(self, tool: str, content: str) -> ToolOutcome:
        return run_python_tool(self.sandbox, content)

    def score_answer(self, task: Task, answer: str) -> Verdict:
        return score_code(self.sandbox, task, answer, self.test_timeout_s)


def make_python_exec_env(expert_guidance: str = "none", **kwargs: Any) -> Any:
    """The ``smepo/PythonExec-v0`` entry point: the env, wrapped for expert guidance."""
    from smepo_env.guidance import make_guided_env

    return make_guided_env(PythonExecEnv, "code", expert_guidance, **kwargs)
